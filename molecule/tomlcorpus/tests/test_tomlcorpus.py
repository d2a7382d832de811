"""Judge, case by case, what converge.yml recorded on each host (containerd 1.6 / Podman 4.3 on Debian 12,
1.7 / 5.4 on Debian 13, 2.1 / 5.8 on forky), by rules that hold for every case, never by per-case outcomes.

config.toml (fleetops.docker_mirror.containerd_hosts, config_path = a copy of the case):
- accepted: a throwaway containerd boots on the file left; the module's cri_enabled is what containerd did (CRI
  plugins loaded or not); with CRI loaded, the effective config_path (`config dump`, imports merged) lists the
  module's hosts_dir, and the directory containerd reads for docker.io is the module's (no _default or
  host_port_ directory before it); every line but config_path's (or the registry table / version line it
  needs) is kept byte for byte; a second run changes nothing (bytes, mtime, inode).
- refused: "<file>: <cause> — the file was left unchanged", second run refused too, file untouched, and
  containerd refuses the file too (unless the cause is config_path, which the module owns).
registries.conf (fleetops.docker_mirror.registries_conf on a copy of the case's directory):
- accepted: `podman info` reads the directory left, its merged view gives docker.io exactly our mirror, and
  nothing else changed in that view (other registries, docker.io's blocked flag, search list); only our drop-in
  was added; the main file and other drop-ins keep every byte; a second run changes nothing.
- refused: the message names a file of the case; nothing added, nothing changed.
No result may hold a password. Nothing is left behind (no temporary, backup or lock file).
"""

from __future__ import annotations

import base64
import difflib
import json
import pathlib
import re

import pytest

SCENARIO = pathlib.Path(__file__).resolve().parents[1]
FIXTURES = SCENARIO.parents[1] / "tests" / "unit" / "fixtures"
CTD_FILES = sorted(p.name for p in (FIXTURES / "containerd_config").glob("*.toml"))
REG_CASES = sorted(p.name[:-len(".conf")] for p in (FIXTURES / "registries_conf").glob("*.conf"))

# Constants of vars/tomlcorpus.yml.
CTD_DIR = "/etc/containerd/tomlcorpus"
REG_ROOT = "/etc/containers/tomlcorpus"
RECORD = "/var/tmp/tomlcorpus-record.json"
MIRROR_LOCATION = "127.0.0.1:5000"
DROPIN = "50-fleetops-docker-mirror.conf"
SECRETS = ("Dott3dPW", "Qu0tedPW")
LEFT_UNCHANGED = " — the file was left unchanged"
# containerd's (major, minor) on each host: forky's 2.1 reads no hosts directory while config_path is unset (the
# defaults came with 2.2), so the module must set it there.
RELEASES = {"mol-tomlcorpus-d12": [1, 6], "mol-tomlcorpus-d13": [1, 7], "mol-tomlcorpus-forky": [2, 1]}
# Lines the module may add or replace in config.toml: config_path, the registry table holding it, the version of
# a file that had none, and blank lines around them.
CTD_MANAGED_LINE = re.compile(r'^\s*(config_path\s*=.*|\[plugins\..*registry\]\s*|version\s*=\s*\d+\s*|)$')

ctd_case = pytest.mark.parametrize("name", CTD_FILES)
reg_case = pytest.mark.parametrize("case", REG_CASES)


# --------------------------------------------------------------------------- the record


@pytest.fixture(scope="module")
def record(host) -> dict:
    return json.loads(host.file(RECORD).content_string)


def results(record: dict, kind: str) -> dict[str, tuple[dict, dict]]:
    first = {result["item"]: result for result in record[kind + "_run1"]}
    second = {result["item"]: result for result in record[kind + "_run2"]}
    return {name: (first[name], second[name]) for name in first}


@pytest.fixture(scope="module")
def ctd_runs(record):
    return results(record, "ctd")


@pytest.fixture(scope="module")
def reg_runs(record):
    return results(record, "reg")


def ok(result: dict) -> bool:
    """A module success (failed_when: false keeps failures as results with failed_when_result/msg)."""
    return not result.get("module_stderr") and "msg" not in result


def entry(record: dict, when: str, top: str, relative: str) -> dict | None:
    return record[when][top].get(relative)


def entry_bytes(record: dict, when: str, top: str, relative: str) -> bytes | None:
    found = entry(record, when, top, relative)
    return None if found is None else base64.b64decode(found["b64"])


def shown(result: dict) -> str:
    return json.dumps({key: value for key, value in result.items() if key != "invocation"}, ensure_ascii=False)


def brief(result: dict) -> dict:
    return {key: value for key, value in result.items()
            if key not in ("item", "ansible_loop_var", "failed_when_result", "invocation", "diff")}


