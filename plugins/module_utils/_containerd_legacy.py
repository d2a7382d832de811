# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Registry mirrors for containerd 1.4, whose CRI plugin reads no hosts.toml: the legacy config.toml tables
``registry.mirrors."REGISTRY".endpoint`` and ``registry.configs."MIRROR HOST".tls``.

Pure functions on strings (no I/O). config.toml belongs to the operator: we add, replace and remove only our
own tables, each recognised by MARKER at the end of its header line, and prove by parsing both texts that the
file changed in those tables only. Read from containerd v1.4.13 (vendor/github.com/containerd/cri, pkg/config
``Registry``/``Mirror``/``TLSConfig`` and pkg/server/image_pull.go ``registryEndpoints``/``registryHosts``) and
measured on Debian 11 (containerd 1.4.13~ds1, CRI runtime.v1alpha2):
- the endpoints are tried in order, on any error (a dead mirror, a 404, a TLS failure), and the registry's own
  host is appended unless an endpoint already names it, so the upstream stays the last resort, as with
  hosts.toml's ``server``; a ``"*"`` entry applies to every registry without its own (hosts.toml's _default);
- an endpoint's URL path is its API root as written (no /v2 appended); without a path /v2 is used;
- TLS settings (ca_file, cert_file + key_file, insecure_skip_verify) are keyed by the endpoint's host[:port];
- every endpoint resolves and pulls (no capabilities); the only headers are ``registry.headers``, sent to every
  registry and upstream alike; the file is read at start only (a restart applies it, running tasks survive);
- ``config_path`` is an unknown key to 1.4 and ignored, but 1.5 and later refuse it beside ``mirrors``.
"""

from __future__ import annotations

import copy
import posixpath
import typing as t

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd as ctd
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError, mask_url
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._mirror_spec import (
    MirrorSpec,
    RegistrySpec,
    host_port,
)
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._registry import go_url_parse
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._toml import toml_string

__all__ = [
    "MARKER", "WILDCARD", "TLS_KEYS", "Table", "LegacyPlan", "uses_legacy_tables", "registry_key", "endpoint_for",
    "mirror_limits", "tls_values", "wanted_tables", "owned_tables", "render_table", "edit_tables",
    "plan_legacy", "remove_ours", "dump_mirrors",
]

MARKER = "# fleetops.docker_mirror"
# The mirrors key that applies to every registry without its own (containerd 1.4's registryEndpoints).
WILDCARD = "*"
# The TLSConfig key of each certificate file containerd_hosts writes next to hosts.toml (_containerd.mirror_files):
# the same files, so that an upgrade to a containerd that reads hosts.toml finds them where it looks.
TLS_KEYS = {ctd.CA_SUFFIX: "ca_file", ctd.CERT_SUFFIX: "cert_file", ctd.KEY_SUFFIX: "key_file"}


class Table(t.NamedTuple):
    """One table we own, its path below the CRI registry table: ("mirrors", REGISTRY) or ("configs", HOST, "tls")."""
    path: tuple[str, ...]
    values: dict[str, t.Any]


class LegacyPlan(t.NamedTuple):
    """``text``: the new config.toml (None: unchanged, no restart needed); ``files``: the certificate files our
    tables point at; ``stale_files``: files our previous tables pointed at that nothing names any more;
    ``owned_files``: every file our previous tables pointed at (ours to replace)."""
    text: str | None
    files: list[ctd.CertFile]
    stale_files: list[str]
    unsupported: list[dict[str, str]]
    notes: list[str]
    owned_files: t.Sequence[str] = ()


def uses_legacy_tables(release: ctd.Release | None) -> bool:
    """Does this containerd's CRI plugin read only the legacy tables (no config_path, 1.4 and older)?"""
    return release is not None and release < ctd.HOSTS_DIR_RELEASE


def registry_key(registry: str) -> str:
    return WILDCARD if registry == "_default" else registry


def endpoint_for(mirror: MirrorSpec) -> str | None:
    """The endpoint that makes 1.4 use the API root hosts.toml would (a path gets /v2 unless it ends with it or
    override_path says the path is the root); None when 1.4 cannot reach that root (override_path, no path)."""
    path = go_url_parse(mirror.url).path.rstrip("/")
    if mirror.override_path:
        return mirror.url if path else None
    if not path or path.endswith("/v2"):
        return mirror.url
    return mirror.url + "/v2"


