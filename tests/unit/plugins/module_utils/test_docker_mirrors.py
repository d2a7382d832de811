# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What Docker can do with the shared mirror model, by image store (pure planning), and the shared certs.d planner
with Docker's marker."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _certs_dir as certs
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _docker_mirrors as dm
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _mirror_spec as ms
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._daemon_options import version_at_least
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._document import plan

CA = "-----BEGIN CERTIFICATE-----\nTUlJQmNhY2VydA==\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize("values, live, version, expected", [
    ({"features": {"containerd-snapshotter": True}}, "classic", "28.5.2", "containerd"),  # the file wins
    ({"features": {"containerd-snapshotter": False}}, "containerd", "29.0.0", "classic"),
    ({}, "containerd", "28.5.2", "containerd"),
    ({"features": {"containerd-snapshotter": "yes"}}, "classic", "29.0.0", "classic"),  # not a bool: not a choice
    ({}, None, "28.5.2", "classic"),
    ({}, None, "29.0.1", "containerd"),
    ({"features": ["x"]}, None, None, "classic"),
])
def test_image_store(values: dict[str, t.Any], live: str | None, version: str | None, expected: str) -> None:
    assert dm.image_store(values, live, version, version_at_least) == expected


@pytest.mark.parametrize("before, after, switched", [
    ({}, {"features": {"containerd-snapshotter": True}}, True),
    ({"features": {"containerd-snapshotter": True}}, {"features": {"containerd-snapshotter": True, "x": 1}}, False),
    ({}, {"features": {"other": True}}, False),
])
def test_snapshotter_switched(before, after, switched: bool) -> None:
    assert dm.snapshotter_switched(before, after) is switched


def registries(*entries: tuple[str, list[dict[str, t.Any]]]) -> list[ms.RegistrySpec]:
    return ms.parse_registries([{"registry": name, "mirrors": mirrors} for name, mirrors in entries],
                               allow_default=True)


K8S = ("registry.k8s.io", [{"url": "http://127.0.0.1:5000"}])
HUB = ("docker.io", [{"url": "https://m.example:5443", "ca": CA, "skip_verify": True},
                     {"url": "http://10.0.0.5:5000"}, {"url": "http://localhost:5000"}])


@pytest.mark.parametrize("store, entries, hub, insecure, toml, certs_for, gaps", [
    ("classic", [K8S], None, [], [], [], [("registry.k8s.io", "registry")]),
    ("containerd", [K8S], None, [], ["registry.k8s.io"], [], []),
    ("classic", [HUB, K8S], ["https://m.example:5443", "http://10.0.0.5:5000", "http://localhost:5000"],
     ["m.example:5443", "10.0.0.5:5000"], [], ["https://m.example:5443"], [("registry.k8s.io", "registry")]),
    ("containerd", [HUB], ["https://m.example:5443", "http://10.0.0.5:5000", "http://localhost:5000"],
     ["m.example:5443", "10.0.0.5:5000"], ["docker.io"], [], []),
    ("classic", [("docker.io", [])], [], [], [], [], []),
    ("classic", [("_default", [{"url": "https://m.example"}])], None, [], [], [], [("_default", "registry")]),
    ("containerd", [("docker.io", [{"url": "https://m.example/v2", "override_path": True}])], [], [],
     ["docker.io"], [], []),  # hosts.toml holds it; daemon.json cannot, and needs not report it
])
def test_plan_docker(store, entries, hub, insecure, toml, certs_for, gaps) -> None:
    result = dm.plan_docker(registries(*entries), store, allow_path=False)
    assert result.hub_mirrors == hub and result.insecure == insecure
    assert [item.registry for item in result.hosts_toml] == toml
    assert [mirror.url for mirror in result.host_certs] == certs_for
    assert [(gap.registry, gap.what) for gap in result.unsupported] == gaps


@pytest.mark.parametrize("insecure_exclusive, expected", [
    (None, ["b"]), (False, ["a", "b"]), (True, ["b"]),
])
def test_plan_insecure_exclusive(insecure_exclusive: bool | None, expected: list[str]) -> None:
    result = plan({"registry-mirrors": ["https://x/"], "insecure-registries": ["a"]}, ["https://y"], ["b"],
                  exclusive=True, insecure_exclusive=insecure_exclusive)
    assert result.values["insecure-registries"] == expected and result.values["registry-mirrors"] == ["https://y"]


def test_certs_dir_marker_is_the_owners() -> None:
    mirror = ms.parse_mirror({"url": "https://m.example:5443", "ca": CA}, "docker.io")
    wanted = certs.cert_files([("docker.io", "m.example:5443", mirror)], "/etc/docker/certs.d", "# docker")
    path = "/etc/docker/certs.d/m.example:5443/ca.crt"
    assert wanted[path].text == "# docker\n" + CA
    assert certs.plan_certs({}, {path: "# podman\n" + CA}, (), "# docker") == [], "another owner's file stays"
    assert [change.after for change in certs.plan_certs({}, {path: "# docker\n" + CA}, (), "# docker")] == [None]
