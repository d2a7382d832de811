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
  - fleetops.docker_mirror.option_names
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
    C([plugins."io.containerd.cri.v1.images".registry]) in a version 3 file (containerd 2.x).
    A file with no setting at all (empty, comments only) gets C(version = 2) and the version 2 table, or on
    containerd 2.x C(version = 3) and the version 3 table; so does a missing C(config.toml).
  - Only containerd 2.2 and later read C(/etc/containerd/certs.d:/etc/docker/certs.d) when C(config_path) is
    empty (2.2.2 and later only while no legacy C(mirrors) are set), so nothing is changed there. containerd
    1.x, 2.0 and 2.1 read no hosts directory then, so C(config_path) is set. The release is the one
    C(containerd --version) reports.
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
  - Files are written as M(fleetops.docker_mirror.daemon_json) writes daemon.json (temporary file, then rename,
    under a bounded lock on the directory). A new file is C(0644) and a new directory C(0755) whatever the umask;
    an existing file keeps its owner and mode. An immutable or append-only file (C(chattr +i), C(chattr +a)), a
    file in an immutable directory and a bind-mounted file (unless O(unsafe_writes=true)) are refused before any
    file is written, in check mode too.
  - When the CRI plugin is disabled (C(disabled_plugins) lists C(cri) or C(io.containerd.grpc.v1.cri), as in
    Docker CE's C(containerd.io) package), C(config.toml) is never edited and no restart is needed
    (RV(cri_enabled) is false); only C(ctr --hosts-dir) and nerdctl read the hosts directory then.
  - With O(state=present), the containerd that systemd runs (C(containerd.service)'s main process) must read
    O(config_path), the file its C(--config)/C(-c) names or else C(/etc/containerd/config.toml). Otherwise the module fails
    before writing, naming the file it reads.
  - config.toml is judged by what containerd will load, before anything is written. The CRI plugin's own
    refusals are refused (legacy C(mirrors) entries with C(config_path), and on containerd 1.x any
    C(configs."HOST".tls) table, even empty); a C(version = 3) file on containerd 1.x and a version 2 file whose
    C(disabled_plugins) names a plugin by its short id fail. When the file is written, or imports others, the
    effective configuration (C(containerd config dump), imports merged, run from C(/)) must list O(hosts_dir) in
    C(config_path); in check mode relative imports are resolved against config.toml's directory, as containerd
    does. A relative C(config_path) directory is read from C(/), containerd's working directory under systemd.
    Anything containerd reads before the file (C(_default) or the registry in an earlier directory of
    C(config_path), C(host_port_) in O(hosts_dir)) fails, naming it. A file containerd already refuses is
    reported as already invalid, with containerd's words. A UTF-8 byte order mark is accepted and kept.
  - B(containerd before 1.5) (Debian 11's 1.4.13) reads no hosts.toml; its CRI plugin has no C(config_path) and
    takes registry mirrors only from C(config.toml), read at start. With O(manage_config_path=true) and the CRI
    plugin enabled, the module writes there instead one
    C([plugins."io.containerd.grpc.v1.cri".registry.mirrors."REGISTRY"]) table per registry (C(endpoint), the
    mirrors in order; containerd appends the registry itself as the last resort; C(_default) is written as
    C("*")) and one C(registry.configs."HOST:PORT".tls) table per C(https://) mirror host with a CA, client
    certificate or skip_verify (C(ca_file), C(cert_file), C(key_file), C(insecure_skip_verify)). Each table's
    header line ends with the marker C(# fleetops.docker_mirror); only marked tables are replaced or removed, every
    other byte is kept, and a registry or mirror host the file already configures in an unmarked table fails.
    No hosts.toml is written (nothing on 1.4 reads one); the certificate files go where hosts.toml would name
    them, so that an upgrade finds them in place. containerd's own C(config dump) checks the new file, and
    containerd must restart (RV(apply_action) V(restart); running containers keep running).
  - What containerd 1.4 cannot do is reported in RV(unsupported), never a failure - C(headers) (the mirror is
    written without them), a mirror without both C(pull) and C(resolve) in C(capabilities) and C(override_path)
    on a URL without a path (neither written). One mirror host given different TLS settings by two registries
    fails (1.4 keys them by host). O(state=absent) removes the whole tables of the listed registries (all of ours
    when none is listed); O(exclusive=true) those of the registries not listed.
  - On containerd 1.5 and later, the marked tables an earlier run wrote for 1.4 are removed in the same edit that
    sets C(config_path) (1.5 and later refuse both together), and hosts.toml takes over the same certificate
    files.
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
        without its own directory. It names the directory under O(hosts_dir), written in lower case (containerd
        looks it up with the host exactly as image references spell it); C(index.docker.io) and
        C(registry-1.docker.io) mean C(docker.io).
      - Default C(docker.io). The one-registry form of O(registries), with O(mirrors), O(server),
        O(capabilities) and O(skip_verify); none of them may be given with O(registries).
    type: str
  registries:
    description:
      - Every registry to mirror, each with its ordered mirrors and their TLS and header settings (the shared
        mirror model of this collection). One hosts.toml per registry, C(<hosts_dir>/<registry>/hosts.toml),
        written in one run with one C(config.toml) plan and one restart decision for all of them.
      - A mirror's CA and client certificate are written next to hosts.toml as
        C(<host>_<port>.ca.crt), C(<host>_<port>.client.cert) (mode C(0644)) and C(<host>_<port>.client.key)
        (mode C(0600)), named by absolute path in C(ca) and C(client); a hosts.toml with a C(header) table is
        mode C(0600). Mirrors on one host and port share these files. A file of that name the module did not
        write is not replaced unless O(force=true).
      - With O(exclusive=true), the directories of O(hosts_dir) whose hosts.toml this module wrote and whose
        registry is not listed lose that file and the certificate files it names (nothing else).
        With O(state=absent), each listed registry loses the given mirrors (all of them when none or with
        O(exclusive=true)), and the certificate files only they named.
      - Client keys and header values are never shown in results, diffs, messages or C(invocation).
    type: list
    elements: dict
    suboptions:
      registry:
        description:
          - The registry, C(host[:port]) (lower-cased; Docker Hub's aliases mean C(docker.io)) or C(_default).
        type: str
        required: true
      mirrors:
        description:
          - Its mirrors, tried in this order before the registry itself. An empty list writes a file with the
            registry as server only.
        type: list
        elements: dict
        required: true
        suboptions:
          url:
            description:
              - The mirror, C(https://) or C(http://), checked like dockerd's mirrors; a path is allowed.
            type: str
            required: true
          ca:
            description:
              - PEM text of the CA certificate(s) to trust for this mirror (not a file name).
            type: str
          client_cert:
            description:
              - PEM text of the client certificate for this mirror; needs O(registries[].mirrors[].client_key).
            type: str
          client_key:
            description:
              - PEM text of the unencrypted private key of O(registries[].mirrors[].client_cert).
            type: str
          skip_verify:
            description:
              - Do not verify the mirror's TLS certificate (C(https://) mirrors only).
            type: bool
            default: false
          capabilities:
            description:
              - What containerd may do with the mirror.
            type: list
            elements: str
            choices: [pull, resolve, push]
            default: [pull, resolve]
          override_path:
            description:
              - The URL's path is the registry API root (containerd appends no C(/v2)).
            type: bool
            default: false
          headers:
            description:
              - HTTP headers sent to the mirror (for example C(Authorization)), a value or a list of values per
                name. Values never appear in results or diffs.
            type: dict
  mirrors:
    description:
      - Mirror URLs (C(https://) or C(http://)), tried in this order before O(server). Duplicates (with or
        without a trailing slash) are written once.
      - An empty list writes a file with O(server) only (no mirror) and an empty C([host]) table, without which
        containerd 1.6 and 1.7 ignore the file. A scheme is written in lower case (C(HTTP://) would be read as a
        host named C(HTTP:)).
      - With O(state=absent) and O(exclusive=false), the mirrors to remove (all of them when empty).
      - Default V([]).
    type: list
    elements: str
  exclusive:
    description:
      - With V(false), as with M(fleetops.docker_mirror.daemon_json), the mirrors that the hosts.toml this module
        wrote already lists stay, in their order, and the missing O(mirrors) are added after them, in this order.
      - With V(true), exactly O(mirrors).
    type: bool
    default: false
  server:
    description:
      - The upstream tried after every mirror. Default C(https://registry-1.docker.io) for C(docker.io),
        C(https://<registry>) for another registry and none for C(_default).
    type: str
  hosts_dir:
    description:
      - The hosts directory. Default the first directory of the CRI plugin's C(config_path) when set (or of
        containerd 2.x's default), else C(/etc/containerd/certs.d). An empty string is refused.
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
        not trust to resolve tags. Default V([pull, resolve]).
    type: list
    elements: str
    choices: [pull, resolve, push]
  skip_verify:
    description:
      - Write C(skip_verify = true) for the C(https://) mirrors (self-signed certificates). Never needed for
        C(http://) mirrors. Default V(false).
    type: bool
  force:
    description:
      - Replace a hosts.toml this module did not write (it has no marker comment). Its content is lost.
    type: bool
    default: false
  state:
    description:
      - V(absent) removes the O(mirrors) from the hosts.toml this module wrote, as
        M(fleetops.docker_mirror.daemon_json) does; the file (and its directory when that is then empty) goes with
        its last mirror, or at once with O(exclusive=true) or no O(mirrors). Nothing else is removed, and
        C(config.toml) is never changed, except on containerd before 1.5, whose mirrors are in C(config.toml).
      - With O(state=absent) and O(hosts_dir) unset, the file is looked for where V(present) writes it, in the
        first directory of C(config_path) in C(config.toml), else in C(/etc/containerd/certs.d) (also, with a
        warning, when C(config.toml) cannot be parsed).
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
  - Python 3.8 or later on the managed host; before 3.11 (no C(tomllib)) the distribution's C(python3-tomli) or
    C(python3-toml) package reads TOML, and the module names the package when neither is installed.
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

- name: Mirror Docker Hub, registry.k8s.io and ghcr.io (a private CA and a token for one mirror)
  fleetops.docker_mirror.containerd_hosts:
    registries:
      - registry: docker.io
        mirrors:
          - url: https://mirror.gcr.io
      - registry: registry.k8s.io
        mirrors:
          - url: https://mirror.example.com:5443
            ca: "{{ lookup('ansible.builtin.file', 'files/mirror-ca.pem') }}"
            capabilities: [pull]
      - registry: ghcr.io
        mirrors:
          - url: https://mirror.example.com:5443/ghcr
            override_path: true
            headers:
              Authorization: "Bearer {{ vault_mirror_token }}"
    exclusive: true
  become: true

- name: Remove the mirrors again (config.toml is left as it is)
  fleetops.docker_mirror.containerd_hosts:
    state: absent
  become: true
"""

RETURN = r"""
path:
  description: The hosts.toml file (after following symbolic links); with O(registries), the first registry's; on
    containerd before 1.5, O(config_path), which holds the mirrors.
  returned: success
  type: str
  sample: /etc/containerd/certs.d/docker.io/hosts.toml
registries:
  description:
    - Per registry, its hosts.toml, whether it changed and what the result may show of its mirrors (URL,
      capabilities, skip_verify, override_path, whether a CA or client certificate is given, header names).
      Registries removed by O(exclusive=true) are listed with no mirrors.
  returned: success
  type: dict
  sample: {"ghcr.io": {"path": "/etc/containerd/certs.d/ghcr.io/hosts.toml", "changed": true,
           "mirrors": [{"url": "https://m.example:5443", "capabilities": ["pull"], "skip_verify": false,
                        "override_path": false, "ca": true, "client_cert": false, "headers": ["Authorization"]}]}}
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
unsupported:
  description:
    - What the installed containerd cannot do of O(registries), one entry per mirror and setting (containerd
      before 1.5 only; empty otherwise). The rest is written.
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
      description: The setting, such as V(headers), V(capabilities) or V(override_path).
      type: str
    why:
      description: Why it is not written, and what was written instead.
      type: str
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

import json
import os
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd as ctd
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd_legacy as legacy
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _daemon as daemon
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _files
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _hosts_dir as hd
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _mirror_spec as spec
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _process
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._document import redact_arguments
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError, name_options, option
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._files import FileError
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._outcome import apply_action, outcome, writer_argument_spec

HOSTS_FILE = hd.HOSTS_FILE
SERVICE = "containerd"
# containerd's own default when its command line has no --config.
DEFAULT_CONFIG = "/etc/containerd/config.toml"
# containerd config dump loads the file and every plugin's defaults: well under a second; never a hung run.
DUMP_TIMEOUT = 10
# The one-registry options: the one-entry case of registries, given instead of it.
SINGLE_REGISTRY_OPTIONS = ("registry", "mirrors", "server", "capabilities", "skip_verify")


Change = _files.Write


# --------------------------------------------------------------------------- planning


def containerd_release(module: AnsibleModule) -> ctd.Release | None:
    binary = module.get_bin_path("containerd")
    if not binary:
        return None
    rc, out, dummy = module.run_command([binary, "--version"])
    return ctd.parse_release(out) if rc == 0 else None


def dirs_source(config: str, data: dict[str, t.Any] | None) -> str:
    """Where the directories the CRI plugin reads come from, for a message: config_path, or containerd 2.2's
    default where the file does not exist or leaves config_path empty."""
    if data is None:
        return "%s does not exist, so the CRI plugin reads containerd 2.2's default" % config
    if ctd.configured_dirs(data, ctd.config_version(data)):
        return "config_path in %s is" % config
    return "%s leaves config_path empty, so the CRI plugin reads containerd 2.2's default" % config


def choose_hosts_dir(wanted: str | None, dirs: list[str], strict: bool, config: str, source: str, warn) -> str:
    """O(hosts_dir), or the first directory the CRI plugin reads; fail (strict) or warn when it reads others."""
    if wanted is None:
        return dirs[0] if dirs else ctd.DEFAULT_HOSTS_DIR
    wanted = os.path.normpath(wanted)
    if dirs and wanted not in [os.path.normpath(item) for item in dirs]:
        message = ("%s %s: the CRI plugin does not read %s %s; leave %s unset to use %s, or set the CRI plugin's "
                   "config_path yourself" % (source, ":".join(dirs), option("hosts_dir"), wanted, option("hosts_dir"),
                                             dirs[0]))
        if strict:
            raise FileError(config, message)
        warn(message)
    return wanted


def check_not_shadowed(hosts_dir: str, dirs: list[str], registry: str, config: str) -> None:
    """containerd reads, for each directory of config_path in turn, ``host_port_``, ``host`` then ``_default``:
    the first that exists wins, so anything it finds before our directory shadows the file."""
    for path in ctd.shadowing_paths(hosts_dir, dirs, registry):
        if os.path.exists(path):
            raise FileError(config, "containerd reads %s before %s and never this module's file: remove it, or set "
                                    "%s" % (path, os.path.join(hosts_dir, registry),
                                            option("hosts_dir", os.path.dirname(path))))


class ConfigView(t.NamedTuple):
    hosts_dir: str
    text: str | None  # the new config.toml text; None: leave the file alone
    reads: bool | None  # does the CRI plugin read hosts_dir (None: unknown)
    cri_enabled: bool | None
    release: ctd.Release | None = None  # the installed containerd's (None: unknown, or not asked)
    legacy: legacy.LegacyPlan | None = None  # containerd < 1.5: the mirrors are config.toml's legacy tables
    upgrade: legacy.LegacyPlan | None = None  # containerd >= 1.5: our legacy tables taken out of config.toml


def plan_config(module: AnsibleModule, config: str, config_text: str | None, hosts_dir: str | None,
                registries: list[spec.RegistrySpec], release: ctd.Release | None) -> ConfigView:
    """The hosts directory, the new config.toml text (or None), whether the CRI plugin reads the directory."""
    params = module.params
    strict = params["manage_config_path"] and params["state"] == "present"
    on_legacy = params["manage_config_path"] and legacy.uses_legacy_tables(release)
    if params["state"] == "absent":
        if on_legacy and legacy.MARKER in (config_text or ""):
            return legacy_view(module, config, config_text, hosts_dir, registries, release)
        # state absent removes our hosts.toml only, from where present wrote it; config.toml is never changed.
        return ConfigView(hosts_dir or absent_hosts_dir(config, module.warn), None, None, True)
    if config_text is None and not strict:
        return ConfigView(os.path.normpath(hosts_dir or ctd.DEFAULT_HOSTS_DIR), None, None, True)
    upgrade = None
    try:
        data = ctd.parse_toml(config_text) if config_text is not None else None
        if data is not None:
            ctd.check_plugin_uris(data)
            if ctd.cri_disabled(data):
                # Docker CE's containerd: no CRI plugin reads config_path; ctr --hosts-dir and nerdctl do.
                return ConfigView(os.path.normpath(hosts_dir or ctd.DEFAULT_HOSTS_DIR), None, None, False)
        if on_legacy:
            return legacy_view(module, config, config_text, hosts_dir, registries, release)
        if strict:
            # An earlier run on containerd 1.4 wrote legacy tables, which 1.5 and later refuse beside config_path.
            upgrade = legacy.remove_ours(config_text, legacy_certs_dir(hosts_dir, config_text))
            plan = ctd.plan_config_path(upgrade.text if upgrade else config_text,
                                        hosts_dir or ctd.DEFAULT_HOSTS_DIR, release)
            if upgrade is not None and plan.text is None:
                plan = plan._replace(text=upgrade.text)
        else:
            effective = ctd.effective_config(data, release)
            plan = ctd.ConfigPlan(None, effective.dirs, ctd.config_version(data))
    except ConfigError as exc:
        raise FileError(config, exc.message) from None
    chosen = choose_hosts_dir(hosts_dir, plan.dirs, strict, config, dirs_source(config, data), module.warn)
    if plan.text is not None:
        return ConfigView(chosen, plan.text, True, True, release, upgrade=upgrade)
    return ConfigView(chosen, None, chosen in plan.dirs, True, release)


def legacy_certs_dir(hosts_dir: str | None, config_text: str | None) -> str:
    """Where containerd before 1.5 finds the certificate files: where hosts.toml would name them (O(hosts_dir),
    else the first directory of a config_path 1.4 ignores, else the default), so that an upgrade finds them."""
    if hosts_dir:
        return os.path.normpath(hosts_dir)
    dirs = ctd.configured_dirs(*_data_version(config_text)) if config_text else []
    return dirs[0] if dirs else os.path.normpath(ctd.DEFAULT_HOSTS_DIR)


def legacy_view(module: AnsibleModule, config: str, config_text: str | None, hosts_dir: str | None,
                registries: list[spec.RegistrySpec], release: ctd.Release) -> ConfigView:
    """containerd before 1.5 reads no hosts.toml: its CRI plugin's mirrors are config.toml's legacy registry tables
    (``_containerd_legacy``), read at start (a restart applies them)."""
    params = module.params
    try:
        certs_dir = legacy_certs_dir(hosts_dir, config_text)
        plan = legacy.plan_legacy(config_text, registries, release, certs_dir, params["state"], params["exclusive"])
    except ConfigError as exc:
        raise FileError(config, exc.message) from None
    for note in plan.notes:
        module.warn("%s: %s" % (config, note))
    return ConfigView(certs_dir, plan.text, None, True, release, legacy=plan)


def absent_hosts_dir(config: str, warn) -> str:
    """The directory present wrote into with hosts_dir unset: the first one config.toml names, else the default.
    A config.toml that cannot be read or parsed does not block the removal: the default is used, with a warning."""
    try:
        text = _files.read_text(config, lossless=True)
        dirs = ctd.configured_dirs(*_data_version(text)) if text is not None else []
    except ConfigError as exc:
        warn("%s: %s; looking for the hosts.toml in %s" % (config, exc.message, ctd.DEFAULT_HOSTS_DIR))
        dirs = []
    return dirs[0] if dirs else os.path.normpath(ctd.DEFAULT_HOSTS_DIR)


def validate_params(params: dict[str, t.Any]) -> None:
    if params["hosts_dir"] is not None and not params["hosts_dir"].strip():
        raise ConfigError("%s is empty (an unset variable?): name the directory, or leave it out to use the one "
                          "containerd reads" % option("hosts_dir"))


def wanted_registries(params: dict[str, t.Any]) -> list[spec.RegistrySpec]:
    """O(registries), or the single-registry options as its one-entry case; every value checked."""
    if params["registries"] is not None:
        return spec.parse_registries(params["registries"], allow_default=True)
    capabilities = params["capabilities"] if params["capabilities"] is not None else spec.DEFAULT_CAPABILITIES
    registries = spec.registries_from_single(params["registry"] or spec.DOCKER_HUB, params["mirrors"] or [],
                                             capabilities, bool(params["skip_verify"]), allow_default=True)
    server_for(params, registries[0].registry)
    return registries


def server_for(params: dict[str, t.Any], registry: str) -> str | None:
    return ctd.validate_server(params["server"]) if params["server"] else ctd.default_server(registry)


# --------------------------------------------------------------------------- what containerd says


def check_running_config(module: AnsibleModule, config: str) -> int:
    """The containerd that systemd runs must read ``config``: its --config/-c, else its default file. Its pid: 0
    when systemd runs none (stopped), -1 without systemd (unknown)."""
    systemctl = module.get_bin_path("systemctl")
    if not systemctl:
        return -1
    pid = daemon.main_pid(module.run_command, systemctl, SERVICE + ".service")
    if pid <= 0:
        return 0
    running = _process.started_with(pid, _process.CONTAINERD_CONFIG, DEFAULT_CONFIG, is_containerd)
    if running is None:
        return -1  # not containerd's process: unknown
    if os.path.realpath(running.path) == config:
        return pid
    how = "--config %s" % running.named if running.named is not None else "its default %s" % DEFAULT_CONFIG
    raise FileError(config, "containerd runs with %s (pid %d), not %s: point %s at %s"
                    % (how, pid, config, option("config_path"), running.path))


def is_containerd(argv: list[str]) -> bool:
    return os.path.basename(argv[0]).startswith("containerd")


def dump_config(module: AnsibleModule, binary: str, config: str, text: str) -> tuple[int, str, str, str]:
    """``containerd --config CANDIDATE config dump`` from ``/`` (its working directory under systemd), the
    candidate next to config.toml so that relative imports resolve as they will; in check mode (nothing written
    there) the candidate sits in Ansible's temporary directory with its relative imports made absolute."""
    directory = os.path.dirname(config)
    if module.check_mode or not os.path.isdir(directory):
        if ctd.relative_imports(ctd.parse_toml(text)):
            rewritten = ctd.absolute_imports(text, directory)
            if rewritten is None:
                raise FileError(config, "cannot check the relative imports in check mode: write them as absolute "
                                        "paths")
            text = rewritten
        directory = module.tmpdir
    candidate = _files.write_private(directory, _files.encode(text), "." + os.path.basename(config) + ".")
    try:
        timeout = module.get_bin_path("timeout")
        argv = ([timeout, str(DUMP_TIMEOUT)] if timeout else []) + [binary, "--config", candidate, "config", "dump"]
        rc, out, err = module.run_command(argv, cwd="/")
    finally:
        _files.remove_quietly(candidate)
    if rc == 124 and timeout:
        raise FileError(config, "containerd config dump did not finish within %d s; not written" % DUMP_TIMEOUT)
    return rc, out, err, candidate


def check_with_containerd(module: AnsibleModule, config: str, text: str, before: str | None,
                          release: ctd.Release | None) -> ctd.Effective | None:
    """What containerd loads from ``text`` (imports merged), by its own ``config dump``; a file it refuses never
    reaches config.toml. When the file as it is (``before``) is refused too, the fault is not our edit: say so,
    with containerd's own line numbers. None when containerd is not installed."""
    binary = module.get_bin_path("containerd")
    if not binary:
        return None
    rc, out, err, candidate = dump_config(module, binary, config, text)
    if rc != 0:
        reason = ctd.dump_error_line(rc, out, err, candidate, config)
        if before is not None and before != text:
            rc_before, out, err, candidate = dump_config(module, binary, config, before)
            if rc_before != 0:
                raise FileError(config, "the file is already invalid, before any change: containerd says %s; fix "
                                        "it first" % ctd.dump_error_line(rc_before, out, err, candidate, config))
        raise FileError(config, "containerd would refuse it: %s" % reason)
    try:
        return ctd.effective_config(ctd.parse_toml(out, "the output of containerd config dump"), release, dump=True)
    except ConfigError as exc:
        raise FileError(config, exc.message) from None


def judge_effective(effective: ctd.Effective, view: ConfigView, config: str, strict: bool, warn) -> ConfigView:
    """``view`` corrected by what containerd loads: the CRI plugin's conflicts refuse; a hosts_dir it does not
    read (imports that replace the CRI section, a config version this containerd does not know) fails (strict)
    or warns."""
    if not effective.cri_enabled:
        return view._replace(reads=None, cri_enabled=False)
    if effective.conflicts:
        raise FileError(config, ctd.conflict_message(effective.conflicts, True))
    if view.hosts_dir in effective.dirs:
        return view._replace(reads=True)
    message = ("containerd loads config_path %s from %s (imports merged, as containerd config dump shows), so "
               "the CRI plugin would not read %s; set config_path where containerd takes it (in the imported file "
               "that holds the CRI section) or remove what overrides it"
               % (json.dumps(":".join(effective.dirs)), config, view.hosts_dir))
    if strict:
        raise FileError(config, message)
    warn(message)
    return view._replace(reads=False)


OWNER = hd.Owner("fleetops.docker_mirror.containerd_hosts", ctd.MARKER)


def plan_registry(module: AnsibleModule, registry: spec.RegistrySpec, target: str,
                  legacy_owned: t.Collection[str] = ()) -> hd.RegistryPlan:
    """The registry's hosts.toml and certificate files (the shared hosts-directory planner), by O(state).
    ``legacy_owned``: the files our containerd 1.4 tables named (ours to replace on the upgrade)."""
    params = module.params
    if params["state"] == "present":
        return hd.plan_present(registry, target, server_for(params, registry.registry), params["exclusive"],
                               params["force"], OWNER, legacy_owned)
    return hd.plan_absent(registry, target, params["exclusive"], OWNER, module.warn)


# --------------------------------------------------------------------------- the module


def run_module(module: AnsibleModule) -> dict[str, t.Any]:
    params = module.params
    validate_params(params)
    registries = wanted_registries(params)  # every value checked before anything is read or written
    module.no_log_values.update(spec.secrets(registries))
    config = _files.real_path(params["config_path"], option("config_path"))
    wanted_dir = _files.real_path(params["hosts_dir"], option("hosts_dir")) if params["hosts_dir"] else None
    present = params["state"] == "present"
    pid = check_running_config(module, config) if present else 0
    release = containerd_release(module)
    on_legacy = params["manage_config_path"] and legacy.uses_legacy_tables(release)
    with _files.directory_lock(os.path.dirname(config)):
        config_text = _files.read_text(config, lossless=True) if present or on_legacy else None
        view = plan_config(module, config, config_text, wanted_dir, registries, release)
        targets = [] if view.legacy is not None else \
            [os.path.realpath(os.path.join(view.hosts_dir, item.registry, HOSTS_FILE)) for item in registries]
        if view.legacy is not None:
            pending = judge_legacy(module, config, config_text, view, pid)
        elif present:
            view = judge_config(module, config, config_text, view, registries, targets)
            # Restart a containerd that has not loaded config.toml only into a file it loads, and that lists our
            # directory (else the restart would drop the mirror the running containerd still has).
            pending = view.text is None and bool(view.reads) and params["manage_config_path"] and \
                _process.started_before_change(pid, config)
            if pending:
                check_with_containerd(module, config, config_text, config_text, view.release)
        else:
            pending = False
        with _files.directory_lock(view.hosts_dir):
            plans, changes = plan_files(module, view, registries, targets, config)
            if view.text is not None:
                changes.append(Change(config, config_text, view.text))
            # containerd judged the new config.toml before this point (judge_config): no validator here.
            made = _files.write_files(module, changes, None, config if params["keep_previous"] else None)
    changed = bool(changes)
    for target in targets if present else ():
        changed = _files.apply_file_attributes(module, target, changed)
    result = {
        "changed": changed,
        "path": targets[0] if targets else config if view.legacy is not None else None,
        "paths": [change.path for change in changes],
        "hosts_dir": view.hosts_dir,
        "registries": {plan.registry: {"path": plan.path, "mirrors": plan.mirrors,
                                       "changed": bool(plan.writes) or plan.path == config and view.text is not None}
                       for plan in plans},
        "restart_needed": view.text is not None or pending,
        "restart_pending_only": pending,
        "cri_reads_hosts_dir": view.reads,
        "cri_enabled": view.cri_enabled,
        "config_created": view.text is not None and config_text is None,
        "unsupported": list(view.legacy.unsupported) if view.legacy is not None else [],
    }
    result.update(made)
    # A stopped containerd stays stopped: it reads config.toml when it starts.
    needed = result["restart_needed"] and (pid != 0 or params["state"] == "absent")
    result["outcome"] = outcome("containerd", "configure", files_changed=result["paths"], apply_needed=needed,
                                apply_action=apply_action(needed, params["apply"], "restart", ("restart",)))
    result["apply_action"] = result["outcome"]["apply_action"]
    if module._diff:
        result["diff"] = [hd.change_diff(change) for change in changes]
    return result


def plan_files(module: AnsibleModule, view: ConfigView, registries: list[spec.RegistrySpec], targets: list[str],
               config: str) -> tuple[list[hd.RegistryPlan], list[Change]]:
    """Every registry's plan and the file changes besides config.toml, in the order they are made."""
    params = module.params
    if view.legacy is not None:
        return legacy_files(module, view.legacy, registries, config)
    present = params["state"] == "present"
    owned = view.upgrade.owned_files if view.upgrade is not None else ()
    plans = [plan_registry(module, item, target, owned) for item, target in zip(registries, targets)]
    if present and params["exclusive"] and params["registries"] is not None:
        plans += hd.plan_leftovers(view.hosts_dir, [item.registry for item in registries], OWNER)
    changes = [change for plan in plans for change in plan.writes]
    if view.upgrade is not None:
        named = {cert.path for item, target in zip(registries, targets) for mirror in item.mirrors
                 for cert in ctd.mirror_files(os.path.dirname(target), mirror)}
        changes += hd.removals(set(view.upgrade.stale_files) - named - {change.path for change in changes})
    return plans, changes


def legacy_files(module: AnsibleModule, plan: legacy.LegacyPlan, registries: list[spec.RegistrySpec],
                 config: str) -> tuple[list[hd.RegistryPlan], list[Change]]:
    """containerd before 1.5: no hosts.toml (nothing would read it); the certificate files our tables name (a
    key 0600; a file of that name we did not write is not replaced unless O(force)) and the removal of those our
    tables no longer name. Each registry's mirrors live in config.toml."""
    owned = set(plan.owned_files)
    writes = [hd.cert_write(cert, owned, module.params["force"]) for cert in plan.files]
    present = module.params["state"] == "present"
    plans = [hd.RegistryPlan(item.registry, config, [], [spec.public_mirror(mirror) for mirror in item.mirrors]
                             if present else []) for item in registries]
    return plans, [item for item in writes if item] + hd.removals(plan.stale_files)


def judge_legacy(module: AnsibleModule, config: str, config_text: str | None, view: ConfigView, pid: int) -> bool:
    """containerd before 1.5: its own dump of the new config.toml (a file it refuses is never written, nor one
    whose imports disable the CRI plugin). Returns whether a restart is pending only: our tables are in place,
    unchanged, and the running containerd started before config.toml last changed."""
    pending = view.text is None and module.params["state"] == "present" and \
        legacy.MARKER in (config_text or "") and _process.started_before_change(pid, config)
    candidate = view.text if view.text is not None else config_text if pending else None
    if candidate is not None:
        effective = check_with_containerd(module, config, candidate, config_text, view.release)
        if effective is not None and not effective.cri_enabled:
            raise FileError(config, "containerd would load the CRI plugin disabled (imports merged, as containerd "
                                    "config dump shows): nothing would read the registry mirrors; enable it first")
    return pending


def judge_config(module: AnsibleModule, config: str, config_text: str | None, view: ConfigView,
                 registries: list[spec.RegistrySpec], targets: list[str]) -> ConfigView:
    """config.toml judged by what containerd will load: its own dump of the new text (or of the file as it is
    when it imports others), then the files containerd would find before ours."""
    if config in targets:
        raise FileError(config, "%s is the hosts.toml this module writes (%s)" % (option("config_path"), config))
    if not view.cri_enabled:
        return view
    strict = module.params["manage_config_path"]
    candidate = view.text if view.text is not None else config_text
    if candidate is not None and (view.text is not None or ctd.parse_toml(candidate).get("imports")):
        effective = check_with_containerd(module, config, candidate, config_text, view.release)
        if effective is not None:
            view = judge_effective(effective, view, config, strict, module.warn)
    if view.reads:
        dirs = ctd.configured_dirs(*_data_version(candidate), view.release) if candidate is not None else \
            ctd.configured_dirs({}, 1, view.release) or [view.hosts_dir]
        for registry in registries:
            check_not_shadowed(view.hosts_dir, dirs, registry.registry, config)
    return view


def _data_version(text: str) -> tuple[dict[str, t.Any], int]:
    data = ctd.parse_toml(text)
    return data, ctd.config_version(data)


def main() -> None:
    module = _files.SecretSafeModule(
        argument_spec=writer_argument_spec(
            registry=dict(type="str"),
            mirrors=dict(type="list", elements="str"),
            registries=spec.REGISTRIES_OPTION,
            server=dict(type="str"),
            hosts_dir=dict(type="path"),
            config_path=dict(type="path", default="/etc/containerd/config.toml"),
            manage_config_path=dict(type="bool", default=True),
            capabilities=dict(type="list", elements="str", choices=["pull", "resolve", "push"]),
            skip_verify=dict(type="bool"),
            keep_previous=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
        add_file_common_args=True,
        mutually_exclusive=[("registries", name) for name in SINGLE_REGISTRY_OPTIONS],
    )
    name_options(module.params["option_names"])
    params = module.params
    hosts_dir = params["hosts_dir"] or ctd.DEFAULT_HOSTS_DIR
    default_path = hosts_dir if params["registries"] is not None else \
        os.path.join(hosts_dir, str(params["registry"] or spec.DOCKER_HUB), HOSTS_FILE)
    # What Ansible echoes with -v (invocation): never a password given in a mirror URL, a key or a header value.
    arguments = dict(redact_arguments(params), registries=spec.redact_registries(params["registries"]))
    _files.exit_or_fail(module, run_module, default_path, {"module_args": arguments})


if __name__ == "__main__":
    main()
