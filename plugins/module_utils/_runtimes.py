# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the other container runtimes say: ``podman info``, ``containerd config dump``, hosts.toml as containerd
reads it, ``ctr tasks ls``, and a process's start time.

Pure functions on strings (no I/O, no AnsibleModule), standard library only (TOML read by ``_toml``: Python 3.8+).
Mirrors are returned in the daemon.json form (``https://host[:port]``, ``http://`` for a plain-http or
``insecure`` mirror, no trailing slash), so one list can be compared with what dockerd reports.
"""

from __future__ import annotations

import ipaddress
import json
import posixpath
import re
import typing as t
import urllib.parse

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd as ctd
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd_legacy as legacy
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._daemon import first_line
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError, mask_url
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._probe import Target

__all__ = [
    "RUNTIMES", "PODMAN_FAMILY", "PodmanInfo", "Task", "parse_podman_info", "podman_mirrors", "url_form",
    "parse_namespaces", "parse_tasks", "running_tasks", "interrupted_tasks", "hosts_toml_mirrors",
    "hosts_file_candidates", "first_line", "error_line", "CRI_PLUGINS", "DumpView", "parse_dump",
    "podman_problem", "CONTAINERD_ALL_CAPABILITIES", "containerd_hosts", "host_view", "host_target",
    "podman_mirror_locations", "certs_from_names", "docker_secure", "url_host_port",
]

RUNTIMES = ("docker", "containerd", "podman")
# Any of these reads containers-registries.conf; podman is the one that can show the merged result.
PODMAN_FAMILY = ("podman", "buildah", "skopeo", "crio")
RUNNING = "RUNNING"
# The plugin ids whose absence means Kubernetes' CRI does not read the hosts directory: containerd 1.x's single
# CRI plugin (short and full id), containerd 2.x's image service (which holds the registry config_path).
CRI_PLUGINS = ("cri", "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images")


_LOGFMT_MSG = re.compile(r'\bmsg="((?:[^"\\]|\\.)*)"')
_LOGFMT_LEVEL = re.compile(r"\blevel=(error|fatal|panic)\b")


def error_line(text: str | None) -> str:
    """The line of a Go program's stderr that says what went wrong: its first error (logrus ``level=error``,
    ``fatal``) line, else its first line; logfmt reduced to the ``msg`` (no timestamp)."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    line = next((item for item in lines if _LOGFMT_LEVEL.search(item)), lines[0] if lines else "")
    match = _LOGFMT_MSG.search(line)
    if not match or not line.startswith(("time=", "level=")):
        return line
    try:
        return json.loads('"%s"' % match.group(1))
    except ValueError:
        return match.group(1)


def url_form(url: str) -> str:
    """A mirror URL without the trailing slash dockerd adds (``https://m.example/`` -> ``https://m.example``)."""
    return url[:-1] if url.endswith("/") and url.count("/") == 3 else url


# --------------------------------------------------------------------------- podman info


class PodmanInfo(t.NamedTuple):
    answered: bool
    version: str | None
    registries: dict[str, t.Any] | None
    error: str | None


def _noise(line: str) -> bool:
    """podman's warnings on stderr that say nothing about the answer (cgroups v1 on every call)."""
    return "level=warning" in line


def parse_podman_info(rc: int, stdout: str, stderr: str) -> PodmanInfo:
    """Interpret ``podman info --format json``: its version and ``registries`` (prefix -> table)."""
    reason = next((line.strip() for line in (stderr or "").splitlines() if line.strip() and not _noise(line)), "")
    if rc != 0:
        return PodmanInfo(False, None, None, reason or first_line(stdout) or "podman info exited with status %d" % rc)
    try:
        info = json.loads(stdout)
    except ValueError as exc:
        return PodmanInfo(False, None, None, "podman info did not print JSON (%s)" % exc)
    if not isinstance(info, dict):
        return PodmanInfo(False, None, None, "podman info did not print a JSON object")
    version = info.get("version") if isinstance(info.get("version"), dict) else {}
    registries = info.get("registries")
    return PodmanInfo(True, version.get("Version") or None, registries if isinstance(registries, dict) else {}, None)


