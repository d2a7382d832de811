# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the real mirrors_info module against conftest.py's fake Docker host plus runtimes_fake's containerd and
Podman."""

from __future__ import annotations

import json
import os
import typing as t

import pytest

from ansible.module_utils import basic

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _errors
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _process
from ansible_collections.fleetops.docker_mirror.plugins.modules import mirrors_info
from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.modules.runtimes_fake import Runtimes

LOCAL = "http://127.0.0.1:5000"
HOSTS_TOML = '[host."http://127.0.0.1:5000"]\n  capabilities = ["pull", "resolve"]\n'
BOOT = 1796011878
STARTED = BOOT + 1000  # containerd's start, ticks 100000 at 100 a second


@pytest.fixture
def fake(host, monkeypatch) -> Runtimes:
    runtimes = Runtimes(monkeypatch)
    proc = host.proc  # the one fake /proc of _process, where dockerd (pid 4242) lives too
    host.write(os.path.join(proc, "777", "stat"), "777 (containerd) S 1 777 777 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
                                                  "100000 0 0\n")
    host.write(os.path.join(proc, "777", "cmdline"), b"/usr/bin/containerd\0")
    monkeypatch.setattr(_process, "boot_realtime", lambda: float(BOOT))
    real_sysconf = os.sysconf
    monkeypatch.setattr(os, "sysconf", lambda name: 100 if name == "SC_CLK_TCK" else real_sysconf(name))
    host.set(mirrors=[LOCAL + "/"])
    runtimes.hosts_dir = os.path.join(host.root, "certs.d")
    runtimes.config = os.path.join(host.root, "config.toml")
    monkeypatch.setattr(mirrors_info, "CONTAINERD_DEFAULT_CONFIG", runtimes.config)
    runtimes.registries_conf = os.path.join(host.root, "containers", "registries.conf")
    runtimes.conf_dir = os.path.join(host.root, "containers", "registries.conf.d")
    monkeypatch.setattr(mirrors_info, "REGISTRIES_CONF", runtimes.registries_conf)
    monkeypatch.setattr(mirrors_info, "REGISTRIES_CONF_DIR", runtimes.conf_dir)
    host.write(runtimes.config, "version = 2\n")
    os.utime(runtimes.config, (STARTED - 60, STARTED - 60))
    runtimes.dump = runtimes.dump.replace("/etc/containerd/certs.d", runtimes.hosts_dir)
    host.write(os.path.join(runtimes.hosts_dir, "docker.io", "hosts.toml"), HOSTS_TOML)
    return runtimes


def run(host, fake, check_mode: bool = False, keep_registries: bool = False, **params: t.Any) -> dict[str, t.Any]:
    """The module's result; each runtime's ``registries`` (every registry, probes) is asserted by
    test_mirrors_info_registries.py, and left out here unless ``keep_registries``."""
    params.setdefault("containerd_config", fake.config)
    result = host.run(mirrors_info.main, check_mode=check_mode, **params)
    for views in (result.get("runtimes"), result.get("live")):
        for view in (views or {}).values():
            if not keep_registries:
                view.pop("registries", None)
    return result


def containerd(fake, **changes: t.Any) -> dict[str, t.Any]:
    entry = {"installed": True, "state": "running", "mirrors": [LOCAL], "error": None, "hosts_dir": fake.hosts_dir,
             "hosts_file": os.path.join(fake.hosts_dir, "docker.io", "hosts.toml"), "cri_reads_hosts_dir": True,
             "restart_pending": False, "cri_enabled": True, "config_file": fake.config, "problem": None,
             "config_lists_hosts_dir": True}
    return dict(entry, **changes)


DOCKER = {"installed": True, "state": "running", "mirrors": [LOCAL], "error": None}
PODMAN = {"installed": True, "state": "ready", "mirrors": [LOCAL], "error": None, "podman_version": "5.4.2",
          "source": "podman info", "crio": None, "problem": None}


@pytest.mark.parametrize("check_mode", [False, True])
def test_every_runtime_through_the_loopback_mirror(host, fake, check_mode: bool) -> None:
    result = run(host, fake, check_mode=check_mode)
    assert result == {"changed": False, "failed": False, "detected": ["docker", "containerd", "podman"],
                      "runtimes": {"docker": DOCKER, "containerd": containerd(fake), "podman": PODMAN}}
    assert not any(call.startswith("systemctl restart") for call in fake.calls)


@pytest.mark.parametrize("modified, pending", [
    (STARTED + 5, True),
    (STARTED + 0.005, False),  # within the clock tick the start time is truncated to
    (STARTED - 60, False),
    (None, False),  # no config.toml
])
def test_restart_pending_when_config_is_newer(host, fake, modified: float | None, pending: bool) -> None:
    if modified is None:
        os.unlink(fake.config)
    else:
        os.utime(fake.config, (modified, modified))
    result = run(host, fake, runtimes=["containerd"])
    wanted = containerd(fake, restart_pending=pending, cri_reads_hosts_dir=not pending)
    assert result["runtimes"] == {"containerd": wanted}


def test_restart_pending_unknown_without_the_process(host, fake) -> None:
    os.utime(fake.config, (STARTED + 5, STARTED + 5))
    fake.mainpid = 778  # no /proc entry: the start is unknown, nothing is claimed
    assert run(host, fake, runtimes=["containerd"])["runtimes"]["containerd"] == containerd(fake)


def test_cri_reads_other_directories(host, fake) -> None:
    fake.dump = fake.dump.replace(fake.hosts_dir, "/elsewhere")
    result = run(host, fake, runtimes=["containerd"], hosts_dir=fake.hosts_dir)
    assert result["runtimes"]["containerd"] == containerd(fake, cri_reads_hosts_dir=False, config_lists_hosts_dir=False)


def test_hosts_dir_defaults_to_the_first_cri_directory(host, fake) -> None:
    fake.dump = fake.dump.replace(fake.hosts_dir, fake.hosts_dir + ":/second")
    assert run(host, fake, runtimes=["containerd"])["runtimes"]["containerd"] == containerd(fake)


def test_no_config_path_means_the_default_directory(host, fake) -> None:
    fake.dump = "version = 2\n"
    entry = run(host, fake, runtimes=["containerd"])["runtimes"]["containerd"]
    assert entry == containerd(fake, hosts_dir="/etc/containerd/certs.d", cri_reads_hosts_dir=False,
                               config_lists_hosts_dir=False,
                               hosts_file=entry["hosts_file"], mirrors=entry["mirrors"])


FORKY_DUMP = "version = 3\n[plugins]\n  [plugins.'io.containerd.cri.v1.images'.registry]\n    config_path = ''\n"


@pytest.mark.parametrize("version, reads", [
    ("containerd github.com/containerd/containerd/v2 2.1.9+unknown ", False),  # forky, measured: none read
    ("containerd containerd.io v2.2.0 x", False),  # 2.2.0's dump shows its default: this "" was set so
    ("containerd containerd.io v2.2.2 x", True),  # 2.2.2 takes the default at the plugin's start
])
def test_empty_config_path_by_release(host, fake, version: str, reads: bool) -> None:
    fake.dump, fake.version = FORKY_DUMP, version
    entry = run(host, fake, runtimes=["containerd"], hosts_dir="/etc/containerd/certs.d")["runtimes"]["containerd"]
    assert entry["cri_reads_hosts_dir"] is reads and "containerd --version" in fake.calls


def test_default_directory_is_read_when_the_registry_has_none(host, fake) -> None:
    os.rename(os.path.join(fake.hosts_dir, "docker.io"), os.path.join(fake.hosts_dir, "_default"))
    result = run(host, fake, runtimes=["containerd"], registry="quay.io")
    assert result["runtimes"]["containerd"] == containerd(
        fake, hosts_file=os.path.join(fake.hosts_dir, "_default", "hosts.toml"))


def test_no_hosts_file_means_no_mirror(host, fake) -> None:
    result = run(host, fake, runtimes=["containerd"], registry="quay.io")
    assert result["runtimes"]["containerd"] == containerd(fake, hosts_file=None, mirrors=[])


def test_a_broken_hosts_file_is_an_error(host, fake) -> None:
    host.write(os.path.join(fake.hosts_dir, "docker.io", "hosts.toml"), "[host.\n")
    entry = run(host, fake, runtimes=["containerd"])["runtimes"]["containerd"]
    assert entry["mirrors"] is None and entry["state"] == "running"
    assert entry["error"].startswith("cannot parse %s as TOML" % entry["hosts_file"])
    assert entry["error"].endswith("(containerd fails every pull of docker.io)")


def test_config_dump_failing_leaves_the_cri_unknown(host, fake) -> None:
    fake.dump_rc = 1
    entry = run(host, fake, runtimes=["containerd"], hosts_dir=fake.hosts_dir)["runtimes"]["containerd"]
    dump_error = "containerd config dump failed: containerd: failed to load TOML from /etc/containerd/config.toml: bad"
    assert entry == containerd(fake, cri_reads_hosts_dir=None, cri_enabled=None, error=dump_error,
                               config_lists_hosts_dir=None,
                               problem="%s (%s)" % (dump_error, fake.config))


def test_stopped_containerd_is_not_asked(host, fake) -> None:
    fake.active = False
    entry = run(host, fake, runtimes=["containerd"])["runtimes"]["containerd"]
    assert entry == containerd(fake, state="stopped", mirrors=None, cri_reads_hosts_dir=True,
                               error="containerd is stopped (containerd.service is not active)")
    assert not [call for call in fake.calls if call.startswith("ctr")]


def test_containerd_not_answering(host, fake) -> None:
    fake.answers = False
    entry = run(host, fake, runtimes=["containerd"])["runtimes"]["containerd"]
    assert entry["state"] == "not-answering" and entry["mirrors"] is None
    assert entry["error"].startswith("containerd is not answering: ctr: failed to dial")


def test_containerd_without_ctr(host, fake) -> None:
    fake.present.discard("ctr")
    entry = run(host, fake, runtimes=["containerd"])["runtimes"]["containerd"]
    assert (entry["state"], entry["error"]) == ("not-answering", "no ctr command on this host to ask containerd")


def test_stopped_docker_is_not_socket_activated(host, fake) -> None:
    host.set(active=False)
    result = run(host, fake, runtimes=["docker"])
    assert result["runtimes"] == {"docker": {"installed": True, "state": "stopped", "mirrors": None,
                                             "error": "Docker is stopped (docker.service is not active)"}}
    assert host.state()["active"] is False and "SOCKET-ACTIVATED" not in host.state()["journal"]
    assert host.calls("docker") == []


def test_docker_mirrors_are_for_docker_hub_only(host, fake) -> None:
    result = run(host, fake, runtimes=["docker", "podman"], registry="quay.io")
    assert result["runtimes"] == {"docker": dict(DOCKER, mirrors=[]), "podman": dict(PODMAN, mirrors=[])}


def test_podman_info_failing(host, fake) -> None:
    fake.podman_rc = 125
    assert run(host, fake, runtimes=["podman"])["runtimes"]["podman"] == dict(
        PODMAN, state="not-answering", mirrors=None, podman_version=None,
        error="podman info failed: Error: database is locked")


@pytest.mark.parametrize("present, detected, state, mirrors", [
    ({"buildah"}, ["docker", "podman"], "ready", []),  # no registries.conf at all: no mirror
    ({"crio", "ctr"}, ["docker", "podman"], "ready", []),
    (set(), ["docker"], "not-installed", None),
])
def test_podman_family(host, fake, present: set[str], detected: list[str], state: str,
                       mirrors: list[str] | None) -> None:
    fake.present = present
    result = run(host, fake, runtimes=["auto", "podman"])
    assert result["detected"] == detected and list(result["runtimes"]) == detected + (["podman"] * (
        "podman" not in detected))
    assert result["runtimes"]["podman"]["state"] == state and result["runtimes"]["podman"]["mirrors"] == mirrors


def test_a_runtime_asked_for_but_not_installed(host, fake) -> None:
    fake.present = set()
    host.remove_command("docker")
    host.remove_command("dockerd")
    os.unlink(host.unit)
    result = run(host, fake, runtimes=["containerd", "docker"])
    assert result["detected"] == []
    assert result["runtimes"] == {
        "docker": {"installed": False, "state": "not-installed", "mirrors": None,
                   "error": "Docker is not installed (no dockerd command and no docker.service)"},
        "containerd": {"installed": False, "state": "not-installed", "mirrors": None, "hosts_dir": None,
                       "hosts_file": None, "cri_reads_hosts_dir": None, "restart_pending": False,
                       "cri_enabled": None, "config_file": None, "problem": None,
                       "error": "containerd is not installed (no containerd command)"}}


def test_not_root_says_so(host, fake, monkeypatch) -> None:
    monkeypatch.setattr(_errors, "is_root", lambda: False)
    fake.answers = False
    fake.podman_rc = 125
    result = run(host, fake)
    assert [view["state"] for view in result["runtimes"].values()] == ["running", "not-answering", "not-answering"]
    assert result["runtimes"]["docker"]["error"] is None
    for name in ("containerd", "podman"):
        assert result["runtimes"][name]["error"].endswith("; needs root on this host (running as %s): run with "
                                                          "become: true (or -b)" % _errors.current_user())


@pytest.mark.parametrize("params, message", [
    ({"registry": "docker.io/library"}, 'invalid registry "docker.io/library": must be host[:port]'),
    ({"hosts_dir": "certs.d"}, "certs.d: hosts_dir must be an absolute path"),
    ({"containerd_config": "config.toml"}, "config.toml: containerd_config must be an absolute path"),
    ({"runtimes": ["cri-o"]}, "value of runtimes must be one or more of"),
])
def test_refused_options(host, fake, params: dict[str, t.Any], message: str) -> None:
    result = run(host, fake, **params)
    assert result["failed"] and message in result["msg"]
    assert fake.calls == [] and host.calls() == []


# --------------------------------------------------------------------------- detect_only


@pytest.mark.parametrize("present, unit, runtimes, detected, installed", [
    ({"containerd", "ctr", "podman"}, True, ["auto"], ["docker", "containerd", "podman"],
     {"docker": True, "containerd": True, "podman": True}),
    ({"skopeo"}, False, ["auto", "containerd"], ["podman"], {"containerd": False, "podman": True}),
    (set(), False, ["docker"], [], {"docker": False}),
    (set(), True, ["auto"], ["docker"], {"docker": True}),  # docker.service alone is Docker (dockerd elsewhere)
])
def test_detect_only_runs_no_command(host, fake, present: set[str], unit: bool, runtimes: list[str],
                                     detected: list[str], installed: dict[str, bool]) -> None:
    fake.present = present
    host.remove_command("dockerd")
    if not unit:
        os.unlink(host.unit)
    result = run(host, fake, detect_only=True, runtimes=runtimes)
    assert result == {"changed": False, "failed": False, "detected": detected, "runtimes": {
        name: {"installed": value, "state": None, "mirrors": None, "error": None} for name, value in installed.items()}}
    assert fake.calls == [] and host.calls() == []


# --------------------------------------------------------------------------- the role's plan (mirrors)

PATH_MIRROR = "https://harbor.example/v2/dockerhub-proxy"


@pytest.mark.parametrize("present, runtimes, mirrors, write, problems", [
    # Every runtime takes a plain mirror: each installed one may be written (Docker always: daemon_json says why
    # it cannot be configured).
    ({"containerd", "ctr", "podman"}, ["auto"], [LOCAL], ["docker", "containerd", "podman"], {}),
    ({"containerd", "ctr"}, ["docker", "containerd", "podman"], [LOCAL], ["docker", "containerd"], {}),
    # Podman refuses a mirror with a path, which Docker and containerd take: nothing is written on the host.
    ({"containerd", "ctr", "podman"}, ["auto"], [PATH_MIRROR], [], {"podman": "podman cannot take the mirrors"}),
    # ... unless Podman is not selected (or not installed).
    ({"containerd", "ctr", "podman"}, ["docker", "containerd"], [PATH_MIRROR], ["docker", "containerd"], {}),
    ({"containerd", "ctr"}, ["docker", "containerd", "podman"], [PATH_MIRROR], ["docker", "containerd"], {}),
    # A mirror containerd does not take (a query) is refused before any file too; Docker's own checks (which
    # depend on its release) are daemon_json's, before its file, the first one, is written.
    ({"containerd", "ctr"}, ["docker", "containerd"], ["https://m.example/?x=1"], [],
     {"containerd": "containerd cannot"}),
    ({"containerd", "ctr"}, ["docker"], ["https://m.example/?x=1"], ["docker"], {}),
    ({"containerd", "ctr", "podman"}, ["auto"], [], ["docker", "containerd", "podman"], {}),  # state absent
])
def test_plan_checks_every_runtime_before_any_write(host, fake, present, runtimes, mirrors, write,
                                                    problems) -> None:
    fake.present = present
    result = run(host, fake, runtimes=runtimes, mirrors=mirrors, detect_only=True)
    assert result["write"] == write, result
    for name, entry in result["runtimes"].items():
        assert (entry["problem"] or "").startswith(problems.get(name, "")) and bool(entry["problem"]) == (
            name in problems), (name, entry)
    assert fake.calls == [] and host.calls() == []  # no command: the plan is read from files
    assert "live" not in result


def test_plan_reads_what_each_runtime_uses_unless_detect_only(host, fake) -> None:
    """Without detect_only, one call is both the plan and the live views (the mirrors action's one reading)."""
    fake.present = {"containerd", "ctr", "podman"}
    result = run(host, fake, runtimes=["auto"], mirrors=[PATH_MIRROR])
    assert result["write"] == [] and result["runtimes"]["podman"]["problem"].startswith("podman cannot")
    assert sorted(result["live"]) == ["containerd", "docker", "podman"]
    assert all(view["state"] for view in result["live"].values()), result["live"]
    assert not any(view.get("problem", "").startswith("podman cannot") for view in result["live"].values()
                   if view.get("problem"))


# --------------------------------------------------------------------------- Docker: dockerd or its unit


@pytest.mark.parametrize("commands, unit, detected, state, error", [
    ({"docker", "dockerd"}, True, True, "running", None),
    # dockerd without the docker CLI (Debian 13's docker.io without docker-cli): Docker, asked as _daemon does
    ({"dockerd"}, False, True, "not-answering", "dockerd is not answering: "),
    ({"docker"}, True, True, "running", None),
    # podman-docker's shim or a CI runner's client: not Docker
    ({"docker"}, False, False, "not-installed",
     "Docker is not installed (no dockerd command and no docker.service) (the docker command here is a client only)"),
    (set(), True, True, "not-answering", "docker.service exists but there is no dockerd or docker command to ask it"),
])
def test_docker_needs_dockerd_or_its_unit(host, fake, commands: set[str], unit: bool, detected: bool, state: str,
                                          error: str | None) -> None:
    for name in {"docker", "dockerd"} - commands:
        host.remove_command(name)
    if not unit:
        os.unlink(host.unit)
    result = run(host, fake, runtimes=["auto", "docker"])
    assert ("docker" in result["detected"]) is detected
    docker = result["runtimes"]["docker"]
    assert (docker["installed"], docker["state"]) == (detected or unit, state)
    assert (docker["error"] or "").startswith(error or "") and (error is None) is (docker["error"] is None)
    if not detected:
        assert host.calls("docker") == [] and host.calls("systemctl") == []


# --------------------------------------------------------------------------- containerd: the file it runs with


OTHER = "/etc/containerd/other.toml"


@pytest.mark.parametrize("argv, config, running, problem", [
    (["/usr/bin/containerd"], None, None, None),
    (["/usr/bin/containerd", "--config", "{config}"], None, None, None),
    (["/usr/bin/containerd", "-c={config}", "--log-level", "debug"], None, None, None),
    (["/usr/bin/containerd", "--config", OTHER], None, OTHER,
     "containerd runs with --config %s, not {config} (containerd.service, pid 777): point containerd_config at %s"
     % (OTHER, OTHER)),
    (["/usr/bin/containerd", "-c", OTHER], None, OTHER, "containerd runs with --config %s, not" % OTHER),
    (["/usr/bin/containerd", "--config=%s" % OTHER], None, OTHER, "containerd runs with --config %s, not" % OTHER),
    # the last -c wins, as in containerd_hosts (one reader)
    (["/usr/bin/containerd", "-c", "{config}", "-c", OTHER], None, OTHER, "containerd runs with --config %s, not"
     % OTHER),
    # no --config: containerd reads its default file, not the one named
    (["/usr/bin/containerd"], OTHER, "{config}",
     "containerd runs with no --config (so {config}), not %s (containerd.service, pid 777): point "
     "containerd_config at {config}" % OTHER),
])
def test_the_file_the_running_containerd_reads(host, fake, argv: list[str], config: str | None,
                                               running: str | None, problem: str | None) -> None:
    argv = [arg.replace("{config}", fake.config) for arg in argv]
    host.write(os.path.join(host.proc, "777", "cmdline"), "\0".join(argv).encode() + b"\0")
    params = {"containerd_config": config} if config else {}
    entry = run(host, fake, runtimes=["containerd"], **params)["runtimes"]["containerd"]
    running = (running or fake.config).replace("{config}", fake.config)
    assert entry["config_file"] == running
    assert "containerd --config %s config dump" % running in fake.calls  # the CRI seen as the process loaded it
    if problem is None:
        assert entry["problem"] is None
    else:
        assert entry["problem"].startswith(problem.replace("{config}", fake.config)), entry["problem"]


def test_the_file_is_assumed_when_the_process_is_unknown(host, fake) -> None:
    fake.mainpid = 778  # no /proc entry
    entry = run(host, fake, runtimes=["containerd"], containerd_config=OTHER)["runtimes"]["containerd"]
    assert (entry["config_file"], entry["problem"]) == (OTHER, None)


DISABLED = 'version = 2\ndisabled_plugins = [%s]\n'


@pytest.mark.parametrize("dump, cri_enabled, reads", [
    (DISABLED % '"cri"', False, None),  # Docker CE's stock config.toml
    (DISABLED % '"io.containerd.grpc.v1.cri"', False, None),
    (DISABLED % '"io.containerd.cri.v1.images"', False, None),  # containerd 2's image service
    (DISABLED % '"io.containerd.internal.v1.opt"', True, False),
    ("version = 2\ndisabled_plugins = []\n", True, False),
])
def test_cri_disabled(host, fake, dump: str, cri_enabled: bool, reads: bool | None) -> None:
    fake.dump = dump
    entry = run(host, fake, runtimes=["containerd"], hosts_dir=fake.hosts_dir)["runtimes"]["containerd"]
    assert entry == containerd(fake, cri_enabled=cri_enabled, cri_reads_hosts_dir=reads,
                               config_lists_hosts_dir=False)


def test_cri_disabled_has_no_problem_even_with_another_file(host, fake) -> None:
    fake.dump = DISABLED % '"cri"'
    entry = run(host, fake, runtimes=["containerd"], containerd_config=OTHER)["runtimes"]["containerd"]
    assert (entry["cri_enabled"], entry["cri_reads_hosts_dir"], entry["problem"]) == (False, None, None)


def test_a_config_dump_failure_is_a_problem_even_with_mirrors(host, fake) -> None:
    fake.dump_rc = 1  # e.g. version = 3 on containerd 1.7
    entry = run(host, fake, runtimes=["containerd"], hosts_dir=fake.hosts_dir)["runtimes"]["containerd"]
    assert entry["mirrors"] == [LOCAL] and entry["problem"].startswith("containerd config dump failed: ")
    assert entry["problem"].endswith("(%s)" % fake.config)


# --------------------------------------------------------------------------- podman: longer prefixes, files


def registries(**tables: list[dict[str, t.Any]]) -> str:
    """podman info's JSON with a [[registry]] per prefix (underscores for dots and slashes are not needed:
    the prefix is given as the table's Prefix)."""
    found = {}
    for table in tables.values():
        for item in table:
            found[item["Prefix"]] = item
    return json.dumps({"version": {"Version": "5.4.2"}, "registries": found})


def table(prefix: str, *mirrors: str) -> dict[str, t.Any]:
    return {"Prefix": prefix, "Location": prefix, "Mirrors": [{"Location": m, "Insecure": True} for m in mirrors]}


LIBRARY_FILE = '[[registry]]\nprefix = "docker.io/library"\nlocation = "docker.io/library"\n'


@pytest.mark.parametrize("tables, problem", [
    ([table("docker.io", "127.0.0.1:5000")], None),
    ([table("docker.io", "127.0.0.1:5000"), table("docker.io/library", "127.0.0.1:5000/library")], None),
    ([table("docker.io", "127.0.0.1:5000"), table("quay.io/library")], None),
    ([table("docker.io", "127.0.0.1:5000"), table("docker.io/library")],
     "images under docker.io/library bypass the mirrors ([[registry]] prefix docker.io/library in {file})"),
    ([table("docker.io", "127.0.0.1:5000"), table("docker.io/library", "127.0.0.1:5000")],
     "images under docker.io/library use other mirrors (http://127.0.0.1:5000) ([[registry]] prefix "
     "docker.io/library in {file})"),
    ([table("docker.io", "127.0.0.1:5000"), table("docker.io/fleet")],
     "images under docker.io/fleet bypass the mirrors ([[registry]] prefix docker.io/fleet)"),  # file unknown
    ([table("docker.io"), table("docker.io/library")], None),  # no mirrors anywhere: nothing bypasses them
    ([dict(table("docker.io", "127.0.0.1:5000")), dict(table("docker.io/library"), Blocked=True)], None),
])
def test_podman_longer_prefixes(host, fake, tables: list[dict[str, t.Any]], problem: str | None) -> None:
    library = os.path.join(fake.conf_dir, "10-lib.conf")
    host.write(library, LIBRARY_FILE)
    fake.podman_out = registries(all=tables)
    entry = run(host, fake, runtimes=["podman"])["runtimes"]["podman"]
    assert entry["problem"] == (problem and problem.replace("{file}", library))
    assert entry["mirrors"] == [("http://" + m["Location"]) for m in tables[0]["Mirrors"]]


MAIN = 'unqualified-search-registries = ["docker.io"]\n[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n'
OURS = ('[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n[[registry.mirror]]\n'
        'location = "127.0.0.1:5000"\ninsecure = true\n')


@pytest.mark.parametrize("files, mirrors, problem", [
    ({}, [], None),
    ({"50-mirror.conf": OURS}, [LOCAL], None),
    ({"main": MAIN, "50-mirror.conf": OURS}, [LOCAL], None),
    ({"50-mirror.conf": OURS, "60-later.conf": MAIN}, [], None),  # read later: replaces ours
    ({"50-mirror.conf": OURS, "60-later.conf.disabled": MAIN, "70-dir.conf/": ""}, [LOCAL], None),
    ({"50-mirror.conf": OURS, "10-lib.conf": LIBRARY_FILE}, [LOCAL],
     "images under docker.io/library bypass the mirrors ([[registry]] prefix docker.io/library in {dir}/10-lib.conf)"),
])
def test_without_podman_the_files_are_merged(host, fake, files: dict[str, str], mirrors: list[str],
                                             problem: str | None) -> None:
    fake.present = {"buildah", "skopeo"}
    os.makedirs(fake.conf_dir, exist_ok=True)
    for name, text in files.items():
        if name.endswith("/"):
            os.makedirs(os.path.join(fake.conf_dir, name))
        else:
            host.write(fake.registries_conf if name == "main" else os.path.join(fake.conf_dir, name), text)
    entry = run(host, fake, runtimes=["podman"])["runtimes"]["podman"]
    assert entry == {"installed": True, "state": "ready", "mirrors": mirrors, "error": None, "podman_version": None,
                     "source": "files", "crio": None, "problem": problem and problem.replace("{dir}", fake.conf_dir)}
    assert fake.calls == []


def test_without_podman_a_broken_file_is_not_answering(host, fake) -> None:
    fake.present = {"skopeo"}
    host.write(os.path.join(fake.conf_dir, "10-broken.conf"), "[[registry]\n")
    entry = run(host, fake, runtimes=["podman"])["runtimes"]["podman"]
    assert (entry["state"], entry["mirrors"], entry["source"]) == ("not-answering", None, "files")
    assert entry["error"].startswith("cannot parse %s/10-broken.conf as TOML" % fake.conf_dir)
    assert entry["error"].endswith("podman, buildah, skopeo and CRI-O refuse it as well: fix it first")


@pytest.fixture
def crio(fake, monkeypatch) -> dict[str, t.Any]:
    """crio.service for systemctl is-active (the containerd fake answers for containerd's unit only)."""
    unit = {"active": True}
    faked = basic.AnsibleModule.run_command

    def run_command(module, args, *more, **kwargs):
        if os.path.basename(args[0]) == "systemctl" and args[1:] == ["is-active", "crio.service"]:
            fake.calls.append("systemctl is-active crio.service")
            return (0, "active\n", "") if unit["active"] else (3, "inactive\n", "")
        return faked(module, args, *more, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    return unit


@pytest.mark.parametrize("present, active, systemd, state", [
    ({"crio"}, True, True, "running"),
    ({"crio", "podman"}, False, True, "stopped"),
    ({"podman"}, True, True, None),  # not installed
    ({"crio"}, True, False, None),  # no systemd to ask
])
def test_crio_service(host, fake, crio, present: set[str], active: bool, systemd: bool, state: str | None) -> None:
    fake.present, crio["active"] = present, active
    if not systemd:
        host.no_systemd()
    entry = run(host, fake, runtimes=["podman"])["runtimes"]["podman"]
    assert entry["crio"] == state and entry["state"] == "ready"
    assert entry["source"] == ("podman info" if "podman" in present else "files")


# containerd 1.4 (Debian 11): its CRI plugin reads config.toml's registry.mirrors, no hosts.toml. Its own default
# (config dump without a file setting any) lists Docker Hub's upstream for docker.io.
LEGACY_DUMP = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n'
               '  endpoint = ["%s", "https://registry-1.docker.io"]\n'
               '[plugins."io.containerd.grpc.v1.cri".registry.mirrors."registry.k8s.io"]\n'
               '  endpoint = ["https://127.0.0.1:5001"]\n' % LOCAL)
CTD_14 = "containerd github.com/containerd/containerd 1.4.13~ds1 1.4.13~ds1-1~deb11u4"


@pytest.mark.parametrize("registry, mirrors", [("docker.io", [LOCAL]), ("registry.k8s.io", ["https://127.0.0.1:5001"]),
                                               ("quay.io", [])])
def test_containerd_1_4_mirrors_are_config_toml_legacy_tables(host, fake, registry: str, mirrors: list[str]) -> None:
    fake.dump, fake.version = LEGACY_DUMP, CTD_14
    entry = run(host, fake, runtimes=["containerd"], registry=registry)["runtimes"]["containerd"]
    # No hosts.toml is read (the one on disk is ignored), and "the CRI plugin does not read the hosts dir" is not
    # a problem there: cri_reads_hosts_dir is null, not false.
    assert entry == containerd(fake, mirrors=mirrors, hosts_file=None, cri_reads_hosts_dir=None,
                               config_lists_hosts_dir=None, hosts_dir="/etc/containerd/certs.d")


def test_containerd_1_4_default_dump_has_no_mirror(host, fake) -> None:
    fake.dump, fake.version = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n'
                               '  endpoint = ["https://registry-1.docker.io"]\n'), CTD_14
    entry = run(host, fake, runtimes=["containerd"])["runtimes"]["containerd"]
    assert entry["mirrors"] == [] and entry["problem"] is None and entry["cri_reads_hosts_dir"] is None
