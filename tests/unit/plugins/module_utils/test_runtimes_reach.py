# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How each runtime reaches a mirror, read from its files and answers (_runtimes), as tables of cases."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _runtimes as rt
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError

D = "/etc/docker/certs.d/m.example:5443"


@pytest.mark.parametrize("names, cas, pairs, error", [
    ([], (), (), None),
    (["ca.crt", "b.crt", "README"], (D + "/b.crt", D + "/ca.crt"), (), None),
    (["c.cert", "c.key", "ca.crt"], (D + "/ca.crt",), ((D + "/c.cert", D + "/c.key"),), None),
    (["c.cert"], (), (), "missing key c.key for client certificate %s/c.cert" % D),
    (["c.key"], (), (), "missing client certificate c.cert for key %s/c.key" % D),
])
def test_certs_from_names(names: list[str], cas: tuple[str, ...], pairs: tuple[tuple[str, str], ...],
                          error: str | None) -> None:
    assert rt.certs_from_names(D, names) == (cas, pairs, error)


LOOPBACK_CIDRS = {"InsecureRegistryCIDRs": ["127.0.0.0/8", "::1/128"]}


@pytest.mark.parametrize("host_port, config, addresses, secure", [
    ("127.0.0.1:5443", LOOPBACK_CIDRS, ["127.0.0.1"], False),
    ("[::1]:5443", LOOPBACK_CIDRS, ["::1"], False),
    ("m.example:5443", LOOPBACK_CIDRS, ["192.0.2.1"], True),
    ("m.example:5443", LOOPBACK_CIDRS, [], True),  # not resolved: dockerd then treats it as secure too
    ("m.example:5443", dict(LOOPBACK_CIDRS, IndexConfigs={"m.example:5443": {"Secure": False}}), [], False),
    ("127.0.0.1:5443", dict(LOOPBACK_CIDRS, IndexConfigs={"127.0.0.1:5443": {"Secure": True}}), ["127.0.0.1"],
     True),
    ("127.0.0.1:5443", {"InsecureRegistryCIDRs": ["not-a-cidr"]}, ["127.0.0.1"], True),
    ("127.0.0.1:5443", None, ["127.0.0.1"], True),
])
def test_docker_secure(host_port: str, config: t.Any, addresses: list[str], secure: bool) -> None:
    assert rt.docker_secure(host_port, config, addresses) is secure


def test_containerd_hosts_resolve_relative_paths_and_default_capabilities() -> None:
    text = ('[host."m.example:5443"]\n  ca = "ca.crt"\n  client = [["/abs/c.cert", "c.key"]]\n'
            '  [host."m.example:5443".header]\n    X-Token = ["s3cr3t-1", "s3cr3t-2"]\n'
            '[host."http://127.0.0.1:5000"]\n  capabilities = ["pull"]\n  override_path = true\n')
    hosts = rt.containerd_hosts(text, "/etc/containerd/certs.d/quay.io/hosts.toml")
    assert [host.url for host in hosts] == ["https://m.example:5443", "http://127.0.0.1:5000"]
    assert hosts[0].ca == ("/etc/containerd/certs.d/quay.io/ca.crt",)
    assert hosts[0].client == (("/abs/c.cert", "/etc/containerd/certs.d/quay.io/c.key"),)
    assert hosts[0].capabilities == ("pull", "resolve", "push")
    assert rt.host_view(hosts[0])["headers"] == ["X-Token"] and "s3cr3t" not in repr(rt.host_view(hosts[0]))
    assert rt.host_target(hosts[0]).headers == (("X-Token", ("s3cr3t-1", "s3cr3t-2")),)
    assert rt.host_target(hosts[1]).override_path is True


def test_containerd_hosts_broken_file_named() -> None:
    with pytest.raises(ConfigError, match="^cannot parse /x/hosts.toml as TOML"):
        rt.containerd_hosts("[host.\n", "/x/hosts.toml")
