# Copyright: fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker_mirror role's judgements for every runtime a host pulls with: Docker (daemon.json), containerd
(hosts.toml) and Podman / Buildah / Skopeo / CRI-O (a registries.conf drop-in).

Docker's verdict comes from docker_mirror_verdict (rollout.py); this file decides which runtimes a host has,
judges containerd and Podman from their module results and mirrors_info's live view, and folds every runtime's
verdict into the host's (the worst one), keeping each runtime's own line for the summary and the reports.
Plain functions of registered results, tested as tables (tests/unit/plugins/filter/test_runtimes.py).
"""

from __future__ import annotations

from ansible_collections.fleetops.docker_mirror.plugins.filter.rollout import (
    FAILED, OK, ORDER, PENDING, STOPPED, UNREACHABLE, WOULD_CHANGE, _compare, _failure, _normal,
    _result, _verdict, wanted_list)

RUNTIMES = ("docker", "containerd", "podman")
AUTO = "auto"
# What each runtime's mirrors live in, for the reasons.
FILES = {"docker": "daemon.json", "containerd": "hosts.toml", "podman": "registries.conf drop-in"}
MODULES = {"containerd": "containerd_hosts", "podman": "registries_conf"}
# How each runtime took the change, when it had to: containerd_apply, CRI-O's reload.
APPLIED = {"containerd": ("restart", "containerd_apply failed"), "podman": ("reload (crio)", "reloading crio failed")}


def _listed(runtimes) -> list[str]:
    """docker_mirror_runtimes as a list (a -e key=value gives a string, possibly comma separated)."""
    if isinstance(runtimes, str):
        runtimes = [part.strip() for part in runtimes.split(",")]
    return [str(name) for name in runtimes or [] if str(name)]


def selected(runtimes, detect=None, live=None) -> list[str]:
    """Filter: the runtimes to configure or verify on this host, in the order docker, containerd, podman: the
    ones named and, with 'auto', the ones mirrors_info found installed (detect: its result before configuring;
    live: its result in the verify entry point). None when detection failed (the host's verdict says why)."""
    names = _listed(runtimes)
    unknown = [name for name in names if name not in RUNTIMES + (AUTO,)]
    if unknown:
        raise ValueError("docker_mirror_runtimes: unknown runtime %s (choose from %s)"
                         % (", ".join(unknown), ", ".join(RUNTIMES + (AUTO,))))
    chosen = set(names)
    if AUTO in chosen:
        info = _result(detect) or _result(live)
        if info.get("failed") or info.get("unreachable"):
            return []
        chosen |= set(info.get("detected") or [])
    return [name for name in RUNTIMES if name in chosen]


def docker_only(runtimes) -> bool:
    """Filter: docker_mirror_runtimes is Docker alone (the role of 1.0: docker info, no mirrors_info)."""
    return set(_listed(runtimes)) == {"docker"}


# --- containerd and Podman ---------------------------------------------------------------------------------

def _stopped(runtime: str, config: dict, check_mode: bool) -> dict:
    """A stopped runtime is left stopped (as Docker is): its file is used when it starts."""
    file = FILES[runtime]
    written = "" if not config else f": {file} {'would be ' if check_mode else ''}written" if config.get(
        "changed") else f": {file} already right"
    return _verdict(STOPPED, "verify", f"{runtime} is stopped (left as it is){written}; it is used when "
                    f"{runtime} starts")


def _from_result(runtime: str, config: dict, applied: dict, live: dict, check_mode: bool, apply_mode: str,
                 state: str):
    """What the module, containerd's restart and the runtime's state settle on their own, else None."""
    file = FILES[runtime]
    if config.get("unreachable"):
        return _verdict(UNREACHABLE, "connect", config.get("msg", "unreachable"))
    if config.get("failed"):
        return _verdict(FAILED, config.get("stage", "configure"), _failure(config, MODULES[runtime] + " failed"))
    if live.get("state") == "stopped" or applied.get("skipped_reason"):
        return _stopped(runtime, config, check_mode)
    if applied.get("unreachable"):
        return _verdict(UNREACHABLE, "apply", applied.get("msg", "unreachable"))
    if applied.get("failed"):
        return _verdict(FAILED, "apply", _failure(applied, APPLIED[runtime][1]))
    restart = bool(config.get("restart_needed")
                   or (live.get("restart_pending") and live.get("cri_enabled") is not False))
    if check_mode and (config.get("changed") or restart):
        both = f"{file} and config.toml" if config.get("restart_needed") else file
        change = (f"{file} would be removed" if state == "absent" else f"{both} would change") \
            if config.get("changed") else f"{file} already right"
        then = ", then a containerd restart" if restart and apply_mode != "none" else ""
        return _verdict(WOULD_CHANGE, "configure", change + then)
    if restart and apply_mode == "none":
        return _verdict(PENDING, "apply", "config.toml sets config_path, containerd not restarted "
                        "(docker_mirror_apply: none)")
    if runtime == "podman" and config.get("changed") and apply_mode == "none" and live.get("crio") == "running":
        return _verdict(PENDING, "apply", "drop-in written, CRI-O not reloaded (docker_mirror_apply: none): "
                        "systemctl reload crio")
    return None


def _containerd_problem(live: dict, manage_config_path: bool) -> str:
    """Why the running containerd's CRI plugin would not use the hosts directory, or ''."""
    config = live.get("config_file") or "config.toml"
    if live.get("cri_enabled") is False:  # ctr --hosts-dir and nerdctl read hosts.toml at each pull
        return ""
    if live.get("restart_pending"):
        return (f"{config} changed after containerd started, and containerd was not restarted since: its CRI "
                "plugin reads the hosts directory only once restarted (systemctl restart containerd)")
    if live.get("cri_reads_hosts_dir") is False and live.get("cri_enabled") is not False and manage_config_path:
        return (f"the running containerd's CRI plugin does not read {live.get('hosts_dir') or 'the hosts directory'}"
                f": its registry config_path in {config} does not list it")
    return ""


def _note(runtime: str, live: dict, state: str) -> str:
    if runtime != "containerd" or state == "absent":
        return ""
    if live.get("cri_enabled") is False:
        return " (ctr --hosts-dir and nerdctl; the CRI plugin is disabled)"
    if live.get("cri_reads_hosts_dir") is False:
        return " (ctr --hosts-dir and nerdctl; the CRI plugin does not read this directory)"
    return ""


def _from_live(runtime: str, live: dict, wanted: list, state: str, exclusive: bool, manage_config_path: bool):
    """The live view (mirrors_info's entry for the runtime) against the wanted mirrors."""
    if not live:
        return _verdict(FAILED, "verify", f"no live view of {runtime} (mirrors_info did not run)")
    if live.get("state") == "not-installed" or live.get("installed") is False:
        return _verdict(FAILED, "detect", live.get("error") or f"{runtime} is not installed")
    if live.get("state") == "stopped":
        return _stopped(runtime, {}, False)
    if live.get("mirrors") is None:
        return _verdict(FAILED, "verify", live.get("error") or f"{runtime} did not report its mirrors")
    problem = live.get("problem") or (_containerd_problem(live, manage_config_path)
                                      if runtime == "containerd" and state == "present" else "")
    if problem and state == "present":
        return _verdict(FAILED, "verify", problem)
    mismatch = _compare(live["mirrors"], wanted, state, exclusive)
    if mismatch:
        return _verdict(FAILED, "verify", f"{runtime} does not use the wanted mirrors ({mismatch})")
    mirrors = _normal(live["mirrors"])
    return _verdict(OK, "verify", (f"live mirrors {', '.join(mirrors)}" if mirrors else "no mirror live")
                    + _note(runtime, live, state))


def runtime_verdict(runtime: str, config=None, applied=None, live=None, wanted=None, state: str = "present",
                    exclusive: bool = False, check_mode: bool = False, apply_mode: str = "auto",
                    verify: bool = True, manage_config_path: bool = True) -> dict:
    """One runtime's verdict (containerd or podman; docker too in the verify entry point, from mirrors_info
    alone). config: containerd_hosts / registries_conf result ({} in the verify entry point); applied:
    containerd_apply's; live: mirrors_info's entry for this runtime. The files we write hold exactly the wanted
    mirrors, in order, so their live list must be exactly them (state absent: none of them); Docker's follows
    docker_mirror_exclusive."""
    config, applied, live = _result(config), _result(applied), _result(live)
    wanted = wanted_list(wanted)
    settled = _from_result(runtime, config, applied, live, check_mode, apply_mode, state) if config else None
    if settled is None and config and not verify:
        settled = _verdict(OK, "configure", f"not verified (docker_mirror_verify: false): {FILES[runtime]} "
                           + ("written" if config.get("changed") else "already right"))
    if settled is None:
        exact = exclusive if runtime == "docker" else state == "present"
        settled = _from_live(runtime, live, wanted, state, exact, manage_config_path)
    live_mirrors = live.get("mirrors")
    return {"runtime": runtime, **settled,
            "live_mirrors": _normal(live_mirrors) if live_mirrors is not None else None,
            "file_changed": bool(config.get("changed")) and not check_mode,
            "applied": APPLIED.get(runtime, ("",))[0] if applied.get("changed") and not applied.get("failed")
            else ""}


# --- the host ----------------------------------------------------------------------------------------------

def _worst(verdicts: list[dict]) -> dict:
    rank = {verdict: index for index, verdict in enumerate(ORDER)}
    return min(verdicts, key=lambda v: rank.get(v["verdict"], len(ORDER)))


def host_verdict(docker, runtimes=None, detect=None, live=None, containerd=None, containerd_applied=None,
                 podman=None, podman_applied=None, wanted=None, asked=None, live_again=None,
                 state: str = "present", exclusive: bool = False, check_mode: bool = False,
                 apply_mode: str = "auto", verify: bool = True, manage_config_path: bool = True,
                 run=None) -> dict:
    """Filter: the host's verdict from Docker's (docker_mirror_verdict's result, piped in) and the other
    runtimes'. runtimes: the selected runtimes (None: Docker only, today's role); detect: mirrors_info's result
    before configuring; live: mirrors_info's result after applying (live_again: read again after a second
    restart of containerd, when it ran); containerd, podman: the containerd_hosts and registries_conf results;
    containerd_applied: containerd_apply's; podman_applied: CRI-O's reload; asked: docker_mirror_runtimes as
    given. The host's verdict, stage and reason are its worst runtime's; each
    runtime keeps its own in 'runtimes'."""
    docker = dict(docker or {})
    detect, live = _result(detect), _result(live)
    again = (_result(live_again).get("runtimes") or {})
    if again:  # containerd read again after a restart of the live step: its entry replaces the first one
        live = {**live, "runtimes": {**(live.get("runtimes") or {}), **again}}
    results = {"containerd": containerd, "containerd_applied": containerd_applied, "podman": podman,
               "podman_applied": podman_applied}
    facts = {k: v for k, v in docker.items() if k not in ("verdict", "stage", "reason")}
    facts["run"] = run
    if detect.get("unreachable") or detect.get("failed"):
        bad = UNREACHABLE if detect.get("unreachable") else FAILED
        return {**facts, **_verdict(bad, "detect", _failure(detect, "mirrors_info failed")), "runtimes": []}
    if runtimes is not None and not runtimes:
        reason = ("no container runtime found (docker, containerd, podman, buildah, skopeo or crio) for "
                  "docker_mirror_runtimes: auto") if AUTO in _listed(asked) else \
            "docker_mirror_runtimes is empty: name docker, containerd, podman or auto"
        return {**facts, **_verdict(FAILED, "detect", reason), "runtimes": []}
    if runtimes is None or (list(runtimes) == ["docker"] and not _from_verify_only(docker, live)):
        return {**docker, "runtimes": [{"runtime": "docker", **_core(docker)}]}
    lines = []
    for runtime in runtimes:
        if runtime == "docker" and docker and not _from_verify_only(docker, live):
            lines.append({"runtime": "docker", **_core(docker)})
            continue
        lines.append(runtime_verdict(
            runtime, results.get(runtime), results.get(runtime + "_applied"),
            (live.get("runtimes") or {}).get(runtime), wanted, state, exclusive, check_mode, apply_mode, verify,
            manage_config_path))
    worst = _worst(lines)
    reason = worst["reason"] if len(lines) == 1 else f"{worst['runtime']}: {worst['reason']}"
    # The host's file_changed says whether any runtime's file changed; live_mirrors, applied, rolled_back and
    # daemon_state stay Docker's (each runtime's own are in runtimes).
    facts["file_changed"] = any(line.get("file_changed") for line in lines)
    return {**facts, "verdict": worst["verdict"], "stage": worst["stage"], "reason": reason, "runtimes": lines}


def _from_verify_only(docker: dict, live: dict) -> bool:
    """Docker's verdict has no source (the verify entry point read mirrors_info instead of docker info)."""
    return docker.get("stage") == "role" and bool((live.get("runtimes") or {}).get("docker"))


def _core(verdict: dict) -> dict:
    keys = ("verdict", "stage", "reason", "live_mirrors", "file_changed", "applied", "rolled_back")
    return {k: verdict[k] for k in keys if k in verdict}


class FilterModule:
    def filters(self):
        return {
            "docker_mirror_runtimes_selected": selected,
            "docker_mirror_docker_only": docker_only,
            "docker_mirror_host_verdict": host_verdict,
        }
