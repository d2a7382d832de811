# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Read-only probing of the Docker host: version, live daemon info, running dockerd flags,
unit and env files, service manager.

Commands run through a ``run_command(argv) -> (rc, stdout, stderr)`` callable passed in
(``AnsibleModule.run_command`` in the module), so tests can substitute one.  The paths
below are module-level so tests can point them at a temporary tree; they are not options.
"""

from __future__ import annotations

import glob
import os
import typing as t

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._daemon_config import (
    FLAG_FOR_KEY,
    DockerInfo,
    FlagHit,
    find_flags_in_cmdline,
    find_flags_in_env_file,
    find_flags_in_units,
    parse_docker_info,
    parse_docker_version,
    strip_config_file_args,
)

RunCommand = t.Callable[[t.List[str]], t.Tuple[int, str, str]]

PROC_ROOT = "/proc"
# sd_booted(): systemd is the running service manager when this directory exists.
SYSTEMD_RUN_DIR = "/run/systemd/system"
# How long ``docker info`` may take before dockerd counts as not answering; coreutils' timeout exits 124 then.
DOCKER_INFO_TIMEOUT = 30
TIMEOUT_EXIT_STATUS = 124
# Main unit candidates in systemd's order of precedence (first existing wins).
UNIT_FILES = (
    "/etc/systemd/system/docker.service",
    "/run/systemd/system/docker.service",
    "/usr/lib/systemd/system/docker.service",
    "/lib/systemd/system/docker.service",
)
# Drop-in directories, highest precedence first (a same-named file there wins).
DROPIN_DIRS = (
    "/etc/systemd/system/docker.service.d",
    "/run/systemd/system/docker.service.d",
    "/usr/lib/systemd/system/docker.service.d",
    "/lib/systemd/system/docker.service.d",
)
ENV_FILES = ("/etc/default/docker", "/etc/sysconfig/docker")


def read_text(path: str) -> str | None:
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def running_dockerd_args(proc_root: str | None = None) -> tuple[int, list[str]] | None:
    """(pid, argv) of the first process named dockerd, or None."""
    proc_root = proc_root or PROC_ROOT
    for entry in sorted(glob.glob(os.path.join(proc_root, "[0-9]*")), key=lambda p: int(os.path.basename(p))):
        comm = read_text(os.path.join(entry, "comm"))
        if comm is None or comm.strip() != "dockerd":
            continue
        try:
            with open(os.path.join(entry, "cmdline"), "rb") as handle:
                raw = handle.read()
        except OSError:
            continue
        args = [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]
        if args:
            return int(os.path.basename(entry)), args
    return None


def unit_texts() -> list[tuple[str, str]]:
    """The docker.service unit followed by its drop-ins, in the order systemd applies them."""
    texts = []
    for path in UNIT_FILES:
        text = read_text(path)
        if text is not None:
            texts.append((path, text))
            break
    dropins: dict[str, str] = {}
    for directory in reversed(DROPIN_DIRS):
        for path in glob.glob(os.path.join(directory, "*.conf")):
            dropins[os.path.basename(path)] = path
    for name in sorted(dropins):
        text = read_text(dropins[name])
        if text is not None:
            texts.append((dropins[name], text))
    return texts


def find_flag_conflicts(keys: t.Iterable[str], running: tuple[int, list[str]] | None) -> list[FlagHit]:
    """Where dockerd is given a flag that clashes with one of ``keys`` in daemon.json."""
    units = unit_texts()
    hits: list[FlagHit] = []
    for key in keys:
        flag = FLAG_FOR_KEY[key]
        if running is not None:
            hits.extend(find_flags_in_cmdline(
                running[1], "running dockerd command line (pid %d)" % running[0], flag))
        hits.extend(find_flags_in_units(units, flag))
        for path in ENV_FILES:
            text = read_text(path)
            if text is not None:
                hits.extend(find_flags_in_env_file(text, path, flag))
    return hits


def docker_version(run_command: RunCommand, dockerd: str | None, docker: str | None) -> str | None:
    """Engine version from ``dockerd --version``, else from ``docker version``; None if unknown."""
    if dockerd:
        rc, out, err = run_command([dockerd, "--version"])
        if rc == 0 and parse_docker_version(out):
            return parse_docker_version(out)
    if docker:
        rc, out, err = run_command([docker, "version", "--format", "{{.Server.Version}}"])
        if rc == 0:
            return parse_docker_version(out)
    return None


def docker_info(run_command: RunCommand, docker: str | None, timeout_bin: str | None = None) -> DockerInfo:
    """Ask the running dockerd through ``docker info``; not answered when there is no docker CLI.

    With coreutils' ``timeout`` (``timeout_bin``), a hung dockerd cannot stall the module: after
    DOCKER_INFO_TIMEOUT seconds it counts as not answering.
    """
    if not docker:
        return DockerInfo(False, None, None, None)
    argv = [docker, "info", "--format", "{{json .}}"]
    if timeout_bin:
        argv = [timeout_bin, str(DOCKER_INFO_TIMEOUT)] + argv
    rc, out, err = run_command(argv)
    if timeout_bin and rc == TIMEOUT_EXIT_STATUS:
        err = "docker info did not answer within %d s (is dockerd hung?)" % DOCKER_INFO_TIMEOUT
    return parse_docker_info(rc, out, err)


def service_manager() -> str:
    """``systemd`` when systemd runs the host (as sd_booted()), else ``service``."""
    return "systemd" if os.path.isdir(SYSTEMD_RUN_DIR) else "service"


def dockerd_validate(run_command: RunCommand, dockerd: str, candidate: str,
                     running: tuple[int, list[str]] | None) -> tuple[bool, str, list[str]]:
    """Run ``dockerd --validate`` on ``candidate`` with the running daemon's other flags.

    Returns (ok, dockerd's message, argv used).
    """
    extra = strip_config_file_args(running[1]) if running else []
    argv = [dockerd, "--validate", "--config-file", candidate] + extra
    rc, out, err = run_command(argv)
    message = "\n".join(part.strip() for part in (err, out) if part and part.strip())
    return rc == 0, message, argv
