# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Mirrors that accept a connection and never answer cost one probe_timeout, not one per mirror: on a Debian 13
host, three such mirrors for containerd and Podman held the role's one configure task 33 s (each probe waited its
5 s in turn), and as many again when the handler read the runtimes after a change. The probes run side by side,
and none starts after the module's timeout."""

from __future__ import annotations

import os
import time

from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.modules.test_mirrors_info import (  # noqa: F401 pylint: disable=unused-import
    fake,
    run,
)
from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.module_utils.tls_server import Silent

REGISTRIES = ["docker.io", "ghcr.io", "quay.io", "registry.k8s.io"]


def test_silent_mirrors_cost_one_timeout(host, fake) -> None:
    silent = Silent()
    try:
        for name in REGISTRIES:
            url = "http://127.0.0.1:%d" % silent.port
            host.write(os.path.join(fake.hosts_dir, name, "hosts.toml"),
                       '[host."%s"]\n[host."%s/other"]\n  override_path = true\n' % (url, url))
        started = time.monotonic()
        result = run(host, fake, runtimes=["containerd"], keep_registries=True, registries=REGISTRIES, probe=True,
                     probe_timeout=1.0)
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert not result["failed"], result
    probes = [probe for entry in result["runtimes"]["containerd"]["registries"].values() for probe in entry["probes"]]
    assert len(probes) == 8 and not any(probe["ok"] for probe in probes)
    assert all("no answer within 1 s" in probe["error"] for probe in probes)
    assert elapsed < 4, "8 silent mirrors took %.1f s with probe_timeout 1" % elapsed


def test_no_probe_starts_after_the_module_timeout(host, fake) -> None:
    silent = Silent()
    try:
        url = "http://127.0.0.1:%d" % silent.port
        tables = "".join('[host."%s/p%d"]\n  override_path = true\n' % (url, index) for index in range(40))
        for name in REGISTRIES:
            host.write(os.path.join(fake.hosts_dir, name, "hosts.toml"), tables)
        started = time.monotonic()
        result = run(host, fake, runtimes=["containerd"], keep_registries=True, registries=REGISTRIES, probe=True,
                     probe_timeout=1.0, timeout=3)
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert not result["failed"], result
    probes = [probe for entry in result["runtimes"]["containerd"]["registries"].values() for probe in entry["probes"]]
    assert len(probes) == 160 and not any(probe["ok"] for probe in probes)
    assert any("not asked" in probe["error"] for probe in probes)
    assert elapsed < 3 + 1 + 2, "160 silent mirrors took %.1f s with timeout 3" % elapsed


def test_slow_reading_does_not_take_the_probes_time(host, fake, monkeypatch) -> None:
    """The wait is counted from the moment each registry was read: a runtime slow to read (a hung dockerd
    costs the whole timeout) leaves the next runtime's probes their time (seen with containerd stopped: Docker
    hung 30 s, and every Podman probe said "not asked")."""
    from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _runtimes as rt
    from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.module_utils.tls_server import Registry

    mirror = Registry()
    real = rt.containerd_hosts

    def slow(*args, **kwargs):
        time.sleep(0.8)
        return real(*args, **kwargs)

    monkeypatch.setattr(rt, "containerd_hosts", slow)
    try:
        for name in REGISTRIES:
            host.write(os.path.join(fake.hosts_dir, name, "hosts.toml"), '[host."%s"]\n' % mirror.url)
        result = run(host, fake, runtimes=["containerd"], keep_registries=True, registries=REGISTRIES, probe=True,
                     probe_timeout=1.0, timeout=2)
    finally:
        mirror.close()
    probes = [probe for entry in result["runtimes"]["containerd"]["registries"].values() for probe in entry["probes"]]
    assert [probe["ok"] for probe in probes] == [True] * 4, probes
