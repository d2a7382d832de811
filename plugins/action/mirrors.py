# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""fleetops.docker_mirror.mirrors: plan every selected runtime, then run each runtime's module, in one task.

The modules decide (each returns its outcome: file changed, apply needed and how); this plugin only runs them in
order and folds their results (plugin_utils/_configure.py). One task instead of a plan task and one task per
runtime: a host pays one task's overhead, and the runtimes not selected cost nothing."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError

from ansible_collections.fleetops.docker_mirror.plugins.plugin_utils import _configure as cfg


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=cfg.ARGUMENT_SPEC)
        try:
            wanted = cfg.registries(args)
        except ConfigError as exc:  # before any host is asked; the message names the registry and the entry
            raise AnsibleActionFail(exc.message) from None
        plan = cfg.host_free_plan(args) if args["write"] else None
        if plan is None:
            plan = self._module(cfg.INFO, cfg.info_args(args, wanted), task_vars)
        configured = {name: self._module(cfg.MODULES[name], cfg.module_args(name, args, wanted), task_vars)
                      for name in cfg.to_write(args, plan)}
        result.update(cfg.fold(cfg.want(args, wanted), plan, configured))
        return result

    def _module(self, name: str, args: dict, task_vars) -> dict:
        return self._execute_module(module_name=name, module_args=args, task_vars=task_vars)
