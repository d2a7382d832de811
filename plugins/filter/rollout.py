# Copyright: fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker_mirror role's judgements as data: does Docker need to take the file, what is each host's verdict,
where is the rollout, and the fleet summary (text, JSON report, JUnit XML).

Each filter is a plain function of registered task results and plain values, so that it can be tested as a
table (tests/unit/plugins/filter/test_rollout.py). Only docker_mirror_batch and docker_mirror_report read
hostvars, and they hand plain dicts to the functions that decide.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._registry import mirror_key

# Verdicts. Only "ok" counts as verified; "would change" (check mode) and "pending" (docker_mirror_apply=none)
# are not failures either. Every other verdict fails its host at the end of the role.
OK = "ok"
WOULD_CHANGE = "would change"
PENDING = "pending"
FAILED = "failed"
UNREACHABLE = "unreachable"
STOPPED = "stopped"
NOT_ATTEMPTED = "not attempted"
NOT_A_FAILURE = frozenset((OK, WOULD_CHANGE, PENDING))
LABELS = {OK: "ok", WOULD_CHANGE: "would change", PENDING: "pending", FAILED: "FAILED",
          UNREACHABLE: "UNREACHABLE", STOPPED: "STOPPED", NOT_ATTEMPTED: "NOT RUN"}
ORDER = (FAILED, UNREACHABLE, STOPPED, NOT_ATTEMPTED, WOULD_CHANGE, PENDING)
JUNIT_TAGS = {FAILED: "failure", STOPPED: "failure", UNREACHABLE: "error", NOT_ATTEMPTED: "skipped"}

# The verify probe (tasks/probe.yml) bounds `docker info` with coreutils' timeout, which exits 124 then.
PROBE_TIMEOUT = 30
TIMEOUT_RC = 124
# What the docker CLI says to a user the socket refuses (26.x), or Docker 20.10's template error in that case.
NEEDS_ROOT_SIGNS = ("permission denied while trying to connect", "reflect: indirection through nil pointer")
DAEMON_PROBLEMS = {"not-installed": "Docker is not installed (no docker command)",
                   "not-answering": "dockerd is not answering (docker info failed)"}

BATCH_FACT = "__docker_mirror_batch"
VERDICT_FACT = "__docker_mirror_verdict"


# --- registered results ------------------------------------------------------------------------------------

def _result(value) -> dict:
    """A registered result as a dict; {} for one that was reset, skipped or never registered."""
    if not isinstance(value, Mapping) or value.get("skipped"):
        return {}
    return dict(value)


def _normal(mirrors) -> list[str]:
    return [mirror_key(m) for m in mirrors or []]


def wanted_list(wanted) -> list[str]:
    """docker_mirror_registry_mirrors as the modules see it: a string (-e key=value) is split on commas, as
    Ansible's own list arguments are."""
    if isinstance(wanted, str):
        return [part.strip() for part in wanted.split(",") if part.strip()]
    return [str(item) for item in wanted or []]


def _one_line(text) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip()


def _failure(result: dict, default: str) -> str:
    """A failed result's message; when Ansible could not run the module at all ("MODULE FAILURE", "Module result
    deserialization failed"), the first line the host printed, which says why (e.g. "No such container")."""
    msg = result.get("msg") or default
    stderr = next((line for line in str(result.get("module_stderr") or "").splitlines() if line.strip()), "")
    return f"{msg}: {stderr.strip()}" if stderr and stderr.strip() not in msg else msg


def _mirrors_text(mirrors) -> str:
    return ", ".join(mirrors or []) or "no mirror"


def _live_differs(config: dict) -> bool:
    live = config.get("live_mirrors")
    return live is not None and _normal(live) != _normal(config.get("registry_mirrors"))


def needs_apply(config, apply_mode: str = "auto") -> bool:
    """Docker must take daemon.json: the run changed it, or the running daemon's mirrors differ from the file's
    (a host stranded by an earlier run, a manual edit, a lost reload). Never for a stopped Docker."""
    config = _result(config)
    if not config or config.get("failed") or config.get("unreachable") or apply_mode == "none":
        return False
    if config.get("daemon_state", "running") != "running":
        return False
    return bool(config.get("changed")) or _live_differs(config)


def apply_action(config, apply_mode: str = "auto") -> str:
    """reload or restart: what docker_mirror_apply asks for, and for auto what the changed keys need."""
    if apply_mode in ("reload", "restart"):
        return apply_mode
    return "reload" if _result(config).get("reload_sufficient", True) else "restart"


# --- one host's verdict ------------------------------------------------------------------------------------

