# Copyright: fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry_cache role's fleet view: the summary of every cache instance, and the clients' registries built
from every cache host's ``registry_cache_mirrors``. Controller code only; plain dicts in, plain values out
(tests/unit/plugins/plugin_utils/test_cache.py)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._mirror_spec import normalise_registry

VERIFIED_FACT = "__registry_cache_verified"
CONFIGURED_FACT = "__registry_cache_configured"
MIRRORS_FACT = "registry_cache_mirrors"


def _host_var(hostvars, host: str, name: str):
    try:
        host_vars = hostvars[host]
    except KeyError:
        return None
    return host_vars[name] if name in host_vars else None


def instance_line(host: str, item: Mapping) -> str:
    """One instance: answers / upstream / pull of its probe image, or FAILED with every reason."""
    head = "%s %s (%s) %s" % (host, item.get("name"), item.get("registry"), item.get("url"))
    if item.get("problems"):
        return "%s: FAILED: %s" % (head, "; ".join(item["problems"]))
    pulled = "no probe image" if not item.get("probe_image") else "pull of %s ok" % item["probe_image"]
    warnings = "".join("; WARNING: %s" % warning for warning in item.get("warnings") or [])
    return "%s: answers, proxies %s, %s%s" % (head, item.get("upstream"), pulled, warnings)


def unlisted_line(host: str, item: Mapping) -> str:
    """An instance of ours on the host that the list no longer names (a rename leaves the old one behind)."""
    runs = "still runs" if item.get("active") else "is installed (not running)"
    return ("%s %s: NOT IN registry_cache_instances, %s %s (renamed or dropped? list it with state: absent to "
            "remove it)" % (host, item.get("name"), item.get("service"), runs))


def summary_lines(verified: Mapping, unlisted: Mapping | None = None) -> list[str]:
    """``verified``: host -> the registry_cache_info result (None or skipped: not verified); ``unlisted``: host ->
    the instances of ours the list does not name (the registry_cache module's ``unlisted``)."""
    lines, total, ok = [], 0, 0
    for host, result in verified.items():
        if not isinstance(result, Mapping) or "instances" not in result:
            why = "failed before verification" if result is None else result.get("msg") or "skipped"
            lines.append("%s: not verified (%s)" % (host, why))
        else:
            for item in result["instances"]:
                total += 1
                ok += not item.get("problems")
                lines.append(instance_line(host, item))
        lines.extend(unlisted_line(host, item) for item in (unlisted or {}).get(host) or [])
    return ["registry_cache: %d/%d instances verified" % (ok, total)] + lines


def registry_cache_summary(hostvars, hosts) -> list[str]:
    """Filter: the summary of every host's verification (run_once at the end of the role)."""
    configured = {host: _host_var(hostvars, host, CONFIGURED_FACT) for host in hosts}
    return summary_lines({host: _host_var(hostvars, host, VERIFIED_FACT) for host in hosts},
                         {host: result.get("unlisted") for host, result in configured.items()
                          if isinstance(result, Mapping)})


def _url(mirror) -> str | None:
    if isinstance(mirror, str):
        return mirror.rstrip("/")
    if isinstance(mirror, Mapping) and isinstance(mirror.get("url"), str):
        return mirror["url"].rstrip("/")
    return None


def _registry_key(name):
    """A registry as the clients' mirror model names it (docker.io for Docker Hub's aliases, lower case); a name
    it refuses is kept as given, for the clients to refuse naming it."""
    try:
        return normalise_registry(name, allow_default=True)
    except ConfigError:
        return name


def merge_registries(cache_mirrors: list[Mapping], user_registries: Mapping | None = None) -> dict[str, list]:
    """One docker_mirror_registries: every cache host's mirrors (in host order), then the user's mirrors for the
    same registry (however the user spells it), then the user's other registries; a URL already there is not
    repeated (two caches behind one name)."""
    merged: dict[str, list] = {}
    sources = [mirrors or {} for mirrors in cache_mirrors] + [user_registries or {}]
    for mirrors in sources:
        for registry, entries in mirrors.items():
            kept = merged.setdefault(_registry_key(registry), [])
            seen = {_url(entry) for entry in kept}
            for entry in entries or []:
                url = _url(entry)
                if url is None or url not in seen:  # an entry without a URL is the clients' to refuse
                    kept.append(entry)
                    seen.add(url)
    return merged


def registry_cache_registries(hostvars, hosts, user_registries=None, user_docker_mirrors=None) -> dict[str, list]:
    """Filter: docker_mirror_registries for the clients from every host of ``hosts`` that holds
    registry_cache_mirrors; the user's docker_mirror_registries, then docker_mirror_registry_mirrors (docker.io),
    after the caches."""
    caches = [_host_var(hostvars, host, MIRRORS_FACT) for host in hosts]
    user = dict(user_registries or {})
    if user_docker_mirrors:
        user["docker.io"] = list(user.get("docker.io") or []) + list(user_docker_mirrors)
    return merge_registries([mirrors for mirrors in caches if isinstance(mirrors, Mapping)], user)


def _name_matches(name: str, host: str) -> bool:
    """Whether a subject alternative name (DNS:x, IP:x) covers ``host`` as Go's crypto/x509 checks it: an
    address against IP names only, a host name against DNS names, case-insensitive, ``*.`` for one label."""
    kind, _sep, value = name.partition(":")
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is not None or kind == "IP":
        try:
            return kind == "IP" and address is not None and ipaddress.ip_address(value) == address
        except ValueError:
            return False
    value, host = value.lower().rstrip("."), host.lower().rstrip(".")
    if value.startswith("*."):
        return "." in host and host.split(".", 1)[1] == value[2:]
    return kind == "DNS" and value == host


def tls_problems(cert_info: Mapping, key_info: Mapping, url_host: str, cert_path: str, key_path: str) -> list[str]:
    """What stops the operator's certificate from serving the caches: a key of another certificate (Distribution
    exits at start: every instance would go down), an expired certificate, or no name the clients use.
    ``cert_info``/``key_info``: community.crypto's x509_certificate_info and openssl_privatekey_info results."""
    problems = []
    if (key_info.get("public_key") or "").strip() != (cert_info.get("public_key") or "").strip():
        problems.append("the key %s does not match the certificate %s (its public key differs)" % (key_path, cert_path))
    if cert_info.get("expired"):
        problems.append("the certificate %s expired (not after %s)" % (cert_path, cert_info.get("not_after")))
    names = list(cert_info.get("subject_alt_name") or [])
    if not any(_name_matches(name, url_host) for name in names):
        problems.append("the certificate %s does not name %s (registry_cache_url_host), which the clients use: its "
                        "names are %s" % (cert_path, url_host, ", ".join(names) or "(none)"))
    return problems


def registry_cache_missing(registries, hostvars, hosts) -> list[str]:
    """Filter: the cache mirrors (registry URL) of every host of ``hosts`` that ``registries`` (the clients'
    docker_mirror_registries as the play resolves it) lacks: an extra var replaced the caches' mirrors."""
    given = {(_registry_key(registry), _url(entry)) for registry, entries in (registries or {}).items()
             for entry in entries or []}
    caches = merge_registries([mirrors for mirrors in (_host_var(hostvars, host, MIRRORS_FACT) for host in hosts)
                               if isinstance(mirrors, Mapping)])
    return ["%s %s" % (registry, _url(entry)) for registry, entries in caches.items() for entry in entries
            if (registry, _url(entry)) not in given]
