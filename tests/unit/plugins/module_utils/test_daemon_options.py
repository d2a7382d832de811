# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tables of cases for what each dockerd release accepts in daemon.json."""

from __future__ import annotations

import glob
import json
import os
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _daemon_options as opts
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError

REFERENCE_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "dockerd_reference")
CORPUS_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "daemon_json")

# Docker's own "full example" daemon.json (docker/cli docs, dockerd reference) per release, and the
# keys that release refuses although its docs print them (measured: ENVIRONMENT.md).
REFERENCE = [
    ("daemon-20.10.json", "20.10.24+dfsg1", {"containerd-plugin-namespace"}),
    ("daemon-23.0.6.json", "23.0.6", {"containerd-plugin-namespace"}),
    ("daemon-26.1.5.json", "26.1.5+dfsg1", {"oom-score-adjust"}),
    ("daemon-27.5.1.json", "27.5.1", set()),
    ("daemon-28.5.2.json", "28.5.2", set()),
]


def load_json(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


@pytest.mark.parametrize("name, version, refused", REFERENCE, ids=[row[0] for row in REFERENCE])
def test_docs_reference_example(name: str, version: str, refused: set) -> None:
    values = load_json(os.path.join(REFERENCE_DIR, name))
    for key in refused:
        with pytest.raises(ConfigError) as info:
            opts.check_keys({key: values[key]}, version)
        assert json.dumps(key) in info.value.message
    opts.check_keys({k: v for k, v in values.items() if k not in refused}, version)


def test_reference_examples_are_the_docs() -> None:
    assert len(glob.glob(os.path.join(REFERENCE_DIR, "*.json"))) == len(REFERENCE)
    assert len(load_json(os.path.join(REFERENCE_DIR, "daemon-28.5.2.json"))) > 60


@pytest.mark.parametrize("values, version, fragment", [
    ({"live_restore": True}, "20.10.24", '"live_restore" (did you mean "live-restore"?)'),
    ({"Debug": True}, "26.1.5", '"Debug" (did you mean "debug"?)'),
    ({"registry_mirrors": []}, None, 'did you mean "registry-mirrors"'),
    ({"no-such-key": 1}, "20.10.24", 'key not accepted by dockerd 20.10.24: "no-such-key"'),
    ({"": 1}, "26.1.5", 'dockerd 26.1.5: ""'),
    ({"labels": ["env=prod", "novalue"]}, "20.10.24", '"labels": "novalue" is not KEY=VALUE'),
    ({"a": 1, "b": 2}, None, 'keys not accepted by any dockerd release from 20.10 to 28.5: "a", "b"'),
    ({"proxies": {"http-proxy": "http://p:3128"}}, "20.10.24", '"proxies"."http-proxy"'),
    ({"proxies": {"nope": "x"}}, "26.1.5", '"proxies"."nope"'),
    ({"x-team": {"owner": "a"}}, "26.1.5", '"x-team"."owner"'),
    ({"oom-score-adjust": -500}, "26.1.5", '"oom-score-adjust"'),
    ({"graph": "/srv"}, "24.0.7", 'dockerd 24.0.7: "graph"'),
    ({"cluster-store": "x"}, "27.3.1", '"cluster-store"'),
    ({"log-format": "json"}, "24.0.9", '"log-format"'),
    ({"bip6": "fd00::1/64"}, "27.5.1", '"bip6"'),
    ({"validate": True}, "20.10.24", '"validate"'),
    ({"debug": "true"}, "20.10.24", '"debug" must be a boolean for dockerd, found a string: "true"'),
    ({"mtu": 1.0}, None, '"mtu" must be an integer for dockerd, found a number: 1.0'),
    ({"mtu": True}, None, "must be an integer"),
    ({"labels": "a=b"}, None, '"labels" must be a list of strings'),
    ({"labels": ["a", 1]}, None, '"labels" must be a list of strings'),
    ({"log-opts": {"max-file": 3}}, None, '"log-opts" must be an object of strings'),
    ({"features": {"buildkit": "true"}}, None, "an object of booleans"),
    ({"runtimes": []}, None, '"runtimes" must be an object'),
    ({"default-address-pools": {}}, None, '"default-address-pools" must be a list'),
    ({"proxies": {"http-proxy": 3128}}, "26.1.5", '"proxies"."http-proxy" must be a string'),
    ({"labels": ["a=b", None]}, "20.10.24", '"labels" must be a list of strings'),
    ({"max-concurrent-downloads": -1}, "20.10.24", '"max-concurrent-downloads" must be 0 or more for dockerd, found -1'),
    ({"max-download-attempts": 0}, None, '"max-download-attempts" must be 1 or more'),
    ({"data-root": ["x" * 100]}, None, '..."'[:-1]),
])
def test_check_keys_refuses(values: dict, version: t.Any, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        opts.check_keys(values, version)
    assert fragment in info.value.message


@pytest.mark.parametrize("values, version", [
    ({}, None),
    ({"live-restore": True, "debug": None}, "20.10.24"),
    ({"proxies": {"http-proxy": "http://p:3128", "no-proxy": "localhost"}}, "23.0.1"),
    ({"x-team": {}}, "20.10.24"),
    ({"labels": ["env=prod", "empty="]}, "20.10.24"),
    ({"log-opts": {"max-size": "10m"}, "runtimes": {"r": {"path": "x"}}, "features": {"buildkit": True}}, "20.10.24"),
    ({"builder": {"gc": {"enabled": True}}, "default-ulimits": {"nofile": {"Soft": 1, "Hard": 2}}}, "28.5.2"),
    ({"graph": "/srv"}, None),
    ({"graph": "/srv"}, "23.0.18"),
    ({"oom-score-adjust": -500}, "25.0.3"),
    ({"bip6": "fd00::1/64", "host-gateway-ip": "10.0.0.1"}, "28.5.2"),
    ({"bip6": "x"}, "29.0.0"),
    ({"bip6": "x"}, "19.03.15"),
    ({"log-opts": {"a": None}}, "26.1.5"),
    ({"mtu": 1500, "shutdown-timeout": -1}, "26.1.5"),
])
def test_check_keys_accepts(values: dict, version: t.Any) -> None:
    opts.check_keys(values, version)


@pytest.mark.parametrize("text, version, fragment", [
    ("\ufeff{}", "20.10.24+dfsg1", "byte order mark, which dockerd 20.10.24+dfsg1 refuses"),
    ("", "20.10.24", "the file is empty, which dockerd 20.10.24 refuses"),
    (" \r\n", "20.10.24", "the file is empty"),
    ("\ufeff{}", "23.0.0", None),
    ("", "26.1.5", None),
    ("\ufeff{}", None, None),
    ("{}", "20.10.24", None),
])
def test_check_text(text: str, version: t.Any, fragment: t.Any) -> None:
    if fragment is None:
        opts.check_text(text, version)
        return
    with pytest.raises(ConfigError) as info:
        opts.check_text(text, version)
    assert fragment in info.value.message


@pytest.mark.parametrize("name", sorted(os.listdir(CORPUS_DIR)))
def test_corpus_fixtures_use_known_keys(name: str) -> None:
    if not name.endswith(".json") or name.startswith("refused_") or name == "unknown_keys.json":
        return
    with open(os.path.join(CORPUS_DIR, name), encoding="utf-8") as handle:
        text = handle.read()
    values = json.loads(text) if text.strip() else {}
    version = "23.0.1" if "proxies" in values else "20.10.24"
    opts.check_keys(values, version)


@pytest.mark.parametrize("version, release", [
    ("20.10.24+dfsg1", "20.10"),
    ("23.0.6", "23.0"),
    ("24.0.7-0ubuntu4", "24.0"),
    ("25.0.0-rc.1", "25.0"),
    ("26.1.5+dfsg1", "26.0"),
    ("27.3.1", "26.0"),
    ("28.1.1", "28.0"),
    ("28.5.2", "28.2"),
    ("28.6.0", None),
    ("29.0.0", None),
    ("19.03.15", None),
    ("v25.0", None),
    ("garbage", None),
    (None, None),
    ("", None),
])
def test_release_for(version: t.Any, release: t.Any) -> None:
    assert opts.release_for(version) == release


@pytest.mark.parametrize("version, minimum, expected", [
    ("25.0.0", opts.MIRROR_PATH_MIN_VERSION, True),
    ("24.0.7", opts.MIRROR_PATH_MIN_VERSION, False),
    ("26.1.5+dfsg1", "25.0", True),
    ("20.10.24+dfsg1", opts.DOCKERD_VALIDATE_MIN_VERSION, False),
    ("23.0", "23.0", True),
    ("23.0.0-rc.1", "23.0", True),
    ("1.13.1", "23.0", False),
    (None, "23.0", False),
    ("garbage", "23.0", False),
    ("", "23.0", False),
    ("25.x", "25.0", False),
])
def test_version_at_least(version: t.Any, minimum: str, expected: bool) -> None:
    assert opts.version_at_least(version, minimum) is expected


@pytest.mark.parametrize("key, flags", [
    ("hosts", ("-H", "--host")),
    ("registry-mirrors", ("--registry-mirror",)),
    ("insecure-registries", ("--insecure-registry",)),
    ("labels", ("--label",)),
    ("storage-opts", ("--storage-opt",)),
    ("log-opts", ("--log-opt",)),
    ("debug", ("-D", "--debug")),
    ("live-restore", ("--live-restore",)),
    ("runtimes", ()),
    ("builder", ()),
    ("http-proxy", ("--http-proxy",)),
    ("no-such-key", ()),
])
def test_flags_for_key(key: str, flags: tuple) -> None:
    assert opts.flags_for_key(key) == flags


@pytest.mark.parametrize("keys, expected", [
    ([], True),
    (["registry-mirrors"], True),
    (["registry-mirrors", "insecure-registries", "debug", "labels", "features", "builder"], True),
    (["registry-mirrors", "storage-driver"], False),
    (["log-driver"], False),
    (["data-root"], False),
])
def test_reload_sufficient(keys: list, expected: bool) -> None:
    assert opts.reload_sufficient(keys) is expected


def test_tables_are_consistent() -> None:
    assert opts.RELOADABLE_KEYS <= opts.ALL_KEYS
    assert set(opts.KEY_TYPES) - opts.ALL_KEYS <= {"proxies"}
    assert set(opts._FLAGS) <= opts.ALL_KEYS
    assert opts.FLAT_KEYS <= opts.ALL_KEYS


# --- "hosts": the Docker API on TCP only with TLS verification, unless the user accepts the risk ----------------

TCP = "tcp://0.0.0.0:2375"
VERIFIED = {"tlsverify": True, "tlscacert": "/etc/docker/ca.pem"}


@pytest.mark.parametrize("values, flags, allow, refused", [
    ({"hosts": [TCP, "unix:///var/run/docker.sock"]}, set(), False, "would serve the Docker API"),
    ({"hosts": ["0.0.0.0:2375"]}, set(), False, "would serve"),  # no scheme: dockerd listens on TCP
    ({"hosts": [" tcp://:2376 "]}, set(), False, "would serve"),
    ({"hosts": [TCP], "tls": True}, set(), False, "would serve"),  # TLS without client verification
    ({"hosts": [TCP], "tlsverify": True}, set(), False, "would serve"),  # no CA to verify clients against
    ({"hosts": [TCP], "tlscacert": "/ca.pem", "tlsverify": False}, set(), False, "would serve"),
    ({"hosts": [TCP], **VERIFIED}, set(), False, ""),
    ({"hosts": [TCP], "tlscacert": "/ca.pem"}, {"tlsverify"}, False, ""),  # --tlsverify in the unit
    ({"hosts": [TCP]}, {"tlsverify", "tlscacert"}, False, ""),
    ({"hosts": [TCP]}, set(), True, ""),  # the explicit opt-in
    ({"hosts": ["unix:///var/run/docker.sock", "fd://", "unix://", ""]}, set(), False, ""),
    ({"hosts": ["ssh://user@host"]}, set(), False, "is not an address dockerd can listen on"),
    ({"hosts": ["ssh://user@host"]}, set(), True, "is not an address dockerd can listen on"),
    ({"hosts": "tcp://x"}, set(), False, ""),  # not a list: the type check names it
    ({}, set(), False, ""),
])
def test_api_hosts(values: dict, flags: set, allow: bool, refused: str) -> None:
    if not refused:
        opts.check_api_hosts(values, flags, allow)
        return
    with pytest.raises(ConfigError) as info:
        opts.check_api_hosts(values, flags, allow)
    assert refused in info.value.message and '"hosts"' in info.value.message


def test_api_hosts_message_says_why_and_what_to_do() -> None:
    with pytest.raises(ConfigError) as info:
        opts.check_api_hosts({"hosts": [TCP]}, set(), False)
    message = info.value.message
    assert TCP in message and "root" in message and "without authentication" in message
    assert '"tlsverify": true' in message and '"tlscacert"' in message and "allow_unauthenticated_tcp" in message
