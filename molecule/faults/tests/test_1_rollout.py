"""The rollout under faults: the healthy hosts get the mirror live, whatever the broken hosts of their batch do;
the stopped Docker stays stopped; one summary names every bad host and why; the reports say the same."""

import json
import os

import pytest
from conftest import (CANARY, EPHEMERAL, GHOST, HEALTHY, MIRROR, NODOCKER, STOPPED, host, live_mirrors,
                      junit_passed, load_json_raw, load_json_report, load_junit, read_log, the_summary, verdict_of)

REPORT_DIR = os.path.join(EPHEMERAL, "report")
ALL_HOSTS = {*HEALTHY, STOPPED, NODOCKER, GHOST}


@pytest.fixture(scope="module")
def summary():
    return the_summary(read_log("faults-run.log"))


def test_summary_counts_every_host_of_the_run(summary):
    verified, total, lines = summary
    assert (verified, total) == (3, 6), lines
    assert set(lines) == ALL_HOSTS, lines


@pytest.mark.parametrize("name", HEALTHY)
def test_healthy_host_has_the_mirror_live(name, summary):
    assert verdict_of(summary[2][name]) == "ok", summary[2][name]
    assert MIRROR in live_mirrors(name)


@pytest.mark.parametrize("name", HEALTHY)
def test_healthy_host_container_never_restarted(name):
    target = host(name)
    started = target.check_output("docker inspect --format '{{.State.StartedAt}}' app")
    assert started == target.file("/var/tmp/fleet-app-started").content_string.strip()


def test_stopped_docker_is_still_stopped():
    # Asked through systemctl: `docker info` would socket-activate the very dockerd this checks.
    target = host(STOPPED)
    assert target.run("systemctl is-active docker.service").stdout.strip() == "inactive"
    assert target.run("systemctl is-active docker.socket").stdout.strip() == "active"


def test_stopped_docker_is_reported_stopped(summary):
    line = summary[2][STOPPED]
    assert verdict_of(line) == "stopped", line


def test_stopped_docker_will_start_with_the_mirror():
    # The file is written, so the operator's next start uses the mirror; nothing was applied.
    daemon_json = host(STOPPED).file("/etc/docker/daemon.json")
    assert daemon_json.exists
    mirrors = json.loads(daemon_json.content_string)["registry-mirrors"]
    assert MIRROR.rstrip("/") in [m.rstrip("/") for m in mirrors]


def test_host_without_docker_command_fails_with_reason(summary):
    line = summary[2][NODOCKER]
    assert verdict_of(line) == "failed", line
    assert "docker" in line.lower() and any(
        word in line.lower() for word in ("not installed", "not found", "no docker", "command")), line
    assert host(NODOCKER).run("systemctl is-active docker.service").stdout.strip() == "active"


def test_unreachable_host_is_named(summary):
    line = summary[2][GHOST]
    assert verdict_of(line) != "ok" and "unreachable" in line.lower(), line


def test_canary_ran_first():
    log = read_log("faults-run.log")
    others = [log.index(f"[{name}]") for name in ALL_HOSTS - {CANARY} if f"[{name}]" in log]
    assert log.index(f"[{CANARY}]") < min(others)


def test_json_report_agrees_with_the_summary(summary):
    verified, total, lines = summary
    report = load_json_report(REPORT_DIR)
    assert set(report) == set(lines)
    for name, entry in report.items():
        assert entry["verdict"].lower().replace(" ", "-") == verdict_of(lines[name]), (entry, lines[name])
        if entry.get("reason"):
            assert str(entry["reason"]) in lines[name], (entry, lines[name])
    assert sum(entry["verdict"] == "ok" for entry in report.values()) == verified
    totals = load_json_raw(REPORT_DIR)
    assert (totals["verified"], totals["total"]) == (verified, total), totals
    for name in HEALTHY:
        assert MIRROR in report[name]["live_mirrors"], report[name]


def test_junit_report_agrees_with_the_summary(summary):
    verified, total, lines = summary
    suite, cases = load_junit(REPORT_DIR)
    assert int(suite.get("tests")) == total, suite.attrib
    assert set(cases) == set(lines)
    for name, case in cases.items():
        assert junit_passed(case) == (verdict_of(lines[name]) == "ok"), (name, lines[name])
    assert sum(junit_passed(case) for case in cases.values()) == verified
