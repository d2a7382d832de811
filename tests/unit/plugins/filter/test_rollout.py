# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's judgements as tables: apply or not, each host's verdict, the rollout, the summary and reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.filter import rollout
from ansible_collections.fleetops.docker_mirror.plugins.filter.rollout import (
    FilterModule, apply_action, build_report, docker_mirror_batch, docker_mirror_report, junit, needs_apply,
    next_batch, summary, verdict)

M = "http://127.0.0.1:5000"
MS = M + "/"
# What the docker CLI prints to a user the socket refuses: Docker 26.x, and Docker 20.10 with a --format.
SOCKET_DENIED_26 = "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock"
SOCKET_DENIED_20 = ('template: :1:8: executing "" at <.RegistryConfig.Mirrors>: reflect: indirection through nil '
                    "pointer to embedded struct field Info")


def config(**kw) -> dict:
    """A daemon_json result: by default nothing changed, the daemon runs and reports the file's mirror."""
    return {"changed": False, "registry_mirrors": [M], "live_mirrors": [MS], "daemon_state": "running",
            "reload_sufficient": True, "changed_keys": [], **kw}


# --- needs_apply / apply_action ----------------------------------------------------------------------------

@pytest.mark.parametrize(("result", "apply_mode", "expected"), [
    (config(), "auto", False),                                        # converged
    (config(changed=True, changed_keys=["registry-mirrors"]), "auto", True),
    (config(live_mirrors=[]), "auto", True),                          # stranded: file right, daemon not
    (config(live_mirrors=["http://other/"]), "reload", True),
    (config(live_mirrors=[M]), "auto", False),                        # same mirror, other spelling
    (config(live_mirrors=None), "auto", False),                       # daemon not asked
    (config(changed=True), "none", False),                            # write only
    (config(changed=True, daemon_state="stopped", live_mirrors=None), "auto", False),  # never start Docker
    ({"failed": True, "msg": "x"}, "auto", False),
    ({"unreachable": True, "msg": "x"}, "auto", False),
    ({}, "auto", False),
    ({"skipped": True}, "auto", False),
    (None, "auto", False),
])
def test_needs_apply(result, apply_mode, expected) -> None:
    assert needs_apply(result, apply_mode) is expected


@pytest.mark.parametrize(("result", "apply_mode", "expected"), [
    (config(reload_sufficient=True), "auto", "reload"),
    (config(reload_sufficient=False), "auto", "restart"),
    (config(reload_sufficient=True), "restart", "restart"),
    (config(reload_sufficient=False), "reload", "reload"),
    ({}, "auto", "reload"),
])
def test_apply_action(result, apply_mode, expected) -> None:
    assert apply_action(result, apply_mode) == expected


# --- verdict -----------------------------------------------------------------------------------------------

APPLIED = {"changed": True, "action": "reload", "live_mirrors": [MS]}
APPLY_FAILED = {"failed": True, "stage": "apply", "rolled_back": True, "live_mirrors": [],
                "msg": "Docker did not take the new /etc/docker/daemon.json: reload failed;\nprevious restored"}

