# Copyright: fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker_mirror role's judgement of one host: one line per runtime, the host's verdict the worst of them.

Every runtime is judged the same way from what its modules returned (each module decides; see
module_utils/_outcome.py): the plan (mirrors_info with ``mirrors``), the file its module wrote, the handler that
applied it, and the live view (mirrors_info) after the handlers. Docker's live mirrors come from daemon_json and
daemon_apply when it was configured. Plain functions of registered results, tested as tables
(tests/unit/plugins/plugin_utils/test_judge.py). Controller code only: imported by the filters, imports none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._registry import mirror_key

# Verdicts. Only "ok" counts as verified; "would change" (check mode), "pending" (docker_mirror_apply=none) and
# "not verified" (docker_mirror_verify=false) are not failures either. Every other verdict fails its host at the
# end of the role.
OK = "ok"
WOULD_CHANGE = "would change"
PENDING = "pending"
NOT_VERIFIED = "not verified"
FAILED = "failed"
UNREACHABLE = "unreachable"
STOPPED = "stopped"
NOT_ATTEMPTED = "not attempted"
NOT_A_FAILURE = frozenset((OK, WOULD_CHANGE, PENDING, NOT_VERIFIED))
ORDER = (FAILED, UNREACHABLE, STOPPED, NOT_ATTEMPTED, WOULD_CHANGE, PENDING, NOT_VERIFIED)

RUNTIMES = ("docker", "containerd", "podman")
AUTO = "auto"
# What each runtime's mirrors live in, the module that writes it, and how it takes a change.
FILES = {"docker": "daemon.json", "containerd": "hosts.toml", "podman": "registries.conf drop-in"}
MODULES = {"docker": "daemon_json", "containerd": "containerd_hosts", "podman": "registries_conf"}
APPLIED = {"docker": "daemon_apply failed", "containerd": "containerd_apply failed", "podman": "reloading crio failed"}
HOW = {"containerd": "restart", "podman": "reload (crio)"}
DAEMON_PROBLEMS = {"not-installed": "Docker is not installed (no docker command)",
                   "not-answering": "dockerd is not answering (docker info failed)"}
# The keys of every runtime's line in the verdict and the report (Docker alone: the host's keys of 1.x).
LINE_KEYS = ("verdict", "stage", "reason", "live_mirrors", "file_changed", "applied", "rolled_back")


# --- registered results ------------------------------------------------------------------------------------

def result(value) -> dict:
    """A registered result as a dict; {} for one that was reset, skipped or never registered."""
    if not isinstance(value, Mapping) or value.get("skipped"):
        return {}
    return dict(value)


def normal(mirrors) -> list[str]:
    return [mirror_key(m) for m in mirrors or []]


def wanted_list(wanted) -> list[str]:
    """docker_mirror_registry_mirrors as the modules see it: a string (-e key=value) is split on commas, as
    Ansible's own list arguments are."""
    if isinstance(wanted, str):
        return [part.strip() for part in wanted.split(",") if part.strip()]
    return [str(item) for item in wanted or []]


def listed(runtimes) -> list[str]:
    """docker_mirror_runtimes as a list (a -e key=value gives a string, possibly comma separated)."""
    if isinstance(runtimes, str):
        runtimes = [part.strip() for part in runtimes.split(",")]
    return [str(name) for name in runtimes or [] if str(name)]


def one_line(text) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip()


def failure(res: dict, default: str) -> str:
    """A failed result's message; when Ansible could not run the module at all ("MODULE FAILURE", "Module result
    deserialization failed"), the first line the host printed, which says why (e.g. "No such container")."""
    msg = res.get("msg") or default
    stderr = next((line for line in str(res.get("module_stderr") or "").splitlines() if line.strip()), "")
    return f"{msg}: {stderr.strip()}" if stderr and stderr.strip() not in msg else msg


# What a shell says when the play becomes root through a sudo the host does not have (sh: "sudo: not found";
# bash: "sudo: command not found").
_NO_SUDO = re.compile(r"(?:^|[\s:])sudo: (?:command )?not found\s*$", re.MULTILINE)
NO_SUDO_ADVICE = ("sudo is not installed on the host, and the play becomes root through it: when Ansible connects as "
                  "root, run with -e docker_mirror_become=false (in your own play: become: false); else connect as "
                  "root (ansible_user: root) or install sudo")


