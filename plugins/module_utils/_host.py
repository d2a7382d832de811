# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The commands a module runs on the managed host, and how it fails (private to this collection).

One runner for every module that asks a runtime or its service manager: the commands are looked up once, and a
command that may hang runs under coreutils' ``timeout`` with the module's one bound. One failure exit: the
message with URL userinfo masked."""

from __future__ import annotations

import os
import typing as t

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _daemon as daemon
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import mask_url

__all__ = ["HostRunner", "fail"]


class HostRunner:
    """The commands found on the host (``bins``), run directly or bounded by ``timeout`` seconds."""

    def __init__(self, module, commands: t.Iterable[str], timeout: float) -> None:
        self.module = module
        self.timeout = max(1, int(timeout))
        self.bins = {name: module.get_bin_path(name) for name in dict.fromkeys(tuple(commands) + ("timeout",))}

    def run(self, argv: list[str]) -> tuple[int, str, str]:
        return self.module.run_command(argv)

    def run_bounded(self, argv: list[str]) -> tuple[int, str, str]:
        """``argv`` under coreutils' timeout; when it did not answer in time, exit status 124 and stderr saying so."""
        if not self.bins.get("timeout"):
            return self.run(argv)
        rc, out, err = self.run([self.bins["timeout"], str(self.timeout)] + argv)
        if rc == daemon.TIMEOUT_EXIT_STATUS:
            err = "%s did not answer within %d s" % (" ".join(os.path.basename(arg) for arg in argv[:2]), self.timeout)
        return rc, out, err

    def systemd(self) -> bool:
        return daemon.service_manager() == "systemd" and bool(self.bins.get("systemctl"))

    def active(self, service: str) -> bool:
        return daemon.service_active(self.run, self.bins.get("systemctl"), service)

    def main_pid(self, service: str) -> int:
        return daemon.main_pid(self.run, self.bins.get("systemctl"), service)


def fail(module, message: str, **result: t.Any) -> t.NoReturn:
    """The one failure exit of the apply and info modules: the message with URL userinfo masked."""
    module.fail_json(msg=mask_url(message), **result)
    raise AssertionError("fail_json returned")  # pragma: no cover (fail_json exits)
