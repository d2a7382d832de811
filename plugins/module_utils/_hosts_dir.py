# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A hosts directory: one hosts.toml per registry (containerd's format) and the certificate files it names.

containerd reads ``<hosts dir>/<registry>/hosts.toml`` (``config_path``), and so does Docker with the containerd
image store (``/etc/docker/certs.d``, moby daemon/hosts.go). Both modules that write one (containerd_hosts,
daemon_json) plan it here: which files to write, replace or remove for each registry, as ``_files.Write``
changes for the managed-file protocol. A file is ours when it starts with the owner's marker line; a file of
another owner is never replaced (unless forced) nor removed.

Reads files (``_files.read_text``), writes none.
"""

from __future__ import annotations

import os
import stat
import typing as t

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd as ctd
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _files
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _mirror_spec as spec
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError, option
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._files import FileError, Write

__all__ = [
    "HOSTS_FILE", "SECRET_MODE", "Owner", "RegistryPlan", "text_write", "removals", "wanted_files", "cert_write",
    "render_checked", "plan_present", "plan_absent", "plan_leftovers", "change_diff",
]

HOSTS_FILE = "hosts.toml"
SECRET_MODE = 0o600


class Owner(t.NamedTuple):
    """The module that writes a hosts directory: its name (for messages) and the first line of its files."""
    name: str
    marker: str


class RegistryPlan(t.NamedTuple):
    """One registry's files: its hosts.toml (``path``), the changes (certificate files, hosts.toml, removals, in
    the order they are made) and what the result shows of its mirrors."""
    registry: str
    path: str
    writes: list[Write]
    mirrors: list[dict[str, t.Any]]


def text_write(path: str, current: str | None, text: str, mode: int | None) -> Write | None:
    """The change that gives ``path`` the ``text`` (and ``mode``, when set: a file holding a secret); None when it
    has both already."""
    if current != text:
        return Write(path, current, text, mode=mode)
    if mode is not None and stat.S_IMODE(os.stat(path).st_mode) != mode:
        return Write(path, current, text, mode=mode)
    return None


def removals(paths: t.Iterable[str]) -> list[Write]:
    """Remove the certificate files we wrote (the directory goes when it is then empty)."""
    changes = []
    for path in sorted(paths):
        current = _files.read_text(path)
        if current is not None:
            changes.append(Write(path, current, None, prune=True,
                                 mode=SECRET_MODE if path.endswith(ctd.KEY_SUFFIX) else None))
    return changes


def wanted_files(directory: str, registry: spec.RegistrySpec) -> dict[str, ctd.CertFile]:
    """The certificate files of the registry's mirrors; mirrors on one host:port share them, so must agree."""
    files: dict[str, ctd.CertFile] = {}
    for mirror in registry.mirrors:
        for cert in ctd.mirror_files(directory, mirror):
            if cert.path in files and files[cert.path].text != cert.text:
                raise FileError(cert.path, "registry %s: two mirrors on %s give different certificates or keys; "
                                           "one host:port has one set of files: give them the same"
                                % (registry.registry, ctd.cert_base(mirror.url)))
            files[cert.path] = cert
    return files


def cert_write(cert: ctd.CertFile, owned: set[str], force: bool) -> Write | None:
    current = _files.read_text(cert.path)
    if current is not None and current != cert.text and cert.path not in owned and not force:
        raise FileError(cert.path, "not written by this module (our hosts.toml does not name it): set %s to "
                                   "replace it" % option("force", "true"))
    return text_write(cert.path, current, cert.text, SECRET_MODE if cert.secret else None)


def render_checked(target: str, server: str | None, hosts: list[ctd.Host], owner: Owner) -> str:
    try:
        text = ctd.render_hosts_toml(server, hosts, marker=owner.marker)
        ctd.check_hosts_toml(text, ctd.expected_hosts_data(server, hosts))
    except ConfigError as exc:
        raise FileError(target, exc.message) from None
    return text


def _hosts_in(target: str, text: str) -> list[ctd.Host]:
    try:
        return ctd.hosts_in_file(text)
    except ConfigError as exc:
        raise FileError(target, exc.message) from None


