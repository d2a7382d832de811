# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The errors every module of this collection raises, and the masking of secrets in what they say (private).

``ConfigError`` is a problem with the input, a file or a runtime's answer: its ``message`` is shown to the user
as it is, with URL userinfo masked. ``NeedsRoot``: the module runs as a user that cannot do the job."""

from __future__ import annotations

import os
import pwd
import re

__all__ = ["REDACTED", "ConfigError", "NeedsRoot", "mask_url", "current_user", "is_root", "name_options", "option"]

REDACTED = "xxxxx"
NEEDS_ROOT = "needs root on this host (running as %s): run with become: true (or -b)"
# scheme://userinfo@ (also JSON's escaped \/\/ form): the userinfo is masked wherever it appears.
_URL_USERINFO_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*:(?://|\\/\\/))([^\s/\\?#\"'<>\[\]]*)@")


def mask_url(text: str) -> str:
    """``text`` with the userinfo of every URL in it replaced by xxxxx."""
    return _URL_USERINFO_RE.sub(lambda match: match.group(1) + REDACTED + "@", text)


class ConfigError(Exception):
    """A problem with the input, a file or a runtime's answer; ``message`` is user-facing with secrets masked."""

    def __init__(self, message: str) -> None:
        message = mask_url(message)
        super().__init__(message)
        self.message = message


# The names the caller knows a module's options by (its ``option_names``: the docker_mirror role's variables when
# the role's mirrors action runs the module), so that a message names what the user set. A module runs once per
# process: its main sets them first.
_OPTION_NAMES: dict = {}


def name_options(names) -> None:
    """Name the options in messages as ``names`` (option -> the caller's name) says, from now on."""
    _OPTION_NAMES.clear()
    _OPTION_NAMES.update({str(key): str(value) for key, value in (names or {}).items()})


def option(name: str, value: str | None = None) -> str:
    """An option as a message names it: the caller's name for it, with ``: value`` when given."""
    named = _OPTION_NAMES.get(name, name)
    return named if value is None else "%s: %s" % (named, value)


def current_user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return "uid %d" % os.geteuid()


def is_root() -> bool:
    return os.geteuid() == 0


class NeedsRoot(Exception):
    """The module runs as a user that cannot do the job; the message says to use become."""

    def __init__(self) -> None:
        self.message = NEEDS_ROOT % current_user()
        super().__init__(self.message)
