# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A containers-registries.conf (v2) drop-in with the mirrors of one or more registries, and the files that
override or block them.

Pure functions on strings and dicts (no I/O), standard library only (TOML read by ``_toml``: Python 3.8+).
Rules from containers-registries.conf(5), containers-registries.conf.d(5) and containers/image
(``pkg/sysregistriesv2``), checked on Podman 4.3 and 5.4: the main file is read first (version 1 or 2, not
both), then the drop-ins ending in ``.conf`` in byte order (version 2 only). A prefix is its ``location`` when
unset, and trailing slashes are stripped from both. Within one file the first table with a prefix wins; a later
file's table with the same prefix replaces the earlier one whole. The table with the longest matching prefix is
used for an image, whichever file holds it. Version 1's ``[registries.block]`` and ``[registries.insecure]``
lists become tables with ``blocked`` / ``insecure`` set.

Our drop-in holds one ``[[registry]]`` per registry it was given (by prefix, sorted), each owned by the runs for
that registry: a run rewrites its own table and keeps the others.

The shared mirror model (``_mirror_spec``) is planned here too: what registries.conf can express of each mirror
(the rest reported as ``Unsupported``), and the containers-certs.d(5) files of its CA and client certificate,
which carry our marker line so that only files we wrote are ever replaced or removed.
"""

from __future__ import annotations

import json
import re
import typing as t

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _certs_dir as certs
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd as ctd
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _mirror_spec as ms
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError, mask_url, option
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._toml import parse as parse_toml
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._toml import toml_string
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._registry import (
    go_url_parse,
    mirror_key,
    validate_mirror,
)

__all__ = [
    "MARKER", "DEFAULT_DROPIN", "Mirror", "Table", "OtherFile", "Finding", "validate_dropin_name",
    "validate_registry", "check_mirrors", "mirrors_from_urls", "normalise", "registry_tables",
    "prefix_matches", "own_tables", "merge_mirrors", "render_dropin", "expected_dropin_data",
    "check_dropin", "is_ours", "find_overrides", "later_dropins", "merged_registries",
    # the shared mirror model (``registries``) and certs.d
    "DIGEST_ONLY", "PULL_FROM_MIRROR_SINCE", "Unsupported", "podman_release", "knows_pull_from_mirror",
    "mirror_location", "mirror_pull_from", "plan_mirror", "Plan", "plan_registries", "absent_locations",
    "merge_registries", "remove_registries", "CERTS_DIR", "CERT_FILES", "CertFile", "CertChange", "location_host",
    "cert_files", "cert_hosts", "cert_paths", "plan_certs",
]

MARKER = "# Managed by fleetops.docker_mirror.registries_conf: edits here are overwritten."
DEFAULT_DROPIN = "50-fleetops-docker-mirror.conf"
_DROPIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.conf\Z")
# Top-level keys that make a file version 2 (containers refuse them beside a version 1 list).
_V2_KEYS = ("registry", "unqualified-search-registries", "credential-helpers", "short-name-mode",
            "additional-layer-store-auth-helper", "aliases")
_V1_LISTS = ("search", "insecure", "block")


class Mirror(t.NamedTuple):
    """One ``[[registry.mirror]]``: scheme-less location (``host[:port]``, or ``host[:port]/namespace``), insecure
    for plain http or skip_verify, ``pull_from_mirror`` empty (every pull) or ``digest-only``."""
    location: str
    insecure: bool
    pull_from_mirror: str = ""


class Table(t.NamedTuple):
    """One ``[[registry]]`` as containers-image reads it."""
    prefix: str  # normalised: ``prefix`` else ``location``, trailing slashes stripped
    written: str  # how the file spells it, for messages: ``prefix = "docker.io/"``
    entry: dict[str, t.Any]  # the table, ``location`` normalised; ``blocked``/``insecure`` True when set


class OtherFile(t.NamedTuple):
    """A registries.conf file other than our drop-in."""
    path: str
    text: str
    after: bool  # read after our drop-in
    dropin: bool  # a drop-in (version 2 only); False: the main file


class Finding(t.NamedTuple):
    """A ``[[registry]]`` of another file that matters to ours."""
    path: str
    prefix: str
    kind: str  # "overrides": same prefix, read after ours; "replaced": same prefix, read before ours (ours
    #            replaces it); "longer": a longer prefix, used instead of ours for its images; "own": another
    #            drop-in of ours holds the registry; "blocked": the table used for the registry now blocks it
    written: str = ""


def validate_dropin_name(name: str) -> str:
    if not isinstance(name, str) or _DROPIN_RE.match(name) is None:
        raise ConfigError("invalid %s %s: must be a file name ending in .conf (for example %s); containers read "
                          "no other file of the directory" % (option("dropin"), json.dumps(name), DEFAULT_DROPIN))
    return name


def validate_registry(name: str) -> str:
    """A registry as the prefix of a ``[[registry]]``: ``host[:port]``; containerd's ``_default`` is refused."""
    if name == "_default":
        raise ConfigError("invalid registry \"_default\": that is containerd's fallback for every registry "
                          "(hosts.toml); a registries.conf [[registry]] names one registry, such as docker.io")
    try:
        return ctd.validate_registry(name)
    except ConfigError as exc:
        raise ConfigError(exc.message.replace(" or _default", "")) from None


