# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tables of cases for the pure daemon.json logic."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _daemon_config as dc
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._daemon_config import DaemonConfigError

# --------------------------------------------------------------------------- parse / indent / render


@pytest.mark.parametrize("text, expected", [
    ("", {}),
    ("   \n\t\n", {}),
    ("\ufeff{}", {}),
    ('{"a": 1}', {"a": 1}),
    ('{"labels": ["名前=値", "ключ=значение", "emoji=🐳"]}', {"labels": ["名前=値", "ключ=значение", "emoji=🐳"]}),
    ('{"registry-mirrors": []}', {"registry-mirrors": []}),
])
def test_parse_document_ok(text: str, expected: dict) -> None:
    assert dc.parse_document(text) == expected


@pytest.mark.parametrize("text, fragment", [
    ('{\n  "a": 1,\n  "b" 2\n}', "line 3, column 7"),
    ("{", "cannot parse as JSON (line 1, column 2)"),
    ("[]", "top level must be a JSON object, found an array"),
    ('"x"', "found a string"),
    ("null", "found null"),
    ("3", "found a number"),
    ("true", "found a boolean"),
    ('{"registry-mirrors": "https://a"}', '"registry-mirrors" must be a list of strings, found a string'),
    ('{"registry-mirrors": [1]}', "item 0 is a number: 1"),
    ('{"registry-mirrors": {"a": 1}}', "found an object"),
    ('{"insecure-registries": [null]}', '"insecure-registries" must be a list of strings, item 0 is null'),
])
def test_parse_document_errors(text: str, fragment: str) -> None:
    with pytest.raises(DaemonConfigError) as info:
        dc.parse_document(text)
    assert fragment in info.value.message


@pytest.mark.parametrize("text, expected", [
    ("", 2),
    ('{\n  "a": 1\n}\n', 2),
    ('{\n    "a": 1\n}\n', 4),
    ('{\n\t"a": 1\n}\n', "\t"),
    ('{"a": 1}\n', None),
    ('{\n\n"a": 1\n}', 2),
    ('{\n   "a": [\n      1\n   ]\n}', 3),
])
def test_detect_indent(text: str, expected: t.Any) -> None:
    assert dc.detect_indent(text) == expected


@pytest.mark.parametrize("indent, expected", [
    (2, '{\n  "a": [\n    "é"\n  ]\n}\n'),
    (4, '{\n    "a": [\n        "é"\n    ]\n}\n'),
    ("\t", '{\n\t"a": [\n\t\t"é"\n\t]\n}\n'),
    (None, '{"a": ["é"]}\n'),
])
def test_render_document(indent: t.Any, expected: str) -> None:
    assert dc.render_document({"a": ["é"]}, indent) == expected


def test_render_roundtrip_keeps_order_and_values() -> None:
    text = '{\n  "z": 1,\n  "a": {"y": [1, 2.5, "ü"], "b": null},\n  "m": 12345678901234567890\n}\n'
    document = dc.parse_document(text)
    assert list(dc.parse_document(dc.render_document(document))) == ["z", "a", "m"]
    assert dc.parse_document(dc.render_document(document)) == document


# --------------------------------------------------------------------------- mirrors


@pytest.mark.parametrize("url, allow_path, expected", [
    ("https://mirror.gcr.io", False, "https://mirror.gcr.io/"),
    ("https://mirror.gcr.io/", False, "https://mirror.gcr.io/"),
    ("http://127.0.0.1:5000", False, "http://127.0.0.1:5000/"),
    ("HTTPS://Mirror.Example.com", False, "HTTPS://Mirror.Example.com/"),
    ("https://[::1]:5000/", False, "https://[::1]:5000/"),
    ("https://m.example/?", False, "https://m.example/?/"),
    ("https://m.example/v2/cache", True, "https://m.example/v2/cache/"),
])
def test_validate_mirror_ok(url: str, allow_path: bool, expected: str) -> None:
    assert dc.validate_mirror(url, allow_path) == expected


