# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry_cache fleet view: the summary lines and the clients' registries merged from every cache host."""

from __future__ import annotations

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.plugin_utils import _cache

CA = "-----BEGIN CERTIFICATE-----\n"
OK = {"name": "hub", "registry": "docker.io", "url": "https://c1:5443", "upstream": "https://registry-1.docker.io",
      "probe_image": "hello:1", "problems": []}


@pytest.mark.parametrize("verified, lines", [
    ({"c1": {"instances": [OK]}},
     ["registry_cache: 1/1 instances verified",
      "c1 hub (docker.io) https://c1:5443: answers, proxies https://registry-1.docker.io, pull of hello:1 ok"]),
    ({"c1": {"instances": [dict(OK, probe_image="", problems=["x509: bad", "health: down"])]}},
     ["registry_cache: 0/1 instances verified", "c1 hub (docker.io) https://c1:5443: FAILED: x509: bad; health: down"]),
    ({"c1": {"instances": [dict(OK, probe_image="")]}, "c2": None},
     ["registry_cache: 1/1 instances verified",
      "c1 hub (docker.io) https://c1:5443: answers, proxies https://registry-1.docker.io, no probe image",
      "c2: not verified (failed before verification)"]),
    ({"c1": {"skipped": True}}, ["registry_cache: 0/0 instances verified", "c1: not verified (skipped)"]),
    ({"c1": {"instances": [dict(OK, warnings=["upstream https://registry-1.docker.io does not answer (refused)"])]}},
     ["registry_cache: 1/1 instances verified",
      "c1 hub (docker.io) https://c1:5443: answers, proxies https://registry-1.docker.io, pull of hello:1 ok; "
      "WARNING: upstream https://registry-1.docker.io does not answer (refused)"]),
])
def test_summary_lines(verified: dict, lines: list[str]) -> None:
    assert _cache.summary_lines(verified) == lines


def test_summary_names_instances_left_out_of_the_list() -> None:
    hostvars = {"c1": {_cache.VERIFIED_FACT: {"instances": [OK]},
                       _cache.CONFIGURED_FACT: {"unlisted": [{"name": "old", "service": "registry-cache-old.service",
                                                              "active": True}]}}}
    assert _cache.registry_cache_summary(hostvars, ["c1"]) == [
        "registry_cache: 1/1 instances verified",
        "c1 hub (docker.io) https://c1:5443: answers, proxies https://registry-1.docker.io, pull of hello:1 ok",
        "c1 old: NOT IN registry_cache_instances, registry-cache-old.service still runs (renamed or dropped? list it "
        "with state: absent to remove it)"]


def test_summary_reads_hostvars() -> None:
    hostvars = {"c1": {_cache.VERIFIED_FACT: {"instances": [OK]}}}
    assert _cache.registry_cache_summary(hostvars, ["c1", "gone"])[0] == "registry_cache: 1/1 instances verified"


@pytest.mark.parametrize("caches, user, merged", [
    ([{"docker.io": [{"url": "https://c1:5443", "ca": CA}]}, {"docker.io": [{"url": "https://c2:5443", "ca": CA}]}],
     {}, {"docker.io": [{"url": "https://c1:5443", "ca": CA}, {"url": "https://c2:5443", "ca": CA}]}),
    ([{"docker.io": [{"url": "https://c1:5443", "ca": CA}]}],
     {"docker.io": ["https://mirror.gcr.io", "https://c1:5443/"], "quay.io": ["https://q.example"]},
     {"docker.io": [{"url": "https://c1:5443", "ca": CA}, "https://mirror.gcr.io"],
      "quay.io": ["https://q.example"]}),
    ([], {"ghcr.io": [{"url": "https://g.example"}]}, {"ghcr.io": [{"url": "https://g.example"}]}),
    ([], None, {}),
    # The user names Docker Hub by an alias (or another case): one registry, the cache's mirror first.
    ([{"docker.io": [{"url": "https://c1:5443", "ca": CA}]}],
     {"index.docker.io": ["https://mirror.gcr.io"], "Quay.IO": ["https://q.example"]},
     {"docker.io": [{"url": "https://c1:5443", "ca": CA}, "https://mirror.gcr.io"],
      "quay.io": ["https://q.example"]}),
    # Two caches behind one name (a shared url_host): listed once.
    ([{"docker.io": [{"url": "https://cache.example:5443", "ca": CA}]},
      {"docker.io": [{"url": "https://cache.example:5443", "ca": CA}]}], {},
     {"docker.io": [{"url": "https://cache.example:5443", "ca": CA}]}),
])
def test_merge_registries(caches: list, user: dict, merged: dict) -> None:
    assert _cache.merge_registries(caches, user) == merged