def check_mirrors(urls: t.Iterable[str]) -> None:
    """Refuse, naming the value, a mirror URL registries.conf cannot take (checked like dockerd; no path: to
    containers-image a path names a namespace on the mirror, ``location/library/IMAGE``, not an API root as it
    does for dockerd and containerd). Nothing else is needed to plan Podman, Buildah, Skopeo and CRI-O."""
    for url in urls:
        validate_mirror(url, allow_path=True)
        if go_url_parse(url).path not in ("", "/"):
            raise ConfigError(
                "mirror %s has a path: Podman, Buildah, Skopeo and CRI-O (registries.conf) would read it as a "
                "namespace on the mirror, not as the registry API root dockerd and containerd use; give the mirror "
                "without a path" % json.dumps(url))


def mirrors_from_urls(urls: t.Iterable[str]) -> list[Mirror]:
    """The registries.conf form of dockerd-style mirror URLs: ``https://m.example:5000/`` -> ``m.example:5000``;
    ``http://...`` -> insecure; duplicates once."""
    urls = list(urls)
    check_mirrors(urls)
    mirrors: list[Mirror] = []
    seen: set[str] = set()
    for url in urls:
        if mirror_key(url) not in seen:
            seen.add(mirror_key(url))
            parts = go_url_parse(url)
            mirrors.append(Mirror(parts.host, parts.scheme == "http"))
    return mirrors


def normalise(value: str) -> str:
    """A prefix or location as containers-image keeps it: trailing slashes stripped."""
    return value.rstrip("/")


# --------------------------------------------------------------------------- reading a file as containers do


def _parse(text: str, path: str) -> dict[str, t.Any]:
    try:
        return parse_toml(text, path)
    except ConfigError as exc:
        raise ConfigError("%s; podman, buildah, skopeo and CRI-O refuse it as well: fix it first"
                          % exc.message) from None


def _v1_lists(data: dict[str, t.Any]) -> dict[str, list[t.Any]]:
    """The non-empty version 1 lists (``[registries.block] registries = [...]``) of a file."""
    section = data.get("registries") if isinstance(data.get("registries"), dict) else {}
    lists = {}
    for name in _V1_LISTS:
        table = section.get(name)
        values = table.get("registries") if isinstance(table, dict) else None
        if isinstance(values, list) and values:
            lists[name] = values
    return lists


