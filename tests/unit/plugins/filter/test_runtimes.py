# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every runtime a host pulls with, as tables: which runtimes, each one's verdict, the host's, the summary."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.filter.rollout import build_report, junit, summary
from ansible_collections.fleetops.docker_mirror.plugins.filter.runtimes import (
    FilterModule, docker_only, host_verdict, runtime_verdict, selected)

M = "http://127.0.0.1:5000"
G = "https://mirror.gcr.io"
DETECTED_ALL = {"changed": False, "detected": ["docker", "containerd", "podman"]}


def live(**runtimes) -> dict:
    """A mirrors_info result with the given runtimes' entries."""
    return {"changed": False, "detected": list(runtimes), "runtimes": runtimes}


def ctd(mirrors=(M,), **kw) -> dict:
    """mirrors_info's containerd entry: running, reading the hosts directory, with these mirrors."""
    return {"installed": True, "state": "running", "mirrors": None if mirrors is None else list(mirrors), "error": None,
            "hosts_file": "/etc/containerd/certs.d/docker.io/hosts.toml", "cri_reads_hosts_dir": True,
            "restart_pending": False, **kw}


def pod(mirrors=(M,), **kw) -> dict:
    return {"installed": True, "state": "ready", "mirrors": None if mirrors is None else list(mirrors), "error": None, **kw}


DOCKER_OK = {"verdict": "ok", "stage": "verify", "reason": f"live mirrors {M}/", "live_mirrors": [M + "/"],
             "file_changed": True, "applied": "reload", "rolled_back": False, "daemon_state": "running", "run": "r"}
DOCKER_NONE = {"verdict": "failed", "stage": "role", "reason": "no result", "live_mirrors": None, "run": "r"}


# --- which runtimes ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("runtimes", "detect", "verify_live", "expected"), [
    (["docker"], {}, {}, ["docker"]),
    ("docker", {}, {}, ["docker"]),                                        # -e docker_mirror_runtimes=docker
    ("podman,containerd", {}, {}, ["containerd", "podman"]),               # always in the order docker, ...
    (["auto"], DETECTED_ALL, {}, ["docker", "containerd", "podman"]),
    (["auto"], {"detected": ["containerd"]}, {}, ["containerd"]),
    (["auto", "podman"], {"detected": ["containerd"]}, {}, ["containerd", "podman"]),  # named: judged even absent
    (["auto"], {"skipped": True}, {"detected": ["podman"]}, ["podman"]),  # verify entry point: mirrors_info's
    (["auto"], {"detected": []}, {}, []),
    (["auto"], {"unreachable": True, "msg": "x"}, {}, []),                # the host's verdict says why
    (["auto", "docker"], {"failed": True, "msg": "x"}, {}, []),
    ([], {}, {}, []),
])
def test_selected(runtimes, detect, verify_live, expected) -> None:
    assert selected(runtimes, detect, verify_live) == expected


def test_selected_refuses_an_unknown_runtime() -> None:
    with pytest.raises(ValueError, match="unknown runtime cri-o"):
        selected(["docker", "cri-o"])


@pytest.mark.parametrize(("runtimes", "alone"), [
    (["docker"], True), ("docker", True), (" docker ", True), (["docker", "docker"], True), (["auto"], False),
    (["docker", "containerd"], False), ("docker,auto", False), ([], False),
])
def test_docker_only(runtimes, alone) -> None:
    assert docker_only(runtimes) is alone


