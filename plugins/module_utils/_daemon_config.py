# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pure logic for editing Docker's daemon.json.

Everything here works on dicts and strings only (no AnsibleModule, no file or
process I/O), so it can be unit-tested as tables and reused by the
tests/integration/corpus_results.py helper.  Only the standard library is used;
``jsonschema`` is used when importable, else a small built-in validator.
"""

from __future__ import annotations

import ipaddress
import json
import re
import typing as t
from urllib.parse import urlsplit

try:
    import jsonschema  # type: ignore[import-untyped]
    HAS_JSONSCHEMA = True
except ImportError:  # pragma: no cover - depends on the managed host
    jsonschema = None
    HAS_JSONSCHEMA = False

MIRRORS_KEY = "registry-mirrors"
INSECURE_KEY = "insecure-registries"
MANAGED_KEYS = (MIRRORS_KEY, INSECURE_KEY)
FLAG_FOR_KEY = {MIRRORS_KEY: "--registry-mirror", INSECURE_KEY: "--insecure-registry"}
DEFAULT_INDENT = 2

# Docker 25.0 accepts a path in a mirror URL; earlier versions reject it.
MIRROR_PATH_MIN_VERSION = (25, 0)
# `dockerd --validate` exists since Docker 23.0.
DOCKERD_VALIDATE_MIN_VERSION = (23, 0)

# Keys dockerd re-reads on SIGHUP ("Configuration reload behavior" in the
# dockerd reference).  The docs name the option "authorization-plugin"; the
# daemon.json key is "authorization-plugins", so both are listed.
RELOADABLE_KEYS = frozenset((
    "debug", "labels", "live-restore", "max-concurrent-downloads",
    "max-concurrent-uploads", "max-download-attempts", "default-runtime",
    "runtimes", "authorization-plugins", "authorization-plugin",
    "allow-nondistributable-artifacts", "insecure-registries",
    "registry-mirrors", "shutdown-timeout", "features", "builder",
))

LOOPBACK_NAMES = frozenset(("localhost",))


class DaemonConfigError(Exception):
    """A problem with the input or the document, with a user-facing message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------
# Parsing and rendering
# --------------------------------------------------------------------------

def parse_document(text: str) -> dict[str, t.Any]:
    """Parse daemon.json text; empty or whitespace-only text is ``{}`` (as dockerd 23+)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        return {}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DaemonConfigError(
            "cannot parse as JSON (line %d, column %d): %s" % (exc.lineno, exc.colno, exc.msg)
        ) from None
    if not isinstance(document, dict):
        raise DaemonConfigError(
            "the top level must be a JSON object, found %s" % json_type_name(document))
    check_managed_keys(document)
    return document


def check_managed_keys(document: dict[str, t.Any]) -> None:
    """The keys this module edits must be lists of strings before we touch them."""
    for key in MANAGED_KEYS:
        if key not in document:
            continue
        value = document[key]
        if not isinstance(value, list):
            raise DaemonConfigError(
                '"%s" must be a list of strings, found %s' % (key, json_type_name(value)))
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise DaemonConfigError(
                    '"%s" must be a list of strings, item %d is %s: %s'
                    % (key, index, json_type_name(item), json.dumps(item)))


def detect_indent(text: str) -> int | str | None:
    """Indentation of an existing file: a number of spaces, a tab, or None for one-line JSON."""
    if not text.strip():
        return DEFAULT_INDENT
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if not stripped:
            continue
        prefix = line[:len(line) - len(stripped)]
        if prefix.startswith("\t"):
            return "\t"
        if prefix:
            return len(prefix)
    return DEFAULT_INDENT if "\n" in text.strip() else None


def render_document(document: dict[str, t.Any], indent: int | str | None = DEFAULT_INDENT) -> str:
    """JSON text as written to disk: given indentation, UTF-8 kept as is, trailing newline."""
    return json.dumps(document, indent=indent, ensure_ascii=False) + "\n"


def json_type_name(value: t.Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def canonical(value: t.Any) -> str:
    """Type-exact comparison key (1, 1.0 and true differ; object key order does not matter)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


# --------------------------------------------------------------------------
# Mirrors and insecure registries
# --------------------------------------------------------------------------

def mirror_key(url: str) -> str:
    """dockerd's normal form of a mirror: strings.TrimSuffix(val, "/") + "/"."""
    return (url[:-1] if url.endswith("/") else url) + "/"


