"""Each failure mode fails its host with a clear message; nothing is lost; Docker runs; the other host succeeds."""

import json
import os
import re
import xml.etree.ElementTree as ET

import pytest

LOG = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "failure-run.log")
REPORT = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "report")

# Host → what its failure message must say.
EXPECTED_MESSAGE = {
    "mol-failure-json": r"/etc/docker/daemon\.json.*(line 2, column|line 2 column).*left unchanged",
    "mol-failure-url": r"mirror\.gcr\.io.*scheme",
    "mol-failure-flag": r"/etc/default/docker.*--registry-mirror",
    "mol-failure-reload": r"specified default runtime\s+'*no-such-runtime'*\s+does not exist",
    "mol-failure-start": r"systemctl restart docker failed.*site policy: this host may not use a mirror",
}


@pytest.fixture(scope="module")
def run_log():
    with open(LOG, encoding="utf-8") as f:
        return f.read()


@pytest.fixture(scope="module")
def report():
    with open(os.path.join(REPORT, "docker_mirror.json"), encoding="utf-8") as f:
        return {entry["host"]: entry for entry in json.load(f)["hosts"]}


@pytest.fixture
def name(host):
    return host.backend.get_hostname()


def test_message_names_the_cause(host, name, run_log):
    if name == "mol-failure-ok":
        assert re.search(r"ok\s+mol-failure-ok: live mirrors http://127\.0\.0\.1:5000/", run_log), run_log
        return
    section = run_log[run_log.rfind(f"fatal: [{name}]"):]  # the last one: ignored errors print too
    assert f"fatal: [{name}]" in run_log, run_log
    assert re.search(EXPECTED_MESSAGE[name], section[:3000], re.S), section[:3000]
    assert re.search(rf"FAILED\s+{name} \(\w+\): ", run_log), "fleet summary lacks the host"


def test_report_agrees(name, report):
    entry = report[name]
    if name == "mol-failure-ok":
        assert (entry["verdict"], entry["file_changed"], entry["applied"]) == ("ok", True, "reload")
        return
    assert entry["verdict"] == "failed"
    assert entry["stage"] == ("apply" if name in ("mol-failure-reload", "mol-failure-start") else "configure")
    assert re.search(EXPECTED_MESSAGE[name], entry["reason"]), entry
    assert entry["rolled_back"] is (entry["stage"] == "apply")


def test_junit_report(report):
    suite = ET.parse(os.path.join(REPORT, "docker_mirror.junit.xml")).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("6", "5")
    failed = {case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None}
    assert failed == {host for host, entry in report.items() if entry["verdict"] != "ok"}


def test_fleet_summary_printed_once(run_log):
    assert run_log.count("docker_mirror: 1/6 hosts verified (5 failed)") == 1, run_log
    assert run_log.count("hosts verified") == 1, run_log


def test_file_unchanged_or_restored(host, name):
    daemon_json = host.file("/etc/docker/daemon.json")
    initial = host.file("/var/tmp/fleet-initial-daemon.json")
    if name == "mol-failure-ok":
        assert json.loads(daemon_json.content_string) == {"registry-mirrors": ["http://127.0.0.1:5000"]}
    elif initial.exists:
        assert daemon_json.content == initial.content  # byte-identical
    else:
        assert not daemon_json.exists


def test_docker_running_with_previous_mirrors(host, name):
    assert host.service("docker").is_running
    mirrors = json.loads(host.check_output("docker info --format '{{json .RegistryConfig.Mirrors}}'")) or []
    expected = {"mol-failure-ok": ["http://127.0.0.1:5000/"], "mol-failure-flag": ["http://127.0.0.1:5000/"]}
    assert mirrors == expected.get(name, [])


def test_container_survived(host, name):
    # Only the host whose restart was refused lost its container's uptime (that is what a restart means).
    started = host.check_output("docker inspect --format '{{.State.StartedAt}}' app")
    recorded = host.file("/var/tmp/fleet-app-started").content_string.strip()
    state = host.check_output("docker inspect --format '{{.State.Running}} {{.State.StartedAt}}' app")
    if name == "mol-failure-start":
        # The restart was really attempted: it stopped the container (no restart policy), or restarted it.
        assert state != f"true {recorded}", "the container was not interrupted: was the restart applied at all?"
    else:
        assert started == recorded


def test_no_rollback_copy_left_behind(host):
    assert not host.file("/etc/docker/.daemon.json.docker_mirror-previous").exists
