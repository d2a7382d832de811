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
  - A task that exits on its own while containerd restarts (a short-lived job finishing) is not RUNNING
    afterwards either, and counts as interrupted.
  - When containerd does not come back (C(systemctl restart) fails, or C(ctr version) does not answer within
    O(timeout)) and O(rollback=true), the previous C(config.toml) is put back (O(rollback_file) renamed onto
    O(config_path), keeping the file's mode and owner; or O(config_path) removed when O(created=true)),
    systemd's failed state of the unit is cleared (C(systemctl reset-failed)), containerd is restarted again and
    waited for, and the module fails with RV(rolled_back), RV(containerd_running) and containerd's own error
    lines (RV(journal)). Interrupted tasks are not rolled back, since containerd is up with the new file then.
  - When containerd comes back, O(rollback_file) is removed.
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
  config_path:
    description:
      - containerd's configuration file, the one to restore on rollback. A symbolic link is followed.
    type: path
    default: /etc/containerd/config.toml
  rollback:
    description:
      - Put the previous O(config_path) back and restart containerd again when it does not come back after the
        restart.
      - With V(false), the new file stays and the module fails saying whether containerd runs.
    type: bool
    default: true
  rollback_file:
    description:
      - The copy of the previous file to restore onto O(config_path) on rollback, the C(rollback_file) returned by
        M(fleetops.docker_mirror.containerd_hosts) with C(keep_previous=true). Removed once containerd came back.
      - Only that copy is restored or removed, C(<directory of the real file>/.<name>.docker_mirror-previous),
        and only when it is a regular file holding TOML; any other file is left alone and the rollback only
        restarts containerd again.
      - When null and O(created=false) there is nothing to restore; containerd is still restarted again.
    type: path
  created:
    description:
      - This run created O(config_path) (C(config_created) of M(fleetops.docker_mirror.containerd_hosts)); on
        rollback it is removed, but only when it holds TOML (a mistaken V(true) never removes another file).
    type: bool
    default: false
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

- name: Mirrors for containerd, keeping the previous config.toml for a rollback
  fleetops.docker_mirror.containerd_hosts:
    mirrors: [https://mirror.gcr.io]
    keep_previous: true
  become: true
  register: __docker_mirror_containerd

- name: Restart containerd; when it does not come back, put the previous config.toml back and restart again
  fleetops.docker_mirror.containerd_apply:
    config_path: /etc/containerd/config.toml
    rollback_file: "{{ __docker_mirror_containerd.rollback_file | default(omit) }}"
    created: "{{ __docker_mirror_containerd.config_created }}"
  become: true
  when: __docker_mirror_containerd.restart_needed
"""

RETURN = r"""
outcome:
  description: containerd's result in the shape every runtime module of this collection returns (stage V(apply)).
  returned: success
  type: dict
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
rolled_back:
  description:
    - True when the previous config.toml was restored (or the created one removed) before containerd was restarted
      again. False when there was nothing to restore, the copy was refused, or O(rollback=false).
  returned: when containerd did not come back after the restart
  type: bool
  sample: true
containerd_running:
  description: True when containerd answers C(ctr version) at the end (after the rollback, when there was one).
  returned: when containerd did not come back after the restart
  type: bool
  sample: true
journal:
  description:
    - containerd's own error lines from the unit's journal since the restart (at most 8; its info, debug and
      warning lines and systemd's lines left out), URL userinfo masked. When containerd said nothing (an
      C(ExecStartPre) failed), systemd's lines saying why the start failed.
  returned: when containerd did not come back after the restart
  type: list
  elements: str
  sample: ["containerd: failed to unmarshal TOML: (2, 1): Can't convert abc(string) to int"]
"""

import os
import time
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd as ctd
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _daemon as daemon
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _errors as errors
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _host
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _rollback as rollback
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _runtimes as rt
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._outcome import outcome

POLL_INTERVAL = 0.5
# Each ctr call may take this long (a hung containerd must not stall the module).
CTR_TIMEOUT = 10


class ListError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Host(_host.HostRunner):
    def __init__(self, module: AnsibleModule) -> None:
        super().__init__(module, ("systemctl", "ctr", "journalctl"), CTR_TIMEOUT)
        self.service = module.params["service"]

    def ctr(self, *args: str) -> tuple[int, str, str]:
        return self.run_bounded([self.bins["ctr"]] + list(args))

    def systemctl(self, action: str) -> tuple[int, str, str]:
        return self.run([self.bins["systemctl"], action, self.service])

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
            except ConfigError as exc:
                raise ListError(exc.message) from None
        return tasks

    def answers(self) -> bool:
        return self.ctr("version")[0] == 0

    def journal(self, since: float) -> tuple[str, list[str]]:
        """(who, lines): containerd's own error lines in the unit's journal since ``since`` (why it did not come
        back), else systemd's reason; ("", []) without journalctl."""
        if not self.bins.get("journalctl"):
            return "", []
        rc, out, dummy = self.run([self.bins["journalctl"], "--unit", self.service, "--since", "@%d" % int(since),
                                   "--no-pager", "--output", "json",
                                   "--output-fields", "MESSAGE,SYSLOG_IDENTIFIER"])
        return ctd.journal_error_lines(out) if rc == 0 else ("", [])


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
    if not errors.is_root():
        _host.fail(module, errors.NeedsRoot().message, tasks_running=0, interrupted=[])
    if daemon.service_manager() != "systemd" or not host.bins.get("systemctl"):
        _host.fail(module, "containerd_apply needs systemd on this host to restart %s; nothing was restarted"
                   % host.service, tasks_running=0, interrupted=[])
    if not os.path.isabs(module.params["config_path"]):
        _host.fail(module, "%s: config_path must be an absolute path; nothing was restarted"
                   % module.params["config_path"], tasks_running=0, interrupted=[])


def run_module(module: AnsibleModule) -> dict[str, t.Any]:
    host = Host(module)
    preflight(module, host)
    if not daemon.service_active(host.run, host.bins["systemctl"], host.service):
        return {"changed": False, "tasks_running": 0, "interrupted": [],
                "skipped_reason": "%s.service is not active; it was not started" % host.service}
    if not host.bins.get("ctr"):
        _host.fail(module, "no ctr command on this host to list containerd's tasks; %s was not restarted"
                   % host.service, tasks_running=0, interrupted=[])
    try:
        before = rt.running_tasks(host.tasks())
    except ListError as exc:
        _host.fail(module, "cannot list containerd's tasks before the restart (%s); %s was not restarted"
                   % (exc.message, host.service), tasks_running=0, interrupted=[])
    result = {"changed": True, "tasks_running": len(before), "interrupted": []}
    if module.check_mode:
        return result
    return restart(module, host, before, result)


def restart(module: AnsibleModule, host: Host, before: dict[str, int], result: dict[str, t.Any]) -> dict[str, t.Any]:
    timeout = max(1, module.params["timeout"])
    since = time.time() - 1
    cause = come_back(host, timeout)
    if cause:
        fail_and_roll_back(module, host, cause, since, result)
    forget_copy(module)
    interrupted = survivors_check(host, before, timeout)
    if interrupted:
        _host.fail(module, "containerd was restarted, but %d of its %d running task(s) did not survive with the "
                   "same process: %s" % (len(interrupted), len(before), ", ".join(interrupted)),
                   **dict(result, interrupted=interrupted))
    return result


def come_back(host: Host, timeout: float) -> str | None:
    """Restart and wait until ``ctr version`` answers; None, or why containerd did not come back."""
    rc, out, err = host.systemctl("restart")
    if rc != 0:
        return "systemctl restart %s failed: %s" % (host.service, rt.first_line(err) or "exit status %d" % rc)
    if not wait_until(timeout, host.answers):
        return "containerd did not answer ctr version within %d s after the restart" % timeout
    return None


# --------------------------------------------------------------------------- rollback


def managed_file(module: AnsibleModule) -> rollback.Managed:
    return rollback.Managed(os.path.realpath(module.params["config_path"]), "config.toml", "containerd_hosts",
                            "a TOML file", ctd.parse_toml)


def forget_copy(module: AnsibleModule) -> None:
    """containerd came back with the new file: remove containerd_hosts' copy (never another file)."""
    rollback_file = module.params["rollback_file"]
    try:
        rollback.forget_copy(rollback_file, os.path.realpath(module.params["config_path"]))
    except OSError as exc:
        module.warn("containerd took the new %s, but its previous copy %s could not be removed (%s)"
                    % (os.path.realpath(module.params["config_path"]), rollback_file, exc.strerror))


def restore_file(module: AnsibleModule) -> tuple[bool, str]:
    return rollback.restore(module, managed_file(module), module.params["rollback_file"], module.params["created"])


def fail_and_roll_back(module: AnsibleModule, host: Host, cause: str, since: float,
                       result: dict[str, t.Any]) -> t.NoReturn:
    """containerd did not come back: its own words, then (with rollback) the previous file and a restart."""
    config = module.params["config_path"]
    who, journal = host.journal(since)
    said = (" %s said: %s" % (who, " | ".join(journal))) if journal else " (nothing from containerd in the journal)"
    result = dict(result, journal=journal)
    if not module.params["rollback"]:
        running = host.answers()
        _host.fail(module, "containerd did not take the new %s: %s; rollback is off: %s holds the new configuration, "
                   "containerd is %s.%s" % (config, cause, config, "running" if running else "NOT RUNNING", said),
                   rolled_back=False, containerd_running=running, **result)
    restored, what = restore_file(module)
    # A crash loop may have used up systemd's start limit, and a restart it scheduled may be pending: clear both.
    host.systemctl("reset-failed")
    again = come_back(host, max(1, module.params["timeout"]))
    running = "containerd running again" if again is None else "but CONTAINERD IS NOT RUNNING (%s)" % again
    _host.fail(module, "containerd did not take the new %s: %s; %s, %s.%s" % (config, cause, what, running, said),
               rolled_back=restored, containerd_running=again is None, **result)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            service=dict(type="str", default="containerd"),
            timeout=dict(type="int", default=30),
            config_path=dict(type="path", default="/etc/containerd/config.toml"),
            rollback=dict(type="bool", default=True),
            rollback_file=dict(type="path"),
            created=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    result = run_module(module)
    result["outcome"] = outcome("containerd", "apply", applied="restart" if result["changed"] else "")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
