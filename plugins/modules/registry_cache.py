#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: registry_cache
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - action_common_attributes.files
  - fleetops.docker_mirror.file_attributes
short_description: Distribution pull-through caches (Debian's docker-registry), one per upstream registry
version_added: 2.0.0
description:
  - Writes, for each present instance of O(instances), a Distribution configuration
    O(config_dir)C(/cache-NAME.yml) (mode 0640, group C(docker-registry), as it may hold upstream credentials) and a
    systemd unit O(unit_dir)C(/registry-cache-NAME.service) running C(docker-registry serve) on it as the
    C(docker-registry) user, its storage directory O(storage_root)C(/NAME), and the server certificate and key
    under O(config_dir)C(/cache-tls/) shared by every instance of the host.
  - The configuration is a marker comment line, then JSON (YAML to Distribution), with C(proxy.remoteurl), TLS,
    filesystem storage, C(/debug/health) and Prometheus C(/metrics) on C(127.0.0.1:debug_port), then
    O(instances[].settings) deep-merged. Every key of O(instances[].settings) is checked against the
    configuration keys of the installed release (C(docker-registry --version); tables transcribed from
    C(configuration/configuration.go) of distribution/distribution at tags v2.7.1 and v2.8.3, which v2.8.2
    equals); an unknown key is refused, naming the host, the instance and the key.
  - An instance with C(state=absent) is stopped and disabled, and its unit and configuration removed; its storage
    stays unless C(purge_storage=true).
  - The module never starts or restarts an instance; it returns per instance whether a restart is needed (a file
    of that instance, or the shared certificate, changed while it runs), and RV(daemon_reload_needed). The role
    routes them to C(ansible.builtin.systemd_service).
  - Files are written with the collection's managed-file protocol (every file refused or validated before any is
    written, temporary file then rename, undone on failure). A configuration or unit file at those names without
    the marker line is refused, never replaced. Credentials never appear in results, diffs or messages.
author:
  - fleetops engineers (@fleetops)
attributes:
  diff_mode:
    details: The configuration and unit files before and after, credentials masked (the key file is not shown).
