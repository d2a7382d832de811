"""A host whose file holds the mirror while its daemon does not (an edit nobody applied, a lost reload) is healed
by a run limited to it: the run converges on the live daemon, not on the file. (Run without SSH pipelining: the
other runs pipeline, so both ways of become through sudo are covered.)"""

import json
import os
import time

import pytest
from conftest import (D12, EPHEMERAL, INVENTORY, MIRROR, host, live_mirrors, load_json_report, run_playbook,
                      the_summary, verdict_of)

SAVED = "/var/tmp/faults-daemon.json"


def strand(name: str) -> None:
    """Reload the daemon on a file without mirrors, then put the file back without telling Docker."""
    target = host(name)
    # dockerd keeps its mirrors when the key is merely deleted: an empty list clears them.
    target.run_expect([0], f"cp -p /etc/docker/daemon.json {SAVED}")
    target.run_expect([0], "echo '{\"registry-mirrors\": []}' > /etc/docker/daemon.json && systemctl reload docker")
    deadline = time.monotonic() + 20
    while live_mirrors(name) and time.monotonic() < deadline:
        time.sleep(0.5)
    target.run_expect([0], f"cp -p {SAVED} /etc/docker/daemon.json")


@pytest.fixture(scope="module")
def heal():
    target = host(D12)
    strand(D12)
    before = {"live": live_mirrors(D12), "file": json.loads(target.file("/etc/docker/daemon.json").content_string)}
    result = run_playbook(
        ["fleetops.docker_mirror.configure", "-i", INVENTORY, "--limit", D12,
         "-e", json.dumps({"docker_mirror_registry_mirrors": [MIRROR.rstrip("/")]}),
         "-e", f"docker_mirror_report_dir={os.path.join(EPHEMERAL, 'report-heal')}"],
        "faults-heal.log", ANSIBLE_PIPELINING="false")  # become through sudo with module files, too
    return {"before": before, "result": result}


def test_host_was_stranded(heal):
    assert heal["before"]["live"] == []
    assert [m.rstrip("/") for m in heal["before"]["file"]["registry-mirrors"]] == [MIRROR.rstrip("/")]


def test_run_succeeds(heal):
    assert heal["result"].returncode == 0, heal["result"].stdout[-3000:]


def test_summary_reads_one_of_one(heal):
    verified, total, lines = the_summary(heal["result"].stdout)
    assert (verified, total) == (1, 1), lines
    assert verdict_of(lines[D12]) == "ok", lines


def test_mirror_live_again(heal):
    assert MIRROR in live_mirrors(D12)


def test_report_says_applied_without_a_file_change(heal):
    entry = load_json_report(os.path.join(EPHEMERAL, "report-heal"))[D12]
    assert entry["verdict"] == "ok", entry
    assert entry["file_changed"] is False and entry["applied"] == "reload", entry


def test_file_left_alone(heal):
    target = host(D12)
    assert target.file("/etc/docker/daemon.json").content == target.file(SAVED).content


def test_healed_by_reload_not_restart(heal):
    target = host(D12)
    started = target.check_output("docker inspect --format '{{.State.StartedAt}}' app")
    assert started == target.file("/var/tmp/fleet-app-started").content_string.strip()
