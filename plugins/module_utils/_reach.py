# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How each runtime reaches the mirrors of a registry, and whether they answer: what containerd (or Docker's
containerd image store) reads in a hosts directory, what dockerd reads in daemon.json and certs.d, what
containers/image reads in registries.conf and certs.d; each mirror probed with that runtime's trust (_probe).

One reader for mirrors_info (what every runtime uses now) and daemon_json (whether Docker's mirrors answer, in
the same run that writes them)."""

from __future__ import annotations

import concurrent.futures
import ipaddress
import os
import socket
import time
import typing as t
import urllib.parse

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd_legacy as legacy
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _daemon as daemon
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _probe
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _runtimes as rt
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._containerd import Host as MirrorHost
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError, mask_url

HOSTS_FILE = "hosts.toml"
# Where Docker reads a mirror's CA and client certificate (<host:port>/), and, with the containerd image store, a
# registry's hosts.toml (<registry>/hosts.toml).
DOCKER_CERTS_DIR = "/etc/docker/certs.d"
# Where containers/image (Podman, Buildah, Skopeo, CRI-O) looks for <host:port>/, the first that exists.
CONTAINERS_CERTS_DIRS = ("/etc/containers/certs.d", "/etc/docker/certs.d")
CLASSIC_DOCKER = "classic Docker mirrors docker.io only"


class Check(t.NamedTuple):
    """What to report of every registry: its names, whether to probe the mirrors, an image to resolve."""
    names: list[str]
    probe: bool = False
    timeout: float = _probe.DEFAULT_TIMEOUT
    image: str | None = None
    pool: t.Any = None  # the executor the probes run in (mirrors_info's); None: one after the other
    budget: float | None = None  # seconds a probe may wait for its turn (the module's timeout)
    deadline: float | None = None  # time.monotonic() after which this probe does not start


Reach = t.Tuple[t.Dict[str, t.Any], t.Optional[_probe.Target]]  # (what a result shows of a mirror, its probe)


def registry_entry(mirrors: list[str] | None, source: str | None, shown: list[dict[str, t.Any]],
                   pulls: list[Reach], check: Check, registry: str, namespace: str | None,
                   **extra: t.Any) -> dict[str, t.Any]:
    """One registry of one runtime: its mirrors, the file they come from, how each mirror is reached, and with
    O(probe) what each answered (``pulls``: the mirrors a pull tries, in order)."""
    result = dict(mirrors=None if mirrors is None else [mask_url(mirror) for mirror in mirrors], source=source,
                  hosts=shown, probes=None, image=None, error=None, unsupported=None)
    result.update(extra)
    timed = check._replace(deadline=time.monotonic() + check.budget) if check.budget else check
    if check.probe and mirrors is not None:
        result["probes"] = [later(check, probe_mirror, view, target, timed) for view, target in pulls]
    reference = _probe.split_image(check.image, registry) if check.image and mirrors is not None else None
    if reference:
        result["image"] = later(check, resolve_image, pulls, timed, reference, namespace)
    return result


def later(check: Check, function: t.Callable[..., t.Any], *args: t.Any) -> t.Any:
    """``function(*args)`` in the probes' executor (a future that ``settle`` replaces by its answer), or now."""
    return check.pool.submit(function, *args) if check.pool is not None else function(*args)


def settle(value: t.Any) -> t.Any:
    """``value`` with every probe's future replaced by its answer."""
    if isinstance(value, concurrent.futures.Future):
        return value.result()
    if isinstance(value, dict):
        return {key: settle(item) for key, item in value.items()}
    if isinstance(value, list):
        return [settle(item) for item in value]
    return value


def unasked(view: dict[str, t.Any], target: _probe.Target | None, check: Check) -> dict[str, t.Any] | None:
    """The answer of a mirror not asked: its certificate files cannot be used (it fails as the pull would), or
    the module's time ran out; None: ask it."""
    error = view.get("error") if target is not None else view.get("error") or "no way to reach it"
    if error is None and check.deadline is not None and time.monotonic() >= check.deadline:
        error = "not asked: no probe worker was free within the module's timeout (too many mirrors not answering)"
    return None if error is None else {"mirror": view["url"], "ok": False, "status": None, "error": error,
                                       "note": None}