def _check_version(data: dict[str, t.Any], path: str, dropin: bool) -> None:
    v1 = ", ".join("[registries.%s]" % name for name in _v1_lists(data))
    if v1 and dropin:
        raise ConfigError("%s is in the version 1 format (%s), which containers refuse in a drop-in (\"registry "
                          "must be in v2 format but is in v1\"): fix it first" % (path, v1))
    v2 = [key for key in _V2_KEYS if key in data and data[key] != ""]
    if v1 and v2:
        raise ConfigError("%s mixes the version 1 format (%s) with version 2 keys (%s): containers refuse it "
                          "(\"mixing sysregistry v1/v2 is not supported\"): fix it first" % (path, v1, ", ".join(v2)))


def _v1_tables(lists: dict[str, list[t.Any]]) -> list[Table]:
    """Version 1 lists as containers convert them: one table per location, blocked and/or insecure."""
    tables: dict[str, Table] = {}
    for kind in ("block", "insecure"):
        for value in lists.get(kind, []):
            if isinstance(value, str) and normalise(value):
                written = "[registries.%s] registries = [%s]" % (kind, json.dumps(value))
                table = tables.setdefault(normalise(value), Table(normalise(value), written,
                                                                  {"location": normalise(value)}))
                table.entry["blocked" if kind == "block" else "insecure"] = True
    return list(tables.values())


def _v2_tables(data: dict[str, t.Any]) -> list[Table]:
    registries = data.get("registry") if isinstance(data.get("registry"), list) else []
    tables = []
    for entry in registries:
        if not isinstance(entry, dict):
            continue
        prefix, location = entry.get("prefix"), entry.get("location")
        key, raw = ("prefix", prefix) if isinstance(prefix, str) and prefix else ("location", location)
        if isinstance(raw, str) and normalise(raw):
            entry = dict(entry, location=normalise(location)) if isinstance(location, str) else entry
            tables.append(Table(normalise(raw), "%s = %s" % (key, json.dumps(raw)), entry))
    return tables


def registry_tables(text: str, path: str, dropin: bool = True) -> list[Table]:
    """The ``[[registry]]`` tables containers take from one file, the first of each prefix (version 1 lists
    converted in the main file; ``dropin``: version 1 refused)."""
    data = _parse(text, path)
    _check_version(data, path, dropin)
    lists = _v1_lists(data)
    first: dict[str, Table] = {}
    for table in _v1_tables(lists) if lists else _v2_tables(data):
        first.setdefault(table.prefix, table)
    return list(first.values())


def prefix_matches(ref: str, prefix: str) -> bool:
    """Whether ``prefix`` applies to ``ref`` (a registry or image name), as containers-image matches it: the
    prefix then the end, ``/``, ``:`` or ``@``; ``*.example.com`` for any subdomain."""
    if prefix.startswith("*."):
        index = ref.find(prefix[1:])
        end = index + len(prefix) - 1
        return index != -1 and "/" not in ref[:index] and (end == len(ref) or ref[end] in ":/@")
    if not prefix or not ref.startswith(prefix):
        return False
    return len(ref) == len(prefix) or ref[len(prefix)] in ":/@"


# --------------------------------------------------------------------------- our drop-in


def _mirrors_of(entry: dict[str, t.Any]) -> list[Mirror]:
    items = entry.get("mirror") if isinstance(entry.get("mirror"), list) else []
    return [Mirror(normalise(item["location"]), item.get("insecure") is True, _pull_from(item)) for item in items
            if isinstance(item, dict) and isinstance(item.get("location"), str) and normalise(item["location"])]


def _pull_from(item: dict[str, t.Any]) -> str:
    value = item.get("pull-from-mirror")
    return value if isinstance(value, str) and value != "all" else ""


def own_tables(text: str, path: str) -> dict[str, list[Mirror]]:
    """prefix -> mirrors of every ``[[registry]]`` of our drop-in."""
    try:
        tables = registry_tables(text, path)
    except ConfigError as exc:
        raise ConfigError("%s, or set %s to replace it (the mirrors it lists are lost)"
                          % (exc.message, option("force", "true"))) from None
    return {table.prefix: _mirrors_of(table.entry) for table in tables}


