# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the real mirrors_info module against conftest.py's fake Docker host plus runtimes_fake's containerd and
Podman."""

from __future__ import annotations

import os
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _daemon
from ansible_collections.fleetops.docker_mirror.plugins.modules import mirrors_info
from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.modules.runtimes_fake import Runtimes

LOCAL = "http://127.0.0.1:5000"
HOSTS_TOML = '[host."http://127.0.0.1:5000"]\n  capabilities = ["pull", "resolve"]\n'
BOOT = 1796011878
STARTED = BOOT + 1000  # containerd's start, ticks 100000 at 100 a second


@pytest.fixture
def fake(host, monkeypatch) -> Runtimes:
    runtimes = Runtimes(monkeypatch)
    proc = os.path.join(host.root, "rt-proc")
    host.write(os.path.join(proc, "777", "stat"), "777 (containerd) S 1 777 777 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
                                                  "100000 0 0\n")
    monkeypatch.setattr(mirrors_info, "PROC_ROOT", proc)
    monkeypatch.setattr(mirrors_info, "boot_realtime", lambda: float(BOOT))
    real_sysconf = os.sysconf
    monkeypatch.setattr(os, "sysconf", lambda name: 100 if name == "SC_CLK_TCK" else real_sysconf(name))
    host.set(mirrors=[LOCAL + "/"])
    runtimes.hosts_dir = os.path.join(host.root, "certs.d")
    runtimes.config = os.path.join(host.root, "config.toml")
    host.write(runtimes.config, "version = 2\n")
    os.utime(runtimes.config, (STARTED - 60, STARTED - 60))
    runtimes.dump = runtimes.dump.replace("/etc/containerd/certs.d", runtimes.hosts_dir)
    host.write(os.path.join(runtimes.hosts_dir, "docker.io", "hosts.toml"), HOSTS_TOML)
    return runtimes


def run(host, fake, check_mode: bool = False, **params: t.Any) -> dict[str, t.Any]:
    params.setdefault("containerd_config", fake.config)
    return host.run(mirrors_info.main, check_mode=check_mode, **params)


def containerd(fake, **changes: t.Any) -> dict[str, t.Any]:
    entry = {"installed": True, "state": "running", "mirrors": [LOCAL], "error": None, "hosts_dir": fake.hosts_dir,
             "hosts_file": os.path.join(fake.hosts_dir, "docker.io", "hosts.toml"), "cri_reads_hosts_dir": True,
             "restart_pending": False}
    return dict(entry, **changes)


DOCKER = {"installed": True, "state": "running", "mirrors": [LOCAL], "error": None}
PODMAN = {"installed": True, "state": "ready", "mirrors": [LOCAL], "error": None, "podman_version": "5.4.2"}


@pytest.mark.parametrize("check_mode", [False, True])
def test_every_runtime_through_the_loopback_mirror(host, fake, check_mode: bool) -> None:
    result = run(host, fake, check_mode=check_mode)
    assert result == {"changed": False, "failed": False, "detected": ["docker", "containerd", "podman"],
                      "runtimes": {"docker": DOCKER, "containerd": containerd(fake), "podman": PODMAN}}
    assert not any(call.startswith("systemctl restart") for call in fake.calls)


@pytest.mark.parametrize("modified, pending", [
    (STARTED + 5, True),
    (STARTED + 0.005, False),  # within the clock tick the start time is truncated to
    (STARTED - 60, False),
    (None, False),  # no config.toml
])
def test_restart_pending_when_config_is_newer(host, fake, modified: float | None, pending: bool) -> None:
    if modified is None:
        os.unlink(fake.config)
    else:
        os.utime(fake.config, (modified, modified))
    result = run(host, fake, runtimes=["containerd"])
    wanted = containerd(fake, restart_pending=pending, cri_reads_hosts_dir=not pending)
    assert result["runtimes"] == {"containerd": wanted}


def test_restart_pending_unknown_without_the_process(host, fake) -> None:
    os.utime(fake.config, (STARTED + 5, STARTED + 5))
    fake.mainpid = 778  # no /proc entry: the start is unknown, nothing is claimed
    assert run(host, fake, runtimes=["containerd"])["runtimes"]["containerd"] == containerd(fake)


def test_cri_reads_other_directories(host, fake) -> None:
    fake.dump = fake.dump.replace(fake.hosts_dir, "/elsewhere")
    result = run(host, fake, runtimes=["containerd"], hosts_dir=fake.hosts_dir)
    assert result["runtimes"]["containerd"] == containerd(fake, cri_reads_hosts_dir=False)


def test_hosts_dir_defaults_to_the_first_cri_directory(host, fake) -> None:
    fake.dump = fake.dump.replace(fake.hosts_dir, fake.hosts_dir + ":/second")
    assert run(host, fake, runtimes=["containerd"])["runtimes"]["containerd"] == containerd(fake)


def test_no_config_path_means_the_default_directory(host, fake) -> None:
    fake.dump = "version = 2\n"
    entry = run(host, fake, runtimes=["containerd"])["runtimes"]["containerd"]
    assert entry == containerd(fake, hosts_dir="/etc/containerd/certs.d", cri_reads_hosts_dir=False,
                               hosts_file=entry["hosts_file"], mirrors=entry["mirrors"])


def test_default_directory_is_read_when_the_registry_has_none(host, fake) -> None:
    os.rename(os.path.join(fake.hosts_dir, "docker.io"), os.path.join(fake.hosts_dir, "_default"))
    result = run(host, fake, runtimes=["containerd"], registry="quay.io")
    assert result["runtimes"]["containerd"] == containerd(
        fake, hosts_file=os.path.join(fake.hosts_dir, "_default", "hosts.toml"))


def test_no_hosts_file_means_no_mirror(host, fake) -> None:
    result = run(host, fake, runtimes=["containerd"], registry="quay.io")
    assert result["runtimes"]["containerd"] == containerd(fake, hosts_file=None, mirrors=[])


def test_a_broken_hosts_file_is_an_error(host, fake) -> None:
    host.write(os.path.join(fake.hosts_dir, "docker.io", "hosts.toml"), "[host.\n")
    entry = run(host, fake, runtimes=["containerd"])["runtimes"]["containerd"]
    assert entry["mirrors"] is None and entry["state"] == "running"
    assert entry["error"].startswith("cannot parse %s as TOML" % entry["hosts_file"])
    assert entry["error"].endswith("(containerd fails every pull of docker.io)")


def test_config_dump_failing_leaves_the_cri_unknown(host, fake) -> None:
    fake.dump_rc = 1
    entry = run(host, fake, runtimes=["containerd"], hosts_dir=fake.hosts_dir)["runtimes"]["containerd"]
    assert entry == containerd(fake, cri_reads_hosts_dir=None, error="containerd config dump failed: containerd: "
                               "failed to load TOML from /etc/containerd/config.toml: bad")


def test_stopped_containerd_is_not_asked(host, fake) -> None:
    fake.active = False
    entry = run(host, fake, runtimes=["containerd"])["runtimes"]["containerd"]
    assert entry == containerd(fake, state="stopped", mirrors=None, cri_reads_hosts_dir=True,
                               error="containerd is stopped (containerd.service is not active)")
    assert not [call for call in fake.calls if call.startswith("ctr")]


def test_containerd_not_answering(host, fake) -> None:
    fake.answers = False
    entry = run(host, fake, runtimes=["containerd"])["runtimes"]["containerd"]
    assert entry["state"] == "not-answering" and entry["mirrors"] is None
    assert entry["error"].startswith("containerd is not answering: ctr: failed to dial")


def test_containerd_without_ctr(host, fake) -> None:
    fake.present.discard("ctr")
    entry = run(host, fake, runtimes=["containerd"])["runtimes"]["containerd"]
    assert (entry["state"], entry["error"]) == ("not-answering", "no ctr command on this host to ask containerd")


def test_stopped_docker_is_not_socket_activated(host, fake) -> None:
    host.set(active=False)
    result = run(host, fake, runtimes=["docker"])
    assert result["runtimes"] == {"docker": {"installed": True, "state": "stopped", "mirrors": None,
                                             "error": "Docker is stopped (docker.service is not active)"}}
    assert host.state()["active"] is False and "SOCKET-ACTIVATED" not in host.state()["journal"]
    assert host.calls("docker") == []


def test_docker_mirrors_are_for_docker_hub_only(host, fake) -> None:
    result = run(host, fake, runtimes=["docker", "podman"], registry="quay.io")
    assert result["runtimes"] == {"docker": dict(DOCKER, mirrors=[]), "podman": dict(PODMAN, mirrors=[])}


def test_podman_info_failing(host, fake) -> None:
    fake.podman_rc = 125
    assert run(host, fake, runtimes=["podman"])["runtimes"]["podman"] == {
        "installed": True, "state": "not-answering", "mirrors": None, "podman_version": None,
        "error": "podman info failed: Error: database is locked"}


@pytest.mark.parametrize("present, detected, state", [
    ({"buildah"}, ["docker", "podman"], "not-answering"),
    ({"crio", "ctr"}, ["docker", "podman"], "not-answering"),
    (set(), ["docker"], "not-installed"),
])
def test_podman_family(host, fake, present: set[str], detected: list[str], state: str) -> None:
    fake.present = present
    result = run(host, fake, runtimes=["auto", "podman"])
    assert result["detected"] == detected and list(result["runtimes"]) == detected + (["podman"] * (
        "podman" not in detected))
    assert result["runtimes"]["podman"]["state"] == state and result["runtimes"]["podman"]["mirrors"] is None


def test_a_runtime_asked_for_but_not_installed(host, fake) -> None:
    fake.present = set()
    host.remove_command("docker")
    host.remove_command("dockerd")
    result = run(host, fake, runtimes=["containerd", "docker"])
    assert result["detected"] == []
    assert result["runtimes"] == {
        "docker": {"installed": False, "state": "not-installed", "mirrors": None,
                   "error": "Docker is not installed (no docker command)"},
        "containerd": {"installed": False, "state": "not-installed", "mirrors": None, "hosts_dir": None,
                       "hosts_file": None, "cri_reads_hosts_dir": None, "restart_pending": False,
                       "error": "containerd is not installed (no containerd command)"}}


def test_not_root_says_so(host, fake, monkeypatch) -> None:
    monkeypatch.setattr(_daemon, "is_root", lambda: False)
    fake.answers = False
    fake.podman_rc = 125
    result = run(host, fake)
    assert [view["state"] for view in result["runtimes"].values()] == ["running", "not-answering", "not-answering"]
    assert result["runtimes"]["docker"]["error"] is None
    for name in ("containerd", "podman"):
        assert result["runtimes"][name]["error"].endswith("; needs root on this host (running as %s): run with "
                                                          "become: true (or -b)" % _daemon.current_user())


@pytest.mark.parametrize("params, message", [
    ({"registry": "docker.io/library"}, 'invalid registry "docker.io/library": must be host[:port]'),
    ({"hosts_dir": "certs.d"}, "certs.d: hosts_dir must be an absolute path"),
    ({"containerd_config": "config.toml"}, "config.toml: containerd_config must be an absolute path"),
    ({"runtimes": ["cri-o"]}, "value of runtimes must be one or more of"),
])
def test_refused_options(host, fake, params: dict[str, t.Any], message: str) -> None:
    result = run(host, fake, **params)
    assert result["failed"] and message in result["msg"]
    assert fake.calls == [] and host.calls() == []
