# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hosts.toml rendering and the surgical config_path edit of config.toml, as tables of cases."""

from __future__ import annotations

import json
import tomllib
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd as ctd
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _files
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError

V2 = '"io.containerd.grpc.v1.cri"'
V3 = '"io.containerd.cri.v1.images"'
# Debian 12's and 13's /etc/containerd/config.toml, as the containerd package ships it.
DEBIAN = ('version = 2\n\n[plugins]\n  [plugins."io.containerd.grpc.v1.cri"]\n'
          '    [plugins."io.containerd.grpc.v1.cri".cni]\n      bin_dir = "/usr/lib/cni"\n'
          '      conf_dir = "/etc/cni/net.d"\n  [plugins."io.containerd.internal.v1.opt"]\n'
          '    path = "/var/lib/containerd/opt"\n')
DIR = "/etc/containerd/certs.d"
# containerd releases: Debian 12, Debian 13, Debian forky, the first 2.2, the first 2.2 taking its default at start.
C16, C17, C21, C220, C222 = (1, 6, 20), (1, 7, 24), (2, 1, 9), (2, 2, 0), (2, 2, 2)
DEFAULT_DIRS = ["/etc/containerd/certs.d", "/etc/docker/certs.d"]


# --------------------------------------------------------------------------- hosts.toml


@pytest.mark.parametrize("name, ok", [
    ("docker.io", True), ("registry.example.com:5000", True), ("_default", True), ("10.0.0.5:5000", True),
    ("[::1]:5000", True), ("../etc", False), ("docker.io/library", False), ("", False), ("a b", False),
    ("host:70000", False), ("-bad.example", False),
])
def test_validate_registry(name: str, ok: bool) -> None:
    if ok:
        assert ctd.validate_registry(name) == name
    else:
        with pytest.raises(ConfigError, match="invalid registry"):
            ctd.validate_registry(name)


@pytest.mark.parametrize("registry, server", [
    ("docker.io", "https://registry-1.docker.io"), ("quay.io", "https://quay.io"),
    ("10.0.0.5:5000", "https://10.0.0.5:5000"), ("_default", None),
])
def test_default_server(registry: str, server: str | None) -> None:
    assert ctd.default_server(registry) == server


@pytest.mark.parametrize("mirrors, skip_verify, hosts", [
    (["https://mirror.gcr.io"], False, [ctd.Host("https://mirror.gcr.io", False)]),
    (["https://mirror.gcr.io/", "https://mirror.gcr.io"], False, [ctd.Host("https://mirror.gcr.io", False)]),
    (["http://10.0.0.5:5000", "https://m.example/sub/"], True,
     [ctd.Host("http://10.0.0.5:5000", False), ctd.Host("https://m.example/sub", True)]),
    ([], False, []),
])
def test_hosts_from_mirrors(mirrors: list[str], skip_verify: bool, hosts: list[ctd.Host]) -> None:
    assert ctd.hosts_from_mirrors(mirrors, skip_verify) == hosts


