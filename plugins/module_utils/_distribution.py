# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Distribution (Debian's ``docker-registry``) as a pull-through cache: the configuration keys each packaged
release reads, the instances of the registry_cache role checked and rendered (private to this collection).

Pure functions on dicts and strings; the module reads the host and writes the files. Standard library only
(Python 3.8+): the host has no PyYAML, and JSON is YAML to Distribution's gopkg.in/yaml.v2, so a configuration
file is one comment line, then JSON."""

from __future__ import annotations

import copy
import ipaddress
import json
import re
import typing as t
import urllib.parse

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import REDACTED, ConfigError

__all__ = ["ANY", "KEY_TABLES", "release_from_version", "key_table", "unknown_keys", "Instance", "parse_instances",
           "default_remoteurl", "render_config", "render_unit", "config_upstream", "mask_config", "MARKER"]

MARKER = "# Managed by fleetops.docker_mirror.registry_cache"
SERVICE_PREFIX = "registry-cache-"
CONFIG_PREFIX = "cache-"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
DOCKER_HUB_UPSTREAM = "https://registry-1.docker.io"

# --------------------------------------------------------------------------- the keys each release reads

# Any key below this point (a storage driver's parameters, log fields, HTTP headers, middleware options).
ANY: dict[str, t.Any] = {"*": None}


class ListOf(t.NamedTuple):
    """A YAML list whose items are mappings with these keys."""
    keys: dict[str, t.Any]


def _free_map(item: t.Any) -> dict[str, t.Any]:
    """A mapping whose keys are names the operator chooses, each holding ``item``."""
    return {"*": item}


# configuration/configuration.go of github.com/distribution/distribution at tag v2.8.3 (identical at v2.8.2:
# ``git diff v2.8.2 v2.8.3 -- configuration/`` is empty): the yaml tags of struct Configuration and the types it
# uses (Storage and Auth are map[string]Parameters; Middleware map[string][]Middleware; http.Header a free map;
# HTTPChecker.StatusCode has no tag, so yaml.v2 reads it as ``statuscode``). Transcribed field by field.
_SMTP = {"addr": None, "username": None, "password": None, "insecure": None}
_TABLE_2_8: dict[str, t.Any] = {
    "version": None,
    "log": {"accesslog": {"disabled": None}, "level": None, "formatter": None, "fields": ANY,
            "hooks": ListOf({"disabled": None, "type": None, "levels": None,
                             "options": {"smtp": _SMTP, "from": None, "to": None}})},
    "loglevel": None,
    "storage": ANY,
    "auth": ANY,
    "middleware": _free_map(ListOf({"name": None, "disabled": None, "options": ANY})),
    "reporting": {"bugsnag": {"apikey": None, "releasestage": None, "endpoint": None},
                  "newrelic": {"licensekey": None, "name": None, "verbose": None}},
    "http": {"addr": None, "net": None, "host": None, "prefix": None, "secret": None, "relativeurls": None,
             "draintimeout": None,
             "tls": {"certificate": None, "key": None, "clientcas": None, "minimumtls": None, "ciphersuites": None,
                     "letsencrypt": {"cachefile": None, "email": None, "hosts": None}},
             "headers": ANY,
             "debug": {"addr": None, "prometheus": {"enabled": None, "path": None}},
             "http2": {"disabled": None}},
    "notifications": {"events": {"includereferences": None},
                      "endpoints": ListOf({"name": None, "disabled": None, "url": None, "headers": ANY,
                                           "timeout": None, "threshold": None, "backoff": None,
                                           "ignoredmediatypes": None,
                                           "ignore": {"mediatypes": None, "actions": None}})},
    "redis": {"addr": None, "password": None, "db": None, "dialtimeout": None, "readtimeout": None,
              "writetimeout": None, "pool": {"maxidle": None, "maxactive": None, "idletimeout": None}},
    "health": {"file": ListOf({"interval": None, "file": None, "threshold": None}),
               "http": ListOf({"timeout": None, "statuscode": None, "interval": None, "uri": None, "headers": ANY,
                               "threshold": None}),
               "tcp": ListOf({"timeout": None, "interval": None, "addr": None, "threshold": None}),
               "storagedriver": {"enabled": None, "interval": None, "threshold": None}},
    "catalog": {"maxentries": None},
    "proxy": {"remoteurl": None, "username": None, "password": None},
    "compatibility": {"schema1": {"signingkeyfile": None, "enabled": None}},
    "validation": {"enabled": None, "disabled": None, "manifests": {"urls": {"allow": None, "deny": None}}},
    "policy": {"repository": {"classes": None}},
}


def _table_2_7() -> dict[str, t.Any]:
    """The same file at tag v2.7.1: ``git diff v2.7.1 v2.8.3 -- configuration/configuration.go`` adds only
    http.tls.minimumtls, http.tls.ciphersuites and catalog (the rest of the diff is error wording)."""
    table = copy.deepcopy(_TABLE_2_8)
    del table["catalog"]
    del table["http"]["tls"]["minimumtls"]
    del table["http"]["tls"]["ciphersuites"]
    return table


# Debian's packages: bullseye 2.7.1, bookworm 2.8.2, trixie and forky 2.8.3. proxy.ttl exists from 3.0 on only.
KEY_TABLES: dict[str, dict[str, t.Any]] = {"2.7": _table_2_7(), "2.8": _TABLE_2_8}
_VERSION_RE = re.compile(r"(?:^|\s)v?(\d+)\.(\d+)\.(\d+)")


def release_from_version(output: str) -> str | None:
    """The release in ``docker-registry --version``'s answer (``docker-registry github.com/docker/distribution
    2.8.2+ds1`` -> ``2.8.2``); None when it names none."""
    match = _VERSION_RE.search(output or "")
    return ".".join(match.groups()) if match else None


def key_table(release: str) -> dict[str, t.Any] | None:
    """The configuration keys ``release`` reads; None for a release we have no table for."""
    return KEY_TABLES.get(".".join(release.split(".")[:2]))


def unknown_keys(settings: t.Any, table: t.Any, path: str = "") -> list[str]:
    """Every key of ``settings`` (dotted, lists as ``[i]``) that ``table`` does not have."""
    if table is None or table is ANY or (isinstance(table, dict) and table.get("*", 0) is None):
        return []
    if isinstance(table, ListOf):
        if not isinstance(settings, list):
            return []
        return [key for index, item in enumerate(settings)
                for key in unknown_keys(item, table.keys, "%s[%d]" % (path, index))]
    if not isinstance(settings, dict):
        return []
    found = []
    for key, value in settings.items():
        dotted = "%s.%s" % (path, key) if path else str(key)
        below = table.get(key, table.get("*", KeyError)) if isinstance(key, str) else KeyError
        if below is KeyError:
            found.append(dotted)
        else:
            found.extend(unknown_keys(value, below, dotted))
    return found


def shape_problem(settings: t.Any, table: t.Any, path: str = "") -> str | None:
    """The first key of ``settings`` whose value has the wrong shape for ``table`` (a section given a scalar, a
    list of entries given something else, a value given a mapping), as "KEY must be ...", or None."""
    if isinstance(table, ListOf):
        if not isinstance(settings, list):
            return "%s must be a list of mappings, got %r" % (path, settings)
        for index, item in enumerate(settings):
            where = "%s[%d]" % (path, index)
            found = shape_problem(item, table.keys, where) if isinstance(item, dict) else \
                "%s must be a mapping, got %r" % (where, item)
            if found:
                return found
        return None
    if table is None:
        return "%s must be a value, not a mapping" % path if isinstance(settings, dict) else None
    if not isinstance(settings, dict):
        return "%s must be a mapping (a section of the configuration), got %r" % (path, settings)
    if table.get("*", 0) is None:  # ANY: the keys and values below are the operator's
        return None
    for key, value in settings.items():
        below = table.get(key, table.get("*"))
        found = shape_problem(value, below, "%s.%s" % (path, key) if path else str(key))
        if found:
            return found
    return None


# --------------------------------------------------------------------------- one instance


class Instance(t.NamedTuple):
    name: str
    registry: str
    remoteurl: str
    port: int
    address: str
    debug_port: int
    username: str | None
    password: str | None
    settings: dict[str, t.Any]
    probe_image: str | None
    state: str
    purge_storage: bool

    @property
    def service(self) -> str:
        return SERVICE_PREFIX + self.name + ".service"


def default_remoteurl(registry: str) -> str:
    return DOCKER_HUB_UPSTREAM if registry == "docker.io" else "https://" + registry


def check_remoteurl(url: t.Any, where: str) -> str:
    """http(s)://host[:port], no user name (credentials go in username/password), path, query or fragment."""
    if not isinstance(url, str):
        raise ConfigError("%s: remoteurl must be a string, got %r" % (where, url))
    parts = urllib.parse.urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise ConfigError("%s: invalid remoteurl %s: must be http(s)://host[:port]" % (where, url))
    if parts.username or parts.password:
        raise ConfigError("%s: remoteurl %s holds credentials: give them as username and password" % (where, url))
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ConfigError("%s: remoteurl %s has a path, query or fragment: Distribution proxies "
                          "REMOTEURL/v2/ only; give http(s)://host[:port]" % (where, url))
    return "%s://%s" % (parts.scheme, parts.netloc)