def _verdict(verdict: str, stage: str, reason: str, **facts) -> dict:
    reason = _one_line(reason)
    if reason.startswith("Task failed: "):  # Ansible's prefix on an unreachable host's message
        reason = reason[len("Task failed: "):]
    return {"verdict": verdict, "stage": stage, "reason": reason, **facts}


def _from_probe(probe: dict) -> tuple[dict | None, list | None]:
    """The verify entry point's docker info (see tasks/probe.yml): a verdict, or the live mirrors."""
    if probe.get("unreachable"):
        return _verdict(UNREACHABLE, "connect", probe.get("msg", "unreachable")), None
    if probe.get("rc") == 3 and (probe.get("stdout") or "").strip() == "stopped":
        return _verdict(STOPPED, "verify", "Docker is stopped (left as it is): nothing to verify"), None
    if probe.get("rc") != 0:
        cause = (probe.get("stderr") or probe.get("msg") or "").strip() or "no output"
        if any(sign in cause for sign in NEEDS_ROOT_SIGNS):
            return _verdict(FAILED, "verify", "needs root on this host: run with become: true (or -b)"), None
        if probe.get("rc") == TIMEOUT_RC:
            cause = f"docker info did not answer within {PROBE_TIMEOUT} s (is dockerd hung?)"
        return _verdict(FAILED, "verify", f"dockerd is not answering: {cause}"), None
    try:
        return None, json.loads(probe.get("stdout") or "null") or []
    except ValueError:
        return _verdict(FAILED, "verify", f"docker info said: {probe.get('stdout')}"), None


def _from_config(config: dict, applied: dict, check_mode: bool, apply_mode: str, facts: dict):
    """configure + apply: a verdict when they settle it, else None (then the live mirrors are compared)."""
    if config.get("unreachable"):
        return _verdict(UNREACHABLE, "connect", config.get("msg", "unreachable"), **facts)
    if config.get("failed"):
        return _verdict(FAILED, config.get("stage", "configure"), _failure(config, "daemon_json failed"), **facts)
    state = config.get("daemon_state", "running")
    written = "would be written" if check_mode else "written"
    file_note = f"daemon.json {written}" if config.get("changed") else "daemon.json already right"
    if state == "stopped":
        return _verdict(STOPPED, "apply", f"Docker is stopped (left stopped): {file_note}, nothing applied; "
                        "it takes effect when Docker starts", **facts)
    if state in DAEMON_PROBLEMS:
        return _verdict(FAILED, "configure", f"{DAEMON_PROBLEMS[state]}: {file_note}, nothing applied", **facts)
    if applied.get("unreachable"):
        return _verdict(UNREACHABLE, "apply", applied.get("msg", "unreachable"), **facts)
    if applied.get("failed"):
        return _verdict(FAILED, applied.get("stage", "apply"), _failure(applied, "daemon_apply failed"), **facts)
    if check_mode and needs_apply(config):
        return _verdict(WOULD_CHANGE, "configure", _would_change(config, apply_mode), **facts)
    if apply_mode == "none" and (config.get("changed") or _live_differs(config)):
        return _verdict(PENDING, "apply", f"daemon.json {written}, not applied (docker_mirror_apply: none); "
                        f"live mirrors {_mirrors_text(config.get('live_mirrors'))}", **facts)
    return None


def _would_change(config: dict, apply_mode: str) -> str:
    action = "nothing applied (docker_mirror_apply: none)" if apply_mode == "none" else \
        f"then a {apply_action(config, apply_mode)}"
    if config.get("changed"):
        keys = ", ".join(config.get("changed_keys") or []) or "its text"
        return f"daemon.json would change ({keys}), {action}"
    return (f"the live daemon reports {_mirrors_text(config.get('live_mirrors'))}, daemon.json "
            f"{_mirrors_text(config.get('registry_mirrors'))}: {action}")


def _compare(live: list, wanted: list, state: str, exclusive: bool) -> str:
    """'' when the live mirrors are what was asked for, else what differs."""
    live, wanted = _normal(live), _normal(wanted)
    if state == "present":
        missing = [m for m in wanted if m not in live]
        if missing:
            return "missing " + ", ".join(missing)
        if exclusive and live != wanted:
            return "order differs: " + ", ".join(live)
        return ""
    unwanted = live if exclusive else [m for m in wanted if m in live]
    return "still live: " + ", ".join(unwanted) if unwanted else ""


