# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tables of cases for the shared mirror model (_mirror_spec): names, URLs, PEM, headers, the controller's mapping."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _mirror_spec as spec
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError

CERT = "-----BEGIN CERTIFICATE-----\nTUlJQmZha2VjZXJ0\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nU0VDUkVUS0VZU0VDUkVUS0VZU0VDUkVU\n-----END PRIVATE KEY-----\n"
EC_KEY = "-----BEGIN EC PRIVATE KEY-----\nZWNrZXk=\n-----END EC PRIVATE KEY-----"
TOKEN = "Bearer s3cr3t-token-value"
MIRROR = "https://mirror.example:5443"


@pytest.mark.parametrize("name, allow_default, expected", [
    ("docker.io", False, "docker.io"),
    ("Docker.IO", False, "docker.io"),
    ("index.docker.io", False, "docker.io"),
    ("registry-1.docker.io", False, "docker.io"),
    ("Registry.K8s.io", False, "registry.k8s.io"),
    ("registry.example.com:5000", False, "registry.example.com:5000"),
    ("_default", True, "_default"),
    (" ghcr.io ", False, "ghcr.io"),
])
def test_normalise_registry(name: str, allow_default: bool, expected: str) -> None:
    assert spec.normalise_registry(name, allow_default) == expected


