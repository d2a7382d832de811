# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The shared mirror model: every registry a node pulls from, its ordered mirrors and their TLS and header settings.

One option for every runtime's module (``registries``, see REGISTRIES_OPTION), read into RegistrySpec/MirrorSpec
tuples by ``parse_registries``; ``canonical_registries`` turns the role's mapping (registry -> [URL | dict]) into
that option on the controller. Pure functions, standard library only (module and controller side alike).

Secrets: a client key and header values are never put in a message; ``secrets`` lists them for
``module.no_log_values``, and ``public_mirror`` is what a result may show of a mirror.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import typing as t

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd as ctd
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError, mask_url
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._registry import (
    go_url_parse,
    mirror_key,
    validate_mirror,
)

__all__ = [
    "CAPABILITIES", "DEFAULT_CAPABILITIES", "DOCKER_HUB", "DOCKER_HUB_ALIASES", "MIRROR_OPTIONS", "REGISTRIES_OPTION",
    "MirrorSpec", "RegistrySpec", "normalise_registry", "mirror_url", "check_pem", "check_headers",
    "parse_mirror", "parse_registries", "registries_from_single", "secrets", "public_mirror", "canonical_registries",
    "host_port", "redact_registries", "NO_LOG", "Unsupported", "kind",
]

CAPABILITIES = ("pull", "resolve", "push")
DEFAULT_CAPABILITIES = ("pull", "resolve")
DOCKER_HUB = "docker.io"
# The names an image reference may give Docker Hub; every runtime files them under docker.io.
DOCKER_HUB_ALIASES = ("index.docker.io", "registry-1.docker.io")

MIRROR_OPTIONS: dict[str, dict[str, t.Any]] = {
    "url": dict(type="str", required=True),
    "ca": dict(type="str"),
    "client_cert": dict(type="str"),
    "client_key": dict(type="str", no_log=True),
    "skip_verify": dict(type="bool", default=False),
    "capabilities": dict(type="list", elements="str", choices=list(CAPABILITIES), default=list(DEFAULT_CAPABILITIES)),
    "override_path": dict(type="bool", default=False),
    "headers": dict(type="dict", no_log=True),
}
# The argument spec of the ``registries`` option, identical in every runtime's module.
REGISTRIES_OPTION: dict[str, t.Any] = dict(
    type="list", elements="dict",
    options=dict(registry=dict(type="str", required=True),
                 mirrors=dict(type="list", elements="dict", required=True, options=MIRROR_OPTIONS)))

# RFC 9110 token: the characters of a header name.
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END ([A-Z0-9 ]+)-----", re.S)


class MirrorSpec(t.NamedTuple):
    """One mirror, validated: ``url`` in its normal form (scheme in lower case, no trailing slash)."""
    url: str
    ca: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    skip_verify: bool = False
    capabilities: tuple[str, ...] = DEFAULT_CAPABILITIES
    override_path: bool = False
    headers: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (name, values), in the order given


class Unsupported(t.NamedTuple):
    """What a runtime cannot do with a registry or one of its mirrors: reported in its result, never a failure.
    ``mirror`` is the masked URL (None: the registry as a whole)."""
    registry: str
    mirror: str | None
    what: str
    why: str


class RegistrySpec(t.NamedTuple):
    registry: str
    mirrors: tuple[MirrorSpec, ...]


def _quote(value: t.Any) -> str:
    return json.dumps(mask_url(value) if isinstance(value, str) else value, ensure_ascii=False)


def kind(value: t.Any) -> str:
    """What ``value`` is, in YAML's words (ansible-core hands over subclasses such as ``_AnsibleTaggedStr``)."""
    for types, words in ((bool, "a boolean"), ((int, float), "a number"), (str, "a string"), (dict, "a mapping"),
                         ((list, tuple), "a list")):
        if isinstance(value, types):
            return words
    return "nothing (null)" if value is None else type(value).__name__


