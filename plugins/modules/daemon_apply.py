#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: daemon_apply
short_description: Make dockerd take its daemon.json, check the live daemon, roll back on failure
version_added: 1.1.0
description:
  - One round trip to the Docker daemon after M(fleetops.docker_mirror.daemon_json) changed its file. Reloads
    (C(SIGHUP)) or restarts Docker, then polls C(docker info) until the live daemon reports exactly the
    registry mirrors O(mirrors) (compared the way dockerd normalises them, in order).
  - The first poll follows the signal at once; the pauses between polls start at 50 ms and back off to half a
    second. C(docker info) is read from the Docker API on its unix socket, without starting the C(docker) CLI
    (the CLI is asked when C(DOCKER_HOST) or a docker CLI context points elsewhere; a host without the
    C(docker) command is still reported as not answering).
  - A reload returns before dockerd has re-read its file, and a reload dockerd rejects only logs an error, so
    the exit status of the reload is not trusted; only the live daemon is, and on systemd hosts dockerd's own
    verdict on the reload in the journal. A rejected reload is a failure even when the live mirrors already
    equal O(mirrors) (dockerd keeps its previous mirrors then), because the refused file would stop Docker at
    its next restart.
  - When Docker does not take the change within O(timeout) seconds and O(rollback=true), the previous file is
    put back (O(rollback_file) renamed onto O(path), keeping the file's mode and owner; or O(path) removed when
    O(created=true)), systemd's failed state of the unit is cleared, Docker is reloaded or restarted again and
    the module waits until dockerd answers. The host then fails with dockerd's own error lines from the
    journal.
  - A restart first clears systemd's failed state of the unit, so a unit that hit its start limit (a bad file
    before this run) can be started again.
  - The service manager is found on the host, systemd when C(/run/systemd/system) exists, else C(service).
