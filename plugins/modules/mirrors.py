#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The documentation of the action plugin plugins/action/mirrors.py, which runs the modules it names.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mirrors
short_description: Plan and write the registry mirrors of every container runtime of a host, in one task
version_added: 2.0.0
description:
  - The one task of the C(docker_mirror) role's configure phase, usable on its own. It first plans every runtime
    of O(runtimes) with M(fleetops.docker_mirror.mirrors_info) (which are installed, whether each can take
    O(registry_mirrors), and what each uses now), then runs each runtime's module, in the order Docker,
    containerd, Podman - M(fleetops.docker_mirror.daemon_json), M(fleetops.docker_mirror.containerd_hosts),
    M(fleetops.docker_mirror.registries_conf) - with the same mirrors and the same merge semantics.
  - When one selected runtime cannot take the mirrors (Podman refuses a mirror with a path), no file is written
    on the host at all and RV(plan) names the runtime.
  - Each module decides whether its runtime must take the change and how (RV(apply)); nothing is applied here.
    Pass RV(apply) on to M(fleetops.docker_mirror.daemon_apply), M(fleetops.docker_mirror.containerd_apply) or a
    reload of CRI-O, as the role's handlers do.
  - The plan of Docker alone (O(runtimes=[docker])) needs nothing from the host, since daemon_json checks the
    mirrors for the Docker release installed and says when Docker is missing. Then only daemon_json runs.
  - One module failing does not stop the others (each runtime is its own unit); the task then fails, its
    message naming each runtime that failed.
author:
  - fleetops engineers (@fleetops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  action:
    support: full
    description: An action plugin on the controller runs mirrors_info and each runtime's module on the host.
  check_mode:
    support: full
    details: Each module runs in check mode and says what it would change.
  diff_mode:
    support: full
    details: One diff per file a module changes.
  platform:
    platforms: posix
options:
  runtimes:
    description:
      - The runtimes to configure. V(auto) is every runtime installed on the host.
    type: list
    elements: str
    choices: [auto, docker, containerd, podman]
    default: [auto]
  registry_mirrors:
    description: The Docker Hub (C(docker.io)) mirror URLs, in order, as for M(fleetops.docker_mirror.daemon_json).
    type: list
    elements: str
    default: []
  registries:
    description:
      - Mirrors for any registry - a mapping from a registry name (C(registry.k8s.io), C(ghcr.io)) to its ordered
        list of mirrors, each a URL string or a mapping with C(url) and optionally C(ca), C(client_cert),
        C(client_key) (PEM text), C(skip_verify), C(capabilities), C(override_path) and C(headers); or the
        C(registries) option of M(fleetops.docker_mirror.containerd_hosts) as it is (a list).
      - docker.io is O(registry_mirrors); naming it here too is an error. Every value is checked on the controller
        before any host is asked; a wrong one fails the task naming the registry and the entry.
    type: raw
    default: {}
  insecure_registries:
    description: Docker's C(insecure-registries), when not empty.
    type: list
    elements: str
    default: []
  state:
    description: V(absent) removes the O(registry_mirrors) (all of ours with O(exclusive=true)).
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With V(true), each runtime gets exactly O(registry_mirrors); with V(false) the mirrors it already lists
        stay first and the missing ones are added after them.
    type: bool
    default: false
  apply:
    description: How the runtimes are to take a change (RV(apply)); V(none) never asks for it.
    type: str
    choices: [auto, reload, restart, none]
    default: auto
  write:
    description: With V(false), nothing is written; only the plan and what each runtime uses now are returned.
    type: bool
    default: true
  verify:
    description:
      - Read what each runtime uses now (C(live) of RV(plan)). With V(false) (and O(write=true)) the plan runs no
        command at all.
    type: bool
    default: true
  probe:
    description:
      - With O(verify=true), ask each mirror of every registry, from the host and the way each runtime reaches it
        (its CA, client certificate, skip_verify, headers), whether C(/v2/) answers (see
        M(fleetops.docker_mirror.mirrors_info)'s C(probe)). For Docker alone this reads the host once more.
    type: bool
    default: true
  probe_image:
    description:
      - An image (C(registry.k8s.io/pause:3.10)) whose manifest is resolved through each runtime's mirrors for its
        registry, so that verified means "pull works". Empty - none.
    type: str
    default: ""
  backup:
    description: Keep a timestamped backup of daemon.json when it changes.
    type: bool
    default: false
  force:
    description:
      - Each runtime's module replaces a file of the name it writes that it did not write (O(force) of
        M(fleetops.docker_mirror.daemon_json), M(fleetops.docker_mirror.containerd_hosts),
        M(fleetops.docker_mirror.registries_conf)).
      - The modules' messages name the options by the C(docker_mirror) role's variables (C(docker_mirror_force),
        C(docker_mirror_containerd_config)...), through their C(option_names).
    type: bool
    default: false
    version_added: 2.0.0
  keep_previous:
    description: Keep the previous daemon.json and config.toml for a rollback by the apply modules.
    type: bool
    default: false
  daemon_json_path:
    description: Docker's daemon.json.
    type: path
    default: /etc/docker/daemon.json
  containerd_config:
    description: containerd's configuration file.
    type: path
    default: /etc/containerd/config.toml
  containerd_hosts_dir:
    description: containerd's hosts directory (default as in M(fleetops.docker_mirror.containerd_hosts)).
    type: path
  manage_config_path:
    description:
      - Set the CRI plugin's registry C(config_path) when it is unset (see
        M(fleetops.docker_mirror.containerd_hosts)).
    type: bool
    default: true
  registries_conf_dropin:
    description: The name of the registries.conf drop-in.
    type: str
    default: 50-fleetops-docker-mirror.conf
  docker_service:
    description: Name of Docker's service.
    type: str
    default: docker
notes:
  - Run it with C(become=true).
seealso:
  - module: fleetops.docker_mirror.mirrors_info
  - module: fleetops.docker_mirror.daemon_json
  - module: fleetops.docker_mirror.containerd_hosts
  - module: fleetops.docker_mirror.registries_conf
"""

EXAMPLES = r"""
- name: Point every runtime of the host at a Docker Hub mirror
  fleetops.docker_mirror.mirrors:
    registry_mirrors:
      - https://mirror.gcr.io
  become: true
  register: __docker_mirror_run

- name: Reload dockerd when daemon_json asked for it
  fleetops.docker_mirror.daemon_apply:
    action: "{{ __docker_mirror_run.apply.docker }}"
    mirrors: "{{ __docker_mirror_run.configured.docker.registry_mirrors }}"
  become: true
  when: "'docker' in __docker_mirror_run.apply"
"""

RETURN = r"""
want:
  description: What was asked for, as the role's verdict reads it.
  returned: always
  type: dict
plan:
  description:
    - The result of M(fleetops.docker_mirror.mirrors_info) with O(registry_mirrors) as its C(mirrors) - the
      runtimes selected (C(runtimes), each with C(installed) and C(problem)), those written (C(write)) and, with
      O(verify=true), what each uses now (C(live)). For Docker alone it is answered without asking the host.
  returned: always
  type: dict
configured:
  description: Each written runtime's module result, by runtime (C(docker), C(containerd), C(podman)).
  returned: always
  type: dict
apply:
  description: The runtimes that must take their change, and how (C(reload), C(restart)).
  returned: always
  type: dict
  sample: {docker: reload, containerd: restart}
"""
