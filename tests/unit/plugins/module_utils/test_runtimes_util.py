# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What podman info, containerd config dump, hosts.toml and ctr tasks ls say, as tables of cases. The samples
are trimmed outputs of Debian 13 (Podman 5.4.2, containerd 1.7.24) and Debian 12 (Podman 4.3.1, containerd
1.6.20) test hosts."""

from __future__ import annotations

import json
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _process
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _runtimes as rt
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError

CGROUPS_V1_WARNING = ('time="2026-11-30T06:46:35Z" level=warning msg="Using cgroups-v1 which is deprecated in favor '
                      'of cgroups-v2 with Podman v5 and will be removed in a future version."')
MIRRORED = {"docker.io": {"Prefix": "docker.io", "Location": "docker.io", "Insecure": False, "PullFromMirror": "",
                          "Mirrors": [{"Location": "127.0.0.1:5000", "Insecure": True, "PullFromMirror": ""}],
                          "Blocked": False, "MirrorByDigestOnly": False}}
PODMAN_5 = json.dumps({"host": {"arch": "amd64"}, "version": {"APIVersion": "5.4.2", "Version": "5.4.2"},
                       "registries": MIRRORED})
# Podman 4.3 with no registries.conf table at all prints the unqualified-search list only.
PODMAN_4_SEARCH = json.dumps({"version": {"Version": "4.3.1"}, "registries": {"search": ["docker.io"]}})


# --------------------------------------------------------------------------- podman info


@pytest.mark.parametrize("rc, stdout, stderr, expected", [
    (0, PODMAN_5, CGROUPS_V1_WARNING, rt.PodmanInfo(True, "5.4.2", MIRRORED, None)),
    (0, PODMAN_4_SEARCH, "", rt.PodmanInfo(True, "4.3.1", {"search": ["docker.io"]}, None)),
    (0, json.dumps({"version": {}}), "", rt.PodmanInfo(True, None, {}, None)),
    (125, "", CGROUPS_V1_WARNING + '\nError: database state: "/var/lib/containers/storage" is locked', rt.PodmanInfo(
        False, None, None, 'Error: database state: "/var/lib/containers/storage" is locked')),
    (125, "", "", rt.PodmanInfo(False, None, None, "podman info exited with status 125")),
    (0, "{not json", "", rt.PodmanInfo(False, None, None,
                                       "podman info did not print JSON (Expecting property name enclosed in double "
                                       "quotes: line 1 column 2 (char 1))")),
    (0, "[]", "", rt.PodmanInfo(False, None, None, "podman info did not print a JSON object")),
])
def test_parse_podman_info(rc: int, stdout: str, stderr: str, expected: rt.PodmanInfo) -> None:
    assert rt.parse_podman_info(rc, stdout, stderr) == expected


def mirror(location: t.Any, insecure: t.Any = False) -> dict[str, t.Any]:
    return {"Location": location, "Insecure": insecure}


@pytest.mark.parametrize("registries, registry, expected", [
    (MIRRORED, "docker.io", ["http://127.0.0.1:5000"]),
    (MIRRORED, "quay.io", []),
    ({"search": ["docker.io"]}, "docker.io", []),
    ({}, "docker.io", []),
    ({"docker.io": {"Prefix": "docker.io",
                    "Mirrors": [mirror("mirror.gcr.io"), mirror("10.0.0.5:5000", True), mirror("m.example/ns")]}},
     "docker.io", ["https://mirror.gcr.io", "http://10.0.0.5:5000", "https://m.example/ns"]),
    # Keyed by prefix; found by Prefix too when a podman version keys them otherwise.
    ({"x": {"Prefix": "docker.io", "Mirrors": [mirror("a.example")]}}, "docker.io", ["https://a.example"]),
    ({"docker.io": {"Prefix": "docker.io", "Mirrors": None}}, "docker.io", []),
    ({"docker.io": {"Prefix": "docker.io", "Blocked": True, "Mirrors": [mirror("a.example")]}}, "docker.io", []),
    ({"docker.io": {"Mirrors": [mirror(""), mirror(None), "junk", mirror("b.example", "yes")]}}, "docker.io",
     ["https://b.example"]),
])
def test_podman_mirrors(registries: dict[str, t.Any], registry: str, expected: list[str]) -> None:
    assert rt.podman_mirrors(registries, registry) == expected


@pytest.mark.parametrize("url, expected", [
    ("https://m.example/", "https://m.example"), ("https://m.example", "https://m.example"),
    ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"), ("https://m.example/path/", "https://m.example/path/"),
])
def test_url_form(url: str, expected: str) -> None:
    assert rt.url_form(url) == expected


# --------------------------------------------------------------------------- ctr


TASKS_DEFAULT = "TASK     PID    STATUS    \nrtctr    500    RUNNING\nold      0      STOPPED\n"
TASKS_MOBY = ("TASK                                                                PID    STATUS    \n"
              "683871c9410f8abf5ca1365e0cc422a147ad25d66159466f1f2e3f63b07e84b2    557    RUNNING\n")


@pytest.mark.parametrize("text, expected", [
    ("default\nmoby\n", ["default", "moby"]), ("", []), ("\n  k8s.io  \n", ["k8s.io"]),
])
def test_parse_namespaces(text: str, expected: list[str]) -> None:
    assert rt.parse_namespaces(text) == expected


@pytest.mark.parametrize("namespace, text, expected", [
    ("default", TASKS_DEFAULT, [rt.Task("default", "rtctr", 500, "RUNNING"), rt.Task("default", "old", 0, "STOPPED")]),
    ("moby", TASKS_MOBY, [rt.Task("moby", "683871c9410f8abf5ca1365e0cc422a147ad25d66159466f1f2e3f63b07e84b2", 557,
                                  "RUNNING")]),
    ("k8s.io", "TASK    PID    STATUS    \n", []),
    ("default", "", []),
    ("default", "a 12 paused\n", [rt.Task("default", "a", 12, "PAUSED")]),
])
def test_parse_tasks(namespace: str, text: str, expected: list[rt.Task]) -> None:
    assert rt.parse_tasks(namespace, text) == expected


@pytest.mark.parametrize("text", ["TASK PID STATUS\nonly-two 12\n", "TASK PID STATUS\nid pid RUNNING\n",
                                  "something else entirely\n"])
def test_parse_tasks_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ConfigError, match="cannot read ctr tasks ls output in namespace default"):
        rt.parse_tasks("default", text)


def task(name: str, pid: int, status: str = "RUNNING") -> rt.Task:
    namespace, dummy, task_id = name.partition("/")
    return rt.Task(namespace, task_id, pid, status)


@pytest.mark.parametrize("before, after, expected", [
    ({"default/a": 1, "moby/b": 2}, [task("default/a", 1), task("moby/b", 2)], []),
    ({"default/a": 1}, [task("default/a", 1), task("default/new", 9)], []),
    ({"default/a": 1, "moby/b": 2}, [task("default/a", 1)], ["moby/b"]),
    ({"default/a": 1}, [task("default/a", 7)], ["default/a"]),
    ({"default/a": 1}, [task("default/a", 1, "STOPPED")], ["default/a"]),
    ({"moby/b": 2, "default/a": 1}, [], ["default/a", "moby/b"]),
    ({}, [], []),
])
def test_interrupted_tasks(before: dict[str, int], after: list[rt.Task], expected: list[str]) -> None:
    assert rt.interrupted_tasks(before, after) == expected


def test_running_tasks() -> None:
    tasks = rt.parse_tasks("default", TASKS_DEFAULT) + rt.parse_tasks("moby", TASKS_MOBY)
    assert rt.running_tasks(tasks) == {"default/rtctr": 500, "moby/" + TASKS_MOBY.split()[3]: 557}


# --------------------------------------------------------------------------- containerd config dump, hosts.toml


DUMP_V2 = ('disabled_plugins = []\nimports = ["/etc/containerd/config.toml"]\nroot = "/var/lib/containerd"\n'
           'version = 2\n\n[cgroup]\n  path = ""\n\n[plugins]\n  [plugins."io.containerd.grpc.v1.cri"]\n'
           '    [plugins."io.containerd.grpc.v1.cri".registry]\n      config_path = %s\n\n'
           '      [plugins."io.containerd.grpc.v1.cri".registry.auths]\n\n'
           '      [plugins."io.containerd.grpc.v1.cri".registry.mirrors]\n')
DUMP_V3 = ('version = 3\n[plugins]\n  [plugins."io.containerd.cri.v1.images"]\n'
           '    [plugins."io.containerd.cri.v1.images".registry]\n      config_path = %s\n')


@pytest.mark.parametrize("text, expected", [
    (DUMP_V2 % '"/etc/containerd/certs.d"', ["/etc/containerd/certs.d"]),
    (DUMP_V2 % '""', []),
    (DUMP_V2 % '"/a:/b"', ["/a", "/b"]),
    (DUMP_V3 % '"/etc/containerd/certs.d:/etc/docker/certs.d"', ["/etc/containerd/certs.d", "/etc/docker/certs.d"]),
    ("version = 3\n", []),
    ("version = 2\n", []),
])
def test_dump_dirs(text: str, expected: list[str]) -> None:
    assert rt.parse_dump(text).dirs == expected


@pytest.mark.parametrize("text, release, expected", [
    (DUMP_V2 % '""', (1, 6, 20), []),
    (DUMP_V2 % '""', (1, 7, 24), []),
    (DUMP_V3 % "''", (2, 1, 9), []),  # forky (measured): the CRI plugin reads no hosts directory
    (DUMP_V3 % '"/etc/containerd/certs.d:/etc/docker/certs.d"', (2, 2, 0), ["/etc/containerd/certs.d",
                                                                            "/etc/docker/certs.d"]),
    (DUMP_V3 % "''", (2, 2, 0), []),  # 2.2.0 shows its default: an empty one was set so
    (DUMP_V3 % "''", (2, 2, 2), ["/etc/containerd/certs.d", "/etc/docker/certs.d"]),  # taken at the plugin's start
    (DUMP_V3 % "''" + '    [plugins."io.containerd.cri.v1.images".registry.mirrors."docker.io"]\n'
     '      endpoint = ["https://m"]\n', (2, 2, 2), []),
    (DUMP_V3 % "'/x'", (2, 2, 2), ["/x"]),
])
def test_dump_dirs_by_release(text: str, release: tuple[int, int, int], expected: list[str]) -> None:
    assert rt.parse_dump(text, release).dirs == expected


@pytest.mark.parametrize("text, match", [
    ("version = \n", "cannot parse the output of containerd config dump as TOML"),
    ("version = 9\n", "unsupported config version 9"),
    (DUMP_V2 % "1", "is not a string"),
])
def test_dump_dirs_refuses(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        rt.parse_dump(text)


OURS = ('# Managed by fleetops.docker_mirror.containerd_hosts: edits here are overwritten.\n'
        'server = "https://registry-1.docker.io"\n\n[host."http://127.0.0.1:5000"]\n'
        '  capabilities = ["pull", "resolve"]\n')


@pytest.mark.parametrize("text, expected", [
    (OURS, ["http://127.0.0.1:5000"]),
    ('server = "https://registry-1.docker.io"\n', []),
    ("", []),
    ('[host."https://a.example/"]\n[host."b.example:5000"]\n  capabilities = ["pull"]\n',
     ["https://a.example", "https://b.example:5000"]),
    ('[host."https://push-only.example"]\n  capabilities = ["push"]\n[host."https://r.example"]\n'
     '  capabilities = ["pull", "resolve"]\n', ["https://r.example"]),
    ('[host."https://m.example/v2/ns"]\n  override_path = true\n', ["https://m.example/v2/ns"]),
    ('host = "not a table"\n', []),
])
def test_hosts_toml_mirrors(text: str, expected: list[str]) -> None:
    assert rt.hosts_toml_mirrors(text, "/etc/containerd/certs.d/docker.io/hosts.toml") == expected


def test_hosts_toml_mirrors_refuses_bad_toml() -> None:
    with pytest.raises(ConfigError, match="cannot parse /x/hosts.toml as TOML"):
        rt.hosts_toml_mirrors("[host.\n", "/x/hosts.toml")


@pytest.mark.parametrize("registry, expected", [
    ("docker.io", ["docker.io", "_default"]),
    ("registry.example.com:5000", ["registry.example.com_5000_", "registry.example.com:5000", "_default"]),
    ("[::1]", ["[:_1]_", "[::1]", "_default"]),  # hostDirectory: the last ":", even inside brackets
    ("_default", ["_default"]),
])
def test_hosts_file_candidates(registry: str, expected: list[str]) -> None:
    assert rt.hosts_file_candidates(registry) == expected


# --------------------------------------------------------------------------- processes


STAT_SYSTEMD = ("1 (systemd) S 0 1 1 0 -1 4194560 4101 35961 0 2 14 19 61 39 20 0 1 0 929535 23646208 3445 "
                "18446744073709551615 94666768228352 0")


@pytest.mark.parametrize("stat_text, expected", [
    (STAT_SYSTEMD, 1796011878 + 9295.35),
    ("77 (containerd (odd) name) S 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0", 1796011878 + 1.0),
    ("", None),
    ("1 (x) S 0", None),
    ("1 (x) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 nan 0", None),
])
def test_start_time(stat_text: str, expected: float | None) -> None:
    assert _process.start_time(stat_text, 1796011878.0, 100) == expected


@pytest.mark.parametrize("text, expected", [("\n  first \nsecond", "first"), ("", ""), (None, "")])
def test_first_line(text: str | None, expected: str) -> None:
    assert rt.first_line(text) == expected


# --------------------------------------------------------------------------- round 2: CRI enabled, --config, prefixes


@pytest.mark.parametrize("text, expected", [
    ('version = 2\ndisabled_plugins = ["cri"]\n', rt.DumpView(False, [])),
    ('disabled_plugins = ["io.containerd.grpc.v1.cri"]\n', rt.DumpView(False, [])),
    ('version = 3\ndisabled_plugins = ["io.containerd.cri.v1.images"]\n', rt.DumpView(False, [])),
    ('version = 2\ndisabled_plugins = ["io.containerd.snapshotter.v1.btrfs"]\n', rt.DumpView(True, [])),
    ('version = 2\ndisabled_plugins = "cri"\n', rt.DumpView(True, [])),  # not a list: containerd would refuse it
    ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\nconfig_path = "/a:/b"\n',
     rt.DumpView(True, ["/a", "/b"])),
])
def test_parse_dump(text: str, expected: rt.DumpView) -> None:
    assert rt.parse_dump(text) == expected


# containerd_config_arg moved to _process.flag_value (one reader): see test_process.py


def prefix(name: str, *locations: str, **more: t.Any) -> dict[str, t.Any]:
    return dict({"Prefix": name, "Location": name, "Mirrors": [mirror(location) for location in locations]}, **more)


@pytest.mark.parametrize("tables, files, expected", [
    ([prefix("docker.io", "m.example")], None, None),
    ([prefix("docker.io", "m.example"), prefix("docker.io/library", "m.example/library")], None, None),
    ([prefix("docker.io", "m.example"), prefix("docker.io/library")], {"docker.io/library": "/etc/x.conf"},
     "images under docker.io/library bypass the mirrors ([[registry]] prefix docker.io/library in /etc/x.conf)"),
    ([prefix("docker.io", "m.example"), prefix("docker.io/library", "other.example")], None,
     "images under docker.io/library use other mirrors (https://other.example) ([[registry]] prefix "
     "docker.io/library)"),
    ([prefix("docker.io", "m.example"), prefix("docker.io/b"), prefix("docker.io/a")], None,
     "images under docker.io/a bypass the mirrors ([[registry]] prefix docker.io/a); images under docker.io/b "
     "bypass the mirrors ([[registry]] prefix docker.io/b)"),
    ([prefix("docker.io"), prefix("docker.io/library", "m.example")], None,
     "images under docker.io/library use other mirrors (https://m.example) ([[registry]] prefix docker.io/library)"),
    ([prefix("docker.io", "m.example"), prefix("docker.iox")], None, None),  # not under docker.io/
    ([prefix("docker.io", "m.example"), prefix("docker.io/library", Blocked=True)], None, None),
    # an operator's block on the registry itself: no mirror is used, and the reason is named
    ([prefix("docker.io", Blocked=True)], {"docker.io": "/etc/containers/registries.conf"},
     "pulls from docker.io are blocked ([[registry]] prefix docker.io in /etc/containers/registries.conf has "
     "blocked = true)"),
])
def test_podman_problem(tables: list[dict[str, t.Any]], files: dict[str, str] | None, expected: str | None) -> None:
    registries: dict[str, t.Any] = {"search": ["docker.io"]}
    registries.update((item["Prefix"], item) for item in tables)
    assert rt.podman_problem(registries, "docker.io", files) == expected


V3 = ('time="2026-11-30T07:30:58Z" level=error msg="containerd config version `3` is not supported, the max version is '
      '`2`, use `containerd config default` to generate a new config or manually revert to version `2`"')


@pytest.mark.parametrize("text, expected", [
    (V3, "containerd config version `3` is not supported, the max version is `2`, use `containerd config default` to "
         "generate a new config or manually revert to version `2`"),
    ('time="x" level=warning msg="ignoring"\n' + V3 + '\n', "containerd config version `3` is not supported, the "
     "max version is `2`, use `containerd config default` to generate a new config or manually revert to version `2`"),
    ('level=fatal msg="failed to load TOML: \\"x\\" at line 2"', 'failed to load TOML: "x" at line 2'),
    ("containerd: failed to load TOML from /etc/c.toml: bad\nmore\n", "containerd: failed to load TOML from /etc/c.toml: bad"),
    ('a line with msg="inside" not logfmt', 'a line with msg="inside" not logfmt'),
    ("", ""),
    (None, ""),
])
def test_error_line(text: str | None, expected: str) -> None:
    assert rt.error_line(text) == expected
