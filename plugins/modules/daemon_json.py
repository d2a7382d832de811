#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: daemon_json
short_description: Merge registry mirrors and settings into Docker's daemon.json
version_added: 1.0.0
description:
  - Edits C(/etc/docker/daemon.json) the way a careful operator would by hand. Every key the
    module does not manage keeps its value and position (nested objects, lists, numbers, unicode).
  - Registry mirrors are compared the way dockerd normalises them, so C(https://mirror.gcr.io) and
    C(https://mirror.gcr.io/) are the same mirror; re-running with either spelling changes nothing.
  - Everything is validated before the file is written, and the file is written only when its
    content changes, atomically (temporary file in the same directory, then rename).
  - Validation checks each mirror URL like dockerd's C(ValidateMirror) (scheme C(http) or C(https),
    a host, no user or password, no query or fragment, a path only on Docker 25.0 or later),
    requires every plain-C(http) mirror that is not on a loopback address to be listed in
    C(insecure-registries), checks the document against a JSON schema of common dockerd keys, and
    runs C(dockerd --validate) on the candidate file where Docker 23.0 or later is installed.
  - Fails before writing when a C(--registry-mirror) (or C(--insecure-registry)) flag is already
    given to dockerd (running command line, C(docker.service) and its drop-ins,
    C(/etc/default/docker), C(/etc/sysconfig/docker)) and the file would hold the same setting, because
    dockerd refuses to start when a setting is both a flag and a file key.
  - An empty or whitespace-only file is treated as an empty document C({}).
  - Asks the running dockerd with C(docker info) (when the C(docker) command exists) and returns
    the mirrors it is using now (RV(live_mirrors)), whether it answered (RV(daemon_running)) and the
    host's service manager (RV(service_manager)), so a play needs no separate preflight task.
    O(require_daemon=true) fails, before anything is written, when dockerd does not answer.
  - RV(previous_content) holds the file's text before a change, so a play can restore it on rollback
    without keeping a backup file.
  - On failure the message names the file and the cause, and the file is left unchanged.
author:
  - fleetops engineers (@fleetops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the document before and after, as indented JSON.
  platform:
    platforms: posix
options:
  path:
    description:
      - Path of the dockerd configuration file.
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
      - When a removal empties the list, the key is kept with an empty list C([]) and
        RV(mirrors_cleared) is true. Deleting the key would not work, because dockerd keeps the old mirrors
        on a reload (SIGHUP) when the key is missing, but applies an empty list.
    type: list
    elements: str
  insecure_registries:
    description:
      - Entries of C(insecure-registries) (C(host[:port]) or a CIDR), with the same O(state) and
        O(exclusive) semantics as O(registry_mirrors). An C(http://) or C(https://) prefix is
        ignored when comparing, as dockerd does. When omitted, the list is not touched.
      - When a removal empties the list, the key is kept as an empty list and
        RV(insecure_registries_cleared) is true.
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
  backup:
    description:
      - Create a backup file with a timestamp before changing the file.
    type: bool
    default: false
  require_daemon:
    description:
      - Fail, before anything is written (also in check mode), when the C(docker) command is missing
        or dockerd does not answer C(docker info).
      - With V(false), the module works on the file alone and RV(daemon_running) says whether dockerd
        answered.
    type: bool
    default: false
    version_added: 1.0.0
  validate:
    description:
      - Check the resulting document against the JSON schema of common dockerd keys, and run
        C(dockerd --validate) on the candidate file when the host has Docker 23.0 or later.
      - Mirror URL rules and flag conflicts are always checked.
    type: bool
    default: true
notes:
  - Only the Python standard library is needed on the managed host; C(jsonschema) is used when
    importable, else an equivalent built-in validator.
  - The module does not signal dockerd. Use RV(reload_sufficient) to choose between
    C(systemctl reload docker) and a restart.
seealso:
  - name: dockerd reference, daemon configuration file
    description: Keys of daemon.json and the options dockerd reloads on SIGHUP.
    link: https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file
"""

EXAMPLES = r"""
- name: Add a pull-through cache, keeping every other key of daemon.json
  fleetops.docker_mirror.daemon_json:
    registry_mirrors:
      - https://mirror.gcr.io
  register: __docker_mirror_daemon_json

- name: Reload dockerd when a reload is enough
  ansible.builtin.systemd_service:
    name: docker
    state: "{{ 'reloaded' if __docker_mirror_daemon_json.reload_sufficient else 'restarted' }}"
  when: __docker_mirror_daemon_json is changed

- name: Use exactly one mirror, an http one on the LAN
  fleetops.docker_mirror.daemon_json:
    registry_mirrors:
      - http://10.0.0.5:5000
    insecure_registries:
      - 10.0.0.5:5000
    exclusive: true
    backup: true

- name: Remove every mirror (the key stays, as an empty list, so a reload applies it)
  fleetops.docker_mirror.daemon_json:
    registry_mirrors: []
    state: absent
    exclusive: true

- name: Set other keys alongside
  fleetops.docker_mirror.daemon_json:
    registry_mirrors:
      - https://mirror.gcr.io
    settings:
      live-restore: true
      log-opts:
        max-size: 10m
        max-file: "3"
"""

RETURN = r"""
config:
  description: The resulting document (what the file holds, or would hold in check mode).
  returned: success
  type: dict
  sample: {"log-driver": "json-file", "registry-mirrors": ["https://mirror.gcr.io"]}
registry_mirrors:
  description: The C(registry-mirrors) list as written (empty when the key is absent).
  returned: success
  type: list
  elements: str
  sample: ["https://mirror.gcr.io"]
insecure_registries:
  description: The C(insecure-registries) list as written (empty when the key is absent).
  returned: success
  type: list
  elements: str
  sample: ["10.0.0.5:5000"]
changed_keys:
  description: Top-level keys whose value was added, changed or removed.
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
mirrors_cleared:
  description: True when this run emptied C(registry-mirrors) (kept as an empty list).
  returned: success
  type: bool
  sample: false
insecure_registries_cleared:
  description: True when this run emptied C(insecure-registries) (kept as an empty list).
  returned: success
  type: bool
  sample: false
created:
  description: True when the file did not exist and was (in check mode, would be) created.
  returned: success
  type: bool
  sample: false
backup_file:
  description: Name of the backup file.
  returned: changed and O(backup=true) and the file existed
  type: str
  sample: /etc/docker/daemon.json.12345.2024-01-01@10:00:00~
docker_version:
  description:
    - Docker engine version found on the host, or null when unknown.
    - The running daemon's C(ServerVersion) from C(docker info) when dockerd answered, else the
      version of the installed C(dockerd) (C(dockerd --version), then C(docker version)).
  returned: success
  type: str
  sample: 26.1.5+dfsg1
validation:
  description: The validations that ran on the resulting document.
  returned: success
  type: list
  elements: str
  sample: ["mirror URLs", "schema (jsonschema)", "dockerd --validate"]
path:
  description: Path of the file.
  returned: success
  type: str
  sample: /etc/docker/daemon.json
previous_content:
  description:
    - The file's text before this run changed it (in check mode, before it would change it),
      to restore it with C(ansible.builtin.copy) C(content) on rollback.
    - Null when nothing changed or the file did not exist (then RV(created) is true).
  returned: success
  type: str
  sample: "{\n  \"log-driver\": \"json-file\"\n}\n"
  version_added: 1.0.0
live_mirrors:
  description:
    - The registry mirrors the running dockerd uses now (C(RegistryConfig.Mirrors) of C(docker info)),
      as dockerd reports them (normalised with a trailing slash); V([]) when it uses none.
    - Null when dockerd did not answer or there is no C(docker) command. This is the state before
      any reload; the module does not signal dockerd.
  returned: success
  type: list
  elements: str
  sample: ["https://mirror.gcr.io/"]
  version_added: 1.0.0
daemon_running:
  description: True when dockerd answered C(docker info).
  returned: success
  type: bool
  sample: true
  version_added: 1.0.0
service_manager:
  description:
    - V(systemd) when systemd is the host's service manager (C(/run/systemd/system) is a directory,
      the C(sd_booted) test), else V(service).
  returned: success
  type: str
  sample: systemd
  version_added: 1.0.0
"""

import os
import tempfile
import typing as t

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _docker_host as host
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._daemon_config import (
    DOCKERD_VALIDATE_MIN_VERSION,
    HAS_JSONSCHEMA,
    INSECURE_KEY,
    MIRROR_PATH_MIN_VERSION,
    MIRRORS_KEY,
    DaemonConfigError,
    apply_changes,
    detect_indent,
    http_mirrors_missing_insecure,
    parse_document,
    reload_sufficient,
    render_document,
    validate_document,
    validate_insecure_registry,
    validate_mirror,
    version_at_least,
)

NEW_FILE_MODE = 0o644
NEW_DIR_MODE = 0o755


class Failure(Exception):
    """A failure whose message already says the file was left unchanged."""


def read_current(path: str) -> tuple[bool, str]:
    """(existed, text) of the file; DaemonConfigError when it cannot be used."""
    if os.path.isdir(path):
        raise DaemonConfigError("is a directory, not a file")
    if not os.path.lexists(path):
        return False, ""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise DaemonConfigError("cannot read the file: %s" % exc.strerror) from None
    try:
        return True, raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DaemonConfigError("not valid UTF-8 (byte %d)" % exc.start) from None


def check_wanted_entries(params: dict[str, t.Any], docker_version: str | None) -> None:
    """Check the given mirrors and insecure registries before they reach the document."""
    if params["state"] == "absent":
        return
    allow_path = version_at_least(docker_version, MIRROR_PATH_MIN_VERSION)
    for mirror in params["registry_mirrors"] or []:
        validate_mirror(mirror, allow_path)
    for entry in params["insecure_registries"] or []:
        validate_insecure_registry(entry)


def check_result(document: dict[str, t.Any], keys: list[str], docker_version: str | None) -> None:
    """Check the managed lists of the resulting document, where they changed."""
    allow_path = version_at_least(docker_version, MIRROR_PATH_MIN_VERSION)
    if MIRRORS_KEY in keys:
        for mirror in document.get(MIRRORS_KEY, []):
            validate_mirror(mirror, allow_path)
    if INSECURE_KEY in keys:
        for entry in document.get(INSECURE_KEY, []):
            validate_insecure_registry(entry)
    if MIRRORS_KEY in keys or INSECURE_KEY in keys:
        missing = http_mirrors_missing_insecure(document)
        if missing:
            raise DaemonConfigError("; ".join(
                "mirror %r uses plain http on a non-loopback host: dockerd needs %r in "
                "insecure-registries (add it to insecure_registries)" % (mirror, netloc)
                for mirror, netloc in missing))


def check_flag_conflicts(params: dict[str, t.Any], document: dict[str, t.Any], running) -> None:
    managed = [key for key, option in ((MIRRORS_KEY, "registry_mirrors"), (INSECURE_KEY, "insecure_registries"))
               if params[option] is not None and key in document]
    hits = host.find_flag_conflicts(managed, running)
    if hits:
        raise DaemonConfigError(
            "dockerd would refuse to start: the setting would be both in the file and a flag given to "
            "dockerd; remove the flag first. Found: " + "; ".join(
                "%s in %s" % (hit.flag, hit.describe()) for hit in hits))


def write_candidate(directory: str, text: str) -> str:
    fd, candidate = tempfile.mkstemp(prefix=".daemon.json.", suffix=".tmp", dir=directory)
    with os.fdopen(fd, "wb") as handle:
        handle.write(text.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
    return candidate


def run_dockerd_validate(module: AnsibleModule, candidate: str, running) -> None:
    dockerd = module.get_bin_path("dockerd")
    ok, message, argv = host.dockerd_validate(module.run_command, dockerd, candidate, running)
    if not ok:
        raise DaemonConfigError("dockerd --validate rejected the resulting configuration: %s"
                                % (message or "exit status non-zero, no output"))


def ensure_directory(path: str) -> None:
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        try:
            os.makedirs(directory, NEW_DIR_MODE)
            os.chmod(directory, NEW_DIR_MODE)
        except OSError as exc:
            raise DaemonConfigError("cannot create directory %s: %s" % (directory, exc.strerror)) from None


def install(module: AnsibleModule, path: str, text: str, use_dockerd: bool, running) -> str | None:
    """Validate the candidate with dockerd, back up, then atomically replace ``path``."""
    if module.check_mode:
        directory = module.tmpdir
    else:
        ensure_directory(path)
        directory = os.path.dirname(path) or "."
    candidate = write_candidate(directory, text)
    try:
        if use_dockerd:
            run_dockerd_validate(module, candidate, running)
        if module.check_mode:
            return None
        backup_file = module.backup_local(path) if module.params["backup"] and os.path.exists(path) else None
        module.atomic_move(candidate, path)
        return backup_file
    finally:
        if os.path.exists(candidate):
            os.unlink(candidate)


def plan(module: AnsibleModule, current_text: str, docker_version: str | None):
    """Parse, apply and check; returns (current_config, ApplyResult, validations)."""
    params = module.params
    current_config = parse_document(current_text)
    check_wanted_entries(params, docker_version)
    result = apply_changes(current_config, params["registry_mirrors"], params["insecure_registries"],
                           params["settings"], params["state"], params["exclusive"])
    validations = ["mirror URLs"]
    if result.changed_keys:
        check_result(result.document, result.changed_keys, docker_version)
        if params["validate"]:
            validate_document(result.document)
            validations.append("schema (%s)" % ("jsonschema" if HAS_JSONSCHEMA else "built-in"))
    return current_config, result, validations


def build_diff(path: str, before: dict, after: dict, indent, existed: bool) -> dict[str, str]:
    indent = indent if indent is not None else 2
    return {
        "before": render_document(before, indent) if existed else "",
        "after": render_document(after, indent),
        "before_header": path if existed else "%s (absent)" % path,
        "after_header": path,
    }


def file_args_for(module: AnsibleModule, path: str, created: bool) -> dict[str, t.Any]:
    file_args = module.load_file_common_arguments(module.params, path=path)
    if created and file_args.get("mode") is None:
        file_args["mode"] = NEW_FILE_MODE
    return file_args


def build_output(path: str, result, changed: bool, created: bool, docker_version: str | None) -> dict[str, t.Any]:
    return {
        "changed": changed,
        "path": path,
        "config": result.document,
        "registry_mirrors": result.document.get(MIRRORS_KEY, []),
        "insecure_registries": result.document.get(INSECURE_KEY, []),
        "changed_keys": result.changed_keys,
        "reload_sufficient": reload_sufficient(result.changed_keys),
        "mirrors_cleared": MIRRORS_KEY in result.cleared_keys,
        "insecure_registries_cleared": INSECURE_KEY in result.cleared_keys,
        "created": created,
        "docker_version": docker_version,
    }


def probe_daemon(module: AnsibleModule, dockerd: str | None, docker: str | None):
    """(DockerInfo, docker_version); DaemonConfigError when O(require_daemon) is not met."""
    info = host.docker_info(module.run_command, docker, module.get_bin_path("timeout"))
    if module.params["require_daemon"] and not info.answered:
        if not docker:
            raise DaemonConfigError("Docker is not installed (no docker command)")
        raise DaemonConfigError("dockerd is not answering: %s" % info.error)
    return info, info.version or host.docker_version(module.run_command, dockerd, docker)


def daemon_output(info, previous_content: str | None) -> dict[str, t.Any]:
    return {
        "live_mirrors": info.mirrors,
        "daemon_running": info.answered,
        "service_manager": host.service_manager(),
        "previous_content": previous_content,
    }


def run_module(module: AnsibleModule) -> dict[str, t.Any]:
    params = module.params
    path = params["path"]
    dockerd, docker = module.get_bin_path("dockerd"), module.get_bin_path("docker")
    info, docker_version = probe_daemon(module, dockerd, docker)
    existed, current_text = read_current(path)
    running = host.running_dockerd_args()
    current_config, result, validations = plan(module, current_text, docker_version)
    check_flag_conflicts(params, result.document, running)
    changed = bool(result.changed_keys)
    indent = detect_indent(current_text) if existed else 2
    backup_file = None
    if changed:
        use_dockerd = bool(params["validate"] and dockerd
                           and version_at_least(docker_version, DOCKERD_VALIDATE_MIN_VERSION))
        if use_dockerd:
            validations.append("dockerd --validate")
        backup_file = install(module, path, render_document(result.document, indent), use_dockerd, running)
    created = changed and not existed
    if os.path.exists(path):
        changed = module.set_fs_attributes_if_different(file_args_for(module, path, created), changed)
    output = build_output(path, result, changed, created, docker_version)
    output["validation"] = validations
    output.update(daemon_output(info, current_text if changed and existed else None))
    if backup_file:
        output["backup_file"] = backup_file
    if module._diff:
        output["diff"] = build_diff(path, current_config, result.document, indent, existed)
    return output


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/etc/docker/daemon.json"),
            registry_mirrors=dict(type="list", elements="str"),
            insecure_registries=dict(type="list", elements="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            exclusive=dict(type="bool", default=False),
            settings=dict(type="dict"),
            backup=dict(type="bool", default=False),
            validate=dict(type="bool", default=True),
            require_daemon=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
        add_file_common_args=True,
    )
    path = module.params["path"]
    try:
        module.exit_json(**run_module(module))
    except DaemonConfigError as exc:
        module.fail_json(msg="%s: %s — the file was left unchanged" % (path, exc.message), path=path)
    except OSError as exc:
        module.fail_json(msg="%s: %s — the file was left unchanged" % (path, to_native(exc)), path=path)


if __name__ == "__main__":
    main()
