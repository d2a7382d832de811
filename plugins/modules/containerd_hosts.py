#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: containerd_hosts
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - action_common_attributes.files
  - ansible.builtin.files
  - fleetops.docker_mirror.file_attributes
short_description: Point containerd at registry mirrors with a hosts.toml file
version_added: 1.1.0
description:
  - Writes containerd's registry host file C(<hosts_dir>/<registry>/hosts.toml) with one
    C([host."URL"]) table per mirror, tried in order before O(server). containerd reads it at each pull, so
    no restart is needed for it; C(ctr images pull --hosts-dir) and nerdctl read the same directory.
  - The module owns that one file and renders it whole. The file starts with a marker comment; a hosts.toml the
    module did not write is not replaced unless O(force=true), and never removed.
  - The CRI plugin (Kubernetes, crictl) reads the directory only when its registry C(config_path) names it.
    With O(manage_config_path=true) and C(config_path) unset, the module sets it in O(config_path) by adding
    or replacing that one line (in the file's own indentation); every other byte of C(config.toml) is kept,
    and the edited file is parsed and proven to differ from the original in that value only. containerd must
    then be restarted (RV(restart_needed)); running containers keep running, their shims stay.
  - The registry table is C([plugins."io.containerd.grpc.v1.cri".registry]) in a version 2 file (containerd
    1.x), C([plugins.cri.registry]) in a version 1 file (no C(version) key) and
    C([plugins."io.containerd.cri.v1.images".registry]) in a version 3 file (containerd 2.x, where an unset
    C(config_path) means C(/etc/containerd/certs.d:/etc/docker/certs.d), so nothing is changed).
    A file with no setting at all (empty, comments only) gets C(version = 2) and the version 2 table.
  - When C(config_path) is already set, it is never changed. O(hosts_dir) left unset means its first
    directory; an O(hosts_dir) it does not list fails (with O(manage_config_path=true)), naming the
    directories it lists. A directory listed before O(hosts_dir) that holds a directory for O(registry)
    would shadow the file, and fails too.
  - Mirror URLs are checked like dockerd's (the same list as the C(registry-mirrors) of daemon.json works
    here). A C(http://) mirror becomes a C([host."http://..."]) table, which containerd talks to in plain
    HTTP; C(skip_verify) only concerns TLS and is written for C(https://) mirrors when O(skip_verify=true).
  - Before C(config.toml) is written, the new text is given to containerd itself when its binary is on the host
    (C(containerd --config CANDIDATE config dump), the candidate a temporary file next to C(config.toml)); a
    file containerd would refuse (a value of the wrong type, a config version it does not know) is never
    written, nor is hosts.toml.
  - When the CRI plugin is disabled (C(disabled_plugins) lists C(cri) or C(io.containerd.grpc.v1.cri), as in
    Docker CE's C(containerd.io) package), C(config.toml) is never edited and no restart is needed
    (RV(cri_enabled) is false); only C(ctr --hosts-dir) and nerdctl read the hosts directory then.
  - With O(state=present), the containerd that systemd runs (C(containerd.service)'s main process) must read
    O(config_path), the file its C(--config)/C(-c) names or else C(/etc/containerd/config.toml). Otherwise the module fails
    before writing, naming the file it reads.
  - Every check runs before anything is written; a failure leaves both files unchanged and the message names
    the file and the cause. Mirror URLs with a user name or password are masked in the messages and in the
    module arguments Ansible echoes (C(invocation)).
author:
  - fleetops engineers (@fleetops)
attributes:
  diff_mode:
    details: One diff per file changed (hosts.toml, config.toml), with the exact text before and after.
options:
  apply:
    description:
      - Whether containerd is to be restarted when it must (RV(restart_needed)), returned as RV(apply_action)
        (V(restart)); V(none) never asks for it. The module itself never restarts containerd; pass RV(apply_action)
        on to M(fleetops.docker_mirror.containerd_apply).
    type: str
    choices: [auto, reload, restart, none]
    default: auto
  registry:
    description:
      - The registry host namespace the mirrors serve, C(host[:port]), or C(_default) for every registry
        without its own directory. It names the directory under O(hosts_dir).
    type: str
    default: docker.io
  mirrors:
    description:
      - Mirror URLs (C(https://) or C(http://)), tried in this order before O(server). Duplicates (with or
        without a trailing slash) are written once.
      - An empty list writes a file with O(server) only (no mirror).
      - Ignored with O(state=absent).
    type: list
    elements: str
    default: []
  server:
    description:
      - The upstream tried after every mirror. Default C(https://registry-1.docker.io) for C(docker.io),
        C(https://<registry>) for another registry and none for C(_default).
    type: str
  hosts_dir:
    description:
      - The hosts directory. Default the first directory of the CRI plugin's C(config_path) when set (or of
        containerd 2.x's default), else C(/etc/containerd/certs.d).
    type: path
  config_path:
    description:
      - containerd's configuration file.
    type: path
    default: /etc/containerd/config.toml
  manage_config_path:
    description:
      - Set the CRI plugin's registry C(config_path) to O(hosts_dir) in O(config_path) when it is unset (and
        create a minimal file when there is none and containerd is not 2.x), so that Kubernetes pulls use the
        mirrors. Fail when C(config_path) is set and does not list O(hosts_dir).
      - With V(false), O(config_path) is only read (when it exists), never written; a O(hosts_dir) it does not
        list is a warning, and RV(cri_reads_hosts_dir) says whether the CRI plugin sees the file.
    type: bool
    default: true
  capabilities:
    description:
      - The C(capabilities) of each mirror. containerd's docs advise C(pull) only for a public mirror you do
        not trust to resolve tags.
    type: list
    elements: str
    choices: [pull, resolve, push]
    default: [pull, resolve]
  skip_verify:
    description:
      - Write C(skip_verify = true) for the C(https://) mirrors (self-signed certificates). Never needed for
        C(http://) mirrors.
    type: bool
    default: false
  force:
    description:
      - Replace a hosts.toml this module did not write (it has no marker comment). Its content is lost.
    type: bool
    default: false
  state:
    description:
      - V(absent) removes the hosts.toml this module wrote (and its directory when that is then empty), nothing
        else; C(config.toml) is not changed.
    type: str
    choices: [present, absent]
    default: present
  keep_previous:
    description:
      - When the run changes an existing O(config_path), keep its previous bytes in a private copy next to it,
        C(<directory>/.<name>.docker_mirror-previous) (mode C(0600)), and return its name in RV(rollback_file)
        for M(fleetops.docker_mirror.containerd_apply)'s rollback, which removes it once containerd came back.
      - No copy is kept when the file is created (RV(config_created)) or unchanged, nor in check mode.
    type: bool
    default: false
notes:
  - Python 3.8 or later on the managed host; before 3.11 (no C(tomllib)) the distribution's C(python3-tomli) or C(python3-toml) package reads TOML, and the module names the package when neither is installed.
  - The module does not restart containerd. Do it when RV(restart_needed) is true, with
    M(fleetops.docker_mirror.containerd_apply).
seealso:
  - module: fleetops.docker_mirror.containerd_apply
  - module: fleetops.docker_mirror.daemon_json
  - module: fleetops.docker_mirror.registries_conf
  - name: containerd registry host configuration (hosts.toml)
    description: Fields of hosts.toml and the CRI plugin's config_path per config version.
    link: https://github.com/containerd/containerd/blob/main/docs/hosts.md
"""

EXAMPLES = r"""
- name: Pull Docker Hub images through a mirror with containerd (and Kubernetes)
  fleetops.docker_mirror.containerd_hosts:
    mirrors:
      - https://mirror.gcr.io
  become: true
  register: __docker_mirror_containerd

- name: Restart containerd only when config.toml changed (running containers keep running)
  fleetops.docker_mirror.containerd_apply:
  become: true
  when: __docker_mirror_containerd.restart_needed

- name: Keep the previous config.toml for containerd_apply's rollback
  fleetops.docker_mirror.containerd_hosts:
    mirrors:
      - https://mirror.gcr.io
    keep_previous: true
  become: true
  register: __docker_mirror_containerd

- name: A plain-http mirror on the LAN, pull only
  fleetops.docker_mirror.containerd_hosts:
    mirrors:
      - http://10.0.0.5:5000
    capabilities: [pull]
  become: true

- name: Remove the mirrors again (config.toml is left as it is)
  fleetops.docker_mirror.containerd_hosts:
    state: absent
  become: true
"""

RETURN = r"""
path:
  description: The hosts.toml file (after following symbolic links).
  returned: success
  type: str
  sample: /etc/containerd/certs.d/docker.io/hosts.toml
paths:
  description: The files written or removed (in check mode, that would be).
  returned: success
  type: list
  elements: str
  sample: ["/etc/containerd/certs.d/docker.io/hosts.toml", "/etc/containerd/config.toml"]
hosts_dir:
  description: The hosts directory used.
  returned: success
  type: str
  sample: /etc/containerd/certs.d
restart_needed:
  description:
    - True when config.toml changed (in check mode, would change), or, with O(manage_config_path=true) and
      O(state=present), when the running containerd started before config.toml last changed and its CRI plugin
      reads O(hosts_dir) from that file (an earlier run with no restart); containerd reads it only at start.
  returned: success
  type: bool
  sample: false
apply_action:
  description: V(restart) when RV(restart_needed) and O(apply) is not V(none), else empty.
  returned: success
  type: str
outcome:
  description: containerd's result in the shape every runtime module of this collection returns.
  returned: success
  type: dict
restart_pending_only:
  description: True when containerd must restart only because it has not loaded config.toml (nothing written).
  returned: success
  type: bool
  sample: false
cri_reads_hosts_dir:
  description:
    - Whether the CRI plugin reads RV(hosts_dir) once containerd runs with config.toml as it is after the run.
      Null when unknown (no config.toml, O(manage_config_path=false)) and when the CRI plugin is disabled.
  returned: success
  type: bool
  sample: true
cri_enabled:
  description:
    - False when O(config_path) disables the CRI plugin (C(disabled_plugins)); config.toml is then left alone.
      True otherwise (also when there is no config.toml, since containerd enables it by default).
  returned: success
  type: bool
  sample: true
config_created:
  description: True when this run created O(config_path) (in check mode, would create); pass it as
    O(fleetops.docker_mirror.containerd_apply#module:created).
  returned: success
  type: bool
  sample: false
rollback_file:
  description:
    - The private copy of config.toml's previous bytes made by O(keep_previous=true), for
      O(fleetops.docker_mirror.containerd_apply#module:rollback_file).
  returned: when config.toml changed, O(keep_previous=true), the file existed and not in check mode
  type: str
  sample: /etc/containerd/.config.toml.docker_mirror-previous
diff:
  description: One entry per file changed, with the text before and after.
  returned: when diff mode is on
  type: list
  elements: dict
  contains:
    before:
      description: The file's text before the run, empty when it did not exist.
      type: str
    after:
      description: The file's text after the run, empty when removed.
      type: str
    before_header:
      description: The file's name, with C((absent)) when it did not exist.
      type: str
    after_header:
      description: The file's name, with C((absent)) when removed.
      type: str
"""

import contextlib
import os
import re
import time
import typing as t

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd as ctd
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _daemon as daemon
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _errors as errors
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _files
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._document import redact_arguments
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._files import FileError
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._outcome import apply_action, outcome
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._runtimes import start_time
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._registry import mask_url

HOSTS_FILE = "hosts.toml"
SERVICE = "containerd"
# containerd's own default when its command line has no --config.
DEFAULT_CONFIG = "/etc/containerd/config.toml"
PREVIOUS_SUFFIX = ".docker_mirror-previous"
# containerd config dump loads the file and every plugin's defaults: well under a second; never a hung run.
DUMP_TIMEOUT = 10


class Change(t.NamedTuple):
    path: str
    before: str | None  # None: the file does not exist
    after: str | None  # None: remove the file


# --------------------------------------------------------------------------- planning


def containerd_major(module: AnsibleModule) -> int | None:
    binary = module.get_bin_path("containerd")
    if not binary:
        return None
    rc, out, dummy = module.run_command([binary, "--version"])
    match = re.search(r"\s+v?(\d+)\.\d+", out or "") if rc == 0 else None
    return int(match.group(1)) if match else None


def choose_hosts_dir(wanted: str | None, dirs: list[str], strict: bool, config: str, exists: bool, warn) -> str:
    """O(hosts_dir), or the first directory the CRI plugin reads; fail (strict) or warn when it reads others."""
    if wanted is None:
        return dirs[0] if dirs else ctd.DEFAULT_HOSTS_DIR
    wanted = os.path.normpath(wanted)
    if dirs and wanted not in [os.path.normpath(item) for item in dirs]:
        source = ("config_path in %s is" % config) if exists else (
            "%s does not exist, so the CRI plugin reads the containerd 2.x default" % config)
        message = ("%s %s: the CRI plugin does not read hosts_dir %s; leave hosts_dir unset to use %s, or set "
                   "config_path yourself" % (source, ":".join(dirs), wanted, dirs[0]))
        if strict:
            raise FileError(config, message)
        warn(message)
    return wanted


def check_not_shadowed(hosts_dir: str, dirs: list[str], registry: str, config: str) -> None:
    """containerd uses the first directory of config_path that has one for the registry."""
    names = [registry]
    if ":" in registry and not registry.endswith("]"):
        host, port = registry.rsplit(":", 1)
        names.insert(0, "%s_%s_" % (host, port))
    for directory in [os.path.normpath(item) for item in dirs]:
        if directory == hosts_dir:
            return
        for name in names:
            if os.path.isdir(os.path.join(directory, name)):
                raise FileError(config, "config_path lists %s before %s and it holds %s: containerd reads that "
                                        "one and never this module's file; remove it or set hosts_dir to %s"
                                % (directory, hosts_dir, os.path.join(directory, name), directory))


class ConfigView(t.NamedTuple):
    hosts_dir: str
    text: str | None  # the new config.toml text; None: leave the file alone
    reads: bool | None  # does the CRI plugin read hosts_dir (None: unknown)
    cri_enabled: bool | None


def parse_config(config: str, config_text: str) -> dict[str, t.Any]:
    try:
        return ctd.parse_toml(config_text)
    except ConfigError as exc:
        raise FileError(config, exc.message) from None


def plan_config(module: AnsibleModule, config: str, config_text: str | None, hosts_dir: str | None) -> ConfigView:
    """The hosts directory, the new config.toml text (or None), whether the CRI plugin reads the directory."""
    params = module.params
    if config_text is not None and ctd.cri_disabled(parse_config(config, config_text)):
        # Docker CE's containerd: no CRI plugin reads config_path, ctr --hosts-dir and nerdctl read the directory.
        return ConfigView(os.path.normpath(hosts_dir or ctd.DEFAULT_HOSTS_DIR), None, None, False)
    try:
        if params["manage_config_path"] and params["state"] == "present":
            major = containerd_major(module) if config_text is None else None
            plan = ctd.plan_config_path(config_text, hosts_dir or ctd.DEFAULT_HOSTS_DIR, major)
        elif config_text is not None:
            data = ctd.parse_toml(config_text)
            version = ctd.config_version(data)
            plan = ctd.ConfigPlan(None, ctd.configured_dirs(data, version), version)
        else:
            return ConfigView(os.path.normpath(hosts_dir or ctd.DEFAULT_HOSTS_DIR), None, None, True)
    except FileError:
        raise
    except ConfigError as exc:
        raise FileError(config, exc.message) from None
    strict = params["manage_config_path"] and params["state"] == "present"
    chosen = choose_hosts_dir(hosts_dir, plan.dirs, strict, config, config_text is not None, module.warn)
    if plan.text is not None:
        return ConfigView(chosen, plan.text, True, True)
    return ConfigView(chosen, None, chosen in [os.path.normpath(item) for item in plan.dirs], True)


# --------------------------------------------------------------------------- what containerd says


def check_running_config(module: AnsibleModule, config: str) -> int:
    """The containerd that systemd runs must read ``config``: its --config/-c, else its default file. Its pid: 0
    when systemd runs none (stopped), -1 without systemd (unknown)."""
    systemctl = module.get_bin_path("systemctl")
    if not systemctl:
        return -1
    pid = daemon.main_pid(module.run_command, systemctl, SERVICE + ".service")
    argv = process_argv(pid) if pid > 0 else None
    if not argv or not os.path.basename(argv[0]).startswith("containerd"):
        return 0 if pid <= 0 else -1  # not containerd's process: unknown
    flag = ctd.config_flag(argv)
    running = flag if flag is not None else DEFAULT_CONFIG
    if not os.path.isabs(running):
        with contextlib.suppress(OSError):
            running = os.path.join(os.readlink(os.path.join(daemon.PROC_ROOT, str(pid), "cwd")), running)
    if os.path.realpath(running) == config:
        return pid
    how = "--config %s" % flag if flag is not None else "its default %s" % DEFAULT_CONFIG
    raise FileError(config, "containerd runs with %s (pid %d), not %s: point config_path at %s"
                    % (how, pid, config, running))


def process_argv(pid: int) -> list[str] | None:
    try:
        with open(os.path.join(daemon.PROC_ROOT, str(pid), "cmdline"), "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part] or None


def check_with_containerd(module: AnsibleModule, config: str, text: str) -> None:
    """``containerd --config CANDIDATE config dump``: a file containerd refuses never reaches config.toml."""
    binary = module.get_bin_path("containerd")
    if not binary:
        return
    directory = os.path.dirname(config)
    if module.check_mode or not os.path.isdir(directory):
        directory = module.tmpdir
    candidate = _files.write_private(directory, _files.encode(text), "." + os.path.basename(config) + ".")
    try:
        argv = [binary, "--config", candidate, "config", "dump"]
        timeout = module.get_bin_path("timeout")
        rc, out, err = module.run_command(([timeout, str(DUMP_TIMEOUT)] if timeout else []) + argv)
    finally:
        _files.remove_quietly(candidate)
    if rc == 124 and timeout:
        raise FileError(config, "containerd config dump did not finish within %d s; not written" % DUMP_TIMEOUT)
    if rc != 0:
        raise FileError(config, "containerd would refuse it: %s" % ctd.dump_error_line(rc, out, err, candidate, config))


def loaded_before_change(pid: int, config: str) -> bool:
    """The running containerd started before ``config`` last changed: it has not loaded it (read at start only).
    The start time is known to a clock tick (truncated): a file written in that tick does not count."""
    stat_text = daemon.read_text(os.path.join(daemon.PROC_ROOT, str(pid), "stat")) if pid > 0 else None
    ticks = os.sysconf("SC_CLK_TCK")
    started = start_time(stat_text, time.time() - time.clock_gettime(time.CLOCK_BOOTTIME), ticks) \
        if stat_text else None
    try:
        return started is not None and os.stat(config).st_mtime > started + 1.0 / ticks
    except OSError:
        return False


def hosts_text(params: dict[str, t.Any]) -> str:
    registry = ctd.validate_registry(params["registry"])
    server = params["server"]
    server = ctd.validate_server(server) if server else ctd.default_server(registry)
    capabilities = ctd.validate_capabilities(params["capabilities"])
    hosts = ctd.hosts_from_mirrors(params["mirrors"], params["skip_verify"])
    text = ctd.render_hosts_toml(server, hosts, capabilities)
    ctd.check_hosts_toml(text, ctd.expected_hosts_data(server, hosts, capabilities))
    return text


def plan_hosts(module: AnsibleModule, target: str, wanted: str | None) -> Change | None:
    """The hosts.toml change; None when nothing changes. A file without our marker is not ours."""
    current = _files.read_text(target)
    if module.params["state"] == "absent":
        if current is None:
            return None
        if not ctd.is_ours(current):
            module.warn("%s was not written by fleetops.docker_mirror.containerd_hosts: left in place" % target)
            return None
        return Change(target, current, None)
    if current is not None and not ctd.is_ours(current) and not module.params["force"]:
        raise FileError(target, "not written by this module (no marker comment): set force: true to replace it "
                                "(its content is lost)")
    return None if current == wanted else Change(target, current, wanted)


# --------------------------------------------------------------------------- the module


def previous_copy_name(target: str) -> str:
    return os.path.join(os.path.dirname(target), "." + os.path.basename(target) + PREVIOUS_SUFFIX)


def keep_previous(target: str, text: str) -> str:
    """config.toml's previous bytes in a private copy next to it (0600), for containerd_apply's rollback."""
    name = previous_copy_name(target)
    temporary = _files.write_private(os.path.dirname(target), _files.encode(text),
                                     "." + os.path.basename(target) + ".previous.")
    try:
        os.rename(temporary, name)
    except OSError as exc:
        _files.remove_quietly(temporary)
        raise FileError(target, "cannot keep the previous copy %s: %s" % (name, exc.strerror)) from None
    return name


def apply(module: AnsibleModule, changes: list[Change], config: str) -> dict[str, str]:
    """Write hosts.toml, then config.toml (its previous copy first, with O(keep_previous)); when one fails, what
    was written is put back as it was and the copy removed."""
    done: list[Change] = []
    made: dict[str, str] = {}
    try:
        for change in changes:
            if change.path == config and change.before is not None and module.params["keep_previous"]:
                made["rollback_file"] = keep_previous(config, change.before)
            if change.after is None:
                _files.remove_file(change.path)
            else:
                _files.write_text(module, change.path, change.after)
            done.append(change)
    except FileError:
        for change in reversed(done):
            with contextlib.suppress(ConfigError, OSError):
                if change.before is None:
                    _files.remove_file(change.path)
                else:
                    _files.write_text(module, change.path, change.before)
        for name in made.values():
            _files.remove_quietly(name)
        raise
    return made


def run_module(module: AnsibleModule) -> dict[str, t.Any]:
    params = module.params
    config = _files.real_path(params["config_path"], "config_path")
    wanted_dir = _files.real_path(params["hosts_dir"], "hosts_dir") if params["hosts_dir"] else None
    ctd.validate_registry(params["registry"])
    wanted = hosts_text(params) if params["state"] == "present" else None
    pid = check_running_config(module, config) if params["state"] == "present" else 0
    made: dict[str, str] = {}
    with _files.directory_lock(os.path.dirname(config)):
        config_text = _files.read_text(config)
        view = plan_config(module, config, config_text, wanted_dir)
        target = os.path.realpath(os.path.join(view.hosts_dir, params["registry"], HOSTS_FILE))
        if params["state"] == "present" and config_text is not None and view.text is None and view.cri_enabled:
            data = ctd.parse_toml(config_text)
            check_not_shadowed(view.hosts_dir, ctd.configured_dirs(data, ctd.config_version(data)),
                               params["registry"], config)
        # Restart a containerd that has not loaded config.toml only into a file it loads, and that lists our
        # directory (else the restart would drop the mirror the running containerd still has).
        pending = view.text is None and bool(view.reads) and params["manage_config_path"] and \
            params["state"] == "present" and loaded_before_change(pid, config)
        if view.text is not None or pending:
            check_with_containerd(module, config, view.text if view.text is not None else config_text)
        same_directory = os.path.dirname(target) == os.path.dirname(config)
        with _files.directory_lock(os.path.dirname(target)) if not same_directory else contextlib.nullcontext():
            hosts_change = plan_hosts(module, target, wanted)
            changes = [change for change in (hosts_change,) if change]
            if view.text is not None:
                changes.append(Change(config, config_text, view.text))
            if not module.check_mode:
                made = apply(module, changes, config)
    changed = bool(changes)
    if params["state"] == "present":
        changed = _files.apply_file_attributes(module, target, changed)
    result = {
        "changed": changed,
        "path": target,
        "paths": [change.path for change in changes],
        "hosts_dir": view.hosts_dir,
        "restart_needed": view.text is not None or pending,
        "restart_pending_only": pending,
        "cri_reads_hosts_dir": view.reads,
        "cri_enabled": view.cri_enabled,
        "config_created": view.text is not None and config_text is None,
    }
    result.update(made)
    # A stopped containerd stays stopped: it reads config.toml when it starts.
    needed = result["restart_needed"] and (pid != 0 or params["state"] == "absent")
    result["outcome"] = outcome("containerd", "configure", files_changed=result["paths"], apply_needed=needed,
                                apply_action=apply_action(needed, params["apply"], "restart", ("restart",)))
    result["apply_action"] = result["outcome"]["apply_action"]
    if module._diff:
        result["diff"] = [_files.diff_entry(*change) for change in changes]
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            registry=dict(type="str", default="docker.io"),
            mirrors=dict(type="list", elements="str", default=[]),
            server=dict(type="str"),
            hosts_dir=dict(type="path"),
            config_path=dict(type="path", default="/etc/containerd/config.toml"),
            manage_config_path=dict(type="bool", default=True),
            capabilities=dict(type="list", elements="str", choices=["pull", "resolve", "push"],
                              default=["pull", "resolve"]),
            skip_verify=dict(type="bool", default=False),
            force=dict(type="bool", default=False),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            keep_previous=dict(type="bool", default=False),
            apply=dict(type="str", choices=["auto", "reload", "restart", "none"], default="auto"),
        ),
        supports_check_mode=True,
        add_file_common_args=True,
    )
    default_path = os.path.join(module.params["hosts_dir"] or ctd.DEFAULT_HOSTS_DIR, str(module.params["registry"]),
                                HOSTS_FILE)
    # What Ansible echoes with -v (invocation): never a password given in a mirror URL.
    invocation = {"module_args": redact_arguments(module.params)}
    try:
        result = run_module(module)
    except (ConfigError, errors.NeedsRoot, OSError) as exc:
        path = exc.path if isinstance(exc, FileError) else default_path
        cause = (exc.strerror or to_native(exc)) if isinstance(exc, OSError) else exc.message
        module.fail_json(msg=mask_url("%s: %s — the file was left unchanged" % (path, cause)), path=mask_url(path),
                         invocation=invocation)
    module.exit_json(invocation=invocation, **result)


if __name__ == "__main__":
    main()
