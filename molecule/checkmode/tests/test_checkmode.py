"""--check --diff shows what would change on every host and changes nothing."""

import json
import os
import re

import pytest

LOG = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "check-run.log")


@pytest.fixture(scope="module")
def run_log():
    with open(LOG, encoding="utf-8") as f:
        return f.read()


def test_diff_shown_for_every_host(host, run_log):
    name = host.backend.get_hostname()
    assert f"changed: [{name}]" in run_log
    assert '+    "registry-mirrors": [' in run_log or '+  "registry-mirrors": [' in run_log, run_log
    flat = " ".join(run_log.split())  # the YAML callback wraps long lines
    assert re.search(rf"would change {name}: daemon\.json would change \(registry-mirrors\), then a reload", flat), flat
    assert flat.count("docker_mirror: 0/2 hosts verified (2 would change) — check mode: nothing was written or applied") == 1


def test_nothing_changed(host):
    daemon_json = host.file("/etc/docker/daemon.json")
    initial = host.file("/var/tmp/fleet-initial-daemon.json")
    if initial.exists:
        assert daemon_json.content == initial.content
    else:
        assert not daemon_json.exists
    assert host.run("ls -a /etc/docker/ | grep -e '~$' -e docker_mirror-previous").rc != 0
    mirrors = json.loads(host.check_output("docker info --format '{{json .RegistryConfig.Mirrors}}'"))
    assert not mirrors