# --- one runtime's verdict ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("runtime", "kw", "verdict", "stage", "reason"), [
    ("containerd", dict(config={"changed": True}, live=ctd()), "ok", "verify", f"live mirrors {M}/"),
    ("podman", dict(config={"changed": False}, live=pod([M + "/"])), "ok", "verify", f"live mirrors {M}/"),
    ("containerd", dict(config={"changed": True}, live=ctd([])), "failed", "verify", f"missing {M}/"),
    ("podman", dict(config={}, live=pod([G, M]), wanted=[M, G]), "failed", "verify", "order differs"),
    ("podman", dict(config={}, live=pod([M, G])), "failed", "verify", "order differs"),  # exactly the list
    ("containerd", dict(config={"failed": True, "msg": "/etc/containerd/config.toml: cannot parse"}),
     "failed", "configure", "cannot parse"),
    ("podman", dict(config={"unreachable": True, "msg": "Task failed: ssh: connect"}), "unreachable", "connect",
     "ssh: connect"),
    ("containerd", dict(config={"changed": True, "restart_needed": True},
                        applied={"failed": True, "msg": "containerd restarted but interrupted default/app"}),
     "failed", "apply", "interrupted default/app"),
    ("containerd", dict(config={"changed": True, "restart_needed": True}, applied={"changed": True}, live=ctd()),
     "ok", "verify", "live mirrors"),
    ("containerd", dict(config={"changed": True, "restart_needed": True}, check_mode=True),
     "would change", "configure", "hosts.toml and config.toml would change, then a containerd restart"),
    ("podman", dict(config={"changed": True}, apply_mode="none", live=pod(crio="running")),
     "pending", "apply", "CRI-O not reloaded (docker_mirror_apply: none)"),
    ("podman", dict(config={"changed": True}, apply_mode="none", live=pod(crio="stopped")), "ok", "verify",
     "live mirrors"),
    ("podman", dict(config={"changed": True}, check_mode=True), "would change", "configure", "drop-in would change"),
    ("podman", dict(config={"changed": False}, check_mode=True, live=pod()), "ok", "verify", "live mirrors"),
    ("containerd", dict(config={"changed": True, "restart_needed": True}, apply_mode="none"),
     "pending", "apply", "docker_mirror_apply: none"),
    # A stopped containerd is stopped, whatever the run did (the same verdict on every run, as for Docker).
    ("containerd", dict(config={"changed": True, "restart_needed": True},
                        applied={"changed": False, "skipped_reason": "containerd.service is not active"}),
     "stopped", "verify", "containerd is stopped (left as it is): hosts.toml written"),
    ("containerd", dict(config={"changed": False}, live=ctd(state="stopped", mirrors=None)),
     "stopped", "verify", "hosts.toml already right"),
    ("containerd", dict(config={"changed": True, "restart_needed": True}, check_mode=True,
                        live=ctd(state="stopped", mirrors=None)),
     "stopped", "verify", "hosts.toml would be written"),
    ("containerd", dict(config={"changed": True},
                        live=ctd(restart_pending=True, config_file="/etc/containerd/c.toml")),
     "failed", "verify", "/etc/containerd/c.toml changed after containerd started, and containerd was not "
     "restarted since"),
    ("containerd", dict(config={"changed": False}, live=ctd(restart_pending=True), check_mode=True),
     "would change", "configure", "hosts.toml already right, then a containerd restart"),
    ("containerd", dict(config={"changed": False}, live=ctd(restart_pending=True), apply_mode="none"),
     "pending", "apply", "docker_mirror_apply: none"),
    ("containerd", dict(config={"changed": True}, state="absent", check_mode=True), "would change", "configure",
     "hosts.toml would be removed"),
    ("containerd", dict(config={"changed": True}, live=ctd(problem="containerd runs with --config /x.toml, not "
                                                                   "/etc/containerd/config.toml")),
     "failed", "verify", "containerd runs with --config /x.toml"),
    ("podman", dict(config={"changed": True}, live=pod(problem="images under docker.io/library bypass the mirrors")),
     "failed", "verify", "images under docker.io/library bypass"),
    ("podman", dict(config={"changed": True}, state="absent", live=pod([], problem="images under x bypass")),
     "ok", "verify", "no mirror live"),                                 # nothing to bypass once removed
    ("containerd", dict(config={"changed": True}, live=ctd(cri_enabled=False, cri_reads_hosts_dir=None)),
     "ok", "verify", "(ctr --hosts-dir and nerdctl; the CRI plugin is disabled)"),
    ("containerd", dict(config={"changed": False},                       # no restart matters without CRI
                        live=ctd(cri_enabled=False, cri_reads_hosts_dir=None, restart_pending=True)),
     "ok", "verify", "the CRI plugin is disabled"),
    ("containerd", dict(config={"changed": False}, apply_mode="none",
                        live=ctd(cri_enabled=False, cri_reads_hosts_dir=None, restart_pending=True)),
     "ok", "verify", "the CRI plugin is disabled"),
    ("containerd", dict(config={}, live=ctd([M, G]), wanted=f"{M}, {G}"), "ok", "verify",
     f"live mirrors {M}/, {G}/"),                                       # -e a,b: a list, as the modules see it
    ("containerd", dict(config={"changed": True}, live=ctd(cri_reads_hosts_dir=False)), "failed", "verify",
     "does not read"),
    ("containerd", dict(config={"changed": True}, live=ctd(cri_reads_hosts_dir=False), manage_config_path=False),
     "ok", "verify", "the CRI plugin does not read this directory"),
    ("containerd", dict(config={"changed": True}, live=ctd(state="stopped", mirrors=None)), "stopped", "verify",
     "containerd is stopped"),
    ("podman", dict(config={}, live=pod(state="not-installed", installed=False, mirrors=None,
                                        error="Podman is not installed")),
     "failed", "detect", "Podman is not installed"),
    ("podman", dict(config={"changed": True}, live=pod(mirrors=None, error="podman info: no such file")),
     "failed", "verify", "podman info: no such file"),
    ("podman", dict(config={"changed": True}, live=None), "failed", "verify", "no live view"),
    ("podman", dict(config={"changed": True}, verify=False), "ok", "configure", "not verified"),
    ("containerd", dict(config={"changed": True}, state="absent", live=ctd([])), "ok", "verify", "no mirror live"),
    ("containerd", dict(config={"changed": True}, state="absent", live=ctd([M])), "failed", "verify",
     f"still live: {M}/"),
    ("containerd", dict(config={}, state="absent", live=ctd([], cri_reads_hosts_dir=False)), "ok", "verify",
     "no mirror live"),
    # Docker in the verify entry point, from mirrors_info: docker_mirror_exclusive applies.
    ("docker", dict(live=pod([G, M], state="running")), "ok", "verify", "live mirrors"),
    ("docker", dict(live=pod([G, M], state="running"), exclusive=True), "failed", "verify", "order differs"),
    ("docker", dict(live=pod(None, state="not-answering", error="dockerd is not answering: x")), "failed",
     "verify", "dockerd is not answering"),
])
def test_runtime_verdict(runtime, kw, verdict, stage, reason) -> None:
    kw.setdefault("wanted", [M])
    result = runtime_verdict(runtime, **kw)
    assert (result["runtime"], result["verdict"], result["stage"]) == (runtime, verdict, stage), result
    assert reason in result["reason"], result