# --------------------------------------------------------------------------- both modules


def test_hosts_run_the_expected_containerd(host, record):
    assert record["containerd"]["release"][:2] == RELEASES[host.backend.get_hostname()]


def test_every_case_ran(record):
    assert sorted(record["ctd_files"]) == CTD_FILES and sorted(record["reg_cases"]) == REG_CASES


@pytest.mark.parametrize("kind", ["ctd", "reg"])
def test_no_traceback_and_no_password(record, kind):
    for first, second in results(record, kind).values():
        for result in (first, second):
            assert "module_stderr" not in result and "Traceback" not in json.dumps(result), brief(result)
            assert not [secret for secret in SECRETS if secret in shown(result)], brief(result)


def test_nothing_left_behind(record):
    """Entries after the second run: what was copied, plus only our drop-ins in registries.conf.d."""
    assert sorted(record["after_run2"][CTD_DIR]) == sorted(record["before"][CTD_DIR])
    added = sorted(set(record["after_run2"][REG_ROOT]) - set(record["before"][REG_ROOT]))
    assert all(path.endswith("/registries.conf.d/" + DROPIN) for path in added), added


# --------------------------------------------------------------------------- config.toml


def fixture_ctd(name: str) -> bytes:
    return (FIXTURES / "containerd_config" / name).read_bytes()


def ctd_verdict(record: dict, name: str) -> dict:
    return record["containerd"]["verdicts"][f"{CTD_DIR}/{name}"]


def ctd_accepted(ctd_runs, name) -> dict:
    first, _ = ctd_runs[name]
    if not ok(first):
        pytest.skip(f"refused: {first.get('msg')}")
    return first


@ctd_case
def test_ctd_copy_is_byte_for_byte(record, name):
    assert entry_bytes(record, "before", CTD_DIR, name) == fixture_ctd(name)


@ctd_case
def test_ctd_accepted_file_starts_containerd(record, ctd_runs, name):
    ctd_accepted(ctd_runs, name)
    verdict = ctd_verdict(record, name)
    assert verdict["booted"], f"the module took {name}; containerd does not start on it: {verdict['words']}"


@ctd_case
def test_ctd_cri_is_what_the_module_says(record, ctd_runs, name):
    first = ctd_accepted(ctd_runs, name)
    verdict = ctd_verdict(record, name)
    assert first["cri_enabled"] == verdict["cri_loaded"], (
        f"module cri_enabled={first['cri_enabled']}, containerd's CRI plugins {verdict['cri_plugins']}, "
        f"errors {verdict['errors']}")


@ctd_case
def test_ctd_cri_reads_the_modules_hosts_dir(record, ctd_runs, name):
    first = ctd_accepted(ctd_runs, name)
    verdict = ctd_verdict(record, name)
    if not verdict["cri_loaded"]:
        pytest.skip("the CRI plugin is not loaded (test_ctd_cri_is_what_the_module_says)")
    assert verdict["dump_ok"], verdict["dump_words"]
    assert first["hosts_dir"] in verdict["dirs"], (
        f"effective config_path {verdict['config_path']!r}; the module wrote into {first['hosts_dir']}")
    assert verdict["lookup"] == f"{first['hosts_dir']}/docker.io", (
        f"containerd reads {verdict['lookup']} for docker.io, not the module's {first['hosts_dir']}/docker.io")
    assert first["cri_reads_hosts_dir"] is True, brief(first)


@ctd_case
def test_ctd_every_other_line_is_kept(record, ctd_runs, name):
    ctd_accepted(ctd_runs, name)
    before = fixture_ctd(name).decode("utf-8", "surrogateescape").splitlines()
    after = entry_bytes(record, "after_run1", CTD_DIR, name).decode("utf-8", "surrogateescape").splitlines()
    changed = [line[1:] for line in difflib.ndiff(before, after) if line[:1] in "+-"]
    assert all(CTD_MANAGED_LINE.match(line) for line in changed), changed


@ctd_case
def test_ctd_second_run_changes_nothing(record, ctd_runs, name):
    ctd_accepted(ctd_runs, name)
    second = ctd_runs[name][1]
    assert ok(second) and second["changed"] is False, brief(second)
    assert entry(record, "after_run2", CTD_DIR, name) == entry(record, "after_run1", CTD_DIR, name)


@ctd_case
def test_ctd_refusal_names_the_file_and_the_cause(ctd_runs, name):
    first, second = ctd_runs[name]
    if ok(first):
        pytest.skip("accepted")
    for result in (first, second):
        message = result["msg"]
        assert message.startswith(f"{CTD_DIR}/{name}: ") and message.endswith(LEFT_UNCHANGED), message
        cause = message[len(f"{CTD_DIR}/{name}: "):-len(LEFT_UNCHANGED)]
        assert len(cause) > 15 and "final rename" not in cause, message


