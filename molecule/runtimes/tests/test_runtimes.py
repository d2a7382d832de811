"""docker_mirror_runtimes: auto on hosts with Docker, containerd and Podman: each runtime pulls through the
host's loopback mirror (its log shows each runtime's requests), no container of any runtime was interrupted
(containerd restarted once, for config_path), a second run changes nothing, state absent undoes it all."""

import json
import os
import re
import xml.etree.ElementTree as ET

import pytest

EPHEMERAL = os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
MIRROR = "http://127.0.0.1:5000/"
RUNTIMES = ("docker", "containerd", "podman")
HOSTS_TOML = "/etc/containerd/certs.d/docker.io/hosts.toml"
DROPIN = "/etc/containers/registries.conf.d/50-fleetops-docker-mirror.conf"
# How each runtime introduces itself to the registry (http.request.useragent in its log).
CRI_DISABLED = "mol-runtimes-d12"  # Docker CE's containerd config.toml (molecule.yml)
USER_AGENTS = {"docker": r"docker/\d", "containerd": r"containerd/", "podman": r"containers/"}


def read_log(name: str) -> str:
    with open(os.path.join(EPHEMERAL, name), encoding="utf-8") as handle:
        return handle.read()


def report(name: str) -> dict:
    with open(os.path.join(EPHEMERAL, name, "docker_mirror.json"), encoding="utf-8") as handle:
        return json.load(handle)


def runtime_lines(name: str, host: str) -> dict[str, dict]:
    """One host's line per runtime in a JSON report."""
    entry = next(e for e in report(name)["hosts"] if e["host"] == host)
    return {line["runtime"]: line for line in entry["runtimes"]}


def printed(log: str) -> str:
    """The run's output with every run of white space made one space (the summary's items may wrap)."""
    return re.sub(r"\s+", " ", log)


def recap_changed(log: str) -> dict[str, int]:
    return {host: int(changed) for host, changed in re.findall(r"^(mol-\S+)\s+:\s+ok=\d+\s+changed=(\d+)", log, re.M)}


def pulled(host, label: str, runtime: str) -> tuple[int, str]:
    text = host.file(f"/var/tmp/fleet-pull-{label}-{runtime}").content_string
    status, _, output = text.partition("\n")
    return int(status), output


# --- the apply ---------------------------------------------------------------------------------------------

def test_every_runtime_of_every_host_is_verified(host):
    name = host.backend.get_hostname()
    lines = runtime_lines("report", name)
    assert list(lines) == list(RUNTIMES), lines
    for runtime, line in lines.items():
        assert (line["verdict"], line["live_mirrors"]) == ("ok", [MIRROR]), line
    log = printed(read_log("runtimes-apply.log"))
    assert "docker_mirror: 2/2 hosts verified" in log
    for runtime in RUNTIMES:
        assert re.search(rf"ok +{name} \[{runtime}\]: live mirrors {MIRROR}", log), (runtime, log)


def test_each_runtime_pulls_through_the_mirror(host):
    since = host.file("/var/tmp/fleet-pull-present-since").content_string.strip()
    for runtime in RUNTIMES:
        status, output = pulled(host, "present", runtime)
        assert status == 0, (runtime, output)
    log = host.check_output(f"journalctl -u docker-registry --since @{since} --no-pager -o cat")
    requests = [line for line in log.splitlines() if "/v2/library/hello/manifests/1" in line]
    for runtime, agent in USER_AGENTS.items():
        assert any(re.search(agent, line) for line in requests), (runtime, requests)


def test_files_held_the_mirror(host):
    """As they were when the pulls ran (state absent removed them since)."""
    hosts_toml = host.file("/var/tmp/fleet-present-hosts.toml").content_string
    dropin = host.file("/var/tmp/fleet-present-50-fleetops-docker-mirror.conf").content_string
    config = host.file("/var/tmp/fleet-present-config.toml").content_string
    assert 'host."http://127.0.0.1:5000"' in hosts_toml, hosts_toml
    assert 'location = "127.0.0.1:5000"' in dropin and "insecure = true" in dropin, dropin
    if host.backend.get_hostname() == CRI_DISABLED:
        assert config == '#   Copyright 2018-2022 Docker Inc.\ndisabled_plugins = ["cri"]\n'  # left alone
    else:
        assert re.search(r'config_path\s*=\s*"/etc/containerd/certs.d"', config), config