@pytest.mark.parametrize("url, allow_path, fragment", [
    ("", False, "must be a non-empty string"),
    (None, False, "must be a non-empty string"),
    ("https://m.example /", False, "whitespace or control characters"),
    ("mirror.gcr.io", False, "no scheme specified"),
    ("mirror.gcr.io:5000", False, "no scheme specified"),
    ("://mirror.gcr.io", False, "no scheme specified"),
    ("https://m.example:99999", False, "not a valid URI"),
    ("https://[::1", False, "not a valid URI"),
    ("ftp://m.example", False, "unsupported scheme 'ftp'"),
    ("unix://m.example", False, "unsupported scheme"),
    ("https://m.example/?a=1", False, "query or fragment"),
    ("https://m.example/#frag", False, "query or fragment"),
    ("https://user:pw@m.example", False, "username/password not allowed"),
    ("https://user@m.example", False, "username/password not allowed"),
    ("https://", False, "no host name"),
    ("https://:5000", False, "no host name"),
    ("https://m.example:0", False, "invalid port 0"),
    ("https://m.example/v2/cache", False, "Docker 25.0 or later"),
])
def test_validate_mirror_errors(url: t.Any, allow_path: bool, fragment: str) -> None:
    with pytest.raises(DaemonConfigError) as info:
        dc.validate_mirror(url, allow_path)
    assert fragment in info.value.message


@pytest.mark.parametrize("entry, expected", [
    ("10.0.0.5:5000", "10.0.0.5:5000"),
    ("http://10.0.0.5:5000", "10.0.0.5:5000"),
    ("HTTPS://reg.example", "reg.example"),
    ("10.0.0.0/8", "10.0.0.0/8"),
    ("fd00::/8", "fd00::/8"),
    ("::1", "::1"),
    ("[::1]:5000", "[::1]:5000"),
    ("my-registry.local", "my-registry.local"),
])
def test_validate_insecure_registry_ok(entry: str, expected: str) -> None:
    assert dc.validate_insecure_registry(entry) == expected


@pytest.mark.parametrize("entry, fragment", [
    ("", "non-empty string"),
    ("tcp://reg.example", "should not contain '://'"),
    ("10.0.0.0/99", "not a valid CIDR"),
    ("reg.example/path", "not a valid CIDR"),
    ("reg example", "must be host[:port] or a CIDR"),
    ("reg.example:70000", "invalid port 70000"),
    ("-reg.example", "must be host[:port] or a CIDR"),
])
def test_validate_insecure_registry_errors(entry: str, fragment: str) -> None:
    with pytest.raises(DaemonConfigError) as info:
        dc.validate_insecure_registry(entry)
    assert fragment in info.value.message


A, A_SLASH, B, C = "https://a.example", "https://a.example/", "https://b.example", "https://c.example"


@pytest.mark.parametrize("current, wanted, state, exclusive, expected", [
    ([], [A], "present", False, [A]),
    ([A_SLASH], [A], "present", False, [A_SLASH]),
    ([A], [A_SLASH], "present", False, [A]),
    ([B], [A, C], "present", False, [B, A, C]),
    ([B], [A, A_SLASH, A], "present", False, [B, A]),
    ([A, B], None, "present", False, [A, B]),
    ([A, B, C], [C, A_SLASH], "present", True, [C, A]),
    ([A_SLASH], [A], "present", True, [A_SLASH]),
    ([A], [B, B], "present", True, [B]),
    ([A], [], "present", True, []),
    ([A, B, C], [A_SLASH, C], "absent", False, [B]),
    ([A, B], [C], "absent", False, [A, B]),
    ([A, B], [], "absent", True, []),
    ([A, B], [C], "absent", True, []),
])
def test_merge_list_mirrors(current: list, wanted: t.Any, state: str, exclusive: bool, expected: list) -> None:
    assert dc.merge_list(current, wanted, state, exclusive, dc.mirror_key) == expected


@pytest.mark.parametrize("current, wanted, state, expected", [
    (["10.0.0.5:5000"], ["http://10.0.0.5:5000"], "present", ["10.0.0.5:5000"]),
    (["http://10.0.0.5:5000"], ["10.0.0.5:5000"], "absent", []),
])
def test_merge_list_insecure(current: list, wanted: list, state: str, expected: list) -> None:
    assert dc.merge_list(current, wanted, state, False, dc.insecure_key) == expected


BASE = {"log-driver": "json-file", "registry-mirrors": [A], "debug": False}


