# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Rolling a runtime's configuration file back when the runtime did not take the new one (private).

One protocol for every apply module: restore the previous copy the writer kept (``_files.keep_previous``), or
remove the file this run created, and never move anything else onto the file: a ``rollback_file`` that is not
the writer's own copy, or that the runtime could not read, is refused."""

from __future__ import annotations

import os
import stat
import typing as t

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._files import previous_copy_name, read_bytes

__all__ = ["Managed", "is_own_copy", "forget_copy", "unusable", "remove_created", "restore"]


class Managed(t.NamedTuple):
    """The file an apply module rolls back, and what its runtime reads there."""
    target: str  # the file, links followed
    kind: str  # its name in messages: daemon.json, config.toml
    writer: str  # the module that keeps its previous copy: daemon_json, containerd_hosts
    reads_as: str  # what a usable file is: "a daemon.json dockerd reads", "a TOML file"
    parse: t.Callable[[str], t.Any]  # raises ConfigError for a text the runtime refuses


def is_own_copy(rollback_file: str, target: str) -> bool:
    return (os.path.realpath(os.path.dirname(rollback_file)) == os.path.dirname(target)
            and os.path.basename(rollback_file) == os.path.basename(previous_copy_name(target)))


def forget_copy(rollback_file: str | None, target: str) -> None:
    """The runtime took the change: remove the writer's copy (never another file named by mistake); OSError."""
    if rollback_file and os.path.lexists(rollback_file) and is_own_copy(rollback_file, target):
        os.unlink(rollback_file)


def unusable(name: str, managed: Managed) -> str | None:
    """Why the file ``name`` is not one the runtime could read (a regular UTF-8 file it parses), or None."""
    try:
        if not stat.S_ISREG(os.lstat(name).st_mode):
            return "is not a regular file"
        raw = read_bytes(name) or b""
    except OSError as exc:
        return "cannot be read (%s)" % (exc.strerror or to_native(exc))
    try:
        managed.parse(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return "is not %s (not valid UTF-8)" % managed.reads_as
    except ConfigError as exc:
        return "is not %s (%s)" % (managed.reads_as, exc.message)
    return None


def remove_created(managed: Managed) -> tuple[bool, str]:
    target, kind = managed.target, managed.kind
    if not os.path.lexists(target):
        return True, "the %s this run created is already gone" % kind
    reason = unusable(target, managed)
    if not reason and os.path.getsize(target) == 0:
        # An empty file parses as TOML, but no writer creates one: it is somebody else's (a wrong config_path).
        reason = "is empty, and %s never creates an empty file" % managed.writer
    if reason:
        return False, "%s %s: not removed (created: true may be a mistake)" % (target, reason)
    try:
        os.unlink(target)
    except OSError as exc:
        return False, "the %s this run created could NOT be removed (%s)" % (kind, exc.strerror)
    return True, "the %s this run created removed" % kind


def restore(module, managed: Managed, rollback_file: str | None, created: bool) -> tuple[bool, str]:
    """Put the previous file back: (done, what was done, for the message)."""
    if created:
        return remove_created(managed)
    kind = managed.kind
    if not rollback_file or not os.path.lexists(rollback_file):
        return False, "no previous copy of %s to restore (the new one stays)" % kind
    reason = None if is_own_copy(rollback_file, managed.target) else "is not the copy %s keeps for %s (%s)" % (
        managed.writer, managed.target, previous_copy_name(managed.target))
    reason = reason or unusable(rollback_file, managed)
    if reason:
        return False, "the previous copy %s %s: not restored (the new one stays)" % (rollback_file, reason)
    try:
        # atomic_move gives the copy the current file's owner, mode and SELinux context before the rename.
        module.atomic_move(rollback_file, managed.target, unsafe_writes=False)
    except Exception as exc:  # atomic_move raises a plain Exception; the rollback goes on to bring the runtime back
        return False, "the previous %s could NOT be restored from %s (%s)" % (kind, rollback_file, to_native(exc))
    return True, "previous %s restored" % kind