def probe_mirror(view: dict[str, t.Any], target: _probe.Target | None, check: Check) -> dict[str, t.Any]:
    """The probe of one mirror, within the module's time."""
    return unasked(view, target, check) or dict(_probe.probe(target, _time_left(check)), mirror=view["url"])


def _time_left(check: Check) -> float:
    if check.deadline is None:
        return check.timeout
    return max(0.1, min(check.timeout, check.deadline - time.monotonic()))


def resolve_image(pulls: list[Reach], check: Check, reference: tuple[str, str],
                  namespace: str | None) -> dict[str, t.Any]:
    """HEAD the image's manifest through each mirror in order until one has it (as a pull tries them)."""
    tried = []
    for view, target in pulls:
        skipped = unasked(view, target, check)
        if skipped:
            tried.append(skipped)
            continue
        answer = dict(_probe.resolve_manifest(target, reference[0], reference[1], namespace, _time_left(check)),
                      mirror=view["url"])
        tried.append(answer)
        if answer["ok"]:
            return {"name": check.image, "mirror": answer["mirror"], "ok": True, "tried": tried}
    return {"name": check.image, "mirror": None, "ok": False, "tried": tried}


def hosts_registries(hosts_dir: str, check: Check) -> dict[str, dict[str, t.Any]]:
    return {name: hosts_registry(hosts_dir, name, check) for name in check.names}


def hosts_registry(hosts_dir: str, registry: str, check: Check) -> dict[str, t.Any]:
    """The hosts.toml containerd (or Docker's containerd image store) reads for ``registry`` under ``hosts_dir``:
    its own directory, else ``_default``; every [host] table shown, the pull ones probed."""
    for name in rt.hosts_file_candidates(registry):
        path = os.path.join(hosts_dir, name, HOSTS_FILE)
        if not os.path.isfile(path):
            continue
        text = daemon.read_text(path)
        try:
            if text is None:
                raise ConfigError("%s: cannot be read" % path)
            hosts = rt.containerd_hosts(text, path)
        except ConfigError as exc:
            return registry_entry(None, path, [], [], check, registry, registry, error=exc.message)
        pulls = [(rt.host_view(host), rt.host_target(host)) for host in hosts if "pull" in host.capabilities]
        return registry_entry([host.url for host in hosts if "pull" in host.capabilities], path,
                              [rt.host_view(host) for host in hosts], pulls, check, registry, registry)
    return registry_entry([], None, [], [], check, registry, registry)


def legacy_registries(data: dict[str, t.Any], check: Check) -> dict[str, dict[str, t.Any]]:
    """containerd 1.4 (no hosts.toml): each registry's mirrors are its CRI plugin's ``registry.mirrors`` in the
    running configuration (``data``: its config dump), each reached with its ``registry.configs`` TLS."""
    registries = {}
    for name in check.names:
        mirrors = legacy.dump_mirrors(data, name)
        hosts = [legacy.dump_host(data, url) for url in mirrors]
        pulls = [(rt.host_view(host), rt.host_target(host)) for host in hosts]
        registries[name] = registry_entry(mirrors, "config.toml (registry.mirrors)", [view for view, dummy in pulls],
                                          pulls, check, name, name)
    return registries


def certs_dir_files(directory: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...], str | None]:
    try:
        names = [name for name in os.listdir(directory) if os.path.isfile(os.path.join(directory, name))]
    except OSError:
        names = []
    return rt.certs_from_names(directory, names)


def host_addresses(host_port: str, resolve: bool) -> list[str]:
    """The IP addresses of a mirror's host: a literal one as it is, a name resolved only when probing (dockerd
    resolves it to decide whether the mirror is an insecure registry)."""
    host = urllib.parse.urlsplit("//" + host_port).hostname or ""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    if not resolve:
        return []
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except OSError:
        return []


