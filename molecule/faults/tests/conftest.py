"""Helpers for the faults scenario: run the playbooks as an operator does, and look at the hosts from outside.

Every check reads the hosts through the Docker socket (``docker exec``), never through the SSH transport the
playbooks use, so a broken transport cannot make a check pass.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest
import testinfra
import yaml

EPHEMERAL = os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
MIRROR = "http://127.0.0.1:5000/"
HEADER = re.compile(r"docker_mirror: (\d+)/(\d+) hosts? verified")

CANARY, D12, D13 = "mol-faults-canary", "mol-faults-d12", "mol-faults-d13"
STOPPED, NODOCKER, GHOST = "mol-faults-stopped", "mol-faults-nodocker", "mol-faults-ghost"
HEALTHY = [CANARY, D12, D13]


def run_playbook(args: list[str], log_name: str, **env_overrides: str) -> subprocess.CompletedProcess:
    """ansible-playbook as in molecule/_shared/run_configure.yml; the output is kept in the ephemeral directory."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default",
               ANSIBLE_CALLBACK_RESULT_FORMAT="yaml", **env_overrides)
    result = subprocess.run(["ansible-playbook", *args], env=env, text=True, capture_output=True, check=False,
                            timeout=600)
    with open(os.path.join(EPHEMERAL, log_name), "w", encoding="utf-8") as f:
        f.write(f"rc={result.returncode}\n{result.stdout}\n{result.stderr}\n")
    return result


def read_log(log_name: str) -> str:
    with open(os.path.join(EPHEMERAL, log_name), encoding="utf-8") as f:
        return f.read()


def summary_lines(lines: list[str], start: int) -> list[str]:
    """The summary's lines from its header on, as printed by the debug task (a YAML list in the yaml callback
    format; long items may be wrapped onto indented continuation lines)."""
    indent = len(lines[start]) - len(lines[start].lstrip())
    block = [lines[start]]
    for line in lines[start + 1:]:
        if not line.strip() or len(line) - len(line.lstrip()) < indent:
            break
        block.append(line)
    text = "\n".join(line[indent:] for line in block)
    try:
        items = yaml.safe_load(text)
    except yaml.YAMLError:
        items = None
    if isinstance(items, list) and all(isinstance(item, str) for item in items):
        return items
    return [line.strip().removeprefix("- ").strip("'\"") for line in block]


def summaries(log: str) -> list[tuple[int, int, dict[str, str]]]:
    """Every fleet summary in a run's output: (verified, total, {host: its line})."""
    found = []
    lines = log.splitlines()
    for index, line in enumerate(lines):
        match = HEADER.search(line)
        if not match:
            continue
        hosts: dict[str, str] = {}
        for text in summary_lines(lines, index)[1:]:
            host = re.match(r"\S+(?: \S+)?\s+(mol-faults-[\w-]+)\b", text)
            if host:
                hosts.setdefault(host.group(1), text)
        found.append((int(match.group(1)), int(match.group(2)), hosts))
    return found


def the_summary(log: str) -> tuple[int, int, dict[str, str]]:
    found = summaries(log)
    assert len(found) == 1, f"expected one fleet summary, found {len(found)}:\n{log}"
    return found[0]


def verdict_of(line: str) -> str:
    """The verdict word a summary line starts with, in the JSON report's spelling (ok, failed, stopped, ...)."""
    word = line.split()[0].lower().rstrip(":")
    return {"not": "not-attempted", "would": "would-change"}.get(word, word)


def junit_passed(case: ET.Element) -> bool:
    return all(case.find(tag) is None for tag in ("failure", "error", "skipped"))


def host(name: str):
    return testinfra.get_host(f"docker://{name}")


def live_mirrors(name: str) -> list[str]:
    out = host(name).check_output("docker info --format '{{json .RegistryConfig.Mirrors}}'")
    return json.loads(out) or []


def file_mirrors(name: str) -> list[str]:
    daemon_json = host(name).file("/etc/docker/daemon.json")
    if not daemon_json.exists:
        return []
    return json.loads(daemon_json.content_string).get("registry-mirrors", [])


def load_json_raw(report_dir: str) -> dict:
    with open(os.path.join(report_dir, "docker_mirror.json"), encoding="utf-8") as f:
        return json.load(f)


def load_json_report(report_dir: str) -> dict[str, dict]:
    """docker_mirror.json's per-host entries, by host."""
    return {entry["host"]: entry for entry in load_json_raw(report_dir)["hosts"]}


def load_junit(report_dir: str) -> tuple[ET.Element, dict[str, ET.Element]]:
    """docker_mirror.junit.xml: the test suite, and its test cases by host (the test case's name)."""
    suite = ET.parse(os.path.join(report_dir, "docker_mirror.junit.xml")).getroot()
    return suite, {case.get("name"): case for case in suite.iter("testcase")}


def ssh_host(name: str, key: str) -> dict[str, str]:
    """Inventory variables that reach a fleet host over SSH, as tools/fleet.py writes them."""
    return {
        "ansible_connection": "ssh", "ansible_user": "deploy", "ansible_ssh_private_key_file": key,
        "ansible_ssh_common_args": f'-o ProxyCommand="docker exec -i {name} socat - TCP:127.0.0.1:22" '
                                   "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
    }


@pytest.fixture(scope="session")
def ssh_key() -> str:
    with open(os.path.join(EPHEMERAL, "fleet-inventory.yml"), encoding="utf-8") as f:
        return yaml.safe_load(f)["molecule-faults"]["vars"]["ansible_ssh_private_key_file"]
