# Copyright: fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker_mirror role's fleet view: which batch runs, the report across hosts, the summary and JUnit XML.

Only docker_mirror_batch and docker_mirror_report read hostvars, and they hand plain dicts to the functions that
decide (tested as tables in tests/unit/plugins/filter/test_rollout.py). Controller code only.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from ansible_collections.fleetops.docker_mirror.plugins.plugin_utils._judge import (
    FAILED, NOT_A_FAILURE, NOT_ATTEMPTED, NOT_VERIFIED, OK, ORDER, PENDING, RUNTIMES, STOPPED, UNREACHABLE,
    WOULD_CHANGE, result, run_verdict, verdict)

LABELS = {OK: "ok", WOULD_CHANGE: "would change", PENDING: "pending", NOT_VERIFIED: "not verified", FAILED: "FAILED",
          UNREACHABLE: "UNREACHABLE", STOPPED: "STOPPED", NOT_ATTEMPTED: "NOT RUN"}
JUNIT_TAGS = {FAILED: "failure", STOPPED: "failure", UNREACHABLE: "error", NOT_ATTEMPTED: "skipped"}
BATCH_FACT = "__docker_mirror_batch"
# What the role registers on each host: the mirrors action's result, each runtime's handler, the live view after
# the handlers. The report judges every host from them (tasks/finish.yml has no per-host judging task).
RUN_FACT = "__docker_mirror_run"
APPLIED_FACTS = tuple("__docker_mirror_%s_applied" % name for name in RUNTIMES)
LIVE_FACT = "__docker_mirror_live"


# --- the rollout across batches ----------------------------------------------------------------------------

def _facts(hostvars, host: str, *names: str) -> list:
    """The named variables of one host (None when unset), reading its hostvars once."""
    try:
        host_vars = hostvars[host]
    except KeyError:
        return [None for name in names]
    return [host_vars[name] if name in host_vars else None for name in names]


def _ours(record, run) -> bool:
    return isinstance(record, Mapping) and record.get("run") == run


def next_batch(batch_records: Mapping, batch_hosts, run) -> dict:
    """This batch's record: its number (1 + the batches of this run already seen) and its hosts."""
    seen = [r.get("batch", 0) for r in batch_records.values() if _ours(r, run)]
    return {"run": run, "batch": max(seen, default=0) + 1, "hosts": list(batch_hosts)}


def docker_mirror_batch(hostvars, play_hosts, batch_hosts, run) -> dict:
    """Filter: the record of the batch starting now (run_once at the start of the role)."""
    others = {h: _facts(hostvars, h, BATCH_FACT)[0] for h in play_hosts if h not in batch_hosts}
    return next_batch(others, batch_hosts, run)


def _entry(host: str, batch, result, run) -> dict:
    """One host's line of the report: its verdict, or why it has none."""
    if not _ours(batch, run):
        entry = {"verdict": NOT_ATTEMPTED, "stage": "", "reason": ""}
    elif not _ours(result, run):
        entry = verdict(FAILED, "role", "stopped before its verdict (see the error above)")
    else:
        entry = {k: v for k, v in result.items() if k != "run"}
    return {"host": host, **entry, "batch": batch.get("batch") if _ours(batch, run) else None}


def _batch_stops(failed: int, size: int, max_fail_percentage) -> bool:
    """Ansible's rule: a batch stops the play when every host failed, or failed / size > max_fail_percentage."""
    if not failed:
        return False
    return failed == size or (max_fail_percentage is not None and failed / size > float(max_fail_percentage) / 100)


def build_report(records: Mapping, hosts, run, max_fail_percentage=None, check_mode: bool = False,
                 active=None) -> dict:
    """The fleet report from each play host's (batch record, verdict), and whether the current batch ends the
    run ("final"): it is the last one, or its failures stop the rollout; that is when the summary is printed.
    active: the play hosts Ansible has not failed (ansible_play_hosts); a host outside it without a record
    failed before the role ran, one inside it is in a later batch."""
    active = list(hosts) if active is None else list(active)
    entries = [_entry(host, *records.get(host, (None, None)), run) for host in hosts]
    ours = [r[0] for r in records.values() if _ours(r[0], run)]
    current = max(ours, key=lambda r: r["batch"], default={"batch": 0, "hosts": []})
    failed = sum(e["host"] in current["hosts"] and e["verdict"] not in NOT_A_FAILURE for e in entries)
    stops = _batch_stops(failed, len(current["hosts"]), max_fail_percentage)
    last = all(_ours(records.get(h, (None,))[0], run) for h in active)
    for entry in entries:
        if entry["verdict"] == NOT_ATTEMPTED:
            entry["reason"] = (f"rollout stopped after batch {current['batch']}" if entry["host"] in active
                               else "the host failed or was unreachable before the role ran")
    counts = {v: n for v in ORDER + (OK,) if (n := sum(e["verdict"] == v for e in entries))}
    return {"total": len(entries), "verified": sum(e["verdict"] == OK for e in entries), "counts": counts,
            "batch": current["batch"], "last_batch": last, "rollout_stopped": stops and not last,
            "final": last or stops, "check_mode": bool(check_mode), "hosts": entries}


