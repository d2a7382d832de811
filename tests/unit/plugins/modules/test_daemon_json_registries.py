# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""daemon_json with ``registries`` (the shared mirror model) on the fake Docker host: hosts.toml per registry in
certs_dir with the containerd image store, docker.io in registry-mirrors and per-mirror-host certificate files on
the classic store, what Docker cannot do reported, secrets never shown, every refusal before anything is written."""

from __future__ import annotations

import json
import os
import stat
import tomllib
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.modules import daemon_json

CA = "-----BEGIN CERTIFICATE-----\nTUlJQmNhY2VydA==\n-----END CERTIFICATE-----\n"
CERT = "-----BEGIN CERTIFICATE-----\nY2xpZW50Y2VydA==\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nU0VDUkVUS0VZU0VDUkVUS0VZU0VDUkVU\n-----END PRIVATE KEY-----\n"
TOKEN = "Bearer t0ken-never-shown"
LOOP = "http://127.0.0.1:5000"
TLS = "https://mirror.example:5443"
SNAPSHOTTER = {"features": {"containerd-snapshotter": True}}


def run(host, check_mode: bool = False, diff: bool = False, **params: t.Any) -> dict[str, t.Any]:
    params.setdefault("path", host.path)
    params.setdefault("certs_dir", certs_dir(host))
    return host.run(daemon_json.main, check_mode=check_mode, diff=diff, **params)


def certs_dir(host) -> str:
    return os.path.join(host.root, "docker", "certs.d")


def hosts_toml(host, registry: str) -> str:
    return os.path.join(certs_dir(host), registry, "hosts.toml")


def toml(path: str) -> dict[str, t.Any]:
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def document(host) -> dict[str, t.Any]:
    return json.loads(host.read(host.path)) if os.path.exists(host.path) else {}


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def k8s(**extra: t.Any) -> list[dict[str, t.Any]]:
    return [{"registry": "docker.io", "mirrors": [{"url": LOOP}]},
            {"registry": "registry.k8s.io", "mirrors": [dict({"url": LOOP, "capabilities": ["pull"]}, **extra)]}]


def tree(host) -> dict[str, bytes]:
    """Every file under the fake host's docker directory (daemon.json, certs.d)."""
    root = os.path.dirname(host.path)
    return {os.path.join(base, name): host.read(os.path.join(base, name))
            for base, dummy, names in os.walk(root) for name in names}


# --------------------------------------------------------------------------- containerd image store


@pytest.mark.parametrize("how", ["daemon.json features", "live daemon"])
def test_image_store_writes_hosts_toml_per_registry(host, how: str) -> None:
    host.set(version="28.5.2", dockerd_version="28.5.2")
    if how == "live daemon":
        host.set(image_store="containerd")
    else:
        host.write(host.path, json.dumps(SNAPSHOTTER))
    result = run(host, registries=k8s(), diff=True)
    assert result["changed"] and result["image_store"] == "containerd" and result["unsupported"] == []
    assert toml(hosts_toml(host, "docker.io")) == {"server": "https://registry-1.docker.io",
                                                   "host": {LOOP: {"capabilities": ["pull", "resolve"]}}}
    assert toml(hosts_toml(host, "registry.k8s.io")) == {"server": "https://registry.k8s.io",
                                                         "host": {LOOP: {"capabilities": ["pull"]}}}
    assert host.read(hosts_toml(host, "docker.io")).decode().startswith(daemon_json.OWNER.marker + "\n")
    # docker.io in daemon.json too: docker info shows the mirror hosts.toml lists (and the hosts.toml wins).
    assert document(host)["registry-mirrors"] == [LOOP]
    assert sorted(result["registries"]) == ["docker.io", "registry.k8s.io"]
    assert result["registries"]["registry.k8s.io"]["path"] == hosts_toml(host, "registry.k8s.io")
    assert result["apply_action"] == "reload" and set(result["paths"]) == {
        host.path, hosts_toml(host, "docker.io"), hosts_toml(host, "registry.k8s.io")}
    assert len(result["diff"]) == 3
    host.set(mirrors=[LOOP + "/"])  # Docker took the file
    again = run(host, registries=k8s())
    assert again["changed"] is False and again["apply_needed"] is False and again["paths"] == []


