# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A containers-registries.conf (v2) drop-in with the mirrors of one registry, and the files that override it.

Pure functions on strings and dicts (no I/O), standard library only (TOML read by ``_toml``: Python 3.8+).
Rules from containers-registries.conf(5) and containers-registries.conf.d(5): the main file is read first,
then the drop-ins ending in ``.conf`` in alpha-numerical order; a ``[[registry]]`` table replaces an earlier one
with the identical prefix (a missing ``prefix`` is its ``location``); the table with the longest matching
prefix is used for an image, whichever file holds it.
"""

from __future__ import annotations

import json
import re
import typing as t

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._containerd import validate_registry
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._toml import parse as parse_toml
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._toml import toml_string
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._registry import (
    go_url_parse,
    mirror_key,
    validate_mirror,
)

__all__ = [
    "MARKER", "DEFAULT_DROPIN", "Mirror", "validate_dropin_name", "mirrors_from_urls", "render_dropin",
    "expected_dropin_data", "check_dropin", "is_ours", "registry_prefixes", "Finding", "find_overrides",
    "later_dropins", "merged_registries",
]

MARKER = "# Managed by fleetops.docker_mirror.registries_conf: edits here are overwritten."
DEFAULT_DROPIN = "50-fleetops-docker-mirror.conf"
_DROPIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.conf$")


class Mirror(t.NamedTuple):
    """One ``[[registry.mirror]]``: scheme-less location, insecure for plain http."""
    location: str
    insecure: bool


class Finding(t.NamedTuple):
    """A ``[[registry]]`` of another file with our prefix or a longer one."""
    path: str
    prefix: str
    kind: str  # "overrides": same prefix, read after ours; "replaced": same prefix, read before ours (ours
    #            replaces it); "longer": a longer prefix, used instead of ours for its images


def validate_dropin_name(name: str) -> str:
    if not isinstance(name, str) or _DROPIN_RE.match(name) is None:
        raise ConfigError("invalid dropin %s: must be a file name ending in .conf (for example %s); "
                                "containers read no other file of the directory" % (json.dumps(name),
                                                                                    DEFAULT_DROPIN))
    return name


def mirrors_from_urls(urls: t.Iterable[str]) -> list[Mirror]:
    """The registries.conf form of dockerd-style mirror URLs: ``https://m.example:5000/`` -> ``m.example:5000``;
    ``http://...`` -> insecure. A path is refused: to containers-image it names a namespace on the mirror
    (``location/library/IMAGE``), not an API root as it does for dockerd and containerd."""
    mirrors: list[Mirror] = []
    seen: set[str] = set()
    for url in urls:
        validate_mirror(url, allow_path=True)
        parts = go_url_parse(url)
        if parts.path not in ("", "/"):
            raise ConfigError(
                "mirror %s has a path: registries.conf would read it as a namespace on the mirror, not as the "
                "registry API root dockerd and containerd use; give the mirror without a path"
                % json.dumps(url))
        if mirror_key(url) in seen:
            continue
        seen.add(mirror_key(url))
        mirrors.append(Mirror(parts.host, parts.scheme == "http"))
    return mirrors


def render_dropin(registry: str, mirrors: list[Mirror]) -> str:
    validate_registry(registry)
    lines = [MARKER, "[[registry]]", "prefix = %s" % toml_string(registry),
             "location = %s" % toml_string(registry)]
    for mirror in mirrors:
        lines += ["", "[[registry.mirror]]", "location = %s" % toml_string(mirror.location)]
        if mirror.insecure:
            lines.append("insecure = true")
    return "\n".join(lines) + "\n"


def expected_dropin_data(registry: str, mirrors: list[Mirror]) -> dict[str, t.Any]:
    entry: dict[str, t.Any] = {"prefix": registry, "location": registry}
    if mirrors:
        entry["mirror"] = [dict({"location": mirror.location}, **({"insecure": True} if mirror.insecure else {}))
                           for mirror in mirrors]
    return {"registry": [entry]}


def check_dropin(text: str, expected: dict[str, t.Any]) -> None:
    if parse_toml(text, "the drop-in to write") != expected:
        raise ConfigError("internal error: the rendered drop-in does not read back as intended")


def is_ours(text: str) -> bool:
    return text.startswith(MARKER)


def _registry_tables(text: str, path: str) -> list[tuple[str, dict[str, t.Any]]]:
    """(effective prefix, table) of every ``[[registry]]`` of a registries.conf file (``prefix``, else
    ``location``)."""
    try:
        data = parse_toml(text, path)
    except ConfigError as exc:
        raise ConfigError("%s; podman, buildah, skopeo and CRI-O refuse it as well: fix it first"
                                % exc.message) from None
    registries = data.get("registry", [])
    if not isinstance(registries, list):
        return []
    tables = []
    for entry in registries:
        if isinstance(entry, dict):
            prefix = entry.get("prefix") or entry.get("location")
            if isinstance(prefix, str) and prefix:
                tables.append((prefix, entry))
    return tables


def registry_prefixes(text: str, path: str) -> list[str]:
    """The effective prefix of every ``[[registry]]`` of a registries.conf file (``prefix`` or ``location``)."""
    return [prefix for prefix, dummy in _registry_tables(text, path)]


def _podman_form(prefix: str, entry: dict[str, t.Any], path: str) -> dict[str, t.Any]:
    mirrors = entry.get("mirror") if isinstance(entry.get("mirror"), list) else []
    return {"Prefix": prefix, "Location": entry.get("location") or prefix, "Insecure": entry.get("insecure") is True,
            "Blocked": entry.get("blocked") is True, "File": path,
            "Mirrors": [{"Location": mirror.get("location"), "Insecure": mirror.get("insecure") is True}
                        for mirror in mirrors if isinstance(mirror, dict)]}


def merged_registries(files: list[tuple[str, str]]) -> dict[str, dict[str, t.Any]]:
    """The ``[[registry]]`` tables containers use, by prefix, from ``files`` (path, text) in the order they are
    read (the main file, then the drop-ins): a later table with the same prefix replaces the earlier one.
    Each in ``podman info``'s form (Prefix, Location, Insecure, Blocked, Mirrors of Location and Insecure), plus
    ``File``: the file it comes from."""
    merged: dict[str, dict[str, t.Any]] = {}
    for path, text in files:
        for prefix, entry in _registry_tables(text, path):
            merged[prefix] = _podman_form(prefix, entry, path)
    return merged


def later_dropins(names: t.Iterable[str], ours: str) -> list[str]:
    """Drop-in names read after ``ours`` (``.conf`` files only, in the order containers-image reads them)."""
    return [name for name in sorted(names) if name.endswith(".conf") and name > ours]


def find_overrides(registry: str, files: list[tuple[str, str, bool]]) -> list[Finding]:
    """``files``: (path, text, read_after_ours). A same prefix read after ours replaces our table (one read
    before is replaced by ours); a longer prefix (``docker.io/library``) wins for its images wherever it is."""
    findings = []
    for path, text, after in files:
        for prefix in registry_prefixes(text, path):
            if prefix == registry:
                findings.append(Finding(path, prefix, "overrides" if after else "replaced"))
            elif prefix.startswith(registry + "/"):
                findings.append(Finding(path, prefix, "longer"))
    return findings
