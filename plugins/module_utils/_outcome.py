# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One result shape per runtime, built at every module's return site.

Each module of a runtime (plan, write, apply, read) returns ``outcome``: the same keys for Docker, containerd and
Podman, so that the role only routes them and the verdict folds a list. The module decides what goes in (is an
apply needed, which action); this file only builds the dict and the one rule every runtime shares: an apply
that is needed is run unless the role's apply mode is ``none``.
"""

from __future__ import annotations

import typing as t

KEYS = ("runtime", "installed", "files_changed", "apply_needed", "apply_action", "applied", "rolled_back",
        "live_mirrors", "problem", "stage")
APPLY_MODES = ("auto", "reload", "restart", "none")


def writer_argument_spec(**options: dict[str, t.Any]) -> dict[str, t.Any]:
    """The argument spec of a module that writes a runtime's mirror file we own (containerd_hosts,
    registries_conf): its own ``options`` and the ones every such module shares, with one meaning each."""
    return dict(options,
                state=dict(type="str", choices=["present", "absent"], default="present"),
                force=dict(type="bool", default=False),
                exclusive=dict(type="bool", default=False),
                apply=dict(type="str", choices=list(APPLY_MODES), default="auto"),
                option_names=dict(type="dict", default={}))


def apply_action(needed: bool, mode: str, natural: str, allowed: t.Sequence[str] = ("reload", "restart")) -> str:
    """The action the role's handler runs: '' when nothing is needed or ``mode`` is none; ``natural`` (what the
    change needs) for auto, else ``mode`` itself when the runtime knows that action."""
    if not needed or mode == "none":
        return ""
    return mode if mode in allowed and mode != "auto" else natural


def outcome(runtime: str, stage: str, **values: t.Any) -> dict[str, t.Any]:
    """The runtime's result: every key of KEYS, unknown ones refused (a typo is a bug, not a new key)."""
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise ValueError("unknown outcome keys: %s" % ", ".join(unknown))
    result: dict[str, t.Any] = {"runtime": runtime, "installed": True, "files_changed": [], "apply_needed": False,
                                "apply_action": "", "applied": "", "rolled_back": False, "live_mirrors": None,
                                "problem": None, "stage": stage}
    result.update(values)
    result["files_changed"] = list(result["files_changed"] or [])
    return result
