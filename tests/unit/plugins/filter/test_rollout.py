# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's fleet filters as tables: the rollout, the summary and reports (each host's verdict:
tests/unit/plugins/plugin_utils/test_judge.py)."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.filter import rollout
from ansible_collections.fleetops.docker_mirror.plugins.filter.rollout import (
    FilterModule, build_report, docker_mirror_batch, docker_mirror_report, host_verdict, junit, next_batch,
    report_dir_problem, summary)

M = "http://127.0.0.1:5000"
MS = M + "/"


APPLIED = {"changed": True, "action": "reload", "live_mirrors": [MS]}
PLAN = {"runtimes": {"docker": {"installed": True, "problem": None}}, "write": ["docker"]}


def config(**kw) -> dict:
    """A daemon_json result: by default nothing changed, the daemon runs and reports the file's mirror."""
    needed = kw.get("daemon_state", "running") == "running" and bool(kw.get("changed"))
    return {"changed": False, "registry_mirrors": [M], "live_mirrors": [MS], "daemon_state": "running",
            "reload_sufficient": True, "changed_keys": [], **kw,
            "outcome": {"runtime": "docker", "apply_needed": needed, "apply_action": "reload" if needed else ""}}


def verdict(cfg, applied=None, wanted=None, run=None) -> dict:
    """Docker alone: the host's verdict from daemon_json and daemon_apply."""
    return host_verdict([cfg], [applied or {}], PLAN, {}, {"mirrors": wanted or []}, False, run)


# --- the rollout across batches ----------------------------------------------------------------------------

def test_next_batch_counts_this_runs_batches_only() -> None:
    records = {"a": {"run": "r", "batch": 1, "hosts": ["a"]}, "b": {"run": "r", "batch": 2, "hosts": ["b"]},
               "c": {"run": "old", "batch": 7, "hosts": ["c"]}, "d": None}
    assert next_batch(records, ["e"], "r") == {"run": "r", "batch": 3, "hosts": ["e"]}
    assert next_batch({}, ["a", "b"], "r")["batch"] == 1


def host_rec(run, batch, hosts, outcome):
    """(batch record, verdict) of one host; outcome None: no verdict (the role stopped on it)."""
    record = {"run": run, "batch": batch, "hosts": hosts}
    result = None if outcome is None else {"verdict": outcome, "stage": "x", "reason": outcome, "run": run}
    return record, result


HOSTS = ["c1", "c2", "c3", "c4", "c5"]
B1, B2 = ["c1"], ["c2", "c3", "c4", "c5"]

REPORTS = [
    # id, records, pct, final, rollout_stopped, verified, per-host verdicts
    ("canary ok, not last", {"c1": host_rec("r", 1, B1, "ok")}, 0, False, False, 1,
     ["ok"] + ["not attempted"] * 4),
    ("canary failed stops", {"c1": host_rec("r", 1, B1, "failed")}, 0, True, True, 0,
     ["failed"] + ["not attempted"] * 4),
    ("canary unreachable stops even at 100%", {"c1": host_rec("r", 1, B1, "unreachable")}, 100, True, True, 0,
     ["unreachable"] + ["not attempted"] * 4),
    ("all ok", {h: host_rec("r", 1 if h == "c1" else 2, B1 if h == "c1" else B2, "ok") for h in HOSTS}, 0,
     True, False, 5, ["ok"] * 5),
    ("last batch with failures", {**{h: host_rec("r", 2, B2, "ok") for h in B2[:2]},
                                  "c1": host_rec("r", 1, B1, "ok"),
                                  "c4": host_rec("r", 2, B2, "stopped"), "c5": host_rec("r", 2, B2, "failed")},
     0, True, False, 3, ["ok", "ok", "ok", "stopped", "failed"]),
    ("no verdict", {"c1": host_rec("r", 1, B1, None)}, 0, True, True, 0, ["failed"] + ["not attempted"] * 4),
    ("stale records ignored", {"c1": host_rec("r", 1, B1, "ok"), "c2": host_rec("old", 1, ["c2"], "ok")}, 0,
     False, False, 1, ["ok"] + ["not attempted"] * 4),
    ("check mode would change", {h: host_rec("r", 1, HOSTS, "would change") for h in HOSTS}, 0,
     True, False, 0, ["would change"] * 5),
]


@pytest.mark.parametrize(("records", "pct", "final", "stopped", "verified", "verdicts"),
                         [r[1:] for r in REPORTS], ids=[r[0] for r in REPORTS])
def test_build_report(records, pct, final, stopped, verified, verdicts) -> None:
    report = build_report(records, HOSTS, "r", pct)
    assert (report["final"], report["rollout_stopped"], report["verified"]) == (final, stopped, verified)
    assert [e["verdict"] for e in report["hosts"]] == verdicts
    assert report["total"] == 5 and sum(report["counts"].values()) == 5
    assert report["counts"].get("ok", 0) == verified