def _location_url(location: t.Any, insecure: t.Any) -> str | None:
    if not isinstance(location, str) or not location:
        return None
    return url_form(("http://" if insecure is True else "https://") + location)


def podman_mirrors(registries: dict[str, t.Any], registry: str) -> list[str]:
    """The mirrors of the ``[[registry]]`` whose prefix is ``registry``, as URLs; [] when there is none.

    ``podman info`` lists tables by prefix (``search`` holds the unqualified-search registries, a list)."""
    entry = registries.get(registry)
    if not isinstance(entry, dict):
        entry = next((value for value in registries.values()
                      if isinstance(value, dict) and value.get("Prefix") == registry), None)
    if not isinstance(entry, dict) or entry.get("Blocked") is True:
        return []
    mirrors = entry.get("Mirrors") if isinstance(entry.get("Mirrors"), list) else []
    urls = [_location_url(item.get("Location"), item.get("Insecure")) for item in mirrors if isinstance(item, dict)]
    return [url for url in urls if url]


def _prefix_mirrors(registries: dict[str, t.Any]) -> dict[str, tuple[list[str], bool]]:
    """prefix -> (mirror URLs, blocked) of every ``[[registry]]`` table in ``podman info``'s form."""
    tables = {}
    for key, entry in registries.items():
        if isinstance(entry, dict):
            prefix = entry.get("Prefix") if isinstance(entry.get("Prefix"), str) and entry.get("Prefix") else key
            tables[prefix] = (podman_mirrors({prefix: entry}, prefix), entry.get("Blocked") is True)
    return tables


def podman_problem(registries: dict[str, t.Any], registry: str, files: dict[str, str] | None = None) -> str | None:
    """Why some images of ``registry`` do not use its mirrors: its own table blocks it (an operator's block), or a
    ``[[registry]]`` with a longer prefix (``docker.io/library``) wins for the images it matches, with no mirrors
    or other ones. Its mirrors match when they are ours with the same path added (``docker.io/library`` ->
    ``MIRROR/library``). ``files``: prefix -> the file that defines it, named in the message when known."""
    wanted = podman_mirrors(registries, registry)
    reasons = []
    for prefix, (mirrors, blocked) in sorted(_prefix_mirrors(registries).items()):
        where = "[[registry]] prefix %s%s" % (prefix, " in %s" % files[prefix] if prefix in (files or {}) else "")
        if blocked and prefix == registry:
            reasons.append("pulls from %s are blocked (%s has blocked = true)" % (registry, where))
        if blocked or not prefix.startswith(registry + "/"):
            continue
        rest = prefix[len(registry):]
        if mirrors == [mirror + rest for mirror in wanted]:
            continue
        if mirrors:
            reasons.append("images under %s use other mirrors (%s) (%s)" % (prefix, ", ".join(mirrors), where))
        else:
            reasons.append("images under %s bypass the mirrors (%s)" % (prefix, where))
    return "; ".join(reasons) or None


# --------------------------------------------------------------------------- ctr


class Task(t.NamedTuple):
    namespace: str
    id: str
    pid: int
    status: str

    @property
    def name(self) -> str:
        return "%s/%s" % (self.namespace, self.id)


def parse_namespaces(text: str) -> list[str]:
    """``ctr namespaces ls -q``: one name a line."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


_TASK_HEADER = re.compile(r"^TASK\s+PID\s+STATUS\s*$")


def parse_tasks(namespace: str, text: str) -> list[Task]:
    """``ctr -n NS tasks ls``: a ``TASK PID STATUS`` header, then one task a line."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if lines and _TASK_HEADER.match(lines[0].strip()):
        lines = lines[1:]
    tasks = []
    for line in lines:
        fields = line.split()
        if len(fields) != 3 or not fields[1].isdigit():
            raise ConfigError("cannot read ctr tasks ls output in namespace %s: %s"
                              % (namespace, json.dumps(line.strip())))
        tasks.append(Task(namespace, fields[0], int(fields[1]), fields[2].upper()))
    return tasks