@pytest.mark.parametrize("kwargs, expected_doc, expected_changed, cleared", [
    (dict(mirrors=[A_SLASH]), BASE, [], []),
    (dict(mirrors=[B]), {**BASE, "registry-mirrors": [A, B]}, ["registry-mirrors"], []),
    (dict(mirrors=[A], state="absent"), {**BASE, "registry-mirrors": []}, ["registry-mirrors"],
     ["registry-mirrors"]),
    (dict(mirrors=[], state="absent", exclusive=True), {**BASE, "registry-mirrors": []},
     ["registry-mirrors"], ["registry-mirrors"]),
    (dict(insecure=["10.0.0.5:5000"]), {**BASE, "insecure-registries": ["10.0.0.5:5000"]},
     ["insecure-registries"], []),
    (dict(insecure=["10.0.0.5:5000"], state="absent"), BASE, [], []),
    (dict(settings={"debug": True}), {**BASE, "debug": True}, ["debug"], []),
    (dict(settings={"debug": 0}), {**BASE, "debug": 0}, ["debug"], []),
    (dict(settings={"debug": False}), BASE, [], []),
    (dict(settings={"debug": None}), {"log-driver": "json-file", "registry-mirrors": [A]}, ["debug"], []),
    (dict(settings={"absent-key": None}), BASE, [], []),
    (dict(settings={"live-restore": True}), {**BASE, "live-restore": True}, ["live-restore"], []),
])
def test_apply_changes(kwargs: dict, expected_doc: dict, expected_changed: list, cleared: list) -> None:
    source = dict(BASE)
    result = dc.apply_changes(source, **kwargs)
    assert result.document == expected_doc
    assert list(result.document) == list(expected_doc)
    assert result.changed_keys == expected_changed
    assert result.cleared_keys == cleared
    assert source == BASE, "the input document must not be mutated"


def test_apply_changes_absent_on_missing_key_adds_nothing() -> None:
    result = dc.apply_changes({"debug": True}, mirrors=[A], state="absent")
    assert result.document == {"debug": True}
    assert result.changed_keys == []


def test_apply_changes_object_setting_order_insensitive() -> None:
    document = {"log-opts": {"max-size": "10m", "max-file": "3"}}
    result = dc.apply_changes(document, settings={"log-opts": {"max-file": "3", "max-size": "10m"}})
    assert result.changed_keys == []
    assert list(result.document["log-opts"]) == ["max-size", "max-file"]


@pytest.mark.parametrize("key", ["registry-mirrors", "insecure-registries"])
def test_apply_changes_refuses_managed_keys_in_settings(key: str) -> None:
    with pytest.raises(DaemonConfigError) as info:
        dc.apply_changes({}, settings={key: []})
    assert "cannot be set through settings" in info.value.message


@pytest.mark.parametrize("keys, expected", [
    ([], True),
    (["registry-mirrors"], True),
    (["registry-mirrors", "insecure-registries", "debug", "labels", "features", "builder"], True),
    (["registry-mirrors", "storage-driver"], False),
    (["log-driver"], False),
    (["data-root"], False),
])
def test_reload_sufficient(keys: list, expected: bool) -> None:
    assert dc.reload_sufficient(keys) is expected


@pytest.mark.parametrize("document, expected", [
    ({"registry-mirrors": ["https://m.example"]}, []),
    ({"registry-mirrors": ["http://127.0.0.1:5000", "http://localhost:5000", "http://[::1]:5000"]}, []),
    ({"registry-mirrors": ["http://127.8.9.10"]}, []),
    ({"registry-mirrors": ["http://10.0.0.5:5000"]}, [("http://10.0.0.5:5000", "10.0.0.5:5000")]),
    ({"registry-mirrors": ["http://10.0.0.5:5000"], "insecure-registries": ["10.0.0.5:5000"]}, []),
    ({"registry-mirrors": ["http://10.0.0.5:5000"], "insecure-registries": ["http://10.0.0.5:5000"]}, []),
    ({"registry-mirrors": ["http://10.0.0.5:5000"], "insecure-registries": ["10.0.0.0/8"]}, []),
    ({"registry-mirrors": ["http://10.0.0.5:5000"], "insecure-registries": ["10.0.0.5"]},
     [("http://10.0.0.5:5000", "10.0.0.5:5000")]),
    ({"registry-mirrors": ["http://mirror.lan"], "insecure-registries": ["MIRROR.lan"]}, []),
    ({"registry-mirrors": ["http://mirror.lan"], "insecure-registries": ["10.0.0.0/8", "bad/cidr"]},
     [("http://mirror.lan", "mirror.lan")]),
])
def test_http_mirrors_missing_insecure(document: dict, expected: list) -> None:
    assert dc.http_mirrors_missing_insecure(document) == expected