def merge_mirrors(wanted: list[Mirror], current: list[Mirror], exclusive: bool) -> list[Mirror]:
    """daemon_json's merge: ``exclusive`` means exactly ``wanted``; otherwise the mirrors our table already lists
    (in their order), then the wanted ones it lacks, in the order given."""
    if exclusive:
        return list(wanted)
    merged, taken = [], set()
    for mirror in list(current) + list(wanted):
        if mirror.location not in taken:
            taken.add(mirror.location)
            merged.append(mirror)
    return merged


def render_dropin(tables: dict[str, list[Mirror]]) -> str:
    """Our drop-in: the marker, then one ``[[registry]]`` per prefix (sorted), ``location`` the prefix."""
    lines = [MARKER]
    for index, prefix in enumerate(sorted(tables)):
        lines += ([""] if index else []) + ["[[registry]]", "prefix = %s" % toml_string(prefix),
                                            "location = %s" % toml_string(prefix)]
        for mirror in tables[prefix]:
            lines += ["", "[[registry.mirror]]", "location = %s" % toml_string(mirror.location)]
            if mirror.insecure:
                lines.append("insecure = true")
            if mirror.pull_from_mirror:
                lines.append("pull-from-mirror = %s" % toml_string(mirror.pull_from_mirror))
    return "\n".join(lines) + "\n"


def expected_dropin_data(tables: dict[str, list[Mirror]]) -> dict[str, t.Any]:
    entries = []
    for prefix in sorted(tables):
        entry: dict[str, t.Any] = {"prefix": prefix, "location": prefix}
        if tables[prefix]:
            entry["mirror"] = [_mirror_data(mirror) for mirror in tables[prefix]]
        entries.append(entry)
    return {"registry": entries}


def _mirror_data(mirror: Mirror) -> dict[str, t.Any]:
    data: dict[str, t.Any] = {"location": mirror.location}
    if mirror.insecure:
        data["insecure"] = True
    if mirror.pull_from_mirror:
        data["pull-from-mirror"] = mirror.pull_from_mirror
    return data


def check_dropin(text: str, expected: dict[str, t.Any]) -> None:
    if parse_toml(text, "the drop-in to write") != expected:
        raise ConfigError("internal error: the rendered drop-in does not read back as intended")


def is_ours(text: str) -> bool:
    return text.startswith(MARKER)


# --------------------------------------------------------------------------- the other files


def later_dropins(names: t.Iterable[str], ours: str) -> list[str]:
    """Drop-in names read after ``ours`` (``.conf`` files only, in the order containers-image reads them)."""
    return [name for name in sorted(names) if name.endswith(".conf") and name > ours]


def _finding(registry: str, other: OtherFile, table: Table) -> Finding | None:
    if table.prefix == registry:
        kind = "own" if is_ours(other.text) else "overrides" if other.after else "replaced"
        return Finding(other.path, table.prefix, kind, table.written)
    if table.prefix.startswith(registry + "/"):
        return Finding(other.path, table.prefix, "longer", table.written)
    return None


def _block(registry: str, merged: dict[str, tuple[str, Table]]) -> Finding | None:
    """The table containers use for ``registry`` without our drop-in (the longest matching prefix, the first in
    sorted order on a tie), when it blocks it: ours would take its place and lift the block."""
    used: tuple[str, Table] | None = None
    for prefix in sorted(merged):
        if prefix_matches(registry, prefix) and (used is None or len(prefix) > len(used[1].prefix)):
            used = merged[prefix]
    if used is None or used[1].entry.get("blocked") is not True:
        return None
    path, table = used
    written = table.written if table.written.startswith("[registries.") else "[[registry]] %s, blocked = true" % (
        table.written)
    return Finding(path, table.prefix, "blocked", written)


