#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mirrors_info
short_description: The registry mirrors every container runtime on the host uses now
version_added: 1.1.0
description:
  - Reports, per container runtime (Docker, containerd, Podman), whether it is installed, whether it runs, and the
    mirrors it uses now for O(registry), as each runtime itself sees them.
  - B(Docker) - the live daemon's C(RegistryConfig.Mirrors) from C(docker info) (Docker uses mirrors for
    C(docker.io) only, so another O(registry) has none). A stopped C(docker.service) is never asked, because
    C(docker.socket) would start it.
  - B(containerd) - the C(hosts.toml) containerd reads for O(registry) under O(hosts_dir) (it reads that file at
    every pull, so its C([host]) tables are the live mirrors), whether the CRI plugin of the running containerd
    reads O(hosts_dir) (its C(config_path) in C(containerd config dump)) and whether O(containerd_config)
    changed after the containerd process started (a restart is pending). A stopped C(containerd.service) is
    not asked.
  - B(Podman) - the merged registries of C(podman info) (the main C(registries.conf) and every drop-in), which
    Buildah, Skopeo and CRI-O read too. Podman has no daemon; it is V(ready) when C(podman info) answers.
  - Mirrors are returned in the daemon.json form, C(https://host[:port]), and C(http://host[:port]) for a
    plain-http (containerd) or C(insecure = true) (registries.conf) mirror, without a trailing slash, so that one
    list can be compared across runtimes.
  - Nothing is written and no service is started or signalled. C(podman info) initialises Podman's storage
    directory when it does not exist yet, as every podman command does.
author:
  - fleetops engineers (@fleetops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module changes nothing, in check mode or not.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  runtimes:
    description:
      - The runtimes to report. V(auto) is every runtime installed on the host (RV(detected)).
      - A runtime named here that is not installed is reported with C(state=not-installed).
    type: list
    elements: str
    choices: [auto, docker, containerd, podman]
    default: [auto]
  registry:
    description:
      - The registry whose mirrors are reported, C(host[:port]).
    type: str
    default: docker.io
  containerd_config:
    description:
      - containerd's configuration file; read by C(containerd config dump) and compared with the start time of
        the running containerd.
    type: path
    default: /etc/containerd/config.toml
  hosts_dir:
    description:
      - containerd's hosts directory. Default as in M(fleetops.docker_mirror.containerd_hosts) - the first
        directory of the CRI plugin's C(config_path), else C(/etc/containerd/certs.d).
    type: path
  docker_service:
    description: Name of Docker's service.
    type: str
    default: docker
  containerd_service:
    description: Name of containerd's service.
    type: str
    default: containerd
  timeout:
    description: Seconds each runtime may take to answer before it counts as V(not-answering).
    type: int
    default: 30
notes:
  - Run it with C(become=true). As another user Docker and containerd refuse the question and Podman answers
    for that user's rootless setup, if at all; a runtime then V(not-answering) says in its C(error) that the
    module needs root.
seealso:
  - module: fleetops.docker_mirror.containerd_hosts
  - module: fleetops.docker_mirror.registries_conf
  - module: fleetops.docker_mirror.containerd_apply
"""

EXAMPLES = r"""
- name: What every runtime on the host pulls Docker Hub images through
  fleetops.docker_mirror.mirrors_info:
  become: true
  register: __docker_mirror_info

- name: Show one line per runtime
  ansible.builtin.debug:
    msg: "{{ item.key }}: {{ item.value.state }}, mirrors {{ item.value.mirrors }}"
  loop: "{{ __docker_mirror_info.runtimes | dict2items }}"

- name: Only containerd and Podman, for a private registry
  fleetops.docker_mirror.mirrors_info:
    runtimes: [containerd, podman]
    registry: registry.example.com:5000
  become: true
"""

RETURN = r"""
detected:
  description:
    - The runtimes installed on the host, in the order docker, containerd, podman. C(docker) - a C(docker) or
      C(dockerd) command; C(containerd) - the C(containerd) command; C(podman) - a C(podman), C(buildah),
      C(skopeo) or C(crio) command.
  returned: always
  type: list
  elements: str
  sample: [docker, containerd, podman]
runtimes:
  description: One entry per runtime reported (every detected runtime with O(runtimes=[auto])).
  returned: always
  type: dict
  contains:
    installed:
      description: Whether the runtime is installed.
      type: bool
    state:
      description:
        - V(running) (the daemon answers), V(stopped) (its service is not active; it was not asked),
          V(not-answering), V(not-installed); for Podman, which has no daemon, V(ready) when C(podman info)
          answers.
      type: str
    mirrors:
      description:
        - The mirrors the runtime uses for O(registry) now, in order, C(https://host[:port]) or
          C(http://host[:port]). V([]) when it uses none. Null when unknown (not running, not answering, a file
          that cannot be read).
      type: list
      elements: str
    error:
      description: Why the runtime is not running or its mirrors are unknown; null when all is well.
      type: str
    hosts_file:
      description:
        - containerd only. The hosts.toml containerd reads for O(registry) (its own directory, else
          C(_default)); null when there is none.
      type: str
    hosts_dir:
      description: containerd only. The hosts directory looked at.
      type: str
    cri_reads_hosts_dir:
      description:
        - containerd only. Whether the running containerd's CRI plugin (Kubernetes) reads C(hosts_dir) - its
          C(config_path) lists it and no restart is pending. Null when C(containerd config dump) failed.
      type: bool
    restart_pending:
      description:
        - containerd only. O(containerd_config) changed after the running containerd started, so containerd
          does not use it yet. False when containerd does not run.
      type: bool
    podman_version:
      description: podman only. The version C(podman info) reports; null when it did not answer.
      type: str
  sample:
    docker:
      installed: true
      state: running
      mirrors: ["http://127.0.0.1:5000"]
      error: null
    containerd:
      installed: true
      state: running
      mirrors: ["http://127.0.0.1:5000"]
      error: null
      hosts_dir: /etc/containerd/certs.d
      hosts_file: /etc/containerd/certs.d/docker.io/hosts.toml
      cri_reads_hosts_dir: true
      restart_pending: false
    podman:
      installed: true
      state: ready
      mirrors: ["http://127.0.0.1:5000"]
      error: null
      podman_version: 5.4.2
"""

import os
import time
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _daemon as daemon
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _runtimes as rt
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._containerd import (
    DEFAULT_HOSTS_DIR,
    validate_registry,
)
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._document import DaemonConfigError

COMMANDS = ("docker", "dockerd", "systemctl", "timeout", "containerd", "ctr") + rt.PODMAN_FAMILY
PROC_ROOT = "/proc"
HOSTS_FILE = "hosts.toml"


class Host:
    """The commands found on the host, and how to run them within the module's timeout."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.timeout = max(1, module.params["timeout"])
        self.bins = {name: module.get_bin_path(name) for name in COMMANDS}

    def run(self, argv: list[str]) -> tuple[int, str, str]:
        return self.module.run_command(argv)

    def run_bounded(self, argv: list[str]) -> tuple[int, str, str]:
        """``argv`` under coreutils' timeout (exit status 124 when it did not answer in time)."""
        if self.bins.get("timeout"):
            argv = [self.bins["timeout"], str(self.timeout)] + argv
        rc, out, err = self.run(argv)
        if rc == daemon.TIMEOUT_EXIT_STATUS and self.bins.get("timeout"):
            err = "%s did not answer within %d s" % (" ".join(os.path.basename(arg) for arg in argv[2:4]),
                                                     self.timeout)
        return rc, out, err

    def systemd(self) -> bool:
        return daemon.service_manager() == "systemd" and bool(self.bins.get("systemctl"))

    def active(self, service: str) -> bool:
        return daemon.service_active(self.run, self.bins.get("systemctl"), service)

    def detected(self) -> list[str]:
        found = {
            "docker": bool(self.bins.get("docker") or self.bins.get("dockerd")),
            "containerd": bool(self.bins.get("containerd")),
            "podman": any(self.bins.get(name) for name in rt.PODMAN_FAMILY),
        }
        return [name for name in rt.RUNTIMES if found[name]]


def entry(installed: bool, state: str, mirrors: list[str] | None, error: str | None, **extra: t.Any) -> dict:
    return dict(installed=installed, state=state, mirrors=mirrors, error=error, **extra)


# --------------------------------------------------------------------------- docker


def docker_view(host: Host, registry: str, service: str) -> dict[str, t.Any]:
    status = daemon.probe(host.run, host.bins, service)
    if status.state != "running":
        return entry(status.state != "not-installed", status.state, None, status.error)
    mirrors = [rt.url_form(mirror) for mirror in status.live_mirrors or []] if registry == "docker.io" else []
    return entry(True, "running", mirrors, None)


# --------------------------------------------------------------------------- containerd


def boot_realtime() -> float:
    """When the host booted, in epoch seconds, to the microsecond (/proc/stat's btime is truncated to seconds)."""
    return time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)


def process_start(pid: int) -> float | None:
    stat_text = daemon.read_text(os.path.join(PROC_ROOT, str(pid), "stat"))
    return None if stat_text is None else rt.start_time(stat_text, boot_realtime(), os.sysconf("SC_CLK_TCK"))


def restart_pending(host: Host, service: str, config: str) -> bool:
    """config.toml is newer than the running containerd process (it reads the file only at start)."""
    pid = daemon.main_pid(host.run, host.bins.get("systemctl"), service)
    started = process_start(pid) if pid > 0 else None
    try:
        modified = os.stat(config).st_mtime
    except OSError:
        return False
    # The start time is known to a clock tick (it is truncated): a file written in that tick does not count.
    return started is not None and modified > started + 1.0 / os.sysconf("SC_CLK_TCK")


def containerd_state(host: Host, service: str) -> tuple[str, str | None]:
    if host.systemd() and not host.active(service):
        return "stopped", "containerd is stopped (%s.service is not active)" % service
    if not host.bins.get("ctr"):
        return "not-answering", "no ctr command on this host to ask containerd"
    rc, out, err = host.run_bounded([host.bins["ctr"], "version"])
    if rc != 0:
        return "not-answering", "containerd is not answering: %s" % (rt.first_line(err) or rt.first_line(out))
    return "running", None


def cri_dirs(host: Host, config: str) -> tuple[list[str] | None, str | None]:
    """The CRI plugin's hosts directories as containerd reads config.toml, or (None, why not)."""
    rc, out, err = host.run_bounded([host.bins["containerd"], "--config", config, "config", "dump"])
    if rc != 0:
        return None, "containerd config dump failed: %s" % (rt.first_line(err) or "exit status %d" % rc)
    try:
        return rt.dump_dirs(out), None
    except DaemonConfigError as exc:
        return None, exc.message


def hosts_mirrors(hosts_dir: str, registry: str) -> tuple[str | None, list[str] | None, str | None]:
    """(the hosts.toml containerd reads for ``registry``, its mirrors, error)."""
    for name in rt.hosts_file_candidates(registry):
        path = os.path.join(hosts_dir, name, HOSTS_FILE)
        if not os.path.isfile(path):
            continue
        text = daemon.read_text(path)
        if text is None:
            return path, None, "%s: cannot be read" % path
        try:
            return path, rt.hosts_toml_mirrors(text, path), None
        except DaemonConfigError as exc:
            return path, None, "%s (containerd fails every pull of %s)" % (exc.message, registry)
    return None, [], None


def containerd_view(host: Host, params: dict[str, t.Any]) -> dict[str, t.Any]:
    service, config = params["containerd_service"], params["containerd_config"]
    if not host.bins.get("containerd"):
        return entry(False, "not-installed", None, "containerd is not installed (no containerd command)",
                     hosts_dir=None, hosts_file=None, cri_reads_hosts_dir=None, restart_pending=False)
    state, error = containerd_state(host, service)
    dirs, dump_error = cri_dirs(host, config)
    hosts_dir = os.path.normpath(params["hosts_dir"] or (dirs[0] if dirs else DEFAULT_HOSTS_DIR))
    hosts_file, mirrors, file_error = hosts_mirrors(hosts_dir, params["registry"])
    pending = state == "running" and restart_pending(host, service, config)
    reads = None if dirs is None else (hosts_dir in [os.path.normpath(item) for item in dirs] and not pending)
    if state != "running":
        mirrors = None
    return entry(True, state, mirrors, error or file_error or dump_error, hosts_dir=hosts_dir,
                 hosts_file=hosts_file, cri_reads_hosts_dir=reads, restart_pending=pending)


# --------------------------------------------------------------------------- podman


def podman_view(host: Host, registry: str) -> dict[str, t.Any]:
    if not host.bins.get("podman"):
        installed = any(host.bins.get(name) for name in rt.PODMAN_FAMILY)
        if not installed:
            return entry(False, "not-installed", None, "Podman is not installed (no podman, buildah, skopeo or "
                                                       "crio command)", podman_version=None)
        return entry(True, "not-answering", None, "no podman command to show the registries that buildah, skopeo "
                                                  "or CRI-O read: install podman", podman_version=None)
    info = rt.parse_podman_info(*host.run_bounded([host.bins["podman"], "info", "--format", "json"]))
    if not info.answered:
        return entry(True, "not-answering", None, "podman info failed: %s" % info.error, podman_version=None)
    return entry(True, "ready", rt.podman_mirrors(info.registries or {}, registry), None,
                 podman_version=info.version)


# --------------------------------------------------------------------------- the module


def selected(wanted: list[str], detected: list[str]) -> list[str]:
    names = set(detected) if "auto" in wanted else set()
    names.update(name for name in wanted if name != "auto")
    return [name for name in rt.RUNTIMES if name in names]


def run_module(module: AnsibleModule) -> dict[str, t.Any]:
    params = module.params
    try:
        validate_registry(params["registry"])
    except DaemonConfigError as exc:
        module.fail_json(msg=exc.message)
    for option in ("hosts_dir", "containerd_config"):
        if params[option] and not os.path.isabs(params[option]):
            module.fail_json(msg="%s: %s must be an absolute path" % (params[option], option))
    host = Host(module)
    detected = host.detected()
    views = {
        "docker": lambda: docker_view(host, params["registry"], params["docker_service"]),
        "containerd": lambda: containerd_view(host, params),
        "podman": lambda: podman_view(host, params["registry"]),
    }
    runtimes = {name: views[name]() for name in selected(params["runtimes"], detected)}
    if not daemon.is_root():
        # Docker's and containerd's sockets are root's, and podman answers for this user's rootless storage.
        for view in runtimes.values():
            if view["state"] == "not-answering":
                view["error"] = "%s; %s" % (view["error"], daemon.NeedsRoot().message)
    return {"changed": False, "detected": detected, "runtimes": runtimes}


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            runtimes=dict(type="list", elements="str", choices=["auto", "docker", "containerd", "podman"],
                          default=["auto"]),
            registry=dict(type="str", default="docker.io"),
            containerd_config=dict(type="path", default="/etc/containerd/config.toml"),
            hosts_dir=dict(type="path"),
            docker_service=dict(type="str", default="docker"),
            containerd_service=dict(type="str", default="containerd"),
            timeout=dict(type="int", default=30),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module))


if __name__ == "__main__":
    main()
