#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: daemon_json
extends_documentation_fragment:
  - fleetops.docker_mirror.option_names
  - ansible.builtin.action_common_attributes
  - action_common_attributes.files
  - ansible.builtin.files
  - fleetops.docker_mirror.file_attributes
short_description: Merge registry mirrors and settings into Docker's daemon.json
version_added: 1.0.0
description:
  - Edits C(/etc/docker/daemon.json) the way a careful operator would by hand. Only the bytes of the keys the
    module changes are rewritten; every other byte (layout, line ends, number spelling, key order) stays as it is.
  - Registry mirrors are compared the way dockerd normalises them, so C(https://mirror.gcr.io) and
    C(https://mirror.gcr.io/) are the same mirror; re-running with either spelling changes nothing.
  - Every check runs before anything is written, and the file is written only when its content changes,
    atomically (temporary file in the same directory, then rename), under an exclusive lock on its directory,
    so concurrent runs on one host lose no entry. A run waits at most 60 seconds for that lock, then fails.
  - A symbolic link at O(path) is followed and its target written; the link stays. Anything but a regular file
    (a directory, FIFO, device or socket) is refused without being opened.
  - A file the final rename cannot replace is refused before anything (a backup, the previous copy) is written.
    That is an immutable or append-only file (C(chattr +i), C(chattr +a)), a file in an immutable directory, and
    a file that is a mount point (a single bind-mounted file, common in containers) unless
    O(unsafe_writes=true), which then writes it in place.
  - Checks each mirror URL like dockerd (Go's C(url.ParseRequestURI) and dockerd's C(ValidateMirror)), requires
    every plain-C(http) mirror that is not on a loopback address to be listed in C(insecure-registries), and
    with O(dockerd_check=true) refuses keys the host's Docker release does not know and runs
    C(dockerd --validate) on the candidate file where Docker 23.0 or later is installed.
  - Fails before writing when a key written is also given to dockerd as a command-line flag (the host's dockerd
    command line, C(docker.service), its drop-ins and the files they name with C(EnvironmentFile=) when systemd
    runs the host, C(/etc/default/docker), C(/etc/sysconfig/docker)), because dockerd refuses to start then.
  - Fails before writing when the host's dockerd reads another file (its C(--config-file), the snap package's
    or rootless Docker's file), naming that file.
  - Asks the running dockerd which mirrors it uses (RV(live_mirrors)), but never when C(docker.service) is
    stopped or stopping, because C(docker.socket) would start it; RV(daemon_state) says which case applies.
  - Reads the live daemon from the Docker API on its unix socket (C(GET /info), what C(docker info) reports), with
    a 30 second timeout and without starting the C(docker) CLI. The CLI is asked instead when C(DOCKER_HOST) or a
    docker CLI context points elsewhere. A host without the C(docker) command is reported C(not-answering), as
    before the API was asked directly.
  - The module does not signal dockerd. M(fleetops.docker_mirror.daemon_apply) does, and rolls back to the
    copy O(keep_previous=true) keeps on the host.
  - On failure the message names the file and the cause, and the file is left unchanged.
  - With O(registries) (the shared mirror model of this collection), every registry's mirrors are given in one
    option; what Docker does with them depends on its image store (RV(image_store)). The containerd image store
    (C(features.containerd-snapshotter=true) in daemon.json on Docker 28, the default of a new Docker 29;
    the running daemon's C(docker info) says C(driver-type io.containerd.snapshotter.v1)) reads
    C(<certs_dir>/<registry>/hosts.toml) at each pull, for any registry, with per-mirror CA, client certificate,
    C(skip_verify), C(capabilities), C(override_path) and headers (as M(fleetops.docker_mirror.containerd_hosts)
    writes them); no reload is needed for these files. The classic image store mirrors docker.io only
    (C(registry-mirrors)), and reads a mirror's CA and client certificate from C(<certs_dir>/<mirror host:port>/)
    (C(ca.crt), C(client.cert), C(client.key)); every other registry, and what C(registry-mirrors) cannot express,
    is returned in RV(unsupported), never a failure.
author:
  - fleetops engineers (@fleetops)
attributes:
  diff_mode:
    details: The diff shows the file's text before and the exact text written after, with secrets masked.
options:
  path:
    description:
      - Absolute path of the dockerd configuration file. A relative path is refused.
      - A symbolic link is followed; its target is written and the link kept.
      - A missing file and a missing parent directory are created (mode C(0644) and C(0755),
        owned by the user running the module, normally root) unless O(owner), O(group) or O(mode)
        say otherwise. A missing file is created only when there is something to write.
    type: path
    default: /etc/docker/daemon.json
  registry_mirrors:
    description:
      - Registry mirror URLs (C(registry-mirrors)). When omitted, mirrors are not touched.
      - With O(state=present) and O(exclusive=false), the missing mirrors are added after the
        existing ones, in the order given, with the spelling given.
      - With O(exclusive=true), the list becomes exactly these mirrors, in this order (an entry
        already present keeps its existing spelling).
      - With O(state=absent), these mirrors are removed; with O(state=absent) and O(exclusive=true),
        every mirror is removed, whatever this list holds.
      - When a removal empties the list, the key is kept with an empty list C([]). Deleting the key would
        not work, because dockerd keeps the old mirrors on a reload (SIGHUP) when the key is missing, but
        applies an empty list.
    type: list
    elements: str
  registries:
    description:
      - Every registry to mirror, each with its ordered mirrors (the shared mirror model, as in
        M(fleetops.docker_mirror.containerd_hosts) and M(fleetops.docker_mirror.registries_conf)). Mutually
        exclusive with O(registry_mirrors), whose one-registry (docker.io, URLs only) form it replaces; give the
        whole list here, docker.io included.
      - docker.io's mirrors become C(registry-mirrors) (what dockerd can express of them, that is without
        C(override_path), a path only from Docker 25.0, C(pull) and C(resolve) both), with O(exclusive) and O(state) as for
        O(registry_mirrors); with O(exclusive=true) and docker.io not listed, C(registry-mirrors) becomes empty.
        The host of each such mirror with C(skip_verify) or plain C(http://) off the loopback is added to
        C(insecure-registries) (never removed again by this option).
      - With the containerd image store, also C(<certs_dir>/<registry>/hosts.toml) per registry (docker.io
        included, since a hosts.toml listing a mirror wins over C(registry-mirrors), which then lists the same mirrors so
        that C(docker info) shows them), with the CA and client files next to it. A hosts.toml this module did not
        write (no marker line) is not replaced unless O(force=true); O(exclusive=true) removes ours of registries
        no longer listed; O(state=absent) removes the listed registries' files that are ours.
      - With the classic image store, the CA and client certificate of docker.io's mirrors go to
        C(<certs_dir>/<mirror host:port>/) (mode C(0600) for the key), each starting with our marker line; a file
        there we did not write with other content is refused, ours go with their mirror.
      - Client keys and header values never appear in results, diffs, messages or C(invocation).
    type: list
    elements: dict
    suboptions:
      registry:
        description: The registry, C(host[:port]) (lower-cased; Docker Hub's aliases mean C(docker.io)) or C(_default).
        type: str
        required: true
      mirrors:
        description: Its mirrors, tried in this order before the registry itself.
        type: list
        elements: dict
        required: true
        suboptions:
          url:
            description: The mirror, C(https://) or C(http://); a path is allowed.
            type: str
            required: true
          ca:
            description: PEM text of the CA certificate(s) to trust for this mirror.
            type: str
          client_cert:
            description: PEM text of the client certificate; needs O(registries[].mirrors[].client_key).
            type: str
          client_key:
            description: PEM text of the unencrypted private key of the client certificate.
            type: str
          skip_verify:
            description: Do not verify the mirror's TLS certificate.
            type: bool
            default: false
          capabilities:
            description: What Docker may do with the mirror (the classic store only expresses V([pull, resolve])).
            type: list
            elements: str
            choices: [pull, resolve, push]
            default: [pull, resolve]
          override_path:
            description: The URL's path is the registry API root (containerd image store only).
            type: bool
            default: false
          headers:
            description: HTTP headers sent to the mirror (containerd image store only); values never shown.
            type: dict
  probe:
    description:
      - Ask each mirror this file (and, with the containerd image store, each registry's hosts.toml) gives Docker
        whether C(/v2/) answers, the way dockerd reaches it (its certs.d files, insecure registries), and return it
        in RV(live_registries) - the view M(fleetops.docker_mirror.mirrors_info) gives of Docker, read in the same
        run. Only loopback or named mirrors are asked; nothing is written for it.
    type: bool
    default: false
  probe_image:
    description: Resolve this image's manifest through the mirrors of its registry too (implies O(probe)).
    type: str
  probe_timeout:
    description: Seconds each mirror may take to answer a probe.
    type: float
    default: 5
  certs_dir:
    description:
      - Docker's certificates directory, where O(registries) writes hosts.toml files (containerd image store) or
        per-mirror-host certificate files (classic).
    type: path
    default: /etc/docker/certs.d
  force:
    description:
      - Replace a hosts.toml in O(certs_dir) that this module did not write (its content is lost).
    type: bool
    default: false
  insecure_registries:
    description:
      - Entries of C(insecure-registries) (C(host[:port]) or a CIDR), with the same O(state) and
        O(exclusive) semantics as O(registry_mirrors). An C(http://) or C(https://) prefix is
        ignored when comparing, as dockerd does. When omitted, the list is not touched.
    type: list
    elements: str
  state:
    description:
      - Whether the given O(registry_mirrors) and O(insecure_registries) must be present or absent.
      - O(settings) are applied in both states.
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With O(state=present), make the lists exactly O(registry_mirrors) and O(insecure_registries).
      - With O(state=absent), remove every entry of the given lists.
    type: bool
    default: false
  settings:
    description:
      - Other top-level keys to set, for example C(live-restore) or C(log-opts). Each value replaces
        the existing value of its key as a whole (no deep merge); a key that is not in the file is
        added at the end. A value of V(null) removes the key.
      - C(registry-mirrors) and C(insecure-registries) are refused here; use O(registry_mirrors)
        and O(insecure_registries).
    type: dict
  allow_unauthenticated_tcp:
    description:
      - Write a TCP entry of C(hosts) (C(tcp://0.0.0.0:2375), or an address without a scheme) although neither the
        resulting file nor dockerd's flags set C(tlsverify) and C(tlscacert). Whoever reaches that port then
        controls dockerd, which is root on the host; dockerd itself only warns. By default such a change of
        O(settings) is refused, naming the entry.
      - A C(hosts) entry dockerd cannot listen on (a scheme other than C(tcp), C(unix), C(fd)) is refused either way.
    type: bool
    default: false
    version_added: 2.0.0
  backup:
    description:
      - Create a backup file with a timestamp next to the file before changing it.
    type: bool
    default: false
  keep_previous:
    description:
      - When the run changes an existing file, keep its previous bytes in a private copy next to it,
        C(<directory>/.<name>.docker_mirror-previous) (mode C(0600)), and return its name in RV(rollback_file)
        for M(fleetops.docker_mirror.daemon_apply) to restore if Docker does not take the change.
      - The copy replaces an earlier one; C(daemon_apply) removes it once Docker took the change. Nothing is
        kept when the file is created (RV(created)) or unchanged.
    type: bool
    default: false
  apply:
    description:
      - How the role (or a play) will have dockerd take the file, returned as RV(apply_action) when it must -
        the run changed the file, or the running dockerd's mirrors differ from the file's. The module itself never
        signals dockerd; pass RV(apply_action) to M(fleetops.docker_mirror.daemon_apply).
      - V(auto) picks V(reload) when dockerd re-reads every changed key on C(SIGHUP), else V(restart);
        V(none) never asks for an apply (RV(apply_needed) still says whether one is needed).
    type: str
    choices: [auto, reload, restart, none]
    default: auto
  require_daemon:
    description:
      - Fail, before anything is written (also in check mode), when Docker is not installed or dockerd
        runs but does not answer C(docker info) (RV(daemon_state) V(not-installed) or V(not-answering)).
      - A stopped C(docker.service) is not a failure. The file is written for its next start, and
        RV(daemon_state) is V(stopped). The module never starts a stopped Docker.
      - With V(false), the module works on the file alone and RV(daemon_state) says what it found.
    type: bool
    default: false
  dockerd_check:
    description:
      - Check the resulting document the way the host's dockerd would, before writing it. Keys this
        Docker release does not know are refused (with a "did you mean" hint), values of the wrong type
        too, a UTF-8 byte order mark kept from the file when Docker is older than 23.0 (which refuses it),
        and C(dockerd --validate) runs on the candidate file when the host has Docker 23.0 or later.
      - Mirror URL rules and flag conflicts are always checked.
      - Was named C(validate) in 1.0.0, an alias until 2.0.0 removed it, because core modules use C(validate) for
        a command that checks a file.
    type: bool
    default: true
notes:
  - Only the Python standard library is needed on the managed host.
  - Editing C(/etc/docker) needs root. When the module runs as another user that cannot write the file or
    reach the Docker socket, it fails with "needs root on this host"; run it with C(become=true).
  - Secrets do not leave the host. The userinfo of URLs and the values of C(proxies) are masked in the
    diff, the messages and the results, and in the module arguments Ansible echoes with C(-vvv); the previous
    text is not returned (see O(keep_previous)).
seealso:
  - module: fleetops.docker_mirror.daemon_apply
  - name: dockerd reference, daemon configuration file
    description: Keys of daemon.json and the options dockerd reloads on SIGHUP.
    link: https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file
"""

EXAMPLES = r"""
- name: Add a pull-through cache, keeping every other key of daemon.json
  fleetops.docker_mirror.daemon_json:
    keep_previous: true
    registry_mirrors:
      - https://mirror.gcr.io
  become: true
  register: __docker_mirror_daemon_json

# Docker takes the file with fleetops.docker_mirror.daemon_apply (see its examples), which rolls back to
# the rollback_file kept above if Docker does not take it.
- name: Say which changes need a restart of Docker rather than a reload
  ansible.builtin.debug:
    msg: "A restart is needed for: {{ __docker_mirror_daemon_json.changed_keys | join(', ') }}"
  when: __docker_mirror_daemon_json is changed and not __docker_mirror_daemon_json.reload_sufficient

- name: Use exactly one mirror, an http one on the LAN
  fleetops.docker_mirror.daemon_json:
    registry_mirrors:
      - http://10.0.0.5:5000
    insecure_registries:
      - 10.0.0.5:5000
    exclusive: true
    backup: true
  become: true

- name: Remove every mirror (the key stays, as an empty list, so a reload applies it)
  fleetops.docker_mirror.daemon_json:
    registry_mirrors: []
    state: absent
    exclusive: true
  become: true

- name: Mirror Docker Hub and registry.k8s.io (hosts.toml with the containerd image store, else reported)
  fleetops.docker_mirror.daemon_json:
    registries:
      - registry: docker.io
        mirrors:
          - url: https://mirror.example.com:5443
            ca: "{{ lookup('ansible.builtin.file', 'files/mirror-ca.pem') }}"
      - registry: registry.k8s.io
        mirrors:
          - url: https://mirror.example.com:5443
            ca: "{{ lookup('ansible.builtin.file', 'files/mirror-ca.pem') }}"
            capabilities: [pull]
  become: true
  register: __docker_mirror_daemon_json

- name: Set other keys alongside
  fleetops.docker_mirror.daemon_json:
    registry_mirrors:
      - https://mirror.gcr.io
    settings:
      live-restore: true
      log-opts:
        max-size: 10m
        max-file: "3"
  become: true
"""

RETURN = r"""
live_registries:
  description:
    - With O(probe), every registry as Docker pulls it once this file is live (docker.io's mirrors from the file),
      in the shape of M(fleetops.docker_mirror.mirrors_info)'s C(registries) of a runtime - C(mirrors), C(hosts),
      C(probes), C(image), C(unsupported) (classic Docker mirrors docker.io only).
  returned: when O(probe) or O(probe_image) is given
  type: dict
path:
  description: The file written (or that would be), after following symbolic links.
  returned: success
  type: str
  sample: /etc/docker/daemon.json
changed_keys:
  description: Top-level keys whose value was (in check mode, would be) added, changed or removed.
  returned: success
  type: list
  elements: str
  sample: ["registry-mirrors"]
reload_sufficient:
  description:
    - True when dockerd re-reads every changed key on C(SIGHUP) (C(systemctl reload docker)),
      false when a restart is needed. True when nothing changed.
  returned: success
  type: bool
  sample: true
registry_mirrors:
  description:
    - The file's C(registry-mirrors) after the run (in check mode, as it would be), as spelled in the file;
      V([]) when the key is absent. What the live daemon must report once Docker took the file.
  returned: success
  type: list
  elements: str
  sample: ["https://mirror.gcr.io"]
live_mirrors:
  description:
    - The registry mirrors the running dockerd uses now (C(RegistryConfig.Mirrors) of C(docker info)),
      as dockerd reports them (with a trailing slash); V([]) when it uses none. This is the state before
      any reload; the module does not signal dockerd.
    - Null when dockerd was not asked or did not answer (RV(daemon_state) is not V(running)).
  returned: success
  type: list
  elements: str
  sample: ["https://mirror.gcr.io/"]
apply_needed:
  description: True when dockerd runs and must take the file (it changed, or the live mirrors differ from it).
  returned: success
  type: bool
  sample: true
apply_action:
  description: What O(apply) settles on when RV(apply_needed) (V(reload) or V(restart)); empty otherwise.
  returned: success
  type: str
  sample: reload
outcome:
  description:
    - Docker's result in the shape every runtime module of this collection returns (runtime, installed,
      files_changed, apply_needed, apply_action, applied, rolled_back, live_mirrors, problem, stage).
  returned: success
  type: dict
daemon_state:
  description:
    - V(running) when dockerd answered C(docker info).
    - V(stopped) when Docker is not running (C(docker.service) not active on a systemd host, else no dockerd
      in its pidfile); dockerd was not asked, so that C(docker.socket) does not start it.
    - V(not-answering) when Docker should run but C(docker info) failed or timed out.
    - V(not-installed) when there is neither a C(docker) nor a C(dockerd) command.
  returned: success
  type: str
  sample: running
docker_version:
  description:
    - The Docker engine version the checks used, or null when unknown. The running daemon's
      C(ServerVersion) when it answered, else C(dockerd --version).
  returned: success
  type: str
  sample: 26.1.5+dfsg1
created:
  description: True when the file did not exist and was (in check mode, would be) created.
  returned: success
  type: bool
  sample: false
backup_file:
  description: Name of the backup file made by O(backup=true).
  returned: when the file changed, O(backup=true) and the file existed
  type: str
  sample: /etc/docker/daemon.json.12345.2024-01-01@10:00:00~
rollback_file:
  description:
    - The private copy of the file's previous bytes made by O(keep_previous=true), for
      M(fleetops.docker_mirror.daemon_apply) O(fleetops.docker_mirror.daemon_apply#module:rollback_file).
  returned: when the file changed, O(keep_previous=true), the file existed and not in check mode
  type: str
  sample: /etc/docker/.daemon.json.docker_mirror-previous
image_store:
  description:
    - With O(registries), the image store the files were written for, V(containerd) or V(classic), from
      daemon.json's C(features.containerd-snapshotter) when it sets it (a change of it needs a restart), else what the running
      daemon reports, else the release's default (containerd from Docker 29).
  returned: when O(registries) is given
  type: str
  sample: containerd
registries:
  description:
    - With O(registries), per registry the file it went to (hosts.toml; daemon.json for docker.io on the classic
      store), whether it changed, and what the result may show of its mirrors.
  returned: when O(registries) is given
  type: dict
unsupported:
  description:
    - With O(registries), what this Docker cannot do, one entry per registry and mirror (URL masked) with what and
      why; the rest is written.
  returned: when O(registries) is given
  type: list
  elements: dict
  sample: [{"registry": "registry.k8s.io", "mirror": "https://m.example:5443", "what": "registry",
            "why": "Docker's classic image store mirrors docker.io only ..."}]
paths:
  description: With O(registries), every file written or removed (in check mode, that would be).
  returned: when O(registries) is given
  type: list
  elements: str
certs_dir:
  description: With O(registries), the certificates directory used.
  returned: when O(registries) is given
  type: str
diff:
  description:
    - The file's text before and the text written after (in check mode, that would be written), masked.
    - With O(registries) and files changed in O(certs_dir), a list of such entries, daemon.json's first; a client
      key's text is never shown.
  returned: when diff mode is on
  type: raw
  contains:
    before:
      description: The file's text before the run, or empty when it did not exist.
      type: str
    after:
      description: The file's text after the run.
      type: str
    before_header:
      description: The file's name, with C((absent)) when it did not exist.
      type: str
    after_header:
      description: The file's name.
      type: str
"""

import functools
import json
import os
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _certs_dir as certs
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd as ctd
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _daemon as daemon
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _docker_mirrors as dm
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _hosts_dir as hd
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _mirror_spec as spec
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _probe
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _reach
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _errors as errors
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._daemon_options import (
    API_KEYS,
    DOCKERD_VALIDATE_MIN_VERSION,
    MIRROR_PATH_MIN_VERSION,
    TLS_VERIFY_KEYS,
    check_api_hosts,
    check_keys,
    check_text,
    reload_sufficient,
    version_at_least,
)
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError, name_options, option
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._outcome import APPLY_MODES, apply_action, outcome
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._registry import normalize_mirrors
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._document import (
    parse,
    plan,
    redact,
    redact_arguments,
    render,
)
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._files import (
    NEW_FILE_MODE,
    SecretSafeModule,
    Write,
    check_can_write,
    check_file_type,
    decode,
    directory_lock,
    encode,
    exit_or_fail,
    make_directories,
    naming,
    raise_os_error,
    read_bytes,
    refuse_unwritable,
    remove_directories,
    undo_writes,
    write_files,
)
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._registry import (
    INSECURE_KEY,
    MIRRORS_KEY,
    go_url_parse,
    http_mirrors_missing_insecure,
    mask_url,
    mirror_key,
    validate_insecure_registry,
    validate_mirror,
)


CERTS_DIR = "/etc/docker/certs.d"


class Edit(t.NamedTuple):
    """One read–merge of the file: what it held, what it will hold."""
    existed: bool
    before: bytes
    before_text: str
    after_text: str
    values: dict[str, t.Any]
    changed_keys: list[str]
    before_values: dict[str, t.Any] = {}


# --------------------------------------------------------------------------- the file


def absolute_path(path: str) -> str:
    if not os.path.isabs(path):
        raise ConfigError("%s must be absolute, starting with / (for example /etc/docker/daemon.json)"
                          % option("path"))
    return os.path.realpath(path)


def read_current(target: str) -> tuple[bool, bytes]:
    """(existed, bytes) of the file, opened without following links or blocking."""
    try:
        raw = read_bytes(target)
    except OSError as exc:
        raise_os_error("cannot read the file", exc)
    return raw is not None, raw or b""


# --------------------------------------------------------------------------- checks on the document


def check_wanted_entries(params: dict[str, t.Any], docker_version: str | None) -> None:
    """Check the given mirrors and insecure registries before they reach the document."""
    if params["state"] == "absent":
        return
    allow_path = version_at_least(docker_version, MIRROR_PATH_MIN_VERSION)
    for mirror in params["registry_mirrors"] or []:
        validate_mirror(mirror, allow_path)
    for entry in params["insecure_registries"] or []:
        validate_insecure_registry(entry)


def check_result(values: dict[str, t.Any], keys: list[str], docker_version: str | None, full: bool) -> None:
    """Check the resulting document where it changed; with ``full``, as the host's dockerd would."""
    allow_path = version_at_least(docker_version, MIRROR_PATH_MIN_VERSION)
    if MIRRORS_KEY in keys:
        for mirror in values.get(MIRRORS_KEY, []):
            validate_mirror(mirror, allow_path)
    if INSECURE_KEY in keys:
        for entry in values.get(INSECURE_KEY, []):
            validate_insecure_registry(entry)
    if MIRRORS_KEY in keys or INSECURE_KEY in keys:
        missing = http_mirrors_missing_insecure(values)
        if missing:
            raise ConfigError("; ".join(
                "mirror %s uses plain http on a non-loopback host: dockerd needs '%s' in "
                "insecure-registries (add it to insecure_registries)" % (mask_url(mirror), mask_url(netloc))
                for mirror, netloc in missing))
    if full:
        # The whole document, as dockerd reads it: a key already in the file that this release refuses would make
        # the file we write one dockerd cannot start with (on 23+ `dockerd --validate` says the same).
        check_keys(values, docker_version)


def keys_to_check_for_flags(params: dict[str, t.Any], values: dict[str, t.Any], changed: list[str]) -> list[str]:
    """Every key written, and a managed list asked about (dockerd refuses a flag and a key, even unchanged)."""
    asked = [key for key, option in ((MIRRORS_KEY, "registry_mirrors"), (INSECURE_KEY, "insecure_registries"))
             if params[option] is not None]
    return [key for key in dict.fromkeys(changed + asked) if key in values]


def check_flag_conflicts(keys: list[str], host_daemon) -> None:
    hits = daemon.find_flag_conflicts(keys, host_daemon)
    if hits:
        raise ConfigError(
            "dockerd would refuse to start: the setting would be both in the file and a flag given to "
            "dockerd; remove the flag first. Found: " + "; ".join(
                "%s in %s" % (hit.flag, hit.describe()) for hit in hits))


def prepare(params: dict[str, t.Any], target: str, status: daemon.DaemonStatus) -> Edit:
    """Read, merge and check; nothing is written here."""
    existed, raw = read_current(target)
    before_text = decode(raw)
    document = parse(before_text)
    check_wanted_entries(params, status.version)
    result = plan(document.values, params["registry_mirrors"], params["insecure_registries"],
                  params["settings"], params["state"], params["exclusive"], params.get("insecure_exclusive"))
    changed = list(result.changed_keys)
    after_text = before_text
    if changed:
        check_result(result.values, changed, status.version, params["dockerd_check"])
        after_text = render(document, result.values)
        encode(after_text)
        if params["dockerd_check"]:
            check_text(after_text, status.version)
    check_flag_conflicts(keys_to_check_for_flags(params, result.values, changed), status.daemon)
    if API_KEYS.intersection(changed):  # a "hosts" entry already in the file is the user's, not ours to refuse
        tls_flags = {hit.flag.lstrip("-") for hit in daemon.find_flag_conflicts(TLS_VERIFY_KEYS, status.daemon)}
        check_api_hosts(result.values, tls_flags, params["allow_unauthenticated_tcp"])
    return Edit(existed, raw, before_text, after_text, result.values, changed, document.values)


# --------------------------------------------------------------------------- writing


def run_dockerd_validate(module: AnsibleModule, candidate: str, status: daemon.DaemonStatus) -> None:
    dockerd = module.get_bin_path("dockerd")
    if not (module.params["dockerd_check"] and dockerd
            and version_at_least(status.version, DOCKERD_VALIDATE_MIN_VERSION)):
        return
    ok, message = daemon.dockerd_validate(module.run_command, dockerd, candidate, status.daemon)
    if not ok:
        # dockerd names the temporary candidate; the user knows the file by its own name.
        message = (message or "exit status non-zero, no output").replace(candidate, "the resulting file")
        raise ConfigError("dockerd --validate rejected the resulting configuration: %s" % message)


def install(module: AnsibleModule, target: str, edit: Edit, status: daemon.DaemonStatus) -> dict[str, str]:
    """The managed-file protocol: refusals, dockerd --validate on the candidate, then (not in check mode) backup,
    previous copy, atomic rename. Whatever fails, nothing of this run is left behind."""
    params = module.params
    write = Write(target, edit.before_text if edit.existed else None, edit.after_text)
    return write_files(module, [write], {target: lambda candidate: run_dockerd_validate(module, candidate, status)},
                       target if params["keep_previous"] else None, params["backup"])


MirrorPlanner = t.Callable[[Edit], "MirrorFiles"]


def commit(module: AnsibleModule, target: str, edit: Edit, status: daemon.DaemonStatus,
           planner: MirrorPlanner | None) -> tuple[Edit, dict[str, str], MirrorFiles]:
    """The registries' files (certs.d) first, under their directory's lock, then daemon.json: Docker reads them
    at each pull, so they are in place when it takes the new daemon.json. daemon.json refused or failing puts
    them back."""
    if planner is None:
        return edit, install(module, target, edit, status) if edit.changed_keys else {}, NO_MIRROR_FILES
    with directory_lock(module.params["certs_dir"]):
        files = planner(edit)
        write_files(module, files.writes)
        try:
            return edit, install(module, target, edit, status) if edit.changed_keys else {}, files
        except BaseException:
            if not module.check_mode:
                undo_writes(module, files.writes)
            raise


def edit_file(module: AnsibleModule, target: str, status: daemon.DaemonStatus, params: dict[str, t.Any],
              planner: MirrorPlanner | None = None) -> tuple[Edit, dict[str, str], MirrorFiles]:
    """Read–merge–write under the directory's lock; a missing directory is made once every check passed."""
    directory = os.path.dirname(target)
    made_directories: list[str] = []
    if not os.path.isdir(directory):
        edit = prepare(params, target, status)
        if not edit.changed_keys or module.check_mode:
            return commit(module, target, edit, status, planner)
        refuse_unwritable(target, module.params["unsafe_writes"])
        made_directories = make_directories(directory)
    try:
        with directory_lock(directory):
            return commit(module, target, prepare(params, target, status), status, planner)
    except BaseException:
        remove_directories(made_directories)
        raise


# --------------------------------------------------------------------------- registries (the shared mirror model)


class MirrorFiles(t.NamedTuple):
    """The registries' files of a run: the image store they were planned for, Docker's plan, each registry's
    hosts.toml plan (containerd image store), the per-mirror-host certificate files (classic) and every change,
    in the order made."""
    store: str | None
    plan: dm.DockerPlan | None
    registries: list[hd.RegistryPlan]
    cert_changes: list[certs.CertChange]
    writes: list[Write]

    def diffs(self) -> list[dict[str, str]]:
        return [hd.change_diff(change) for item in self.registries for change in item.writes] + \
            [certs.cert_diff(change) for change in self.cert_changes]


NO_MIRROR_FILES = MirrorFiles(None, None, [], [], [])
OWNER = hd.Owner("fleetops.docker_mirror.daemon_json",
                 "# Managed by fleetops.docker_mirror.daemon_json: edits here are overwritten.")


def wanted_registries(params: dict[str, t.Any]) -> list[spec.RegistrySpec] | None:
    """O(registries), every value checked (``_default`` only means something to the containerd image store)."""
    if params["registries"] is None:
        return None
    if not params["certs_dir"] or not os.path.isabs(params["certs_dir"]):
        raise ConfigError("certs_dir must be an absolute path (Docker reads /etc/docker/certs.d), got %s"
                          % json.dumps(params["certs_dir"]))
    return spec.parse_registries(params["registries"], allow_default=True)


def edit_params(params: dict[str, t.Any], registries: list[spec.RegistrySpec] | None,
                plan: dm.DockerPlan | None) -> dict[str, t.Any]:
    """The daemon.json edit O(registries) asks for: docker.io's mirrors as O(registry_mirrors) (with O(exclusive),
    none when docker.io is not listed) and the mirror hosts insecure-registries needs added to it."""
    if registries is None or plan is None:
        return params
    hub = [item for item in registries if item.registry == spec.DOCKER_HUB]
    exclusive, given = params["exclusive"], params["insecure_registries"]
    if params["state"] == "absent":
        mirrors = [mirror.url for mirror in hub[0].mirrors] if hub else None
        return dict(params, registry_mirrors=mirrors, exclusive=exclusive or bool(hub and not hub[0].mirrors),
                    insecure_exclusive=exclusive)
    mirrors = plan.hub_mirrors if plan.hub_mirrors is not None else ([] if exclusive else None)
    insecure = list(given or []) + [host for host in plan.insecure if host not in (given or [])]
    return dict(params, registry_mirrors=mirrors, insecure_registries=insecure if given is not None or insecure
                else None, insecure_exclusive=exclusive and given is not None)


def hosts_toml_path(certs_dir: str, registry: str) -> str:
    return os.path.realpath(os.path.join(certs_dir, registry, hd.HOSTS_FILE))


def plan_mirror_files(module: AnsibleModule, registries: list[spec.RegistrySpec], status: daemon.DaemonStatus,
                      edit: Edit) -> MirrorFiles:
    """hosts.toml per registry with the containerd image store (as Docker will run once it took daemon.json);
    ``state: absent`` removes ours whatever the store."""
    params = module.params
    store = dm.image_store(edit.values, status.image_store, status.version, version_at_least)
    plan = dm.plan_docker(registries, store, version_at_least(status.version, MIRROR_PATH_MIN_VERSION))
    certs_dir = params["certs_dir"]
    if params["state"] == "absent":
        plans = [hd.plan_absent(item, hosts_toml_path(certs_dir, item.registry), params["exclusive"], OWNER,
                                module.warn) for item in registries]
    else:
        plans = [hd.plan_present(item, hosts_toml_path(certs_dir, item.registry), ctd.default_server(item.registry),
                                 params["exclusive"], params["force"], OWNER) for item in plan.hosts_toml]
        if params["exclusive"]:
            plans += hd.plan_leftovers(certs_dir, [item.registry for item in registries], OWNER)
    with naming(certs_dir):
        cert_changes = plan_host_certs(registries, plan, edit, certs_dir)
    return MirrorFiles(store, plan, plans, cert_changes,
                       [change for item in plans for change in item.writes] + certs.as_writes(cert_changes))


def mirror_host(url: str) -> str | None:
    try:
        return go_url_parse(url).host or None
    except ValueError:
        return None


def plan_host_certs(registries: list[spec.RegistrySpec], plan: dm.DockerPlan, edit: Edit,
                    certs_dir: str) -> list[certs.CertChange]:
    """Classic Docker reads a mirror's CA and client certificate from ``<certs_dir>/<mirror host:port>/``: the
    files of the docker.io mirrors this run writes there (none with the containerd image store, whose hosts.toml
    names its own), ours of the mirrors it sets otherwise or removes go, unless a mirror it leaves in
    registry-mirrors is on that host."""
    hub = [mirror for item in registries if item.registry == spec.DOCKER_HUB for mirror in item.mirrors]
    given = {mirror_key(mirror.url) for mirror in hub}
    written = [(spec.DOCKER_HUB, spec.host_port(mirror.url), mirror) for mirror in plan.host_certs]
    wanted = certs.cert_files(written, certs_dir, OWNER.marker)
    before = [mirror.url for mirror in hub] + list(edit.before_values.get(MIRRORS_KEY) or [])
    hosts = {host for host in map(mirror_host, before) if host}
    kept = {mirror_host(url) for url in edit.values.get(MIRRORS_KEY) or [] if mirror_key(url) not in given}
    current = {path: certs.read_cert(path) for path in set(certs.cert_paths(hosts, certs_dir)) | set(wanted)}
    return certs.plan_certs(wanted, current, kept, OWNER.marker)


# --------------------------------------------------------------------------- the module


def host_bins(module: AnsibleModule) -> dict[str, str | None]:
    return {name: module.get_bin_path(name) for name in ("docker", "dockerd", "systemctl", "timeout")}


def check_daemon(module: AnsibleModule, target: str, status: daemon.DaemonStatus) -> None:
    """The daemon side, before the file is read: root, the file dockerd reads, require_daemon."""
    if status.denied and not errors.is_root():
        raise errors.NeedsRoot()
    elsewhere = daemon.daemon_reads_elsewhere(target, status.daemon)
    if elsewhere:
        raise ConfigError(elsewhere)
    # A stopped Docker is not broken: an operator stopped it, and its file is written for the next start.
    if module.params["require_daemon"] and status.state not in ("running", "stopped"):
        raise ConfigError(status.error or "dockerd is not answering")


def file_args_for(module: AnsibleModule, target: str, created: bool) -> dict[str, t.Any]:
    file_args = module.load_file_common_arguments(module.params, path=target)
    if created and file_args.get("mode") is None:
        file_args["mode"] = NEW_FILE_MODE
    return file_args


def build_diff(path: str, edit: Edit) -> dict[str, str]:
    return {
        "before": redact(edit.before_text) if edit.existed else "",
        "after": redact(edit.after_text),
        "before_header": path if edit.existed else "%s (absent)" % path,
        "after_header": path,
    }


def docker_outcome(mode: str, files: list[str], changed: bool, edit: Edit,
                   status: daemon.DaemonStatus) -> dict[str, t.Any]:
    """Must dockerd take daemon.json (the run changed it, or the running daemon's mirrors differ from it), and how.
    The certs.d files need nothing: dockerd reads them at each pull (registry/service_v2.go, daemon/hosts.go)."""
    live = status.live_mirrors
    differs = live is not None and normalize_mirrors(live) != normalize_mirrors(edit.values.get(MIRRORS_KEY, []))
    needed = status.state == "running" and (changed or differs)
    natural = "reload" if reload_sufficient(edit.changed_keys) and \
        not dm.snapshotter_switched(edit.before_values, edit.values) else "restart"
    return outcome("docker", "configure", files_changed=files, apply_needed=needed,
                   apply_action=apply_action(needed, mode, natural), live_mirrors=live,
                   installed=status.state != "not-installed")


def registries_result(target: str, edit: Edit, files: MirrorFiles,
                      registries: list[spec.RegistrySpec]) -> dict[str, t.Any]:
    """Per registry: hosts.toml (containerd image store), or daemon.json for docker.io (classic); what Docker
    cannot do; the image store the files were written for."""
    shown = {item.registry: {"path": item.path, "changed": bool(item.writes), "mirrors": item.mirrors}
             for item in files.registries}
    if files.store == dm.CLASSIC:
        for item in registries:
            if item.registry == spec.DOCKER_HUB:
                shown[item.registry] = {"path": target, "changed": MIRRORS_KEY in edit.changed_keys,
                                        "mirrors": [spec.public_mirror(mirror) for mirror in item.mirrors]}
    gaps = files.plan.unsupported if files.plan is not None else []
    return {"registries": shown, "image_store": files.store, "unsupported": [gap._asdict() for gap in gaps]}


def probe_registries(params: dict[str, t.Any], registries: list[spec.RegistrySpec] | None, edit: t.Any,
                     status: daemon.DaemonStatus) -> dict[str, dict[str, t.Any]]:
    """Whether the mirrors this file gives Docker answer, the way dockerd reaches them (certs.d, insecure
    registries; with the containerd image store, every registry's hosts.toml): mirrors_info's view of Docker,
    read in the same run."""
    names = [registry.registry for registry in registries] if registries else [spec.DOCKER_HUB]
    check = _reach.Check(names, True, params["probe_timeout"], params["probe_image"])
    return _reach.docker_registries(status, check, edit.values.get(MIRRORS_KEY, []), params["certs_dir"])


def run_module(module: AnsibleModule) -> dict[str, t.Any]:
    params = module.params
    target = absolute_path(params["path"])
    check_file_type(target)
    registries = wanted_registries(params)  # every value checked before anything is read or written
    module.no_log_values.update(spec.secrets(registries or []))
    status = daemon.probe(module.run_command, host_bins(module))
    check_daemon(module, target, status)
    check_can_write(target)
    planner = None
    hub_plan = None
    if registries is not None:
        hub_plan = dm.plan_docker(registries, dm.CLASSIC, version_at_least(status.version, MIRROR_PATH_MIN_VERSION))
        planner = functools.partial(plan_mirror_files, module, registries, status)
    edit, made, files = edit_file(module, target, status, edit_params(params, registries, hub_plan), planner)
    changed = bool(edit.changed_keys)
    created = changed and not edit.existed
    if os.path.exists(target):
        changed = module.set_fs_attributes_if_different(file_args_for(module, target, created), changed)
    paths = ([target] if changed else []) + [change.path for change in files.writes]
    output = {
        "changed": bool(paths),
        "path": target,
        "changed_keys": edit.changed_keys,
        "reload_sufficient": reload_sufficient(edit.changed_keys),
        "registry_mirrors": [mask_url(mirror) for mirror in edit.values.get(MIRRORS_KEY, [])],
        "live_mirrors": status.live_mirrors,
        "daemon_state": status.state,
        "docker_version": status.version,
        "created": created,
    }
    if registries is not None:
        output.update(registries_result(target, edit, files, registries), paths=paths, certs_dir=params["certs_dir"])
    output["outcome"] = docker_outcome(params["apply"], paths, changed, edit, status)
    output.update(apply_needed=output["outcome"]["apply_needed"], apply_action=output["outcome"]["apply_action"])
    output.update(made)
    if params["probe"] or params["probe_image"]:
        output["live_registries"] = probe_registries(params, registries, edit, status)
    if module._diff:
        output["diff"] = build_diff(target, edit)
        if files.writes:
            output["diff"] = [output["diff"]] + files.diffs()
    return output


def main() -> None:
    module = SecretSafeModule(
        argument_spec=dict(
            path=dict(type="path", default="/etc/docker/daemon.json"),
            registry_mirrors=dict(type="list", elements="str"),
            insecure_registries=dict(type="list", elements="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            exclusive=dict(type="bool", default=False),
            settings=dict(type="dict"),
            allow_unauthenticated_tcp=dict(type="bool", default=False),
            option_names=dict(type="dict", default={}),
            backup=dict(type="bool", default=False),
            keep_previous=dict(type="bool", default=False),
            dockerd_check=dict(type="bool", default=True),
            require_daemon=dict(type="bool", default=False),
            apply=dict(type="str", choices=list(APPLY_MODES), default="auto"),
            registries=spec.REGISTRIES_OPTION,
            certs_dir=dict(type="path", default=CERTS_DIR),
            force=dict(type="bool", default=False),
            probe=dict(type="bool", default=False),
            probe_image=dict(type="str"),
            probe_timeout=dict(type="float", default=_probe.DEFAULT_TIMEOUT),
        ),
        supports_check_mode=True,
        add_file_common_args=True,
        mutually_exclusive=[("registries", "registry_mirrors")],
    )
    name_options(module.params["option_names"])
    # What Ansible echoes with -vvv: never a password given in a mirror or a proxy setting.
    arguments = dict(redact_arguments(module.params), registries=spec.redact_registries(module.params["registries"]))
    exit_or_fail(module, run_module, module.params["path"], {"module_args": arguments},
                 one_file=module.params["registries"] is None)


if __name__ == "__main__":
    main()