# --------------------------------------------------------------------------- versions


@pytest.mark.parametrize("text, expected", [
    ("Docker version 20.10.24+dfsg1, build 5d6db84", "20.10.24+dfsg1"),
    ("Docker version 26.1.5+dfsg1, build a72d7cd\n", "26.1.5+dfsg1"),
    ("Docker version 1.13.1, build 092cba3/1.13.1", "1.13.1"),
    ("Docker version 18.09.1-ce, build 4c52b90", "18.09.1-ce"),
    ("27.3.1\n", "27.3.1"),
    ("v25.0", "25.0"),
    ("", None),
    (None, None),
    ("no version here", None),
])
def test_parse_docker_version(text: t.Any, expected: t.Any) -> None:
    assert dc.parse_docker_version(text) == expected


@pytest.mark.parametrize("version, minimum, expected", [
    ("25.0.0", (25, 0), True),
    ("24.0.7", (25, 0), False),
    ("26.1.5+dfsg1", (25, 0), True),
    ("20.10.24+dfsg1", (23, 0), False),
    ("23.0", (23, 0), True),
    (None, (23, 0), False),
    ("garbage", (23, 0), False),
])
def test_version_at_least(version: t.Any, minimum: tuple, expected: bool) -> None:
    assert dc.version_at_least(version, minimum) is expected


# --------------------------------------------------------------------------- docker info

DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
DOCKER_INFO_TABLE = [
    ("answered, mirrors", 0, '{"ServerVersion": "26.1.5+dfsg1", "RegistryConfig": {"Mirrors": ["https://m.example/"]}}',
     "", dc.DockerInfo(True, "26.1.5+dfsg1", ["https://m.example/"], None)),
    ("answered, mirrors null", 0, '{"ServerVersion": "20.10.24+dfsg1", "RegistryConfig": {"Mirrors": null}}', "",
     dc.DockerInfo(True, "20.10.24+dfsg1", [], None)),
    ("answered, no registry config", 0, '{"ServerVersion": "24.0.7"}', "", dc.DockerInfo(True, "24.0.7", [], None)),
    # Docker 23+ CLI with a format: exit 0, empty ServerVersion, error on stderr and in ServerErrors.
    ("down, new cli", 0, '{"ID": "", "ServerVersion": "", "ServerErrors": ["%s"]}' % DOWN, DOWN + "\n",
     dc.DockerInfo(False, None, None, DOWN)),
    # Docker 20.10 CLI: the error only in ServerErrors.
    ("down, old cli", 0, '{"ClientInfo": {}, "ServerErrors": ["%s"]}' % DOWN, "", dc.DockerInfo(False, None, None, DOWN)),
    ("permission denied", 1, "", "\npermission denied while trying to connect\nmore\n",
     dc.DockerInfo(False, None, None, "permission denied while trying to connect")),
    ("exit status only", 125, "", "", dc.DockerInfo(False, None, None, "docker info exited with status 125")),
    ("not json", 0, "Docker info: not json", "", dc.DockerInfo(False, None, None, "docker info reported no server version")),
    ("not an object", 0, "[]", "", dc.DockerInfo(False, None, None, "docker info reported no server version")),
]


@pytest.mark.parametrize("name, rc, stdout, stderr, expected", DOCKER_INFO_TABLE,
                         ids=[row[0] for row in DOCKER_INFO_TABLE])
def test_parse_docker_info(name: str, rc: int, stdout: str, stderr: str, expected: dc.DockerInfo) -> None:
    assert dc.parse_docker_info(rc, stdout, stderr) == expected