def test_crio_reload_is_podman_s_apply() -> None:
    reloaded = runtime_verdict("podman", {"changed": True}, {"changed": True}, pod(crio="running"), [M])
    assert (reloaded["verdict"], reloaded["applied"]) == ("ok", "reload (crio)")
    failed = runtime_verdict("podman", {"changed": True}, {"failed": True, "msg": "Unable to reload service crio"},
                             pod(crio="running"), [M])
    assert (failed["verdict"], failed["stage"]) == ("failed", "apply") and "reload service crio" in failed["reason"]


def test_runtime_verdict_records_the_restart_and_the_file() -> None:
    result = runtime_verdict("containerd", {"changed": True, "restart_needed": True}, {"changed": True}, ctd(),
                             [M])
    assert (result["applied"], result["file_changed"], result["live_mirrors"]) == ("restart", True, [M + "/"])
    checked = runtime_verdict("containerd", {"changed": True}, None, ctd(), [M], check_mode=True)
    assert checked["file_changed"] is False


# --- the host ----------------------------------------------------------------------------------------------

def test_docker_alone_is_the_verdict_of_1_0_with_one_runtime_line() -> None:
    result = host_verdict(DOCKER_OK)
    assert {k: result[k] for k in DOCKER_OK} == DOCKER_OK
    assert result["runtimes"] == [{"runtime": "docker", "verdict": "ok", "stage": "verify",
                                   "reason": f"live mirrors {M}/", "live_mirrors": [M + "/"], "file_changed": True,
                                   "applied": "reload", "rolled_back": False}]


def test_every_runtime_ok() -> None:
    result = host_verdict(DOCKER_OK, ["docker", "containerd", "podman"], DETECTED_ALL,
                          live(containerd=ctd(), podman=pod()), containerd={"changed": True},
                          podman={"changed": True}, wanted=[M], run="r")
    assert result["verdict"] == "ok"
    assert [(r["runtime"], r["verdict"]) for r in result["runtimes"]] == [
        ("docker", "ok"), ("containerd", "ok"), ("podman", "ok")]
    assert result["run"] == "r" and result["live_mirrors"] == [M + "/"]  # Docker's facts stay the host's


def test_the_worst_runtime_is_the_host_verdict_and_names_itself() -> None:
    result = host_verdict(DOCKER_OK, ["docker", "containerd", "podman"], DETECTED_ALL,
                          live(containerd=ctd(), podman=pod([])), containerd={"changed": False},
                          podman={"changed": False}, wanted=[M])
    assert (result["verdict"], result["stage"]) == ("failed", "verify")
    assert result["reason"].startswith("podman: podman does not use the wanted mirrors"), result["reason"]


def test_a_failure_outranks_a_stopped_runtime() -> None:
    result = host_verdict({**DOCKER_OK, "verdict": "stopped", "stage": "apply", "reason": "Docker is stopped"},
                          ["docker", "containerd"], {}, live(containerd=ctd([])), containerd={"changed": False},
                          wanted=[M])
    assert result["verdict"] == "failed" and result["reason"].startswith("containerd:")