author:
  - fleetops engineers (@fleetops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode nothing is signalled, restored or removed; the result is changed.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  action:
    description:
      - V(reload) sends C(SIGHUP) through the service manager; running containers are untouched. Enough when
        M(fleetops.docker_mirror.daemon_json) returned C(reload_sufficient=true).
      - V(restart) restarts Docker; containers without C(live-restore) are stopped and started.
    type: str
    choices: [reload, restart]
    required: true
  path:
    description:
      - The daemon.json file dockerd reads, the one to restore on rollback. A symbolic link is followed.
      - A relative path is refused before anything is signalled.
    type: path
    default: /etc/docker/daemon.json
  mirrors:
    description:
      - The registry mirrors the live daemon must report, in order, for example the C(registry_mirrors)
        returned by M(fleetops.docker_mirror.daemon_json). C(https://a) and C(https://a/) are the same mirror.
      - V([]) means the live daemon must use no mirror.
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds to wait for the live daemon to report O(mirrors), and again for dockerd to answer after a rollback.
    type: int
    default: 20
  rollback:
    description:
      - Put the previous file back and bring Docker back with it when Docker does not take the change.
      - With V(false) the host fails and O(path) keeps the new configuration.
    type: bool
    default: true
  rollback_file:
    description:
      - The copy of the previous file to restore onto O(path) on rollback, the C(rollback_file) returned by
        M(fleetops.docker_mirror.daemon_json) with C(keep_previous=true). Removed on success.
      - Only that copy is restored or removed, C(<directory of the real file>/.<name>.docker_mirror-previous),
        and only when it is a regular file holding a JSON object; any other file is left alone and the rollback
        says why (the new file stays), so a mistaken value can neither consume a file of yours nor restore a
        truncated copy that would keep Docker down.
      - When null and O(created=false) there is nothing to restore; Docker is still brought back.
    type: path
  created:
    description:
      - This run created O(path); on rollback it is removed, but only when it holds a JSON object (a mistaken
        V(true) never deletes another kind of file).
    type: bool
    default: false
  service:
    description: Name of Docker's service.
    type: str
    default: docker
notes:
  - Needs root (C(become=true)) to signal Docker and restore the file; as another user it fails at once with
    "needs root on this host", before signalling anything.
seealso:
  - module: fleetops.docker_mirror.daemon_json
"""

EXAMPLES = r"""
- name: Write the mirror, keeping the previous file on the host for a rollback
  fleetops.docker_mirror.daemon_json:
    registry_mirrors:
      - https://mirror.gcr.io
    keep_previous: true
  become: true
  register: __docker_mirror_daemon_json

- name: Reload Docker and wait until it uses the mirror; on failure put the previous file back
  fleetops.docker_mirror.daemon_apply:
    action: "{{ 'reload' if __docker_mirror_daemon_json.reload_sufficient else 'restart' }}"
    mirrors: "{{ __docker_mirror_daemon_json.registry_mirrors }}"
    rollback_file: "{{ __docker_mirror_daemon_json.rollback_file | default(omit) }}"
    created: "{{ __docker_mirror_daemon_json.created }}"
  become: true
  when: __docker_mirror_daemon_json is changed
  register: __docker_mirror_applied

- name: Restart Docker without rollback, waiting up to a minute
  fleetops.docker_mirror.daemon_apply:
    action: restart
    mirrors: [https://mirror.gcr.io]
    rollback: false
    timeout: 60
  become: true
"""

RETURN = r"""
action:
  description: What was done, V(reload) or V(restart).
  returned: always
  type: str
  sample: reload
outcome:
  description: Docker's result in the shape every runtime module of this collection returns (stage V(apply)).
  returned: always
  type: dict
live_mirrors:
  description:
    - The mirrors the live daemon reported last (C(RegistryConfig.Mirrors) of C(docker info)), with dockerd's
      trailing slash. On failure after a rollback, those of the daemon running with the restored file.
    - Null when dockerd did not answer, and in check mode.
  returned: always
  type: list
  elements: str
  sample: ["https://mirror.gcr.io/"]
stage:
  description: V(apply), the step of the rollout that failed (for a fleet summary).
  returned: failure
  type: str
  sample: apply
rolled_back:
  description:
    - True when the previous file was restored (or the created file removed) before Docker was signalled again.
    - False when there was nothing to restore or the copy was refused; Docker was still signalled again.
  returned: failure
  type: bool
  sample: true
docker_running:
  description:
    - True when dockerd answers C(docker info) at the end (after the rollback, when there was one).
    - Null when the module did not get as far as asking (not root).
  returned: failure
  type: bool
  sample: true
journal:
  description:
    - dockerd's own error lines from the journal of the service since the module started (at most 3; its
      info, debug and warning lines and systemd's state lines left out), URL userinfo masked.
    - Empty without systemd or when the journal holds nothing.
  returned: failure
  type: list
  elements: str
  sample:
    - "unable to configure the Docker daemon with file /etc/docker/daemon.json: the following directives don't match
      any configuration option: no-such-key"
"""

import os
import re
import time
import typing as t

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _daemon as daemon
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _errors as errors
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _host
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _rollback as rollback
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._outcome import outcome
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._document import (
    parse,
    redact_arguments,
)
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._registry import (
    mask_userinfo,
    normalize_mirrors,
)

# Polls start FIRST_POLL after the signal and back off (doubling) to POLL_INTERVAL: dockerd logs its verdict on a
# reload some 30 ms after `systemctl reload` returns, and answers at once after a restart (systemd waits for it).
FIRST_POLL = 0.05
POLL_INTERVAL = 0.5
JOURNAL_LINES = 50
# What dockerd logs after "Got signal to reload configuration" (20.10 ... 28.x): taken, or the file refused.
RELOAD_VERDICT = re.compile(r"Reloaded configuration|unable to configure the Docker daemon")
RELOAD_REFUSED = re.compile(r"unable to configure the Docker daemon")
# dockerd logs its verdict within milliseconds of the signal; without one in this time, the mirrors decide.
RELOAD_VERDICT_WAIT = 5.0


class Host(_host.HostRunner):
    """The commands this module runs on the host, found once."""

    def __init__(self, module: AnsibleModule) -> None:
        super().__init__(module, ("docker", "systemctl", "service", "journalctl"), daemon.DOCKER_INFO_TIMEOUT)
        self.service = module.params["service"]
        self.manager = daemon.service_manager()

    def signal(self, action: str) -> str | None:
        """Tell the service manager; None on success, else what went wrong."""
        argv = daemon.service_command(self.manager, self.bins, self.service, action)
        if argv is None:
            return "no %s command on this host" % ("systemctl" if self.manager == "systemd" else "service")
        rc, out, err = self.run(argv)
        if rc == 0:
            return None
        return "%s failed: %s" % (" ".join([os.path.basename(argv[0])] + argv[1:]),
                                  daemon.first_line(err) or daemon.first_line(out) or "exit status %d" % rc)

    def reset_failed(self) -> None:
        argv = daemon.service_command(self.manager, self.bins, self.service, "reset-failed")
        if argv:
            self.run(argv)

    def active(self, service: str | None = None) -> bool:
        return self.manager != "systemd" or super().active(service or self.service)

    def info(self, seconds: float) -> daemon.DockerInfo:
        """docker info, but never while the unit is down: docker.socket would start dockerd on the file just
        refused, and each such start counts against systemd's start limit."""
        if not self.active():
            return daemon.DockerInfo(False, None, None, "%s.service is not active" % self.service)
        return daemon.live_info(self.run, self.bins, max(1, int(seconds)))

    def journal_lines(self, since: float) -> list[str] | None:
        """The service's journal since ``since``; None without systemd or journalctl."""
        journalctl = self.bins.get("journalctl")
        if self.manager != "systemd" or not journalctl:
            return None
        rc, out, dummy = self.run([journalctl, "--unit", self.service, "--since", "@%d" % int(since),
                                   "--lines", str(JOURNAL_LINES), "--no-pager", "--output", "cat"])
        return out.splitlines() if rc == 0 else None

    def journal(self, since: float) -> list[str]:
        return daemon.dockerd_error_lines(self.journal_lines(since) or [])

    def reload_verdicts(self, since: float) -> list[str] | None:
        """dockerd's verdict lines on reloads since ``since`` (taken, or the file refused), oldest first."""
        lines = self.journal_lines(since)
        return None if lines is None else [line for line in lines if RELOAD_VERDICT.search(line)]


class Outcome(t.NamedTuple):
    ok: bool
    cause: str | None
    live_mirrors: list[str] | None


def pauses() -> t.Iterator[float]:
    """Seconds to sleep between two polls: FIRST_POLL, doubling up to POLL_INTERVAL."""
    pause = FIRST_POLL
    while True:
        yield min(pause, POLL_INTERVAL)
        pause *= 2


def wait_for(host: Host, timeout: float, done: t.Callable[[daemon.DockerInfo], bool]) -> daemon.DockerInfo:
    """Poll ``docker info`` (the API) until ``done`` or the deadline; the last answer."""
    deadline = time.monotonic() + timeout
    pause = pauses()
    while True:
        info = host.info(min(daemon.DOCKER_INFO_TIMEOUT, max(1.0, deadline - time.monotonic())))
        if done(info) or time.monotonic() >= deadline:
            return info
        time.sleep(min(next(pause), max(0.0, deadline - time.monotonic())))


def describe(mirrors: list[str] | None) -> str:
    return ", ".join(mask_userinfo(mirror) for mirror in mirrors or []) or "no mirror"


def reload_refusal(host: Host, since: float, seen: list[str] | None, timeout: float) -> str | None:
    """dockerd's own line refusing the reload, or None (taken, or no journal to tell).

    A rejected reload only logs an error and keeps the old mirrors, so when those already equal the wanted
    ones the live daemon looks right while the file on disk would stop Docker at its next restart."""
    if seen is None:
        return None
    deadline = time.monotonic() + timeout
    pause = pauses()
    while True:
        verdicts = host.reload_verdicts(since) or []
        if len(verdicts) > len(seen):
            return verdicts[-1] if RELOAD_REFUSED.search(verdicts[-1]) else None
        if time.monotonic() >= deadline:
            return None
        time.sleep(next(pause))


def apply(host: Host, action: str, wanted: list[str], timeout: float) -> Outcome:
    """Signal dockerd, then trust only the live daemon (and, on a reload, its verdict in the journal)."""
    if action == "restart":
        # A unit that failed too often (a bad file before this run) is refused by systemd until this.
        host.reset_failed()
    since = time.time() - 1
    seen = host.reload_verdicts(since) if action == "reload" else None
    problem = host.signal(action)
    if problem:
        return Outcome(False, problem, None)
    refusal = reload_refusal(host, since, seen, min(timeout, RELOAD_VERDICT_WAIT))
    if refusal:
        return Outcome(False, "dockerd rejected the new file on reload (it keeps running on its previous "
                       "configuration)", None)
    wanted_key = normalize_mirrors(wanted)
    info = wait_for(host, timeout, lambda info: info.answered and normalize_mirrors(info.mirrors) == wanted_key)
    if not info.answered:
        return Outcome(False, "dockerd is not answering after the %s (%s)" % (action, info.error), None)
    if normalize_mirrors(info.mirrors) != wanted_key:
        return Outcome(False, "after the %s the live daemon still reports %s instead of %s"
                       % (action, describe(info.mirrors), describe(wanted)), info.mirrors)
    return Outcome(True, None, info.mirrors)


def managed_file(module: AnsibleModule) -> rollback.Managed:
    return rollback.Managed(os.path.realpath(module.params["path"]), "daemon.json", "daemon_json",
                            "a daemon.json dockerd reads", parse)


def restore_file(module: AnsibleModule) -> tuple[bool, str]:
    return rollback.restore(module, managed_file(module), module.params["rollback_file"], module.params["created"])


def roll_back(module: AnsibleModule, host: Host, action: str, timeout: float) -> tuple[bool, str, daemon.DockerInfo]:
    """Restore, clear systemd's failed state, signal again, wait until dockerd answers."""
    restored, what = restore_file(module)
    # A failed start may have used up systemd's start limit (docker.service allows 3 starts a minute), and a
    # restart it scheduled itself may still be pending: clear both, or systemd would refuse or undo the start.
    host.reset_failed()
    # A reload cannot bring back a dockerd that died: then start it again.
    host.signal(action if host.active() else "restart")
    info = wait_for(host, timeout, lambda info: info.answered)
    return restored, what, info


def shown_arguments(module: AnsibleModule) -> dict[str, t.Any]:
    """What Ansible echoes with -vvv (``invocation``): never a password given in a mirror."""
    return {"module_args": redact_arguments(module.params)}


def succeed(module: AnsibleModule, **result: t.Any) -> t.NoReturn:
    done = outcome("docker", "apply", applied=module.params["action"], live_mirrors=result.get("live_mirrors"))
    module.exit_json(changed=True, action=module.params["action"], invocation=shown_arguments(module),
                     outcome=done, **result)


def fail(module: AnsibleModule, message: str, **result: t.Any) -> t.NoReturn:
    done = outcome("docker", "apply", rolled_back=bool(result.get("rolled_back")), problem=errors.mask_url(message),
                   live_mirrors=result.get("live_mirrors"))
    _host.fail(module, message, stage="apply", action=module.params["action"], invocation=shown_arguments(module),
               outcome=done, **result)


def run_module(module: AnsibleModule) -> None:
    params = module.params
    action, path, timeout = params["action"], params["path"], params["timeout"]
    if module.check_mode:
        succeed(module, live_mirrors=None)
    if not os.path.isabs(path):
        fail(module, "%s: path must be absolute, starting with / (for example /etc/docker/daemon.json); nothing "
             "was signalled" % path, rolled_back=False, docker_running=None, live_mirrors=None, journal=[])
    if not errors.is_root():
        fail(module, errors.NeedsRoot().message, rolled_back=False, docker_running=None, live_mirrors=None, journal=[])
    started = time.time() - 1
    host = Host(module)
    attempt = apply(host, action, params["mirrors"], timeout)
    if attempt.ok:
        rollback.forget_copy(params["rollback_file"], os.path.realpath(path))
        succeed(module, live_mirrors=attempt.live_mirrors)
    journal = host.journal(started)
    said = " dockerd said: %s" % " | ".join(journal) if journal else " (nothing from dockerd in the journal)"
    if not params["rollback"]:
        info = host.info(daemon.DOCKER_INFO_TIMEOUT)
        fail(module, "Docker did not take the new %s: %s; rollback is off: %s holds the new configuration.%s"
             % (path, attempt.cause, path, said), rolled_back=False, docker_running=info.answered,
             live_mirrors=info.mirrors if info.answered else attempt.live_mirrors, journal=journal)
    restored, what, info = roll_back(module, host, action, timeout)
    running = "Docker running again" if info.answered else "but DOCKER IS NOT RUNNING (%s)" % info.error
    fail(module, "Docker did not take the new %s: %s; %s, %s.%s" % (path, attempt.cause, what, running, said),
         rolled_back=restored, docker_running=info.answered, live_mirrors=info.mirrors, journal=journal)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", choices=["reload", "restart"], required=True),
            path=dict(type="path", default="/etc/docker/daemon.json"),
            mirrors=dict(type="list", elements="str", required=True),
            timeout=dict(type="int", default=20),
            rollback=dict(type="bool", default=True),
            rollback_file=dict(type="path"),
            created=dict(type="bool", default=False),
            service=dict(type="str", default="docker"),
        ),
        supports_check_mode=True,
    )
    try:
        run_module(module)
    except OSError as exc:
        fail(module, "%s: %s" % (module.params["path"], to_native(exc)), rolled_back=False, docker_running=False,
             live_mirrors=None, journal=[])


if __name__ == "__main__":
    main()
