# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What Docker can do with the shared mirror model (``registries``), by image store. Pure functions.

Read from moby v28.5.2:
- classic image store (graph drivers): ``registry-mirrors`` of daemon.json serve docker.io only; dockerd appends
  ``/v2`` to a mirror's path; a mirror's CA and client certificate are read from ``/etc/docker/certs.d/<mirror
  host:port>/`` (registry/registry.go ``loadTLSConfig``: every ``*.crt`` a CA, every ``*.cert`` with its
  ``*.key``); a mirror is verified unless its host is in ``insecure-registries`` (plain http then too).
- containerd image store (``"features": {"containerd-snapshotter": true}``; ``docker info`` DriverStatus
  ``driver-type io.containerd.snapshotter.v1``): each pull resolves the registry's hosts through
  ``/etc/docker/certs.d/<registry>/hosts.toml`` (daemon/hosts.go ``RegistryHosts``, containerd's hosts.toml,
  any registry); daemon.json's mirrors and insecure-registries are merged in only while that file yields a single
  endpoint (no ``[host]`` mirror), so a docker.io hosts.toml with mirrors wins over ``registry-mirrors``.
"""

from __future__ import annotations

import typing as t

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _mirror_spec as spec
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import mask_url
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._registry import (
    go_url_parse,
    hostname_of,
    is_loopback_host,
)

__all__ = [
    "CONTAINERD", "CLASSIC", "SNAPSHOTTER_FEATURE", "DEFAULT_STORE_RELEASE",
    "Unsupported", "DockerPlan", "file_image_store", "image_store", "plan_docker",
    "snapshotter_switched",
]

CONTAINERD, CLASSIC = "containerd", "classic"
SNAPSHOTTER_FEATURE = "containerd-snapshotter"
# Docker 29 makes the containerd image store the default of a new installation.
DEFAULT_STORE_RELEASE = "29.0"

Unsupported = spec.Unsupported


class DockerPlan(t.NamedTuple):
    """What a ``registries`` run gives Docker: docker.io's mirror URLs for ``registry-mirrors``, the mirror hosts
    that ``insecure-registries`` needs, the registries written as hosts.toml (containerd image store), the
    docker.io mirrors whose CA or client certificate go to ``<certs dir>/<host:port>/`` (classic), and what this
    Docker cannot do."""
    hub_mirrors: list[str] | None  # None: docker.io not listed, registry-mirrors left alone
    insecure: list[str]
    hosts_toml: list[spec.RegistrySpec]
    host_certs: list[spec.MirrorSpec]
    unsupported: list[Unsupported]


def file_image_store(values: dict[str, t.Any]) -> str | None:
    """The image store daemon.json asks for (``features.containerd-snapshotter``), None when it does not say."""
    features = values.get("features")
    wanted = features.get(SNAPSHOTTER_FEATURE) if isinstance(features, dict) else None
    if not isinstance(wanted, bool):
        return None
    return CONTAINERD if wanted else CLASSIC


def image_store(values: dict[str, t.Any], live: str | None, version: str | None, at_least) -> str:
    """The image store Docker uses once it took daemon.json: the file's explicit choice (a change of it needs a
    restart), else what the running daemon reports, else the release's default."""
    return file_image_store(values) or live or (CONTAINERD if at_least(version, DEFAULT_STORE_RELEASE) else CLASSIC)


def snapshotter_switched(before: dict[str, t.Any], after: dict[str, t.Any]) -> bool:
    """dockerd picks its image store at start (daemon.go ``usesSnapshotter``): a reload does not switch it."""
    return file_image_store(before) != file_image_store(after)


def _gap(registry: str, mirror: spec.MirrorSpec | None, what: str, why: str) -> Unsupported:
    return Unsupported(registry, mask_url(mirror.url) if mirror is not None else None, what, why)


def classic_mirror_gaps(mirror: spec.MirrorSpec, allow_path: bool) -> tuple[bool, list[Unsupported]]:
    """(whether dockerd can use the docker.io mirror as a ``registry-mirrors`` entry, what is reported)."""
    hub, gaps, usable = spec.DOCKER_HUB, [], True
    path = go_url_parse(mirror.url).path.rstrip("/")
    if mirror.override_path:
        usable = False
        gaps.append(_gap(hub, mirror, "override_path", "dockerd appends /v2 to a registry-mirrors URL: the path "
                                                       "cannot be the API root; mirror left out"))
    elif path and not allow_path:
        usable = False
        why = "this Docker (before 25.0) refuses a path in a registry-mirrors URL; mirror left out"
        gaps.append(_gap(hub, mirror, "path %s" % path, why))
    if "pull" not in mirror.capabilities or "resolve" not in mirror.capabilities:
        usable = False
        gaps.append(_gap(hub, mirror, "capabilities: %s" % ", ".join(mirror.capabilities),
                         "dockerd resolves tags and pulls from each registry-mirrors entry alike: a mirror limited "
                         "to %s cannot be expressed; mirror left out" % ", ".join(mirror.capabilities)))
    elif "push" in mirror.capabilities:
        gaps.append(_gap(hub, mirror, "capabilities: push", "dockerd never pushes to a mirror (pushes go to the "
                                                            "registry); pulls use it"))
    if mirror.headers:
        gaps.append(_gap(hub, mirror, "headers: %s" % ", ".join(name for name, dummy in mirror.headers),
                         "registry-mirrors has no HTTP headers (credentials go to docker login); mirror written "
                         "without them"))
    return usable, gaps


def insecure_host(mirror: spec.MirrorSpec) -> str | None:
    """The host:port dockerd needs in insecure-registries: skip_verify, or plain http off the loopback."""
    parts = go_url_parse(mirror.url)
    if parts.scheme == "https" and mirror.skip_verify:
        return parts.host
    if parts.scheme == "http" and not is_loopback_host(hostname_of(parts.host)):
        return parts.host
    return None


def plan_docker(registries: t.Sequence[spec.RegistrySpec], store: str, allow_path: bool) -> DockerPlan:
    """Every registry as hosts.toml with the containerd image store; docker.io's mirrors also in registry-mirrors
    (what dockerd can express of them) so that ``docker info`` shows them and the classic store uses them; other
    registries reported on the classic store."""
    hub_mirrors: list[str] | None = None
    insecure: list[str] = []
    host_certs: list[spec.MirrorSpec] = []
    gaps: list[Unsupported] = []
    for registry in registries:
        if registry.registry != spec.DOCKER_HUB:
            if store == CLASSIC:
                gaps += [_gap(registry.registry, mirror, "registry", CLASSIC_WHY) for mirror in registry.mirrors]
            continue
        hub_mirrors = []
        for mirror in registry.mirrors:
            usable, mirror_gaps = classic_mirror_gaps(mirror, allow_path)
            gaps += mirror_gaps if store == CLASSIC else []
            if not usable:
                continue
            hub_mirrors.append(mirror.url)
            host = insecure_host(mirror)
            if host is not None and host not in insecure:
                insecure.append(host)
            if store == CLASSIC and (mirror.ca or mirror.client_cert):
                host_certs.append(mirror)
    hosts_toml = list(registries) if store == CONTAINERD else []
    return DockerPlan(hub_mirrors, insecure, hosts_toml, host_certs, gaps)


CLASSIC_WHY = ("Docker's classic image store mirrors docker.io only (registry-mirrors); with the containerd image "
               "store (daemon.json features: containerd-snapshotter: true) it reads /etc/docker/certs.d/<registry>/"
               "hosts.toml for any registry")