def running_tasks(tasks: t.Iterable[Task]) -> dict[str, int]:
    """``namespace/id`` -> pid of every RUNNING task."""
    return {task.name: task.pid for task in tasks if task.status == RUNNING}


def interrupted_tasks(before: dict[str, int], after: t.Iterable[Task]) -> list[str]:
    """The tasks RUNNING before that are not RUNNING with the same pid now (a new pid is a new process)."""
    now = running_tasks(after)
    return sorted(name for name, pid in before.items() if now.get(name) != pid)


# --------------------------------------------------------------------------- containerd's configuration


class DumpView(t.NamedTuple):
    cri_enabled: bool
    dirs: list[str]
    legacy: dict[str, t.Any] | None = None  # containerd < 1.5: the dump, whose registry.mirrors its CRI reads


def parse_dump(text: str, release: ctd.Release | None = None) -> DumpView:
    """Whether the CRI plugin is enabled (``disabled_plugins`` does not name it, as in Docker CE's stock
    config.toml) and its hosts directories, from ``containerd config dump`` of containerd ``release`` (2.2.2 and
    later read their default directories where the dump shows an empty config_path); before 1.5 also the dump
    itself (its legacy registry.mirrors are what the CRI plugin reads)."""
    data = ctd.parse_toml(text, "the output of containerd config dump")
    disabled = data.get("disabled_plugins")
    enabled = not (isinstance(disabled, list) and any(name in CRI_PLUGINS for name in disabled))
    return DumpView(enabled, ctd.configured_dirs(data, ctd.config_version(data), release, dump=True),
                    data if legacy.uses_legacy_tables(release) else None)


def hosts_file_candidates(registry: str) -> list[str]:
    """Directory names containerd tries for ``registry`` under a hosts dir, in order (``_default`` last)."""
    return ctd.lookup_names(registry)


