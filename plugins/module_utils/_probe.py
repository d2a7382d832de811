# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ask a mirror whether a pull through it would work: ``GET /v2/`` with the trust a runtime gives that mirror.

A ``Target`` says how one runtime reaches one mirror (its CA files, client certificate, skip_verify, headers,
whether the URL path is the API root, whether it falls back to plain HTTP as containers/image does for an
``insecure`` mirror). ``probe`` answers ``{mirror, ok, status, error}``: the mirror masked, ``ok`` when the
registry API answers (200, or 401: it wants credentials), else the reason a pull would fail in the words the
runtimes use (``x509: certificate signed by unknown authority``). Header values are sent, never returned.

Standard library only (http.client, ssl, socket): Python 3.8+.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import typing as t
import urllib.parse

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import mask_url

__all__ = ["DEFAULT_TIMEOUT", "USER_AGENT", "Target", "probe_path", "tls_context", "tls_reason", "probe",
           "manifest_path", "MANIFEST_ACCEPT", "resolve_manifest", "split_image", "get_path"]

DEFAULT_TIMEOUT = 5.0
USER_AGENT = "fleetops.docker_mirror-probe"
MAX_BODY = 65536
# What containerd and Docker send to resolve a tag (remotes/docker/resolver.go): every manifest and index type.
MANIFEST_ACCEPT = ", ".join((
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "*/*",
))
# OpenSSL verify codes and the words Go's crypto/x509 uses for them (what a pull says when it fails).
_X509_WORDS = {
    2: "x509: certificate signed by unknown authority",  # unable to get issuer certificate
    18: "x509: certificate signed by unknown authority (self-signed certificate)",
    19: "x509: certificate signed by unknown authority (self-signed certificate in the chain)",
    20: "x509: certificate signed by unknown authority",
    21: "x509: certificate signed by unknown authority",
    9: "x509: certificate has expired or is not yet valid (not yet valid)",
    10: "x509: certificate has expired or is not yet valid (expired)",
    62: "x509: certificate is not valid for this host name",
    64: "x509: certificate is not valid for this IP address",
}


_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)


class Target(t.NamedTuple):
    """How one runtime reaches one mirror."""
    url: str  # scheme://host[:port][/path]
    ca_files: tuple[str, ...] = ()  # trusted besides the system's CAs (every runtime adds them to the system pool)
    client: tuple[str, str] | None = None  # (certificate file, key file)
    skip_verify: bool = False
    headers: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (name, values): sent, never returned
    override_path: bool = False  # the URL path is the API root (containerd's override_path)
    http_fallback: bool = False  # plain HTTP when HTTPS fails (containers/image for an insecure mirror)
    # CA files read as a certs.d directory is (Docker, containers/image): what holds no certificate adds nothing
    certs_dir_cas: bool = False


def probe_path(url: str, override_path: bool = False) -> str:
    """The path ``GET`` asks: the URL's path plus ``/v2/``, or the path as written with ``override_path``."""
    path = urllib.parse.urlsplit(url).path.rstrip("/")
    return (path or "") + "/" if override_path else path + "/v2/"


