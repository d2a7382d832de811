# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reading and writing TOML on the managed host, from Python 3.8 on (private to this collection).

Reading: the standard library's ``tomllib`` (Python 3.11+); before 3.11, what the host's distribution packages:
``tomli`` (Debian 12's and Ubuntu's ``python3-tomli``, RHEL's ``python3-tomli``), else ``toml`` (``python3-toml``,
the only one Debian 11 has). Without any of them a module fails with one line that names the package to
install. Writing: a TOML string literal is all we write by hand (every file we render is checked by reading it
back)."""

from __future__ import annotations

import json
import typing as t

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError

__all__ = ["READER", "MISSING", "loads", "parse", "toml_string"]

try:
    import tomllib as _reader  # novermin (guarded: before 3.11 tomli or toml below)
    READER: str | None = "tomllib"
    _DECODE_ERRORS: tuple[type[Exception], ...] = (_reader.TOMLDecodeError,)
except ImportError:
    try:
        import tomli as _reader  # type: ignore[no-redef]
        READER = "tomli"
        _DECODE_ERRORS = (_reader.TOMLDecodeError,)
    except ImportError:
        try:
            import toml as _reader  # type: ignore[no-redef]
            READER = "toml"
            # toml 0.10 raises TomlDecodeError, and a bare IndexError or ValueError on some malformed inputs.
            _DECODE_ERRORS = (_reader.TomlDecodeError, IndexError, ValueError, TypeError)
        except ImportError:
            _reader = None  # type: ignore[assignment]
            READER = None
            _DECODE_ERRORS = ()

MISSING = ("Python %s on this host has no TOML reader: install python3-tomli (Debian 12+, Ubuntu, RHEL 9: EPEL "
           "or AppStream) or python3-toml (Debian 11), or use Python 3.11 or later (tomllib)")


def _python_version() -> str:
    import sys
    return "%d.%d" % sys.version_info[:2]


def loads(text: str) -> dict[str, t.Any]:
    """The document ``text``; raises ValueError (the parser's own words) when it is not TOML, ConfigError
    when the host has no TOML reader."""
    if _reader is None:
        raise ConfigError(MISSING % _python_version())
    try:
        return _reader.loads(text)
    except _DECODE_ERRORS as exc:
        raise ValueError(str(exc)) from None


def parse(text: str, what: str) -> dict[str, t.Any]:
    """The document ``text``, or ConfigError "cannot parse WHAT as TOML: ...". ``what`` names the file."""
    try:
        return loads(text)
    except ValueError as exc:
        raise ConfigError("cannot parse %s as TOML: %s" % (what, exc)) from None
    except RecursionError:
        raise ConfigError("cannot parse %s as TOML: nested too deeply (arrays or inline tables)" % what) from None


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML escapes, except that TOML has no \\/)."""
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise ConfigError("control characters cannot be written to TOML: %s" % json.dumps(value))
    return json.dumps(value, ensure_ascii=False)