def _entry(registry: str, mirror: MirrorSpec, what: str, why: str) -> dict[str, str]:
    return {"registry": registry, "mirror": mask_url(mirror.url), "what": what, "why": why}


def mirror_limits(registry: str, mirror: MirrorSpec) -> tuple[bool, list[dict[str, str]]]:
    """(written, unsupported): whether the mirror can be written for containerd 1.4, and what of it cannot."""
    if not {"pull", "resolve"} <= set(mirror.capabilities):
        return False, [_entry(registry, mirror, "capabilities", "containerd 1.4 resolves tags and pulls through "
                              "every mirror endpoint; a mirror without both pull and resolve is not written")]
    if endpoint_for(mirror) is None:
        return False, [_entry(registry, mirror, "override_path", "containerd 1.4 uses /v2 for a mirror URL without "
                              "a path, so an API root at / cannot be written; the mirror is not written")]
    found = []
    if mirror.headers:
        found.append(_entry(registry, mirror, "headers", "containerd 1.4 has no header per mirror (only "
                            "registry.headers, sent to every registry); the mirror is written without them"))
    tls_given = mirror.ca or mirror.client_cert or mirror.skip_verify
    if tls_given and go_url_parse(mirror.url).scheme != "https":
        found.append(_entry(registry, mirror, "tls", "the mirror is plain http: its ca, client certificate and "
                            "skip_verify are not written"))
    return True, found


def tls_values(mirror: MirrorSpec, registry_dir: str) -> tuple[dict[str, t.Any], list[ctd.CertFile]]:
    """The ``tls`` table of an https mirror ({} when it needs none) and the files it names, next to where
    hosts.toml would be (``registry_dir``: <hosts dir>/<registry>)."""
    if go_url_parse(mirror.url).scheme != "https":
        return {}, []
    files = ctd.mirror_files(registry_dir, mirror)
    values: dict[str, t.Any] = {TLS_KEYS[suffix]: cert.path for cert in files
                                for suffix in TLS_KEYS if cert.path.endswith(suffix)}
    if mirror.skip_verify:
        values["insecure_skip_verify"] = True
    return values, files


def wanted_tables(specs: t.Sequence[RegistrySpec], certs_dir: str
                  ) -> tuple[list[Table], list[ctd.CertFile], list[dict[str, str]]]:
    """Our tables for ``specs``: one mirrors table per registry with a writable mirror, one tls table per mirror
    host that needs one. A host given different TLS settings by two registries is refused: 1.4 keys them by
    host."""
    mirrors: list[Table] = []
    tls: list[Table] = []
    seen: dict[str, tuple[t.Any, ...]] = {}
    files: list[ctd.CertFile] = []
    unsupported: list[dict[str, str]] = []
    for spec in specs:
        endpoints = []
        for mirror in spec.mirrors:
            written, limits = mirror_limits(spec.registry, mirror)
            unsupported += limits
            if not written:
                continue
            endpoints.append(endpoint_for(mirror))
            host = host_port(mirror.url)
            settings = (mirror.ca, mirror.client_cert, mirror.client_key, mirror.skip_verify)
            if seen.setdefault(host, settings) != settings:
                raise ConfigError("mirror host %s is given different TLS settings (ca, client_cert, skip_verify) "
                                  "by two registries: containerd 1.4 keys them by host; give them alike" % host)
            values, mirror_files = tls_values(mirror, posixpath.join(certs_dir, spec.registry))
            if values and not any(table.path[1] == host for table in tls):
                tls.append(Table(("configs", host, "tls"), values))
                files += mirror_files
        if endpoints:
            mirrors.append(Table(("mirrors", registry_key(spec.registry)), {"endpoint": endpoints}))
    return mirrors + tls, files, unsupported


# --------------------------------------------------------------------------- config.toml


def _owned_shape(path: tuple[str, ...]) -> bool:
    return len(path) == 2 and path[0] == "mirrors" or len(path) == 3 and path[0] == "configs" and path[2] == "tls"