@pytest.mark.parametrize("mirror, fragment", [
    ("mirror.gcr.io", "no scheme"), ("ftp://m.example", "unsupported scheme"),
    ("https://user:secret@m.example", "username/password"), ("https://m.example?x=1", "query"),
])
def test_hosts_from_mirrors_refuses(mirror: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        ctd.hosts_from_mirrors([mirror])
    assert fragment in info.value.message and "secret" not in info.value.message


def test_render_hosts_toml_reads_back() -> None:
    hosts = [ctd.Host("https://mirror.gcr.io", False), ctd.Host("http://10.0.0.5:5000", False),
             ctd.Host("https://self.example", True)]
    text = ctd.render_hosts_toml("https://registry-1.docker.io", hosts)
    assert text.startswith(ctd.MARKER + "\n") and ctd.is_ours(text)
    assert tomllib.loads(text) == {
        "server": "https://registry-1.docker.io",
        "host": {"https://mirror.gcr.io": {"capabilities": ["pull", "resolve"]},
                 "http://10.0.0.5:5000": {"capabilities": ["pull", "resolve"]},
                 "https://self.example": {"capabilities": ["pull", "resolve"], "skip_verify": True}},
    }
    ctd.check_hosts_toml(text, ctd.expected_hosts_data("https://registry-1.docker.io", hosts))
    assert list(tomllib.loads(text)["host"]) == [host.url for host in hosts]  # order = try order


def test_render_without_server_or_hosts() -> None:
    text = ctd.render_hosts_toml(None, [], ["pull"])
    # containerd 1.6/1.7 ignore a hosts.toml without a host table: an empty one is written.
    assert tomllib.loads(text) == {"host": {}} == ctd.expected_hosts_data(None, [])


def test_check_hosts_toml_catches_mismatch() -> None:
    with pytest.raises(ConfigError, match="does not read back"):
        ctd.check_hosts_toml('server = "https://x"\n', {})


@pytest.mark.parametrize("value, rendered", [
    ("/etc/containerd/certs.d", '"/etc/containerd/certs.d"'), ('a"b\\c', '"a\\"b\\\\c"'), ("é", '"é"'),
])
def test_toml_string(value: str, rendered: str) -> None:
    assert ctd.toml_string(value) == rendered and tomllib.loads("k = " + rendered)["k"] == value


def test_toml_string_refuses_control_characters() -> None:
    with pytest.raises(ConfigError, match="control"):
        ctd.toml_string("a\nb")


# --------------------------------------------------------------------------- config.toml: reading


@pytest.mark.parametrize("text, version, dirs", [
    ("", 1, []),
    ("version = 2\n", 2, []),
    ('version = 2\n[plugins.%s.registry]\n  config_path = ""\n' % V2, 2, []),
    ('version = 2\n[plugins.%s.registry]\n  config_path = "/a:/b"\n' % V2, 2, ["/a", "/b"]),
    ('[plugins.cri.registry]\nconfig_path = "/v1"\n', 1, ["/v1"]),
    ("version = 3\n", 3, []),  # no release: no default assumed
    ('version = 3\n[plugins.%s.registry]\nconfig_path = "/x"\n' % V3, 3, ["/x"]),
    ('version = 2\n[plugins.%s.registry]\nconfig_path = "/wrong-version"\n' % V3, 2, []),
])
def test_configured_dirs(text: str, version: int, dirs: list[str]) -> None:
    data = ctd.parse_toml(text)
    assert ctd.config_version(data) == version
    assert ctd.configured_dirs(data, version) == dirs


@pytest.mark.parametrize("text, fragment", [
    ("version = 4\n", "unsupported config version 4"),
    ('version = "2"\n', "unsupported config version"),
    ("version = true\n", "unsupported config version"),
    ("version = 2\n[plugins\n", "cannot parse config.toml as TOML"),
])
def test_bad_config(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        ctd.config_version(ctd.parse_toml(text))


def test_config_path_not_a_string() -> None:
    data = ctd.parse_toml('version = 2\n[plugins.%s.registry]\nconfig_path = 3\n' % V2)
    with pytest.raises(ConfigError, match="is not a string"):
        ctd.configured_dirs(data, 2)


@pytest.mark.parametrize("text, found", [
    ('version = 2\n[plugins.%s.registry.mirrors."docker.io"]\nendpoint = ["https://m"]\n' % V2,
     ['plugins."io.containerd.grpc.v1.cri".registry.mirrors']),
    ('version = 2\n[plugins.%s.registry.configs."r.example".tls]\ninsecure_skip_verify = true\n' % V2,
     ['plugins."io.containerd.grpc.v1.cri".registry.configs."r.example".tls']),
    ('version = 2\n[plugins.%s.registry.configs."r.example".auth]\nusername = "u"\n' % V2, []),
    ('version = 2\n[plugins.%s.registry.mirrors]\n' % V2, []),
    (DEBIAN, []),
])
def test_legacy_conflicts(text: str, found: list[str]) -> None:
    assert ctd.legacy_conflicts(ctd.parse_toml(text), 2) == found


# --------------------------------------------------------------------------- config.toml: the edit

DEBIAN_AFTER = DEBIAN.replace(
    '      conf_dir = "/etc/cni/net.d"\n',
    '      conf_dir = "/etc/cni/net.d"\n    [plugins."io.containerd.grpc.v1.cri".registry]\n'
    '      config_path = "/etc/containerd/certs.d"\n')

EDITS: list[tuple[str, str, str]] = [
    ("debian-shipped", DEBIAN, DEBIAN_AFTER),
    ("empty file", "", 'version = 2\n\n[plugins."io.containerd.grpc.v1.cri".registry]\n'
                       '  config_path = "/etc/containerd/certs.d"\n'),
    ("comments only", "# nothing\n", '# nothing\nversion = 2\n\n[plugins."io.containerd.grpc.v1.cri".registry]\n'
                                     '  config_path = "/etc/containerd/certs.d"\n'),
    ("empty value replaced", 'version = 2\n[plugins.%s.registry]\n  config_path = ""  # unset\n  x = 1\n' % V2,
     'version = 2\n[plugins.%s.registry]\n  config_path = "/etc/containerd/certs.d"\n  x = 1\n' % V2),
    ("table exists, key added in its indentation",
     'version = 2\n[plugins.%s.registry]\n    [plugins.%s.registry.auths]\n' % (V2, V2),
     'version = 2\n[plugins.%s.registry]\n  config_path = "/etc/containerd/certs.d"\n'
     '    [plugins.%s.registry.auths]\n' % (V2, V2)),
    ("table exists with keys", "version = 2\n[plugins.%s.registry]\n\tfoo = 1\n" % V2,
     'version = 2\n[plugins.%s.registry]\n\tconfig_path = "/etc/containerd/certs.d"\n\tfoo = 1\n' % V2),
    ("version 1 file", "[plugins.cri]\n  sandbox_image = \"pause\"\n[metrics]\n  address = \"\"\n",
     '[plugins.cri]\n  sandbox_image = "pause"\n[plugins.cri.registry]\n  config_path = "/etc/containerd/certs.d"\n'
     '[metrics]\n  address = ""\n'),
    ("version 3 file", "version = 3\n[plugins.%s]\n  x = 1\n\n[grpc]\n  uid = 0\n" % V3,
     'version = 3\n[plugins.%s]\n  x = 1\n[plugins.%s.registry]\n  config_path = "/etc/containerd/certs.d"\n'
     '\n[grpc]\n  uid = 0\n' % (V3, V3)),
    ("no plugin table: appended", "version = 2\nroot = \"/var/lib/containerd\"",
     'version = 2\nroot = "/var/lib/containerd"\n\n[plugins."io.containerd.grpc.v1.cri".registry]\n'
     '  config_path = "/etc/containerd/certs.d"\n'),
    ("CRLF kept", "version = 2\r\n[plugins.%s]\r\n  a = 1\r\n" % V2,
     'version = 2\r\n[plugins.%s]\r\n  a = 1\r\n[plugins.%s.registry]\r\n'
     '  config_path = "/etc/containerd/certs.d"\r\n' % (V2, V2)),
    ("header in a multi-line string is not a header",
     'version = 2\nnote = """\n[plugins.%s.registry]\n"""\n' % V2,
     'version = 2\nnote = """\n[plugins.%s.registry]\n"""\n\n[plugins.%s.registry]\n'
     '  config_path = "/etc/containerd/certs.d"\n' % (V2, V2)),
    ("literal-quoted header", "version = 2\n[ plugins . 'io.containerd.grpc.v1.cri' . registry ] # c\n",
     "version = 2\n[ plugins . 'io.containerd.grpc.v1.cri' . registry ] # c\n"
     '  config_path = "/etc/containerd/certs.d"\n'),
]


@pytest.mark.parametrize("name, before, after", EDITS, ids=[case[0] for case in EDITS])
def test_set_config_path(name: str, before: str, after: str) -> None:
    result = ctd.set_config_path(before, DIR)
    assert result == after
    data = tomllib.loads(result)
    version = ctd.config_version(data)
    assert ctd.configured_dirs(data, version) == [DIR]


@pytest.mark.parametrize("text", [
    'version = 2\n[plugins.%s]\nregistry.config_path = ""\n' % V2,
    'version = 2\n[plugins.%s]\nregistry = { auths = {} }\n' % V2,
])
def test_set_config_path_refuses_forms_it_cannot_edit(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        ctd.set_config_path(text, DIR)
    assert "surgically" in info.value.message and 'set it to "/etc/containerd/certs.d" by hand' in info.value.message


NEW_V2 = 'version = 2\n\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"\n'
NEW_V3 = 'version = 3\n\n[plugins."io.containerd.cri.v1.images".registry]\n  config_path = "/etc/containerd/certs.d"\n'
V3_FILE = "version = 3\n[plugins.%s]\n  max_concurrent_downloads = 4\n" % V3
V3_FILE_AFTER = V3_FILE + '[plugins.%s.registry]\n  config_path = "/etc/containerd/certs.d"\n' % V3


@pytest.mark.parametrize("text, release, new_text, dirs", [
    (None, None, NEW_V2, []),
    (None, C16, NEW_V2, []),
    (None, C17, NEW_V2, []),
    (None, C21, NEW_V3, []),  # measured on forky: 2.1.9 reads no hosts directory without config_path
    (None, (2, 0, 2), NEW_V3, []),
    (None, C220, None, DEFAULT_DIRS),
    (None, C222, None, DEFAULT_DIRS),
    (DEBIAN, None, DEBIAN_AFTER, []),
    (DEBIAN, C21, DEBIAN_AFTER, []),
    (DEBIAN, C222, None, DEFAULT_DIRS),
    ('version = 2\n[plugins.%s.registry]\nconfig_path = "/other"\n' % V2, None, None, ["/other"]),
    ("version = 3\n", None, 'version = 3\n\n[plugins.%s.registry]\n  config_path = "%s"\n' % (V3, DIR), []),
    (V3_FILE, C21, V3_FILE_AFTER, []),
    (V3_FILE, C220, None, DEFAULT_DIRS),
    (V3_FILE, C222, None, DEFAULT_DIRS),
    ("", C21, NEW_V3, []),  # a file without any setting is version 1 to containerd: a 2.x one gets version 3
    ("", C17, NEW_V2, []),
])
def test_plan_config_path(text: str | None, release: ctd.Release | None, new_text: str | None,
                          dirs: list[str]) -> None:
    plan = ctd.plan_config_path(text, DIR, release)
    assert plan.text == new_text and plan.dirs == dirs


MIRRORS_V3 = 'version = 3\n[plugins.%s.registry.mirrors."docker.io"]\nendpoint = ["https://m"]\n' % V3
EMPTY_V2 = 'version = 2\n[plugins.%s.registry]\n  config_path = ""\n' % V2
EMPTY_V3 = 'version = 3\n[plugins.%s.registry]\n  config_path = ""\n' % V3


@pytest.mark.parametrize("text, release, dump, dirs", [
    # before 2.2: an empty config_path reads nothing, in a file and in a dump
    ("version = 2\n", C16, False, []), ("version = 2\n", C17, False, []), (EMPTY_V3, C21, True, []),
    ("version = 3\n", C21, False, []), (EMPTY_V3, C21, False, []), ("", C21, False, []),
    # 2.2.0 and 2.2.1: the plugin's default value (config dump shows it); a version 3 file's "" overrides it, a
    # version 1 or 2 file's "" is replaced when migrated; mirrors do not stop it (the plugin then refuses)
    ("version = 3\n", C220, False, DEFAULT_DIRS), ("version = 2\n", C220, False, DEFAULT_DIRS),
    (EMPTY_V2, C220, False, DEFAULT_DIRS), (EMPTY_V3, C220, False, []), (EMPTY_V3, C220, True, []),
    (MIRRORS_V3, C220, False, DEFAULT_DIRS), ("", (2, 2, 1), False, DEFAULT_DIRS),
    # 2.2.2 and later: taken at the plugin's start while config_path is empty and no mirrors are set; config dump
    # shows ""
    ("version = 3\n", C222, False, DEFAULT_DIRS), (EMPTY_V3, C222, False, DEFAULT_DIRS),
    (EMPTY_V3, C222, True, DEFAULT_DIRS), (EMPTY_V2, (2, 2, 7), False, DEFAULT_DIRS), (MIRRORS_V3, C222, False, []),
    (MIRRORS_V3 + '[plugins.%s.registry]\nconfig_path = ""\n' % V3, C222, True, []),
    ('version = 3\n[plugins.%s.registry.mirrors]\n' % V3, C222, True, DEFAULT_DIRS),  # no entry: none set
    # a set config_path is read as written, whatever the release
    ('version = 3\n[plugins.%s.registry]\nconfig_path = "/x"\n' % V3, C222, True, ["/x"]),
    ('version = 2\n[plugins.%s.registry]\nconfig_path = "/x"\n' % V2, C16, False, ["/x"]),
])
def test_configured_dirs_by_release(text: str, release: ctd.Release, dump: bool, dirs: list[str]) -> None:
    data = ctd.parse_toml(text)
    assert ctd.configured_dirs(data, ctd.config_version(data), release, dump) == dirs


@pytest.mark.parametrize("text, release", [
    ("containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3", C16),
    ("containerd github.com/containerd/containerd 1.7.24~ds1 1.7.24~ds1-6+deb13u1", C17),
    ("containerd github.com/containerd/containerd/v2 2.1.9+unknown \n", C21),
    ("containerd containerd.io v2.2.0 1c4457e00facac03ce1d75f7b6777a7a851e5c41", C220),
    ("containerd containerd.io v2.2.2 x", C222),
    ("containerd github.com/containerd/containerd/v2 2.2", (2, 2, 0)),
    ("", None), ("containerd: command not found", None),
])
def test_parse_release(text: str, release: ctd.Release | None) -> None:
    assert ctd.parse_release(text) == release


def test_plan_refuses_legacy_mirrors() -> None:
    text = 'version = 2\n[plugins.%s.registry.mirrors."docker.io"]\nendpoint = ["https://m"]\n' % V2
    with pytest.raises(ConfigError, match="refuses to load"):
        ctd.plan_config_path(text, DIR, None)


def test_parse_header() -> None:
    cases: dict[str, t.Any] = {
        '[plugins."io.containerd.grpc.v1.cri".registry]': ("plugins", "io.containerd.grpc.v1.cri", "registry"),
        '  [a . "b.c" . \'d\']  # x': ("a", "b.c", "d"),
        "[[registry]]": None, "[a.]": None, "[a b]": None, "key = 1": None,
    }
    for line, path in cases.items():
        assert ctd.parse_header(line) == path, line


# --------------------------------------------------------------------------- the CRI plugin and the running containerd


@pytest.mark.parametrize("text, disabled", [
    ('disabled_plugins = ["cri"]\n', True),  # Docker CE's containerd.io config.toml (version 1)
    ('version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n', True),
    ('version = 3\ndisabled_plugins = ["io.containerd.cri.v1.images"]\n', True),
    # containerd 1.6 refuses a short id in a version 2 file (check_plugin_uris); by URI it does not disable CRI.
    ('version = 2\ndisabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "cri"]\n', False),
    ('disabled_plugins = ["io.containerd.grpc.v1.cri"]\n', False),  # version 1: by id only
    ('version = 2\ndisabled_plugins = []\n', False),
    ('version = 2\ndisabled_plugins = ["io.containerd.snapshotter.v1.zfs"]\n', False),
    ('disabled_plugins = "cri"\n', False),  # not a list: containerd would refuse the file, the dump says so
    (DEBIAN, False),
    ("", False),
])
def test_cri_disabled(text: str, disabled: bool) -> None:
    assert ctd.cri_disabled(tomllib.loads(text)) is disabled


# config_flag moved to _process.flag_value (one reader): see test_process.py


WARNING = ('time="2026-11-30T07:23:03Z" level=warning msg="containerd config version `1` has been deprecated and will '
           'be removed in containerd v2.0"')


@pytest.mark.parametrize("rc, out, err, line", [
    # Debian 13's containerd 1.7.24 on oom_score = "abc" (measured)
    (1, "", "containerd: failed to unmarshal TOML: (2, 1): Can't convert abc(string) to int\n",
     "containerd: failed to unmarshal TOML: (2, 1): Can't convert abc(string) to int"),
    (1, "", WARNING + "\ncontainerd: failed to load TOML from /etc/containerd/.config.toml.x1.tmp: bad\n",
     "containerd: failed to load TOML from /etc/containerd/config.toml: bad"),
    (1, "", 'time="x" level=fatal msg="unsupported config version 3"\n' + WARNING + "\n",
     'time="x" level=fatal msg="unsupported config version 3"'),
    (1, "", "some other words\n" + WARNING + "\n", "some other words"),
    (3, "", WARNING + "\n", "exit status 3, no message"),
    (1, "", "", "exit status 1, no message"),
])
def test_dump_error_line(rc: int, out: str, err: str, line: str) -> None:
    candidate = "/etc/containerd/.config.toml.x1.tmp"
    assert ctd.dump_error_line(rc, out, err, candidate, "/etc/containerd/config.toml") == line


def entry(message: t.Any, who: str = "containerd") -> str:
    return json.dumps({"MESSAGE": message, "SYSLOG_IDENTIFIER": who, "__CURSOR": "s=1"})


# What journalctl -o json shows of a containerd that refuses its config.toml on Debian 13 (measured, trimmed).
FAILED_START = [
    entry('time="t" level=info msg="Stop CRI service"'),
    entry("Stopping containerd.service - containerd container runtime...", "systemd"),
    entry("containerd.service: Unit process 327 (containerd-shim) remains running after unit stopped.", "systemd"),
    entry("Starting containerd.service - containerd container runtime...", "systemd"),
    entry("containerd.service: Unable to locate executable '/sbin/modprobe': No such file or directory", "systemd"),
    entry("containerd: failed to unmarshal TOML: (2, 1): Can't convert abc(string) to int"),
    entry("containerd.service: Main process exited, code=exited, status=1/FAILURE", "systemd"),
    entry("containerd.service: Failed with result 'exit-code'.", "systemd"),
    entry("Failed to start containerd.service - containerd container runtime.", "systemd"),
]
PRE_FAILED = [
    entry("Starting containerd.service - containerd container runtime...", "systemd"),
    entry("containerd.service: Unit process 327 (containerd-shim) remains running after unit stopped.", "systemd"),
    entry("containerd.service: Control process exited, code=exited, status=1/FAILURE", "systemd"),
    entry("containerd.service: Failed with result 'exit-code'.", "systemd"),
    entry("Failed to start containerd.service - containerd container runtime.", "systemd"),
]


@pytest.mark.parametrize("lines, who, expected", [
    (FAILED_START, "containerd", ["containerd: failed to unmarshal TOML: (2, 1): Can't convert abc(string) to int"]),
    (PRE_FAILED, "systemd", ["containerd.service: Control process exited, code=exited, status=1/FAILURE",
                             "containerd.service: Failed with result 'exit-code'."]),
    ([entry('time="t" level=error msg="failed to load plugin" error="x"'), entry('time="t" level=info msg="ok"'),
      "not json", "[1, 2]", entry(""), entry(None)],
     "containerd", ['time="t" level=error msg="failed to load plugin" error="x"']),
    ([entry([99, 58, 32, 0xff, 98, 97, 100])], "containerd", ["c: \ufffdbad"]),  # a non-UTF-8 message
    ([entry('time="t" level=error msg="pull from https://u:pw@m.example failed"')], "containerd",
     ['time="t" level=error msg="pull from https://xxxxx@m.example failed"']),
    ([entry('level=error msg="%d"' % index) for index in range(12)], "containerd",
     ['level=error msg="%d"' % index for index in range(4, 12)]),
    ([], "systemd", []),
])
def test_journal_error_lines(lines: list[str], who: str, expected: list[str]) -> None:
    assert ctd.journal_error_lines("\n".join(lines)) == (who, expected)


# --------------------------------------------------------------------------- issue 21: what containerd loads

TLS = 'version = 2\n[plugins.%s.registry.configs."reg.example".tls]\n' % V2


@pytest.mark.parametrize("text, release, found", [
    (TLS, None, ['plugins."io.containerd.grpc.v1.cri".registry.configs."reg.example".tls']),  # empty: r.TLS != nil
    (TLS, C16, ['plugins."io.containerd.grpc.v1.cri".registry.configs."reg.example".tls']),
    (TLS, C17, ['plugins."io.containerd.grpc.v1.cri".registry.configs."reg.example".tls']),
    (TLS, C21, []),  # containerd 2.x only warns about configs
    ('version = 2\n[plugins.%s.registry.mirrors."docker.io"]\n' % V2, C21,
     ['plugins."io.containerd.grpc.v1.cri".registry.mirrors']),
])
def test_legacy_conflicts_as_containerd(text: str, release: ctd.Release | None, found: list[str]) -> None:
    assert ctd.legacy_conflicts(ctd.parse_toml(text), 2, release) == found


@pytest.mark.parametrize("text, fragment", [
    (TLS, "config_path cannot be set while"),
    ('version = 2\n[plugins.%s.registry]\nconfig_path = "/d"\n[plugins.%s.registry.mirrors."docker.io"]\n'
     'endpoint = ["https://m"]\n' % (V2, V2), "config_path is set together with"),
    ('version = 2\ndisabled_plugins = ["cri"]\n', 'already invalid: containerd refuses disabled_plugins "cri"'),
    ('version = 2\nrequired_plugins = ["cri"]\n', "required_plugins"),
    ("version = 3\n", "installed containerd 1.x ignores its plugin tables"),
])
def test_plan_refuses_what_containerd_refuses(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        ctd.plan_config_path(text, DIR, C16)
    assert fragment in info.value.message


@pytest.mark.parametrize("name", ["LocalHost:5003", "Docker.io"])
def test_registry_in_upper_case_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="write it in lower case"):
        ctd.validate_registry(name)


def test_scheme_in_upper_case_is_normalised() -> None:
    assert ctd.hosts_from_mirrors(["HTTP://10.0.0.5:5000", "http://10.0.0.5:5000/", "Https://m.example"]) == [
        ctd.Host("http://10.0.0.5:5000", False), ctd.Host("https://m.example", False)]
    assert ctd.validate_server("HTTPS://reg.example/") == "https://reg.example"


def test_no_mirror_still_has_a_host_table() -> None:
    text = ctd.render_hosts_toml("https://reg.example", [])
    assert "\n[host]\n" in text and tomllib.loads(text) == {"server": "https://reg.example", "host": {}}


@pytest.mark.parametrize("value, dirs", [
    ("rel/dir", ["/rel/dir"]), ("./a:/b/../c", ["/a", "/c"]), ("/etc/containerd/certs.d", [DIR]),
])
def test_relative_config_path_resolved_against_root(value: str, dirs: list[str]) -> None:
    data = ctd.parse_toml('version = 2\n[plugins.%s.registry]\nconfig_path = "%s"\n' % (V2, value))
    assert ctd.configured_dirs(data, 2) == dirs


@pytest.mark.parametrize("hosts_dir, dirs, registry, paths", [
    ("/b", ["/a", "/b"], "docker.io", ["/a/docker.io", "/a/_default"]),
    ("/b", ["/b"], "127.0.0.1:5003", ["/b/127.0.0.1_5003_"]),
    ("/b", ["/a", "/b"], "r.example:5003", ["/a/r.example_5003_", "/a/r.example:5003", "/a/_default",
                                            "/b/r.example_5003_"]),
    ("/b", ["/b"], "docker.io", []),
    ("/b", ["/a"], "docker.io", []),  # not read at all: said elsewhere
    ("/b", ["/a", "/b"], "_default", ["/a/_default"]),
])
def test_shadowing_paths(hosts_dir: str, dirs: list[str], registry: str, paths: list[str]) -> None:
    assert ctd.shadowing_paths(hosts_dir, dirs, registry) == paths


# containerd 1.6's config dump of a version 3 file (it knows no version 3: the CRI plugin keeps its defaults) and
# of a file whose import holds a CRI section: the effective config_path is "".
DUMP_16 = 'version = 2\n[plugins.%s.registry]\n  config_path = ""\n' % V2


@pytest.mark.parametrize("dump, release, effective", [
    (DUMP_16, C16, ctd.Effective(True, [], [])),
    ('version = 2\ndisabled_plugins = ["cri"]\n', C16, ctd.Effective(False, [], [])),  # a version 1 file, dumped
    ('version = 2\n[plugins.%s.registry]\n  config_path = "/d"\n'
     '  [plugins.%s.registry.configs."r".tls]\n    ca_file = ""\n' % (V2, V2), C16,
     ctd.Effective(True, ["/d"], ['plugins."io.containerd.grpc.v1.cri".registry.configs.r.tls'])),
    (DUMP_16, C17, ctd.Effective(True, [], [])),
    # forky's 2.1.9 dump of its stock file (measured): config_path '' and no hosts directory read
    ("version = 3\n[plugins.'io.containerd.cri.v1.images'.registry]\n  config_path = ''\n", C21,
     ctd.Effective(True, [], [])),
    # 2.2.0 shows its default in the dump; with mirrors the CRI plugin refuses to load
    ('version = 3\n[plugins.%s.registry]\n  config_path = "/etc/containerd/certs.d:/etc/docker/certs.d"\n' % V3,
     C220, ctd.Effective(True, DEFAULT_DIRS, [])),
    ('version = 3\n[plugins.%s.registry]\n  config_path = "/etc/containerd/certs.d:/etc/docker/certs.d"\n'
     '[plugins.%s.registry.mirrors."docker.io"]\n  endpoint = ["https://m"]\n' % (V3, V3), C220,
     ctd.Effective(True, DEFAULT_DIRS, ['plugins."io.containerd.cri.v1.images".registry.mirrors'])),
    # 2.2.2 shows "" and takes the default at start, unless mirrors are set
    (EMPTY_V3, C222, ctd.Effective(True, DEFAULT_DIRS, [])),
    (EMPTY_V3 + '[plugins.%s.registry.mirrors."docker.io"]\n  endpoint = ["https://m"]\n' % V3, C222,
     ctd.Effective(True, [], [])),
])
def test_effective_config_from_dump(dump: str, release: ctd.Release, effective: ctd.Effective) -> None:
    assert ctd.effective_config(ctd.parse_toml(dump), release, dump=True) == effective


@pytest.mark.parametrize("text, expected", [
    ('imports = ["conf.d/a.toml", "/abs.toml", "d/*.toml"]\nversion = 2\n',
     'imports = ["/etc/containerd/conf.d/a.toml", "/abs.toml", "d/*.toml"]\nversion = 2\n'),
    ('version = 2\nimports = [\n  "a.toml",  # one\n]\n[plugins.x]\n  imports = 1\n',
     'version = 2\nimports = ["/etc/containerd/a.toml"]\n[plugins.x]\n  imports = 1\n'),
    ('version = 2\n[plugins.x]\n  imports = ["a.toml"]\n', None),
])
def test_absolute_imports(text: str, expected: str | None) -> None:
    assert ctd.absolute_imports(text, "/etc/containerd") == expected


def test_relative_imports() -> None:
    data = ctd.parse_toml('imports = ["a.toml", "/b.toml", "c/*.toml"]\n')
    assert ctd.relative_imports(data) == ["a.toml"] and ctd.relative_imports({}) == []


def test_bom_is_accepted_and_kept() -> None:
    plan = ctd.plan_config_path(ctd.BOM + DEBIAN, DIR, C16)
    assert plan.text == ctd.BOM + DEBIAN_AFTER


def test_latin1_comment_kept_byte_for_byte() -> None:
    raw = DEBIAN.encode() + b"# caf\xe9\n"
    plan = ctd.plan_config_path(_files.decode(lossless=True, raw=raw), DIR, C16)
    assert _files.encode(plan.text) == DEBIAN_AFTER.encode() + b"# caf\xe9\n"


def test_latin1_in_a_key_refused() -> None:
    with pytest.raises(ConfigError, match="cannot parse"):
        ctd.plan_config_path(_files.decode(lossless=True, raw=b"version = 2\npath\xe9 = 1\n"), DIR, C16)


@pytest.mark.parametrize("wanted, exclusive, hosts", [
    # daemon_json's merge: what the file lists stays in its order, the missing wanted ones come after it.
    (["https://new"], False, ["https://old1", "https://new", "https://old2"]),
    (["https://newer", "https://new"], False, ["https://old1", "https://new", "https://old2", "https://newer"]),
    (["https://new"], True, ["https://new"]),
    (["https://newer", "https://new"], True, ["https://newer", "https://new"]),
])
def test_merge_mirrors(wanted: list[str], exclusive: bool, hosts: list[str]) -> None:
    current = ctd.hosts_in_file(ctd.render_hosts_toml(None, [ctd.Host(url, False) for url in
                                                             ("https://old1", "https://new", "https://old2")]))
    merged = ctd.merge_mirrors([ctd.Host(url, False) for url in wanted], current, exclusive)
    assert [host.url for host in merged] == hosts


@pytest.mark.parametrize("text", [None, "version = 2\n", 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n'])
def test_containerd_1_4_reads_no_hosts_toml(text) -> None:
    # Debian 11's containerd 1.4.13: its CRI plugin has no config_path; the module must not claim otherwise.
    with pytest.raises(ConfigError, match=r"^the installed containerd 1\.4 reads no hosts\.toml: "):
        ctd.plan_config_path(text, DIR, (1, 4, 13))
    assert ctd.plan_config_path(text, DIR, (1, 5, 0)).text is not None
