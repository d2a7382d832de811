# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""containerd's registry host files (hosts.toml) and the CRI plugin's ``config_path`` in config.toml.

Pure functions on strings and dicts (no I/O), standard library only (TOML read by ``_toml``: Python 3.8+).
hosts.toml is a small file we own and render whole; config.toml belongs to the operator, so only the
``config_path`` line is inserted or replaced, and the result is proven, by parsing both texts, to differ from
the original in that one value only.

References: containerd docs/hosts.md (hosts.toml fields, ``config_path`` per config version) and
``containerd config dump`` on Debian 12 (1.6) and 13 (1.7), which maps a version 1 ``[plugins.cri.registry]``
to ``[plugins."io.containerd.grpc.v1.cri".registry]``, and on Debian forky (2.1.9), whose CRI plugin reads no
hosts directory while config_path is unset. The default directories came with containerd 2.2 (see
``unset_config_path``).
"""

from __future__ import annotations

import copy
import json
import posixpath
import re
import typing as t

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _toml
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._toml import toml_string
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._registry import (
    go_url_parse,
    mask_url,
    mirror_key,
    validate_mirror,
)

__all__ = [
    "MARKER", "DEFAULT_HOSTS_DIR", "DEFAULT_CAPABILITIES", "CRI_DEFAULT_CONFIG_PATH", "Host", "ConfigPlan",
    "Release", "parse_release", "unset_config_path",
    "validate_registry", "default_server", "validate_server", "hosts_from_mirrors", "render_hosts_toml",
    "expected_hosts_data", "check_hosts_toml", "is_ours", "parse_toml", "config_version", "registry_table",
    "configured_dirs", "legacy_conflicts", "set_config_path", "plan_config_path", "toml_string",
    "CRI_PLUGIN_IDS", "cri_disabled", "dump_error_line", "journal_error_lines", "BOM",
    "resolve_dir", "lookup_names", "shadowing_paths", "check_plugin_uris",
    "Effective", "effective_config", "relative_imports", "absolute_imports", "merge_mirrors", "hosts_in_file",
    "normalise_url", "CertFile", "host_data", "cert_base", "mirror_files", "host_from_mirror", "referenced_files",
    "has_header", "server_in_file", "CA_SUFFIX", "CERT_SUFFIX", "KEY_SUFFIX",
]

MARKER = "# Managed by fleetops.docker_mirror.containerd_hosts: edits here are overwritten."
DEFAULT_HOSTS_DIR = "/etc/containerd/certs.d"
DEFAULT_CAPABILITIES = ("pull", "resolve")
# The certificate files written next to hosts.toml, per mirror host[:port] (mirror_files).
CA_SUFFIX, CERT_SUFFIX, KEY_SUFFIX = ".ca.crt", ".client.cert", ".client.key"
CERT_SUFFIXES = (CA_SUFFIX, CERT_SUFFIX, KEY_SUFFIX)
# What containerd 2.2 and later read when config_path is empty (unset_config_path says when exactly).
CRI_DEFAULT_CONFIG_PATH = "/etc/containerd/certs.d:/etc/docker/certs.d"
# 2.2.0 made it the CRI images plugin's default value (internal/cri/config/config_unix.go DefaultImageConfig);
# 2.2.2 moved it to the plugin's start, taken only when config_path is empty and no mirrors are set
# (plugins/cri/images/plugin.go, "set default config_path in plugin init").
DEFAULT_CONFIG_PATH_RELEASE = (2, 2, 0)
DEFAULT_CONFIG_PATH_AT_START = (2, 2, 2)
# containerd 2.x: the release whose CRI plugin reads a version 3 file.
V3_RELEASE = (2, 0, 0)
# The first release whose CRI plugin reads hosts.toml files (registry config_path).
HOSTS_DIR_RELEASE = (1, 5, 0)
DEFAULT_SERVERS = {"docker.io": "https://registry-1.docker.io"}
REGISTRY_TABLES = {
    1: ("plugins", "cri", "registry"),
    2: ("plugins", "io.containerd.grpc.v1.cri", "registry"),
    3: ("plugins", "io.containerd.cri.v1.images", "registry"),
}
KEY = "config_path"
_REGISTRY_RE = re.compile(
    r"^(?:_default|(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?)\Z")


class Host(t.NamedTuple):
    """One ``[host."URL"]`` table: a mirror tried before ``server``. ``capabilities`` None: the file's (the
    ``capabilities`` given to render_hosts_toml); ``ca`` and ``client`` are file paths; ``header`` holds secrets."""
    url: str
    skip_verify: bool = False
    capabilities: t.Optional[t.Tuple[str, ...]] = None
    ca: t.Tuple[str, ...] = ()
    client: t.Tuple[t.Tuple[str, str], ...] = ()
    header: t.Tuple[t.Tuple[str, t.Tuple[str, ...]], ...] = ()
    override_path: bool = False


class CertFile(t.NamedTuple):
    """A CA or client certificate or key file written next to hosts.toml (``secret``: a key, mode 0600)."""
    path: str
    text: str
    secret: bool


# containerd's release (major, minor, patch), from ``containerd --version``; None where it is unknown.
Release = t.Tuple[int, int, int]


class ConfigPlan(t.NamedTuple):
    """What config.toml needs: ``text`` is the new text (None: leave the file alone)."""
    text: str | None
    dirs: list[str]
    version: int


# --------------------------------------------------------------------------- hosts.toml


def validate_registry(name: str) -> str:
    """A registry host namespace: ``host[:port]`` (the directory name under the hosts dir) or ``_default``."""
    if not isinstance(name, str) or _REGISTRY_RE.match(name) is None:
        raise ConfigError("invalid registry %s: must be host[:port] (for example docker.io) or _default"
                          % json.dumps(name))
    port = name.rsplit(":", 1)[1] if ":" in name and not name.endswith("]") else None
    if port is not None and not 0 < int(port) <= 65535:
        raise ConfigError("invalid registry %s: invalid port %s" % (json.dumps(name), port))
    if name != name.lower():
        # containerd looks the directory up with the host exactly as the image reference writes it (case kept,
        # on a case-sensitive file system), and image references name registries in lower case.
        raise ConfigError("invalid registry %s: containerd finds its directory only for image references that "
                          "spell the host exactly so; write it in lower case (%s)"
                          % (json.dumps(name), json.dumps(name.lower())))
    return name


def default_server(registry: str) -> str | None:
    """containerd's upstream for a namespace: Docker Hub's API host for docker.io; none for ``_default``."""
    if registry == "_default":
        return None
    return DEFAULT_SERVERS.get(registry, "https://" + registry)


def normalise_url(url: str) -> str:
    """``url`` with its scheme in lower case: containerd takes a server or host that does not start with
    ``http`` as a bare host (``HTTP://m.example`` would be read as the host ``HTTP:``)."""
    scheme, sep, rest = url.partition("://")
    return scheme.lower() + sep + rest if sep else url


def validate_server(url: str) -> str:
    try:
        validate_mirror(url, allow_path=True)
    except ConfigError as exc:
        raise ConfigError("server: " + exc.message.replace("invalid mirror", "invalid URL", 1)) from None
    return normalise_url(url).rstrip("/")


def hosts_from_mirrors(mirrors: t.Iterable[str], skip_verify: bool = False) -> list[Host]:
    """One host per mirror, validated like dockerd's mirrors (a path is allowed: containerd appends /v2 to it),
    duplicates (same dockerd normal form) dropped. ``skip_verify`` concerns TLS only, so plain-http mirrors
    never get it: containerd talks plain HTTP to a host whose URL says ``http://``."""
    hosts: list[Host] = []
    seen: set[str] = set()
    for mirror in mirrors:
        validate_mirror(mirror, allow_path=True)
        key = mirror_key(normalise_url(mirror))
        if key in seen:
            continue
        seen.add(key)
        scheme = go_url_parse(mirror).scheme
        hosts.append(Host(key[:-1], skip_verify and scheme == "https"))
    return hosts


def render_hosts_toml(server: str | None, hosts: list[Host],
                      capabilities: t.Sequence[str] = DEFAULT_CAPABILITIES, marker: str = MARKER) -> str:
    """The whole file, starting with ``marker`` (the line that says which module owns it)."""
    lines = [marker]
    if server:
        lines.append("server = %s" % toml_string(server))
    if not hosts:
        # containerd 1.6 and 1.7 ignore a hosts.toml without a host table ("invalid `host` tree"), server included.
        lines += ["", "[host]"]
    for host in hosts:
        lines += [""] + _host_lines(host, capabilities)
    return "\n".join(lines) + "\n"


def _header_value(values: t.Sequence[str]) -> str:
    """One header value as a TOML string, several as an array."""
    return toml_string(values[0]) if len(values) == 1 else _toml_strings(values)


def _toml_strings(values: t.Sequence[str]) -> str:
    return "[%s]" % ", ".join(toml_string(item) for item in values)


def _host_lines(host: Host, capabilities: t.Sequence[str]) -> list[str]:
    """One host table in the shapes containerd 1.6 to 2.x read alike (remotes/docker/config/hosts.go): ``ca`` a
    string or a list of strings, ``client`` a list of [cert, key] pairs, a header value a string or a list."""
    table = "host.%s" % toml_string(host.url)
    lines = ["[%s]" % table, "  capabilities = %s" % _toml_strings(host.capabilities or capabilities)]
    if host.skip_verify:
        lines.append("  skip_verify = true")
    if host.override_path:
        lines.append("  override_path = true")
    if host.ca:
        lines.append("  ca = %s" % (toml_string(host.ca[0]) if len(host.ca) == 1 else _toml_strings(host.ca)))
    if host.client:
        lines.append("  client = [%s]" % ", ".join(_toml_strings(pair) for pair in host.client))
    if host.header:
        lines.append("  [%s.header]" % table)
        lines += ["    %s = %s" % (toml_string(name), _header_value(values)) for name, values in host.header]
    return lines


def host_data(host: Host, capabilities: t.Sequence[str] = DEFAULT_CAPABILITIES) -> dict[str, t.Any]:
    """What containerd reads from ``host``'s table (render_hosts_toml's output, parsed)."""
    data: dict[str, t.Any] = {"capabilities": list(host.capabilities or capabilities)}
    if host.skip_verify:
        data["skip_verify"] = True
    if host.override_path:
        data["override_path"] = True
    if host.ca:
        data["ca"] = host.ca[0] if len(host.ca) == 1 else list(host.ca)
    if host.client:
        data["client"] = [list(pair) for pair in host.client]
    if host.header:
        data["header"] = {name: values[0] if len(values) == 1 else list(values) for name, values in host.header}
    return data


def expected_hosts_data(server: str | None, hosts: list[Host],
                        capabilities: t.Sequence[str] = DEFAULT_CAPABILITIES) -> dict[str, t.Any]:
    data: dict[str, t.Any] = {"server": server} if server else {}
    data["host"] = {host.url: host_data(host, capabilities) for host in hosts}
    return data


def check_hosts_toml(text: str, expected: dict[str, t.Any]) -> None:
    """The rendered file, read back as containerd would, must mean exactly what we intend."""
    if parse_toml(text, "the hosts.toml to write") != expected:
        raise ConfigError("internal error: the rendered hosts.toml does not read back as intended")


def cert_base(url: str) -> str:
    """The file name stem of a mirror's certificate files: its host[:port], ``:`` as ``_`` (brackets dropped)."""
    return go_url_parse(url).host.replace("[", "").replace("]", "").replace(":", "_")


def mirror_files(registry_dir: str, mirror: t.Any) -> list[CertFile]:
    """The CA and client certificate files of ``mirror`` (a _mirror_spec.MirrorSpec) next to hosts.toml:
    ``<host_port>.ca.crt``, ``<host_port>.client.cert`` and ``<host_port>.client.key``."""
    stem = posixpath.join(registry_dir, cert_base(mirror.url))
    files = [CertFile(stem + CA_SUFFIX, mirror.ca, False)] if mirror.ca else []
    if mirror.client_cert:
        files += [CertFile(stem + CERT_SUFFIX, mirror.client_cert, False),
                  CertFile(stem + KEY_SUFFIX, mirror.client_key, True)]
    return files


def host_from_mirror(registry_dir: str, mirror: t.Any) -> Host:
    """The host table of ``mirror`` (a MirrorSpec); ``skip_verify`` concerns TLS only (never for http://)."""
    stem = posixpath.join(registry_dir, cert_base(mirror.url))
    https = go_url_parse(mirror.url).scheme == "https"
    return Host(mirror.url, mirror.skip_verify and https, tuple(mirror.capabilities),
                (stem + CA_SUFFIX,) if mirror.ca else (),
                ((stem + CERT_SUFFIX, stem + KEY_SUFFIX),) if mirror.client_cert else (),
                tuple(mirror.headers), mirror.override_path)


def referenced_files(hosts: list[Host], registry_dir: str) -> set[str]:
    """The certificate files our hosts.toml names that this module writes: in ``registry_dir``, with our suffixes."""
    paths = {path for host in hosts for path in host.ca + tuple(item for pair in host.client for item in pair)}
    return {path for path in paths if posixpath.dirname(path) == registry_dir and path.endswith(CERT_SUFFIXES)}


def has_header(hosts: list[Host]) -> bool:
    return any(host.header for host in hosts)


def is_ours(text: str, marker: str = MARKER) -> bool:
    return text.startswith(marker)


def hosts_in_file(text: str) -> list[Host]:
    """The ``[host."URL"]`` tables of a hosts.toml, in file order (the order containerd tries them)."""
    hosts = parse_toml(text, "hosts.toml").get("host")
    return [_host_from_table(url, table if isinstance(table, dict) else {})
            for url, table in (hosts.items() if isinstance(hosts, dict) else ())]


def _strings(value: t.Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(item for item in items if isinstance(item, str))


def _host_from_table(url: str, table: dict[str, t.Any]) -> Host:
    capabilities = _strings(table.get("capabilities", [])) or None
    client = table.get("client")
    pairs = tuple((pair[0], pair[1]) for pair in client if isinstance(pair, list) and len(pair) == 2) \
        if isinstance(client, list) else ()
    header = table.get("header") if isinstance(table.get("header"), dict) else {}
    return Host(url, table.get("skip_verify") is True, capabilities, _strings(table.get("ca", [])), pairs,
                tuple((name, _strings(value)) for name, value in header.items()), table.get("override_path") is True)


def server_in_file(text: str) -> str | None:
    server = parse_toml(text, "hosts.toml").get("server")
    return server if isinstance(server, str) else None


def merge_mirrors(wanted: list[Host], current: list[Host], exclusive: bool) -> list[Host]:
    """daemon_json's merge: ``exclusive`` means exactly ``wanted``; otherwise the hosts the file already lists
    (in their order; one that is wanted takes the wanted settings), then the wanted ones it lacks, in the order
    given."""
    if exclusive:
        return list(wanted)
    by_url = {host.url: host for host in wanted}
    urls = {host.url for host in current}
    return [by_url.get(host.url, host) for host in current] + [host for host in wanted if host.url not in urls]


# --------------------------------------------------------------------------- config.toml


BOM = "\ufeff"
# The lone surrogates that stand for the bytes of a file that are not UTF-8 (surrogateescape).
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


def parse_release(text: str | None) -> Release | None:
    """containerd's release from ``containerd --version``: "containerd github.com/containerd/containerd/v2
    2.1.9+unknown" (Debian), "containerd containerd.io v1.7.27 05044ec0..." (Docker CE); None when the output
    names none."""
    match = re.search(r"\s+v?(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def parse_toml(text: str, what: str = "config.toml") -> dict[str, t.Any]:
    """``text`` as TOML; a leading UTF-8 byte order mark is skipped, as containerd's go-toml does. Bytes that are
    not UTF-8 (decoded losslessly, see _files.decode) are accepted where containerd accepts them: in comments
    and strings."""
    try:
        return _toml.parse(text[1:] if text.startswith(BOM) else text, what)
    except ConfigError as exc:
        if not _NOT_UTF8.search(text):
            raise
        raise ConfigError("%s (the file holds bytes that are not valid UTF-8 outside a comment or string)"
                          % exc.message) from None


def config_version(data: dict[str, t.Any]) -> int:
    version = data.get("version", 1)
    if isinstance(version, bool) or version not in REGISTRY_TABLES:
        raise ConfigError("unsupported config version %s (containerd knows 1, 2 and 3)" % json.dumps(version))
    return version


def registry_table(version: int) -> tuple[str, ...]:
    return REGISTRY_TABLES[version]


def _lookup(data: dict[str, t.Any], path: t.Sequence[str]) -> t.Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def configured_dirs(data: dict[str, t.Any], version: int, release: Release | None = None,
                    dump: bool = False) -> list[str]:
    """The hosts directories the CRI plugin of containerd ``release`` reads, in order, for config.toml ``data``
    (``dump``: the output of ``containerd config dump``); [] when it reads none."""
    path = registry_table(version) + (KEY,)
    value = _lookup(data, path)
    if value is not None and not isinstance(value, str):
        raise ConfigError("%s = %s is not a string" % (_dotted(path), json.dumps(value)))
    if not value:
        value = unset_config_path(_lookup(data, registry_table(version)), version, release, dump, value is not None)
    return [resolve_dir(item) for item in value.split(":") if item]


def unset_config_path(registry: t.Any, version: int, release: Release | None, dump: bool, key_set: bool) -> str:
    """What the CRI plugin reads when config_path is empty (``key_set``: written as ``""``) or unset in a registry
    table: nothing before containerd 2.2 (or when the release is unknown). 2.2.0 and 2.2.1 hold the default as
    the plugin's default value, so their config dump shows it, and a file takes it unless a version 3 file sets
    ``""`` (a version 1 or 2 file's ``""`` is replaced when migrated). From 2.2.2 the plugin takes it at start,
    when config_path is empty and no ``mirrors`` are set: its config dump shows ``""``."""
    if release is None or release < DEFAULT_CONFIG_PATH_RELEASE:
        return ""
    if release >= DEFAULT_CONFIG_PATH_AT_START:
        mirrors = registry.get("mirrors") if isinstance(registry, dict) else None
        return "" if isinstance(mirrors, dict) and mirrors else CRI_DEFAULT_CONFIG_PATH
    if dump or key_set and version == 3:
        return ""
    return CRI_DEFAULT_CONFIG_PATH


def resolve_dir(directory: str) -> str:
    """A config_path directory as containerd opens it: a relative one against its working directory, ``/``
    under systemd."""
    return posixpath.normpath(posixpath.join("/", directory))


def legacy_conflicts(data: dict[str, t.Any], version: int, release: Release | None = None) -> list[str]:
    """Deprecated CRI settings with which containerd's CRI plugin refuses a config_path: ``mirrors`` with an
    entry, and on 1.x a ``configs."HOST".tls`` table, even an empty one (``r.TLS != nil`` in
    pkg/cri/config/config.go); containerd 2.x only warns about ``configs``."""
    registry = _lookup(data, registry_table(version))
    if not isinstance(registry, dict):
        return []
    found = []
    if isinstance(registry.get("mirrors"), dict) and registry["mirrors"]:
        found.append(_dotted(registry_table(version) + ("mirrors",)))
    configs = registry.get("configs")
    if release is None or release < V3_RELEASE:
        for name, config in configs.items() if isinstance(configs, dict) else ():
            if isinstance(config, dict) and "tls" in config:
                found.append(_dotted(registry_table(version) + ("configs", name, "tls")))
    return found


def conflict_message(conflicts: list[str], already_set: bool = False) -> str:
    what = "config_path is set together with %s" if already_set else "config_path cannot be set while %s is set"
    return (what % " and ".join(conflicts) + ": containerd's CRI plugin refuses to load (\"cannot be set when "
            "config_path is provided\"). Move those settings to hosts.toml files first")


def _dotted(path: t.Sequence[str]) -> str:
    return ".".join(key if re.match(r"^[A-Za-z0-9_-]+$", key) else json.dumps(key) for key in path)


def _with_value(data: dict[str, t.Any], path: t.Sequence[str], value: t.Any) -> dict[str, t.Any]:
    result = copy.deepcopy(data)
    node = result
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return result


def plan_config_path(text: str | None, hosts_dir: str, release: Release | None) -> ConfigPlan:
    """Where the CRI plugin reads hosts.toml files, and the config.toml text that makes it read ``hosts_dir``.

    ``text`` None: no config.toml. containerd 2.2 then reads its default directories; 2.0 and 2.1 read none, so a
    minimal version 3 file is planned; 1.x (or an unknown release) gets a minimal version 2 file. ``text`` set
    with config_path unset: the line is added surgically. ``ConfigPlan.dirs`` lists the directories read before
    the change; a caller that finds ``hosts_dir`` missing from a non-empty list must not change config.toml (the
    operator chose other directories).
    """
    if release is not None and release < HOSTS_DIR_RELEASE:
        raise ConfigError("the installed containerd %d.%d reads no hosts.toml: its CRI plugin has no config_path "
                          "(containerd 1.5 brought it) and reads registry mirrors only from the legacy "
                          "registry.mirrors table of config.toml, which this module does not write" % release[:2])
    new_version = 3 if release is not None and release >= V3_RELEASE else 2
    if text is None:
        dirs = configured_dirs({}, 1, release)
        if dirs:
            return ConfigPlan(None, dirs, new_version)
        return ConfigPlan(set_config_path("", hosts_dir, new_version), [], new_version)
    data = parse_toml(text)
    version = config_version(data)
    check_plugin_uris(data)
    if version == 3 and release is not None and release < V3_RELEASE:
        # Measured: containerd 1.6 loads it (config dump says version 2) and the CRI plugin keeps its defaults.
        raise ConfigError("version = 3 is a containerd 2.x file: the installed containerd %d.x ignores its plugin "
                          "tables, so the CRI plugin reads no hosts directory; write a version 2 file"
                          % release[0])
    dirs = configured_dirs(data, version, release)
    conflicts = legacy_conflicts(data, version, release)
    if conflicts:
        raise ConfigError(conflict_message(conflicts, bool(dirs)))
    if dirs:
        return ConfigPlan(None, dirs, version)
    return ConfigPlan(set_config_path(text, hosts_dir, new_version), [], version)


# --------------------------------------------------------------------------- the surgical edit


_BARE_KEY = r"[A-Za-z0-9_-]+"
_KEY_PART = re.compile(r'\s*(?:(%s)|("(?:[^"\\]|\\.)*")|\'([^\']*)\')\s*' % _BARE_KEY)
_CONFIG_PATH_LINE = re.compile(r"^([ \t]*)(?:config_path|\"config_path\"|'config_path')[ \t]*=")


class Header(t.NamedTuple):
    index: int
    path: tuple[str, ...]
    indent: str


def parse_header(line: str) -> tuple[str, ...] | None:
    """The key path of a ``[table]`` header line (not ``[[array]]``), or None."""
    match = re.match(r"^[ \t]*\[(?!\[)(.*)\][ \t]*(?:#.*)?$", line.rstrip("\r\n"))
    if match is None:
        return None
    inner, keys, position = match.group(1), [], 0
    while True:
        part = _KEY_PART.match(inner, position)
        if part is None:
            return None
        bare, basic, literal = part.groups()
        keys.append(bare if bare is not None else literal if literal is not None else json.loads(basic))
        position = part.end()
        if position == len(inner):
            return tuple(keys)
        if inner[position] != ".":
            return None
        position += 1


def find_headers(lines: list[str]) -> list[Header]:
    headers, in_multiline = [], None
    for index, line in enumerate(lines):
        for quote in ('"""', "'''"):
            if line.count(quote) % 2 and in_multiline in (None, quote):
                in_multiline = None if in_multiline == quote else quote
        if in_multiline is None and line.lstrip().startswith("["):
            path = parse_header(line)
            if path is not None:
                headers.append(Header(index, path, line[:len(line) - len(line.lstrip())]))
    return headers


def _block_end(lines: list[str], headers: list[Header], start: int) -> int:
    """Index after the last non-blank line before the next header following line ``start``."""
    end = next((header.index for header in headers if header.index > start), len(lines))
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return end


def set_config_path(text: str, hosts_dir: str, new_version: int = 2) -> str:
    """``text`` with the CRI registry ``config_path`` set to ``hosts_dir``; nothing else changes.

    Replaces an existing (empty) ``config_path`` line, else inserts one under an existing registry table, else
    adds the table after the CRI plugin's tables (in their indentation), else at the end. A file without any
    setting gets ``version = new_version`` first (3 for containerd 2.x, 2 for 1.x). The result is parsed and must
    equal the original plus that value.
    """
    if text.startswith(BOM):
        return BOM + set_config_path(text[1:], hosts_dir, new_version)
    data = parse_toml(text)
    version = config_version(data)
    if not data:
        version = new_version
        text = text + ("" if not text or text.endswith("\n") else "\n") + "version = %d\n" % version
    newline = "\r\n" if "\r\n" in text else "\n"
    table = registry_table(version)
    value_line = "config_path = %s" % toml_string(hosts_dir)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    lines = _insert(lines, find_headers(lines), table, value_line, newline)
    result = "".join(lines)
    expected = _with_value(dict(data, version=version) if not data else data, table + (KEY,), hosts_dir)
    try:
        edited = parse_toml(result, "the edited config.toml")
    except ConfigError:
        edited = None
    if edited != expected:
        raise ConfigError(
            "cannot set %s surgically (the table is written in a form this module does not edit, such as "
            "dotted keys or an inline table): set it to \"%s\" by hand" % (_dotted(table + (KEY,)), hosts_dir))
    return result


def _insert(lines: list[str], headers: list[Header], table: tuple[str, ...], value_line: str,
            newline: str) -> list[str]:
    own = [header for header in headers if header.path == table]
    if own:
        header = own[0]
        end = next((item.index for item in headers if item.index > header.index), len(lines))
        for index in range(header.index + 1, end):
            match = _CONFIG_PATH_LINE.match(lines[index])
            if match:
                return lines[:index] + [match.group(1) + value_line + newline] + lines[index + 1:]
        indent = _key_indent(lines[header.index + 1:end]) or header.indent + "  "
        return lines[:header.index + 1] + [indent + value_line + newline] + lines[header.index + 1:]
    family = [header for header in headers if header.path[:len(table) - 1] == table[:-1]]
    header_line = "[%s]" % _dotted(table)
    if family:
        parent = family[0]
        siblings = [item for item in family if len(item.path) == len(table)]
        nested = parent.indent or _is_indented(lines)
        indent = siblings[0].indent if siblings else parent.indent + ("  " if nested else "")
        at = _block_end(lines, headers, family[-1].index)
        block = [indent + header_line + newline, indent + "  " + value_line + newline]
        return lines[:at] + block + lines[at:]
    separator = [newline] if lines and lines[-1].strip() else []
    return lines + separator + [header_line + newline, "  " + value_line + newline]


def _key_indent(block: list[str]) -> str | None:
    for line in block:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return line[:len(line) - len(line.lstrip())]
    return None


def _is_indented(lines: list[str]) -> bool:
    """Does the file indent sub-tables (containerd's ``config default`` style)?"""
    return any(line.startswith((" ", "\t")) and line.strip().startswith("[") for line in lines)


# --------------------------------------------------------------------------- the CRI plugin and the running containerd


# The CRI plugin's ids: "cri" (a version 1 file, Docker CE's stock config), the 1.x id, and 2.x's images service.
CRI_PLUGIN_IDS = ("cri", "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images")
# containerd's logfmt chatter: anything but these levels is worth showing (error, fatal, panic, or a bare line).
_CHATTER = re.compile(r"\blevel=(?:info|debug|trace|warning|warn)\b")
_OWN_ERROR = re.compile(r"\blevel=(?:error|fatal|panic)\b|^containerd: ")
# systemd's lines worth quoting when containerd itself said nothing (an ExecStartPre that failed, a start limit).
_SYSTEMD_CAUSE = re.compile(r"(?:Main|Control) process exited|Failed with result|Start request repeated|"
                            r"Unable to locate executable|Failed to (?:run|locate)")
JOURNAL_KEEP = 8


def cri_disabled(data: dict[str, t.Any], dump: bool = False) -> bool:
    """Does config.toml disable the CRI plugin (``disabled_plugins``, as Docker CE's containerd.io ships it)?
    A version 1 file names plugins by id (``cri``), a later one by URI (containerd's V1/V2DisabledFilter).
    ``dump``: ``config dump``'s output, which says version 2 for a version 1 file and keeps its ids."""
    disabled = data.get("disabled_plugins")
    names = CRI_PLUGIN_IDS if dump else CRI_PLUGIN_IDS[:1] if data.get("version", 1) == 1 else CRI_PLUGIN_IDS[1:]
    return isinstance(disabled, list) and any(item in names for item in disabled)


def check_plugin_uris(data: dict[str, t.Any]) -> None:
    """containerd refuses a version 2+ file whose disabled_plugins or required_plugins name a plugin by its short
    id (ValidateV2: "invalid disabled plugin URI "cri" expect io.containerd.x.vx")."""
    if data.get("version", 1) == 1:
        return
    for key in ("disabled_plugins", "required_plugins"):
        items = data.get(key)
        for item in items if isinstance(items, list) else ():
            if isinstance(item, str) and len(item.split(".")) < 4:
                raise ConfigError("the file is already invalid: containerd refuses %s %s in a version %s file "
                                  "(it expects a plugin URI such as io.containerd.grpc.v1.cri); fix it first"
                                  % (key, json.dumps(item), data.get("version")))


def lookup_names(registry: str) -> list[str]:
    """The directory names containerd tries for ``registry`` in each hosts directory, in order (hostPaths)."""
    names = [registry]
    colon = registry.rfind(":")
    if colon > 0:  # hostDirectory: the last ":" (the port's) becomes "_", with a "_" after
        names.insert(0, "%s_%s_" % (registry[:colon], registry[colon + 1:]))
    return names if registry == "_default" else names + ["_default"]


def shadowing_paths(hosts_dir: str, dirs: list[str], registry: str) -> list[str]:
    """The paths containerd looks at before ``hosts_dir/registry``: every name in each earlier directory of
    config_path (``_default`` included), then the ``host_port_`` form in ``hosts_dir`` itself. Any of them
    that exists wins. [] when config_path does not list ``hosts_dir``."""
    names = lookup_names(registry)
    before: list[str] = []
    for directory in dirs:
        if directory == hosts_dir:
            return before + [posixpath.join(directory, name) for name in names[:names.index(registry)]]
        before += [posixpath.join(directory, name) for name in names]
    return []


class Effective(t.NamedTuple):
    """What containerd loads from a config (``config dump``'s output, or one file): whether the CRI plugin
    runs, the directories it reads, the legacy settings that stop it from loading with them."""
    cri_enabled: bool
    dirs: list[str]
    conflicts: list[str]


def effective_config(data: dict[str, t.Any], release: Release | None, dump: bool = False) -> Effective:
    version = config_version(data)
    if cri_disabled(data, dump):
        return Effective(False, [], [])
    if version == 3 and release is not None and release < V3_RELEASE:
        return Effective(True, [], [])  # 1.x ignores a version 3 file's plugin tables
    dirs = configured_dirs(data, version, release, dump)
    return Effective(True, dirs, legacy_conflicts(data, version, release) if dirs else [])


def relative_imports(data: dict[str, t.Any]) -> list[str]:
    """The ``imports`` containerd resolves against the config file's directory (relative ones)."""
    imports = data.get("imports")
    return [item for item in imports if isinstance(item, str) and not item.startswith("/") and "*" not in item] \
        if isinstance(imports, list) else []


def absolute_imports(text: str, directory: str) -> str | None:
    """``text`` with its top-level ``imports = [...]`` rewritten to absolute paths (against ``directory``, as
    containerd resolves them for a file there), for a candidate checked from another directory; None when the
    statement is not in a form this edit knows (then the candidate must sit next to the file)."""
    data = parse_toml(text)
    if not isinstance(data.get("imports"), list):
        return None
    lines = text.splitlines(keepends=True)
    start = next((index for index, line in enumerate(lines) if re.match(r"^[ \t]*imports[ \t]*=", line)), None)
    if start is None:
        return None
    for end in range(start + 1, len(lines) + 1):
        try:
            if _toml.loads("".join(lines[start:end]).lstrip(BOM)) != {"imports": data["imports"]}:
                continue
        except ValueError:
            continue
        # A glob is left as it is: containerd 1.6 matches a relative one against its working directory.
        absolute = [item if item.startswith("/") or "*" in item else posixpath.join(directory, item)
                    for item in data["imports"]]
        result = "".join(lines[:start]) + "imports = %s\n" % json.dumps(absolute) + "".join(lines[end:])
        try:
            edited = parse_toml(result)
        except ConfigError:
            return None
        return result if edited == dict(data, imports=absolute) else None
    return None


def dump_error_line(rc: int, stdout: str, stderr: str, candidate: str, config: str) -> str:
    """containerd's reason for refusing a file in ``containerd --config F config dump``: its error line, with the
    temporary candidate's name replaced by the file's own."""
    lines = [line.strip() for line in (stderr or "").splitlines() + (stdout or "").splitlines() if line.strip()]
    own = [line for line in lines if _OWN_ERROR.search(line)]
    own = own or [line for line in lines if not _CHATTER.search(line)]
    line = own[-1] if own else "exit status %d, no message" % rc
    return line.replace(candidate, config)


def _journal_message(entry: dict[str, t.Any]) -> str:
    message = entry.get("MESSAGE")
    if isinstance(message, list):  # journald gives non-UTF-8 messages as a list of byte values
        message = bytes(item for item in message if isinstance(item, int) and 0 <= item < 256).decode(
            "utf-8", "replace")
    return message.strip() if isinstance(message, str) else ""


def journal_error_lines(json_lines: str, keep: int = JOURNAL_KEEP) -> tuple[str, list[str]]:
    """(who, lines): containerd's own error lines from ``journalctl -o json`` output (not its info/warning chatter,
    not systemd's "Unit process ... remains running" noise); when containerd said nothing, systemd's lines that
    say why the start failed. URL userinfo masked."""
    own: list[str] = []
    systemd: list[str] = []
    for raw in json_lines.splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        message = _journal_message(entry)
        if not message:
            continue
        if entry.get("SYSLOG_IDENTIFIER") == "containerd" and not _CHATTER.search(message):
            own.append(message)
        elif entry.get("SYSLOG_IDENTIFIER") == "systemd" and _SYSTEMD_CAUSE.search(message):
            systemd.append(message)
    who, lines = ("containerd", own) if own else ("systemd", systemd)
    return who, [mask_url(line) for line in lines[-keep:]]