# --------------------------------------------------------------------------- flags


@pytest.mark.parametrize("text, expected_lines", [
    ('DOCKER_OPTS="--registry-mirror=https://m.example"\n', [1]),
    ('#DOCKER_OPTS="--registry-mirror=https://m.example"\n', []),
    ('  # DOCKER_OPTS="--registry-mirror https://m.example"\n', []),
    ('DOCKER_OPTS="--dns 8.8.8.8"\nDOCKER_OPTS="$DOCKER_OPTS --registry-mirror https://m"\n', [2]),
    ('DOCKER_OPTS="--dns 8.8.8.8 \\\n  --registry-mirror=https://m"\n', [1]),
    ('OPTIONS="--registry-mirrors-are-not-a-flag"\n', []),
    ("", []),
])
def test_find_flags_in_env_file(text: str, expected_lines: list) -> None:
    hits = dc.find_flags_in_env_file(text, "/etc/default/docker", "--registry-mirror")
    assert [hit.line for hit in hits] == expected_lines
    for hit in hits:
        assert hit.describe().startswith("/etc/default/docker line ")


UNIT = "[Service]\nExecStart=/usr/bin/dockerd -H fd:// --registry-mirror=https://m.example\n"
UNIT_CLEAN = "[Service]\nExecStart=/usr/bin/dockerd -H fd:// $DOCKER_OPTS\n"


@pytest.mark.parametrize("units, expected", [
    ([("unit", UNIT)], [("unit", 2)]),
    ([("unit", UNIT_CLEAN)], []),
    ([("unit", UNIT), ("override.conf", "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd\n")], []),
    ([("unit", UNIT_CLEAN),
      ("mirror.conf", "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd \\\n  --registry-mirror https://m\n")],
     [("mirror.conf", 3)]),
    ([("unit", UNIT_CLEAN), ("env.conf", '[Service]\nEnvironment="DOCKER_OPTS=--registry-mirror=https://m"\n')],
     [("env.conf", 2)]),
    ([("unit", "; ExecStart=/usr/bin/dockerd --registry-mirror=x\n# ExecStart=dockerd --registry-mirror=x\n")], []),
])
def test_find_flags_in_units(units: list, expected: list) -> None:
    hits = dc.find_flags_in_units(units, "--registry-mirror")
    assert [(hit.source, hit.line) for hit in hits] == expected


@pytest.mark.parametrize("args, flag, found", [
    (["/usr/bin/dockerd", "-H", "fd://", "--registry-mirror=https://m"], "--registry-mirror", True),
    (["/usr/bin/dockerd", "--registry-mirror", "https://m"], "--registry-mirror", True),
    (["/usr/bin/dockerd", "--insecure-registry", "10.0.0.5:5000"], "--insecure-registry", True),
    (["/usr/bin/dockerd", "--insecure-registry", "10.0.0.5:5000"], "--registry-mirror", False),
    (["/usr/bin/dockerd"], "--registry-mirror", False),
])
def test_find_flags_in_cmdline(args: list, flag: str, found: bool) -> None:
    hits = dc.find_flags_in_cmdline(args, "running dockerd command line (pid 1)", flag)
    assert bool(hits) is found
    if found:
        assert hits[0].describe().startswith("running dockerd command line (pid 1) (")


@pytest.mark.parametrize("args, expected", [
    (["dockerd", "-H", "fd://", "--config-file", "/etc/docker/daemon.json", "--debug"], ["-H", "fd://", "--debug"]),
    (["dockerd", "--config-file=/x.json", "--containerd=/run/c.sock"], ["--containerd=/run/c.sock"]),
    (["dockerd"], []),
])
def test_strip_config_file_args(args: list, expected: list) -> None:
    assert dc.strip_config_file_args(args) == expected


# --------------------------------------------------------------------------- schema: both validators agree