def owned_tables(lines: list[str], headers: list[ctd.Header], base: tuple[str, ...]) -> list[ctd.Header]:
    """The headers of the tables we wrote: below the CRI registry table ``base``, MARKER ending the line."""
    return [header for header in headers
            if header.path[:len(base)] == base and _owned_shape(header.path[len(base):])
            and lines[header.index].rstrip().endswith(MARKER)]


def _value(value: t.Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[%s]" % ", ".join(toml_string(item) for item in value)
    return toml_string(value)


def render_table(path: tuple[str, ...], values: dict[str, t.Any], indent: str, newline: str) -> list[str]:
    lines = ["%s[%s] %s%s" % (indent, ctd._dotted(path), MARKER, newline)]
    return lines + ["%s  %s = %s%s" % (indent, key, _value(value), newline) for key, value in values.items()]


def _remove_block(lines: list[str], headers: list[ctd.Header], header: ctd.Header) -> list[str]:
    """``lines`` without the table at ``header`` (to its last non-blank line); at the end of the file also the
    blank line we put before it."""
    start, end = header.index, ctd._block_end(lines, headers, header.index)
    if all(not line.strip() for line in lines[end:]) and start > 0 and not lines[start - 1].strip():
        start -= 1
    return lines[:start] + lines[end:]


def edit_tables(text: str, base: tuple[str, ...], tables: t.Sequence[Table]) -> str:
    """``text`` with our tables below ``base`` replaced by ``tables``, written after the CRI plugin's last table
    (in the file's indentation style), else at the end. Every other line is kept as it was."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    for header in reversed(owned_tables(lines, ctd.find_headers(lines), base)):
        lines = _remove_block(lines, ctd.find_headers(lines), header)
    headers = ctd.find_headers(lines)
    nested = ctd._is_indented(lines)
    block = [line for table in tables for line in render_table(
        base + table.path, table.values, "  " * len(base) if nested else "", newline)]
    family = [header for header in headers if header.path[:len(base) - 1] == base[:-1]]
    if not block:
        return "".join(lines)
    if family:
        at = ctd._block_end(lines, headers, family[-1].index)
        return "".join(lines[:at] + block + lines[at:])
    # Always a blank line first (even after one), so that removing our tables takes exactly it away again.
    return "".join(lines + ([newline] if lines else []) + block)


def _kept(current: list[Table], names: set[str], drop_all: bool, new_hosts: set[str]) -> list[Table]:
    """Our earlier tables that stay: mirrors of registries not named (unless ``drop_all``), and the tls tables of
    the hosts those still use (unless a new table replaces them)."""
    mirrors = [table for table in current
               if table.path[0] == "mirrors" and not drop_all and table.path[1] not in names]
    hosts = {go_url_parse(endpoint).host for table in mirrors for endpoint in _endpoints(table)}
    return mirrors + [table for table in current if table.path[0] == "configs" and table.path[1] in hosts
                      and table.path[1] not in new_hosts]


def _endpoints(table: Table) -> list[str]:
    endpoints = table.values.get("endpoint")
    return [item for item in endpoints if isinstance(item, str)] if isinstance(endpoints, list) else []


def _ordered(tables: list[Table], current: list[Table]) -> list[Table]:
    """Mirrors tables before tls tables; each table where the file has it (so that naming fewer registries than
    the file holds changes nothing), new ones after."""
    place = {table.path: index for index, table in enumerate(current)}
    return sorted(tables, key=lambda table: (table.path[0] != "mirrors", place.get(table.path, len(place))))


def _without(data: dict[str, t.Any], paths: t.Iterable[tuple[str, ...]]) -> dict[str, t.Any]:
    result = copy.deepcopy(data)
    for path in paths:
        node = ctd._lookup(result, path[:-1])
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return result


def _pruned(data: t.Any) -> t.Any:
    """``data`` without empty tables, which mean nothing to containerd (a removed table may leave its parents)."""
    if not isinstance(data, dict):
        return data
    result = {key: _pruned(value) for key, value in data.items()}
    return {key: value for key, value in result.items() if value != {} or not isinstance(data[key], dict)}


def _check_foreign(base_data: dict[str, t.Any], base: tuple[str, ...], tables: list[Table]) -> None:
    for table in tables:
        if ctd._lookup(base_data, base + table.path) is not None:
            what = "mirrors for %s" % table.path[1] if table.path[0] == "mirrors" else \
                "TLS settings for mirror host %s" % table.path[1]
            raise ConfigError("config.toml already sets %s (%s) in a table this module did not write (its header "
                              "has no %r marker): remove it, or leave that registry out"
                              % (what, ctd._dotted(base + table.path), MARKER))


def _header_checked(data: dict[str, t.Any], release: ctd.Release) -> tuple[int, tuple[str, ...]]:
    version = ctd.config_version(data) if data else 2
    if version == 3:
        raise ConfigError("version = 3 is a containerd 2.x file: the installed containerd %d.%d ignores its plugin "
                          "tables, so its CRI plugin would read no registry mirrors; write a version 2 file"
                          % release[:2])
    ctd.check_plugin_uris(data)
    if ctd.cri_disabled(data):
        raise ConfigError("config.toml disables the CRI plugin (disabled_plugins): nothing would read the registry "
                          "mirrors of containerd %d.%d; enable it or leave containerd out" % release[:2])
    return version, ctd.registry_table(version)


def plan_legacy(text: str | None, specs: t.Sequence[RegistrySpec], release: ctd.Release, certs_dir: str,
                state: str = "present", exclusive: bool = False) -> LegacyPlan:
    """The config.toml that gives containerd 1.4's CRI plugin the mirrors of ``specs`` (``state`` present), or
    takes ours for them away (absent; every one of ours when ``specs`` is empty). Registries we wrote earlier and
    ``specs`` does not name stay, unless ``exclusive``. ``text`` None: no config.toml yet."""
    if not uses_legacy_tables(release):
        raise ConfigError("internal error: containerd %s reads hosts.toml, not the legacy registry tables"
                          % ".".join(map(str, release or ())))
    source = text or ""
    bom = ctd.BOM if source.startswith(ctd.BOM) else ""
    data = ctd.parse_toml(source)
    version, base = _header_checked(data, release)
    current = _ours(source[len(bom):], data, base)
    new, files, unsupported = wanted_tables(specs if state == "present" else [], certs_dir)
    names = {registry_key(spec.registry) for spec in specs}
    drop_all = exclusive if state == "present" else not specs
    final = _ordered(_kept(current, names, drop_all, {table.path[1] for table in new if table.path[0] == "configs"})
                     + new, current)
    notes = _notes(data, base, release)
    stale = _stale_files(current, final, certs_dir)
    owned = _named(current, certs_dir)
    if final == current:
        return LegacyPlan(None, files, stale, unsupported, notes, owned)
    base_data = _without(data, [base + table.path for table in current])
    _check_foreign(base_data, base, final)
    body = source[len(bom):]
    if not data:
        body += ("" if not body or body.endswith("\n") else "\n") + "version = %d\n" % version
    result = edit_tables(body, base, final)
    _check_edit(result, base_data if data else dict(base_data, version=version), base, final)
    return LegacyPlan(bom + result, files, stale, unsupported, notes, owned)


def _ours(body: str, data: dict[str, t.Any], base: tuple[str, ...]) -> list[Table]:
    """Our tables in config.toml (``body``, without a byte order mark), as their values read."""
    lines = body.splitlines(keepends=True)
    return [Table(header.path[len(base):], ctd._lookup(data, header.path) or {})
            for header in owned_tables(lines, ctd.find_headers(lines), base)]


def remove_ours(text: str | None, certs_dir: str) -> LegacyPlan | None:
    """Our tables taken out of config.toml for a containerd that reads hosts.toml (1.5 and later refuse
    ``mirrors`` and ``configs.HOST.tls`` beside config_path): the upgrade from 1.4. None when the file holds none
    of ours. ``stale_files``/``owned_files``: the certificate files they named (hosts.toml may name them again)."""
    if not text or MARKER not in text:
        return None
    bom = ctd.BOM if text.startswith(ctd.BOM) else ""
    data = ctd.parse_toml(text)
    version = ctd.config_version(data)
    if version == 3:  # a containerd 2.x file: ours are version 2 tables
        return None
    base = ctd.registry_table(version)
    current = _ours(text[len(bom):], data, base)
    if not current:
        return None
    result = edit_tables(text[len(bom):], base, [])
    _check_edit(result, _without(data, [base + table.path for table in current]), base, [])
    owned = _named(current, certs_dir)
    return LegacyPlan(bom + result, [], owned, [], [], owned)


def dump_mirrors(data: dict[str, t.Any], registry: str) -> list[str]:
    """The mirrors containerd 1.4's CRI plugin tries for ``registry`` before its upstream, from ``containerd
    config dump`` (``data``): the registry's endpoints, else those of ``"*"``, without the upstream (1.4's own
    default for docker.io lists it) and in the URL form they were given (our /v2 taken off again)."""
    mirrors = ctd._lookup(data, ctd.registry_table(2) + ("mirrors",))
    mirrors = mirrors if isinstance(mirrors, dict) else {}
    entry = mirrors.get(registry_key(registry), mirrors.get(WILDCARD))
    if not isinstance(entry, dict):
        return []
    endpoints = [item for item in entry.get("endpoint") or [] if isinstance(item, str)]
    upstream = {registry, go_url_parse(ctd.default_server(registry) or "https://" + registry).host}
    return [_given_form(item) for item in endpoints if go_url_parse(item).host not in upstream]


def dump_host(data: dict[str, t.Any], url: str) -> ctd.Host:
    """How containerd 1.4's CRI plugin reaches the mirror ``url``: its ``registry.configs."<host:port>".tls``
    (ca_file, cert_file + key_file, insecure_skip_verify) in the dump, as a hosts.toml [host] table would say it."""
    configs = ctd._lookup(data, ctd.registry_table(2) + ("configs",))
    entry = configs.get(go_url_parse(url).host) if isinstance(configs, dict) else None
    tls = entry.get("tls") if isinstance(entry, dict) else None
    tls = tls if isinstance(tls, dict) else {}
    ca, cert, key = (tls.get(name) for name in ("ca_file", "cert_file", "key_file"))
    return ctd.Host(url, skip_verify=tls.get("insecure_skip_verify") is True,
                    ca=(ca,) if isinstance(ca, str) and ca else (),
                    client=((cert, key),) if isinstance(cert, str) and cert and isinstance(key, str) and key else ())


def _given_form(endpoint: str) -> str:
    """An endpoint as its mirror URL was given (endpoint_for's /v2 taken off a longer path), no trailing slash."""
    endpoint = endpoint.rstrip("/")
    path = go_url_parse(endpoint).path
    return endpoint[:-len("/v2")] if path.endswith("/v2") and path != "/v2" else endpoint


def _notes(data: dict[str, t.Any], base: tuple[str, ...], release: ctd.Release) -> list[str]:
    """What the operator should know that is no failure: a config_path 1.4 ignores (measured), which 1.5 and
    later refuse beside registry mirrors."""
    if ctd._lookup(data, base + (ctd.KEY,)) is None:
        return []
    return ["config.toml sets %s, which containerd %d.%d ignores; containerd 1.5 and later refuse it together "
            "with registry mirrors: remove it before upgrading" % (ctd._dotted(base + (ctd.KEY,)), release[0],
                                                                   release[1])]


def _named(tables: list[Table], certs_dir: str) -> list[str]:
    """The certificate files ``tables`` name below ``certs_dir`` (ours; a file named elsewhere never is)."""
    prefix = certs_dir.rstrip("/") + "/"
    return list(dict.fromkeys(table.values[key] for table in tables if table.path[0] == "configs"
                              for key in TLS_KEYS.values()
                              if isinstance(table.values.get(key), str) and table.values[key].startswith(prefix)))


def _stale_files(current: list[Table], final: list[Table], certs_dir: str) -> list[str]:
    wanted = set(_named(final, certs_dir))
    return [path for path in _named(current, certs_dir) if path not in wanted]


def _check_edit(result: str, base_data: dict[str, t.Any], base: tuple[str, ...], tables: list[Table]) -> None:
    """The edited text must read as the file without our old tables plus exactly the new ones."""
    expected = base_data
    for table in tables:
        expected = ctd._with_value(expected, base + table.path, dict(table.values))
    try:
        edited = _pruned(ctd.parse_toml(result, "the edited config.toml"))
    except ConfigError:
        edited = None
    if edited != _pruned(expected):
        raise ConfigError("cannot edit the registry tables of config.toml surgically (%s is written in a form "
                          "this module does not edit, such as dotted keys or an inline table): write those "
                          "settings as [table] headers, or by hand" % ctd._dotted(base))