def test_hosts_toml_alone_needs_no_apply(host) -> None:
    host.set(version="28.5.2", image_store="containerd")
    result = run(host, registries=[{"registry": "quay.io", "mirrors": [{"url": LOOP}]}])
    assert result["changed"] and result["paths"] == [hosts_toml(host, "quay.io")]
    assert result["apply_needed"] is False and result["apply_action"] == "" and result["changed_keys"] == []
    assert not os.path.exists(host.path), "docker.io not listed: daemon.json untouched"


def test_image_store_secrets_headers_and_override_path(host) -> None:
    host.set(version="28.5.2", image_store="containerd")
    registries = [{"registry": "ghcr.io", "mirrors": [{"url": TLS + "/ghcr", "override_path": True, "ca": CA,
                                                       "client_cert": CERT, "client_key": KEY,
                                                       "headers": {"Authorization": TOKEN}}]}]
    result = run(host, registries=registries, diff=True)
    assert result["unsupported"] == []
    path = hosts_toml(host, "ghcr.io")
    assert toml(path)["host"][TLS + "/ghcr"]["header"] == {"Authorization": TOKEN}
    assert mode(path) == 0o600 and mode(os.path.join(certs_dir(host), "ghcr.io", "mirror.example_5443.client.key")) \
        == 0o600
    text = json.dumps(result)
    assert TOKEN not in text and "U0VDUkVU" not in text


def test_exclusive_removes_our_registries_no_longer_listed(host) -> None:
    host.set(version="28.5.2", image_store="containerd")
    run(host, registries=k8s())
    foreign = host.write(hosts_toml(host, "quay.io"), 'server = "https://quay.io"\n')
    result = run(host, registries=k8s()[1:], exclusive=True)
    assert not os.path.exists(hosts_toml(host, "docker.io")) and os.path.exists(hosts_toml(host, "registry.k8s.io"))
    assert host.read(hosts_toml(host, "quay.io")) == foreign
    assert document(host)["registry-mirrors"] == [], "exclusive without docker.io: registry-mirrors emptied"
    assert result["registries"]["docker.io"]["mirrors"] == []


def test_absent_removes_hosts_toml_and_docker_io_mirrors(host) -> None:
    host.set(version="28.5.2", image_store="containerd")
    run(host, registries=k8s())
    result = run(host, registries=k8s(), state="absent")
    assert result["changed"] and os.listdir(certs_dir(host)) == []
    assert document(host)["registry-mirrors"] == []


def test_switching_the_image_store_needs_a_restart(host) -> None:
    host.set(version="28.5.2", dockerd_version="28.5.2")
    host.write(host.path, "{}")
    result = run(host, registries=k8s(), settings=SNAPSHOTTER)
    assert result["image_store"] == "containerd" and os.path.exists(hosts_toml(host, "registry.k8s.io"))
    assert result["apply_action"] == "restart" and result["reload_sufficient"] is True


# --------------------------------------------------------------------------- classic image store


def test_classic_reports_other_registries_and_writes_docker_io(host) -> None:
    result = run(host, registries=k8s())
    assert result["image_store"] == "classic" and document(host) == {"registry-mirrors": [LOOP]}
    assert result["unsupported"] == [{"registry": "registry.k8s.io", "mirror": LOOP, "what": "registry",
                                      "why": daemon_json.dm.CLASSIC_WHY}]
    assert not os.path.exists(certs_dir(host)) and result["registries"]["docker.io"]["path"] == host.path
    assert result["changed"] and not result["failed"]