options:
  instances:
    description:
      - The caches of this host, one per upstream registry.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: C([a-z0-9][a-z0-9-]*), unique on the host; names the files, the unit and the storage.
        type: str
        required: true
      registry:
        description: What clients pull from (a key of C(docker_mirror_registries)), C(host[:port]).
        type: str
        required: true
      remoteurl:
        description:
          - The upstream, C(http(s)://host[:port]). Default C(https://registry-1.docker.io) for C(docker.io),
            else C(https://REGISTRY).
        type: str
      port:
        description: The TLS listen port, unique on the host.
        type: int
        required: true
      address:
        description: The listen address; default O(address).
        type: str
      username:
        description: Upstream user name (with O(instances[].password)).
        type: str
      password:
        description: Upstream password or token. Never shown.
        type: str
      ttl:
        description:
          - C(proxy.ttl). Every packaged release (2.7.1, 2.8.2, 2.8.3) lacks it (it came with Distribution 3.0), so
            giving it is refused.
        type: str
      settings:
        description: Extra Distribution configuration, deep-merged; each key must exist in the installed release.
        type: dict
        default: {}
      debug_port:
        description: Port of C(/debug/health) and C(/metrics) on C(127.0.0.1); default O(instances[].port) + 10000.
        type: int
      probe_image:
        description: An image on O(instances[].registry) whose manifest verification fetches through the cache.
        type: str
      state:
        description: V(absent) stops and removes the instance.
        type: str
        choices: [present, absent]
        default: present
      purge_storage:
        description: With O(instances[].state=absent), remove the storage directory too.
        type: bool
        default: false
  address:
    description: Default listen address of the instances; empty listens on every address.
    type: str
    default: ""
  url_host:
    description: The host name clients use in the cache URLs (RV(instances[].url), RV(mirrors)).
    type: str
    required: true
  tls_cert:
    description: PEM text of the server certificate (chain). Required when an instance is present.
    type: str
  tls_key:
    description: PEM text of the server key (mode 0640, group C(docker-registry)). Never shown.
    type: str
  ca:
    description: PEM text of the CA clients trust for the caches (returned in RV(mirrors)).
    type: str
    default: ""
  config_dir:
    description: Directory of the configuration files and of C(cache-tls/).
    type: path
    default: /etc/docker/registry
  unit_dir:
    description: Directory of the systemd units.
    type: path
    default: /etc/systemd/system
  storage_root:
    description: Parent of the storage directories.
    type: path
    default: /var/lib/registry-cache
  unsafe_writes:
    description: Write a file in place when a rename cannot replace it (a bind-mounted file).
    type: bool
    default: false
notes:
  - Python 3.8 or later on the managed host; no PyYAML needed.
seealso:
  - module: fleetops.docker_mirror.registry_cache_info
  - name: Distribution's configuration reference
    description: The keys of O(instances[].settings).
    link: https://distribution.github.io/distribution/about/configuration/
"""

EXAMPLES = r"""
- name: A Docker Hub cache and a registry.k8s.io cache
  fleetops.docker_mirror.registry_cache:
    url_host: cache1.example.com
    tls_cert: "{{ lookup('ansible.builtin.file', 'pki/cache1.crt') }}"
    tls_key: "{{ lookup('ansible.builtin.file', 'pki/cache1.key') }}"
    ca: "{{ lookup('ansible.builtin.file', 'pki/ca.crt') }}"
    instances:
      - name: dockerhub
        registry: docker.io
        port: 5443
        username: mybot
        password: "{{ vault_dockerhub_token }}"
      - name: k8s
        registry: registry.k8s.io
        port: 5444
        settings:
          log: {level: warn}
  become: true
  register: caches

- name: Remove an instance and its storage
  fleetops.docker_mirror.registry_cache:
    url_host: cache1.example.com
    instances:
      - {name: k8s, registry: registry.k8s.io, port: 5444, state: absent, purge_storage: true}
  become: true
"""

RETURN = r"""
release:
  description: The installed Distribution release (from C(docker-registry --version)); empty when not installed.
  returned: success
  type: str
  sample: 2.8.2
instances:
  description: One entry per instance, in the order given.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The instance.
      type: str
    registry:
      description: The registry it caches.
      type: str
    state:
      description: V(present) or V(absent).
      type: str
    url:
      description: C(https://URL_HOST:PORT), the mirror URL clients use.
      type: str
    upstream:
      description: The C(proxy.remoteurl).
      type: str
    listen:
      description: The C(http.addr).
      type: str
    debug_address:
      description: The C(http.debug.addr) (C(/debug/health), C(/metrics)).
      type: str
    service:
      description: The systemd unit.
      type: str
    config:
      description: The configuration file.
      type: str
    changed:
      description: A file of the instance changed (in check mode, would change).
      type: bool
    restart_needed:
      description: The instance runs and a file it reads changed.
      type: bool
    probe_image:
      description: The image verification fetches through the cache; empty for none.
      type: str
verify:
  description:
    - The present instances as M(fleetops.docker_mirror.registry_cache_info) takes them (its O(fleetops.docker_mirror.registry_cache_info#module:instances)).
  returned: success
  type: list
  elements: dict
mirrors:
  description: "The present instances as C(docker_mirror_registries) takes them, C({registry: [{url, ca}]})."
  returned: success
  type: dict
  sample: {docker.io: [{url: "https://cache1.example.com:5443", ca: "-----BEGIN CERTIFICATE-----..."}]}
unlisted:
  description:
    - The instances of this module on the host (their unit has the marker line) that O(instances) does not name,
      left as they are (a renamed instance leaves the old one) - list them with C(state=absent) to remove them.
  returned: success
  type: list
  elements: dict
  sample: [{name: old, service: registry-cache-old.service, active: true}]
daemon_reload_needed:
  description: A unit file was written or removed (C(systemctl daemon-reload) is needed).
  returned: success
  type: bool
diff:
  description: One entry per changed file (configuration and unit files; the key is never shown).
  returned: when diff mode is on
  type: list
  elements: dict
"""

import errno
import grp
import os
import pwd
import shutil
import socket
import typing as t

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _distribution as dist
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _files, _process
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._files import FileError
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._host import HostRunner
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._mirror_spec import normalise_registry
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._probe import split_image

PROGRAM = "docker-registry"
PACKAGE = "docker-registry"
REDACTED_ARG = "********"  # what Ansible shows for a no_log value
SERVICE_USER = "docker-registry"
PRIVATE_MODE = 0o640
PUBLIC_MODE = 0o644
STORAGE_MODE = 0o750

INSTANCE_OPTIONS = dict(
    name=dict(type="str", required=True),
    registry=dict(type="str", required=True),
    remoteurl=dict(type="str"),
    port=dict(type="int", required=True),
    address=dict(type="str"),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    ttl=dict(type="str"),
    settings=dict(type="dict", default={}),
    debug_port=dict(type="int"),
    probe_image=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    purge_storage=dict(type="bool", default=False),
)


# --------------------------------------------------------------------------- reading the host


def candidate_release(module) -> str | None:
    """The release apt would install (check mode before the role installed the package); None when unknown."""
    apt_cache = module.get_bin_path("apt-cache")
    if not apt_cache:
        return None
    rc, out, _err = module.run_command([apt_cache, "policy", PACKAGE])
    candidate = [line.split(":", 1)[1] for line in out.splitlines() if line.strip().startswith("Candidate:")]
    return dist.release_from_version(candidate[0]) if rc == 0 and candidate else None


def installed_release(module) -> tuple[str | None, str | None]:
    """(the release, the program's path); (None, None) when docker-registry is not installed; in check mode, the
    release apt would install then (the role installs it in a real run), so that settings are checked for it."""
    program = module.get_bin_path(PROGRAM)
    if not program:
        return (candidate_release(module) if module.check_mode else None), None
    rc, out, err = module.run_command([program, "--version"])
    release = dist.release_from_version(out) if rc == 0 else None
    if release is None:
        raise ConfigError("%s --version did not name a release (exit status %d: %s)"
                          % (program, rc, (out + err).strip()[:200]))
    return release, program


def service_group() -> int | None:
    try:
        return grp.getgrnam(SERVICE_USER).gr_gid
    except KeyError:
        return None


def service_user() -> tuple[int, int] | None:
    try:
        user = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        return None
    return user.pw_uid, user.pw_gid


def port_in_use(address: str, port: int) -> bool:
    """Whether another socket listens where ``address:port`` would (Go's net.Listen: "" is every address)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        probe = socket.socket(family, socket.SOCK_STREAM)
    except OSError:
        return False
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Go: a TIME_WAIT socket does not count
        probe.bind((address or "0.0.0.0", port))
    except OSError as exc:
        return exc.errno == errno.EADDRINUSE
    finally:
        probe.close()
    return False


def listening_pid(port: int) -> int | None:
    """The process holding the listening TCP socket on ``port`` (/proc/net/tcp*, then /proc/PID/fd)."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            with open(os.path.join(_process.PROC_ROOT, "net", table), encoding="ascii") as handle:
                rows = [line.split() for line in handle.readlines()[1:]]
        except OSError:
            continue
        inodes.update("socket:[%s]" % row[9] for row in rows
                      if len(row) > 9 and row[3] == "0A" and int(row[1].rpartition(":")[2], 16) == port)
    for pid in (name for name in os.listdir(_process.PROC_ROOT) if name.isdigit()) if inodes else ():
        fd_dir = os.path.join(_process.PROC_ROOT, pid, "fd")
        try:
            if any(os.readlink(os.path.join(fd_dir, fd)) in inodes for fd in os.listdir(fd_dir)):
                return int(pid)
        except OSError:
            continue
    return None


def holder(port: int) -> str:
    pid = listening_pid(port)
    argv = _process.process_argv(pid) if pid else None
    return "pid %d: %s" % (pid, " ".join(argv)[:120]) if pid and argv else "another process"


def read_owned(path: str) -> str | None:
    """The text of a file this module wrote; a file at that name without the marker line is refused."""
    text = _files.read_text(path)
    if text is not None and not text.startswith(dist.MARKER):
        raise FileError(path, "not written by fleetops.docker_mirror.registry_cache (no marker line): move it "
                              "away or choose another instance name; it was left unchanged")
    return text


# --------------------------------------------------------------------------- the plan


class Planned(t.NamedTuple):
    instance: dist.Instance
    writes: list[_files.Write]


def instance_writes(instance: dist.Instance, paths: dist.Paths, program: str) -> list[_files.Write]:
    """The configuration and unit files of one instance: (before, after) each; after None when absent."""
    config_path, unit_path = paths.config(instance.name), paths.unit(instance.name)
    present = instance.state == "present"
    wanted = [(config_path, dist.render_config(instance, paths) if present else None, PRIVATE_MODE),
              (unit_path, dist.render_unit(instance, config_path, program) if present else None, PUBLIC_MODE)]
    writes = []
    for path, after, mode in wanted:
        before = read_owned(path)
        if before != after:
            writes.append(_files.Write(path, before, after, mode=mode if after is not None else None))
    return writes


def tls_writes(params: dict[str, t.Any], paths: dist.Paths) -> list[_files.Write]:
    writes = []
    for path, text, mode in ((paths.tls_cert, params["tls_cert"], PUBLIC_MODE),
                             (paths.tls_key, params["tls_key"], PRIVATE_MODE)):
        after = text if text.endswith("\n") else text + "\n"
        before = _files.read_text(path)
        if before != after:
            writes.append(_files.Write(path, before, after, mode=mode))
    return writes


def check_tls(params: dict[str, t.Any], instances: list[dist.Instance]) -> None:
    if any(instance.state == "present" for instance in instances):
        for option, label in (("tls_cert", "CERTIFICATE"), ("tls_key", "PRIVATE KEY")):
            if not params[option] or ("-----BEGIN " not in params[option] or label not in params[option]):
                raise ConfigError("%s must hold PEM text (a %s) when an instance is present"
                                  % (option, label.lower()))


def paths_of(params: dict[str, t.Any]) -> dist.Paths:
    tls_dir = os.path.join(params["config_dir"], "cache-tls")
    return dist.Paths(params["config_dir"], params["unit_dir"], params["storage_root"],
                      os.path.join(tls_dir, "server.crt"), os.path.join(tls_dir, "server.key"))


def own_ports(instances: list[dist.Instance], paths: dist.Paths, active: dict[str, bool]) -> set[int]:
    """The ports our running instances listen on now (from the configuration they run), free for any of them."""
    ports = set()
    for instance in instances:
        if active.get(instance.name):
            try:
                ports.update(dist.config_ports(_files.read_text(paths.config(instance.name)) or ""))
            except ConfigError:
                continue
    return ports


def check_ports(instances: list[dist.Instance], ours: set[int]) -> None:
    """Refuse a port another process listens on: the instance would exit at start, again and again."""
    for instance in instances:
        if instance.state != "present":
            continue
        for what, address, port in (("port", instance.address, instance.port),
                                    ("debug_port", "127.0.0.1", instance.debug_port)):
            if port not in ours and port_in_use(address, port):
                raise ConfigError("instance %s: %s %d (%s) is already in use (%s): choose another port or stop "
                                  "that process; nothing was written"
                                  % (instance.name, what, port, dist.listen(address, port), holder(port)))


def check_storage(instances: list[dist.Instance], paths: dist.Paths, user: tuple[int, int] | None) -> None:
    """Refuse a storage directory that cannot be one (a file on its path) or that the service cannot write."""
    for instance in instances:
        if instance.state != "present":
            continue
        path = paths.storage(instance.name)
        blocker = _files.nearest_existing(path)
        if not os.path.isdir(blocker):
            raise ConfigError("instance %s: storage directory %s: %s is not a directory (storage_root %s): move it "
                              "away or choose another storage_root; nothing was written"
                              % (instance.name, path, blocker, paths.storage_root))
        if blocker == path and user is not None and os.stat(path).st_uid != user[0]:
            raise ConfigError("instance %s: storage directory %s is owned by uid %d, not %s: the cache could not "
                              "store there; chown -R %s: %s, or remove it; nothing was written"
                              % (instance.name, path, os.stat(path).st_uid, SERVICE_USER, SERVICE_USER, path))


def unlisted_instances(runner: HostRunner, instances: list[dist.Instance], unit_dir: str) -> list[dict[str, t.Any]]:
    """Our units (marker line) whose instance the list does not name: a rename leaves the old one running."""
    listed = {instance.name for instance in instances}
    found = []
    for entry in sorted(os.listdir(unit_dir)) if os.path.isdir(unit_dir) else []:
        name = entry[len(dist.SERVICE_PREFIX):-len(".service")]
        if entry.startswith(dist.SERVICE_PREFIX) and entry.endswith(".service") and name not in listed \
                and dist.NAME_RE.match(name) and (_files.read_text(os.path.join(unit_dir, entry)) or "") \
                .startswith(dist.MARKER):
            found.append({"name": name, "service": entry, "active": runner.active(entry[:-len(".service")])})
    return found


# --------------------------------------------------------------------------- changing the host


def stop_absent(runner: HostRunner, planned: list[Planned]) -> None:
    """Stop and disable every absent instance whose unit is still there, before its files go."""
    systemctl = runner.bins.get("systemctl")
    for plan in planned:
        if plan.instance.state == "absent" and plan.writes and systemctl:
            rc, out, err = runner.run([systemctl, "disable", "--now", plan.instance.service])
            if rc != 0 and "not loaded" not in err and "does not exist" not in err:
                raise ConfigError("cannot stop %s: %s" % (plan.instance.service, (err or out).strip()))


def set_group(paths: t.Iterable[str], gid: int | None) -> None:
    """root:docker-registry on the files the service reads that hold secrets (mode 0640)."""
    for path in paths:
        if gid is not None and os.path.exists(path):
            try:
                os.chown(path, 0, gid)
            except OSError as exc:
                raise FileError(path, "cannot set its group: %s" % (exc.strerror or to_native(exc))) from None


def storage_directories(instances: list[dist.Instance], paths: dist.Paths) -> list[str]:
    """Create the storage directory of each present instance (docker-registry's, 0750); purge the absent ones
    that ask for it. Returns what changed."""
    changed = []
    for instance in instances:
        path = paths.storage(instance.name)
        if instance.state == "present" and not os.path.isdir(path):
            _files.make_directories(os.path.dirname(path))
            os.mkdir(path, STORAGE_MODE)
            user = service_user()
            if user is not None:
                os.chown(path, *user)
            os.chmod(path, STORAGE_MODE)
            changed.append(path)
        elif instance.state == "absent" and instance.purge_storage and os.path.isdir(path):
            shutil.rmtree(path)
            changed.append(path)
    return changed


def storage_changes(instances: list[dist.Instance], paths: dist.Paths) -> list[str]:
    """What ``storage_directories`` would change (check mode)."""
    return [paths.storage(i.name) for i in instances
            if (i.state == "present" and not os.path.isdir(paths.storage(i.name)))
            or (i.state == "absent" and i.purge_storage and os.path.isdir(paths.storage(i.name)))]


# --------------------------------------------------------------------------- the result


def instance_result(plan: Planned, params: dict[str, t.Any], tls_changed: bool, active: bool) -> dict[str, t.Any]:
    instance = plan.instance
    changed = bool(plan.writes) or (instance.state == "present" and tls_changed)
    return {
        "name": instance.name, "registry": instance.registry, "state": instance.state,
        "url": "https://%s" % dist.listen(params["url_host"], instance.port),
        "upstream": instance.remoteurl, "listen": dist.listen(instance.address, instance.port),
        "debug_address": dist.listen("127.0.0.1", instance.debug_port), "service": instance.service,
        "config": paths_of(params).config(instance.name), "changed": changed,
        "restart_needed": changed and instance.state == "present" and active,
        "probe_image": instance.probe_image or "",
    }


def mirrors_of(results: list[dict[str, t.Any]], ca: str) -> dict[str, list[dict[str, str]]]:
    mirrors: dict[str, list[dict[str, str]]] = {}
    for item in results:
        if item["state"] == "present":
            mirrors.setdefault(item["registry"], []).append({"url": item["url"], "ca": ca})
    return mirrors


VERIFY_KEYS = ("name", "registry", "url", "upstream", "listen", "debug_address", "service", "config", "probe_image")


def verify_entry(item: dict[str, t.Any]) -> dict[str, t.Any]:
    return {key: item[key] for key in VERIFY_KEYS}


def diff_of(writes: list[_files.Write], key_path: str) -> list[dict[str, str]]:
    entries = []
    for write in writes:
        if write.path == key_path:
            entries.append(_files.diff_entry(write.path, "" if write.before is not None else None,
                                             None if write.after is None else "(the server key changed: not shown)\n"))
            continue
        entries.append(_files.diff_entry(write.path, dist.mask_config(write.before), dist.mask_config(write.after)))
    return entries


def tls_removals(paths: dist.Paths) -> list[_files.Write]:
    """The server certificate and key, once no instance of ours is left on the host to read them."""
    return [_files.Write(path, before, None) for path in (paths.tls_cert, paths.tls_key)
            for before in [_files.read_text(path)] if before is not None]


def plan_all(module, program: str | None, instances: list[dist.Instance], paths: dist.Paths,
             unlisted: list[dict[str, t.Any]]) -> tuple[list[Planned], list[_files.Write]]:
    params = module.params
    planned = [Planned(i, instance_writes(i, paths, program or "/usr/bin/" + PROGRAM)) for i in instances]
    if any(i.state == "present" for i in instances):
        tls = tls_writes(params, paths)
    else:
        tls = [] if unlisted else tls_removals(paths)
    return planned, tls


def run_module(module) -> dict[str, t.Any]:
    params = module.params
    for option in ("config_dir", "unit_dir", "storage_root"):
        _files.real_path(params[option], option)
    release, program = installed_release(module)
    if program is None and not module.check_mode:
        raise ConfigError("the %s package is not installed (no %s command)" % (PROGRAM, PROGRAM))
    instances = dist.parse_instances(params["instances"], release, params["address"], normalise_registry,
                                     split_image)
    check_tls(params, instances)
    paths = paths_of(params)
    runner = HostRunner(module, ("systemctl",), 30)
    with _files.directory_lock(params["config_dir"]), _files.directory_lock(params["unit_dir"]):
        unlisted = unlisted_instances(runner, instances, paths.unit_dir)
        planned, tls = plan_all(module, program, instances, paths, unlisted)
        writes = tls + [write for plan in planned for write in plan.writes]
        active = {i.name: runner.active(i.service[:-len(".service")]) for i in instances}
        check_storage(instances, paths, service_user())
        check_ports(instances, own_ports(instances, paths, active))
        if not module.check_mode:
            stop_absent(runner, planned)
        _files.write_files(module, writes)
        if not module.check_mode:
            set_group([w.path for w in writes if w.mode == PRIVATE_MODE and w.after is not None], service_group())
    storage = storage_changes(instances, paths) if module.check_mode else storage_directories(instances, paths)
    results = [instance_result(plan, params, bool(tls), active[plan.instance.name]) for plan in planned]
    for item in unlisted:
        module.warn("instance %s (%s) is not in instances and was left as it is%s: list it with state: absent "
                    "to remove it" % (item["name"], item["service"], ", running" if item["active"] else ""))
    result: dict[str, t.Any] = {
        "unlisted": unlisted,
        "changed": bool(writes or storage), "release": release or "", "instances": results,
        "mirrors": mirrors_of(results, params["ca"]),
        "verify": [verify_entry(item) for item in results if item["state"] == "present"],
        "daemon_reload_needed": any(w.path.startswith(paths.unit_dir + "/") for w in writes),
    }
    if module._diff:
        result["diff"] = diff_of(writes, paths.tls_key)
    return result


def shown_params(params: dict[str, t.Any]) -> dict[str, t.Any]:
    """The arguments as echoed back (-vvv): the upstream user names and the credentials inside settings masked
    like the passwords."""
    shown = dict(params)
    shown["instances"] = [dist.mask_secret_values(item, REDACTED_ARG) for item in params.get("instances") or []]
    return shown


def hidden_values(params: dict[str, t.Any]) -> list[str]:
    """The credentials that no_log does not cover: upstream user names, secrets inside settings."""
    return [value for item in params.get("instances") or [] for value in dist.secret_values(item)]


class CacheModule(_files.SecretSafeModule):
    """An upstream user name is a credential too (a Docker Hub account), and so are secrets inside settings
    (http.secret, redis.password), but no_log would mask them inside every text of the result (a user named
    "registry" in every path): they are hidden in the journal line and the echoed arguments only, and masked in
    the diff by mask_config."""

    def _log_invocation(self) -> None:
        kept = set(self.no_log_values)
        self.no_log_values.update(hidden_values(self.params))
        try:
            super()._log_invocation()
        finally:
            self.no_log_values.clear()
            self.no_log_values.update(kept)

    def _return_formatted(self, kwargs):
        kwargs.setdefault("invocation", {"module_args": shown_params(self.params)})
        return super()._return_formatted(kwargs)


def failure(module, exc: BaseException) -> t.NoReturn:
    """One line naming the host (and, from the message, the instance and the value)."""
    where = "%s: " % exc.path if isinstance(exc, FileError) else ""
    message = getattr(exc, "message", None) or getattr(exc, "strerror", None) or to_native(exc)
    module.fail_json(msg="registry_cache on %s: %s%s" % (socket.gethostname(), where, message))
    raise AssertionError("fail_json returned")  # pragma: no cover


def main() -> None:
    module = CacheModule(
        argument_spec=dict(
            instances=dict(type="list", elements="dict", required=True, options=INSTANCE_OPTIONS),
            address=dict(type="str", default=""),
            url_host=dict(type="str", required=True),
            tls_cert=dict(type="str"),
            tls_key=dict(type="str", no_log=True),
            ca=dict(type="str", default=""),
            config_dir=dict(type="path", default="/etc/docker/registry"),
            unit_dir=dict(type="path", default="/etc/systemd/system"),
            storage_root=dict(type="path", default="/var/lib/registry-cache"),
            unsafe_writes=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    try:
        result = run_module(module)
    except _files.FAILURES as exc:
        failure(module, exc)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
