# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_probe against registries started in the test on 127.0.0.1 (plain HTTP, TLS with a CA made here, TLS that wants a
client certificate), one case a row. Nothing but the loopback is ever asked."""

from __future__ import annotations

import os
import ssl
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _probe as probe
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._probe import Target

tls_server = pytest.importorskip(
    "ansible_collections.fleetops.docker_mirror.tests.unit.plugins.module_utils.tls_server")

SECRET = "Bearer s3cr3t-t0ken"


class Lab(t.NamedTuple):
    ca: str  # the CA that signed the servers' certificates
    other_ca: str  # a CA that signed nothing the servers show
    client: tuple[str, str]  # a client pair the mTLS server accepts
    stranger: tuple[str, str]  # a client pair from another CA
    plain: t.Any
    tls: t.Any
    mtls: t.Any
    auth: t.Any
    expired: t.Any
    root: str


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> t.Iterator[Lab]:
    root = str(tmp_path_factory.mktemp("pki"))
    pki, other = tls_server.Pki(root, "test CA"), tls_server.Pki(root, "other CA")
    server = pki.issue("server")
    servers = dict(plain=tls_server.Registry(images={"/v2/library/busybox/manifests/latest"}),
                   tls=tls_server.Registry(tls=server, images={"/v2/library/busybox/manifests/latest"}),
                   mtls=tls_server.Registry(tls=server, client_ca=pki.ca_file),
                   auth=tls_server.Registry(tls=server, v2_status=401),
                   expired=tls_server.Registry(tls=pki.issue("old", days=-1)))
    yield Lab(pki.ca_file, other.ca_file, pki.issue("client", ip=None, client=True),
              other.issue("stranger", ip=None, client=True), root=root, **servers)
    for registry in servers.values():
        registry.close()


def url(lab: Lab, name: str, path: str = "") -> str:
    return getattr(lab, name).url + path


# (server, target settings, ok, status, error or note (a part of it))
CASES = [
    ("plain", {}, True, 200, None),
    ("tls", {"ca": True}, True, 200, None),
    ("tls", {}, False, None, "x509: certificate signed by unknown authority"),
    ("tls", {"other_ca": True}, False, None, "x509: certificate signed by unknown authority"),
    ("tls", {"skip_verify": True}, True, 200, None),
    ("tls", {"ca": True, "host": "localhost"}, False, None, "x509: certificate is not valid for this host name"),
    ("expired", {"ca": True}, False, None, "x509: certificate has expired or is not yet valid"),
    ("mtls", {"ca": True, "client": True}, True, 200, None),
    ("mtls", {"ca": True}, False, None, "client certificate"),
    ("mtls", {"ca": True, "stranger": True}, False, None, "client certificate"),  # an alert, EOF or reset: racy
    ("auth", {"ca": True}, True, 401, "wants credentials (401 Unauthorized)"),
    ("plain", {"scheme": "https"}, False, None, "http: server gave HTTP response to HTTPS client"),
    ("tls", {"scheme": "http"}, False, None, "connection reset by peer (a TLS mirror asked over plain HTTP"),
    ("plain", {"path": "/nothing-here", "override_path": True}, False, 404, "HTTP status 404 for /nothing-here/"),
    ("plain", {"scheme": "https", "http_fallback": True}, True, 200, None),
    ("tls", {"skip_verify": True, "http_fallback": True}, True, 200, None),
    ("tls", {"missing_ca": True}, False, None, "cannot load CA file"),
    ("mtls", {"ca": True, "missing_key": True}, False, None, "cannot load client certificate"),
]


def target(lab: Lab, server: str, settings: dict[str, t.Any]) -> Target:
    base = url(lab, server, settings.get("path", ""))
    if "scheme" in settings:
        base = settings["scheme"] + base[base.index("://"):]
    if "host" in settings:
        base = base.replace(tls_server.LOOPBACK, settings["host"])
    ca = (lab.ca,) if settings.get("ca") else (lab.other_ca,) if settings.get("other_ca") else ()
    ca = (os.path.join(lab.root, "absent.crt"),) if settings.get("missing_ca") else ca
    client = lab.client if settings.get("client") else lab.stranger if settings.get("stranger") else None
    client = (lab.client[0], os.path.join(lab.root, "absent.key")) if settings.get("missing_key") else client
    return Target(base, ca, client, settings.get("skip_verify", False), (("Authorization", (SECRET,)),),
                  settings.get("override_path", False), settings.get("http_fallback", False))


@pytest.mark.parametrize("server, settings, ok, status, words", CASES)
def test_probe(lab: Lab, server: str, settings: dict[str, t.Any], ok: bool, status: int | None,
               words: str | None) -> None:
    result = probe.probe(target(lab, server, settings), timeout=3)
    assert (result["ok"], result["status"]) == (ok, status), result
    assert set(result) == {"mirror", "ok", "status", "error", "note"}
    told = result["note"] if ok else result["error"]
    if words is None:
        assert told is None
    else:
        assert told is not None and words in told
    assert SECRET not in repr(result)


def test_headers_are_sent_and_never_returned(lab: Lab) -> None:
    before = len(lab.tls.requests)
    multi = Target(url(lab, "tls"), (lab.ca,), headers=(("Authorization", (SECRET,)), ("X-Two", ("a", "b"))))
    result = probe.probe(multi)
    method, path, headers = lab.tls.requests[before]
    assert (method, path) == ("GET", "/v2/")
    assert headers["authorization"] == [SECRET] and headers["x-two"] == ["a", "b"]
    assert headers["user-agent"] == [probe.USER_AGENT]
    assert SECRET not in repr(result)


def test_the_mirror_is_masked(lab: Lab) -> None:
    result = probe.probe(Target(url(lab, "plain").replace("http://", "http://user:pw@")))
    assert result["mirror"] == url(lab, "plain").replace("http://", "http://xxxxx@") and result["ok"]


def test_a_ca_without_key_usage_is_trusted_as_go_trusts_it(tmp_path, monkeypatch) -> None:
    """Python 3.13's default context refuses it ("CA cert does not include key usage extension"); containerd,
    dockerd and Podman (Go) accept it: measured on a Debian 13 host with an ``openssl req -x509`` CA. The default
    context is made strict here as 3.13 makes it, whatever Python runs the test."""
    default_context = ssl.create_default_context

    def strict_context(*args: t.Any, **kwargs: t.Any) -> ssl.SSLContext:
        context = default_context(*args, **kwargs)
        context.verify_flags |= ssl.VERIFY_X509_STRICT
        return context

    monkeypatch.setattr(ssl, "create_default_context", strict_context)
    pki = tls_server.Pki(str(tmp_path), "bare CA", key_usage=False)
    registry = tls_server.Registry(tls=pki.issue("server"))
    try:
        result = probe.probe(Target(registry.url, (pki.ca_file,)), timeout=3)
    finally:
        registry.close()
    assert (result["ok"], result["status"], result["error"]) == (True, 200, None)


def test_connection_refused() -> None:
    result = probe.probe(Target("https://127.0.0.1:%d" % tls_server.closed_port()), timeout=2)
    assert result == {"mirror": result["mirror"], "ok": False, "status": None,
                      "error": "connect: connection refused", "note": None}


def test_silent_mirror_times_out() -> None:
    silent = tls_server.Silent()
    try:
        result = probe.probe(Target("http://127.0.0.1:%d" % silent.port), timeout=0.3)
    finally:
        silent.close()
    assert not result["ok"] and result["error"] == "no answer within 0.3 s (i/o timeout)"


def test_fallback_names_both_failures() -> None:
    port = tls_server.closed_port()
    result = probe.probe(Target("https://127.0.0.1:%d" % port, http_fallback=True), timeout=2)
    assert result["error"] == "connect: connection refused; over plain HTTP: connect: connection refused"


@pytest.mark.parametrize("url, override, path", [
    ("https://m.example", False, "/v2/"),
    ("https://m.example/", False, "/v2/"),
    ("https://m.example/prefix", False, "/prefix/v2/"),
    ("https://m.example/v2/proxy", True, "/v2/proxy/"),
    ("https://m.example/v2/proxy/", True, "/v2/proxy/"),
    ("https://m.example", True, "/"),
])
def test_probe_path(url: str, override: bool, path: str) -> None:
    assert probe.probe_path(url, override) == path


@pytest.mark.parametrize("image, registry, wanted", [
    ("busybox", "docker.io", ("library/busybox", "latest")),
    ("busybox:1.36", "docker.io", ("library/busybox", "1.36")),
    ("docker.io/team/app:v1", "docker.io", ("team/app", "v1")),
    ("index.docker.io/library/busybox", "docker.io", ("library/busybox", "latest")),
    ("registry.k8s.io/pause:3.10", "registry.k8s.io", ("pause", "3.10")),
    ("registry.example.com:5000/a/b@sha256:abc", "registry.example.com:5000", ("a/b", "sha256:abc")),
    ("localhost/app", "localhost", ("app", "latest")),
    ("registry.k8s.io/pause:3.10", "docker.io", None),
    ("busybox", "quay.io", None),
])
def test_split_image(image: str, registry: str, wanted: tuple[str, str] | None) -> None:
    assert probe.split_image(image, registry) == wanted


@pytest.mark.parametrize("image, namespace, ok, status", [
    ("library/busybox", "docker.io", True, 200),
    ("library/absent", None, False, 404),
])
def test_resolve_manifest(lab: Lab, image: str, namespace: str | None, ok: bool, status: int) -> None:
    before = len(lab.tls.requests)
    result = probe.resolve_manifest(Target(url(lab, "tls"), (lab.ca,)), image, "latest", namespace)
    assert (result["ok"], result["status"]) == (ok, status)
    method, path, headers = lab.tls.requests[before]
    assert method == "HEAD" and path.startswith("/v2/%s/manifests/latest" % image)
    assert path.endswith("?ns=docker.io") == bool(namespace)
    assert "application/vnd.oci.image.index.v1+json" in headers["accept"][0]
    assert (result["error"] is None) == ok