def check_port(value: t.Any, what: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ConfigError("%s: %s must be a port number from 1 to 65535, got %r" % (where, what, value))
    return value


def check_address(value: t.Any, where: str) -> str:
    """"" (every address), an IP address or a host name."""
    if not isinstance(value, str):
        raise ConfigError("%s: address must be a string, got %r" % (where, value))
    if value == "":
        return value
    try:
        return str(ipaddress.ip_address(value.strip("[]")))
    except ValueError:
        pass
    if not re.match(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$", value):
        raise ConfigError("%s: invalid address %r: an IP address, a host name, or \"\" for every address"
                          % (where, value))
    return value


# What the role sets (settings may not set it too: two places for one value), and where it is set instead.
MANAGED_SETTINGS = {
    "version": "the role",
    "proxy": "remoteurl, username, password",
    "http.addr": "address, port",
    "http.tls.certificate": "registry_cache_tls",
    "http.tls.key": "registry_cache_tls",
    "http.tls.letsencrypt": "registry_cache_tls (the certificate is the role's)",
    "http.debug.addr": "debug_port",
    "http.debug.prometheus": "the role (verification reads /metrics)",
    "http.prefix": "the role (clients use https://URL_HOST:PORT/)",
    "storage.filesystem.rootdirectory": "registry_cache_storage_root (STORAGE_ROOT/NAME)",
}
# Storage keys that are not a driver (configuration.go's Storage.Type skips them).
STORAGE_NOT_DRIVERS = ("maintenance", "cache", "delete", "redirect")


def check_settings(settings: t.Any, release: str | None, where: str) -> dict[str, t.Any]:
    """Extra configuration: a mapping whose every key the installed release reads, none an option sets."""
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise ConfigError("%s: settings must be a mapping, got %r" % (where, settings))
    if not settings:
        return settings
    table = key_table(release) if release else None
    if table is None:
        raise ConfigError("%s: settings cannot be checked: no configuration table for Distribution %s (known: %s)"
                          % (where, release or "(release unknown)", ", ".join(sorted(KEY_TABLES))))
    unknown = unknown_keys(settings, table)
    if unknown:
        raise ConfigError("%s: settings key %s is not a configuration key of Distribution %s (the installed "
                          "docker-registry): remove it" % (where, unknown[0], release))
    misshapen = shape_problem(settings, table)
    if misshapen:
        raise ConfigError("%s: settings key %s (Distribution would not start): fix it" % (where, misshapen))
    for dotted, owner in MANAGED_SETTINGS.items():
        if _has_path(settings, dotted.split(".")):
            raise ConfigError("%s: settings key %s is set by the role's options (%s): remove it from settings"
                              % (where, dotted, owner))
    drivers = [key for key in settings.get("storage") or {} if key not in STORAGE_NOT_DRIVERS]
    if drivers and drivers != ["filesystem"]:
        raise ConfigError("%s: settings storage.%s: the cache stores in filesystem (under its storage directory); "
                          "Distribution refuses a second storage driver" % (where, drivers[0]))
    return settings


def _has_path(settings: dict[str, t.Any], parts: list[str]) -> bool:
    value: t.Any = settings
    for part in parts:
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    return True


def _text(item: dict[str, t.Any], key: str, where: str) -> str | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError("%s: %s must be a string" % (where, key))
    return value


def parse_instance(item: dict[str, t.Any], release: str | None, address: str, normalise_registry,
                   split_image) -> Instance:
    """One entry of ``instances`` checked (``normalise_registry`` and ``split_image`` come from the shared
    mirror model and the prober, so that a registry means the same everywhere)."""
    name = item.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ConfigError("instance %r: name must match [a-z0-9][a-z0-9-]* (at most 63 characters)" % (name,))
    where = "instance %s" % name
    try:
        registry = normalise_registry(item.get("registry"))
    except ConfigError as exc:
        raise ConfigError("%s: %s" % (where, exc.message)) from None
    port = check_port(item.get("port"), "port", where)
    debug_port = check_port(item.get("debug_port") or port + 10000, "debug_port (default port + 10000)", where)
    username, password = _text(item, "username", where), _text(item, "password", where)
    if bool(username) != bool(password):
        raise ConfigError("%s: username and password go together (upstream credentials): give both or neither"
                          % where)
    if item.get("ttl") not in (None, ""):
        raise ConfigError("%s: ttl: Distribution %s (the installed docker-registry) has no proxy.ttl (it came with "
                          "Distribution 3.0): remove it" % (where, release or "(release unknown)"))
    probe_image = _text(item, "probe_image", where)
    if probe_image and split_image(probe_image, registry) is None:
        raise ConfigError("%s: probe_image %s is not on %s, the registry this cache serves"
                          % (where, probe_image, registry))
    state = item.get("state") or "present"
    if state not in ("present", "absent"):
        raise ConfigError("%s: state must be present or absent, got %r" % (where, state))
    remoteurl = item.get("remoteurl") or default_remoteurl(registry)
    item_address = item.get("address")
    return Instance(name, registry, check_remoteurl(remoteurl, where), port,
                    check_address(address if item_address is None else item_address, where), debug_port,
                    username, password, check_settings(item.get("settings"), release, where), probe_image, state,
                    bool(item.get("purge_storage")))


def parse_instances(items: t.Any, release: str | None, address: str, normalise_registry,
                    split_image) -> list[Instance]:
    """Every instance checked, names unique, and no two present instances on one port."""
    if not isinstance(items, list):
        raise ConfigError("instances must be a list, got %r" % (items,))
    instances = []
    for item in items:
        if not isinstance(item, dict):
            raise ConfigError("each instance must be a mapping, got %r" % (item,))
        instances.append(parse_instance(item, release, address, normalise_registry, split_image))
    check_unique(instances)
    return instances


def check_unique(instances: list[Instance]) -> None:
    names: set[str] = set()
    ports: dict[int, str] = {}
    for instance in instances:
        if instance.name in names:
            raise ConfigError("instance %s is given twice: names are unique on a host" % instance.name)
        names.add(instance.name)
        if instance.state != "present":
            continue
        for port, what in ((instance.port, "port"), (instance.debug_port, "debug_port")):
            if port in ports:
                raise ConfigError("instance %s: %s %d is already used by %s"
                                  % (instance.name, what, port, ports[port]))
            ports[port] = "instance %s" % instance.name


# --------------------------------------------------------------------------- the files of one instance


def deep_merge(base: dict[str, t.Any], extra: dict[str, t.Any]) -> dict[str, t.Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def listen(address: str, port: int) -> str:
    return "%s:%d" % ("[%s]" % address if ":" in address else address, port)


class Paths(t.NamedTuple):
    config_dir: str
    unit_dir: str
    storage_root: str
    tls_cert: str
    tls_key: str

    def config(self, name: str) -> str:
        return "%s/%s%s.yml" % (self.config_dir, CONFIG_PREFIX, name)

    def unit(self, name: str) -> str:
        return "%s/%s%s.service" % (self.unit_dir, SERVICE_PREFIX, name)

    def storage(self, name: str) -> str:
        return "%s/%s" % (self.storage_root, name)


def config_document(instance: Instance, paths: Paths) -> dict[str, t.Any]:
    proxy: dict[str, t.Any] = {"remoteurl": instance.remoteurl}
    if instance.username:
        proxy.update(username=instance.username, password=instance.password)
    base = {
        "version": "0.1",
        "log": {"fields": {"service": SERVICE_PREFIX + instance.name}},
        "storage": {"filesystem": {"rootdirectory": paths.storage(instance.name)},
                    "cache": {"blobdescriptor": "inmemory"}},
        "http": {"addr": listen(instance.address, instance.port),
                 "tls": {"certificate": paths.tls_cert, "key": paths.tls_key},
                 "headers": {"X-Content-Type-Options": ["nosniff"]},
                 "debug": {"addr": listen("127.0.0.1", instance.debug_port),
                           "prometheus": {"enabled": True, "path": "/metrics"}}},
        "health": {"storagedriver": {"enabled": True, "interval": "10s", "threshold": 3}},
        "proxy": proxy,
    }
    return deep_merge(base, instance.settings)


def render_config(instance: Instance, paths: Paths) -> str:
    """The configuration file: the marker line, then JSON (which yaml.v2 reads as YAML)."""
    return "%s: pull-through cache %s of %s\n%s\n" % (
        MARKER, instance.name, instance.registry, json.dumps(config_document(instance, paths), indent=2))


def render_unit(instance: Instance, config_path: str, program: str = "/usr/bin/docker-registry") -> str:
    lines = [
        "%s: pull-through cache %s of %s" % (MARKER, instance.name, instance.registry),
        "[Unit]",
        "Description=Registry pull-through cache %s for %s" % (instance.name, instance.registry),
        "After=network-online.target",
        "Wants=network-online.target",
        # Distribution 2.x pings its upstream at start and exits when it cannot reach it: retry for ever, so that
        # the cache comes up once the upstream answers (systemd's start limit would give up after 5 tries).
        "StartLimitIntervalSec=0",
        "",
        "[Service]",
        "User=docker-registry",
        "Group=docker-registry",
        "ExecStart=%s serve %s" % (program, config_path),
        "Restart=on-failure",
        "RestartSec=5s",
    ]
    if instance.port < 1024:
        lines.append("AmbientCapabilities=CAP_NET_BIND_SERVICE")
    lines += ["", "[Install]", "WantedBy=multi-user.target", ""]
    return "\n".join(lines)


def parse_config(text: str) -> dict[str, t.Any]:
    """A configuration file this module wrote (comment lines, then JSON)."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise ConfigError("not a configuration file written by the registry_cache role (JSON: %s)" % exc) \
            from None
    if not isinstance(document, dict):
        raise ConfigError("not a configuration file written by the registry_cache role (not a mapping)")
    return document


def config_upstream(text: str) -> str | None:
    """proxy.remoteurl of a configuration file; None when it proxies nothing."""
    proxy = parse_config(text).get("proxy")
    url = proxy.get("remoteurl") if isinstance(proxy, dict) else None
    return url if isinstance(url, str) and url else None


def config_ports(text: str) -> list[int]:
    """The ports of http.addr and http.debug.addr in a configuration file this module wrote."""
    http = parse_config(text).get("http")
    http = http if isinstance(http, dict) else {}
    debug = http.get("debug") if isinstance(http.get("debug"), dict) else {}
    ports = []
    for addr in (http.get("addr"), debug.get("addr")):
        port = addr.rpartition(":")[2] if isinstance(addr, str) else ""
        if port.isdigit():
            ports.append(int(port))
    return ports


_FATAL = re.compile(r'level=fatal msg="((?:[^"\\]|\\.)*)"')


def exit_reason(journal: str) -> str | None:
    """Why docker-registry exited, from its unit's journal (``journalctl -o cat``): the last ``panic:`` line or
    ``level=fatal`` message since the unit last started; None when the journal does not say."""
    lines = (journal or "").splitlines()
    starts = [index for index, line in enumerate(lines) if line.startswith("Started ")]
    reason = None
    for line in lines[starts[-1] + 1 if starts else 0:]:
        fatal = _FATAL.search(line)
        if line.startswith("panic: "):
            reason = line[len("panic: "):].strip()
        elif fatal:
            reason = fatal.group(1).replace('\\"', '"')
    return reason


# The configuration keys whose values are credentials (the upstream user name too): never shown.
SECRET_KEYS = ("username", "password", "secret", "apikey", "licensekey")


def secret_values(settings: t.Any) -> list[str]:
    """Every string held by a SECRET_KEYS key anywhere in ``settings`` (to hide them from logs)."""
    if isinstance(settings, list):
        return [value for item in settings for value in secret_values(item)]
    if not isinstance(settings, dict):
        return []
    found = []
    for key, value in settings.items():
        if key in SECRET_KEYS and isinstance(value, str) and value:
            found.append(value)
        else:
            found.extend(secret_values(value))
    return found


def mask_secret_values(settings: t.Any, mask: str) -> t.Any:
    """``settings`` with the value of every SECRET_KEYS key replaced by ``mask``."""
    if isinstance(settings, list):
        return [mask_secret_values(item, mask) for item in settings]
    if not isinstance(settings, dict):
        return settings
    return {key: mask if key in SECRET_KEYS and isinstance(value, str) and value
            else mask_secret_values(value, mask) for key, value in settings.items()}


_SECRET_VALUE = re.compile(r'^(\s*"(?:username|password|secret|apikey|licensekey)"\s*:\s*)"(?:[^"\\]|\\.)*"', re.M)


def mask_config(text: str | None) -> str | None:
    """A configuration file's text for a diff: every credential value (the upstream user name too) replaced by
    xxxxx."""
    return None if text is None else _SECRET_VALUE.sub(lambda match: '%s"%s"' % (match.group(1), REDACTED), text)


def serve_config(argv: t.Sequence[str]) -> str | None:
    """The configuration file of ``docker-registry serve FILE`` (its last word); None for another command."""
    words = [word for word in argv[1:] if not word.startswith("-")]
    if len(words) < 2 or words[0] != "serve":
        return None
    return words[-1]