def test_registries_from_hostvars_caches_first_then_the_users() -> None:
    hostvars = {"c1": {_cache.MIRRORS_FACT: {"docker.io": [{"url": "https://c1:5443", "ca": CA}]}}, "client": {}}
    assert _cache.registry_cache_registries(hostvars, ["client", "c1"], {"quay.io": ["https://q"]},
                                            ["https://mirror.gcr.io"]) == {
        "docker.io": [{"url": "https://c1:5443", "ca": CA}, "https://mirror.gcr.io"], "quay.io": ["https://q"]}


PUB = "-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n"
CERT_INFO = {"public_key": PUB, "expired": False, "not_after": "20300101000000Z",
             "subject_alt_name": ["DNS:cache.example", "DNS:*.caches.example", "IP:10.0.0.5", "IP:::1"]}


@pytest.mark.parametrize("cert, key, url_host, problems", [
    (CERT_INFO, {"public_key": PUB}, "cache.example", []),
    (CERT_INFO, {"public_key": PUB}, "CACHE.example", []),
    (CERT_INFO, {"public_key": PUB}, "c7.caches.example", []),
    (CERT_INFO, {"public_key": PUB}, "10.0.0.5", []),
    (CERT_INFO, {"public_key": PUB}, "0:0::1", []),
    (CERT_INFO, {"public_key": PUB.replace("AAA", "BBB")}, "cache.example",
     ["the key c.key does not match the certificate c.crt (its public key differs)"]),
    (dict(CERT_INFO, expired=True, not_after="20200201000000Z"), {"public_key": PUB}, "cache.example",
     ["the certificate c.crt expired (not after 20200201000000Z)"]),
    (CERT_INFO, {"public_key": PUB}, "a.b.caches.example",
     ["the certificate c.crt does not name a.b.caches.example (registry_cache_url_host), which the clients use: "
      "its names are DNS:cache.example, DNS:*.caches.example, IP:10.0.0.5, IP:::1"]),
    (dict(CERT_INFO, subject_alt_name=None), {"public_key": PUB}, "10.0.0.6",
     ["the certificate c.crt does not name 10.0.0.6 (registry_cache_url_host), which the clients use: its names "
      "are (none)"]),
])
def test_tls_problems(cert: dict, key: dict, url_host: str, problems: list) -> None:
    assert _cache.tls_problems(cert, key, url_host, "c.crt", "c.key") == problems


@pytest.mark.parametrize("registries, missing", [
    ({"docker.io": [{"url": "https://c1:5443", "ca": CA}, "https://mirror.gcr.io"]}, []),
    ({"index.docker.io": ["https://c1:5443/"]}, []),
    ({"docker.io": ["https://mirror.gcr.io"]}, ["docker.io https://c1:5443"]),  # -e replaced the caches' mirrors
    (None, ["docker.io https://c1:5443"]),
])
def test_missing_cache_mirrors(registries: dict, missing: list) -> None:
    hostvars = {"c1": {_cache.MIRRORS_FACT: {"docker.io": [{"url": "https://c1:5443", "ca": CA}]}}, "client": {}}
    assert _cache.registry_cache_missing(registries, hostvars, ["c1", "client"]) == missing