def _host_url(key: str) -> str:
    """A ``[host."..."]`` key as containerd reads it: no scheme means https."""
    return url_form(key if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", key) else "https://" + key)


def hosts_toml_mirrors(text: str, path: str) -> list[str]:
    """The hosts a pull tries before ``server``, in file order: every ``[host]`` table with ``pull`` among its
    capabilities (containerd's default capabilities are pull, resolve and push)."""
    data = ctd.parse_toml(text, path)
    hosts = data.get("host") if isinstance(data.get("host"), dict) else {}
    mirrors = []
    for key, table in hosts.items():
        capabilities = table.get("capabilities", ["pull", "resolve", "push"]) if isinstance(table, dict) else []
        if isinstance(capabilities, list) and "pull" in capabilities:
            mirrors.append(_host_url(key))
    return mirrors


# --------------------------------------------------------------------------- how each runtime reaches a mirror

# What containerd gives a [host] table without capabilities (remotes/docker/config/hosts.go).
CONTAINERD_ALL_CAPABILITIES = ("pull", "resolve", "push")


def _absolute(path: str, base: str) -> str:
    """containerd reads a relative ca/client path from the hosts.toml's directory (makeAbsPath)."""
    return path if posixpath.isabs(path) else posixpath.join(base, path)


def containerd_hosts(text: str, path: str) -> list[ctd.Host]:
    """The ``[host]`` tables of the hosts.toml at ``path`` in file order, URL in the daemon.json form and certificate
    paths absolute, as containerd reads them. The header values are in them: never return them."""
    base = posixpath.dirname(path)
    ctd.parse_toml(text, path)  # a message naming the file (hosts_in_file names none)
    return [host._replace(url=_host_url(host.url), capabilities=host.capabilities or CONTAINERD_ALL_CAPABILITIES,
                          ca=tuple(_absolute(item, base) for item in host.ca),
                          client=tuple((_absolute(cert, base), _absolute(key, base)) for cert, key in host.client))
            for host in ctd.hosts_in_file(text)]


def host_view(host: ctd.Host, certs_dir: str | None = None, error: str | None = None) -> dict[str, t.Any]:
    """What a result shows of how a runtime reaches one mirror: header names only, never their values."""
    return {"url": mask_url(host.url), "capabilities": list(host.capabilities) if host.capabilities else None,
            "ca": list(host.ca), "client": [list(pair) for pair in host.client], "skip_verify": host.skip_verify,
            "override_path": host.override_path, "headers": [name for name, dummy in host.header],
            "certs_dir": certs_dir, "error": error}


def host_target(host: ctd.Host, http_fallback: bool = False) -> Target:
    """The probe of ``host``: its CAs, its first client pair (the one Go's TLS offers first), skip_verify, headers."""
    return Target(host.url, host.ca, host.client[0] if host.client else None, host.skip_verify, host.header,
                  host.override_path, http_fallback)


def url_host_port(url: str) -> str:
    """``host[:port]`` of a URL: the name of a mirror's certificate directory."""
    return urllib.parse.urlsplit(url).netloc.rpartition("@")[2]


def podman_mirror_locations(registries: dict[str, t.Any], registry: str) -> list[tuple[str, bool]]:
    """(URL, insecure) of each mirror of ``registry``'s ``[[registry]]``, in order; the URL's path is the
    repository prefix containers/image puts before the image name (the registry API is at ``/v2/`` of the host)."""
    urls = podman_mirrors(registries, registry)
    return [(url, url.startswith("http://")) for url in urls]


CertFiles = t.Tuple[t.Tuple[str, ...], t.Tuple[t.Tuple[str, str], ...], t.Optional[str]]


def certs_from_names(directory: str, names: t.Iterable[str]) -> CertFiles:
    """(CA files, client pairs, error) of a certs.d directory as Docker's ReadCertsDirectory and containers/image's
    SetupCertificates read it: every ``*.crt`` a CA, every ``*.cert`` with the ``*.key`` of the same name a client
    pair; a certificate without its key (or a key without its certificate) fails every pull."""
    names = sorted(names)
    cas = tuple(posixpath.join(directory, name) for name in names if name.endswith(".crt"))
    pairs, error = [], None
    for name in names:
        stem, dot, suffix = name.rpartition(".")
        if suffix == "cert" and stem + ".key" not in names:
            error = error or "missing key %s.key for client certificate %s" % (stem, posixpath.join(directory, name))
        elif suffix == "key" and stem + ".cert" not in names:
            error = error or "missing client certificate %s.cert for key %s" % (stem, posixpath.join(directory, name))
        elif suffix == "cert":
            pairs.append((posixpath.join(directory, name), posixpath.join(directory, stem + ".key")))
    return cas, tuple(pairs), error


def docker_secure(host_port: str, registry_config: t.Any, addresses: t.Iterable[str]) -> bool:
    """Whether dockerd verifies TLS for ``host_port`` (moby's isSecureIndex): its ``IndexConfigs`` entry, else no
    address of the host in ``InsecureRegistryCIDRs`` (127.0.0.0/8 by default: a loopback mirror is not verified)."""
    config = registry_config if isinstance(registry_config, dict) else {}
    indexes = config.get("IndexConfigs") if isinstance(config.get("IndexConfigs"), dict) else {}
    index = indexes.get(host_port)
    if isinstance(index, dict) and isinstance(index.get("Secure"), bool):
        return index["Secure"]
    networks = []
    for cidr in config.get("InsecureRegistryCIDRs") or []:
        try:
            networks.append(ipaddress.ip_network(str(cidr), strict=False))
        except ValueError:
            continue
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            continue
        if any(ip.version == network.version and ip in network for network in networks):
            return False
    return True
