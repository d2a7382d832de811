# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A registry stand-in on 127.0.0.1 for the probe tests: plain HTTP or TLS with a certificate from a CA made in
the test (the ``cryptography`` package), optionally requiring a client certificate. It answers ``/v2/`` with a
chosen status, ``HEAD /v2/<repo>/manifests/<tag>`` with 200 for the images it holds, and records every request
(method, path, headers). Only the loopback is ever used."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import os
import socket
import ssl
import threading
import typing as t

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK = "127.0.0.1"


class Pki:
    """A CA and the certificates it signed, written as PEM files in ``directory``."""

    def __init__(self, directory: str, name: str = "test CA", key_usage: bool = True) -> None:
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.name = subject
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True))
        if key_usage:  # ``openssl req -x509`` makes a CA without it, which Go accepts
            builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                                            critical=True)
        self.cert = builder.sign(self.key, hashes.SHA256())
        self.ca_file = self._write(name.replace(" ", "_") + ".crt", self.cert.public_bytes(serialization.Encoding.PEM))

    def _write(self, name: str, data: bytes) -> str:
        path = os.path.join(self.directory, name)
        with open(path, "wb") as handle:
            handle.write(data)
        return path

    def issue(self, stem: str, ip: str | None = LOOPBACK, dns: str | None = None, client: bool = False,
              days: float = 1) -> tuple[str, str]:
        """(certificate file, key file) of a leaf for ``ip``/``dns`` (server) or a client certificate."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        names: list[x509.GeneralName] = []
        if ip:
            names.append(x509.IPAddress(ipaddress.ip_address(ip)))
        if dns:
            names.append(x509.DNSName(dns))
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, stem)]))
                   .issuer_name(self.name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=2))
                   .not_valid_after(now + datetime.timedelta(days=days))
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return (self._write(stem + ".cert", cert.public_bytes(serialization.Encoding.PEM)),
                self._write(stem + ".key", key_pem))


class Registry:
    """A tiny registry API on 127.0.0.1 (a free port), in a thread; ``requests`` holds what it was asked."""

    def __init__(self, tls: tuple[str, str] | None = None, client_ca: str | None = None, v2_status: int = 200,
                 images: t.Iterable[str] = ()) -> None:
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        self.v2_status = v2_status
        self.images = set(images)
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: t.Any) -> None:
                pass

            def _answer(self, body: bool) -> None:
                headers: dict[str, list[str]] = {}
                for name, value in self.headers.items():
                    headers.setdefault(name.lower(), []).append(value)
                registry.requests.append((self.command, self.path, headers))
                path = self.path.split("?")[0]
                if path.endswith("/v2/") or path == "/":
                    status = registry.v2_status
                elif "/manifests/" in path:
                    status = 200 if path in registry.images else 404
                else:
                    status = 404
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
                self.end_headers()
                if body:
                    self.wfile.write(b"{}")

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self._answer(True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._answer(False)

        self.server = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            if client_ca:
                context.load_verify_locations(cafile=client_ca)
                context.verify_mode = ssl.CERT_REQUIRED
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.scheme = "https" if tls else "http"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return "%s://%s:%d" % (self.scheme, LOOPBACK, self.port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


class Silent:
    """A loopback listener that accepts (in its backlog) and never answers: the probe's timeout."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind((LOOPBACK, 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()