def plan_present(registry: spec.RegistrySpec, target: str, server: str | None, exclusive: bool, force: bool,
                 owner: Owner, legacy_owned: t.Collection[str] = ()) -> RegistryPlan:
    """hosts.toml and the certificate files for ``registry``; without ``exclusive``, the mirrors our own file
    lists that are not wanted stay (with their files). Files we wrote that the new file no longer names go.
    ``legacy_owned``: files we wrote that another file of ours named (containerd 1.4's tables: the upgrade)."""
    current = _files.read_text(target)
    ours = current is not None and ctd.is_ours(current, owner.marker)
    if current is not None and not ours and not force:
        raise FileError(target, "not written by this module (no marker comment): set %s to replace it "
                                "(its content is lost)" % option("force", "true"))
    directory = os.path.dirname(target)
    before = _hosts_in(target, current) if ours else []
    hosts = ctd.merge_mirrors([ctd.host_from_mirror(directory, mirror) for mirror in registry.mirrors], before,
                              exclusive)
    text = render_checked(target, server, hosts, owner)
    owned = ctd.referenced_files(before, directory)
    writes = [cert_write(cert, owned | set(legacy_owned), force) for cert in wanted_files(directory, registry).values()]
    writes.append(text_write(target, current, text, SECRET_MODE if ctd.has_header(hosts) else None))
    writes += removals(owned - ctd.referenced_files(hosts, directory))
    return RegistryPlan(registry.registry, target, [item for item in writes if item],
                        [spec.public_mirror(mirror) for mirror in registry.mirrors])


def plan_absent(registry: spec.RegistrySpec, target: str, exclusive: bool, owner: Owner,
                warn: t.Callable[[str], None]) -> RegistryPlan:
    """daemon_json's absent: without ``exclusive``, only the given mirrors go (the file with its last one, keeping
    the server and capabilities it was written with); with ``exclusive``, or when no mirror is given, the file
    goes. The certificate files we wrote go with the mirrors that named them. A file not ours stays."""
    plan = RegistryPlan(registry.registry, target, [], [])
    current = _files.read_text(target)
    if current is None:
        return plan
    if not ctd.is_ours(current, owner.marker):
        warn("%s was not written by %s: left in place" % (target, owner.name))
        return plan
    directory = os.path.dirname(target)
    before = _hosts_in(target, current)
    unwanted = {mirror.url for mirror in registry.mirrors}
    kept = [] if exclusive or not unwanted else [host for host in before if host.url not in unwanted]
    try:
        server = ctd.server_in_file(current)
    except ConfigError as exc:
        raise FileError(target, exc.message) from None
    owned = ctd.referenced_files(before, directory)
    if not kept:
        return plan._replace(writes=[Write(target, current, None, prune=True)] + removals(owned))
    change = text_write(target, current, render_checked(target, server, kept, owner),
                        SECRET_MODE if ctd.has_header(kept) else None)
    stale = removals(owned - ctd.referenced_files(kept, directory)) if change else []
    return plan._replace(writes=[change] + stale if change else [])


def plan_leftovers(hosts_dir: str, wanted: t.Collection[str], owner: Owner) -> list[RegistryPlan]:
    """Exclusive ``registries``: the registries whose hosts.toml we wrote (marker) and that are no longer listed
    go, with the certificate files that file names; nothing else (a symbolic link is never followed)."""
    plans = []
    for name in sorted(os.listdir(hosts_dir)) if os.path.isdir(hosts_dir) else ():
        directory = os.path.join(hosts_dir, name)
        target = os.path.join(directory, HOSTS_FILE)
        if name in wanted or os.path.islink(directory) or os.path.islink(target) or not os.path.isfile(target):
            continue
        current = _files.read_text(target)
        if current is None or not ctd.is_ours(current, owner.marker):
            continue
        owned = ctd.referenced_files(_hosts_in(target, current), directory)
        plans.append(RegistryPlan(name, target, [Write(target, current, None, prune=True)] + removals(owned), []))
    return plans


def change_diff(change: Write) -> dict[str, str]:
    """The diff of one change; a key file's text is never shown."""
    if change.path.endswith(ctd.KEY_SUFFIX):
        hidden = "(private key, not shown)\n"
        return _files.diff_entry(change.path, hidden if change.before is not None else None,
                                 hidden if change.after is not None else None)
    return _files.diff_entry(change.path, change.before, change.after)
