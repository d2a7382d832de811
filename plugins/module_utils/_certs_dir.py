# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A certs directory per mirror host: ``<certs dir>/<mirror host:port>/{ca.crt, client.cert, client.key}``.

containers-image (Podman, Buildah, Skopeo, CRI-O: containers-certs.d(5), ``/etc/containers/certs.d``) and classic
Docker (moby registry/registry.go ``loadTLSConfig``, ``/etc/docker/certs.d``) read the same layout: every ``*.crt``
a CA, every ``*.cert`` with the ``*.key`` of the same name a client certificate (one without the other fails every
pull from that host). Both read it at each pull.

Each file we write starts with its owner's marker line, then the PEM (Go's PEM reader skips text before a block),
so that only files we wrote are ever replaced or removed; an operator's identical file stays theirs. Pure planning
(the caller reads the current texts, ``read_cert``) and the diff of a change (a key's text never shown).
"""

from __future__ import annotations

import json
import typing as t

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _files
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError, mask_url
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._files import FileError

__all__ = [
    "CERT_FILES", "CertFile", "CertChange", "cert_files", "cert_paths", "plan_certs", "read_cert", "cert_diff",
    "as_writes",
]

CERT_FILES = (("ca", "ca.crt", 0o644), ("client_cert", "client.cert", 0o644), ("client_key", "client.key", 0o600))


class CertFile(t.NamedTuple):
    """A file of a mirror's certs.d directory: its text as written (the marker line, then the PEM), the mode of a
    new file, and whether it holds a secret (never shown)."""
    path: str
    text: str
    mode: int
    secret: bool


class CertChange(t.NamedTuple):
    """One certs.d file to write (``after``) or remove (``after`` None)."""
    path: str
    before: str | None
    after: str | None
    mode: int
    secret: bool


def cert_files(written: t.Sequence[tuple[str, str, t.Any]], certs_dir: str, marker: str) -> dict[str, CertFile]:
    """path -> the certs.d file each written (registry, mirror host:port, MirrorSpec)'s ``ca``, ``client_cert``
    and ``client_key`` give; two mirrors on one host:port with different contents for a file are refused (one
    directory per host)."""
    files: dict[str, CertFile] = {}
    given_by: dict[str, str] = {}
    for registry, host, mirror in written:
        for key, name, mode in CERT_FILES:
            pem = getattr(mirror, key)
            if pem is None:
                continue
            path = "%s/%s/%s" % (certs_dir.rstrip("/"), host, name)
            wanted = CertFile(path, "%s\n%s" % (marker, pem), mode, key == "client_key")
            where = "registry %s, mirror %s" % (registry, json.dumps(mask_url(mirror.url)))
            if path in files and files[path] != wanted:
                raise ConfigError("%s and %s give different %s for %s: the runtime reads one %s per mirror "
                                  "host:port; give both the same" % (given_by[path], where, key, host, path))
            files[path] = wanted
            given_by.setdefault(path, where)
    return files


def cert_paths(hosts: t.Iterable[str], certs_dir: str) -> list[str]:
    """Every certs.d file a module may write for ``hosts`` (the ones to read before planning)."""
    return ["%s/%s/%s" % (certs_dir.rstrip("/"), host, name) for host in sorted(hosts) for dummy, name, dummy in
            CERT_FILES]


def _cert_change(path: str, wanted: CertFile, before: str | None, marker: str) -> CertChange | None:
    pem = wanted.text[len(marker) + 1:]
    ours = before is not None and before.startswith(marker)
    if before == wanted.text or (before is not None and not ours and before == pem):
        return None  # as wanted already (an operator's identical file stays theirs)
    if before is not None and not ours:
        raise ConfigError("%s exists with other content and was not written by this module: it is left alone; "
                          "remove it or give the same %s" % (path, "client key" if wanted.secret else "certificate"))
    return CertChange(path, before, wanted.text, wanted.mode, wanted.secret)


def plan_certs(wanted: dict[str, CertFile], current: dict[str, str | None], kept_hosts: t.Container[str],
               marker: str) -> list[CertChange]:
    """The certs.d changes: each wanted file written unless it reads the same, an operator's different file refused
    (naming it); each other file of ``current`` that we wrote removed unless its host is in ``kept_hosts`` (a
    mirror this run does not set still uses it). Files we did not write are never changed."""
    changes = []
    for path in sorted(set(wanted) | set(current)):
        before = current.get(path)
        if path in wanted:
            change = _cert_change(path, wanted[path], before, marker)
        elif before is not None and before.startswith(marker) and path.rsplit("/", 2)[-2] not in kept_hosts:
            key = path.endswith("/client.key")
            change = CertChange(path, before, None, 0o600 if key else 0o644, key)
        else:
            change = None
        if change is not None:
            changes.append(change)
    return changes


def read_cert(path: str) -> str | None:
    """A certs.d file's text (bytes that are not UTF-8 kept, so that a foreign file compares as different)."""
    try:
        raw = _files.read_bytes(path)
    except _files.NotRegularFile:
        raise FileError(path, "not a regular file") from None
    except OSError as exc:
        raise FileError(path, "cannot read the file: %s" % (exc.strerror or to_native(exc))) from None
    return None if raw is None else _files.decode(raw, lossless=True)


def as_writes(changes: t.Sequence[CertChange]) -> list[_files.Write]:
    """The changes for the managed-file protocol (a directory left empty goes)."""
    return [_files.Write(change.path, change.before, change.after, True, change.mode) for change in changes]


def cert_diff(change: CertChange) -> dict[str, str]:
    """A certs.d file's diff; a client key's text is never shown."""
    if not change.secret:
        return _files.diff_entry(change.path, change.before, change.after)
    hidden = {text: "(client key, not shown)\n" if text is not None else None for text in (change.before, change.after)}
    entry = _files.diff_entry(change.path, hidden[change.before], hidden[change.after])
    if change.before is not None and change.after is not None:
        entry["after"] = "(client key, not shown: replaced)\n"
    return entry
