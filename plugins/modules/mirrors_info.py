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
    C(docker.socket) would start it. Docker is installed when the C(dockerd) command or the O(docker_service) unit
    file exists; a C(docker) command alone (podman-docker's shim, a client for a remote daemon) is not Docker.
  - B(containerd) - the C(hosts.toml) containerd reads for O(registry) under O(hosts_dir) (it reads that file at
    every pull, so its C([host]) tables are the live mirrors), whether the CRI plugin of the running containerd
    reads O(hosts_dir) (its C(config_path) in C(containerd config dump)) and whether the configuration file
    changed after the containerd process started (a restart is pending). A stopped C(containerd.service) is
    not asked. containerd before 1.5 reads no hosts.toml; its mirrors for O(registry) are the C(endpoint) list of
    its C(registry.mirrors) in C(containerd config dump) (of C("*") when the registry has none), without the
    registry's own host, and RV(runtimes.hosts_file) and RV(runtimes.cri_reads_hosts_dir) are null.
  - The configuration file is the one the running containerd was started with (the C(--config)/C(-c) of the
    service's main process, else containerd's default C(/etc/containerd/config.toml)); when that is not
    O(containerd_config), RV(runtimes.problem) says so.
  - B(Podman) - the merged registries of C(podman info) (the main C(registries.conf) and every drop-in), which
    Buildah, Skopeo and CRI-O read too. Podman has no daemon; it is V(ready) when C(podman info) answers.
    Without a C(podman) command (Buildah, Skopeo or CRI-O only) the same merge is computed from
    C(/etc/containers/registries.conf) and the C(.conf) files of C(/etc/containers/registries.conf.d), in the
    order containers read them.
  - Mirrors are returned in the daemon.json form, C(https://host[:port]), and C(http://host[:port]) for a
    plain-http (containerd) or C(insecure = true) (registries.conf) mirror, without a trailing slash, so that one
    list can be compared across runtimes.
  - Nothing is written and no service is started or signalled. C(podman info) initialises Podman's storage
    directory when it does not exist yet, as every podman command does; O(detect_only=true) runs no command at
    all.
author:
  - fleetops engineers (@fleetops)
extends_documentation_fragment:
  - fleetops.docker_mirror.option_names
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
      - The registry whose mirrors are reported in RV(runtimes.mirrors), C(host[:port]).
    type: str
    default: docker.io
  registries:
    description:
      - The registries reported in RV(runtimes.registries), C(host[:port]) each (C(docker.io)'s aliases mean
        C(docker.io); C(_default) is containerd's default entry). Default - [O(registry)].
    type: list
    elements: str
  probe:
    description:
      - Ask every mirror of every registry in O(registries) C(GET /v2/) (or its path as written with containerd's
        C(override_path)) the way that runtime reaches it - containerd with the C(ca), C(client), C(skip_verify)
        and C(header) of its hosts.toml; Podman/CRI-O with the C(certs.d/<host:port>/) files containers/image
        reads and, for an C(insecure) mirror, no verification then plain HTTP; Docker with
        C(/etc/docker/certs.d/<host:port>/), unverified for an insecure registry (a loopback mirror, by
        default). The system's CAs are trusted as well, as every runtime does.
      - Header values are read from the runtime's own file and sent; they are never returned.
      - V(false) asks no mirror (C(probes) of RV(runtimes.registries) is null).
    type: bool
    default: false
  probe_timeout:
    description:
      - Seconds each probe may take (connect, TLS and answer).
      - The probes run side by side (up to 8 at a time), and none starts after O(timeout) seconds from the
        moment its registry was read; a mirror not asked then fails its probe with C(not asked).
    type: float
    default: 5
  probe_image:
    description:
      - An image (C(NAME[:TAG]) or C(NAME@DIGEST)) whose manifest is resolved (C(HEAD)) through each runtime's
        mirrors of the registry it lives on, in order, until one has it (C(image) of RV(runtimes.registries)). Implies
        O(probe=true).
    type: str
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
  mirrors:
    description:
      - The mirror list about to be written (the plan of M(fleetops.docker_mirror.mirrors)). With it, each
        selected runtime that is installed is checked for whether it can take the list (Podman refuses a mirror
        with a path), without running a command; RV(runtimes.problem) names the refusal, and RV(write) is empty
        when any selected runtime refuses. Unless O(detect_only=true), what each runtime uses now is returned
        too, in RV(live).
    type: list
    elements: str
  detect_only:
    description:
      - Only find which runtimes are installed, from commands and unit files, and run no command at all (no
        C(docker info), C(ctr), C(containerd config dump), C(podman info), C(systemctl)).
      - RV(detected) as always; each runtime of RV(runtimes) has only C(installed) (its C(state), C(mirrors) and
        C(error) are null).
    type: bool
    default: false
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

- name: Which runtimes are installed, without asking any of them
  fleetops.docker_mirror.mirrors_info:
    detect_only: true
  register: __docker_mirror_detect

- name: Would a pull through every mirror of these registries work (CA, client certificate, header)?
  fleetops.docker_mirror.mirrors_info:
    registries: [docker.io, registry.k8s.io, quay.io]
    probe: true
    probe_image: registry.k8s.io/pause:3.10
  become: true
  register: __docker_mirror_probe

- name: Only containerd and Podman, for a private registry
  fleetops.docker_mirror.mirrors_info:
    runtimes: [containerd, podman]
    registry: registry.example.com:5000
  become: true
"""

RETURN = r"""
write:
  description:
    - With O(mirrors) (the role's plan), the runtimes whose files may be written - the selected ones that are
      installed, and Docker when selected (its module names why it cannot be configured) - or V([]) when any
      selected runtime refuses O(mirrors), so that nothing is written on the host.
  returned: when O(mirrors) is given
  type: list
  elements: str
  sample: [docker, containerd]
live:
  description:
    - With O(mirrors) and without O(detect_only=true), what each selected runtime uses now, one entry per
      runtime with the keys of RV(runtimes) (RV(runtimes) then holds the plan, C(installed) and C(problem)).
  returned: when O(mirrors) is given and O(detect_only=false)
  type: dict
  sample: {"containerd": {"installed": true, "state": "running", "mirrors": ["https://mirror.gcr.io"]}}
detected:
  description:
    - The runtimes installed on the host, in the order docker, containerd, podman. C(docker) - the C(dockerd)
      command or the O(docker_service) unit file (a C(docker) command alone is not Docker); C(containerd) - the
      C(containerd) command; C(podman) - a C(podman), C(buildah), C(skopeo) or C(crio) command.
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
          answers, or when its files could be read (RV(runtimes.source)). Null with O(detect_only=true).
      type: str
    mirrors:
      description:
        - The mirrors the runtime uses for O(registry) now, in order, C(https://host[:port]) or
          C(http://host[:port]). V([]) when it uses none. Null when unknown (not running, not answering, a file
          that cannot be read, O(detect_only=true)).
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
          C(config_path) lists it and no restart is pending. Null when C(containerd config dump) failed or the
          CRI plugin is disabled.
      type: bool
    cri_enabled:
      description:
        - containerd only. False when the configuration disables the CRI plugin (C(disabled_plugins) lists
          C(cri), C(io.containerd.grpc.v1.cri) or C(io.containerd.cri.v1.images), as Docker CE's stock
          C(config.toml) does); then only C(ctr --hosts-dir) and nerdctl read O(hosts_dir), and nothing in
          C(config.toml) needs to change. Null when C(containerd config dump) failed.
      type: bool
    config_file:
      description:
        - containerd only. The configuration file the running containerd was started with (its C(--config),
          else containerd's default); O(containerd_config) when no containerd process could be read.
      type: str
    restart_pending:
      description:
        - containerd only. RV(runtimes.config_file) changed after the running containerd started,
          so containerd does not use it yet. False when containerd does not run.
      type: bool
    problem:
      description:
        - containerd - why containerd does not use the mirrors of its hosts.toml although the file holds them -
          the running containerd reads another file than O(containerd_config)
          (C(containerd runs with --config X, not Y ...)), or C(containerd config dump) failed (containerd would
          not start with the file; its error). Null when all is well or the CRI plugin is disabled.
        - podman - a C([[registry]]) with a longer prefix under O(registry) (such as C(docker.io/library)) has
          no mirrors or other ones, so the images it matches bypass the mirrors, naming the prefix and the file
          that defines it (C(images under docker.io/library bypass the mirrors ([[registry]] prefix
          docker.io/library in FILE))).
      type: str
    registries:
      description:
        - Every registry of O(registries) as this runtime pulls it; V({}) when the runtime is not installed or its
          mirrors are unknown (RV(runtimes.mirrors) is null).
        - C(mirrors) - as RV(runtimes.mirrors), for that registry; null when unknown (a file that cannot be read,
          or not supported).
        - C(source) - where they come from - containerd the hosts.toml it reads (its own directory under
          C(hosts_dir), else C(_default)); Podman the file that defines the C([[registry]]) (V(podman info) when
          the files could not be read); Docker V(docker info) for C(docker.io), with the containerd image store
          C(/etc/docker/certs.d/<registry>/hosts.toml) for another registry.
        - C(hosts) - how each mirror is reached, in order - C(url), C(capabilities) (containerd), C(ca) (files),
          C(client) (certificate, key pairs), C(skip_verify), C(override_path), C(headers) (names only),
          C(certs_dir) (Podman, Docker), C(error) (certificate files the runtime cannot use).
        - C(probes) - with O(probe), one per mirror a pull tries - C(mirror), C(ok) (the registry API answers -
          200, or 401 with C(note) saying it wants credentials), C(status), C(error) (why a pull would fail, in the
          runtimes' words, such as the x509 "certificate signed by unknown authority"), C(note); null without
          O(probe).
        - C(image) - with O(probe_image) on this registry - C(name), C(mirror) (the one that had it, or null),
          C(ok), C(tried) (each mirror asked, as C(probes)).
        - C(error) - the registry's file cannot be read; C(unsupported) - why the runtime cannot mirror it
          (V(classic Docker mirrors docker.io only)).
      type: dict
    podman_version:
      description: podman only. The version C(podman info) reports; null when it did not answer or was not run.
      type: str
    source:
      description:
        - podman only. Where the merged registries come from - V(podman info), or V(files) when there is no
          C(podman) command (Buildah, Skopeo or CRI-O only).
      type: str
    crio:
      description:
        - podman only. V(running) or V(stopped) (C(crio.service)); null when CRI-O is not installed or there is no
          systemd to ask. CRI-O reads registries.conf at start and on C(SIGHUP) (C(systemctl reload crio)).
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
      cri_enabled: true
      config_file: /etc/containerd/config.toml
      restart_pending: false
      problem: null
    podman:
      installed: true
      state: ready
      mirrors: ["http://127.0.0.1:5000"]
      error: null
      podman_version: 5.4.2
      source: podman info
      crio: null
      problem: null
"""

import concurrent.futures
import os
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd_legacy as legacy
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _daemon as daemon
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _errors as errors
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _host
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _probe
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _reach
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _process
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _registries_conf as rc
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _runtimes as rt
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._containerd import (
    DEFAULT_HOSTS_DIR,
    hosts_from_mirrors,
    parse_release,
    validate_registry,
)
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError, mask_url
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._mirror_spec import normalise_registry

COMMANDS = ("docker", "dockerd", "systemctl", "timeout", "containerd", "ctr") + rt.PODMAN_FAMILY
# What containerd reads when it is started without --config.
CONTAINERD_DEFAULT_CONFIG = "/etc/containerd/config.toml"
# containers-registries.conf(5) and .d(5): the system files podman, buildah, skopeo and CRI-O read.
REGISTRIES_CONF = "/etc/containers/registries.conf"
REGISTRIES_CONF_DIR = "/etc/containers/registries.conf.d"
CRIO_SERVICE = "crio"
# Probes asked side by side: mirrors that never answer cost one probe_timeout, not one per mirror.
PROBE_WORKERS = 8


class Host(_host.HostRunner):
    """The commands found on the host, run within the module's timeout."""

    def __init__(self, module: AnsibleModule) -> None:
        super().__init__(module, COMMANDS, module.params["timeout"])

    def docker_installed(self, service: str) -> bool:
        """A Docker daemon: the dockerd command or its unit. A docker command alone is a client (podman-docker's
        shim, a CI runner's CLI talking to a remote daemon), not Docker on this host."""
        unit_dirs = dict.fromkeys(os.path.dirname(path) for path in daemon.UNIT_FILES)
        return bool(self.bins.get("dockerd")) or any(os.path.exists(os.path.join(directory, service + ".service"))
                                                     for directory in unit_dirs)

    def detected(self, docker_service: str) -> list[str]:
        """Installed runtimes, from commands and unit files only (no command is run)."""
        found = {
            "docker": self.docker_installed(docker_service),
            "containerd": bool(self.bins.get("containerd")),
            "podman": any(self.bins.get(name) for name in rt.PODMAN_FAMILY),
        }
        return [name for name in rt.RUNTIMES if found[name]]


def entry(installed: bool, state: str | None, mirrors: list[str] | None, error: str | None,
          **extra: t.Any) -> dict:
    shown = None if mirrors is None else [mask_url(mirror) for mirror in mirrors]
    return dict(installed=installed, state=state, mirrors=shown, error=error, **extra)


# --------------------------------------------------------------------------- docker


def docker_view(host: Host, registry: str, service: str, check: _reach.Check) -> dict[str, t.Any]:
    if not host.docker_installed(service):
        client = " (the docker command here is a client only)" if host.bins.get("docker") else ""
        return entry(False, "not-installed", None, "Docker is not installed (no dockerd command and no %s.service)%s"
                     % (service, client), registries={})
    status = daemon.probe(host.run, host.bins, service)
    if status.state == "not-installed":
        return entry(True, "not-answering", None, "%s.service exists but there is no dockerd or docker command to "
                                                  "ask it" % service, registries={})
    if status.state != "running":
        return entry(True, status.state, None, status.error, registries={})
    mirrors = [rt.url_form(mirror) for mirror in status.live_mirrors or []] if registry == "docker.io" else []
    return entry(True, "running", mirrors, None, registries=_reach.docker_registries(status, check))


# --------------------------------------------------------------------------- containerd


def containerd_state(host: Host, service: str) -> tuple[str, str | None]:
    if host.systemd() and not host.active(service):
        return "stopped", "containerd is stopped (%s.service is not active)" % service
    if not host.bins.get("ctr"):
        return "not-answering", "no ctr command on this host to ask containerd"
    rc, out, err = host.run_bounded([host.bins["ctr"], "version"])
    if rc != 0:
        return "not-answering", "containerd is not answering: %s" % (rt.first_line(err) or rt.first_line(out))
    return "running", None


class RunningConfig(t.NamedTuple):
    path: str  # the file the running containerd read (containerd_config when that is unknown)
    problem: str | None  # it is not containerd_config


def running_config(host: Host, service: str, config: str, pid: int) -> RunningConfig:
    """The configuration file of the service's main process: its ``--config``/``-c``, else containerd's
    default. Unknown (no process, unreadable command line): ``config`` is assumed."""
    running = _process.started_with(pid, _process.CONTAINERD_CONFIG, CONTAINERD_DEFAULT_CONFIG)
    if running is None or daemon.same_file(running.path, config):
        return RunningConfig(config, None)
    how = "--config %s" % running.named if running.named else "no --config (so %s)" % CONTAINERD_DEFAULT_CONFIG
    return RunningConfig(running.path, "containerd runs with %s, not %s (%s.service, pid %d): point "
                         "containerd_config at %s" % (how, config, service, pid, running.path))


def cri_dump(host: Host, config: str) -> tuple[rt.DumpView | None, str | None]:
    """The CRI plugin as containerd reads ``config`` (enabled, hosts directories), or (None, why not)."""
    rc, out, err = host.run_bounded([host.bins["containerd"], "--config", config, "config", "dump"])
    if rc != 0:
        return None, "containerd config dump failed: %s" % (rt.error_line(err) or "exit status %d" % rc)
    rc, version, dummy = host.run_bounded([host.bins["containerd"], "--version"])
    try:
        return rt.parse_dump(out, parse_release(version) if rc == 0 else None), None
    except ConfigError as exc:
        return None, exc.message


def hosts_mirrors(hosts_dir: str, registry: str) -> tuple[str | None, list[str] | None, str | None]:
    """(the hosts.toml containerd reads for ``registry``, its mirrors, error)."""
    for name in rt.hosts_file_candidates(registry):
        path = os.path.join(hosts_dir, name, _reach.HOSTS_FILE)
        if not os.path.isfile(path):
            continue
        text = daemon.read_text(path)
        if text is None:
            return path, None, "%s: cannot be read" % path
        try:
            return path, rt.hosts_toml_mirrors(text, path), None
        except ConfigError as exc:
            return path, None, "%s (containerd fails every pull of %s)" % (exc.message, registry)
    return None, [], None


def containerd_view(host: Host, params: dict[str, t.Any], check: _reach.Check) -> dict[str, t.Any]:
    service = params["containerd_service"]
    if not host.bins.get("containerd"):
        return entry(False, "not-installed", None, "containerd is not installed (no containerd command)",
                     hosts_dir=None, hosts_file=None, cri_reads_hosts_dir=None, restart_pending=False,
                     cri_enabled=None, config_file=None, problem=None, registries={})
    state, error = containerd_state(host, service)
    pid = daemon.main_pid(host.run, host.bins.get("systemctl"), service) if state == "running" else 0
    config = running_config(host, service, params["containerd_config"], pid)
    dump, dump_error = cri_dump(host, config.path)
    dirs = None if dump is None else [os.path.normpath(item) for item in dump.dirs]
    hosts_dir = os.path.normpath(params["hosts_dir"] or (dirs[0] if dirs else DEFAULT_HOSTS_DIR))
    hosts_file, mirrors, file_error = hosts_mirrors(hosts_dir, params["registry"])
    pending = state == "running" and _process.started_before_change(pid, config.path)
    cri_enabled = None if dump is None else dump.cri_enabled
    reads = None if dirs is None or not cri_enabled else (hosts_dir in dirs and not pending)
    if dump is not None and dump.legacy is not None:
        # containerd 1.4 reads no hosts.toml: its CRI plugin's mirrors are config.toml's registry.mirrors.
        hosts_file, file_error, reads, dirs = None, None, None, None
        mirrors = legacy.dump_mirrors(dump.legacy, params["registry"])
    problem = None if cri_enabled is False else (
        config.problem or (dump_error and "%s (%s)" % (dump_error, config.path)))
    return entry(True, state, mirrors if state == "running" else None, error or file_error or dump_error,
                 hosts_dir=hosts_dir, hosts_file=hosts_file, cri_reads_hosts_dir=reads, restart_pending=pending,
                 cri_enabled=cri_enabled, config_file=config.path, problem=problem,
                 config_lists_hosts_dir=None if dirs is None else hosts_dir in dirs,
                 registries=live_registries(state, hosts_dir, dump, check))


def live_registries(state: str, hosts_dir: str, dump: rt.DumpView | None,
                    check: _reach.Check) -> dict[str, dict[str, t.Any]]:
    """Every registry as the running containerd pulls it: its hosts.toml, or on containerd 1.4 the CRI plugin's
    registry.mirrors of its running configuration."""
    if state != "running":
        return {}
    if dump is not None and dump.legacy is not None:
        return _reach.legacy_registries(dump.legacy, check)
    return _reach.hosts_registries(hosts_dir, check)


# --------------------------------------------------------------------------- podman, buildah, skopeo, CRI-O


def registries_files() -> list[tuple[str, str]]:
    """(path, text) of the main registries.conf and its ``.conf`` drop-ins, in the order containers read them."""
    files = []
    main_text = daemon.read_text(REGISTRIES_CONF)
    if main_text is not None:
        files.append((REGISTRIES_CONF, main_text))
    try:
        names = sorted(os.listdir(REGISTRIES_CONF_DIR))
    except OSError:
        names = []
    for name in names:
        path = os.path.join(REGISTRIES_CONF_DIR, name)
        text = daemon.read_text(path) if name.endswith(".conf") and os.path.isfile(path) else None
        if text is not None:
            files.append((path, text))
    return files


def crio_state(host: Host) -> str | None:
    if not host.bins.get("crio") or not host.systemd():
        return None
    return "running" if host.active(CRIO_SERVICE) else "stopped"


def podman_view(host: Host, registry: str, check: _reach.Check) -> dict[str, t.Any]:
    if not any(host.bins.get(name) for name in rt.PODMAN_FAMILY):
        return entry(False, "not-installed", None, "Podman is not installed (no podman, buildah, skopeo or crio "
                                                   "command)", podman_version=None, source=None, crio=None,
                     problem=None, registries={})
    extra = dict(podman_version=None, source="podman info" if host.bins.get("podman") else "files",
                 crio=crio_state(host), problem=None, registries={})
    try:
        from_files = rc.merged_registries(registries_files(), REGISTRIES_CONF)
        files_error = None
    except ConfigError as exc:
        from_files, files_error = None, exc.message
    if host.bins.get("podman"):
        info = rt.parse_podman_info(*host.run_bounded([host.bins["podman"], "info", "--format", "json"]))
        if not info.answered:
            return entry(True, "not-answering", None, "podman info failed: %s" % info.error, **extra)
        registries, extra["podman_version"] = info.registries or {}, info.version
    elif from_files is None:
        return entry(True, "not-answering", None, files_error, **extra)
    else:
        registries = from_files
    where = {prefix: table["File"] for prefix, table in (from_files or {}).items()}
    extra["problem"] = rt.podman_problem(registries, registry, where)
    extra["registries"] = {name: _reach.podman_registry(registries, where, name, check) for name in check.names}
    return entry(True, "ready", rt.podman_mirrors(registries, registry), None, **extra)


# --------------------------------------------------------------------------- every registry, as each runtime reaches it


def check_of(module: AnsibleModule, params: dict[str, t.Any]) -> _reach.Check:
    """The registries to report (O(registries), else O(registry)) and what to ask of their mirrors."""
    try:
        names = [normalise_registry(name, allow_default=True) for name in params["registries"] or
                 [params["registry"]]]
    except ConfigError as exc:
        _host.fail(module, "registries: %s" % exc.message)
    if params["probe_timeout"] <= 0:
        _host.fail(module, "probe_timeout must be a positive number of seconds, got %s" % params["probe_timeout"])
    if params["probe_image"] is not None and not params["probe_image"].strip():
        _host.fail(module, "%s must name an image (NAME[:TAG] or NAME@DIGEST), got an empty string"
                   % errors.option("probe_image"))
    return _reach.Check(list(dict.fromkeys(names)), params["probe"] or bool(params["probe_image"]),
                        params["probe_timeout"], params["probe_image"])


# --------------------------------------------------------------------------- the module


def mirror_problem(runtime: str, mirrors: list[str]) -> str | None:
    """Why ``runtime`` cannot take ``mirrors`` (None: it can). Docker's own checks, which depend on its release,
    run in daemon_json before anything is written (its file is the first one); containerd's are dockerd's."""
    try:
        if runtime == "podman":
            rc.check_mirrors(mirrors)
        elif runtime == "containerd":
            hosts_from_mirrors(mirrors)
    except ConfigError as exc:
        return "%s cannot take the mirrors: %s" % (runtime, mask_url(exc.message))
    return None


def plan(names: list[str], detected: list[str], mirrors: list[str]) -> dict[str, t.Any]:
    """Each selected runtime (installed, problem) and which ones may be written: none when any one refuses."""
    runtimes = {name: entry(name in detected, None, None, None,
                            problem=mirror_problem(name, mirrors) if name in detected else None) for name in names}
    refused = any(view["problem"] for view in runtimes.values())
    write = [] if refused else [name for name in names if name == "docker" or name in detected]
    return {"changed": False, "detected": detected, "runtimes": runtimes, "write": write}


def selected(wanted: list[str], detected: list[str]) -> list[str]:
    names = set(detected) if "auto" in wanted else set()
    names.update(name for name in wanted if name != "auto")
    return [name for name in rt.RUNTIMES if name in names]


def run_module(module: AnsibleModule) -> dict[str, t.Any]:
    params = module.params
    try:
        validate_registry(params["registry"])
    except ConfigError as exc:
        _host.fail(module, exc.message)
    for option in ("hosts_dir", "containerd_config"):
        if params[option] and not os.path.isabs(params[option]):
            _host.fail(module, "%s: %s must be an absolute path" % (params[option], errors.option(option)))
    check = check_of(module, params)
    host = Host(module)
    detected = host.detected(params["docker_service"])
    names = selected(params["runtimes"], detected)
    planned = plan(names, detected, params["mirrors"]) if params["mirrors"] is not None else None
    if params["detect_only"]:
        return planned or {"changed": False, "detected": detected,
                           "runtimes": {name: entry(name in detected, None, None, None) for name in names}}
    with concurrent.futures.ThreadPoolExecutor(PROBE_WORKERS) as pool:
        check = check._replace(pool=pool, budget=params["timeout"])
        runtimes = _reach.settle(live_views(host, params, names, check))
    if planned:
        return {**planned, "live": runtimes}
    return {"changed": False, "detected": detected, "runtimes": runtimes}


def live_views(host: Host, params: dict[str, t.Any], names: list[str],
               check: _reach.Check) -> dict[str, dict[str, t.Any]]:
    """What each of ``names`` uses now, as that runtime itself sees it."""
    views = {
        "docker": lambda: docker_view(host, params["registry"], params["docker_service"], check),
        "containerd": lambda: containerd_view(host, params, check),
        "podman": lambda: podman_view(host, params["registry"], check),
    }
    runtimes = {name: views[name]() for name in names}
    if not errors.is_root():
        # Docker's and containerd's sockets are root's, and podman answers for this user's rootless storage.
        for view in runtimes.values():
            if view["state"] == "not-answering":
                view["error"] = "%s; %s" % (view["error"], errors.NeedsRoot().message)
    return runtimes


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
            detect_only=dict(type="bool", default=False),
            mirrors=dict(type="list", elements="str"),
            registries=dict(type="list", elements="str"),
            probe=dict(type="bool", default=False),
            probe_timeout=dict(type="float", default=_probe.DEFAULT_TIMEOUT),
            probe_image=dict(type="str"),
            option_names=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    errors.name_options(module.params["option_names"])
    module.exit_json(**run_module(module))


if __name__ == "__main__":
    main()
