# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller side of fleetops.docker_mirror.mirrors_info: a plan (``mirrors`` given) for Docker alone needs
nothing from the host, so it is answered here, without a connection; everything else runs the module.

Docker is the one runtime the plan never asks the host about: daemon_json checks the mirrors itself, for the
release installed, and says when Docker is missing. So the plan of ``runtimes: [docker]`` is the same on every
host: write daemon.json. Any other runtime needs the host (is it installed? can it take the mirrors?)."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.fleetops.docker_mirror.plugins.plugin_utils._judge import listed

MODULE = "fleetops.docker_mirror.mirrors_info"


def host_free_plan(args: dict) -> dict | None:
    """The plan that needs no host, or None: only a plan (``mirrors`` given) for Docker alone."""
    if args.get("mirrors") is None or args.get("detect_only"):
        return None
    if listed(args.get("runtimes", ["auto"])) != ["docker"]:
        return None
    docker = {"installed": None, "state": None, "mirrors": None, "error": None, "problem": None}
    return {"changed": False, "detected": None, "runtimes": {"docker": docker}, "write": ["docker"]}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        plan = host_free_plan(dict(self._task.args))
        if plan is not None:
            result.update(plan)
            return result
        result.update(self._execute_module(module_name=MODULE, module_args=self._task.args, task_vars=task_vars))
        return result