def verdict(name: str, stage: str, reason: str, **facts) -> dict:
    reason = NO_SUDO_ADVICE if _NO_SUDO.search(str(reason or "")) else one_line(reason)
    if reason.startswith("Task failed: "):  # Ansible's prefix on an unreachable host's message
        reason = reason[len("Task failed: "):]
    return {"verdict": name, "stage": stage, "reason": reason, **facts}


def compare(live: list, wanted: list, state: str, exclusive: bool) -> str:
    """'' when the live mirrors are what was asked for, else what differs."""
    live, wanted = normal(live), normal(wanted)
    if state == "present":
        missing = [m for m in wanted if m not in live]
        if missing:
            return "missing " + ", ".join(missing)
        if exclusive and live != wanted:
            return "order differs: " + ", ".join(live)
        return ""
    unwanted = live if exclusive else [m for m in wanted if m in live]
    return "still live: " + ", ".join(unwanted) if unwanted else ""


def _mirrors_text(mirrors) -> str:
    return ", ".join(mirrors or []) or "no mirror"


def _outcome(res: dict) -> dict:
    return dict(res.get("outcome") or {})


def _files_text(config: dict, runtime: str) -> str:
    """The files a module changed, by name ('hosts.toml and config.toml'; a name two files share with its
    directory: 'ghcr.io/hosts.toml and quay.io/hosts.toml'), or the runtime's file."""
    paths = _outcome(config).get("files_changed") or []
    names = [path.rsplit("/", 1)[-1] for path in paths]
    shown = ["/".join(path.rsplit("/", 2)[-2:]) if names.count(name) > 1 else name for path, name in zip(paths, names)]
    return " and ".join(shown) or FILES[runtime]


# --- Docker, configured by daemon_json and applied by daemon_apply -----------------------------------------

def _docker_from_config(config: dict, applied: dict, want: dict, check_mode: bool, facts: dict):
    """configure + apply: a verdict when they settle it, else None (then the live mirrors are compared)."""
    apply_mode = want.get("apply", "auto")
    if config.get("unreachable"):
        return verdict(UNREACHABLE, "connect", config.get("msg", "unreachable"), **facts)
    if config.get("failed"):
        return verdict(FAILED, config.get("stage", "configure"), failure(config, "daemon_json failed"), **facts)
    state = config.get("daemon_state", "running")
    written = "would be written" if check_mode else "written"
    file_note = f"daemon.json {written}" if config.get("changed") else "daemon.json already right"
    if state == "stopped":
        return verdict(STOPPED, "apply", f"Docker is stopped (left stopped): {file_note}, nothing applied; "
                       "it takes effect when Docker starts", **facts)
    if state in DAEMON_PROBLEMS:
        return verdict(FAILED, "configure", f"{DAEMON_PROBLEMS[state]}: {file_note}, nothing applied", **facts)
    if applied.get("unreachable"):
        return verdict(UNREACHABLE, "apply", applied.get("msg", "unreachable"), **facts)
    if applied.get("failed"):
        return verdict(FAILED, applied.get("stage", "apply"), failure(applied, APPLIED["docker"]), **facts)
    needed = _outcome(config).get("apply_needed", False)
    if check_mode and (needed or config.get("changed")):
        return verdict(WOULD_CHANGE, "configure", _would_change(config, apply_mode), **facts)
    if apply_mode == "none" and needed:
        return verdict(PENDING, "apply", f"daemon.json {written}, not applied (docker_mirror_apply: none); "
                       f"live mirrors {_mirrors_text(config.get('live_mirrors'))}", **facts)
    return None


def _would_change(config: dict, apply_mode: str) -> str:
    if not _outcome(config).get("apply_needed", False):  # certs.d files only: read at each pull
        return f"{_files_text(config, 'docker')} would change (Docker reads it at each pull: nothing to apply)"
    natural = "reload" if config.get("reload_sufficient", True) else "restart"
    action = "nothing applied (docker_mirror_apply: none)" if apply_mode == "none" else \
        f"then a {_outcome(config).get('apply_action') or natural}"
    if config.get("changed"):
        keys = ", ".join(config.get("changed_keys") or []) or "its text"
        return f"daemon.json would change ({keys}), {action}"
    return (f"the live daemon reports {_mirrors_text(config.get('live_mirrors'))}, daemon.json "
            f"{_mirrors_text(config.get('registry_mirrors'))}: {action}")


def unverified_reason(config: dict, runtime: str) -> str:
    """A runtime written but not verified: what was done to its file."""
    return f"docker_mirror_verify: false; {FILES[runtime]} " + ("written" if config.get("changed") else "already right")


