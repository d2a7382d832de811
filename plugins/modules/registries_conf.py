#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: registries_conf
extends_documentation_fragment:
  - fleetops.docker_mirror.option_names
  - ansible.builtin.action_common_attributes
  - action_common_attributes.files
  - ansible.builtin.files
  - fleetops.docker_mirror.file_attributes
short_description: Registry mirrors for Podman, Buildah, Skopeo and CRI-O in a registries.conf drop-in
version_added: 1.1.0
description:
  - Writes a containers-registries.conf (version 2) drop-in, by default
    C(/etc/containers/registries.conf.d/50-fleetops-docker-mirror.conf), with one C([[registry]]) per registry
    whose C(prefix) and C(location) are the registry and one C([[registry.mirror]]) per mirror, tried in order
    before the registry. Podman, Buildah and Skopeo read it at every invocation; CRI-O on C(SIGHUP).
  - The module owns that one file and renders it whole. The file starts with a marker comment; a file of that
    name the module did not write is not replaced unless O(force=true), and never removed.
  - One drop-in holds the tables of several registries (sorted by prefix). A run for O(registry) rewrites that
    registry's table only and keeps the others, so runs for C(docker.io) and C(quay.io) through the same drop-in
    both stay. A drop-in written by version 1.x (one C(docker.io) table) is read as it is.
  - Mirror URLs are given as for dockerd (the same list as the C(registry-mirrors) of daemon.json) and checked
    the same way; the scheme-less C(location) is derived, and a C(http://) mirror gets C(insecure = true). In
    O(mirrors) a mirror with a path is refused, because registries.conf reads a path as a namespace on the mirror
    (C(location/library/IMAGE) under C(/v2/)), not as the API root dockerd and containerd take it for.
  - O(registries) gives every registry with its mirrors in the model every runtime module of this collection
    takes (the role's C(docker_mirror_registries)); one C([[registry]]) per registry, its mirrors in order.
    C(skip_verify) is written as C(insecure = true) (containers-image then skips TLS verification for that mirror,
    and may fall back to plain http). A mirror's C(ca), C(client_cert) and C(client_key) are written to
    O(certs_dir)C(/<mirror host:port>/) as C(ca.crt), C(client.cert) (0644) and C(client.key) (0600), each starting
    with the marker comment line (PEM readers skip it), which is how the module knows them as its own.
  - What registries.conf cannot express is reported in RV(unsupported), never a failure, and the rest is written.
    C(headers) (the mirror is written without them; credentials go to auth.json). C(capabilities) with C(push)
    (containers-image never pushes to a mirror). C(capabilities) without C(resolve) is written as
    C(pull-from-mirror = "digest-only") (tag pulls then fetch everything from the registry), and reported; Podman
    before 4.1 (containers-image before 5.21, such as Debian 11's 3.0.1) ignores that key, so there the mirror is
    left out. Without C(pull) the mirror is left out. A URL path is expressible only with C(override_path) and a
    C(/v2/NAMESPACE) root (written as C(location = "host/NAMESPACE"), the same requests containerd sends); any
    other path leaves the mirror out.
  - Containers read the main file O(main_conf) first (version 1 or 2, not both), then the C(.conf) files of
    O(conf_dir) in byte order (version 2 only). A C([[registry]]) without C(prefix) has its C(location) as
    prefix, and trailing slashes are stripped (C(prefix = "docker.io/") is C(docker.io)). Within one file the
    first table with a prefix is used; a later file's table with the same prefix replaces the earlier one.
  - The module fails, naming the file and the value, when a drop-in read after its own defines O(registry) again
    (that would silently undo the mirrors); when the table used for O(registry) today blocks it (C(blocked =
    true), or version 1's C([registries.block])), since ours would replace it and lift the operator's block; when
    another drop-in written by this module already holds O(registry) (two of ours would undo each other); and when
    a file cannot be read as containers read it (a TOML error, version 1 in a drop-in, version 1 and 2 mixed).
    A C([[registry]]) for a longer prefix (such as C(docker.io/library)) in any file is used instead of ours for
    its images, and an earlier table for O(registry) is replaced by ours; both are warnings.
  - Every check runs before anything is written; on failure the file is left unchanged and the message names
    the file and the cause.
  - Files are written as M(fleetops.docker_mirror.daemon_json) writes daemon.json (temporary file, then rename,
    under a bounded lock on the directory). A new file is C(0644) and a new directory C(0755) whatever the umask;
    an existing file keeps its owner and mode. An immutable or append-only file (C(chattr +i), C(chattr +a)), a
    file in an immutable directory and a bind-mounted file (unless O(unsafe_writes=true)) are refused before any
    file is written, in check mode too.
author:
  - fleetops engineers (@fleetops)
attributes:
  diff_mode:
    details: The diff shows the drop-in's text before and the exact text written after.
options:
  apply:
    description:
      - Whether a running CRI-O is to re-read the drop-in (C(systemctl reload crio)) when it changed, returned as
        RV(apply_action). Podman, Buildah and Skopeo read it at each invocation and need nothing.
        V(none) never asks for it (RV(apply_needed) still says whether it is needed). The module never reloads.
    type: str
    choices: [auto, reload, restart, none]
    default: auto
  registry:
    description:
      - The registry whose images the mirrors serve, C(host[:port]); the C(prefix) and C(location) of the
        C([[registry]]) table. containerd's C(_default) means nothing in registries.conf and is refused.
    type: str
    default: docker.io
  registries:
    description:
      - Every registry with its mirrors, in the model shared by every runtime module of this collection. Mutually
        exclusive with O(registry) and O(mirrors) (which are its one-registry case).
      - With O(exclusive=true), our drop-in holds exactly these registries (tables of others are removed with their
        certificate files) and each exactly these mirrors; with V(false), as for O(mirrors), per registry.
      - With O(state=absent), the given mirrors leave each given registry (the whole table when none is given).
    type: list
    elements: dict
    version_added: 2.0.0
    suboptions:
      registry:
        description:
          - C(host[:port]); C(index.docker.io) and C(registry-1.docker.io) mean C(docker.io); C(_default) is refused.
        type: str
        required: true
      mirrors:
        description:
          - The mirrors, tried in this order before the registry.
        type: list
        elements: dict
        required: true
        suboptions:
          url:
            description: The mirror, C(https://) or C(http://) (http writes C(insecure = true)).
            type: str
            required: true
          ca:
            description: PEM text of the CA certificates to trust for this mirror (written as C(ca.crt)).
            type: str
          client_cert:
            description: PEM text of a client certificate (C(client.cert)); needs O(registries[].mirrors[].client_key).
            type: str
          client_key:
            description: PEM text of the client certificate's unencrypted key (C(client.key), mode 0600). Never shown.
            type: str
          skip_verify:
            description: Skip TLS verification of the mirror (written as C(insecure = true)).
            type: bool
            default: false
          capabilities:
            description:
              - What the mirror serves, as containerd names it; see the description for how it is written.
            type: list
            elements: str
            choices: [pull, resolve, push]
            default: [pull, resolve]
          override_path:
            description: The URL path is the API root (no C(/v2) appended); only C(/v2/NAMESPACE) is expressible.
            type: bool
            default: false
          headers:
            description: HTTP headers for the mirror; not expressible in registries.conf (reported). Never shown.
            type: dict
  certs_dir:
    description:
      - The containers-certs.d(5) directory the certificate files of O(registries) go to, one directory per mirror
        C(host:port). Files there the module did not write are never changed or removed; one in the way of a file
        to write, with other content, is refused (naming it).
    type: path
    default: /etc/containers/certs.d
    version_added: 2.0.0
  mirrors:
    description:
      - Mirror URLs (C(https://) or C(http://), no path), tried in this order before O(registry). Duplicates
        (with or without a trailing slash) are written once.
      - With O(exclusive=false), the other mirrors the drop-in already lists for O(registry) stay, after these.
      - With O(state=absent) and O(exclusive=false), the mirrors to remove (all of them when empty).
    type: list
    elements: str
    default: []
  exclusive:
    description:
      - V(false) - the mirrors this drop-in already lists for O(registry) stay, in their order, and the missing
        O(mirrors) are added after them, in this order (mirrors other files list are never taken over).
      - V(true) - the table lists exactly O(mirrors), in this order.
      - The same semantics as O(fleetops.docker_mirror.daemon_json#module:exclusive), so that one mirror list
        means the same on every runtime.
    type: bool
    default: false
  conf_dir:
    description:
      - The drop-in directory.
    type: path
    default: /etc/containers/registries.conf.d
  dropin:
    description:
      - The drop-in's file name in O(conf_dir). It must end in C(.conf); its place in the alpha-numerical order
        decides which other drop-ins are read after it.
    type: str
    default: 50-fleetops-docker-mirror.conf
  main_conf:
    description:
      - The main registries.conf, read before every drop-in (only read by this module).
    type: path
    default: /etc/containers/registries.conf
  force:
    description:
      - Replace a file at the drop-in's name that this module did not write (no marker comment).
    type: bool
    default: false
  state:
    description:
      - V(absent) removes the O(mirrors) from the table of O(registry), as M(fleetops.docker_mirror.daemon_json)
        does; the table goes with its last mirror, or at once with O(exclusive=true) or no O(mirrors), and the
        drop-in this module wrote once it holds no table; nothing else.
    type: str
    choices: [present, absent]
    default: present
notes:
  - A mirror URL with a user name or password is refused (registries.conf has no place for it; credentials go to
    C(auth.json)). Its userinfo is masked in the message and in the arguments Ansible echoes (C(invocation)).
  - Python 3.8 or later on the managed host; before 3.11 (no C(tomllib)) the distribution's C(python3-tomli) or
    C(python3-toml) package reads TOML, and the module names the package when neither is installed.
  - Per-user files of rootless containers (C($HOME/.config/containers/registries.conf) and C(.d)) are not
    checked; when the per-user main file exists, rootless containers do not read the system drop-ins at all.
seealso:
  - module: fleetops.docker_mirror.daemon_json
  - module: fleetops.docker_mirror.containerd_hosts
  - name: containers-registries.conf(5)
    description: The registries.conf v2 format (prefix, location, mirror, insecure).
    link: https://github.com/containers/image/blob/main/docs/containers-registries.conf.5.md
  - name: containers-registries.conf.d(5)
    description: The order drop-ins are read in and how their C([[registry]]) tables merge.
    link: https://github.com/containers/image/blob/main/docs/containers-registries.conf.d.5.md
"""

EXAMPLES = r"""
- name: Podman, Buildah, Skopeo and CRI-O pull Docker Hub images through a mirror
  fleetops.docker_mirror.registries_conf:
    mirrors:
      - https://mirror.gcr.io
  become: true

- name: A plain-http mirror on the LAN (written with insecure = true)
  fleetops.docker_mirror.registries_conf:
    mirrors:
      - http://10.0.0.5:5000
  become: true

- name: Quay.io through its own mirror, in the same drop-in (docker.io's table stays)
  fleetops.docker_mirror.registries_conf:
    registry: quay.io
    mirrors:
      - https://quay-mirror.example
    exclusive: true
  become: true

- name: Every registry a Kubernetes node pulls from, one with a private CA and a client certificate
  fleetops.docker_mirror.registries_conf:
    registries:
      - registry: docker.io
        mirrors:
          - url: https://mirror.example:5443
      - registry: registry.k8s.io
        mirrors:
          - url: https://k8s-mirror.example
            ca: "{{ lookup('ansible.builtin.file', 'files/mirror-ca.pem') }}"
            client_cert: "{{ lookup('ansible.builtin.file', 'files/node.pem') }}"
            client_key: "{{ vault_node_key }}"
      - registry: quay.io
        mirrors:
          - url: https://harbor.example/v2/quay-proxy   # a Harbor proxy-cache project
            override_path: true
    exclusive: true
  become: true
  register: podman_mirrors

- name: Remove docker.io's mirrors again (the drop-in goes with its last table)
  fleetops.docker_mirror.registries_conf:
    state: absent
  become: true
"""

RETURN = r"""
apply_needed:
  description: True when the drop-in changed (in check mode, would change) and CRI-O runs.
  returned: success
  type: bool
apply_action:
  description: V(reload) when RV(apply_needed) and O(apply) is not V(none), else empty.
  returned: success
  type: str
outcome:
  description: Podman's result in the shape every runtime module of this collection returns (stage V(configure)).
  returned: success
  type: dict
unsupported:
  description:
    - The settings of O(registries) registries.conf cannot express, one per mirror and setting (empty otherwise).
  returned: success
  type: list
  elements: dict
  version_added: 2.0.0
  contains:
    registry:
      description: The registry.
      type: str
    mirror:
      description: The mirror URL (userinfo masked).
      type: str
    what:
      description: "The setting, such as C(headers: Authorization) (names only, never values)."
      type: str
    why:
      description: Why, and what was written instead (the mirror without it, or left out).
      type: str
  sample: [{registry: quay.io, mirror: "https://q.example", what: "headers: Authorization", why: "..."}]
path:
  description: The drop-in file (after following symbolic links).
  returned: success
  type: str
  sample: /etc/containers/registries.conf.d/50-fleetops-docker-mirror.conf
diff:
  description:
    - The drop-in's text before and after; a list of such dicts (the drop-in first) when certificate files change
      too (a client key's text is never shown).
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: The text before the run, empty when the file did not exist.
      type: str
    after:
      description: The text after the run, empty when removed.
      type: str
    before_header:
      description: The drop-in's name, with C((absent)) when it did not exist.
      type: str
    after_header:
      description: The drop-in's name, with C((absent)) when removed.
      type: str
"""

import os
import typing as t

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _certs_dir as certs
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _files
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _mirror_spec as ms
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _registries_conf as rc
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._document import redact_arguments
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError, name_options, option
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._files import FileError
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._outcome import apply_action, outcome, writer_argument_spec

# --------------------------------------------------------------------------- checks


def other_files(conf_dir: str, main_conf: str, dropin: str) -> list[rc.OtherFile]:
    """The main file and every other ``.conf`` drop-in, in the order containers read them."""
    files = []
    main_text = _files.read_text(main_conf)
    if main_text is not None:
        files.append(rc.OtherFile(main_conf, main_text, False, False))
    try:
        names = sorted(os.listdir(conf_dir))
    except FileNotFoundError:
        names = []
    except OSError as exc:
        raise FileError(conf_dir, "cannot list the directory: %s" % (exc.strerror or to_native(exc))) from None
    later = set(rc.later_dropins(names, dropin))
    for name in names:
        path = os.path.join(conf_dir, name)
        if name == dropin or not name.endswith(".conf") or not os.path.isfile(path):
            continue
        text = _files.read_text(path)
        if text is not None:
            files.append(rc.OtherFile(path, text, name in later, True))
    return files


def refusal(finding: rc.Finding, registry: str, target: str) -> str:
    """Why a finding stops the run: the file, the value as written, what to do."""
    if finding.kind == "own":
        return ("%s was written by this module and already holds [[registry]] prefix \"%s\": two drop-ins of ours "
                "for one registry undo each other; remove it (%s, %s) or use that %s"
                % (finding.path, registry, option("state", "absent"), option("dropin", os.path.basename(finding.path)),
                   option("dropin")))
    if finding.kind == "blocked":
        return ("%s blocks %s (%s): this drop-in's [[registry]] \"%s\" would be used instead and lift the block; "
                "remove the block there first if these mirrors are wanted" % (finding.path, registry,
                                                                              finding.written, registry))
    return ("%s defines [[registry]] prefix \"%s\" again (%s) and is read after this drop-in, so it would replace "
            "these mirrors; remove that table or rename the drop-in (%s) to sort after it"
            % (finding.path, registry, finding.written, option("dropin")))


def check_others(module: AnsibleModule, target: str, registry: str) -> None:
    params = module.params
    try:
        files = other_files(params["conf_dir"], params["main_conf"], params["dropin"])
        findings = rc.find_overrides(registry, files)
    except FileError as exc:
        raise FileError(target, "%s: %s" % (exc.path, exc.message)) from None
    refused = [finding for finding in findings if finding.kind in ("own", "overrides", "blocked")]
    if refused:
        raise FileError(target, refusal(refused[0], registry, target))
    for finding in findings:
        if finding.kind == "replaced":
            module.warn("%s: its [[registry]] \"%s\" is replaced by %s (its settings no longer apply)"
                        % (finding.path, finding.prefix, target))
        elif finding.kind == "longer":
            module.warn("%s: [[registry]] prefix \"%s\" is used instead of %s for the images it matches (they "
                        "do not go through these mirrors)" % (finding.path, finding.prefix, target))


def current_tables(params: dict[str, t.Any], target: str, current: str | None) -> dict[str, list[rc.Mirror]]:
    """The tables our drop-in holds now: none when it is absent or not ours; unparsable only with force."""
    if current is None or not rc.is_ours(current):
        return {}
    try:
        return rc.own_tables(current, target)
    except ConfigError:
        if params["force"]:
            return {}
        raise


def _mirrors_or_none(url: str) -> list[rc.Mirror]:
    """``url`` as a drop-in mirror; none for a URL this module never writes (nothing of it to remove)."""
    try:
        return rc.mirrors_from_urls([url])
    except ConfigError:
        return []


def registry_specs(params: dict[str, t.Any]) -> list[ms.RegistrySpec]:
    """The registries of this run: the ``registries`` option, or ``registry`` + ``mirrors`` as its one-registry
    case (a path refused there, as before: those URLs mean the same list on every runtime)."""
    if params["registries"] is not None:
        return ms.parse_registries(params["registries"])
    registry = rc.validate_registry(params["registry"])
    if params["state"] == "absent":
        return [ms.RegistrySpec(registry, ())]  # the mirrors to remove: legacy_unwanted
    rc.check_mirrors(params["mirrors"])
    return ms.registries_from_single(registry, params["mirrors"], ms.DEFAULT_CAPABILITIES, False)


def legacy_unwanted(params: dict[str, t.Any]) -> dict[str, list[str] | None]:
    """state=absent with ``registry`` + ``mirrors``: the locations to remove (URLs we never write have none);
    None: the whole table (no mirror given)."""
    registry = rc.validate_registry(params["registry"])
    if not params["mirrors"]:
        return {registry: None}
    return {registry: [mirror.location for url in params["mirrors"] for mirror in _mirrors_or_none(url)]}


def podman_knows_pull_from_mirror(module: AnsibleModule, specs: list[ms.RegistrySpec]) -> bool:
    """Asked only when a mirror needs ``pull-from-mirror`` (capabilities without resolve)."""
    if all("resolve" in mirror.capabilities for spec in specs for mirror in spec.mirrors):
        return True
    podman = module.get_bin_path("podman")
    release = rc.podman_release(module.run_command([podman, "--version"])[1]) if podman else None
    return rc.knows_pull_from_mirror(release)


class Planned(t.NamedTuple):
    tables: dict[str, list[rc.Mirror]]
    written: list[tuple[str, str, ms.MirrorSpec]]
    unsupported: list[rc.Unsupported]


def planned_tables(module: AnsibleModule, specs: list[ms.RegistrySpec],
                   tables: dict[str, list[rc.Mirror]]) -> Planned:
    """Our drop-in's tables after this run, the mirrors written with their certificate files, what is reported."""
    params = module.params
    if params["state"] == "absent":
        unwanted = rc.absent_locations(specs) if params["registries"] is not None else legacy_unwanted(params)
        return Planned(rc.remove_registries(tables, unwanted, params["exclusive"]), [], [])
    plan = rc.plan_registries(specs, podman_knows_pull_from_mirror(module, specs))
    others_go = params["exclusive"] and params["registries"] is not None
    return Planned(rc.merge_registries(tables, plan.tables, params["exclusive"], others_go), plan.written,
                   plan.unsupported)


def dropin_text(tables: dict[str, list[rc.Mirror]]) -> str | None:
    """Our drop-in holding ``tables`` (None: removed, no table left), checked to read back as planned."""
    if not tables:
        return None
    text = rc.render_dropin(tables)
    rc.check_dropin(text, rc.expected_dropin_data(tables))
    return text


def cert_changes(module: AnsibleModule, before: dict[str, list[rc.Mirror]], planned: Planned) -> list[rc.CertChange]:
    """The certs.d files to write or remove: only the ones we wrote, for the mirrors of this run and the ones it
    removes; an operator's file in the way is refused, naming it."""
    certs_dir = module.params["certs_dir"]
    wanted = rc.cert_files(planned.written, certs_dir)
    written = {(registry, location) for registry, location, dummy in planned.written}
    hosts = rc.cert_hosts(before) | rc.cert_hosts(planned.tables)
    current = {path: certs.read_cert(path) for path in set(rc.cert_paths(hosts, certs_dir)) | set(wanted)}
    return rc.plan_certs(wanted, current, rc.cert_hosts(planned.tables, written))


# --------------------------------------------------------------------------- the module


def crio_running(module: AnsibleModule) -> bool:
    """CRI-O re-reads registries.conf only on a reload; Podman, Buildah and Skopeo at each invocation."""
    systemctl = module.get_bin_path("systemctl")
    return bool(systemctl) and module.run_command([systemctl, "is-active", "--quiet", "crio"])[0] == 0


def podman_outcome(module: AnsibleModule, changed_files: list[str]) -> dict[str, t.Any]:
    needed = bool(changed_files) and crio_running(module)
    return outcome("podman", "configure", files_changed=changed_files, apply_needed=needed,
                   apply_action=apply_action(needed, module.params["apply"], "reload", ("reload",)))


def plan_run(module: AnsibleModule, target: str, current: str | None,
             specs: list[ms.RegistrySpec]) -> tuple[str | None, Planned, list[rc.CertChange]]:
    """The drop-in's text after the run, the plan, the certs.d changes (with the lock held)."""
    params = module.params
    if params["state"] == "absent" and current is not None and not rc.is_ours(current):
        module.warn("%s was not written by fleetops.docker_mirror.registries_conf: left in place" % target)
        return current, Planned({}, [], []), []
    if params["state"] == "present":
        if current is not None and not rc.is_ours(current) and not params["force"]:
            raise FileError(target, "not written by this module (no marker comment): set %s to "
                                    "replace it (its content is lost)" % option("force", "true"))
        for spec in specs:
            check_others(module, target, spec.registry)
    before = current_tables(params, target, current)
    planned = planned_tables(module, specs, before)
    with _files.naming(target):
        changes = cert_changes(module, before, planned)
    return dropin_text(planned.tables), planned, changes


def run_module(module: AnsibleModule) -> dict[str, t.Any]:
    params = module.params
    for option in ("conf_dir", "main_conf", "certs_dir"):
        _files.real_path(params[option], option)
    rc.validate_dropin_name(params["dropin"])
    specs = registry_specs(params)
    target = os.path.realpath(os.path.join(params["conf_dir"], params["dropin"]))
    with _files.directory_lock(os.path.dirname(target)), _files.directory_lock(params["certs_dir"]):
        current = _files.read_text(target)
        wanted, planned, changes = plan_run(module, target, current, specs)
        writes = certs.as_writes(changes)
        if current != wanted:
            writes.insert(0, _files.Write(target, current, wanted))
        _files.write_files(module, writes)
    changed = bool(writes)
    if params["state"] == "present":
        changed = _files.apply_file_attributes(module, target, changed)
    changed_files = [write.path for write in writes] or ([target] if changed else [])
    result: dict[str, t.Any] = {"changed": changed, "path": target, "outcome": podman_outcome(module, changed_files),
                                "unsupported": [gap._asdict() for gap in planned.unsupported]}
    result.update(apply_needed=result["outcome"]["apply_needed"], apply_action=result["outcome"]["apply_action"])
    if module._diff:
        dropin = _files.diff_entry(target, current, wanted)
        result["diff"] = [dropin] + [certs.cert_diff(change) for change in changes] if changes else dropin
    return result


def hide_secrets(module: AnsibleModule) -> None:
    """Client keys and header values never in a result, a diff, a message or ``invocation`` (also when the
    ``registries`` option itself is refused: every string of a key or header is hidden then)."""
    try:
        module.no_log_values.update(ms.secrets(ms.parse_registries(module.params["registries"] or [])))
    except ConfigError:
        for item in module.params["registries"] or []:
            for mirror in (item.get("mirrors") or []) if isinstance(item, dict) else []:
                if isinstance(mirror, dict):
                    module.no_log_values.update(_strings(mirror.get("client_key")) + _strings(mirror.get("headers")))


def _strings(value: t.Any) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return [value] if isinstance(value, str) and value else []


def main() -> None:
    module = _files.SecretSafeModule(
        argument_spec=writer_argument_spec(
            mirrors=dict(type="list", elements="str", default=[]),
            registry=dict(type="str", default="docker.io"),
            registries=ms.REGISTRIES_OPTION,
            conf_dir=dict(type="path", default="/etc/containers/registries.conf.d"),
            dropin=dict(type="str", default=rc.DEFAULT_DROPIN),
            main_conf=dict(type="path", default="/etc/containers/registries.conf"),
            certs_dir=dict(type="path", default=rc.CERTS_DIR),
        ),
        mutually_exclusive=[("registries", "registry"), ("registries", "mirrors")],
        supports_check_mode=True,
        add_file_common_args=True,
    )
    name_options(module.params["option_names"])
    hide_secrets(module)
    # What Ansible echoes with -v (``invocation``), on success and failure alike: never a password given in a
    # mirror URL (refused anyway, but the arguments are echoed as given).
    _files.exit_or_fail(module, run_module, os.path.join(module.params["conf_dir"], str(module.params["dropin"])),
                        {"module_args": redact_arguments(module.params)})


if __name__ == "__main__":
    main()