def judge(facts: list, check_mode: bool, run) -> dict | None:
    """One host's verdict from its registered results (RUN_FACT, APPLIED_FACTS, LIVE_FACT, in that order);
    None when the mirrors task left no result (the host stopped before it)."""
    run_result, applied, live = facts[0], facts[1:1 + len(APPLIED_FACTS)], facts[-1]
    if not result(run_result):
        return None
    return run_verdict(run_result, applied, live, check_mode, run)


def docker_mirror_report(hostvars, play_hosts, run, max_fail_percentage=None, check_mode=False,
                         active=None) -> dict:
    """Filter: the fleet report for the hosts of the play (ansible_play_hosts_all; active: ansible_play_hosts),
    each host judged from what the role registered on it."""
    records = {}
    for host in play_hosts:
        batch, *facts = _facts(hostvars, host, BATCH_FACT, RUN_FACT, *APPLIED_FACTS, LIVE_FACT)
        records[host] = (batch, judge(facts, check_mode, run) if _ours(batch, run) else None)
    return build_report(records, list(play_hosts), run, max_fail_percentage, check_mode, active)


# --- output ------------------------------------------------------------------------------------------------

def _per_runtime(entry: Mapping) -> bool:
    """A host with a runtime other than Docker gets one line per runtime (Docker alone: one line, as in 1.0)."""
    runtimes = entry.get("runtimes") or []
    return len(runtimes) > 1 or any(line.get("runtime") != "docker" for line in runtimes)


def _lines(report: Mapping):
    """(name, verdict) per host, or per host and runtime ('host [containerd]') for hosts with several."""
    for entry in report["hosts"]:
        if _per_runtime(entry):
            for line in entry["runtimes"]:
                yield f"{entry['host']} [{line['runtime']}]", line
        else:
            yield entry["host"], entry


def _gaps(line: Mapping) -> list[str]:
    """What a runtime could not do (a host's line with one runtime: its runtimes' notes are the host's)."""
    return list(line.get("unsupported") or [])


def summary(report: Mapping) -> list[str]:
    """Filter: the fleet summary as lines: 'docker_mirror: V/N hosts verified (…)', then one line per host."""
    counts = report.get("counts", {})
    details = ", ".join(f"{n} {v}" for v, n in counts.items() if v != OK)  # ok: the verified count before it
    lines = [f"docker_mirror: {report['verified']}/{report['total']} hosts verified"
             + (f" ({details})" if details else "")]
    if report.get("check_mode"):
        lines[0] += " — check mode: nothing was written or applied"
    width = max(len(label) for label in LABELS.values()) + 1
    for name, line in _lines(report):
        stage = f" ({line['stage']})" if line["verdict"] == FAILED and line.get("stage") else ""
        lines.append(f"{LABELS[line['verdict']]:<{width}}{name}{stage}: {line['reason']}")
        lines.extend(f"{'':<{width}}  not supported here: {gap}" for gap in _gaps(line))
    if report.get("rollout_stopped"):
        lines.append(f"rollout stopped after batch {report['batch']}: "
                     f"{counts.get(NOT_ATTEMPTED, 0)} host(s) not attempted")
    return lines


def report_dir_problem(path) -> str:
    """Filter: why docker_mirror_report_dir cannot take the report files on the controller, '' when it can. Run
    before any host is touched, so that an unwritable directory stops the run first, not after the rollout; it
    creates nothing (the report tasks make the directory at the end)."""
    if not path:
        return ""
    target = os.path.abspath(os.path.expanduser(str(path)))
    existing = target
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    where = f"docker_mirror_report_dir {path}"
    if not os.path.isdir(existing):
        return f"{where}: {existing} is not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        verb = "write the report files in" if existing == target else "create the directory in"
        return f"{where}: cannot {verb} {existing} (not writable by this user on the controller)"
    for name in ("docker_mirror.json", "docker_mirror.junit.xml"):
        report_file = os.path.join(target, name)
        if os.path.lexists(report_file) and not (os.path.isfile(report_file) and os.access(report_file, os.W_OK)):
            return f"{where}: cannot replace {report_file} (not a writable file)"
    return ""


def junit(report: Mapping) -> str:
    """Filter: the report as JUnit XML, one test case per host, or per host and runtime (class
    docker_mirror.RUNTIME) for hosts with several (failed/stopped: failure; unreachable: error; not attempted:
    skipped)."""
    cases = list(_lines(report))
    tags = [JUNIT_TAGS.get(line["verdict"]) for dummy, line in cases]
    suite = ET.Element("testsuite", {
        "name": "docker_mirror", "tests": str(len(cases)), "failures": str(tags.count("failure")),
        "errors": str(tags.count("error")), "skipped": str(tags.count("skipped"))})
    for name, entry in cases:
        classname = "docker_mirror" + (f".{entry['runtime']}" if "runtime" in entry else "")
        case = ET.SubElement(suite, "testcase", {"classname": classname, "name": name})
        stage = f" ({entry['stage']})" if entry.get("stage") else ""
        message = f"{entry['verdict']}{stage}: {entry['reason']}" + "".join(
            f"\nnot supported here: {gap}" for gap in _gaps(entry))
        tag = JUNIT_TAGS.get(entry["verdict"])
        if tag:
            ET.SubElement(case, tag, {"type": entry["verdict"], "message": message})
        else:
            ET.SubElement(case, "system-out").text = message
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