def normalise_registry(name: t.Any, allow_default: bool = False) -> str:
    """``host[:port]`` in lower case, Docker Hub's aliases as docker.io; ``_default`` only when ``allow_default``."""
    if not isinstance(name, str):
        raise ConfigError("invalid registry %s: must be a string, host[:port]" % _quote(name))
    lowered = name.strip().lower()
    if lowered == "_default" and not allow_default:
        raise ConfigError("invalid registry \"_default\": this runtime has no default registry entry; name a "
                          "registry, host[:port]")
    lowered = DOCKER_HUB if lowered in DOCKER_HUB_ALIASES else lowered
    try:
        return ctd.validate_registry(lowered)
    except ConfigError:
        raise ConfigError("invalid registry %s: must be host[:port] (for example registry.k8s.io or "
                          "registry.example.com:5000)%s" % (_quote(name), " or _default" if allow_default else "")) \
            from None


def mirror_url(url: t.Any) -> str:
    """A mirror URL checked as dockerd checks mirrors (a path allowed), in its normal form: scheme in lower case,
    no trailing slash."""
    validate_mirror(url, allow_path=True)
    return mirror_key(ctd.normalise_url(url))[:-1]


def host_port(url: str) -> str:
    """The ``host[:port]`` of a mirror URL (the name certificate directories use)."""
    return go_url_parse(url).host


def check_pem(text: t.Any, what: str, where: str) -> str:
    """``text`` must hold PEM blocks only of the kind ``what`` names (certificate, private key), with base64
    bodies. The message names ``where`` (registry and mirror) and never quotes the text."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("%s: %s must be PEM text (a non-empty string)" % (where, what))
    blocks = _PEM_BLOCK.findall(text)
    if not blocks:
        raise ConfigError("%s: %s is not PEM text (no -----BEGIN ...----- / -----END ...----- block); give the "
                          "file's content, not its name" % (where, what))
    for begin, body, end in blocks:
        if begin != end:
            raise ConfigError("%s: %s has a BEGIN %s block closed by END %s" % (where, what, begin, end))
        _check_label(begin, body, what, where)
    return text if text.endswith("\n") else text + "\n"


def _check_label(label: str, body: str, what: str, where: str) -> None:
    if what == "client_key":
        if not label.endswith("PRIVATE KEY") or "ENCRYPTED" in label or "Proc-Type:" in body:
            found = "an encrypted key" if label.endswith("PRIVATE KEY") else label
            raise ConfigError("%s: client_key must be an unencrypted private key (BEGIN PRIVATE KEY, RSA PRIVATE "
                              "KEY or EC PRIVATE KEY), not %s" % (where, found))
    elif label != "CERTIFICATE":
        raise ConfigError("%s: %s must hold certificates (BEGIN CERTIFICATE), not %s" % (where, what, label))
    try:
        base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("%s: %s has a %s block whose body is not base64" % (where, what, label)) from None


def check_headers(headers: t.Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Header names (HTTP tokens) and values (a string or a list of strings), without CR or LF; a message names
    the header, never its value."""
    if headers is None:
        return ()
    if not isinstance(headers, dict):
        raise ConfigError("%s: headers must be a mapping of header name to a value or a list of values" % where)
    result = []
    for name, value in headers.items():
        if not isinstance(name, str) or _TOKEN.match(name) is None:
            raise ConfigError("%s: invalid header name %s (letters, digits and !#$%%&'*+.^_`|~- only)"
                              % (where, _quote(name) if isinstance(name, str) and "\n" not in name else "(hidden)"))
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(item, str) for item in values):
            raise ConfigError("%s: header %s must be a string or a non-empty list of strings" % (where, name))
        if any(re.search(r"[\r\n\x00]", item) for item in values):
            raise ConfigError("%s: header %s holds a line break or NUL in its value (value not shown)"
                              % (where, name))
        result.append((name, tuple(values)))
    return tuple(result)