def tls_context(target: Target) -> ssl.SSLContext:
    """The system's CAs plus the target's, its client pair, no verification with skip_verify. Raises
    OSError/ssl.SSLError naming the file that cannot be loaded."""
    context = ssl.create_default_context()
    # Python 3.13 checks RFC 5280 strictly (a CA without keyUsage fails); Go's crypto/x509, which every runtime
    # uses, accepts such a CA (``openssl req -x509`` makes one): verify as the runtimes do.
    context.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
    if target.skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    for path in target.ca_files:
        try:
            if target.certs_dir_cas:
                _add_certificates(context, path)
            else:
                context.load_verify_locations(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            raise OSError("cannot load CA file %s: %s" % (path, _reason(exc))) from None
    if target.client:
        try:
            context.load_cert_chain(target.client[0], target.client[1])
        except (OSError, ssl.SSLError) as exc:
            raise OSError("cannot load client certificate %s with key %s: %s"
                          % (target.client[0], target.client[1], _reason(exc))) from None
    return context


def _add_certificates(context: ssl.SSLContext, path: str) -> None:
    """What Go's AppendCertsFromPEM takes of a file (Docker's ReadCertsDirectory and containers/image ignore its
    answer): each CERTIFICATE block that parses; a file holding none adds nothing. A file that cannot be read
    raises, as there."""
    with open(path, "rb") as handle:
        data = handle.read()
    for block in _CERTIFICATE.findall(data):
        try:
            context.load_verify_locations(cadata=block.decode("ascii"))
        except (ssl.SSLError, ValueError):
            continue


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return exc.reason.lower().replace("_", " ")
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def tls_reason(exc: ssl.SSLError) -> str:
    """A TLS failure as a pull reports it: x509 words for a certificate the client refused, else the alert."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        words = _X509_WORDS.get(exc.verify_code)
        detail = exc.verify_message or _reason(exc)
        return "%s: %s" % (words, detail) if words else "x509: %s" % detail
    if isinstance(exc, ssl.SSLEOFError):
        return ("tls: the mirror closed the connection during the handshake (it refused the client certificate, or "
                "it does not speak TLS)")
    reason = (exc.reason or "").upper()
    if reason == "WRONG_VERSION_NUMBER":
        return "http: server gave HTTP response to HTTPS client (the mirror speaks plain HTTP: use http://)"
    if "ALERT" in reason:  # the mirror ended the handshake: certificate required, unknown CA, bad certificate
        return "remote error: tls: %s (the mirror wants a client certificate it accepts)" % _reason(exc)
    return "tls: %s" % _reason(exc)


def _connection(target: Target, scheme: str, timeout: float) -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(target.url)
    host, port = parts.hostname or "", parts.port
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=tls_context(target))
    return http.client.HTTPConnection(host, port, timeout=timeout)


def _request(target: Target, scheme: str, method: str, path: str, accept: str | None,
             timeout: float) -> int:
    """The HTTP status of ``method path`` (headers of the target sent); raises what the connection raises."""
    connection = _connection(target, scheme, timeout)
    try:
        connection.putrequest(method, path)
        connection.putheader("User-Agent", USER_AGENT)
        if accept:
            connection.putheader("Accept", accept)
        for name, values in target.headers:
            for value in values:
                connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        response.read(MAX_BODY)
        return response.status
    finally:
        connection.close()


def _failure(exc: BaseException, timeout: float) -> str:
    """Why the request failed, in a pull's words."""
    if isinstance(exc, ssl.SSLError):
        return tls_reason(exc)
    if isinstance(exc, socket.timeout):
        return "no answer within %g s (i/o timeout)" % timeout
    if isinstance(exc, ConnectionRefusedError):
        return "connect: connection refused"
    if isinstance(exc, socket.gaierror):
        return "dial tcp: lookup failed: %s" % (exc.strerror or exc)
    if isinstance(exc, http.client.HTTPException):
        return "not an HTTP answer (%s)" % (type(exc).__name__)
    if isinstance(exc, ConnectionResetError):
        return "connection reset by peer (a TLS mirror asked over plain HTTP, or a client certificate refused)"
    return (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__) if isinstance(exc, OSError) \
        else str(exc)


def _judge(status: int, what: str) -> tuple[bool, str | None, str | None]:
    """(ok, error, note) of the status ``GET /v2/`` answered."""
    if status == 200:
        return True, None, None
    if status == 401:
        return True, None, "the registry answers and wants credentials (401 Unauthorized)"
    if status == 404:
        return False, "HTTP status 404 for %s: not a registry API root (check the mirror's path)" % what, None
    return False, "HTTP status %d for %s" % (status, what), None


def _attempt(target: Target, method: str, path: str, accept: str | None,
             timeout: float) -> tuple[int | None, str | None]:
    """(status, error of the connection) over the target's scheme, then plain HTTP with ``http_fallback``."""
    scheme = urllib.parse.urlsplit(target.url).scheme.lower()
    try:
        return _request(target, scheme, method, path, accept, timeout), None
    except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
        error = _failure(exc, timeout)
    if scheme == "https" and target.http_fallback:
        try:
            return _request(target, "http", method, path, accept, timeout), None
        except (OSError, http.client.HTTPException) as exc:
            error = "%s; over plain HTTP: %s" % (error, _failure(exc, timeout))
    return None, error


def probe(target: Target, timeout: float = DEFAULT_TIMEOUT) -> dict[str, t.Any]:
    """``GET /v2/`` on the mirror the way ``target`` says: {mirror (masked), ok, status, error, note}; ``note``
    says a registry that answered 401 wants credentials."""
    path = probe_path(target.url, target.override_path)
    status, error = _attempt(target, "GET", path, None, timeout)
    ok, note = False, None
    if status is not None:
        ok, error, note = _judge(status, path)
    return {"mirror": mask_url(target.url), "ok": ok, "status": status, "error": error and mask_url(error),
            "note": note}


def get_path(target: Target, path: str, timeout: float = DEFAULT_TIMEOUT) -> dict[str, t.Any]:
    """``GET path`` on the target's host (a registry's debug endpoints: /debug/health, /metrics): {mirror, ok,
    status, error}; ok only for 200."""
    status, error = _attempt(target, "GET", path, None, timeout)
    ok = status == 200
    if status is not None and not ok:
        error = "HTTP status %d for GET %s" % (status, path)
    return {"mirror": mask_url(target.url), "ok": ok, "status": status, "error": error and mask_url(error),
            "note": None}


# --------------------------------------------------------------------------- an image's manifest


def split_image(image: str, registry: str) -> tuple[str, str] | None:
    """(repository, tag or digest) of ``image`` when it lives on ``registry`` (docker.io's short names get
    ``library/``); None when the image is on another registry."""
    name, at, digest = image.partition("@")
    first, slash, rest = name.partition("/")
    on_registry = slash and ("." in first or ":" in first or first == "localhost")
    host = ("docker.io" if first in ("index.docker.io", "registry-1.docker.io") else first) if on_registry else \
        "docker.io"
    repository = rest if on_registry else name
    if host != registry:
        return None
    last = repository.rsplit("/", 1)[-1]
    reference = digest if at else (last.rpartition(":")[2] if ":" in last else "latest")
    if not at and ":" in last:
        repository = repository[:repository.rfind(":")]
    if registry == "docker.io" and "/" not in repository:
        repository = "library/" + repository
    return repository, reference


def manifest_path(target: Target, repository: str, reference: str) -> str:
    """The manifest URL path of ``repository:reference`` under the mirror's API root."""
    return "%s%s/manifests/%s" % (probe_path(target.url, target.override_path), repository, reference)


def resolve_manifest(target: Target, repository: str, reference: str, namespace: str | None = None,
                     timeout: float = DEFAULT_TIMEOUT) -> dict[str, t.Any]:
    """``HEAD`` the manifest through the mirror (containerd adds ``?ns=REGISTRY`` for a mirror):
    {mirror, ok, status, error}; 401 is not a resolved manifest."""
    path = manifest_path(target, repository, reference)
    if namespace:
        path += "?ns=" + urllib.parse.quote(namespace, safe="")
    status, error = _attempt(target, "HEAD", path, MANIFEST_ACCEPT, timeout)
    ok = status == 200
    if status is not None and not ok:
        error = "HTTP status %d for HEAD %s" % (status, path.split("?")[0])
    return {"mirror": mask_url(target.url), "ok": ok, "status": status, "error": error and mask_url(error),
            "note": None}
