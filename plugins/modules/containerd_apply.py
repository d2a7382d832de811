#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: containerd_apply
short_description: Restart containerd to take its config.toml, and prove its running containers survived
version_added: 1.1.0
description:
  - containerd reads C(config.toml) only at start, so the C(config_path) that
    M(fleetops.docker_mirror.containerd_hosts) sets reaches the CRI plugin (Kubernetes) only after a restart
    (RV(fleetops.docker_mirror.containerd_hosts#module:restart_needed)). A restart keeps running containers -
    their shims and processes stay - and this module proves it.
  - Before the restart it lists every namespace's tasks (C(ctr namespaces ls -q), C(ctr -n NS tasks ls)),
    Docker's containers (namespace C(moby)) and Kubernetes' (C(k8s.io)) included. It then restarts the service
    with systemd, waits until C(ctr version) answers, and lists the tasks again until every task that was
    C(RUNNING) is C(RUNNING) again with the same process id, or O(timeout) has passed. A task that is not is
    interrupted, and the module fails naming it.
  - A containerd that is not running (its unit is not active) is not started; the module reports
    RV(skipped_reason) and no change. Nothing is restarted when the tasks cannot be listed first.
author:
  - fleetops engineers (@fleetops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode the tasks are listed, nothing is restarted; the result is changed (unless containerd is
      stopped).
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  service:
    description: Name of containerd's systemd service.
    type: str
    default: containerd
  timeout:
    description:
      - Seconds to wait after the restart for containerd to answer C(ctr version), and then for the tasks that were
        running to be listed as running again.
    type: int
    default: 30
notes:
  - Needs systemd and root (C(become=true)); as another user it fails at once with "needs root on this host",
    before anything is restarted.
seealso:
  - module: fleetops.docker_mirror.containerd_hosts
  - module: fleetops.docker_mirror.mirrors_info
"""

EXAMPLES = r"""
- name: Mirrors for containerd (sets config_path in config.toml when it is unset)
  fleetops.docker_mirror.containerd_hosts:
    mirrors: [https://mirror.gcr.io]
  become: true
  register: __docker_mirror_containerd

- name: Restart containerd only when config.toml changed, and prove no container was interrupted
  fleetops.docker_mirror.containerd_apply:
  become: true
  when: __docker_mirror_containerd.restart_needed

- name: Give a busy node more time
  fleetops.docker_mirror.containerd_apply:
    timeout: 90
  become: true
"""

RETURN = r"""
tasks_running:
  description: The number of tasks (containers) RUNNING before the restart, in every namespace.
  returned: always
  type: int
  sample: 2
interrupted:
  description:
    - The tasks, C(namespace/id), that were RUNNING before the restart and are not RUNNING with the same process
      id after it. The module fails when this is not empty.
    - Empty when the module failed before it could list the tasks again (containerd did not come back).
  returned: always
  type: list
  elements: str
  sample: []
skipped_reason:
  description: Why nothing was done (containerd is not running).
  returned: when containerd is not running
  type: str
  sample: containerd.service is not active; it was not started
"""

import time
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _daemon as daemon
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _runtimes as rt
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._document import DaemonConfigError

POLL_INTERVAL = 0.5
# Each ctr call may take this long (a hung containerd must not stall the module).
CTR_TIMEOUT = 10
JOURNAL_LINES = 3


class ListError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Host:
    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.service = module.params["service"]
        self.bins = {name: module.get_bin_path(name) for name in ("systemctl", "ctr", "timeout", "journalctl")}

    def run(self, argv: list[str]) -> tuple[int, str, str]:
        return self.module.run_command(argv)

    def ctr(self, *args: str) -> tuple[int, str, str]:
        argv = [self.bins["ctr"]] + list(args)
        if self.bins.get("timeout"):
            argv = [self.bins["timeout"], str(CTR_TIMEOUT)] + argv
        return self.run(argv)

    def tasks(self) -> list[rt.Task]:
        """Every namespace's tasks; ListError when containerd does not tell."""
        rc, out, err = self.ctr("namespaces", "ls", "-q")
        if rc != 0:
            raise ListError("ctr namespaces ls failed: %s" % (rt.first_line(err) or "exit status %d" % rc))
        tasks: list[rt.Task] = []
        for namespace in rt.parse_namespaces(out):
            rc, out, err = self.ctr("-n", namespace, "tasks", "ls")
            if rc != 0:
                raise ListError("ctr -n %s tasks ls failed: %s" % (namespace, rt.first_line(err) or "exit status %d"
                                                                   % rc))
            try:
                tasks.extend(rt.parse_tasks(namespace, out))
            except DaemonConfigError as exc:
                raise ListError(exc.message) from None
        return tasks

    def answers(self) -> bool:
        return self.ctr("version")[0] == 0

    def journal(self, since: float) -> list[str]:
        """containerd's last lines in the journal since ``since`` (why a restart failed)."""
        if not self.bins.get("journalctl"):
            return []
        rc, out, dummy = self.run([self.bins["journalctl"], "--unit", self.service, "--since", "@%d" % int(since),
                                   "--no-pager", "--output", "cat"])
        return [line for line in out.splitlines() if line.strip()][-JOURNAL_LINES:] if rc == 0 else []


def wait_until(timeout: float, done: t.Callable[[], bool]) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL)
    return True


def survivors_check(host: Host, before: dict[str, int], timeout: float) -> list[str]:
    """Poll the task list until every task running before runs again with its pid; those that do not."""
    missing = sorted(before)

    def all_back() -> bool:
        nonlocal missing
        try:
            missing = rt.interrupted_tasks(before, host.tasks())
        except ListError:
            return False
        return not missing

    wait_until(timeout, all_back)
    return missing


def preflight(module: AnsibleModule, host: Host) -> None:
    """Fail before anything is done when this host cannot do the job."""
    if not daemon.is_root():
        module.fail_json(msg=daemon.NeedsRoot().message, tasks_running=0, interrupted=[])
    if daemon.service_manager() != "systemd" or not host.bins.get("systemctl"):
        module.fail_json(msg="containerd_apply needs systemd on this host to restart %s; nothing was restarted"
                         % host.service, tasks_running=0, interrupted=[])


def run_module(module: AnsibleModule) -> dict[str, t.Any]:
    host = Host(module)
    preflight(module, host)
    if not daemon.service_active(host.run, host.bins["systemctl"], host.service):
        return {"changed": False, "tasks_running": 0, "interrupted": [],
                "skipped_reason": "%s.service is not active; it was not started" % host.service}
    if not host.bins.get("ctr"):
        module.fail_json(msg="no ctr command on this host to list containerd's tasks; %s was not restarted"
                         % host.service, tasks_running=0, interrupted=[])
    try:
        before = rt.running_tasks(host.tasks())
    except ListError as exc:
        module.fail_json(msg="cannot list containerd's tasks before the restart (%s); %s was not restarted"
                         % (exc.message, host.service), tasks_running=0, interrupted=[])
    result = {"changed": True, "tasks_running": len(before), "interrupted": []}
    if module.check_mode:
        return result
    return restart(module, host, before, result)


def restart(module: AnsibleModule, host: Host, before: dict[str, int], result: dict[str, t.Any]) -> dict[str, t.Any]:
    timeout = max(1, module.params["timeout"])
    since = time.time() - 1
    rc, out, err = host.run([host.bins["systemctl"], "restart", host.service])
    if rc != 0:
        said = " | ".join(host.journal(since)) or "nothing in the journal"
        module.fail_json(msg="systemctl restart %s failed: %s; containerd said: %s"
                         % (host.service, rt.first_line(err) or "exit status %d" % rc, said),
                         **result)
    started = time.monotonic()
    if not wait_until(timeout, host.answers):
        module.fail_json(msg="containerd did not answer ctr version within %d s after the restart" % timeout,
                         **result)
    interrupted = survivors_check(host, before, max(1.0, timeout - (time.monotonic() - started)))
    if interrupted:
        module.fail_json(msg="containerd was restarted, but %d of its %d running task(s) did not survive with the "
                         "same process: %s" % (len(interrupted), len(before), ", ".join(interrupted)),
                         **dict(result, interrupted=interrupted))
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            service=dict(type="str", default="containerd"),
            timeout=dict(type="int", default=30),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module))


if __name__ == "__main__":
    main()