def docker_line(config, applied, want: dict, check_mode: bool, view=None) -> dict:
    """Docker's line from daemon_json (config) and daemon_apply (applied): the verdict of 1.x; with mirrors_info's
    view of Docker (view), every other wanted registry and the probes of each mirror too."""
    config, applied, view = result(config), result(applied), result(view)
    facts = {"live_mirrors": None, "file_changed": bool(config.get("changed")) and not check_mode,
             "applied": applied.get("action", "") if applied and not applied.get("failed") else "",
             "rolled_back": bool(applied.get("rolled_back", False)), "daemon_state": config.get("daemon_state")}
    live = applied.get("live_mirrors") if applied.get("live_mirrors") is not None else config.get("live_mirrors")
    facts["live_mirrors"] = normal(live) if live is not None else None
    settled = _docker_from_config(config, applied, want, check_mode, facts)
    if settled:
        return settled
    if not want.get("verify", True):
        return verdict(NOT_VERIFIED, "apply", unverified_reason(config, "docker"), **facts)
    if facts["live_mirrors"] is None:
        return verdict(FAILED, "verify", "dockerd did not report its mirrors", **facts)
    mismatch = compare(facts["live_mirrors"], wanted_list(want.get("mirrors")), want.get("state", "present"),
                       bool(want.get("exclusive")))
    if mismatch:
        return verdict(FAILED, "verify", f"the running dockerd does not use the wanted mirrors ({mismatch})",
                       **facts)
    problem = registry_problem(view, want)
    if problem:
        return verdict(FAILED, "verify", problem, **facts)
    live_text = f"live mirrors {', '.join(facts['live_mirrors'])}" if facts["live_mirrors"] else "no mirror live"
    return verdict(OK, "verify", live_text + _registries_text(view, want), **facts)


# --- every runtime, from its module, its apply and mirrors_info's live view ---------------------------------

def _stopped(runtime: str, config: dict, check_mode: bool) -> dict:
    """A stopped runtime is left stopped: its file is used when it starts (nothing restarts it)."""
    if runtime == "docker" and not config:
        return verdict(STOPPED, "verify", "Docker is stopped (left as it is): nothing to verify")
    written = "" if not config else (
        f": {_files_text(config, runtime)} {'would be ' if check_mode else ''}written" if config.get("changed")
        else f": {FILES[runtime]} already right")
    return verdict(STOPPED, "verify", f"{runtime} is stopped (left as it is){written}; it is used when "
                   f"{runtime} starts")


def _from_result(runtime: str, config: dict, applied: dict, live: dict, want: dict, check_mode: bool):
    """What the module, the runtime's apply and its state settle on their own, else None."""
    if config.get("unreachable"):
        return verdict(UNREACHABLE, "connect", config.get("msg", "unreachable"))
    if config.get("failed"):
        return verdict(FAILED, config.get("stage", "configure"), failure(config, MODULES[runtime] + " failed"))
    if live.get("state") == "stopped" or applied.get("skipped_reason"):
        return _stopped(runtime, config, check_mode)
    if applied.get("unreachable"):
        return verdict(UNREACHABLE, "apply", applied.get("msg", "unreachable"))
    if applied.get("failed"):
        return verdict(FAILED, "apply", failure(applied, APPLIED[runtime]))
    plan = _outcome(config)
    if check_mode and (config.get("changed") or plan.get("apply_needed")):
        change = (f"{FILES[runtime]} would be removed" if want.get("state") == "absent"
                  else f"{_files_text(config, runtime)} would change") if config.get("changed") \
            else f"{FILES[runtime]} already right"
        then = f", then a {runtime} {plan['apply_action']}" if plan.get("apply_action") else ""
        return verdict(WOULD_CHANGE, "configure", change + then)
    if plan.get("apply_needed") and not plan.get("apply_action"):
        if runtime == "containerd":
            return verdict(PENDING, "apply", "config.toml sets config_path, containerd not restarted "
                           "(docker_mirror_apply: none)")
        return verdict(PENDING, "apply", "drop-in written, CRI-O not reloaded (docker_mirror_apply: none): "
                       "systemctl reload crio")
    return None


