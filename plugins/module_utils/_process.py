# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A service's main process and the configuration file it was started with (private to this collection).

One reader for every runtime: the writer (which file must we edit?) and the verifier (which file does the running
process read?) ask the same function and get the same answer. Standard library only (Python 3.8+)."""

from __future__ import annotations

import os
import time
import typing as t

__all__ = ["PROC_ROOT", "FlagSyntax", "CONTAINERD_CONFIG", "DOCKERD_CONFIG_FILE", "process_argv", "flag_value",
           "resolve_against_cwd", "ServiceConfig", "started_with", "boot_realtime", "start_time", "process_start",
           "started_before_change"]

PROC_ROOT = "/proc"


class FlagSyntax(t.NamedTuple):
    """How a program reads the one flag asked for (dashes included in every name)."""
    names: tuple[str, ...]
    booleans: tuple[str, ...]  # flags that take no value (the others take the next word, as Go's flag does)
    interspersed: bool  # spf13/pflag: words may sit between flags; Go's flag stops at the first one


# containerd's global flags (Go's flag package through urfave/cli): -c/--config, booleans --help and --version.
CONTAINERD_CONFIG = FlagSyntax(
    ("-c", "--c", "-config", "--config"),
    ("-h", "--h", "-help", "--help", "-v", "--v", "-version", "--version"),
    False)
# dockerd (spf13/pflag): only --config-file; every other flag is looked through, never taken as a value.
DOCKERD_CONFIG_FILE = FlagSyntax(("--config-file",), (), True)


def process_argv(pid: int) -> list[str] | None:
    """The command line of ``pid`` from /proc/PID/cmdline; None when it cannot be read or is empty."""
    if pid <= 0:
        return None
    try:
        with open(os.path.join(PROC_ROOT, str(pid), "cmdline"), "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part] or None


def flag_value(argv: t.Sequence[str], syntax: FlagSyntax) -> str | None:
    """The value of the flag ``syntax`` names on a command line (``-c X``, ``--c X``, ``-config=X``): the last one
    wins; parsing stops at ``--`` and, unless interspersed, at the first word that is not a flag."""
    found = None
    index = 1
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            break
        if not arg.startswith("-") or arg == "-":
            if not syntax.interspersed:
                break
            index += 1
            continue
        name, equals, value = arg.partition("=")
        takes_next = not equals and (name in syntax.names or (not syntax.interspersed
                                                              and name not in syntax.booleans))
        if name in syntax.names:
            found = value if equals else (argv[index + 1] if index + 1 < len(argv) else found)
        index += 2 if takes_next else 1
    return found


def resolve_against_cwd(path: str, pid: int) -> str:
    """A relative path as the process ``pid`` reads it: against its working directory (/proc/PID/cwd)."""
    if os.path.isabs(path):
        return path
    try:
        return os.path.join(os.readlink(os.path.join(PROC_ROOT, str(pid), "cwd")), path)
    except OSError:
        return os.path.join("/", path)


class ServiceConfig(t.NamedTuple):
    pid: int
    named: str | None  # the flag's value as given; None: the program's default file
    path: str  # the file it reads: absolute, a relative flag resolved against its working directory


def started_with(pid: int, syntax: FlagSyntax, default: str,
                 is_program: t.Callable[[list[str]], bool] = lambda argv: True) -> ServiceConfig | None:
    """The configuration file the process ``pid`` was started with; None when its command line cannot be read
    or is not the program's (``is_program``)."""
    argv = process_argv(pid)
    if not argv or not is_program(argv):
        return None
    named = flag_value(argv, syntax)
    return ServiceConfig(pid, named, resolve_against_cwd(named, pid) if named is not None else default)


def boot_realtime() -> float:
    """When the host booted, in epoch seconds, to the microsecond (/proc/stat's btime is truncated to seconds)."""
    return time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)


def start_time(stat_text: str, booted_at: float, ticks_per_second: int) -> float | None:
    """A process's start (epoch seconds) from ``/proc/PID/stat`` (field 22, clock ticks after boot), truncated
    to a clock tick; ``booted_at``: when the host booted (epoch seconds)."""
    # The command name (field 2) is in parentheses and may hold spaces: split after the last ")".
    tail = (stat_text or "").rpartition(")")[2].split()
    try:
        return booted_at + int(tail[19]) / float(ticks_per_second)
    except (IndexError, ValueError, ZeroDivisionError):
        return None


def process_start(pid: int) -> float | None:
    """When the process ``pid`` started (epoch seconds), None when /proc cannot tell."""
    try:
        with open(os.path.join(PROC_ROOT, str(pid), "stat"), encoding="utf-8", errors="replace") as handle:
            stat_text = handle.read()
    except OSError:
        return None
    return start_time(stat_text, boot_realtime(), os.sysconf("SC_CLK_TCK"))


def started_before_change(pid: int, path: str) -> bool:
    """The process ``pid`` started before ``path`` last changed, so it has not loaded the file (a service that
    reads its configuration only at start). The start time is known to a clock tick (it is truncated): a file
    written in that tick does not count. False when either time is unknown."""
    started = process_start(pid) if pid > 0 else None
    try:
        modified = os.stat(path).st_mtime
    except OSError:
        return False
    return started is not None and modified > started + 1.0 / os.sysconf("SC_CLK_TCK")