def find_overrides(registry: str, files: list[OtherFile]) -> list[Finding]:
    """``files`` in the order containers read them. A same prefix read after ours replaces our table (one read
    before is replaced by ours); a longer prefix (``docker.io/library``) wins for its images wherever it is; a
    block in effect for ``registry`` would be lifted by ours."""
    findings = []
    merged: dict[str, tuple[str, Table]] = {}
    for other in files:
        for table in registry_tables(other.text, other.path, other.dropin):
            merged[table.prefix] = (other.path, table)
            finding = _finding(registry, other, table)
            if finding is not None:
                findings.append(finding)
    block = _block(registry, merged)
    return findings + ([block] if block is not None else [])


def _podman_form(table: Table, path: str) -> dict[str, t.Any]:
    entry = table.entry
    return {"Prefix": table.prefix, "Location": entry.get("location") or table.prefix,
            "Insecure": entry.get("insecure") is True, "Blocked": entry.get("blocked") is True, "File": path,
            "Mirrors": [{"Location": mirror.get("location"), "Insecure": mirror.get("insecure") is True}
                        for mirror in (entry.get("mirror") if isinstance(entry.get("mirror"), list) else [])
                        if isinstance(mirror, dict)]}


def merged_registries(files: list[tuple[str, str]], main_conf: str) -> dict[str, dict[str, t.Any]]:
    """The ``[[registry]]`` tables containers use, by prefix, from ``files`` (path, text) in the order they are
    read (``main_conf`` first, then the drop-ins): a later table with the same prefix replaces the earlier one.
    Each in ``podman info``'s form (Prefix, Location, Insecure, Blocked, Mirrors of Location and Insecure), plus
    ``File``: the file it comes from."""
    merged: dict[str, dict[str, t.Any]] = {}
    for path, text in files:
        for table in registry_tables(text, path, path != main_conf):
            merged[table.prefix] = _podman_form(table, path)
    return merged


# --------------------------------------------------------------------------- the shared mirror model (``registries``)

DIGEST_ONLY = "digest-only"
# Podman 4.1 is the first release built on containers-image 5.21, the first that reads ``pull-from-mirror``
# (measured: the key is in Debian 12's Podman 4.3.1, 13's 5.4.2 and forky's 5.8.6, not in Debian 11's 3.0.1).
# An older release ignores the key without a word and would use the mirror for tag pulls as well.
PULL_FROM_MIRROR_SINCE = (4, 1)
# A repository namespace as containers-image parses the reference a mirror location rewrites an image to.
_NAMESPACE_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*\Z")
_PODMAN_VERSION_RE = re.compile(r"\bversion (\d+)\.(\d+)")


# A setting of the shared model registries.conf cannot express: reported, never a failure.
Unsupported = ms.Unsupported