def _containerd_problem(live: dict, want: dict) -> str:
    """Why the running containerd's CRI plugin would not use the hosts directory, or ''. The advice follows the
    role's own plan: a restart only when config.toml lists the directory (else it would drop the mirror)."""
    config = live.get("config_file") or "config.toml"
    hosts_dir = live.get("hosts_dir") or "the hosts directory"
    if live.get("cri_enabled") is False:  # ctr --hosts-dir and nerdctl read hosts.toml at each pull
        return ""
    if live.get("restart_pending") and live.get("config_lists_hosts_dir") is False:
        return (f"{config} changed after containerd started and no longer lists {hosts_dir}: a restart would drop "
                "the mirror; run the role's configure, which sets config_path and restarts containerd")
    if live.get("restart_pending"):
        return (f"{config} changed after containerd started, and containerd was not restarted since: its CRI "
                "plugin reads the hosts directory only once restarted (the role's configure restarts it)")
    if live.get("cri_reads_hosts_dir") is False and want.get("manage_config_path", True):
        return (f"the running containerd's CRI plugin does not read {hosts_dir}: its registry config_path in "
                f"{config} does not list it")
    return ""


def _note(runtime: str, live: dict, state: str) -> str:
    if runtime != "containerd" or state == "absent":
        return ""
    if live.get("cri_enabled") is False:
        return " (ctr --hosts-dir and nerdctl; the CRI plugin is disabled)"
    if live.get("cri_reads_hosts_dir") is False:
        return " (ctr --hosts-dir and nerdctl; the CRI plugin does not read this directory)"
    return ""


def _dead(view: Mapping) -> list[Mapping]:
    """The probes of a registry's mirrors that got no answer the way the runtime reaches them."""
    return [probe for probe in view.get("probes") or [] if isinstance(probe, Mapping) and not probe.get("ok")]


def _probe_problem(registry: str, view: Mapping) -> str:
    """Why no pull of ``registry`` would go through a mirror: none of them answers the way its runtime reaches it
    (a pull tries them in order, so one answering mirror is enough), or no mirror resolves the probed image; ''
    when a pull would work (or nothing was probed)."""
    probes = [probe for probe in view.get("probes") or [] if isinstance(probe, Mapping)]
    dead = _dead(view)
    if probes and len(dead) == len(probes):
        probe = dead[0]
        more = f" (nor {len(dead) - 1} more)" if len(dead) > 1 else ""
        return f"{registry} mirror {probe.get('mirror')} does not answer{more}: {probe.get('error') or 'no answer'}"
    image = view.get("image")
    if isinstance(image, Mapping) and image and not image.get("ok"):
        return f"{image.get('name')} cannot be resolved through any {registry} mirror"
    return ""


def registry_problem(live: dict, want: dict) -> str:
    """Every wanted registry against what the runtime reads for it now (mirrors_info's 'registries'): the mirrors
    (the one merge semantics), each mirror probed. '' when all is well, or when the view has no registries (not
    read) or the runtime cannot mirror that registry (its module reported it: a note, not a failure)."""
    views = live.get("registries") or {}
    state, exclusive = want.get("state", "present"), bool(want.get("exclusive"))
    for wanted in want.get("registries") or []:
        name = wanted.get("registry")
        view = views.get(name)
        if not isinstance(view, Mapping) or view.get("unsupported"):
            continue
        if view.get("error"):
            return f"{name}: {view['error']}"
        urls = [mirror.get("url") for mirror in wanted.get("mirrors") or []]
        if name != "docker.io" and view.get("mirrors") is not None:
            mismatch = compare(view["mirrors"], urls, state, exclusive)
            if mismatch:
                return f"{name}: not the wanted mirrors ({mismatch})"
        if state == "present":
            problem = _probe_problem(name, view)
            if problem:
                return problem
    return ""


def _registries_text(live: dict, want: dict) -> str:
    """'; registry.k8s.io https://m/' for each wanted registry besides docker.io the runtime mirrors, and each
    mirror that does not answer while another one of its registry does (pulls fall back to the next one)."""
    views = live.get("registries") or {}
    wanted = [item for item in want.get("registries") or [] if isinstance(views.get(item.get("registry")), Mapping)]
    shown = [f"{item['registry']} {', '.join(normal(views[item['registry']].get('mirrors'))) or 'no mirror'}"
             for item in wanted if item.get("registry") != "docker.io"
             and views[item["registry"]].get("mirrors") is not None]
    dead = [f"{probe.get('mirror')} does not answer ({probe.get('error') or 'no answer'}): pulls use the next one"
            for item in wanted for probe in _dead(views[item["registry"]])]
    return "".join(f"; {text}" for text in shown + dead)