VERDICTS = [
    # id, config, applied, probe, kwargs, verdict, stage, reason contains
    ("converged", config(), {}, {}, {}, "ok", "verify", "live mirrors " + MS),
    ("applied", config(changed=True, live_mirrors=[]), APPLIED, {}, {}, "ok", "verify", MS),
    ("healed", config(live_mirrors=[]), APPLIED, {}, {}, "ok", "verify", MS),
    ("unreachable", {"unreachable": True, "msg": "Task failed: ssh: no route", "changed": False}, {}, {}, {},
     "unreachable", "connect", "ssh: no route"),
    ("configure failed", {"failed": True, "msg": "/etc/docker/daemon.json: bad — the file was left unchanged"},
     {}, {}, {}, "failed", "configure", "left unchanged"),
    ("module could not run", {"failed": True, "msg": "Module result deserialization failed: No start of json",
                              "module_stderr": "\nError response from daemon: No such container: c-9\n"},
     {}, {}, {}, "failed", "configure", "No start of json: Error response from daemon: No such container: c-9"),
    ("not installed", config(daemon_state="not-installed", live_mirrors=None), {}, {}, {},
     "failed", "configure", "Docker is not installed"),
    ("not answering, written", config(changed=True, daemon_state="not-answering", live_mirrors=None), {}, {}, {},
     "failed", "configure", "dockerd is not answering (docker info failed): daemon.json written, nothing applied"),
    ("stopped, written", config(changed=True, daemon_state="stopped", live_mirrors=None), {}, {}, {},
     "stopped", "apply", "daemon.json written, nothing applied"),
    ("stopped, file right", config(daemon_state="stopped", live_mirrors=None), {}, {}, {},
     "stopped", "apply", "already right"),
    ("apply failed", config(changed=True, live_mirrors=[]), APPLY_FAILED, {}, {},
     "failed", "apply", "reload failed; previous restored"),
    ("apply unreachable", config(changed=True), {"unreachable": True, "msg": "lost"}, {}, {},
     "unreachable", "apply", "lost"),
    ("check mode, file", config(changed=True, changed_keys=["registry-mirrors"], live_mirrors=[]), {}, {},
     {"check_mode": True}, "would change", "configure", "daemon.json would change (registry-mirrors), then a reload"),
    ("check mode, stranded", config(live_mirrors=[]), {}, {}, {"check_mode": True},
     "would change", "configure", "the live daemon reports no mirror"),
    ("check mode, converged", config(), {}, {}, {"check_mode": True}, "ok", "verify", MS),
    ("apply none", config(changed=True, live_mirrors=[]), {}, {}, {"apply_mode": "none"},
     "pending", "apply", "not applied (docker_mirror_apply: none)"),
    ("verify off", config(changed=True, live_mirrors=[]), APPLIED, {}, {"verify": False},
     "ok", "apply", "not verified"),
    ("missing", config(live_mirrors=["http://other/"], registry_mirrors=["http://other"]), {}, {}, {},
     "failed", "verify", "missing " + MS),
    ("exclusive order", config(live_mirrors=["http://b/", MS]), {}, {}, {"wanted": [M, "http://b"], "exclusive": True},
     "failed", "verify", "order differs"),
    ("absent ok", config(live_mirrors=[]), {}, {}, {"state": "absent"}, "ok", "verify", "no mirror live"),
    ("absent still live", config(), {}, {}, {"state": "absent"}, "failed", "verify", "still live: " + MS),
    ("absent exclusive", config(live_mirrors=["http://b/"]), {}, {},
     {"state": "absent", "exclusive": True, "wanted": []},
     "failed", "verify", "still live: http://b/"),
    ("probe ok", {}, {}, {"rc": 0, "stdout": json.dumps([MS])}, {}, "ok", "verify", MS),
    ("probe null", {}, {}, {"rc": 0, "stdout": "null"}, {}, "failed", "verify", "missing"),
    ("probe stopped", {}, {}, {"rc": 3, "stdout": "stopped\n"}, {}, "stopped", "verify", "Docker is stopped"),
    ("probe no dockerd", {}, {}, {"rc": 1, "stdout": "", "stderr": "Cannot connect\n"}, {},
     "failed", "verify", "dockerd is not answering: Cannot connect"),
    ("probe unreachable", {}, {}, {"unreachable": True, "msg": "gone"}, {}, "unreachable", "connect", "gone"),
    ("probe hung dockerd", {}, {}, {"rc": 124, "stdout": "", "stderr": ""}, {},
     "failed", "verify", "docker info did not answer within 30 s"),
    ("probe refused socket (26.x)", {}, {}, {"rc": 1, "stderr": SOCKET_DENIED_26}, {},
     "failed", "verify", "needs root on this host: run with become: true"),
    ("probe refused socket (20.10)", {}, {}, {"rc": 1, "stderr": SOCKET_DENIED_20}, {},
     "failed", "verify", "needs root on this host"),
    ("wanted as a key=value string", config(), {}, {}, {"wanted": M}, "ok", "verify", MS),
    ("wanted as a comma-separated string (split as the module splits it)",
     config(registry_mirrors=[M, "https://m.example"], live_mirrors=[MS, "https://m.example/"]), {}, {},
     {"wanted": f"{M},https://m.example"}, "ok", "verify", "https://m.example/"),
    ("comma-separated, one missing", config(), {}, {}, {"wanted": f"{M}, https://m.example"},
     "failed", "verify", "missing https://m.example/"),
    ("nothing ran", {}, {}, {"skipped": True}, {}, "failed", "role", "no result"),
]


@pytest.mark.parametrize(("cfg", "applied", "probe", "kwargs", "expected", "stage", "reason"),
                         [v[1:] for v in VERDICTS], ids=[v[0] for v in VERDICTS])
def test_verdict(cfg, applied, probe, kwargs, expected, stage, reason) -> None:
    kwargs = {"wanted": [M], **kwargs}
    result = verdict(cfg, applied=applied, probe=probe, run="r1", **kwargs)
    assert (result["verdict"], result["stage"]) == (expected, stage), result
    assert reason in result["reason"], result
    assert "\n" not in result["reason"] and not result["reason"].startswith("Task failed")
    assert result["run"] == "r1"


def test_verdict_facts_for_the_report() -> None:
    result = verdict(config(changed=True, live_mirrors=[]), applied=APPLIED, wanted=[M])
    assert result["file_changed"] is True and result["applied"] == "reload" and result["live_mirrors"] == [MS]
    failed = verdict(config(changed=True, live_mirrors=[]), applied=APPLY_FAILED, wanted=[M])
    assert failed["rolled_back"] is True and failed["applied"] == "" and failed["live_mirrors"] == []
    checked = verdict(config(changed=True), wanted=[M], check_mode=True)
    assert checked["file_changed"] is False  # nothing was written


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
    assert report["total"] == 5 and sum(report["counts"].values()) + verified == 5


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
    hostvars = FakeHostvars(c1={"__docker_mirror_batch": {"run": "r", "batch": 1, "hosts": ["c1"]},
                                "__docker_mirror_verdict": {"verdict": "ok", "stage": "verify", "reason": "x",
                                                            "run": "r"}},
                            c2={}, c3={})
    assert docker_mirror_batch(hostvars, ["c1", "c2", "c3"], ["c2", "c3"], "r")["batch"] == 2
    report = docker_mirror_report(hostvars, ["c1", "c2", "c3", "nosuch"], "r", 0)
    assert [e["verdict"] for e in report["hosts"]] == ["ok"] + ["not attempted"] * 3
    assert "run" not in report["hosts"][0]


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
    assert {name: fn.__module__ for name, fn in filters.items()} == dict.fromkeys(filters, rollout.__name__)
    assert set(filters) == {"docker_mirror_needs_apply", "docker_mirror_apply_action", "docker_mirror_verdict",
                            "docker_mirror_batch", "docker_mirror_report", "docker_mirror_summary",
                            "docker_mirror_junit"}