def parse_mirror(entry: t.Any, registry: str) -> MirrorSpec:
    """One mirror dict (argspec-checked, or the controller's raw entry) as a MirrorSpec; every message names the
    registry and the mirror."""
    if not isinstance(entry, dict):
        raise ConfigError("registry %s: mirror %s must be a URL or a mapping with url" % (registry, _quote(entry)))
    if entry.get("url") is None:
        raise ConfigError("registry %s: a mirror has no url (keys given: %s)" % (registry, ", ".join(map(str, entry))))
    unknown = sorted(str(key) for key in entry if key not in MIRROR_OPTIONS)
    if unknown:
        raise ConfigError("registry %s: mirror %s: unknown key %s (known: %s)"
                          % (registry, _quote(entry.get("url")), ", ".join(unknown), ", ".join(MIRROR_OPTIONS)))
    try:
        url = mirror_url(entry["url"])
    except ConfigError as exc:
        raise ConfigError("registry %s: %s" % (registry, exc.message)) from None
    where = "registry %s, mirror %s" % (registry, _quote(url))
    pems = {key: check_pem(entry[key], key, where) if entry.get(key) is not None else None
            for key in ("ca", "client_cert", "client_key")}
    if (pems["client_cert"] is None) != (pems["client_key"] is None):
        raise ConfigError("%s: client_cert and client_key go together: give both or neither" % where)
    capabilities = entry.get("capabilities")
    capabilities = DEFAULT_CAPABILITIES if capabilities is None else capabilities
    if not isinstance(capabilities, list) and not isinstance(capabilities, tuple) or not capabilities or \
            any(item not in CAPABILITIES for item in capabilities):
        raise ConfigError("%s: capabilities must be a non-empty list of %s, got %s"
                          % (where, ", ".join(CAPABILITIES), _quote(capabilities)))
    return MirrorSpec(url, pems["ca"], pems["client_cert"], pems["client_key"],
                      _flag(entry, "skip_verify", where), tuple(dict.fromkeys(capabilities)),
                      _flag(entry, "override_path", where), check_headers(entry.get("headers"), where))


def _flag(entry: dict[str, t.Any], key: str, where: str) -> bool:
    value = entry.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ConfigError("%s: %s must be true or false, got %s" % (where, key, _quote(value)))
    return value


def _unique_mirrors(specs: list[MirrorSpec], registry: str) -> tuple[MirrorSpec, ...]:
    """Order kept; a mirror given twice alike is written once, twice with different settings is refused."""
    kept: dict[str, MirrorSpec] = {}
    for spec in specs:
        if spec.url in kept and kept[spec.url] != spec:
            raise ConfigError("registry %s: mirror %s is listed twice with different settings"
                              % (registry, _quote(spec.url)))
        kept.setdefault(spec.url, spec)
    return tuple(kept.values())


def parse_registries(registries: t.Any, allow_default: bool = False) -> list[RegistrySpec]:
    """The ``registries`` option as RegistrySpecs, in the order given; a registry named twice (docker.io and one
    of its aliases included) is refused."""
    if not isinstance(registries, list):
        raise ConfigError("registries must be a list of {registry, mirrors}")
    result: list[RegistrySpec] = []
    for item in registries:
        if not isinstance(item, dict) or "registry" not in item:
            raise ConfigError("registries: each entry needs registry and mirrors, got %s" % (
                "the keys " + _quote(sorted(item)) if isinstance(item, dict) else kind(item)))
        name = normalise_registry(item["registry"], allow_default)
        if any(spec.registry == name for spec in result):
            raise ConfigError("registry %s is given twice (%s)" % (name, _quote(item["registry"])))
        mirrors = item.get("mirrors")
        if not isinstance(mirrors, list):
            raise ConfigError("registry %s: mirrors must be a list" % name)
        specs = [parse_mirror({"url": entry} if isinstance(entry, str) else entry, name) for entry in mirrors]
        result.append(RegistrySpec(name, _unique_mirrors(specs, name)))
    return result