def _from_live(runtime: str, live: dict, want: dict) -> dict:
    """The live view (mirrors_info's entry for the runtime) against the wanted mirrors, with one merge semantics
    for every runtime (docker_mirror_exclusive: exactly them, in order; else at least them)."""
    state = want.get("state", "present")
    if not live:
        return verdict(FAILED, "verify", f"no live view of {runtime} (mirrors_info did not run)")
    if live.get("state") == "not-installed" or live.get("installed") is False:
        return verdict(FAILED, "detect", live.get("error") or f"{runtime} is not installed")
    if live.get("state") == "stopped":
        return _stopped(runtime, {}, False)
    if live.get("mirrors") is None:
        return verdict(FAILED, "verify", live.get("error") or f"{runtime} did not report its mirrors")
    problem = live.get("problem") or (_containerd_problem(live, want)
                                      if runtime == "containerd" and state == "present" else "")
    if problem and state == "present":
        return verdict(FAILED, "verify", problem)
    mismatch = compare(live["mirrors"], wanted_list(want.get("mirrors")), state, bool(want.get("exclusive")))
    if mismatch:
        who = "the running dockerd" if runtime == "docker" else runtime
        return verdict(FAILED, "verify", f"{who} does not use the wanted mirrors ({mismatch})")
    problem = registry_problem(live, want)
    if problem:
        return verdict(FAILED, "verify", problem)
    mirrors = normal(live["mirrors"])
    return verdict(OK, "verify", (f"live mirrors {', '.join(mirrors)}" if mirrors else "no mirror live")
                   + _registries_text(live, want) + _note(runtime, live, state))


def runtime_line(runtime: str, config=None, applied=None, live=None, want=None, check_mode: bool = False) -> dict:
    """One runtime's line (containerd, podman; Docker too when it was not configured, as in the verify entry
    point). config: its module's result ({} when it did not run); applied: its handler's; live: mirrors_info's
    entry for it."""
    config, applied, live, want = result(config), result(applied), result(live), dict(want or {})
    settled = _from_result(runtime, config, applied, live, want, check_mode) if config else None
    if settled is None and config and not want.get("verify", True):
        settled = verdict(NOT_VERIFIED, "configure", unverified_reason(config, runtime))
    if settled is None:
        settled = _from_live(runtime, live, want)
    live_mirrors = live.get("mirrors")
    line = {**settled, "live_mirrors": normal(live_mirrors) if live_mirrors is not None else None,
            "file_changed": bool(config.get("changed")) and not check_mode,
            "applied": HOW.get(runtime, "") if applied.get("changed") and not applied.get("failed") else "",
            "rolled_back": bool(applied.get("rolled_back", False))}
    if runtime == "docker":
        line["daemon_state"] = live.get("state")
    return line


# --- the host ----------------------------------------------------------------------------------------------

def unsupported(config) -> list[str]:
    """What the runtime's module could not write, one line each ('ghcr.io http://m:5000: headers (why)'): the
    runtime cannot do it, which is reported, never a failure."""
    gaps = result(config).get("unsupported") or []
    return [one_line(f"{gap.get('registry', '')} {gap.get('mirror', '')}: {gap.get('what', '')} ({gap.get('why', '')})")
            for gap in gaps if isinstance(gap, Mapping)]


def _worst(lines: list[dict]) -> dict:
    rank = {name: index for index, name in enumerate(ORDER)}
    return min(lines, key=lambda line: rank.get(line["verdict"], len(ORDER)))


def _no_runtime(plan: dict, want: dict):
    """The host's verdict when the plan settles it (not reached, nothing to configure), else None."""
    if plan.get("unreachable"):
        return verdict(UNREACHABLE, "connect", plan.get("msg", "unreachable"))
    if plan.get("failed"):
        return verdict(FAILED, "detect", failure(plan, "mirrors_info failed"))
    if plan.get("runtimes"):
        return None
    if AUTO in listed(want.get("runtimes")):
        return verdict(FAILED, "detect", "no container runtime found (docker, containerd, podman, buildah, skopeo "
                       "or crio) for docker_mirror_runtimes: auto")
    return verdict(FAILED, "detect", "docker_mirror_runtimes is empty: name docker, containerd, podman or auto")


def _refused(entry: dict, refusing: str) -> dict:
    """A runtime on a host the plan stopped: the one that refuses the mirrors fails, the others were left as
    they are (nothing was written on the host)."""
    if entry.get("problem"):
        return verdict(FAILED, "plan", entry["problem"] + " — nothing was written on this host")
    return verdict(NOT_ATTEMPTED, "plan", f"left as it is: {refusing} refuses the mirrors")