def test_classic_certificates_per_mirror_host(host) -> None:
    registries = [{"registry": "docker.io", "mirrors": [{"url": TLS, "ca": CA, "client_cert": CERT,
                                                         "client_key": KEY, "skip_verify": False}]}]
    result = run(host, registries=registries, diff=True)
    directory = os.path.join(certs_dir(host), "mirror.example:5443")
    assert sorted(os.listdir(directory)) == ["ca.crt", "client.cert", "client.key"]
    assert host.read(os.path.join(directory, "ca.crt")).decode() == daemon_json.OWNER.marker + "\n" + CA
    assert mode(os.path.join(directory, "client.key")) == 0o600 and mode(os.path.join(directory, "ca.crt")) == 0o644
    assert "U0VDUkVU" not in json.dumps(result) and len(result["diff"]) == 4
    assert run(host, registries=registries)["changed"] is False
    run(host, registries=[{"registry": "docker.io", "mirrors": [{"url": TLS}]}])
    assert not os.path.exists(directory), "the mirror no longer gives certificates: ours go"


def test_classic_foreign_certificate_is_refused_before_anything_is_written(host) -> None:
    original = host.write(os.path.join(certs_dir(host), "mirror.example:5443", "ca.crt"), "an operator's CA\n")
    before = tree(host)
    result = run(host, registries=[{"registry": "docker.io", "mirrors": [{"url": TLS, "ca": CA}]}])
    assert result["failed"] and "exists with other content" in result["msg"] and "ca.crt" in result["msg"]
    assert tree(host) == before and original


@pytest.mark.parametrize("mirror, version, what, written", [
    ({"url": TLS + "/v2", "override_path": True}, "28.5.2", "override_path", False),
    ({"url": TLS + "/hub"}, "20.10.24", "path /hub", False),
    ({"url": TLS + "/hub"}, "28.5.2", None, True),
    ({"url": TLS, "capabilities": ["pull"]}, "20.10.24", "capabilities: pull", False),
    ({"url": TLS, "capabilities": ["pull", "resolve", "push"]}, "20.10.24", "capabilities: push", True),
    ({"url": TLS, "headers": {"Authorization": TOKEN}}, "20.10.24", "headers: Authorization", True),
])
def test_classic_docker_io_gaps(host, mirror: dict[str, t.Any], version: str, what: str | None,
                                written: bool) -> None:
    host.set(version=version, dockerd_version=version)
    result = run(host, registries=[{"registry": "docker.io", "mirrors": [mirror]}])
    assert [gap["what"] for gap in result["unsupported"]] == ([what] if what else [])
    assert document(host).get("registry-mirrors", []) == ([mirror["url"]] if written else [])
    assert TOKEN not in json.dumps(result)


@pytest.mark.parametrize("mirror, insecure", [
    ({"url": TLS, "skip_verify": True}, ["mirror.example:5443"]),
    ({"url": "http://10.0.0.5:5000"}, ["10.0.0.5:5000"]),
    ({"url": LOOP}, None),
])
def test_classic_insecure_registries_for_mirror_hosts(host, mirror: dict[str, t.Any], insecure) -> None:
    host.write(host.path, '{"insecure-registries": ["theirs.example"]}')
    run(host, registries=[{"registry": "docker.io", "mirrors": [mirror]}], exclusive=True)
    assert document(host)["insecure-registries"] == ["theirs.example"] + (insecure or [])


# --------------------------------------------------------------------------- refusals


def test_registries_and_registry_mirrors_are_mutually_exclusive(host) -> None:
    result = run(host, registries=k8s(), registry_mirrors=[LOOP])
    assert result["failed"] and "mutually exclusive" in result["msg"] and not os.path.exists(host.path)


def test_relative_certs_dir_is_refused(host) -> None:
    result = run(host, registries=k8s(), certs_dir="certs.d")
    assert result["failed"] and "certs_dir must be an absolute path" in result["msg"]
    assert not os.path.exists(host.path)


