# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tables of cases for mirror and insecure-registry rules (Go url.Parse + dockerd ValidateMirror)."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _registry as reg
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError


@pytest.mark.parametrize("url, allow_path, expected", [
    ("https://mirror.gcr.io", False, "https://mirror.gcr.io/"),
    ("https://mirror.gcr.io/", False, "https://mirror.gcr.io/"),
    ("http://127.0.0.1:5000", False, "http://127.0.0.1:5000/"),
    ("HTTPS://Mirror.Example.com", False, "HTTPS://Mirror.Example.com/"),
    ("https://[::1]:5000/", False, "https://[::1]:5000/"),
    ("https://m.example/?", False, "https://m.example/?/"),
    ("https://m.example/#", False, "https://m.example/#/"),
    ("https://m.example/v2/cache", True, "https://m.example/v2/cache/"),
    ("https://m.example/a%20b", True, "https://m.example/a%20b/"),
    ("https://bücher.example", False, "https://bücher.example/"),
    ("https://%C3%BC.example", False, "https://%C3%BC.example/"),
    ("https://m.example:", False, "https://m.example:/"),
])
def test_validate_mirror_ok(url: str, allow_path: bool, expected: str) -> None:
    assert reg.validate_mirror(url, allow_path) == expected


MIRROR_ERRORS = [
    ("", False, "must be a non-empty string"),
    (None, False, "must be a non-empty string"),
    ("https://m.example /", False, "whitespace or control characters"),
    ("https://m.example\x7f", False, "whitespace or control characters"),
    ("mirror.gcr.io", False, "no scheme specified"),
    ("mirror.gcr.io:5000", False, "no scheme specified"),
    ("://mirror.gcr.io", False, "no scheme specified"),
    ("https://h.example\\evil", False, 'is not a valid URI (invalid character "\\\\" in host name)'),
    ("https://h%2eexample.com", False, 'is not a valid URI (invalid URL escape "%2e")'),
    ("https://h.example%", False, 'is not a valid URI (invalid URL escape "%")'),
    ("https://m.example/%zz", True, 'is not a valid URI (invalid URL escape "%zz")'),
    ("https://m.example/#%zz", False, "is not a valid URI"),
    ("http://[::1", False, "is not a valid URI (missing ']' in host)"),
    ("https://[::1]x", False, 'is not a valid URI (invalid port "x" after host)'),
    ("https://m.example:80a", False, 'is not a valid URI (invalid port ":80a" after host)'),
    ("https://m{x}.example", False, "invalid character \"{\" in host name"),
    ("https://us^er:pw@m.example", False, "is not a valid URI (invalid userinfo)"),
    ("1https://m.example", False, "is not a valid URI (first path segment in URL cannot contain colon)"),
    ("ftp://m.example", False, 'unsupported scheme "ftp"'),
    ("unix://m.example", False, "unsupported scheme"),
    ("https:m.example://x", False, "no host name"),
    ("https://m.example/?a=1", False, "query or fragment"),
    ("https://m.example/#frag", False, "query or fragment"),
    ("https://user:pw@m.example", False, "username/password not allowed"),
    ("https://user@m.example", False, "username/password not allowed"),
    ("https://", False, "no host name"),
    ("https://:5000", False, "no host name"),
    ("https://m.example:0", False, "invalid port 0"),
    ("https://m.example:99999", False, "invalid port 99999"),
    ("https://m.example/v2/cache", False, "Docker 25.0 or later"),
]


