# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mirrors_info's ``registries`` (every registry, as each runtime reaches its mirrors) and its probes, on the fake
host of test_mirrors_info.py, with mirrors started in the test on 127.0.0.1 (plain HTTP, and TLS with a CA made
here). Nothing but the loopback is ever asked."""

from __future__ import annotations

import json
import os
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _reach
from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.modules.test_mirrors_info import (  # noqa: F401 pylint: disable=unused-import
    fake,
    run,
)

tls_server = pytest.importorskip(
    "ansible_collections.fleetops.docker_mirror.tests.unit.plugins.module_utils.tls_server")

SECRET = "Bearer s3cr3t-t0ken"
SECOND = "registry.test:5443"
IMAGE = "/v2/library/busybox/manifests/latest"


class Lab(t.NamedTuple):
    root: str
    pki: t.Any
    client: tuple[str, str]
    tls: t.Any  # TLS with the CA's certificate for 127.0.0.1, wants no client certificate
    mtls: t.Any  # the same, wants a client certificate from the CA
    plain: t.Any  # plain HTTP, holds busybox
    empty: t.Any  # plain HTTP, holds nothing


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> t.Iterator[Lab]:
    root = str(tmp_path_factory.mktemp("mirrors"))
    pki = tls_server.Pki(root)
    server = pki.issue("server")
    servers = dict(tls=tls_server.Registry(tls=server, images={IMAGE}),
                   mtls=tls_server.Registry(tls=server, client_ca=pki.ca_file),
                   plain=tls_server.Registry(images={IMAGE}), empty=tls_server.Registry())
    yield Lab(root, pki, pki.issue("client", ip=None, client=True), **servers)
    for registry in servers.values():
        registry.close()


def read(path: str) -> str:
    with open(path) as handle:
        return handle.read()


def hosts_toml(host, directory: str, *tables: str) -> str:
    path = os.path.join(directory, "hosts.toml")
    host.write(path, "".join(tables))
    return path


def tls_table(url: str, ca: str | None = "ca.crt", client: bool = False) -> str:
    lines = ['[host."%s"]' % url, '  capabilities = ["pull", "resolve"]']
    if ca:
        lines.append('  ca = "%s"' % ca)
    if client:
        lines.append('  client = [["client.cert", "/abs/client.key"]]')
    lines += ['  [host."%s".header]' % url, '    Authorization = "%s"' % SECRET, ""]
    return "\n".join(lines)


def view(url: str, **changes: t.Any) -> dict[str, t.Any]:
    shown = {"url": url, "capabilities": None, "ca": [], "client": [], "skip_verify": False, "override_path": False,
             "headers": [], "certs_dir": None, "error": None}
    return dict(shown, **changes)


def probe(url: str, ok: bool = True, status: int | None = 200, error: str | None = None) -> dict[str, t.Any]:
    return {"mirror": url, "ok": ok, "status": status, "error": error, "note": None}


def entry(mirrors: list[str] | None, source: str | None, hosts: list[dict[str, t.Any]],
          probes: list[dict[str, t.Any]] | None = None, **changes: t.Any) -> dict[str, t.Any]:
    return dict({"mirrors": mirrors, "source": source, "hosts": hosts, "probes": probes, "image": None,
                 "error": None, "unsupported": None}, **changes)


def registries(host, fake, runtime: str, **params: t.Any) -> dict[str, t.Any]:
    result = run(host, fake, runtimes=[runtime], keep_registries=True, **params)
    assert not result["failed"], result
    assert SECRET not in json.dumps(result) and SECRET not in json.dumps(host.invocation)
    return result["runtimes"][runtime]["registries"]


# --------------------------------------------------------------------------- containerd


@pytest.mark.parametrize("ca_file, ca_named, ok, error", [
    (True, True, True, None),
    (False, False, False, "x509: certificate signed by unknown authority"),
    (False, True, False, "cannot load CA file "),  # containerd fails the pull too
])
def test_containerd_every_registry_probed_with_its_trust(host, fake, lab: Lab, ca_file: bool, ca_named: bool,
                                                         ok: bool, error: str | None) -> None:
    docker_io = hosts_toml(host, os.path.join(fake.hosts_dir, "docker.io"), '[host."%s"]\n' % lab.plain.url)
    directory = os.path.join(fake.hosts_dir, SECOND.replace(":", "_") + "_")  # containerd's host_port_ form first
    if ca_file:
        host.write(os.path.join(directory, "ca.crt"), read(lab.pki.ca_file))
    path = hosts_toml(host, directory, 'server = "https://%s"\n' % SECOND,
                      tls_table(lab.tls.url, "ca.crt" if ca_named else None))
    before = len(lab.tls.requests)
    got = registries(host, fake, "containerd", registries=["docker.io", SECOND], probe=True)
    assert list(got) == ["docker.io", SECOND]
    assert got["docker.io"] == entry([lab.plain.url], docker_io,
                                     [view(lab.plain.url, capabilities=["pull", "resolve", "push"])],
                                     [probe(lab.plain.url)])
    second = got[SECOND]
    assert second["hosts"] == [view(lab.tls.url, capabilities=["pull", "resolve"], headers=["Authorization"],
                                    ca=[os.path.join(directory, "ca.crt")] if ca_named else [])]
    assert (second["mirrors"], second["source"]) == ([lab.tls.url], path)
    assert second["probes"][0]["ok"] is ok and (second["probes"][0]["error"] or "").startswith(error or "")
    if ok:
        assert lab.tls.requests[before][2]["authorization"] == [SECRET]  # sent from the file, never returned


def test_containerd_client_pair_paths_and_probe(host, fake, lab: Lab) -> None:
    directory = os.path.join(fake.hosts_dir, SECOND)
    host.write(os.path.join(directory, "ca.crt"), read(lab.pki.ca_file))
    host.write(os.path.join(directory, "client.cert"), read(lab.client[0]))
    text = tls_table(lab.mtls.url, client=True).replace("/abs/client.key", lab.client[1])
    hosts_toml(host, directory, text)
    second = registries(host, fake, "containerd", registries=[SECOND], probe=True)[SECOND]
    assert second["hosts"][0]["client"] == [[os.path.join(directory, "client.cert"), lab.client[1]]]
    assert second["probes"] == [probe(lab.mtls.url)]


def test_containerd_without_probe_asks_no_mirror(host, fake, lab: Lab) -> None:
    hosts_toml(host, os.path.join(fake.hosts_dir, SECOND), tls_table(lab.tls.url))
    before = len(lab.tls.requests)
    got = registries(host, fake, "containerd", registries=[SECOND])
    assert got[SECOND]["probes"] is None and got[SECOND]["mirrors"] == [lab.tls.url]
    assert len(lab.tls.requests) == before


def test_containerd_default_dir_push_only_and_broken_files(host, fake, lab: Lab) -> None:
    hosts_toml(host, os.path.join(fake.hosts_dir, "_default"), '[host."%s"]\n  capabilities = ["push"]\n'
               % lab.plain.url, '[host."%s"]\n' % lab.empty.url)
    host.write(os.path.join(fake.hosts_dir, "broken.test", "hosts.toml"), "[host.\n")
    got = registries(host, fake, "containerd", registries=["quay.io", "broken.test"], probe=True)
    quay = got["quay.io"]
    assert quay["source"] == os.path.join(fake.hosts_dir, "_default", "hosts.toml")
    assert [item["url"] for item in quay["hosts"]] == [lab.plain.url, lab.empty.url]  # every table, in order
    assert quay["mirrors"] == [lab.empty.url] and quay["probes"] == [probe(lab.empty.url)]  # the pull ones
    assert quay["hosts"][1]["capabilities"] == ["pull", "resolve", "push"]  # containerd's default
    broken = got["broken.test"]
    assert (broken["mirrors"], broken["probes"]) == (None, None)
    assert broken["error"].startswith("cannot parse %s as TOML" % os.path.join(fake.hosts_dir, "broken.test",
                                                                               "hosts.toml"))


def test_containerd_probe_image_tries_mirrors_in_order(host, fake, lab: Lab) -> None:
    hosts_toml(host, os.path.join(fake.hosts_dir, "docker.io"), '[host."%s"]\n' % lab.empty.url,
               '[host."%s"]\n' % lab.plain.url)
    before = len(lab.plain.requests)
    image = registries(host, fake, "containerd", probe_image="busybox")["docker.io"]["image"]
    assert (image["name"], image["mirror"], image["ok"]) == ("busybox", lab.plain.url, True)
    tried = [(item["mirror"], item["status"]) for item in image["tried"]]
    assert tried == [(lab.empty.url, 404), (lab.plain.url, 200)]
    method, path, dummy = lab.plain.requests[-1]
    assert (method, path) == ("HEAD", IMAGE + "?ns=docker.io") and len(lab.plain.requests) == before + 2


def test_stopped_runtime_reports_no_registries(host, fake) -> None:
    fake.active = False
    assert registries(host, fake, "containerd", registries=[SECOND]) == {}


# --------------------------------------------------------------------------- Docker


@pytest.fixture
def docker_certs(host, monkeypatch) -> str:
    directory = os.path.join(host.root, "docker-certs.d")
    monkeypatch.setattr(_reach, "DOCKER_CERTS_DIR", directory)
    return directory


STORE = {"Driver": "overlayfs", "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]]}


def test_classic_docker_mirrors_docker_io_only(host, fake, lab: Lab, docker_certs: str) -> None:
    host.set(mirrors=[lab.plain.url + "/"])
    got = registries(host, fake, "docker", registries=["docker.io", SECOND], probe=True)
    assert got == {"docker.io": entry([lab.plain.url], "docker info", [view(lab.plain.url)], [probe(lab.plain.url)]),
                   SECOND: entry(None, None, [], None, unsupported="classic Docker mirrors docker.io only")}


@pytest.mark.parametrize("cidrs, files, skip_verify, ok, error", [
    # a loopback mirror is an insecure registry by default: dockerd does not verify it, nor reads its certs.d
    (["127.0.0.0/8"], {}, True, True, None),
    ([], {"ca.crt": "ca"}, False, True, None),
    ([], {}, False, False, "x509: certificate signed by unknown authority"),
    ([], {"ca.crt": "ca", "c.cert": "client"}, False, False, "missing key c.key for client certificate"),
])
def test_docker_io_mirror_as_dockerd_reaches_it(host, fake, lab: Lab, docker_certs: str, cidrs: list[str],
                                                files: dict[str, str], skip_verify: bool, ok: bool,
                                                error: str | None) -> None:
    host_port = lab.tls.url.split("//")[1]
    for name, what in files.items():
        source = lab.pki.ca_file if what == "ca" else lab.client[0]
        host.write(os.path.join(docker_certs, host_port, name), read(source))
    registry_config = {"Mirrors": [lab.tls.url], "InsecureRegistryCIDRs": cidrs}
    host.set(mirrors=[lab.tls.url], info_extra={"RegistryConfig": registry_config})
    docker_io = registries(host, fake, "docker", probe=True)["docker.io"]
    shown = docker_io["hosts"][0]
    assert shown["skip_verify"] is skip_verify
    assert shown["certs_dir"] == (None if skip_verify else os.path.join(docker_certs, host_port))
    assert docker_io["probes"][0]["ok"] is ok and (docker_io["probes"][0]["error"] or "").startswith(error or "")


def test_docker_containerd_store_reads_certs_d_hosts_toml(host, fake, lab: Lab, docker_certs: str) -> None:
    directory = os.path.join(docker_certs, SECOND)
    host.write(os.path.join(directory, "ca.crt"), read(lab.pki.ca_file))
    path = hosts_toml(host, directory, tls_table(lab.tls.url))
    host.set(info_extra=STORE)
    second = registries(host, fake, "docker", registries=[SECOND], probe=True)[SECOND]
    assert (second["source"], second["mirrors"], second["unsupported"]) == (path, [lab.tls.url], None)
    assert second["probes"] == [probe(lab.tls.url)]


# --------------------------------------------------------------------------- Podman / CRI-O


@pytest.fixture
def containers_certs(host, monkeypatch) -> tuple[str, str]:
    dirs = (os.path.join(host.root, "containers-certs.d"), os.path.join(host.root, "docker-certs.d"))
    monkeypatch.setattr(_reach, "CONTAINERS_CERTS_DIRS", dirs)
    return dirs


def podman_out(*mirrors: tuple[str, bool]) -> str:
    return json.dumps({"version": {"Version": "5.4.2"}, "registries": {SECOND: {
        "Prefix": SECOND, "Location": SECOND,
        "Mirrors": [{"Location": location, "Insecure": insecure} for location, insecure in mirrors]}}})


@pytest.mark.parametrize("where, ok, error", [
    (0, True, None),  # /etc/containers/certs.d/<host:port>/ca.crt
    (1, True, None),  # /etc/docker/certs.d/<host:port>/ca.crt: containers/image reads it when the first is absent
    (None, False, "x509: certificate signed by unknown authority"),
])
def test_podman_mirror_with_its_certs_dir(host, fake, lab: Lab, containers_certs: tuple[str, str],
                                          where: int | None, ok: bool, error: str | None) -> None:
    host_port = lab.tls.url.split("//")[1]
    if where is not None:
        host.write(os.path.join(containers_certs[where], host_port, "ca.crt"), read(lab.pki.ca_file))
    fake.podman_out = podman_out((host_port + "/team", False))
    second = registries(host, fake, "podman", registries=[SECOND], probe=True)[SECOND]
    assert second["mirrors"] == [lab.tls.url + "/team"] and second["source"] == "podman info"
    shown = second["hosts"][0]
    assert shown["certs_dir"] == os.path.join(containers_certs[where or 0], host_port)
    assert shown["ca"] == ([os.path.join(containers_certs[where], host_port, "ca.crt")] if where is not None else [])
    assert second["probes"][0]["ok"] is ok and (second["probes"][0]["error"] or "").startswith(error or "")
    assert second["probes"][0]["mirror"] == lab.tls.url + "/team"


def test_podman_insecure_mirror_falls_back_to_http(host, fake, lab: Lab, containers_certs: tuple[str, str]) -> None:
    host_port = lab.plain.url.split("//")[1]
    fake.podman_out = podman_out((host_port, True))
    second = registries(host, fake, "podman", registries=[SECOND], probe=True)[SECOND]
    assert second["mirrors"] == [lab.plain.url] and second["hosts"][0]["skip_verify"] is True
    assert second["probes"] == [probe(lab.plain.url)]


def test_podman_registry_without_table(host, fake) -> None:
    assert registries(host, fake, "podman", registries=[SECOND], probe=True) == {
        SECOND: entry([], None, [], [])}


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize("params, message", [
    ({"registries": ["docker.io", "quay.io/team"]}, 'registries: invalid registry "quay.io/team"'),
    ({"probe_timeout": 0}, "probe_timeout must be a positive number of seconds, got 0"),
    ({"probe_image": " "}, "probe_image must name an image"),
])
def test_refused_probe_options(host, fake, params: dict[str, t.Any], message: str) -> None:
    result = run(host, fake, **params)
    assert result["failed"] and result["msg"].startswith(message), result
    assert fake.calls == [] and host.calls() == []


def test_registries_default_to_registry_and_aliases_fold(host, fake) -> None:
    got = registries(host, fake, "containerd", registries=["index.docker.io", "docker.io", "Quay.IO"])
    assert list(got) == ["docker.io", "quay.io"]
    assert list(registries(host, fake, "containerd", registry="quay.io")) == ["quay.io"]