def test_foreign_hosts_toml_is_refused_unless_forced(host) -> None:
    host.set(version="28.5.2", image_store="containerd")
    foreign = host.write(hosts_toml(host, "registry.k8s.io"), 'server = "https://registry.k8s.io"\n')
    result = run(host, registries=k8s())
    assert result["failed"] and result["msg"].startswith(hosts_toml(host, "registry.k8s.io") + ": not written")
    assert host.read(hosts_toml(host, "registry.k8s.io")) == foreign
    assert not os.path.exists(host.path) and not os.path.exists(hosts_toml(host, "docker.io"))
    assert run(host, registries=k8s(), force=True)["changed"]
    assert toml(hosts_toml(host, "registry.k8s.io"))["host"] == {LOOP: {"capabilities": ["pull"]}}


def test_daemon_json_refused_puts_the_registry_files_back(host, monkeypatch) -> None:
    host.set(version="28.5.2", dockerd_version="28.5.2", image_store="containerd")
    monkeypatch.setattr(daemon_json, "check_keys", lambda values, version: None)
    original = host.write(host.path, '{"debug": true}\n')
    result = run(host, registries=k8s(), settings={"refuse-me": 1})
    assert result["failed"] and "dockerd --validate rejected" in result["msg"]
    assert tree(host) == {host.path: original}


def test_check_mode_writes_nothing(host) -> None:
    host.set(version="28.5.2", image_store="containerd")
    result = run(host, check_mode=True, registries=k8s())
    assert result["changed"] and len(result["paths"]) == 3 and tree(host) == {}


def test_invalid_registry_names_the_value(host) -> None:
    result = run(host, registries=[{"registry": "Not A Host", "mirrors": [{"url": LOOP}]}])
    assert result["failed"] and "invalid registry" in result["msg"] and not os.path.exists(host.path)


def test_classic_two_cas_for_one_mirror_host_are_refused(host) -> None:
    other = CA.replace("TUlJQmNhY2VydA==", "T1RIRVJDQQ==")
    host.set(version="28.5.2")  # a path in a mirror URL from 25.0
    result = run(host, registries=[{"registry": "docker.io", "mirrors": [{"url": TLS, "ca": CA},
                                                                         {"url": TLS + "/b", "ca": other}]}])
    assert result["failed"] and result["msg"].startswith(certs_dir(host) + ": ") and "give both the same" in \
        result["msg"]
    assert tree(host) == {} and "TUlJ" not in result["msg"]


# --------------------------------------------------------------------------- probe: do the mirrors answer?

tls_server = pytest.importorskip(
    "ansible_collections.fleetops.docker_mirror.tests.unit.plugins.module_utils.tls_server")


def test_probe_asks_the_mirrors_the_file_gives_docker(host) -> None:
    """Classic store: docker.io's mirrors as written (not yet live) asked over plain HTTP; another registry is not
    Docker's to mirror (nothing asked for it)."""
    registry = tls_server.Registry()
    dead = "http://127.0.0.1:%d" % tls_server.closed_port()
    try:
        result = run(host, registries=[{"registry": "docker.io", "mirrors": [{"url": registry.url}, {"url": dead}]},
                                       {"registry": "registry.k8s.io", "mirrors": [{"url": registry.url}]}],
                     probe=True)
    finally:
        registry.close()
    hub = result["live_registries"]["docker.io"]
    assert [probe["ok"] for probe in hub["probes"]] == [True, False], hub
    assert hub["probes"][1]["mirror"] == dead and hub["probes"][1]["error"]
    assert [request[:2] for request in registry.requests] == [("GET", "/v2/")]
    k8s_view = result["live_registries"]["registry.k8s.io"]
    assert k8s_view["unsupported"] and k8s_view["probes"] is None


def test_no_probe_asks_nothing(host) -> None:
    registry = tls_server.Registry()
    try:
        result = run(host, registries=[{"registry": "docker.io", "mirrors": [{"url": registry.url}]}])
    finally:
        registry.close()
    assert "live_registries" not in result and registry.requests == []