@pytest.mark.parametrize("name, allow_default, message", [
    ("_default", False, "has no default registry entry"),
    ("https://ghcr.io", False, 'invalid registry "https://ghcr.io": must be host[:port]'),
    ("ghcr.io/org", False, "must be host[:port]"),
    ("ghcr.io:99999", True, "or _default"),
    ("", False, "must be host[:port]"),
    (5000, False, "must be a string"),
    (None, False, "must be a string"),
])
def test_normalise_registry_refuses(name: t.Any, allow_default: bool, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as info:
        spec.normalise_registry(name, allow_default)
    assert message in info.value.message


@pytest.mark.parametrize("url, expected", [
    ("https://mirror.example:5443/", "https://mirror.example:5443"),
    ("HTTP://10.0.0.5:5000", "http://10.0.0.5:5000"),
    ("https://m.example/v2/cache/", "https://m.example/v2/cache"),
])
def test_mirror_url(url: str, expected: str) -> None:
    assert spec.mirror_url(url) == expected


@pytest.mark.parametrize("url, message", [
    ("ftp://m.example", "unsupported scheme"),
    ("m.example", "no scheme specified"),
    ("https://user:pw@m.example", "username/password not allowed"),
])
def test_mirror_url_refuses(url: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        spec.mirror_url(url)
    assert message in info.value.message and "pw" not in info.value.message


@pytest.mark.parametrize("text, what", [
    (CERT, "ca"),
    (CERT + CERT, "ca"),
    ("# bundle\n" + CERT.rstrip("\n"), "client_cert"),
    (KEY, "client_key"),
    (EC_KEY, "client_key"),
    (KEY.replace("PRIVATE KEY", "RSA PRIVATE KEY"), "client_key"),
])
def test_check_pem_accepts(text: str, what: str) -> None:
    assert spec.check_pem(text, what, "registry x").endswith("-----\n")


@pytest.mark.parametrize("text, what, message", [
    ("/etc/ssl/ca.pem", "ca", "is not PEM text"),
    ("", "ca", "must be PEM text"),
    (None, "ca", "must be PEM text"),
    (KEY, "ca", "must hold certificates (BEGIN CERTIFICATE), not PRIVATE KEY"),
    (CERT, "client_key", "must be an unencrypted private key"),
    (KEY.replace("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"), "client_key", "not an encrypted key"),
    ("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END RSA PRIVATE KEY-----\n", "client_key",
     "not an encrypted key"),
    ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n", "ca", "closed by END PRIVATE KEY"),
    ("-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n", "ca", "not base64"),
])
def test_check_pem_refuses(text: t.Any, what: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        spec.check_pem(text, what, "registry ghcr.io, mirror \"%s\"" % MIRROR)
    assert message in info.value.message and "registry ghcr.io, mirror" in info.value.message
    assert "U0VDUkVU" not in info.value.message  # a key is never quoted


@pytest.mark.parametrize("headers, expected", [
    (None, ()),
    ({}, ()),
    ({"Authorization": TOKEN}, (("Authorization", (TOKEN,)),)),
    ({"X-A": ["1", "2"], "x-b": "3"}, (("X-A", ("1", "2")), ("x-b", ("3",)))),
])
def test_check_headers(headers: t.Any, expected: t.Any) -> None:
    assert spec.check_headers(headers, "where") == expected


@pytest.mark.parametrize("headers, message", [
    (["Authorization"], "must be a mapping"),
    ({"Bad Name": "v"}, 'invalid header name "Bad Name"'),
    ({"X\r\nInjected": "v"}, "invalid header name (hidden)"),
    ({"": "v"}, "invalid header name"),
    ({"X-A": TOKEN + "\r\nX-Evil: 1"}, "holds a line break or NUL"),
    ({"X-A": [TOKEN, "b\n"]}, "holds a line break or NUL"),
    ({"X-A": []}, "non-empty list of strings"),
    ({"X-A": 5}, "non-empty list of strings"),
])
def test_check_headers_refuses(headers: t.Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        spec.check_headers(headers, "registry ghcr.io")
    assert message in info.value.message and TOKEN not in info.value.message


def test_parse_registries_full_entry() -> None:
    specs = spec.parse_registries([
        {"registry": "Index.Docker.io", "mirrors": [
            {"url": MIRROR + "/", "ca": CERT, "client_cert": CERT, "client_key": KEY, "skip_verify": True,
             "capabilities": ["pull", "pull"], "override_path": True, "headers": {"Authorization": TOKEN}},
            "http://127.0.0.1:5000"]},
        {"registry": "ghcr.io", "mirrors": []},
    ])
    assert [item.registry for item in specs] == ["docker.io", "ghcr.io"]
    first = specs[0].mirrors[0]
    assert first == spec.MirrorSpec(MIRROR, CERT, CERT, KEY, True, ("pull",), True, (("Authorization", (TOKEN,)),))
    assert specs[0].mirrors[1] == spec.MirrorSpec("http://127.0.0.1:5000")
    assert specs[1].mirrors == ()


def test_same_mirror_twice_alike_is_written_once() -> None:
    specs = spec.parse_registries([{"registry": "ghcr.io", "mirrors": [MIRROR, MIRROR + "/"]}])
    assert specs[0].mirrors == (spec.MirrorSpec(MIRROR),)


@pytest.mark.parametrize("registries, message", [
    ({"ghcr.io": []}, "registries must be a list"),
    ([{"mirrors": []}], "each entry needs registry and mirrors"),
    (["ghcr.io"], "each entry needs registry and mirrors"),
    ([{"registry": "ghcr.io", "mirrors": "https://m"}], "registry ghcr.io: mirrors must be a list"),
    ([{"registry": "docker.io", "mirrors": []}, {"registry": "index.docker.io", "mirrors": []}],
     'registry docker.io is given twice ("index.docker.io")'),
    ([{"registry": "ghcr.io", "mirrors": [{"ca": CERT}]}], "registry ghcr.io: a mirror has no url"),
    ([{"registry": "ghcr.io", "mirrors": [5]}], "registry ghcr.io: mirror 5 must be a URL or a mapping"),
    ([{"registry": "ghcr.io", "mirrors": [{"url": MIRROR, "cert": CERT}]}], "unknown key cert"),
    ([{"registry": "ghcr.io", "mirrors": ["ftp://m.example"]}], "registry ghcr.io: invalid mirror"),
    ([{"registry": "ghcr.io", "mirrors": [{"url": MIRROR, "client_cert": CERT}]}],
     'registry ghcr.io, mirror "%s": client_cert and client_key go together' % MIRROR),
    ([{"registry": "ghcr.io", "mirrors": [{"url": MIRROR, "client_key": KEY}]}], "client_cert and client_key go"),
    ([{"registry": "ghcr.io", "mirrors": [{"url": MIRROR, "ca": "ca.pem"}]}],
     'registry ghcr.io, mirror "%s": ca is not PEM text' % MIRROR),
    ([{"registry": "ghcr.io", "mirrors": [{"url": MIRROR, "capabilities": []}]}], "capabilities must be a non-empty"),
    ([{"registry": "ghcr.io", "mirrors": [{"url": MIRROR, "capabilities": ["fetch"]}]}], "capabilities must be"),
    ([{"registry": "ghcr.io", "mirrors": [{"url": MIRROR, "skip_verify": "yes"}]}], "skip_verify must be true or"),
    ([{"registry": "ghcr.io", "mirrors": [{"url": MIRROR, "override_path": 1}]}], "override_path must be true or"),
    ([{"registry": "ghcr.io", "mirrors": [MIRROR, {"url": MIRROR, "skip_verify": True}]}],
     "listed twice with different settings"),
    ([{"registry": "_default", "mirrors": []}], "has no default registry entry"),
])
def test_parse_registries_refuses(registries: t.Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        spec.parse_registries(registries)
    assert message in info.value.message


def test_registries_from_single_is_the_one_entry_case() -> None:
    specs = spec.registries_from_single("docker.io", [MIRROR, "http://10.0.0.5:5000", MIRROR + "/"], ["pull"], True)
    assert specs == [spec.RegistrySpec("docker.io", (
        spec.MirrorSpec(MIRROR, skip_verify=True, capabilities=("pull",)),
        spec.MirrorSpec("http://10.0.0.5:5000", capabilities=("pull",))))]


def test_secrets_lists_keys_and_header_values_only() -> None:
    specs = spec.parse_registries([{"registry": "ghcr.io", "mirrors": [
        {"url": MIRROR, "ca": CERT, "client_cert": CERT, "client_key": KEY, "headers": {"A": TOKEN, "B": ["x", "y"]}}]}])
    found = spec.secrets(specs)
    assert KEY in found and TOKEN in found and "x" in found and "y" in found
    assert "U0VDUkVUS0VZU0VDUkVUS0VZU0VDUkVU" in found  # a key line alone is masked too
    assert CERT not in found and MIRROR not in found


def test_public_mirror_shows_no_secret() -> None:
    mirror = spec.parse_mirror({"url": MIRROR, "client_cert": CERT, "client_key": KEY,
                                "headers": {"Authorization": TOKEN}}, "ghcr.io")
    shown = spec.public_mirror(mirror)
    assert shown == {"url": MIRROR, "capabilities": ["pull", "resolve"], "skip_verify": False, "override_path": False,
                     "ca": False, "client_cert": True, "headers": ["Authorization"]}
    assert TOKEN not in repr(shown) and "U0VDUkVU" not in repr(shown)


def test_canonical_registries() -> None:
    mapping = {"Docker.io": ["https://m1.example", {"url": "https://m2.example", "skip_verify": True}],
               "registry.k8s.io": [], "_default": ["http://127.0.0.1:5000"]}
    assert spec.canonical_registries(mapping) == [
        {"registry": "docker.io", "mirrors": [{"url": "https://m1.example"},
                                              {"url": "https://m2.example", "skip_verify": True}]},
        {"registry": "registry.k8s.io", "mirrors": []},
        {"registry": "_default", "mirrors": [{"url": "http://127.0.0.1:5000"}]},
    ]
    assert spec.canonical_registries(None) == [] and spec.canonical_registries({}) == []


@pytest.mark.parametrize("mapping, message", [
    (["ghcr.io"], "must be a mapping of registry name to a list of mirrors, got a list"),
    ({"ghcr.io": "https://m.example"}, 'docker_mirror_registries["ghcr.io"] must be a list of mirrors'),
    ({"ghcr.io": None}, 'docker_mirror_registries["ghcr.io"] must be a list of mirrors (URL strings or mappings'),
    ({"ghcr.io": ["https://m.example", 5]}, 'docker_mirror_registries["ghcr.io"] entry 2 must be a URL string'),
    ({"ghcr.io": [["https://m.example"]]}, "entry 1 must be a URL string or a mapping with url, got a list"),
    ({"ghcr.io": [{"uri": "https://m.example"}]}, "registry ghcr.io: a mirror has no url"),
    ({"ghcr.io/x": []}, 'invalid registry "ghcr.io/x"'),
    ({"docker.io": [], "registry-1.docker.io": []}, "registry docker.io is given twice"),
    ({"ghcr.io": [{"url": MIRROR, "headers": {"A": "x\ny"}}]}, "header A holds a line break"),
])
def test_canonical_registries_refuses(mapping: t.Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        spec.canonical_registries(mapping)
    assert message in info.value.message


def test_argspec_fragment_marks_secrets_no_log() -> None:
    mirror_options = spec.REGISTRIES_OPTION["options"]["mirrors"]["options"]
    assert {name for name, option in mirror_options.items() if option.get("no_log")} == {"client_key", "headers"}
    assert spec.REGISTRIES_OPTION["options"]["registry"]["required"]
    assert mirror_options["url"]["required"]