def test_counts_of_a_fully_verified_run_name_ok() -> None:
    # Before 2.0 a run where every host was verified wrote "counts": {} (ok was left out).
    records = {h: host_rec("r", 1, HOSTS, "ok") for h in HOSTS}
    report = build_report(records, HOSTS, "r", 0)
    assert report["counts"] == {"ok": 5}
    assert summary(report)[0] == "docker_mirror: 5/5 hosts verified"


@pytest.mark.parametrize(("failed", "size", "pct", "stops"), [
    (1, 4, 0, True), (1, 4, 25, False), (2, 4, 25, True), (3, 4, 100, False), (4, 4, 100, True),
    (1, 4, None, False), (4, 4, None, True), (0, 4, 0, False),
])
def test_batch_stops_like_ansible(failed, size, pct, stops) -> None:
    # Ansible: failed / batch size > max_fail_percentage, or every host of the batch failed. The batch is not
    # the last one here (c9 comes later).
    hosts = [f"h{i}" for i in range(size)]
    records = {h: host_rec("r", 1, hosts, "failed" if i < failed else "ok") for i, h in enumerate(hosts)}
    report = build_report(records, hosts + ["c9"], "r", pct)
    assert report["rollout_stopped"] is stops and report["final"] is stops


def test_not_attempted_reasons() -> None:
    stopped = build_report({"c1": host_rec("r", 1, B1, "failed")}, HOSTS, "r", 0)
    assert stopped["hosts"][1]["reason"] == "rollout stopped after batch 1"
    # The last batch ran; c5 never reached the role: Ansible had failed it before (not in ansible_play_hosts).
    records = {h: host_rec("r", 1, HOSTS[:4], "ok") for h in HOSTS[:4]}
    last = build_report(records, HOSTS, "r", 0, active=HOSTS[:4])
    assert last["final"] and last["last_batch"] and not last["rollout_stopped"]
    assert last["hosts"][4]["reason"] == "the host failed or was unreachable before the role ran"
    assert not build_report(records, HOSTS, "r", 0)["final"]  # c5 active: its batch is still to come


class FakeHostvars(dict):
    """hostvars as the filters see it: host → mapping of that host's variables."""


def test_hostvars_filters() -> None:
    docker = {"changed": False, "live_mirrors": [M], "daemon_state": "running",
              "outcome": {"runtime": "docker", "apply_needed": False, "apply_action": ""}}
    run_result = {"want": {"mirrors": [M], "runtimes": ["docker"]}, "configured": {"docker": docker},
                  "plan": {"runtimes": {"docker": {}}, "write": ["docker"]}, "apply": {}}
    batch = {"run": "r", "batch": 1, "hosts": ["c1", "c4"]}
    hostvars = FakeHostvars(c1={"__docker_mirror_batch": batch, "__docker_mirror_run": run_result,
                                "__docker_mirror_docker_applied": {"skipped": True}},
                            c4={"__docker_mirror_batch": batch, "__docker_mirror_run": {}},  # stopped before it
                            c2={}, c3={})
    assert docker_mirror_batch(hostvars, ["c1", "c2", "c3", "c4"], ["c2", "c3"], "r")["batch"] == 2
    report = docker_mirror_report(hostvars, ["c1", "c2", "c3", "c4", "nosuch"], "r", 0)
    assert [e["verdict"] for e in report["hosts"]] == ["ok"] + ["not attempted"] * 2 + ["failed", "not attempted"]
    assert report["hosts"][0]["reason"] == "live mirrors " + MS and "run" not in report["hosts"][0]
    assert report["hosts"][3]["reason"] == "stopped before its verdict (see the error above)"


# --- summary, JSON, JUnit ----------------------------------------------------------------------------------

def sample_report() -> dict:
    records = {
        "c1": host_rec("r", 1, B1, "ok"),
        "c2": (
            {"run": "r", "batch": 2, "hosts": B2},
            verdict(config(changed=True, live_mirrors=[]), applied=APPLIED, wanted=[M], run="r")),
        "c3": ({"run": "r", "batch": 2, "hosts": B2},
               verdict({"failed": True, "msg": "bad <json> & co"}, wanted=[M], run="r")),
        "c4": ({"run": "r", "batch": 2, "hosts": B2},
               verdict(config(daemon_state="stopped", live_mirrors=None), wanted=[M], run="r")),
        "c5": ({"run": "r", "batch": 2, "hosts": B2}, verdict({"unreachable": True, "msg": "no route"}, run="r")),
    }
    return build_report(records, HOSTS + ["c6"], "r", 0)