@pytest.mark.parametrize("url, allow_path, fragment", MIRROR_ERRORS, ids=[repr(row[0]) for row in MIRROR_ERRORS])
def test_validate_mirror_errors(url: t.Any, allow_path: bool, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        reg.validate_mirror(url, allow_path)
    assert fragment in info.value.message
    assert info.value.message.startswith("invalid mirror ")


@pytest.mark.parametrize("url", [
    "https://user:s3cr3t@host", "https://user:s3cr3t@host/path?q#f", "https://user:s3cr3t@[::1",
    "http://user:s3cr3t@h.example\\evil", "https://user:s3cr3t@h%2e.com", "ftp://user:s3cr3t@host",
    "https://us^er:s3cr3t@host",
])
def test_mirror_messages_never_show_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        reg.validate_mirror(url)
    assert "s3cr3t" not in info.value.message and "user:" not in info.value.message
    assert "xxxxx@" in info.value.message


@pytest.mark.parametrize("text, expected", [
    ("https://user:s3cr3t@host", "https://xxxxx@host"),
    ("see http://a@b and https://c:d@e/f", "see http://xxxxx@b and https://xxxxx@e/f"),
    ("https://host", "https://host"),
])
def test_mask_url(text: str, expected: str) -> None:
    assert reg.mask_url(text) == expected


@pytest.mark.parametrize("entry, expected", [
    ("u:s3cr3t@reg.example:5000", "xxxxx@reg.example:5000"),
    ("https://u:s3cr3t@reg.example", "https://xxxxx@reg.example"),
    ("reg.example:5000", "reg.example:5000"),
    ("10.0.0.0/8", "10.0.0.0/8"),
])
def test_mask_userinfo(entry: str, expected: str) -> None:
    assert reg.mask_userinfo(entry) == expected


@pytest.mark.parametrize("raw, expected", [
    ("https://u@h:1/p?q#f", reg.GoURL("https", True, "h:1", "/p", "q", "f")),
    ("HTTP://h", reg.GoURL("http", False, "h", "", "", "")),
    ("mailto:x", reg.GoURL("mailto", False, "", "", "", "")),
    ("/just/path", reg.GoURL("", False, "", "/just/path", "", "")),
    ("//h/p", reg.GoURL("", False, "h", "/p", "", "")),
    ("git+ssh://h", reg.GoURL("git+ssh", False, "h", "", "", "")),
])
def test_go_url_parse(raw: str, expected: reg.GoURL) -> None:
    assert reg.go_url_parse(raw) == expected


@pytest.mark.parametrize("raw, reason", [
    (":x", "missing protocol scheme"),
    ("a:b/c", None),
    ("x:y", None),
    ("h:1/p", None),
    ("noscheme:1", None),
    ("a/b:c", None),
    ("b:c/d", None),
    ("ab", None),
    ("a:b:c", None),
    ("1a:b", "first path segment in URL cannot contain colon"),
    ("http://a\x01", "invalid control character in URL"),
])
def test_go_url_parse_edges(raw: str, reason: t.Any) -> None:
    if reason is None:
        reg.go_url_parse(raw)
    else:
        with pytest.raises(ValueError, match=reason):
            reg.go_url_parse(raw)


@pytest.mark.parametrize("mirrors, expected", [
    (None, []),
    ([], []),
    (["https://a", "https://a/", "https://b/"], ["https://a/", "https://b/"]),
])
def test_normalize_mirrors(mirrors: t.Any, expected: list) -> None:
    assert reg.normalize_mirrors(mirrors) == expected


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
    assert reg.validate_insecure_registry(entry) == expected


@pytest.mark.parametrize("entry, fragment", [
    ("", "non-empty string"),
    ("tcp://reg.example", "should not contain '://'"),
    ("10.0.0.0/99", "not a valid CIDR"),
    ("reg.example/path", "not a valid CIDR"),
    ("reg example", "must be host[:port] or a CIDR"),
    ("reg.example:70000", "invalid port 70000"),
    ("-reg.example", "must be host[:port] or a CIDR"),
    ("tcp://u:s3cr3t@reg", "tcp://xxxxx@reg"),
    ("u:s3cr3t@reg.example", '"xxxxx@reg.example"'),
    ("http://u:s3cr3t@reg.example:5000", '"http://xxxxx@reg.example:5000"'),
])
def test_validate_insecure_registry_errors(entry: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        reg.validate_insecure_registry(entry)
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
    assert reg.merge_list(current, wanted, state, exclusive, reg.mirror_key) == expected


@pytest.mark.parametrize("current, wanted, state, expected", [
    (["10.0.0.5:5000"], ["http://10.0.0.5:5000"], "present", ["10.0.0.5:5000"]),
    (["http://10.0.0.5:5000"], ["10.0.0.5:5000"], "absent", []),
])
def test_merge_list_insecure(current: list, wanted: list, state: str, expected: list) -> None:
    assert reg.merge_list(current, wanted, state, False, reg.insecure_key) == expected


@pytest.mark.parametrize("values, expected", [
    ({"registry-mirrors": ["https://m.example"]}, []),
    ({"registry-mirrors": ["http://127.0.0.1:5000", "http://localhost:5000", "http://[::1]:5000"]}, []),
    ({"registry-mirrors": ["http://127.8.9.10", "http://a.localhost"]}, []),
    ({"registry-mirrors": ["http://10.0.0.5:5000"]}, [("http://10.0.0.5:5000", "10.0.0.5:5000")]),
    ({"registry-mirrors": ["http://10.0.0.5:5000"], "insecure-registries": ["10.0.0.5:5000"]}, []),
    ({"registry-mirrors": ["http://10.0.0.5:5000"], "insecure-registries": ["http://10.0.0.5:5000"]}, []),
    ({"registry-mirrors": ["http://10.0.0.5:5000"], "insecure-registries": ["10.0.0.0/8"]}, []),
    ({"registry-mirrors": ["http://10.0.0.5:5000"], "insecure-registries": ["10.0.0.5"]},
     [("http://10.0.0.5:5000", "10.0.0.5:5000")]),
    ({"registry-mirrors": ["http://mirror.lan"], "insecure-registries": ["MIRROR.lan"]}, []),
    ({"registry-mirrors": ["http://mirror.lan"], "insecure-registries": ["10.0.0.0/8", "bad/cidr"]},
     [("http://mirror.lan", "mirror.lan")]),
    ({"registry-mirrors": ["http://[fd00::5]:5000"], "insecure-registries": ["fd00::/8"]}, []),
    ({"registry-mirrors": ["http://10.0.0.5"], "insecure-registries": ["bad/cidr"]}, [("http://10.0.0.5", "10.0.0.5")]),
    ({"registry-mirrors": ["http://h.example\\evil"]}, []),
])
def test_http_mirrors_missing_insecure(values: dict, expected: list) -> None:
    assert reg.http_mirrors_missing_insecure(values) == expected