def lines_of(results, applied, plan: dict, live: dict, want: dict, check_mode: bool) -> list[dict]:
    """One line per selected runtime, in the order docker, containerd, podman."""
    configured = dict(zip(RUNTIMES, [result(r) for r in results or []]))
    apply = dict(zip(RUNTIMES, [result(r) for r in applied or []]))
    views = result(live).get("runtimes") or {}
    entries = plan.get("runtimes") or {}
    refusing = next((name for name, entry in entries.items() if entry.get("problem")), "")
    lines = []
    for runtime in (name for name in RUNTIMES if name in entries):
        if refusing:
            line = {**_refused(entries[runtime], refusing), "live_mirrors": None, "file_changed": False,
                    "applied": "", "rolled_back": False}
        elif runtime == "docker" and configured.get("docker"):
            line = docker_line(configured["docker"], apply.get("docker"), want, check_mode, views.get("docker"))
        else:
            line = runtime_line(runtime, configured.get(runtime), apply.get(runtime), views.get(runtime), want,
                                check_mode)
        gaps = unsupported(configured.get(runtime))
        lines.append({"runtime": runtime, **line, **({"unsupported": gaps} if gaps else {})})
    return lines


def _host_facts(run) -> dict:
    return {"live_mirrors": None, "file_changed": False, "applied": "", "rolled_back": False,
            "daemon_state": None, "run": run}


def host_verdict(results, applied=None, plan=None, live=None, want=None, check_mode: bool = False,
                 run=None) -> dict:
    """The host's verdict: its worst runtime's verdict, stage and reason (named by the runtime when it has
    several), each runtime's own line in 'runtimes'. The host's live_mirrors, applied, rolled_back and
    daemon_state are Docker's (as in 1.x); file_changed counts every runtime."""
    plan, want = result(plan), dict(want or {})
    facts = _host_facts(run)
    settled = _no_runtime(plan, want)
    if settled:
        return {**facts, **settled, "runtimes": []}
    lines = lines_of(results, applied, plan, live, want, check_mode)
    docker = next((line for line in lines if line["runtime"] == "docker"), {})
    facts.update({key: docker[key] for key in ("live_mirrors", "applied", "rolled_back", "daemon_state")
                  if key in docker})
    facts["file_changed"] = any(line["file_changed"] for line in lines)
    gaps = [f"{line['runtime']}: {gap}" for line in lines for gap in line.get("unsupported", [])]
    if gaps:  # only then: a host with none has the keys of 1.x
        facts["unsupported"] = gaps
    worst = _worst(lines)
    reason = worst["reason"] if len(lines) == 1 else f"{worst['runtime']}: {worst['reason']}"
    shown = [{"runtime": line["runtime"], **{key: line[key] for key in LINE_KEYS + ("unsupported",) if key in line}}
             for line in lines]
    return {**facts, "verdict": worst["verdict"], "stage": worst["stage"], "reason": reason, "runtimes": shown}


def run_verdict(run_result, applied=None, live=None, check_mode: bool = False, run=None) -> dict:
    """The host's verdict from what the role registered: the mirrors action's result (run_result: 'want', 'plan'
    with each runtime's view before writing in 'live', and 'configured', one module result per runtime written),
    the handlers' results (applied: docker, containerd, podman) and mirrors_info's result after the handlers
    (live; {} when they did not run: then the plan's views are what each runtime uses now)."""
    res = result(run_result)
    if res.get("failed") and "plan" not in res:  # its arguments were refused before anything ran
        return {**_host_facts(run), **verdict(FAILED, "configure", failure(res, "mirrors failed")), "runtimes": []}
    plan = result(res.get("plan")) or res  # unreachable: the task's own result
    configured = res.get("configured") or {}
    after = result(live)
    views = after.get("runtimes") if after.get("runtimes") is not None else dict(plan.get("live") or {})
    docker = result(configured.get("docker"))
    if after.get("runtimes") is None and docker.get("live_registries") is not None:
        # daemon_json probed the mirrors it gives Docker, in this run: fresher than the plan's reading
        views["docker"] = dict(views.get("docker") or {}, registries=docker["live_registries"])
    return host_verdict([configured.get(name) for name in RUNTIMES], applied, plan, {"runtimes": views},
                        res.get("want") or {}, check_mode, run)