def validate_mirror(url: str, allow_path: bool = False) -> str:
    """Check a mirror URL the way dockerd's registry.ValidateMirror does; return its normal form.

    ``allow_path`` is True only when the host's Docker is known to be 25.0 or later.
    """
    if not isinstance(url, str) or not url:
        raise DaemonConfigError("invalid mirror %s: must be a non-empty string" % json.dumps(url))
    if re.search(r"[\s\x00-\x1f\x7f]", url):
        raise DaemonConfigError("invalid mirror %r: contains whitespace or control characters" % url)
    scheme, sep, dummy = url.partition("://")
    if not sep or not scheme:
        raise DaemonConfigError(
            "invalid mirror %r: no scheme specified: must start with https:// or http://" % url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DaemonConfigError("invalid mirror %r: not a valid URI (%s)" % (url, exc)) from None
    if parts.scheme not in ("http", "https"):
        raise DaemonConfigError(
            "invalid mirror %r: unsupported scheme %r: must use https:// or http://" % (url, parts.scheme))
    if parts.query or parts.fragment:
        raise DaemonConfigError("invalid mirror %r: query or fragment at end of the URI" % url)
    if "@" in parts.netloc:
        raise DaemonConfigError("invalid mirror %r: username/password not allowed in the URI" % url)
    if not parts.hostname:
        raise DaemonConfigError("invalid mirror %r: no host name" % url)
    if port is not None and port == 0:
        raise DaemonConfigError("invalid mirror %r: invalid port 0" % url)
    if parts.path not in ("", "/") and not allow_path:
        raise DaemonConfigError(
            "invalid mirror %r: a path at end of the URI is accepted only by Docker 25.0 or later "
            "(Docker on this host is older or its version is unknown)" % url)
    return mirror_key(url)


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
        raise DaemonConfigError("invalid insecure registry %s: must be a non-empty string" % json.dumps(entry))
    value = insecure_key(entry)
    if "://" in value:
        raise DaemonConfigError("invalid insecure registry %r: should not contain '://'" % entry)
    if "/" in value:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise DaemonConfigError("invalid insecure registry %r: not a valid CIDR" % entry) from None
        return value
    host, port = value, None
    if _HOST_PORT_RE.match(value) is None:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise DaemonConfigError(
                "invalid insecure registry %r: must be host[:port] or a CIDR" % entry) from None
        return value
    if ":" in value and not value.endswith("]"):
        host, port = value.rsplit(":", 1)
    if port is not None and int(port) > 65535:
        raise DaemonConfigError("invalid insecure registry %r: invalid port %s" % (entry, port))
    if host.startswith("-") or host.endswith("-"):
        raise DaemonConfigError("invalid insecure registry %r: cannot begin or end with a hyphen" % entry)
    return value


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
    existing = {}
    for item in current:
        existing.setdefault(key(item), item)
    if exclusive:
        result = []
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


class ApplyResult(t.NamedTuple):
    document: dict[str, t.Any]
    changed_keys: list[str]
    cleared_keys: list[str]


def apply_changes(document: dict[str, t.Any], mirrors: list[str] | None = None,
                  insecure: list[str] | None = None, settings: dict[str, t.Any] | None = None,
                  state: str = "present", exclusive: bool = False) -> ApplyResult:
    """Apply the wanted changes to a copy of ``document``; key order is kept, new keys go last.

    A managed list that becomes empty stays in the document as ``[]``: dockerd keeps the
    old entries on reload when the key is deleted, but applies an empty list.
    A ``settings`` value of None removes that key.
    """
    check_settings(settings)
    result = dict(document)
    cleared = []
    for key_name, wanted, key_fn in ((MIRRORS_KEY, mirrors, mirror_key), (INSECURE_KEY, insecure, insecure_key)):
        if wanted is None:
            continue
        current = document.get(key_name, [])
        new_list = merge_list(current, wanted, state, exclusive, key_fn)
        if key_name in document or new_list:
            result[key_name] = new_list
        if current and not new_list:
            cleared.append(key_name)
    for name, value in (settings or {}).items():
        if value is None:
            result.pop(name, None)
        elif name not in result or canonical(result[name]) != canonical(value):
            result[name] = value
    return ApplyResult(result, changed_keys(document, result), cleared)


def check_settings(settings: dict[str, t.Any] | None) -> None:
    for key_name in MANAGED_KEYS:
        if settings and key_name in settings:
            option = key_name.replace("-", "_")
            raise DaemonConfigError(
                '"%s" cannot be set through settings: use the %s option, which compares entries '
                "the way dockerd does and never duplicates them" % (key_name, option))


def changed_keys(before: dict[str, t.Any], after: dict[str, t.Any]) -> list[str]:
    """Top-level keys added, removed or whose value changed (type-exact), in document order."""
    names = list(before) + [name for name in after if name not in before]
    return [name for name in names
            if (name in before) != (name in after)
            or (name in before and canonical(before[name]) != canonical(after[name]))]


def reload_sufficient(keys: t.Iterable[str]) -> bool:
    """True when dockerd picks up every changed key on SIGHUP (no restart needed)."""
    return all(name in RELOADABLE_KEYS for name in keys)


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def http_mirrors_missing_insecure(document: dict[str, t.Any]) -> list[tuple[str, str]]:
    """(mirror, host[:port] to add) for each plain-http, non-loopback mirror not in insecure-registries."""
    insecure = [insecure_key(item) for item in document.get(INSECURE_KEY, [])]
    missing = []
    for mirror in document.get(MIRRORS_KEY, []):
        parts = urlsplit(mirror)
        if parts.scheme != "http" or not parts.hostname or is_loopback_host(parts.hostname):
            continue
        if not _insecure_covers(insecure, parts.netloc, parts.hostname):
            missing.append((mirror, parts.netloc))
    return missing


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


# --------------------------------------------------------------------------
# Docker version strings
# --------------------------------------------------------------------------

_VERSION_RE = re.compile(r"(?:^|[\s,v])(\d+)\.(\d+)(?:\.(\d+))?([0-9A-Za-z.+~-]*)")


def parse_docker_version(text: str | None) -> str | None:
    """Version token from ``dockerd --version`` / ``docker version`` output, e.g. ``20.10.24+dfsg1``."""
    if not text:
        return None
    match = _VERSION_RE.search(text.strip())
    if match is None:
        return None
    return match.group(0).strip(" ,v")


def version_tuple(version: str | None) -> tuple[int, ...] | None:
    if not version:
        return None
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", version)
    if match is None:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def version_at_least(version: str | None, minimum: tuple[int, ...]) -> bool:
    """False when the version is unknown (be conservative)."""
    parsed = version_tuple(version)
    return parsed is not None and parsed >= minimum


class DockerInfo(t.NamedTuple):
    """What ``docker info --format '{{json .}}'`` told about the running daemon."""
    answered: bool
    version: str | None
    mirrors: list[str] | None
    error: str | None


def _first_line(text: str | None) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def parse_docker_info(rc: int, stdout: str, stderr: str) -> DockerInfo:
    """Interpret ``docker info --format '{{json .}}'``.

    With a format the CLI exits 0 even when dockerd is down: it prints the client part with an
    empty ``ServerVersion`` and the error in ``ServerErrors`` (and on stderr), so the exit status
    alone does not say whether dockerd answered.
    """
    try:
        info = json.loads(stdout) if stdout and stdout.strip() else None
    except ValueError:
        info = None
    info = info if isinstance(info, dict) else {}
    server_errors = [str(error) for error in info.get("ServerErrors") or []]
    version = info.get("ServerVersion")
    if rc != 0 or server_errors or not isinstance(version, str) or not version.strip():
        reason = (_first_line(stderr) or _first_line(server_errors[0] if server_errors else "")
                  or ("docker info exited with status %d" % rc if rc else "docker info reported no server version"))
        return DockerInfo(False, None, None, reason)
    registry_config = info.get("RegistryConfig")
    mirrors = registry_config.get("Mirrors") if isinstance(registry_config, dict) else None
    mirrors = mirrors if isinstance(mirrors, list) else []
    return DockerInfo(True, version.strip(), [str(mirror) for mirror in mirrors], None)


# --------------------------------------------------------------------------
# Flags given to dockerd outside daemon.json
# --------------------------------------------------------------------------

class FlagHit(t.NamedTuple):
    source: str
    line: int | None
    text: str
    flag: str

    def describe(self) -> str:
        where = self.source if self.line is None else "%s line %d" % (self.source, self.line)
        return "%s (%s)" % (where, self.text.strip())


def _flag_pattern(flag: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])%s(?=[=\s\"']|$)" % re.escape(flag))


def logical_lines(text: str, comment_chars: str = "#") -> list[tuple[int, str]]:
    """(first line number, text) of each non-comment line, with backslash continuations joined."""
    result: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not pending:
            if not line.strip() or line.lstrip()[:1] in comment_chars:
                continue
            start = number
        if line.rstrip().endswith("\\"):
            pending.append(line.rstrip()[:-1])
            continue
        pending.append(line)
        result.append((start, " ".join(part.strip() for part in pending)))
        pending = []
    if pending:
        result.append((start, " ".join(part.strip() for part in pending)))
    return result


def find_flags_in_env_file(text: str, source: str, flag: str) -> list[FlagHit]:
    """Flag in a shell-style environment file (/etc/default/docker, /etc/sysconfig/docker)."""
    pattern = _flag_pattern(flag)
    return [FlagHit(source, number, line, flag)
            for number, line in logical_lines(text) if pattern.search(line)]


def find_flags_in_units(units: list[tuple[str, str]], flag: str) -> list[FlagHit]:
    """Flag in the effective ExecStart= and Environment= lines of a unit and its drop-ins.

    ``units`` is the main unit first, then drop-ins in the order systemd applies them;
    an empty ``ExecStart=`` resets the command lines seen so far, as in systemd.
    """
    pattern = _flag_pattern(flag)
    exec_hits: list[FlagHit] = []
    env_hits: list[FlagHit] = []
    for source, text in units:
        for number, line in logical_lines(text, "#;"):
            name, dummy, value = line.partition("=")
            name = name.strip()
            if name == "ExecStart" and not value.strip():
                exec_hits = []
            elif name in ("ExecStart", "Environment") and pattern.search(value):
                target = exec_hits if name == "ExecStart" else env_hits
                target.append(FlagHit(source, number, line, flag))
    return exec_hits + env_hits


def find_flags_in_cmdline(args: list[str], source: str, flag: str) -> list[FlagHit]:
    """Flag in a process's argument vector (from /proc/<pid>/cmdline)."""
    hits = []
    for arg in args:
        if arg == flag or arg.startswith(flag + "="):
            hits.append(FlagHit(source, None, " ".join(args), flag))
            break
    return hits


def strip_config_file_args(args: list[str]) -> list[str]:
    """dockerd's flags minus the program name and its own --config-file."""
    result = []
    skip = False
    for arg in args[1:]:
        if skip:
            skip = False
            continue
        if arg == "--config-file":
            skip = True
            continue
        if arg.startswith("--config-file="):
            continue
        result.append(arg)
    return result


# --------------------------------------------------------------------------
# JSON schema for the document, and a stdlib validator for its subset
# --------------------------------------------------------------------------

_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
_STR_LIST = {"type": "array", "items": _STR}
_STR_MAP = {"type": "object", "additionalProperties": _STR}

DAEMON_JSON_SCHEMA: dict[str, t.Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "properties": {
        MIRRORS_KEY: _STR_LIST,
        INSECURE_KEY: _STR_LIST,
        "allow-nondistributable-artifacts": _STR_LIST,
        "authorization-plugins": _STR_LIST,
        "labels": _STR_LIST,
        "dns": _STR_LIST,
        "dns-opts": _STR_LIST,
        "dns-search": _STR_LIST,
        "exec-opts": _STR_LIST,
        "storage-opts": _STR_LIST,
        "hosts": _STR_LIST,
        "log-driver": _STR,
        "log-level": {
            "type": "string",
            "enum": ["trace", "debug", "info", "warn", "warning", "error", "fatal", "panic"],
        },
        "log-opts": _STR_MAP,
        "storage-driver": _STR,
        "data-root": _STR,
        "exec-root": _STR,
        "pidfile": _STR,
        "default-runtime": _STR,
        "cgroup-parent": _STR,
        "userns-remap": _STR,
        "bip": _STR,
        "fixed-cidr": _STR,
        "group": _STR,
        "metrics-addr": _STR,
        "default-shm-size": _STR,
        "seccomp-profile": _STR,
        "containerd": _STR,
        "default-cgroupns-mode": {"type": "string", "enum": ["host", "private"]},
        "default-ipc-mode": {"type": "string", "enum": ["host", "private", "shareable"]},
        "live-restore": _BOOL,
        "debug": _BOOL,
        "experimental": _BOOL,
        "ipv6": _BOOL,
        "iptables": _BOOL,
        "ip6tables": _BOOL,
        "ip-forward": _BOOL,
        "ip-masq": _BOOL,
        "icc": _BOOL,
        "userland-proxy": _BOOL,
        "init": _BOOL,
        "no-new-privileges": _BOOL,
        "selinux-enabled": _BOOL,
        "raw-logs": _BOOL,
        "tls": _BOOL,
        "tlsverify": _BOOL,
        "max-concurrent-downloads": {"type": "integer", "minimum": 0},
        "max-concurrent-uploads": {"type": "integer", "minimum": 0},
        "max-download-attempts": {"type": "integer", "minimum": 1},
        "shutdown-timeout": {"type": "integer"},
        "mtu": {"type": "integer", "minimum": 0},
        "oom-score-adjust": {"type": "integer"},
        "default-address-pools": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["base", "size"],
                "properties": {"base": _STR, "size": {"type": "integer", "minimum": 0}},
            },
        },
        "runtimes": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "path": _STR,
                    "runtimeArgs": _STR_LIST,
                    "runtimeType": _STR,
                    "options": {"type": "object"},
                },
            },
        },
        "default-ulimits": {"type": "object", "additionalProperties": {"type": "object"}},
        "features": {"type": "object", "additionalProperties": _BOOL},
        "builder": {"type": "object"},
        "proxies": {
            "type": "object",
            "properties": {"http-proxy": _STR, "https-proxy": _STR, "no-proxy": _STR},
        },
    },
}