def test_first_run_wrote_and_applied_nothing(host):
    """docker_mirror_apply none: every file written, nothing restarted or reloaded, the hosts pending."""
    name = host.backend.get_hostname()
    lines = runtime_lines("report-pending", name)
    assert lines["docker"]["verdict"] == "pending", lines
    expected = "ok" if name == CRI_DISABLED else "pending"  # only a config.toml change waits for a restart
    assert lines["containerd"]["verdict"] == expected, lines
    assert lines["podman"]["verdict"] == "ok", lines  # read at each invocation: nothing to apply
    applied = re.findall(r"RUNNING HANDLER \[fleetops\.docker_mirror\.docker_mirror : (Restart containerd|Make "
                         r"Docker take the new daemon\.json|Reload CRI-O)\]", read_log("runtimes-pending.log"))
    assert applied == []  # only the reading of what containerd and Podman use now ran


def test_no_container_of_any_runtime_was_interrupted(host):
    docker_started = host.check_output("docker inspect --format '{{.State.StartedAt}}' app")
    assert docker_started == host.file("/var/tmp/fleet-app-started").content_string.strip()
    task = host.check_output("ctr -n fleet tasks ls | awk '$1 == \"app-ctr\" { print $2, $3 }'").split()
    assert task == [host.file("/var/tmp/fleet-ctr-pid").content_string.strip(), "RUNNING"], task
    podman_started = host.check_output("podman inspect --format '{{.State.StartedAt}}' app-podman")
    assert podman_started == host.file("/var/tmp/fleet-podman-started").content_string.strip()
    assert host.check_output("podman inspect --format '{{.State.Status}}' app-podman") == "running"


def test_containerd_restarted_once_where_config_path_was_added():
    """The Debian 13 host (the canary batch): the second run found its containerd had not loaded config.toml
    since the first run changed it, and restarted it; the Debian 12 host's CRI plugin is disabled: no restart."""
    log = read_log("runtimes-apply.log")
    restarts = re.findall(r"RUNNING HANDLER \[fleetops\.docker_mirror\.docker_mirror : Restart containerd\]"
                          r"\s*\*+\s*\n(?:changed|ok): \[(\S+)\]", log)
    assert restarts == ["mol-runtimes-d13"], restarts
    assert "RUNNING HANDLER" not in read_log("runtimes-rerun.log")


def test_cri_disabled_host_says_so(host):
    if host.backend.get_hostname() != CRI_DISABLED:
        pytest.skip("the host with Docker CE's config.toml")
    line = runtime_lines("report", CRI_DISABLED)["containerd"]
    assert line["verdict"] == "ok" and "the CRI plugin is disabled" in line["reason"], line


def test_second_run_changes_nothing():
    changed = recap_changed(read_log("runtimes-rerun.log"))
    assert changed == {"mol-runtimes-d12": 0, "mol-runtimes-d13": 0}, changed


def test_junit_has_a_case_per_host_and_runtime():
    suite = ET.parse(os.path.join(EPHEMERAL, "report", "docker_mirror.junit.xml")).getroot()
    names = sorted(case.get("name") for case in suite.iter("testcase"))
    assert names == sorted(f"{h} [{r}]" for h in ("mol-runtimes-d12", "mol-runtimes-d13") for r in RUNTIMES)
    assert suite.get("failures") == "0" and suite.get("errors") == "0"


def test_verify_playbook_sees_every_runtime(host):
    lines = runtime_lines("report-verify", host.backend.get_hostname())
    assert {runtime: line["verdict"] for runtime, line in lines.items()} == dict.fromkeys(RUNTIMES, "ok"), lines
    assert "docker_mirror: 2/2 hosts verified" in read_log("runtimes-verify.log")


# --- state absent ------------------------------------------------------------------------------------------

def test_absent_removes_what_we_wrote_and_nothing_else(host):
    lines = runtime_lines("report-absent", host.backend.get_hostname())
    assert {runtime: (line["verdict"], line["live_mirrors"]) for runtime, line in lines.items()} == \
        dict.fromkeys(RUNTIMES, ("ok", [])), lines
    assert not host.file(HOSTS_TOML).exists
    assert not host.file(DROPIN).exists
    # config.toml is the operator's file now: absent leaves it as it was (config_path stays).
    assert host.file("/var/tmp/fleet-absent-config.toml").content_string == \
        host.file("/var/tmp/fleet-present-config.toml").content_string
    assert json.loads(host.file("/etc/docker/daemon.json").content_string)["registry-mirrors"] == []


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_absent_pulls_no_longer_reach_the_mirror(host, runtime):
    status, output = pulled(host, "absent", runtime)
    assert status != 0, output  # no mirror, and no Docker Hub from a --network none host
