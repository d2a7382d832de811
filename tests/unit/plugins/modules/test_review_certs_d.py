# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A ``*.crt`` in a certs.d directory that holds no certificate (an operator's note, a broken file) is skipped by
Docker (ReadCertsDirectory) and containers/image (SetupCertificates): both ignore what AppendCertsFromPEM could not
add. The probe failed the mirror with "cannot load CA file ...extra.crt: no certificate or crl found" while every
pull worked (seen on a Debian 13 host)."""

from __future__ import annotations

import os

from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.modules.test_mirrors_info import (  # noqa: F401 pylint: disable=unused-import
    fake,
    run,
)
from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.modules.test_mirrors_info_registries import (  # noqa pylint: disable=unused-import
    SECOND,
    containers_certs,
    docker_certs,
    lab,
    podman_out,
    read,
    registries,
)


def test_podman_skips_a_crt_without_a_certificate(host, fake, lab, containers_certs) -> None:
    host_port = lab.tls.url.split("//")[1]
    directory = os.path.join(containers_certs[0], host_port)
    host.write(os.path.join(directory, "ca.crt"), read(lab.pki.ca_file))
    host.write(os.path.join(directory, "extra.crt"), "operator's note\n")
    fake.podman_out = podman_out((host_port, False))
    second = registries(host, fake, "podman", registries=[SECOND], probe=True)[SECOND]
    assert second["probes"][0]["ok"] is True, second["probes"]


def test_docker_skips_a_crt_without_a_certificate(host, fake, lab, docker_certs) -> None:
    host_port = lab.tls.url.split("//")[1]
    host.write(os.path.join(docker_certs, host_port, "a-broken.crt"), "-----BEGIN CERTIFICATE-----\nbad\n"
                                                                      "-----END CERTIFICATE-----\n")
    host.write(os.path.join(docker_certs, host_port, "ca.crt"), read(lab.pki.ca_file))
    host.set(mirrors=[lab.tls.url], info_extra={"RegistryConfig": {"Mirrors": [lab.tls.url],
                                                                   "InsecureRegistryCIDRs": []}})
    docker_io = registries(host, fake, "docker", probe=True)["docker.io"]
    assert docker_io["probes"][0]["ok"] is True, docker_io["probes"]


def test_containerd_still_refuses_a_ca_without_a_certificate(host, fake, lab) -> None:
    """containerd's hosts.toml ``ca`` is different: a file it cannot add fails the pull (unable to load CA)."""
    directory = os.path.join(fake.hosts_dir, SECOND)
    host.write(os.path.join(directory, "ca.crt"), "operator's note\n")
    host.write(os.path.join(directory, "hosts.toml"), '[host."%s"]\n  ca = "ca.crt"\n' % lab.tls.url)
    second = registries(host, fake, "containerd", registries=[SECOND], probe=True)[SECOND]
    assert second["probes"][0]["ok"] is False and "cannot load CA file" in second["probes"][0]["error"]
