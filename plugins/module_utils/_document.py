# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The daemon.json text: parse it strictly, plan a change, render it format-preserving, redact it.

Pure functions on strings and dicts (no I/O), standard library only.  ``render`` changes only the
bytes of the top-level members whose value changes; every other byte of the file (line ends,
layout, number tokens, escapes, key order, a UTF-8 BOM) is kept.
"""

from __future__ import annotations

import json
import math
import re
import typing as t

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import REDACTED, ConfigError, mask_url

__all__ = [
    "Document", "Plan", "parse", "plan", "render", "redact", "redact_values",
    "redact_arguments", "mask_userinfo", "canonical", "changed_keys", "json_type_name",
    "MIRRORS_KEY", "INSECURE_KEY",
    "MANAGED_KEYS", "MAX_DEPTH",
]

MIRRORS_KEY = "registry-mirrors"
INSECURE_KEY = "insecure-registries"
MANAGED_KEYS = (MIRRORS_KEY, INSECURE_KEY)
# Go's decoder allows 10000 levels; 100 is far beyond any real daemon.json and keeps every
# recursive step here (json, the checks below) far from Python's recursion limit.
MAX_DEPTH = 100
DEFAULT_INDENT = "  "
BOM = "\ufeff"
# Members of "proxies": their values may carry credentials (redacted wherever they appear).
SECRET_KEYS = frozenset(("http-proxy", "https-proxy", "no-proxy"))

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# Strings (skipped whole, so brackets inside them do not count) and brackets.  An unterminated
# string matches no token: json reports it with its position.
_STRUCTURE_RE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)
_COLON_RE = re.compile(r"[ \t\n\r]*:")


def mask_userinfo(entry: str) -> str:
    """``entry`` with URL userinfo masked, and also a ``user:password@`` before a host without a scheme
    (an insecure-registries entry, or a mirror missing its scheme)."""
    masked = mask_url(entry)
    if "://" in masked:
        return masked
    authority, slash, rest = masked.partition("/")
    dummy, at_sign, host = authority.rpartition("@")
    return REDACTED + "@" + host + slash + rest if at_sign else masked


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

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


def key_path(path: t.Sequence[t.Any]) -> str:
    """``"log-opts"."max-size"[0]`` style path for messages."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += "[%d]" % part
        else:
            text += ("." if text else "") + json.dumps(part, ensure_ascii=False)
    return text or "(top level)"


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return "line %d, column %d" % (line, column)


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------

class Member(t.NamedTuple):
    """A top-level member: offsets into ``Document.body``."""
    key: str
    key_start: int
    key_end: int
    value_start: int
    value_end: int


class Document:
    """A parsed daemon.json: its text, its top-level values and where each member sits."""

    def __init__(self, text: str, values: dict[str, t.Any], members: list[Member],
                 open_brace: int, close_brace: int) -> None:
        self.text = text
        self.bom = BOM if text.startswith(BOM) else ""
        self.body = text[len(self.bom):]
        self.values = values
        self.members = members
        self.open_brace = open_brace
        self.close_brace = close_brace

    @property
    def empty(self) -> bool:
        """True for an empty or whitespace-only text (dockerd 23+ reads it as ``{}``)."""
        return not self.body.strip(_WHITESPACE)

    @property
    def newline(self) -> str:
        first = self.body.find("\n")
        return "\r\n" if first > 0 and self.body[first - 1] == "\r" else "\n"

    @property
    def one_line(self) -> bool:
        return "\n" not in self.body[self.open_brace:self.close_brace]