def test_summary_lines() -> None:
    lines = summary(sample_report())
    assert lines[0] == ("docker_mirror: 2/6 hosts verified "
                        "(1 failed, 1 unreachable, 1 stopped, 1 not attempted)")
    assert lines[2].split() == ["ok", "c2:", "live", "mirrors", MS]
    assert lines[3].startswith("FAILED") and "c3 (configure): bad <json> & co" in lines[3]
    assert lines[4].startswith("STOPPED") and "c4: Docker is stopped" in lines[4]
    assert lines[5].startswith("UNREACHABLE") and "c5: no route" in lines[5]
    assert lines[6].startswith("NOT RUN") and "c6: rollout stopped after batch 2" in lines[6]
    assert lines[7] == "rollout stopped after batch 2: 1 host(s) not attempted"


def test_summary_without_verify_agrees_with_its_lines() -> None:
    # Before: "2/2 hosts verified" above two lines saying "ok ... not verified (docker_mirror_verify: false)".
    cfg = config(changed=True, live_mirrors=[])
    records = {h: ({"run": "r", "batch": 1, "hosts": ["c1", "c2"]},
                   host_verdict([cfg], [APPLIED], PLAN, {}, {"mirrors": [M], "verify": False}, False, "r"))
               for h in ("c1", "c2")}
    report = build_report(records, ["c1", "c2"], "r", 0)
    lines = summary(report)
    assert lines[0] == "docker_mirror: 0/2 hosts verified (2 not verified)"
    assert lines[1].startswith("not verified c1: docker_mirror_verify: false; daemon.json written")
    assert report["counts"] == {"not verified": 2} and not report["rollout_stopped"]


def test_summary_check_mode() -> None:
    records = {"c1": host_rec("r", 1, ["c1"], "would change")}
    report = build_report(records, ["c1"], "r", 0, check_mode=True)
    lines = summary(report)
    assert lines[0].startswith("docker_mirror: 0/1 hosts verified (1 would change) — check mode")
    assert lines[1].startswith("would change c1: ")


def test_report_is_json_serialisable() -> None:
    report = sample_report()
    entry = json.loads(json.dumps(report))["hosts"][1]
    assert set(entry) >= {"host", "verdict", "stage", "reason", "live_mirrors", "file_changed", "applied", "batch"}
    assert (entry["file_changed"], entry["applied"]) == (True, "reload")


def test_junit() -> None:
    suite = ET.fromstring(junit(sample_report()))
    assert suite.attrib == {"name": "docker_mirror", "tests": "6", "failures": "2", "errors": "1", "skipped": "1"}
    cases = {c.attrib["name"]: c for c in suite.iter("testcase")}
    assert list(cases) == HOSTS + ["c6"]
    assert cases["c1"].find("failure") is None
    assert cases["c3"].find("failure").attrib["message"] == "failed (configure): bad <json> & co"
    assert cases["c4"].find("failure").attrib["type"] == "stopped"
    assert cases["c5"].find("error") is not None and cases["c6"].find("skipped") is not None


def test_filters_registered() -> None:
    filters = FilterModule().filters()
    assert all(fn.__module__.startswith(rollout.__name__.rsplit(".", 2)[0] + ".plugin_utils.")
               for fn in filters.values())
    assert set(filters) == {"docker_mirror_verdict", "docker_mirror_batch", "docker_mirror_report",
                            "docker_mirror_summary", "docker_mirror_junit", "docker_mirror_report_dir_problem",
                            "docker_mirror_arguments"}


def test_report_dir_problem(tmp_path) -> None:
    # Checked before any host is touched (before 2.0 an unwritable directory failed the run after the rollout).
    blocker = tmp_path / "file"
    blocker.write_text("x")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "docker_mirror.json").mkdir()
    assert report_dir_problem("") == ""
    assert report_dir_problem(str(tmp_path / "new" / "deeper")) == ""  # made by the report tasks
    assert report_dir_problem(str(tmp_path)) == ""
    assert report_dir_problem(str(blocker / "rep")) == (
        f"docker_mirror_report_dir {blocker}/rep: {blocker} is not a directory")
    assert "cannot replace" in report_dir_problem(str(tmp_path / "reports"))


def test_report_dir_problem_not_writable(tmp_path, monkeypatch) -> None:
    # A directory of another user (root passes every access check: pretend to be that user).
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: str(path) != str(locked) and real_access(path, mode))
    assert report_dir_problem(str(locked / "rep")) == (
        f"docker_mirror_report_dir {locked}/rep: cannot create the directory in {locked} "
        "(not writable by this user on the controller)")
    assert "cannot write the report files in" in report_dir_problem(str(locked))


def test_report_dir_problem_on_a_read_only_file_system() -> None:
    if not os.path.isdir("/proc/sys") or os.access("/proc/sys/kernel", os.W_OK):
        pytest.skip("no read-only directory to try")
    assert "not writable" in report_dir_problem("/proc/sys/kernel/rep")