def verdict(config, applied=None, wanted=None, state: str = "present", exclusive: bool = False,
            check_mode: bool = False, apply_mode: str = "auto", verify: bool = True, probe=None, run=None) -> dict:
    """One host's verdict from what the role registered: daemon_json (config), daemon_apply (applied) and, in
    the verify entry point, docker info (probe). Keys: verdict, stage, reason, live_mirrors, file_changed,
    applied (reload/restart/''), rolled_back, daemon_state, run."""
    config, applied, probe = _result(config), _result(applied), _result(probe)
    facts = {"live_mirrors": None, "file_changed": bool(config.get("changed")) and not check_mode,
             "applied": applied.get("action", "") if applied and not applied.get("failed") else "",
             "rolled_back": bool(applied.get("rolled_back", False)),
             "daemon_state": config.get("daemon_state"), "run": run}
    if config:
        live = applied.get("live_mirrors") if applied.get("live_mirrors") is not None else config.get("live_mirrors")
        facts["live_mirrors"] = _normal(live) if live is not None else None
        settled = _from_config(config, applied, check_mode, apply_mode, facts)
        if settled:
            return settled
    elif probe:
        settled, live = _from_probe(probe)
        if settled:
            return {**facts, **settled, "daemon_state": "stopped" if settled["verdict"] == STOPPED else None}
        facts["live_mirrors"] = _normal(live)
        facts["daemon_state"] = "running"
    else:
        return _verdict(FAILED, "role", "no result: the role stopped before this host was configured", **facts)
    if not verify:
        return _verdict(OK, "apply", "not verified (docker_mirror_verify: false)", **facts)
    if facts["live_mirrors"] is None:
        return _verdict(FAILED, "verify", "dockerd did not report its mirrors", **facts)
    mismatch = _compare(facts["live_mirrors"], wanted_list(wanted), state, exclusive)
    if mismatch:
        return _verdict(FAILED, "verify", f"the running dockerd does not use the wanted mirrors ({mismatch})",
                        **facts)
    live_text = f"live mirrors {', '.join(facts['live_mirrors'])}" if facts["live_mirrors"] else "no mirror live"
    return _verdict(OK, "verify", live_text, **facts)


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
        entry = _verdict(FAILED, "role", "stopped before its verdict (see the error above)")
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
    counts = {v: n for v in ORDER if (n := sum(e["verdict"] == v for e in entries))}
    return {"total": len(entries), "verified": sum(e["verdict"] == OK for e in entries), "counts": counts,
            "batch": current["batch"], "last_batch": last, "rollout_stopped": stops and not last,
            "final": last or stops, "check_mode": bool(check_mode), "hosts": entries}


def docker_mirror_report(hostvars, play_hosts, run, max_fail_percentage=None, check_mode=False,
                         active=None) -> dict:
    """Filter: the fleet report for the hosts of the play (ansible_play_hosts_all; active: ansible_play_hosts)."""
    records = {h: tuple(_facts(hostvars, h, BATCH_FACT, VERDICT_FACT)) for h in play_hosts}
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


def summary(report: Mapping) -> list[str]:
    """Filter: the fleet summary as lines: 'docker_mirror: V/N hosts verified (…)', then one line per host."""
    counts = report.get("counts", {})
    details = ", ".join(f"{n} {v}" for v, n in counts.items())
    lines = [f"docker_mirror: {report['verified']}/{report['total']} hosts verified"
             + (f" ({details})" if details else "")]
    if report.get("check_mode"):
        lines[0] += " — check mode: nothing was written or applied"
    width = max(len(label) for label in LABELS.values()) + 1
    for name, line in _lines(report):
        stage = f" ({line['stage']})" if line["verdict"] == FAILED and line.get("stage") else ""
        lines.append(f"{LABELS[line['verdict']]:<{width}}{name}{stage}: {line['reason']}")
    if report.get("rollout_stopped"):
        lines.append(f"rollout stopped after batch {report['batch']}: "
                     f"{counts.get(NOT_ATTEMPTED, 0)} host(s) not attempted")
    return lines


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
        message = f"{entry['verdict']}{stage}: {entry['reason']}"
        tag = JUNIT_TAGS.get(entry["verdict"])
        if tag:
            ET.SubElement(case, tag, {"type": entry["verdict"], "message": message})
        else:
            ET.SubElement(case, "system-out").text = message
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


class FilterModule:
    def filters(self):
        return {
            "docker_mirror_needs_apply": needs_apply,
            "docker_mirror_apply_action": apply_action,
            "docker_mirror_verdict": verdict,
            "docker_mirror_batch": docker_mirror_batch,
            "docker_mirror_report": docker_mirror_report,
            "docker_mirror_summary": summary,
            "docker_mirror_junit": junit,
        }