_TYPE_CHECKS: dict[str, t.Callable[[t.Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    # Draft 4 semantics, as jsonschema.Draft4Validator: 1.0 is not an integer (nor is dockerd's).
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


def _format_path(path: t.Sequence[t.Any]) -> str:
    return "".join("[%d]" % part if isinstance(part, int) else "[%s]" % json.dumps(part, ensure_ascii=False)
                   for part in path) or "(top level)"


def builtin_schema_errors(value: t.Any, schema: dict[str, t.Any], path: tuple = ()) -> list[str]:
    """Errors for the subset of JSON Schema used above (type, enum, minimum, required,
    properties, additionalProperties, items)."""
    expected = schema.get("type")
    if expected is not None and not _TYPE_CHECKS[expected](value):
        return ["%s: %s is not of type %r" % (_format_path(path), json.dumps(value, ensure_ascii=False),
                                              expected)]
    errors = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append("%s: %s is not one of %r" % (_format_path(path), json.dumps(value), schema["enum"]))
    if "minimum" in schema and _TYPE_CHECKS["number"](value) and value < schema["minimum"]:
        errors.append("%s: %s is less than the minimum of %s" % (_format_path(path), value, schema["minimum"]))
    if isinstance(value, dict):
        errors.extend(_object_errors(value, schema, path))
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            errors.extend(builtin_schema_errors(item, schema["items"], path + (index,)))
    return errors


def _object_errors(value: dict[str, t.Any], schema: dict[str, t.Any], path: tuple) -> list[str]:
    errors = ["%s: %r is a required property" % (_format_path(path), name)
              for name in schema.get("required", []) if name not in value]
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            errors.extend(builtin_schema_errors(item, properties[name], path + (name,)))
        elif extra is False:
            errors.append("%s: additional property %r is not allowed" % (_format_path(path), name))
        elif isinstance(extra, dict):
            errors.extend(builtin_schema_errors(item, extra, path + (name,)))
    return errors


def jsonschema_errors(document: t.Any, schema: dict[str, t.Any]) -> list[str]:
    validator = jsonschema.Draft4Validator(schema)
    return ["%s: %s" % (_format_path(error.absolute_path), error.message)
            for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))]


def schema_errors(document: t.Any, schema: dict[str, t.Any] | None = None,
                  use_jsonschema: bool | None = None) -> list[str]:
    """Schema errors of ``document``: with jsonschema when importable (or asked), else built in."""
    schema = DAEMON_JSON_SCHEMA if schema is None else schema
    if use_jsonschema is None:
        use_jsonschema = HAS_JSONSCHEMA
    if use_jsonschema:
        return jsonschema_errors(document, schema)
    return builtin_schema_errors(document, schema)


def validate_document(document: dict[str, t.Any], use_jsonschema: bool | None = None) -> None:
    errors = schema_errors(document, use_jsonschema=use_jsonschema)
    if errors:
        raise DaemonConfigError("the resulting document is not a valid daemon.json: " + "; ".join(errors))