SCHEMA_TABLE: list[tuple[str, dict, bool]] = [
    ("empty", {}, True),
    ("mirrors", {"registry-mirrors": ["https://m"]}, True),
    ("mirrors not list", {"registry-mirrors": "https://m"}, False),
    ("mirror not string", {"registry-mirrors": [1]}, False),
    ("insecure", {"insecure-registries": ["10.0.0.0/8"]}, True),
    ("insecure bad", {"insecure-registries": [True]}, False),
    ("log", {"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}}, True),
    ("log-opts int", {"log-opts": {"max-file": 3}}, False),
    ("log-driver list", {"log-driver": ["json-file"]}, False),
    ("log-level ok", {"log-level": "warn"}, True),
    ("log-level bad", {"log-level": "loud"}, False),
    ("labels", {"labels": ["a=b", "名前=値"]}, True),
    ("labels object", {"labels": {"a": "b"}}, False),
    ("pools", {"default-address-pools": [{"base": "172.30.0.0/16", "size": 24}]}, True),
    ("pool size str", {"default-address-pools": [{"base": "172.30.0.0/16", "size": "24"}]}, False),
    ("pool no size", {"default-address-pools": [{"base": "172.30.0.0/16"}]}, False),
    ("pool size negative", {"default-address-pools": [{"base": "x", "size": -1}]}, False),
    ("runtimes", {"runtimes": {"nvidia": {"path": "nvidia-container-runtime", "runtimeArgs": []}}}, True),
    ("runtimes args bad", {"runtimes": {"nvidia": {"path": "x", "runtimeArgs": "--debug"}}}, False),
    ("runtime not object", {"runtimes": {"nvidia": "x"}}, False),
    ("storage", {"storage-driver": "overlay2", "storage-opts": ["overlay2.size=10G"]}, True),
    ("storage-opts str", {"storage-opts": "overlay2.size=10G"}, False),
    ("data-root", {"data-root": "/srv/docker"}, True),
    ("live-restore str", {"live-restore": "true"}, False),
    ("live-restore", {"live-restore": True}, True),
    ("debug int", {"debug": 1}, False),
    ("dns", {"dns": ["1.1.1.1"]}, True),
    ("dns str", {"dns": "1.1.1.1"}, False),
    ("exec-opts", {"exec-opts": ["native.cgroupdriver=systemd"]}, True),
    ("downloads", {"max-concurrent-downloads": 10}, True),
    ("downloads bool", {"max-concurrent-downloads": True}, False),
    ("downloads float", {"max-concurrent-downloads": 1.0}, False),
    ("downloads negative", {"max-concurrent-downloads": -1}, False),
    ("download attempts 0", {"max-download-attempts": 0}, False),
    ("features", {"features": {"buildkit": True, "containerd-snapshotter": False}}, True),
    ("features str", {"features": {"buildkit": "true"}}, False),
    ("builder", {"builder": {"gc": {"enabled": True, "defaultKeepStorage": "20GB"}}}, True),
    ("builder list", {"builder": []}, False),
    ("proxies", {"proxies": {"http-proxy": "http://p:3128", "no-proxy": "localhost"}}, True),
    ("unknown key kept", {"x-custom": {"anything": [1, None]}}, True),
    ("top level list", [], False),  # type: ignore[list-item]
    ("cgroupns", {"default-cgroupns-mode": "private"}, True),
    ("cgroupns bad", {"default-cgroupns-mode": "shared"}, False),
]


@pytest.mark.parametrize("name, document, valid", SCHEMA_TABLE, ids=[row[0] for row in SCHEMA_TABLE])
def test_schema_validators_agree(name: str, document: t.Any, valid: bool) -> None:
    builtin = dc.schema_errors(document, use_jsonschema=False)
    library = dc.schema_errors(document, use_jsonschema=True)
    assert (not builtin) is valid, builtin
    assert (not library) is valid, library


def test_validate_document_message_names_key() -> None:
    with pytest.raises(DaemonConfigError) as info:
        dc.validate_document({"log-opts": {"max-file": 3}}, use_jsonschema=False)
    assert '["log-opts"]["max-file"]' in info.value.message
    assert "not a valid daemon.json" in info.value.message


def test_builtin_additional_properties_false() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}
    assert dc.builtin_schema_errors({"a": "x", "b": 1}, schema) == ["(top level): additional property 'b' is not allowed"]
    assert dc.schema_errors({"a": "x", "b": 1}, schema, use_jsonschema=True)
    assert dc.schema_errors({"n": 1.5}, {"properties": {"n": {"type": "number"}}}, use_jsonschema=False) == []
