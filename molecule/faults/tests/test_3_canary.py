"""An unreachable canary stops the rollout before any other host is touched, and the summary says so."""

import json
import os

import pytest
import yaml
from conftest import (D12, D13, EPHEMERAL, file_mirrors, host, live_mirrors, run_playbook, ssh_host, the_summary,
                      verdict_of)

CANARY_GHOST = "mol-faults-ghost-canary"
NEW_MIRROR = "http://127.0.0.3:5000"


@pytest.fixture(scope="module")
def rollout(ssh_key):
    inventory = os.path.join(EPHEMERAL, "canary-ghost-inventory.yml")
    with open(inventory, "w", encoding="utf-8") as f:
        yaml.safe_dump({"all": {"hosts": {name: ssh_host(name, ssh_key) for name in (CANARY_GHOST, D12, D13)}}},
                       f, sort_keys=False)
    before = {name: (host(name).file("/etc/docker/daemon.json").content, live_mirrors(name)) for name in (D12, D13)}
    result = run_playbook(
        ["fleetops.docker_mirror.configure", "-i", inventory,
         "-e", json.dumps({"docker_mirror_registry_mirrors": [NEW_MIRROR]}),
         "-e", f"docker_mirror_report_dir={os.path.join(EPHEMERAL, 'report-canary')}"],
        "faults-canary.log")
    return {"before": before, "result": result}


def test_run_fails(rollout):
    assert rollout["result"].returncode != 0


def test_summary_names_the_canary(rollout):
    verified, total, lines = the_summary(rollout["result"].stdout)
    assert (verified, total) == (0, 3), lines
    assert "unreachable" in lines[CANARY_GHOST].lower(), lines
    for name in (D12, D13):
        assert verdict_of(lines[name]) == "not-attempted", lines
        assert "rollout stopped after batch 1" in lines[name], lines


@pytest.mark.parametrize("name", [D12, D13])
def test_other_hosts_untouched(rollout, name):
    content, live = rollout["before"][name]
    assert host(name).file("/etc/docker/daemon.json").content == content
    assert live_mirrors(name) == live
    assert NEW_MIRROR not in [m.rstrip("/") for m in file_mirrors(name)]
