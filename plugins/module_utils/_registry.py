# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Registry mirrors and insecure registries, checked and compared the way dockerd does.

Pure functions on strings and lists (no I/O).  Every message masks the userinfo of URLs
(``https://xxxxx@host``), so a password typed into a mirror never reaches a log.
"""

from __future__ import annotations

import ipaddress
import json
import re
import typing as t

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._document import mask_userinfo
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError, mask_url

__all__ = [
    "MIRRORS_KEY", "INSECURE_KEY", "MANAGED_KEYS", "mask_url", "mask_userinfo", "mirror_key", "validate_mirror",
    "insecure_key", "validate_insecure_registry", "merge_list", "normalize_mirrors",
    "http_mirrors_missing_insecure", "is_loopback_host", "hostname_of",
]

MIRRORS_KEY = "registry-mirrors"
INSECURE_KEY = "insecure-registries"
MANAGED_KEYS = (MIRRORS_KEY, INSECURE_KEY)

LOOPBACK_NAMES = frozenset(("localhost",))


# --------------------------------------------------------------------------
# Go's net/url.Parse, as far as dockerd's ValidateMirror depends on it
# --------------------------------------------------------------------------

class GoURL(t.NamedTuple):
    scheme: str
    has_userinfo: bool
    host: str
    path: str
    raw_query: str
    fragment: str


_HEX = "0123456789abcdefABCDEF"
# Characters Go keeps unescaped in a host (shouldEscape(c, encodeHost) is false), besides alphanumerics.
_HOST_SAFE = set("!$&'()*+,;=:[]<>\"-_.~")
_USERINFO_SAFE = set("-._:~!$&'()*+,;=%@")


def go_url_parse(raw: str) -> GoURL:
    """Split ``raw`` like Go's ``url.Parse``; ValueError carries Go's reason (without the URL)."""
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in raw):
        raise ValueError("invalid control character in URL")
    rest, hash_sign, fragment = raw.partition("#")
    scheme, rest = _go_scheme(rest)
    if rest.endswith("?") and rest.count("?") == 1:
        rest, raw_query = rest[:-1], ""
    else:
        rest, dummy, raw_query = rest.partition("?")
    if not rest.startswith("/"):
        if scheme:
            return GoURL(scheme, False, "", "", raw_query, _go_unescape(fragment, "fragment"))
        if ":" in rest.partition("/")[0]:
            raise ValueError("first path segment in URL cannot contain colon")
    has_userinfo, host = False, ""
    if rest.startswith("//") and (scheme or not rest.startswith("///")):
        authority, slash, path = rest[2:].partition("/")
        rest = slash + path
        has_userinfo, host = _go_authority(authority)
    return GoURL(scheme, has_userinfo, host, _go_unescape(rest, "path"), raw_query,
                 _go_unescape(fragment, "fragment"))


def _go_scheme(raw: str) -> tuple[str, str]:
    for index, char in enumerate(raw):
        if char.isascii() and char.isalpha():
            continue
        if char.isascii() and (char.isdigit() or char in "+-."):
            if index == 0:
                return "", raw
            continue
        if char == ":":
            if index == 0:
                raise ValueError("missing protocol scheme")
            return raw[:index].lower(), raw[index + 1:]
        return "", raw
    return "", raw


def _go_authority(authority: str) -> tuple[bool, str]:
    userinfo, at_sign, host = authority.rpartition("@")
    host = _go_host(host)
    if not at_sign:
        return False, host
    if any(not (char.isascii() and char.isalnum()) and char not in _USERINFO_SAFE for char in userinfo):
        raise ValueError("invalid userinfo")
    _go_unescape(userinfo, "userinfo")
    return True, host


def _valid_optional_port(port: str) -> bool:
    return port == "" or (port[0] == ":" and all("0" <= char <= "9" for char in port[1:]))


def _go_host(host: str) -> str:
    if host.startswith("["):
        close = host.rfind("]")
        if close < 0:
            raise ValueError("missing ']' in host")
        if not _valid_optional_port(host[close + 1:]):
            raise ValueError("invalid port %s after host" % json.dumps(host[close + 1:]))
    elif ":" in host:
        colon_port = host[host.rfind(":"):]
        if not _valid_optional_port(colon_port):
            raise ValueError("invalid port %s after host" % json.dumps(colon_port))
    return _go_unescape(host, "host")


def _go_unescape(text: str, mode: str) -> str:
    """Go's url.unescape error checks; returns ``text`` (callers only need the verdict)."""
    index = 0
    while index < len(text):
        char = text[index]
        if char == "%":
            escape = text[index:index + 3]
            if len(escape) < 3 or escape[1] not in _HEX or escape[2] not in _HEX:
                raise ValueError("invalid URL escape %s" % json.dumps(escape))
            # Go allows a percent-encoded host only for non-ASCII bytes (and %25).
            if mode == "host" and int(escape[1], 16) < 8 and escape != "%25":
                raise ValueError("invalid URL escape %s" % json.dumps(escape))
            index += 3
            continue
        if (mode == "host" and char.isascii() and not char.isalnum() and char not in _HOST_SAFE):
            raise ValueError("invalid character %s in host name" % json.dumps(char))
        index += 1
    return text


# --------------------------------------------------------------------------
# Mirrors
# --------------------------------------------------------------------------

def _quote(url: t.Any) -> str:
    return json.dumps(mask_userinfo(url) if isinstance(url, str) else url, ensure_ascii=False)


def mirror_key(url: str) -> str:
    """dockerd's normal form of a mirror: strings.TrimSuffix(val, "/") + "/"."""
    return (url[:-1] if url.endswith("/") else url) + "/"


def normalize_mirrors(mirrors: t.Iterable[str] | None) -> list[str]:
    """Each mirror in dockerd's normal form, order kept, duplicates dropped."""
    result: list[str] = []
    for mirror in mirrors or []:
        key = mirror_key(mirror)
        if key not in result:
            result.append(key)
    return result


def validate_mirror(url: str, allow_path: bool = False) -> str:
    """Check a mirror URL as dockerd's registry.ValidateMirror does (Go url.Parse); return its normal form.

    ``allow_path`` is True only when the host's Docker is known to be 25.0 or later.  Stricter than
    dockerd where dockerd would accept a mirror that can never work: whitespace, no host, port 0 or
    above 65535.
    """
    if not isinstance(url, str) or not url:
        raise ConfigError("invalid mirror %s: must be a non-empty string" % _quote(url))
    if re.search(r"[\s\x00-\x1f\x7f]", url):
        raise ConfigError("invalid mirror %s: contains whitespace or control characters" % _quote(url))
    scheme, sep, dummy = url.partition("://")
    if not sep or not scheme:
        raise ConfigError(
            "invalid mirror %s: no scheme specified: must start with https:// or http://" % _quote(url))
    try:
        parts = go_url_parse(url)
    except ValueError as exc:
        raise ConfigError("invalid mirror %s: is not a valid URI (%s)" % (_quote(url), exc)) from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError("invalid mirror %s: unsupported scheme %s: must use https:// or http://"
                          % (_quote(url), json.dumps(parts.scheme)))
    if parts.raw_query or parts.fragment:
        raise ConfigError("invalid mirror %s: query or fragment at end of the URI" % _quote(url))
    if parts.has_userinfo:
        raise ConfigError("invalid mirror %s: username/password not allowed in the URI" % _quote(url))
    _check_mirror_host(url, parts.host)
    if parts.path not in ("", "/") and not allow_path:
        raise ConfigError(
            "invalid mirror %s: a path at end of the URI is accepted only by Docker 25.0 or later "
            "(Docker on this host is older or its version is unknown)" % _quote(url))
    return mirror_key(url)


def _check_mirror_host(url: str, host: str) -> None:
    name, dummy, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    if not host.startswith("[") and ":" not in host:
        name, port = host, ""
    if not name:
        raise ConfigError("invalid mirror %s: no host name" % _quote(url))
    if port and not 0 < int(port) <= 65535:
        raise ConfigError("invalid mirror %s: invalid port %s" % (_quote(url), port))


# --------------------------------------------------------------------------
# Insecure registries
# --------------------------------------------------------------------------

def insecure_key(entry: str) -> str:
    """dockerd strips an http:// or https:// prefix from insecure registries."""
    lowered = entry.lower()
    for prefix in ("http://", "https://"):
        if lowered.startswith(prefix):
            return entry[len(prefix):]
    return entry


_HOST_PORT_RE = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


def validate_insecure_registry(entry: str) -> str:
    """Check an insecure-registries entry like dockerd (CIDR or host[:port]); return its normal form."""
    if not isinstance(entry, str) or not entry:
        raise ConfigError("invalid insecure registry %s: must be a non-empty string" % _quote(entry))
    value = insecure_key(entry)
    if "://" in value:
        raise ConfigError("invalid insecure registry %s: should not contain '://'" % _quote(entry))
    if "/" in value:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ConfigError("invalid insecure registry %s: not a valid CIDR" % _quote(entry)) from None
        return value
    if _HOST_PORT_RE.match(value) is None:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ConfigError(
                "invalid insecure registry %s: must be host[:port] or a CIDR" % _quote(entry)) from None
        return value
    port = value.rsplit(":", 1)[1] if ":" in value and not value.endswith("]") else None
    if port is not None and int(port) > 65535:
        raise ConfigError("invalid insecure registry %s: invalid port %s" % (_quote(entry), port))
    return value


# --------------------------------------------------------------------------
# Lists
# --------------------------------------------------------------------------

def merge_list(current: list[str], wanted: list[str] | None, state: str, exclusive: bool,
               key: t.Callable[[str], str]) -> list[str]:
    """Result of applying ``wanted`` to ``current`` (``key`` gives the comparison form).

    present: add missing entries after the existing ones, in the given order;
    present+exclusive: exactly ``wanted`` (existing spellings kept for equal entries);
    absent: remove the given entries; absent+exclusive: remove every entry.
    """
    if wanted is None:
        return list(current)
    if state == "absent":
        if exclusive:
            return []
        unwanted = {key(item) for item in wanted}
        return [item for item in current if key(item) not in unwanted]
    existing: dict[str, str] = {}
    for item in current:
        existing.setdefault(key(item), item)
    if exclusive:
        result: list[str] = []
        for item in wanted:
            if all(key(item) != key(done) for done in result):
                result.append(existing.get(key(item), item))
        return result
    result = list(current)
    seen = set(existing)
    for item in wanted:
        if key(item) not in seen:
            seen.add(key(item))
            result.append(item)
    return result


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def http_mirrors_missing_insecure(values: dict[str, t.Any]) -> list[tuple[str, str]]:
    """(mirror, host[:port] to add) for each plain-http, non-loopback mirror not in insecure-registries.

    dockerd talks plain HTTP to such a mirror only when its host is an insecure registry.
    """
    insecure = [insecure_key(item) for item in values.get(INSECURE_KEY, [])]
    missing = []
    for mirror in values.get(MIRRORS_KEY, []):
        try:
            parts = go_url_parse(mirror)
        except ValueError:
            continue
        hostname = hostname_of(parts.host)
        if parts.scheme != "http" or not hostname or is_loopback_host(hostname):
            continue
        if not _insecure_covers(insecure, parts.host, hostname):
            missing.append((mirror, parts.host))
    return missing


def hostname_of(host: str) -> str:
    """The host name of ``host[:port]`` (brackets of an IPv6 address dropped)."""
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host[1:]
    return host.rpartition(":")[0] if ":" in host else host


def _insecure_covers(insecure: list[str], netloc: str, hostname: str) -> bool:
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        address = None
    for entry in insecure:
        if entry.lower() == netloc.lower():
            return True
        if address is not None and "/" in entry:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False