@ctd_case
def test_ctd_refused_file_is_untouched(record, ctd_runs, name):
    if ok(ctd_runs[name][0]):
        pytest.skip("accepted")
    for when in ("after_run1", "after_run2"):
        assert entry(record, when, CTD_DIR, name) == entry(record, "before", CTD_DIR, name), when


# --------------------------------------------------------------------------- registries.conf


def reg_files(record: dict, when: str, case: str) -> dict[str, dict]:
    return {path: value for path, value in record[when][REG_ROOT].items()
            if path.startswith(case + "/") and value["kind"] == "file"}


def ours(path: str) -> bool:
    return path.endswith("/registries.conf.d/" + DROPIN)


def reg_accepted(reg_runs, case) -> dict:
    first, _ = reg_runs[case]
    if not ok(first):
        pytest.skip(f"refused: {first.get('msg')}")
    return first


def docker_io(view: dict) -> dict:
    return view["registries"].get("docker.io") or {}


@reg_case
def test_reg_podman_reads_the_mirror(record, reg_runs, case):
    reg_accepted(reg_runs, case)
    after = record["podman_after"][f"{REG_ROOT}/{case}"]
    assert after["ok"], f"the module wrote its drop-in; podman refuses the directory: {after['words']}"
    mirrors = [mirror["Location"] for mirror in docker_io(after).get("Mirrors") or []]
    assert mirrors == [MIRROR_LOCATION], f"podman's docker.io: {docker_io(after)}"


@reg_case
def test_reg_nothing_else_changes_in_podmans_view(record, reg_runs, case):
    reg_accepted(reg_runs, case)
    before = record["podman_before"][f"{REG_ROOT}/{case}"]
    after = record["podman_after"][f"{REG_ROOT}/{case}"]
    if not (before["ok"] and after["ok"]):
        pytest.skip("podman refuses the directory (test_reg_podman_reads_the_mirror)")
    others = {key: value for key, value in before["registries"].items() if key != "docker.io"}
    assert {key: value for key, value in after["registries"].items() if key != "docker.io"} == others
    assert docker_io(after).get("Blocked", False) == docker_io(before).get("Blocked", False), (
        f"docker.io before {docker_io(before)}, after {docker_io(after)}")


@reg_case
def test_reg_only_our_dropin_is_added(record, reg_runs, case):
    reg_accepted(reg_runs, case)
    added = set(reg_files(record, "after_run1", case)) - set(reg_files(record, "before", case))
    assert all(ours(path) for path in added), sorted(added)


@reg_case
def test_reg_other_files_keep_every_byte(record, reg_runs, case):
    reg_accepted(reg_runs, case)
    before, after = reg_files(record, "before", case), reg_files(record, "after_run2", case)
    for path, value in before.items():
        if not ours(path):
            assert after.get(path) == value, path


@reg_case
def test_reg_second_run_changes_nothing(record, reg_runs, case):
    reg_accepted(reg_runs, case)
    second = reg_runs[case][1]
    assert ok(second) and second["changed"] is False, brief(second)
    assert reg_files(record, "after_run2", case) == reg_files(record, "after_run1", case)


@reg_case
def test_reg_refusal_names_a_file_of_the_case(reg_runs, case):
    first, second = reg_runs[case]
    if ok(first):
        pytest.skip("accepted")
    for result in (first, second):
        message = result["msg"]
        assert message.startswith(f"{REG_ROOT}/{case}/") and message.endswith(LEFT_UNCHANGED), message


@reg_case
def test_reg_refused_case_is_untouched(record, reg_runs, case):
    if ok(reg_runs[case][0]):
        pytest.skip("accepted")
    for when in ("after_run1", "after_run2"):
        assert reg_files(record, when, case) == reg_files(record, "before", case), when


@ctd_case
def test_ctd_refused_file_is_one_containerd_refuses(record, ctd_runs, name):
    """Match the runtime: a file containerd starts on is not refused for its own sake. A refusal about where the
    CRI plugin reads hosts.toml (config_path, the setting the module owns; a hosts directory it does not read; a
    file it reads before ours) is the module's to make: containerd would start, without ever using the mirror."""
    first, _ = ctd_runs[name]
    if ok(first):
        pytest.skip("accepted")
    verdict = ctd_verdict(record, name)
    if re.search(r"config_path|reads no hosts directory|never this module's file", first["msg"]):
        pytest.skip("refused because containerd would not read the module's hosts.toml")
    assert not (verdict["booted"] and verdict["dump_ok"]), (
        f"containerd starts on {name} as it is (CRI plugins {verdict['cri_plugins']}); the module said: "
        f"{first['msg']}")