def podman_release(version_text: str) -> tuple[int, int] | None:
    """``podman --version`` ("podman version 4.3.1") as (major, minor); None when it says something else."""
    match = _PODMAN_VERSION_RE.search(version_text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def knows_pull_from_mirror(release: tuple[int, int] | None) -> bool:
    """Whether the installed Podman reads ``pull-from-mirror``; without Podman (CRI-O, Buildah, Skopeo only) the
    key is written: their releases of the last three years all read it."""
    return release is None or release >= PULL_FROM_MIRROR_SINCE


def _gap(registry: str, mirror: t.Any, what: str, why: str) -> Unsupported:
    return Unsupported(registry, mask_url(mirror.url), what, why)


def mirror_location(registry: str, mirror: t.Any) -> tuple[str | None, list[Unsupported]]:
    """The ``location`` of a mirror URL. containers-image sends ``/v2/<location path>/<image>`` to the host of the
    location: a URL path is expressible only as containerd's override_path root ``/v2/<namespace>``."""
    parts = go_url_parse(mirror.url)
    path = parts.path.rstrip("/")
    if not path and not mirror.override_path:
        return parts.host, []
    if mirror.override_path and (path == "/v2" or path.startswith("/v2/")):
        namespace = path[len("/v2/"):]
        if not namespace or _NAMESPACE_RE.match(namespace):
            return parts.host + ("/" + namespace if namespace else ""), []
        why = ("%s is not a repository namespace containers-image accepts (lower-case letters, digits and "
               "separators); mirror left out" % json.dumps(namespace))
    elif mirror.override_path:
        why = ("containers-image always requests /v2/... on the mirror: only a root /v2/<namespace> is "
               "expressible (as location host/namespace); mirror left out")
    else:
        why = ("the path is the API root for containerd and dockerd (PATH/v2/...), while containers-image reads a "
               "path in a location as a repository namespace under /v2/; mirror left out")
    return None, [_gap(registry, mirror, "path %s" % json.dumps(path or "/"), why)]


def mirror_pull_from(registry: str, mirror: t.Any, knows: bool) -> tuple[str | None, list[Unsupported]]:
    """``pull-from-mirror`` for the mirror's capabilities (None: the mirror is left out), and what is reported."""
    capabilities = set(mirror.capabilities)
    gaps = []
    if "push" in capabilities:
        gaps.append(_gap(registry, mirror, "capabilities: push",
                         "containers-image never pushes to a mirror (pushes go to the registry); pulls use it"))
    if "pull" not in capabilities:
        return None, gaps + [_gap(registry, mirror, "capabilities: %s" % ", ".join(mirror.capabilities),
                                  "containers-image fetches the whole image from the mirror that resolves it: a "
                                  "mirror that does not serve pulls cannot be expressed; mirror left out")]
    if "resolve" in capabilities:
        return "", gaps
    if not knows:
        return None, gaps + [_gap(registry, mirror, "capabilities: pull", "this Podman (before 4.1) has no "
                                  "pull-from-mirror and would resolve tags on the mirror too; mirror left out")]
    return DIGEST_ONLY, gaps + [_gap(registry, mirror, "capabilities: pull", "written as pull-from-mirror = "
                                     "\"digest-only\": pulls by tag fetch the whole image from the registry, "
                                     "not only the tag")]


def plan_mirror(registry: str, mirror: t.Any, knows: bool) -> tuple[Mirror | None, list[Unsupported]]:
    """One MirrorSpec as a ``[[registry.mirror]]`` (None: left out) and every setting reported as unsupported.
    skip_verify is ``insecure = true``: containers-image then skips TLS verification for that mirror (and would
    fall back to plain http if https fails)."""
    location, gaps = mirror_location(registry, mirror)
    pull_from, more = mirror_pull_from(registry, mirror, knows)
    gaps += more
    if mirror.headers:
        gaps.append(_gap(registry, mirror, "headers: %s" % ", ".join(name for name, dummy in mirror.headers),
                         "registries.conf has no HTTP headers; credentials for a mirror go to auth.json "
                         "(containers-auth.json(5)); mirror written without them"))
    if location is None or pull_from is None:
        return None, gaps
    insecure = go_url_parse(mirror.url).scheme == "http" or mirror.skip_verify
    return Mirror(location, insecure, pull_from), gaps


class Plan(t.NamedTuple):
    """What a ``registries`` run writes: prefix -> mirrors, the specs written (registry, MirrorSpec) whose
    certificate files go with them, and what registries.conf cannot express."""
    tables: dict[str, list[Mirror]]
    written: list[tuple[str, str, t.Any]]  # (registry, location, MirrorSpec)
    unsupported: list[Unsupported]


def plan_registries(specs: t.Sequence[t.Any], knows: bool) -> Plan:
    """The mirrors to write for each RegistrySpec, in the order given (a location given twice: the first)."""
    plan = Plan({}, [], [])
    for spec in specs:
        mirrors = plan.tables.setdefault(spec.registry, [])
        for mirror in spec.mirrors:
            planned, found = plan_mirror(spec.registry, mirror, knows)
            plan.unsupported.extend(found)
            if planned is not None and planned.location not in [item.location for item in mirrors]:
                mirrors.append(planned)
                plan.written.append((spec.registry, planned.location, mirror))
    return plan


def absent_locations(specs: t.Sequence[t.Any]) -> dict[str, list[str] | None]:
    """state=absent: prefix -> the locations of the mirrors given (a mirror no location stands for has nothing
    of ours to remove), None when none is given (the whole table goes)."""
    return {spec.registry: [location for location in (mirror_location(spec.registry, mirror)[0]
                                                      for mirror in spec.mirrors) if location is not None]
            if spec.mirrors else None for spec in specs}


def merge_registries(current: dict[str, list[Mirror]], wanted: dict[str, list[Mirror]], exclusive: bool,
                     others_go: bool = False) -> dict[str, list[Mirror]]:
    """Our drop-in after a present run: each wanted registry merged like ``merge_mirrors`` (a wanted mirror takes
    the place and settings of the one with its location; ``exclusive``: exactly the wanted mirrors); the tables of
    other registries stay unless ``others_go`` (``registries`` with exclusive)."""
    planned = {} if others_go else dict(current)
    for prefix, mirrors in wanted.items():
        settings = {mirror.location: mirror for mirror in mirrors}
        kept = [] if exclusive else [settings.get(item.location, item) for item in current.get(prefix, [])]
        planned[prefix] = merge_mirrors(mirrors, kept, exclusive)
    return planned


def remove_registries(current: dict[str, list[Mirror]], unwanted: dict[str, list[str] | None],
                      exclusive: bool) -> dict[str, list[Mirror]]:
    """state=absent: the given mirror locations leave each given registry, whose table goes with its last mirror,
    or at once with ``exclusive`` or no mirror given (None)."""
    planned = dict(current)
    for prefix, locations in unwanted.items():
        gone = set(locations or ())
        kept = current.get(prefix, [])
        left = [] if exclusive or locations is None else [item for item in kept if item.location not in gone]
        if left:
            planned[prefix] = left
        else:
            planned.pop(prefix, None)
    return planned


# --------------------------------------------------------------------------- certificates (containers-certs.d(5))

CERTS_DIR = "/etc/containers/certs.d"
# containers-image reads <certs dir>/<mirror host:port>/: every *.crt as a CA, every *.cert with the *.key of the
# same name as a client certificate (one without the other fails every pull from that host).
CERT_FILES = certs.CERT_FILES
CertFile = certs.CertFile
CertChange = certs.CertChange
cert_paths = certs.cert_paths


def location_host(location: str) -> str:
    """The ``host[:port]`` of a mirror location (its certs.d directory name)."""
    return location.split("/", 1)[0]


def cert_files(written: t.Sequence[tuple[str, str, t.Any]], certs_dir: str) -> dict[str, CertFile]:
    """path -> the certs.d file each written (registry, location, MirrorSpec) gives (the shared certs.d planner, in
    the directory of the location's host:port, with our marker)."""
    return certs.cert_files([(registry, location_host(location), mirror) for registry, location, mirror in written],
                            certs_dir, MARKER)


def cert_hosts(tables: dict[str, list[Mirror]], skip: t.Container[tuple[str, str]] = ()) -> set[str]:
    """The host:port of every mirror of ``tables`` but the (prefix, location) pairs in ``skip``."""
    return {location_host(mirror.location) for prefix, mirrors in tables.items() for mirror in mirrors
            if (prefix, mirror.location) not in skip}


def plan_certs(wanted: dict[str, CertFile], current: dict[str, str | None],
               kept_hosts: t.Container[str]) -> list[CertChange]:
    """The certs.d changes of the files with our marker (the shared certs.d planner)."""
    return certs.plan_certs(wanted, current, kept_hosts, MARKER)