class _Bad:
    """A token dockerd would refuse, found by the decoder hooks; reported with its path afterwards."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class _Pairs(dict):  # type: ignore[type-arg]
    """A decoded object that remembers the keys it saw twice."""
    duplicates: list[str]


def _pairs_hook(pairs: list[tuple[str, t.Any]]) -> dict[str, t.Any]:
    result = _Pairs()
    duplicates = []
    for name, value in pairs:
        if name in result:
            duplicates.append(name)
        result[name] = value
    result.duplicates = duplicates
    return result


def _parse_float(token: str) -> t.Any:
    value = float(token)
    if not math.isfinite(value):
        return _Bad("the number %s is out of range (dockerd reads numbers as 64-bit floats)" % _short(token))
    return value


def _parse_int(token: str) -> t.Any:
    # float() of any length of digits is safe; int() of more than 4300 digits raises ValueError.
    bad = _parse_float(token)
    return bad if isinstance(bad, _Bad) else int(token)


def _parse_constant(token: str) -> t.Any:
    return _Bad("%s is not valid JSON (dockerd refuses it)" % token)


def _short(token: str) -> str:
    return token if len(token) <= 24 else token[:20] + "..."


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs_hook, parse_float=_parse_float,
                            parse_int=_parse_int, parse_constant=_parse_constant)
_PLAIN_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


def parse(text: str) -> Document:
    """Parse daemon.json text strictly; empty or whitespace-only text is ``{}`` (as dockerd 23+).

    Refuses (naming the key path): invalid JSON, a top level that is not an object, duplicate keys,
    NaN/Infinity, numbers outside float64, nesting deeper than MAX_DEPTH, managed keys that are not
    lists of strings (or hold lone surrogates).
    """
    body = text[1:] if text.startswith(BOM) else text
    if not body.strip(_WHITESPACE):
        return Document(text, {}, [], -1, -1)
    _check_text(body)
    try:
        values = _DECODER.decode(body)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            "cannot parse as JSON (line %d, column %d): %s" % (exc.lineno, exc.colno, exc.msg)) from None
    if not isinstance(values, dict):
        raise ConfigError(
            "the top level must be a JSON object, found %s" % json_type_name(values))
    _check_tokens(values, ())
    check_managed_keys(values)
    values = _plain(values, ())
    members, open_brace, close_brace = _members(body)
    return Document(text, values, members, open_brace, close_brace)


def _check_text(body: str) -> None:
    """Refuse raw surrogates (undecodable bytes) and nesting deeper than MAX_DEPTH, before json."""
    surrogate = _SURROGATE_RE.search(body)
    if surrogate:
        raise ConfigError("cannot parse as JSON (%s): not valid UTF-8 text"
                          % _position(body, surrogate.start()))
    depth, top_key = 0, None
    for token in _STRUCTURE_RE.finditer(body):
        char = token.group(0)
        if char[0] == '"':
            if depth == 1 and _COLON_RE.match(body, token.end()):
                top_key = char
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                where = " under %s" % top_key if top_key else ""
                raise ConfigError("nesting deeper than %d levels%s (%s)"
                                  % (MAX_DEPTH, where, _position(body, token.start())))
        else:
            depth -= 1


def _check_tokens(value: t.Any, path: tuple[t.Any, ...]) -> None:
    if isinstance(value, _Bad):
        raise ConfigError("%s: %s" % (key_path(path), value.reason))
    if isinstance(value, dict):
        duplicates = getattr(value, "duplicates", [])
        if duplicates:
            raise ConfigError("%s: duplicate key %s (dockerd would silently keep the last one)"
                              % (key_path(path), json.dumps(duplicates[0], ensure_ascii=False)))
        for name, item in value.items():
            _check_tokens(item, path + (name,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_tokens(item, path + (index,))


def _plain(value: t.Any, path: tuple[t.Any, ...]) -> t.Any:
    """The values as dockerd reads them, in plain dicts (depth is bounded by MAX_DEPTH): Go's encoding/json reads a
    lone surrogate escape (``\\ud800``) as U+FFFD, so no value holds one (the file's text keeps it)."""
    if isinstance(value, str):
        return _SURROGATE_RE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_plain(item, path + (index,)) for index, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    plain: dict[str, t.Any] = {}
    for name, item in value.items():
        key = _SURROGATE_RE.sub("\ufffd", name)
        if key in plain:
            raise ConfigError("%s: duplicate key %s once dockerd reads each lone surrogate as U+FFFD (it would "
                              "silently keep the last one)" % (key_path(path), json.dumps(key, ensure_ascii=False)))
        plain[key] = _plain(item, path + (key,))
    return plain


def check_managed_keys(values: dict[str, t.Any]) -> None:
    """The keys this collection edits must be lists of strings before we touch them."""
    for key in MANAGED_KEYS:
        if key not in values:
            continue
        value = values[key]
        if not isinstance(value, list):
            raise ConfigError(
                '"%s" must be a list of strings, found %s' % (key, json_type_name(value)))
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise ConfigError(
                    '"%s" must be a list of strings, item %d is %s: %s'
                    % (key, index, json_type_name(item), json.dumps(item)))
        check_value(key, value)


def check_value(key: str, value: t.Any) -> None:
    """A value about to be written must be plain JSON dockerd reads: no NaN/Infinity, no lone
    surrogate, string keys, no other types, nesting within MAX_DEPTH (checked without recursion)."""
    pending = [(value, (key,))]
    while pending:
        item, path = pending.pop()
        if len(path) > MAX_DEPTH:
            raise ConfigError("%s: nesting deeper than %d levels" % (key_path(path[:3]) + "...", MAX_DEPTH))
        if isinstance(item, float) and not math.isfinite(item):
            raise ConfigError("%s: %s cannot be written as JSON dockerd reads" % (key_path(path), item))
        if isinstance(item, str) and _SURROGATE_RE.search(item):
            raise ConfigError("%s holds a lone surrogate (an invalid \\ud800-\\udfff escape)" % key_path(path))
        if isinstance(item, dict):
            for name, member in item.items():
                if not isinstance(name, str) or _SURROGATE_RE.search(name):
                    raise ConfigError("%s: object keys must be text, found %r" % (key_path(path), name))
                pending.append((member, path + (name,)))
        elif isinstance(item, (list, tuple)):
            pending.extend((member, path + (index,)) for index, member in enumerate(item))
        elif item is not None and not isinstance(item, (str, int, float)):
            raise ConfigError("%s: a %s cannot be written as JSON" % (key_path(path), type(item).__name__))


def _skip_ws(body: str, index: int) -> int:
    while index < len(body) and body[index] in _WHITESPACE:
        index += 1
    return index


def _members(body: str) -> tuple[list[Member], int, int]:
    """Top-level member spans of a text already known to be a valid JSON object."""
    open_brace = _skip_ws(body, 0)
    index = _skip_ws(body, open_brace + 1)
    members = []
    while body[index] != "}":
        key, key_end = json.decoder.scanstring(body, index + 1)
        value_start = _skip_ws(body, _skip_ws(body, key_end) + 1)
        dummy, value_end = _PLAIN_DECODER.raw_decode(body, value_start)
        members.append(Member(key, index, key_end, value_start, value_end))
        index = _skip_ws(body, value_end)
        if body[index] == ",":
            index = _skip_ws(body, index + 1)
    return members, open_brace, index


# --------------------------------------------------------------------------
# Planning a change
# --------------------------------------------------------------------------

class Plan(t.NamedTuple):
    values: dict[str, t.Any]
    changed_keys: list[str]
    cleared_keys: list[str]


def plan(values: dict[str, t.Any], mirrors: list[str] | None = None, insecure: list[str] | None = None,
         settings: dict[str, t.Any] | None = None, state: str = "present", exclusive: bool = False,
         insecure_exclusive: bool | None = None) -> Plan:
    """Apply the wanted changes to a copy of ``values``; key order is kept, new keys go last. ``exclusive`` holds
    for both lists unless ``insecure_exclusive`` says otherwise for insecure-registries.

    A managed list that becomes empty stays as ``[]``: on reload dockerd keeps the old entries
    when the key is deleted, but applies an empty list.  A ``settings`` value of None removes
    that key.
    """
    # _registry imports this module (for mask_userinfo), hence the import here.
    from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _registry

    check_settings(settings)
    result = dict(values)
    cleared = []
    only = exclusive if insecure_exclusive is None else insecure_exclusive
    for name, wanted, key_fn, exact in ((MIRRORS_KEY, mirrors, _registry.mirror_key, exclusive),
                                        (INSECURE_KEY, insecure, _registry.insecure_key, only)):
        if wanted is None:
            continue
        current = values.get(name, [])
        new_list = _registry.merge_list(current, wanted, state, exact, key_fn)
        if name in values or new_list:
            result[name] = new_list
        if current and not new_list:
            cleared.append(name)
    for name, value in (settings or {}).items():
        if value is None:
            result.pop(name, None)
        elif name not in result or canonical(result[name]) != canonical(value):
            result[name] = value
    changed = changed_keys(values, result)
    for name in changed:
        if name in result:
            check_value(name, result[name])
    return Plan(result, changed, cleared)


def check_settings(settings: dict[str, t.Any] | None) -> None:
    if settings is None:
        return
    if not isinstance(settings, dict) or not all(isinstance(name, str) for name in settings):
        raise ConfigError("settings must be a dictionary with string keys")
    for name in MANAGED_KEYS:
        if name in settings:
            raise ConfigError(
                '"%s" cannot be set through settings: use the %s option, which compares entries '
                "the way dockerd does and never duplicates them" % (name, name.replace("-", "_")))
    for name, value in settings.items():
        if _SURROGATE_RE.search(name):
            raise ConfigError("the settings key %s holds a lone surrogate" % json.dumps(name))
        check_value(name, value)  # before anything compares or serialises it


def changed_keys(before: dict[str, t.Any], after: dict[str, t.Any]) -> list[str]:
    """Top-level keys added, removed or whose value changed (type-exact), in document order."""
    names = list(before) + [name for name in after if name not in before]
    return [name for name in names
            if (name in before) != (name in after)
            or (name in before and canonical(before[name]) != canonical(after[name]))]


# --------------------------------------------------------------------------
# Rendering, format-preserving
# --------------------------------------------------------------------------

class _Style(t.NamedTuple):
    newline: str
    indent: str | None     # member indentation of a multi-line object; None when it is one line
    key_sep: str           # between a key and its value, e.g. ": "
    item_sep: str          # between two members, comma included, e.g. ", " or ",\n  "


def render(document: Document, new_values: dict[str, t.Any]) -> str:
    """The text to write: ``document``'s text with only the changed top-level members re-rendered."""
    if document.empty:
        if not new_values:
            return document.text
        return document.bom + json.dumps(new_values, indent=2, ensure_ascii=False) + "\n"
    if not changed_keys(document.values, new_values):
        return document.text
    style = _style(document)
    kept = [(index, _member_text(document, member, new_values, style))
            for index, member in enumerate(document.members) if member.key in new_values]
    added = [_new_member_text(name, value, style) for name, value in new_values.items()
             if name not in document.values]
    return document.bom + _assemble(document, kept, added, style)


def _assemble(document: Document, kept: list[tuple[int, str]], added: list[str], style: _Style) -> str:
    """Kept members with their original separators, then the added ones, inside the original braces."""
    body, members = document.body, document.members
    head, tail = body[:document.open_brace + 1], body[document.close_brace:]
    if not kept:
        if not added or style.indent is None:
            return head + style.item_sep.join(added) + tail
        return head + style.newline + style.indent + style.item_sep.join(added) + style.newline + tail
    parts = [body[:members[0].key_start]]
    for position, (index, text) in enumerate(kept):
        parts.append(text)
        if position + 1 < len(kept):
            parts.append(body[members[index].value_end:members[index + 1].key_start])
    parts.extend(style.item_sep + text for text in added)
    parts.append(body[members[-1].value_end:])
    return "".join(parts)


def _style(document: Document) -> _Style:
    body, members = document.body, document.members
    key_sep = body[members[0].key_end:members[0].value_start] if members else ": "
    indent = None if document.one_line else _member_indent(document)
    if len(members) > 1:
        item_sep = body[members[0].value_end:members[1].key_start]
    else:
        item_sep = ", " if indent is None else "," + document.newline + indent
    return _Style(document.newline, indent, key_sep, item_sep)


def _member_indent(document: Document) -> str:
    body = document.body
    for member in document.members:
        line_start = body.rfind("\n", 0, member.key_start) + 1
        prefix = body[line_start:member.key_start]
        if prefix and not prefix.strip(" \t"):
            return prefix
    return DEFAULT_INDENT


def _member_text(document: Document, member: Member, new_values: dict[str, t.Any], style: _Style) -> str:
    body = document.body
    old_text = body[member.key_start:member.value_end]
    new_value = new_values[member.key]
    if canonical(document.values[member.key]) == canonical(new_value):
        return old_text
    old_value_text = body[member.value_start:member.value_end]
    inline = style.indent is None or ("\n" not in old_value_text and old_value_text[-1:] in "]}"
                                      and len(old_value_text) > 2)
    return body[member.key_start:member.value_start] + _value_text(new_value, style, inline)


def _new_member_text(name: str, value: t.Any, style: _Style) -> str:
    return json.dumps(name, ensure_ascii=False) + style.key_sep + _value_text(value, style, style.indent is None)


def _value_text(value: t.Any, style: _Style, inline: bool) -> str:
    if inline or style.indent is None:
        return json.dumps(value, ensure_ascii=False, separators=_inline_separators(style))
    text = json.dumps(value, ensure_ascii=False, indent=style.indent, separators=(",", ": "))
    return text.replace("\n", style.newline + style.indent)


def _inline_separators(style: _Style) -> tuple[str, str]:
    if style.indent is not None:
        return ", ", ": "
    return ("," + " " * style.item_sep.endswith(" "), ":" + " " * style.key_sep.endswith(" "))


# --------------------------------------------------------------------------
# Redaction for diffs and results
# --------------------------------------------------------------------------

_SECRET_MEMBER_RE = re.compile(
    r'("(?:%s)"\s*:\s*)"(?:[^"\\]|\\.)*"' % "|".join(re.escape(name) for name in sorted(SECRET_KEYS)))


def redact(text: str) -> str:
    """``text`` with URL userinfo masked and the values of credential-bearing keys replaced by xxxxx."""
    return _SECRET_MEMBER_RE.sub(lambda match: match.group(1) + '"%s"' % REDACTED, mask_url(text))


def redact_arguments(params: dict[str, t.Any]) -> dict[str, t.Any]:
    """Module arguments as Ansible shows them with -vvv (``invocation``): userinfo and proxy values masked,
    lone surrogates escaped (the controller refuses a result that is not valid UTF-8)."""
    redacted = redact_values(params)
    for name, value in redacted.items():
        if name.endswith(("registries", "mirrors")) and isinstance(value, list):
            redacted[name] = [mask_userinfo(item) if isinstance(item, str) else item for item in value]
    return _printable(redacted)


def _printable(value: t.Any) -> t.Any:
    if isinstance(value, dict):
        return {_printable(key): _printable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_printable(item) for item in value]
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def redact_values(value: t.Any, name: str | None = None) -> t.Any:
    """A copy of parsed values with the same redaction as ``redact`` (for results)."""
    if isinstance(value, dict):
        return {key: redact_values(item, key) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_values(item) for item in value]
    if isinstance(value, str):
        return REDACTED if name in SECRET_KEYS else mask_url(value)
    return value