def docker_mirror(url: str, info: dict[str, t.Any] | None, check: Check, certs_dir: str | None = None) -> Reach:
    """How dockerd reaches a docker.io mirror: plain HTTP for http://; for https:// its certs.d/<host:port>/
    files when the mirror is a secure registry, no verification when it is an insecure one (a loopback, by
    default)."""
    host_port = rt.url_host_port(url)
    if not url.startswith("https://"):
        return rt.host_view(MirrorHost(url)), rt.host_target(MirrorHost(url))
    registry_config = (info or {}).get("RegistryConfig")
    if not rt.docker_secure(host_port, registry_config, host_addresses(host_port, check.probe)):
        host = MirrorHost(url, skip_verify=True)
        return rt.host_view(host), rt.host_target(host)
    directory = os.path.join(certs_dir or DOCKER_CERTS_DIR, host_port)
    cas, pairs, error = certs_dir_files(directory)
    host = MirrorHost(url, ca=cas, client=pairs)
    return rt.host_view(host, directory, error), rt.host_target(host)._replace(certs_dir_cas=True)


def docker_registries(status: daemon.DaemonStatus, check: Check, hub_mirrors: list[str] | None = None,
                      certs_dir: str | None = None) -> dict[str, dict[str, t.Any]]:
    """Every registry as the live dockerd pulls it: docker.io through its daemon.json mirrors (``hub_mirrors``:
    those about to be live instead, as daemon_json wrote them); another registry through
    <certs_dir>/<registry>/hosts.toml with the containerd image store, else not at all."""
    store = status.image_store == "containerd"
    certs_dir = certs_dir or DOCKER_CERTS_DIR
    registries = {}
    for name in check.names:
        if name == "docker.io":
            live = status.live_mirrors if hub_mirrors is None else hub_mirrors
            mirrors = [rt.url_form(mirror) for mirror in live or []]
            pulls = [docker_mirror(mirror, status.info, check, certs_dir) for mirror in mirrors]
            registries[name] = registry_entry(mirrors, "docker info", [view for view, dummy in pulls], pulls, check,
                                              name, name if store else None)
        elif store:
            registries[name] = hosts_registry(certs_dir, name, check)
        else:
            registries[name] = registry_entry(None, None, [], [], check, name, None, unsupported=CLASSIC_DOCKER)
    return registries


def containers_certs_dir(host_port: str) -> str:
    """The certs.d directory containers/image reads for a mirror: the first of CONTAINERS_CERTS_DIRS that has
    ``<host:port>/``, else the first one's."""
    candidates = [os.path.join(root, host_port) for root in CONTAINERS_CERTS_DIRS]
    return next((path for path in candidates if os.path.isdir(path)), candidates[0])


def podman_mirror(url: str, insecure: bool) -> Reach:
    """How containers/image reaches a mirror: https://<host:port>/v2/ (a location's path prefixes the repository)
    with the certs.d files; an insecure mirror without verification, then over plain HTTP."""
    host_port = rt.url_host_port(url)
    directory = containers_certs_dir(host_port)
    cas, pairs, error = certs_dir_files(directory)
    host = MirrorHost(url, skip_verify=insecure, ca=cas, client=pairs)
    target = rt.host_target(host, http_fallback=insecure)._replace(url="https://" + host_port, certs_dir_cas=True)
    return rt.host_view(host, directory, error), target


def podman_registry(registries: dict[str, t.Any], where: dict[str, str], registry: str,
                    check: Check) -> dict[str, t.Any]:
    """``registry``'s [[registry]] of the merged registries (podman info, or the files)."""
    locations = rt.podman_mirror_locations(registries, registry)
    pulls = [podman_mirror(url, insecure) for url, insecure in locations]
    source = where.get(registry) or ("podman info" if locations else None)
    return registry_entry([url for url, dummy in locations], source, [view for view, dummy in pulls], pulls, check,
                          registry, None)