def registries_from_single(registry: str, mirrors: t.Sequence[str], capabilities: t.Sequence[str],
                           skip_verify: bool, allow_default: bool = False) -> list[RegistrySpec]:
    """The single-registry options (``registry`` + ``mirrors`` URLs) as the one-entry case of ``registries``.
    ``skip_verify`` concerns TLS only: a plain-http mirror never gets it."""
    entries = [{"url": url, "capabilities": list(capabilities),
                "skip_verify": skip_verify and isinstance(url, str) and url.lower().startswith("https://")}
               for url in mirrors]
    return parse_registries([{"registry": registry, "mirrors": entries}], allow_default)


def secrets(specs: t.Iterable[RegistrySpec]) -> list[str]:
    """Every string that must never be shown: client keys and header values (for module.no_log_values)."""
    found: list[str] = []
    for registry in specs:
        for mirror in registry.mirrors:
            if mirror.client_key:
                found.append(mirror.client_key)
                found.extend(line for line in mirror.client_key.splitlines() if len(line) > 16)
            found.extend(value for dummy, values in mirror.headers for value in values if value)
    return list(dict.fromkeys(found))


def public_mirror(mirror: MirrorSpec) -> dict[str, t.Any]:
    """What a result may show of a mirror: its settings, the header names only, whether TLS files are given."""
    return {"url": mask_url(mirror.url), "capabilities": list(mirror.capabilities), "skip_verify": mirror.skip_verify,
            "override_path": mirror.override_path, "ca": mirror.ca is not None,
            "client_cert": mirror.client_cert is not None, "headers": [name for name, dummy in mirror.headers]}


NO_LOG = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def redact_registries(registries: t.Any) -> t.Any:
    """The ``registries`` option as a result may echo it (``invocation``): URL userinfo masked, client keys and
    header values replaced as Ansible replaces a no_log value. Shapes it does not know are kept as they are."""
    if not isinstance(registries, list):
        return registries
    return [dict(item, mirrors=[_redact_mirror(mirror) for mirror in item["mirrors"]])
            if isinstance(item, dict) and isinstance(item.get("mirrors"), list) else item for item in registries]


def _redact_mirror(mirror: t.Any) -> t.Any:
    if isinstance(mirror, str):
        return mask_url(mirror)
    if not isinstance(mirror, dict):
        return mirror
    shown = dict(mirror)
    if isinstance(shown.get("url"), str):
        shown["url"] = mask_url(shown["url"])
    if shown.get("client_key") is not None:
        shown["client_key"] = NO_LOG
    if isinstance(shown.get("headers"), dict):
        shown["headers"] = {name: NO_LOG for name in shown["headers"]}
    elif shown.get("headers") is not None:
        shown["headers"] = NO_LOG
    return shown


# --------------------------------------------------------------------------- the controller's conversion


def canonical_registries(mapping: t.Any) -> list[dict[str, t.Any]]:
    """The role's ``docker_mirror_registries`` (registry -> ordered list of URL strings or mirror dicts) as the
    ``registries`` option: [{registry, mirrors: [{url, ...}]}], registry names normalised, every value checked
    (a bad shape names the registry and the entry). ``_default`` is kept: each runtime's module decides."""
    if mapping is None:
        return []
    if not isinstance(mapping, dict):
        raise ConfigError("docker_mirror_registries must be a mapping of registry name to a list of mirrors, got %s"
                          % kind(mapping))
    result: list[dict[str, t.Any]] = []
    for name, entries in mapping.items():
        if not isinstance(entries, list):
            raise ConfigError("docker_mirror_registries[%s] must be a list of mirrors (URL strings or mappings with "
                              "url), got %s" % (_quote(name), kind(entries)))
        mirrors = []
        for index, entry in enumerate(entries):
            if isinstance(entry, str):
                mirrors.append({"url": entry})
            elif isinstance(entry, dict):
                mirrors.append(dict(entry))
            else:
                raise ConfigError("docker_mirror_registries[%s] entry %d must be a URL string or a mapping with url, "
                                  "got %s" % (_quote(name), index + 1, kind(entry)))
        result.append({"registry": name, "mirrors": mirrors})
    specs = parse_registries(result, allow_default=True)
    return [{"registry": spec.registry, "mirrors": item["mirrors"]} for spec, item in zip(specs, result)]