@pytest.mark.parametrize(("detect", "asked", "verdict", "reason"), [
    ({"unreachable": True, "msg": "Task failed: Failed to connect"}, ["auto"], "unreachable", "Failed to connect"),
    ({"failed": True, "msg": "mirrors_info: boom"}, ["containerd"], "failed", "boom"),
    ({"detected": []}, ["auto"], "failed", "no container runtime found"),
    ({"detected": ["docker", "containerd"]}, [], "failed", "docker_mirror_runtimes is empty"),
])
def test_detection_failures(detect, asked, verdict, reason) -> None:
    result = host_verdict(DOCKER_NONE, [], detect, {}, wanted=[M], asked=asked)
    assert (result["verdict"], result["stage"]) == (verdict, "detect") and reason in result["reason"]
    assert result["runtimes"] == []


def test_host_file_changed_counts_every_runtime() -> None:
    unchanged_docker = {**DOCKER_OK, "file_changed": False}
    result = host_verdict(unchanged_docker, ["docker", "containerd"], {}, live(containerd=ctd()),
                          containerd={"changed": True}, wanted=[M])
    assert result["file_changed"] is True and result["applied"] == "reload"  # applied stays Docker's
    alone = host_verdict(unchanged_docker, ["docker", "containerd"], {}, live(containerd=ctd()),
                         containerd={"changed": False}, wanted=[M])
    assert alone["file_changed"] is False


def test_the_live_view_read_again_after_a_second_restart_wins() -> None:
    stranded = live(containerd=ctd(restart_pending=True))
    healed = live(containerd=ctd())
    first = host_verdict(DOCKER_OK, ["containerd"], {}, stranded, containerd={"changed": False}, wanted=[M])
    assert first["verdict"] == "failed"
    again = host_verdict(DOCKER_OK, ["containerd"], {}, stranded, containerd={"changed": False},
                         containerd_applied={"changed": True}, wanted=[M], live_again=healed)
    assert again["verdict"] == "ok" and again["runtimes"][0]["applied"] == "restart"
    skipped = host_verdict(DOCKER_OK, ["containerd"], {}, healed, containerd={"changed": False}, wanted=[M],
                           live_again={"skipped": True, "changed": False})
    assert skipped["verdict"] == "ok"


def test_verify_entry_point_judges_docker_from_mirrors_info() -> None:
    result = host_verdict(DOCKER_NONE, ["docker", "podman"], {},
                          live(docker=pod([M], state="running"), podman=pod()), wanted=[M])
    assert result["verdict"] == "ok", result
    assert [r["runtime"] for r in result["runtimes"]] == ["docker", "podman"]
    alone = host_verdict(DOCKER_NONE, ["docker"], {}, live(docker=pod([], state="running")), wanted=[M])
    assert alone["verdict"] == "failed" and "missing" in alone["reason"]


# --- summary and JUnit: one line per host and runtime ------------------------------------------------------

def report(*entries) -> dict:
    records = {e["host"]: ({"run": "r", "batch": 1, "hosts": [x["host"] for x in entries]},
                           {k: v for k, v in e.items() if k != "host"}) for e in entries}
    return build_report(records, [e["host"] for e in entries], "r")


def multi_host() -> dict:
    entry = host_verdict(DOCKER_OK, ["docker", "containerd"], {}, live(containerd=ctd([])),
                         containerd={"changed": False}, wanted=[M], run="r")
    return {"host": "node1", **entry}


def test_summary_has_a_line_per_runtime_for_hosts_with_several() -> None:
    docker_host = {"host": "dock1", **host_verdict(DOCKER_OK)}
    lines = summary(report(docker_host, multi_host()))
    assert lines[0].startswith("docker_mirror: 1/2 hosts verified (1 failed)"), lines
    assert any(line.split() == ["ok", "dock1:", "live", "mirrors", M + "/"] for line in lines), lines
    assert any(line.startswith("ok") and "node1 [docker]: live mirrors" in line for line in lines), lines
    assert any(line.startswith("FAILED") and "node1 [containerd] (verify): containerd does not use" in line
               for line in lines), lines


def test_junit_has_a_case_per_host_and_runtime() -> None:
    docker_host = {"host": "dock1", **host_verdict(DOCKER_OK)}
    suite = ET.fromstring(junit(report(docker_host, multi_host())))
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    assert set(cases) == {("docker_mirror", "dock1"), ("docker_mirror.docker", "node1 [docker]"),
                          ("docker_mirror.containerd", "node1 [containerd]")}
    assert (suite.get("tests"), suite.get("failures")) == ("3", "1")
    assert cases[("docker_mirror.containerd", "node1 [containerd]")].find("failure") is not None


def test_filters_are_registered() -> None:
    assert set(FilterModule().filters()) == {"docker_mirror_runtimes_selected", "docker_mirror_docker_only",
                                             "docker_mirror_host_verdict"}
