# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every runtime a host pulls with, as tables: which runtimes, each one's verdict, the host's, the summary."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._outcome import outcome
from ansible_collections.fleetops.docker_mirror.plugins.plugin_utils import _judge as judge
from ansible_collections.fleetops.docker_mirror.plugins.plugin_utils._judge import host_verdict, runtime_line
from ansible_collections.fleetops.docker_mirror.plugins.plugin_utils._report import build_report, junit, summary

M = "http://127.0.0.1:5000"
G = "https://mirror.gcr.io"
HOSTS = "/etc/containerd/certs.d/docker.io/hosts.toml"
CONFIG = "/etc/containerd/config.toml"
DROPIN = "/etc/containers/registries.conf.d/50-fleetops-docker-mirror.conf"
FILE = {"containerd": HOSTS, "podman": DROPIN}


def live(**runtimes) -> dict:
    """A mirrors_info result with the given runtimes' entries."""
    return {"changed": False, "detected": list(runtimes), "runtimes": runtimes}


def plan(*names, detected=None, problem=None) -> dict:
    """The preflight's mirrors_info result: these runtimes selected and installed (problem: on the last one)."""
    detected = list(names) if detected is None else detected
    runtimes = {n: {"installed": n in detected, "problem": problem if n == names[-1] else None} for n in names}
    write = [] if problem else [n for n in names if n == "docker" or n in detected]
    return {"changed": False, "detected": detected, "runtimes": runtimes, "write": write}


def ctd(mirrors=(M,), **kw) -> dict:
    """mirrors_info's containerd entry: running, reading the hosts directory, with these mirrors."""
    return {"installed": True, "state": "running", "mirrors": None if mirrors is None else list(mirrors), "error": None,
            "hosts_file": HOSTS, "cri_reads_hosts_dir": True, "restart_pending": False, **kw}


def pod(mirrors=(M,), **kw) -> dict:
    return {"installed": True, "state": "ready", "mirrors": None if mirrors is None else list(mirrors), "error": None,
            **kw}


def wrote(runtime: str, changed: bool = True, config_toml: bool = False, action: str | None = None,
          **kw) -> dict:
    """containerd_hosts' or registries_conf's result: the file changed or not, and the apply it asks for
    (action '' : needed, docker_mirror_apply none)."""
    files = ([FILE[runtime]] if changed else []) + ([CONFIG] if config_toml else [])
    return {"changed": changed or config_toml, **kw, "outcome": outcome(
        runtime, "configure", files_changed=files, apply_needed=action is not None, apply_action=action or "")}


def docker_config(**kw) -> dict:
    """A daemon_json result: by default nothing changed, the daemon runs and reports the file's mirror."""
    action = kw.pop("action", "reload")
    result = {"changed": False, "registry_mirrors": [M], "live_mirrors": [M + "/"], "daemon_state": "running",
              "reload_sufficient": True, "changed_keys": [], **kw}
    needed = result["daemon_state"] == "running" and (result["changed"] or (
        result["live_mirrors"] is not None and result["live_mirrors"] != [m.rstrip("/") + "/" for m in
                                                                          result["registry_mirrors"]]))
    result["outcome"] = outcome("docker", "configure", apply_needed=needed, apply_action=action if needed else "",
                                live_mirrors=result["live_mirrors"])
    return result


DOCKER_APPLIED = {"changed": True, "action": "reload", "live_mirrors": [M + "/"]}


# --- one runtime's line -------------------------------------------------------------------------------------

RUNTIME_LINES = [
    ("containerd", dict(config=wrote("containerd"), live=ctd()), "ok", "verify", f"live mirrors {M}/"),
    ("podman", dict(config=wrote("podman", False), live=pod([M + "/"])), "ok", "verify", f"live mirrors {M}/"),
    ("containerd", dict(config=wrote("containerd"), live=ctd([])), "failed", "verify", f"missing {M}/"),
    # One merge semantics: docker_mirror_exclusive decides for every runtime, as for Docker.
    ("podman", dict(config={}, live=pod([G, M]), wanted=[M, G], exclusive=True), "failed", "verify", "order differs"),
    ("podman", dict(config={}, live=pod([M, G]), exclusive=True), "failed", "verify", "order differs"),
    ("podman", dict(config={}, live=pod([G, M]), wanted=[M, G]), "ok", "verify", "live mirrors"),
    ("containerd", dict(config=wrote("containerd"), live=ctd([G, M])), "ok", "verify", "live mirrors"),
    ("containerd", dict(config=wrote("containerd"), live=ctd([G, M]), exclusive=True), "failed", "verify",
     "order differs"),
    ("containerd", dict(config={"failed": True, "msg": "/etc/containerd/config.toml: cannot parse"}),
     "failed", "configure", "cannot parse"),
    ("podman", dict(config={"unreachable": True, "msg": "Task failed: ssh: connect"}), "unreachable", "connect",
     "ssh: connect"),
    ("containerd", dict(config=wrote("containerd", config_toml=True, action="restart"),
                        applied={"failed": True, "msg": "containerd restarted but interrupted default/app"}),
     "failed", "apply", "interrupted default/app"),
    ("containerd", dict(config=wrote("containerd", config_toml=True, action="restart"), applied={"changed": True},
                        live=ctd()), "ok", "verify", "live mirrors"),
    ("containerd", dict(config=wrote("containerd", config_toml=True, action="restart"), check_mode=True),
     "would change", "configure", "hosts.toml and config.toml would change, then a containerd restart"),
    ("podman", dict(config=wrote("podman", action=""), apply_mode="none", live=pod(crio="running")),
     "pending", "apply", "CRI-O not reloaded (docker_mirror_apply: none)"),
    ("podman", dict(config=wrote("podman"), apply_mode="none", live=pod(crio="stopped")), "ok", "verify",
     "live mirrors"),
    ("podman", dict(config=wrote("podman"), check_mode=True), "would change", "configure",
     "50-fleetops-docker-mirror.conf would change"),
    ("podman", dict(config=wrote("podman", False), check_mode=True, live=pod()), "ok", "verify", "live mirrors"),
    ("containerd", dict(config=wrote("containerd", config_toml=True, action=""), apply_mode="none"),
     "pending", "apply", "docker_mirror_apply: none"),
    # A stopped containerd is stopped, whatever the run did (the same verdict on every run, as for Docker), and
    # the line names every file written (config.toml too), with no word of a restart.
    ("containerd", dict(config=wrote("containerd", config_toml=True, action="restart"),
                        applied={"changed": False, "skipped_reason": "containerd.service is not active"}),
     "stopped", "verify", "containerd is stopped (left as it is): hosts.toml and config.toml written; it is used "
     "when containerd starts"),
    ("containerd", dict(config=wrote("containerd", config_toml=True), live=ctd(state="stopped", mirrors=None)),
     "stopped", "verify", "hosts.toml and config.toml written"),
    ("containerd", dict(config=wrote("containerd", False), live=ctd(state="stopped", mirrors=None)),
     "stopped", "verify", "hosts.toml already right"),
    ("containerd", dict(config=wrote("containerd", config_toml=True, action="restart"), check_mode=True,
                        live=ctd(state="stopped", mirrors=None)),
     "stopped", "verify", "hosts.toml and config.toml would be written"),
    ("containerd", dict(config=wrote("containerd"),
                        live=ctd(restart_pending=True, config_file="/etc/containerd/c.toml")),
     "failed", "verify", "/etc/containerd/c.toml changed after containerd started, and containerd was not "
     "restarted since"),
    # The module found the running containerd has not loaded config.toml: it asks for the restart.
    ("containerd", dict(config=wrote("containerd", False, action="restart"), live=ctd(restart_pending=True),
                        check_mode=True),
     "would change", "configure", "hosts.toml already right, then a containerd restart"),
    ("containerd", dict(config=wrote("containerd", False, action=""), live=ctd(restart_pending=True),
                        apply_mode="none"), "pending", "apply", "docker_mirror_apply: none"),
    ("containerd", dict(config=wrote("containerd"), state="absent", check_mode=True), "would change", "configure",
     "hosts.toml would be removed"),
    ("containerd", dict(config=wrote("containerd"), live=ctd(problem="containerd runs with --config /x.toml, not "
                                                                     "/etc/containerd/config.toml")),
     "failed", "verify", "containerd runs with --config /x.toml"),
    ("podman", dict(config=wrote("podman"), live=pod(problem="images under docker.io/library bypass the mirrors")),
     "failed", "verify", "images under docker.io/library bypass"),
    ("podman", dict(config=wrote("podman"), state="absent", live=pod([], problem="images under x bypass")),
     "ok", "verify", "no mirror live"),                                 # nothing to bypass once removed
    ("containerd", dict(config=wrote("containerd"), live=ctd(cri_enabled=False, cri_reads_hosts_dir=None)),
     "ok", "verify", "(ctr --hosts-dir and nerdctl; the CRI plugin is disabled)"),
    ("containerd", dict(config=wrote("containerd", False),             # no restart matters without CRI
                        live=ctd(cri_enabled=False, cri_reads_hosts_dir=None, restart_pending=True)),
     "ok", "verify", "the CRI plugin is disabled"),
    ("containerd", dict(config={}, live=ctd([M, G]), wanted=f"{M}, {G}"), "ok", "verify",
     f"live mirrors {M}/, {G}/"),                                       # -e a,b: a list, as the modules see it
    ("containerd", dict(config=wrote("containerd"), live=ctd(cri_reads_hosts_dir=False)), "failed", "verify",
     "does not read"),
    ("containerd", dict(config=wrote("containerd"), live=ctd(cri_reads_hosts_dir=False), manage_config_path=False),
     "ok", "verify", "the CRI plugin does not read this directory"),
    ("podman", dict(config={}, live=pod(state="not-installed", installed=False, mirrors=None,
                                        error="Podman is not installed")),
     "failed", "detect", "Podman is not installed"),
    ("podman", dict(config=wrote("podman"), live=pod(mirrors=None, error="podman info: no such file")),
     "failed", "verify", "podman info: no such file"),
    ("podman", dict(config=wrote("podman"), live=None), "failed", "verify", "no live view"),
    ("podman", dict(config=wrote("podman"), verify=False), "not verified", "configure",
     "docker_mirror_verify: false; registries.conf drop-in written"),
    ("containerd", dict(config=wrote("containerd"), state="absent", live=ctd([])), "ok", "verify", "no mirror live"),
    ("containerd", dict(config=wrote("containerd"), state="absent", live=ctd([M])), "failed", "verify",
     f"still live: {M}/"),
    ("containerd", dict(config={}, state="absent", live=ctd([], cri_reads_hosts_dir=False)), "ok", "verify",
     "no mirror live"),
    # Docker in the verify entry point, from mirrors_info: docker_mirror_exclusive applies; 1.x's words.
    ("docker", dict(live=pod([G, M], state="running")), "ok", "verify", "live mirrors"),
    ("docker", dict(live=pod([G, M], state="running"), exclusive=True), "failed", "verify", "order differs"),
    ("docker", dict(live=pod([], state="running")), "failed", "verify",
     f"the running dockerd does not use the wanted mirrors (missing {M}/)"),
    ("docker", dict(live=pod(None, state="stopped")), "stopped", "verify",
     "Docker is stopped (left as it is): nothing to verify"),
    ("docker", dict(live=pod(None, state="not-answering", error="dockerd is not answering: x")), "failed",
     "verify", "dockerd is not answering"),
]


@pytest.mark.parametrize(("runtime", "kw", "verdict", "stage", "reason"), RUNTIME_LINES)
def test_runtime_line(runtime, kw, verdict, stage, reason) -> None:
    want = {"mirrors": kw.pop("wanted", [M]), "state": kw.pop("state", "present"),
            "exclusive": kw.pop("exclusive", False), "apply": kw.pop("apply_mode", "auto"),
            "verify": kw.pop("verify", True), "manage_config_path": kw.pop("manage_config_path", True)}
    result = runtime_line(runtime, want=want, **kw)
    assert (result["verdict"], result["stage"]) == (verdict, stage), result
    assert reason in result["reason"], result
    assert {"verdict", "stage", "reason", "live_mirrors", "file_changed", "applied", "rolled_back"} <= set(result)


def test_advice_never_undoes_the_mirror() -> None:
    """config_path was removed from config.toml while containerd still had it loaded: restarting would drop the
    mirror from the CRI plugin, so the advice is to run configure (which sets config_path, then restarts)."""
    result = runtime_line("containerd", live=ctd(restart_pending=True, cri_reads_hosts_dir=False,
                                                 config_lists_hosts_dir=False), want={"mirrors": [M]})
    assert result["verdict"] == "failed" and "a restart would drop the mirror" in result["reason"], result
    assert "systemctl restart containerd" not in result["reason"]


def test_crio_reload_is_podman_s_apply() -> None:
    want = {"mirrors": [M]}
    reloaded = runtime_line("podman", wrote("podman", action="reload"), {"changed": True}, pod(crio="running"), want)
    assert (reloaded["verdict"], reloaded["applied"]) == ("ok", "reload (crio)")
    failed = runtime_line("podman", wrote("podman", action="reload"),
                          {"failed": True, "msg": "Unable to reload service crio"}, pod(crio="running"), want)
    assert (failed["verdict"], failed["stage"]) == ("failed", "apply") and "reload service crio" in failed["reason"]


def test_runtime_line_records_the_restart_and_the_file() -> None:
    result = runtime_line("containerd", wrote("containerd", config_toml=True, action="restart"), {"changed": True},
                          ctd(), {"mirrors": [M]})
    assert (result["applied"], result["file_changed"], result["live_mirrors"]) == ("restart", True, [M + "/"])
    assert result["rolled_back"] is False
    checked = runtime_line("containerd", wrote("containerd"), None, ctd(), {"mirrors": [M]}, check_mode=True)
    assert checked["file_changed"] is False


# --- Docker, configured: the verdict of 1.x -------------------------------------------------------------------

APPLY_FAILED = {"failed": True, "stage": "apply", "rolled_back": True, "live_mirrors": [],
                "msg": "Docker did not take the new /etc/docker/daemon.json: reload failed;\nprevious restored"}
MS = M + "/"

DOCKER_LINES = [
    ("converged", docker_config(), {}, {}, "ok", "verify", "live mirrors " + MS),
    ("applied", docker_config(changed=True, live_mirrors=[]), DOCKER_APPLIED, {}, "ok", "verify", MS),
    ("healed", docker_config(live_mirrors=[]), DOCKER_APPLIED, {}, "ok", "verify", MS),
    ("unreachable", {"unreachable": True, "msg": "Task failed: ssh: no route", "changed": False}, {}, {},
     "unreachable", "connect", "ssh: no route"),
    ("configure failed", {"failed": True, "msg": "/etc/docker/daemon.json: bad — the file was left unchanged"},
     {}, {}, "failed", "configure", "left unchanged"),
    ("module could not run", {"failed": True, "msg": "Module result deserialization failed: No start of json",
                              "module_stderr": "\nError response from daemon: No such container: c-9\n"},
     {}, {}, "failed", "configure", "No start of json: Error response from daemon: No such container: c-9"),
    ("not installed", docker_config(daemon_state="not-installed", live_mirrors=None), {}, {},
     "failed", "configure", "Docker is not installed"),
    ("not answering, written", docker_config(changed=True, daemon_state="not-answering", live_mirrors=None), {}, {},
     "failed", "configure", "dockerd is not answering (docker info failed): daemon.json written, nothing applied"),
    ("stopped, written", docker_config(changed=True, daemon_state="stopped", live_mirrors=None), {}, {},
     "stopped", "apply", "daemon.json written, nothing applied"),
    ("stopped, file right", docker_config(daemon_state="stopped", live_mirrors=None), {}, {},
     "stopped", "apply", "already right"),
    ("apply failed", docker_config(changed=True, live_mirrors=[]), APPLY_FAILED, {},
     "failed", "apply", "reload failed; previous restored"),
    ("apply unreachable", docker_config(changed=True), {"unreachable": True, "msg": "lost"}, {},
     "unreachable", "apply", "lost"),
    ("check mode, file", docker_config(changed=True, changed_keys=["registry-mirrors"], live_mirrors=[]), {},
     {"check_mode": True}, "would change", "configure", "daemon.json would change (registry-mirrors), then a reload"),
    ("check mode, restart", docker_config(changed=True, changed_keys=["storage-driver"], action="restart",
                                          reload_sufficient=False), {},
     {"check_mode": True}, "would change", "configure", "then a restart"),
    ("check mode, stranded", docker_config(live_mirrors=[]), {}, {"check_mode": True},
     "would change", "configure", "the live daemon reports no mirror"),
    ("check mode, converged", docker_config(), {}, {"check_mode": True}, "ok", "verify", MS),
    ("apply none", docker_config(changed=True, live_mirrors=[], action=""), {}, {"apply": "none"},
     "pending", "apply", "not applied (docker_mirror_apply: none)"),
    ("verify off", docker_config(changed=True, live_mirrors=[]), DOCKER_APPLIED, {"verify": False},
     "not verified", "apply", "docker_mirror_verify: false; daemon.json written"),
    ("missing", docker_config(live_mirrors=["http://other/"], registry_mirrors=["http://other"]), {}, {},
     "failed", "verify", "missing " + MS),
    ("exclusive order", docker_config(live_mirrors=["http://b/", MS], registry_mirrors=["http://b", M]), {},
     {"mirrors": [M, "http://b"], "exclusive": True}, "failed", "verify", "order differs"),
    ("absent ok", docker_config(live_mirrors=[], registry_mirrors=[]), {}, {"state": "absent"},
     "ok", "verify", "no mirror live"),
    ("absent still live", docker_config(), {}, {"state": "absent"}, "failed", "verify", "still live: " + MS),
    ("wanted as a key=value string", docker_config(), {}, {"mirrors": M}, "ok", "verify", MS),
    ("wanted as a comma-separated string (split as the module splits it)",
     docker_config(registry_mirrors=[M, "https://m.example"], live_mirrors=[MS, "https://m.example/"]), {},
     {"mirrors": f"{M},https://m.example"}, "ok", "verify", "https://m.example/"),
    ("comma-separated, one missing", docker_config(), {}, {"mirrors": f"{M}, https://m.example"},
     "failed", "verify", "missing https://m.example/"),
]


@pytest.mark.parametrize(("cfg", "applied", "kwargs", "expected", "stage", "reason"),
                         [v[1:] for v in DOCKER_LINES], ids=[v[0] for v in DOCKER_LINES])
def test_docker_alone(cfg, applied, kwargs, expected, stage, reason) -> None:
    check_mode = kwargs.pop("check_mode", False)
    result = host_verdict([cfg], [applied], plan("docker"), {}, {"mirrors": [M], **kwargs}, check_mode, "r1")
    assert (result["verdict"], result["stage"]) == (expected, stage), result
    assert reason in result["reason"], result
    assert "\n" not in result["reason"] and not result["reason"].startswith("Task failed")
    assert result["run"] == "r1"


def test_docker_alone_has_the_keys_of_1_x() -> None:
    result = host_verdict([docker_config(changed=True, live_mirrors=[])], [DOCKER_APPLIED], plan("docker"), {},
                          {"mirrors": [M]}, False, "r")
    assert set(result) == {"verdict", "stage", "reason", "live_mirrors", "file_changed", "applied", "rolled_back",
                           "daemon_state", "run", "runtimes"}
    assert (result["file_changed"], result["applied"], result["live_mirrors"]) == (True, "reload", [MS])
    assert result["runtimes"] == [{"runtime": "docker", "verdict": "ok", "stage": "verify",
                                   "reason": f"live mirrors {MS}", "live_mirrors": [MS], "file_changed": True,
                                   "applied": "reload", "rolled_back": False}]
    failed = host_verdict([docker_config(changed=True, live_mirrors=[])], [APPLY_FAILED], plan("docker"), {},
                          {"mirrors": [M]})
    assert failed["rolled_back"] is True and failed["applied"] == "" and failed["live_mirrors"] == []
    checked = host_verdict([docker_config(changed=True)], [], plan("docker"), {}, {"mirrors": [M]}, True)
    assert checked["file_changed"] is False  # nothing was written


# --- the host ----------------------------------------------------------------------------------------------

ALL = ("docker", "containerd", "podman")
DOCKER_DONE = docker_config(changed=True, live_mirrors=[])


def test_every_runtime_ok_and_every_line_has_the_same_keys() -> None:
    result = host_verdict([DOCKER_DONE, wrote("containerd"), wrote("podman")], [DOCKER_APPLIED], plan(*ALL),
                          live(containerd=ctd(), podman=pod()), {"mirrors": [M]}, False, "r")
    assert result["verdict"] == "ok"
    assert [(r["runtime"], r["verdict"]) for r in result["runtimes"]] == [
        ("docker", "ok"), ("containerd", "ok"), ("podman", "ok")]
    assert len({tuple(sorted(r)) for r in result["runtimes"]}) == 1  # one shape
    assert result["run"] == "r" and result["live_mirrors"] == [M + "/"]  # Docker's facts stay the host's


def test_the_worst_runtime_is_the_host_verdict_and_names_itself() -> None:
    result = host_verdict([docker_config(), wrote("containerd", False), wrote("podman", False)], [], plan(*ALL),
                          live(containerd=ctd(), podman=pod([])), {"mirrors": [M]})
    assert (result["verdict"], result["stage"]) == ("failed", "verify")
    assert result["reason"].startswith("podman: podman does not use the wanted mirrors"), result["reason"]


def test_a_failure_outranks_a_stopped_runtime() -> None:
    stopped = docker_config(daemon_state="stopped", live_mirrors=None)
    result = host_verdict([stopped, wrote("containerd", False)], [], plan("docker", "containerd"),
                          live(containerd=ctd([])), {"mirrors": [M]})
    assert result["verdict"] == "failed" and result["reason"].startswith("containerd:")


def test_a_runtime_that_refuses_the_mirrors_stops_the_host_before_any_write() -> None:
    refusal = "podman cannot take the mirrors: mirror \"https://h.example/v2/proxy\" has a path"
    result = host_verdict([{}, {}, {}], [], plan(*ALL, problem=refusal), {},
                          {"mirrors": ["https://h.example/v2/proxy"]})
    assert (result["verdict"], result["stage"]) == ("failed", "plan"), result
    assert result["reason"].startswith("podman: podman cannot take the mirrors") and "nothing was written" in \
        result["reason"]
    assert [(r["runtime"], r["verdict"]) for r in result["runtimes"]] == [
        ("docker", "not attempted"), ("containerd", "not attempted"), ("podman", "failed")]
    assert result["file_changed"] is False


@pytest.mark.parametrize(("the_plan", "asked", "verdict", "stage", "reason"), [
    ({"unreachable": True, "msg": "Task failed: Failed to connect"}, ["auto"], "unreachable", "connect",
     "Failed to connect"),
    ({"failed": True, "msg": "mirrors_info: boom"}, ["containerd"], "failed", "detect", "boom"),
    ({"detected": [], "runtimes": {}, "write": []}, ["auto"], "failed", "detect", "no container runtime found"),
    ({"detected": ["docker"], "runtimes": {}, "write": []}, [], "failed", "detect",
     "docker_mirror_runtimes is empty"),
])
def test_plan_failures(the_plan, asked, verdict, stage, reason) -> None:
    result = host_verdict([{}, {}, {}], [], the_plan, {}, {"mirrors": [M], "runtimes": asked})
    assert (result["verdict"], result["stage"]) == (verdict, stage) and reason in result["reason"], result
    assert result["runtimes"] == []


def test_a_runtime_not_installed_is_judged_not_installed() -> None:
    result = host_verdict([docker_config(), {"skipped": True}], [], plan("docker", "containerd", detected=["docker"]),
                          live(containerd=ctd(None, installed=False, state="not-installed",
                                              error="containerd is not installed")), {"mirrors": [M]})
    assert (result["verdict"], result["stage"]) == ("failed", "detect") and "not installed" in result["reason"]


def test_host_file_changed_counts_every_runtime() -> None:
    result = host_verdict([docker_config(), wrote("containerd")], [], plan("docker", "containerd"),
                          live(containerd=ctd()), {"mirrors": [M]})
    assert result["file_changed"] is True and result["applied"] == ""  # applied stays Docker's
    alone = host_verdict([docker_config(), wrote("containerd", False)], [], plan("docker", "containerd"),
                         live(containerd=ctd()), {"mirrors": [M]})
    assert alone["file_changed"] is False


def test_verify_entry_point_judges_docker_from_mirrors_info() -> None:
    result = host_verdict([{}, {}, {}], [], plan("docker", "podman"),
                          live(docker=pod([M], state="running"), podman=pod()), {"mirrors": [M]})
    assert result["verdict"] == "ok", result
    assert [r["runtime"] for r in result["runtimes"]] == ["docker", "podman"]
    alone = host_verdict([{}], [], plan("docker"), live(docker=pod([], state="running")), {"mirrors": [M]})
    assert alone["verdict"] == "failed" and "missing" in alone["reason"]


# --- summary and JUnit: one line per host and runtime ------------------------------------------------------

def report(*entries) -> dict:
    records = {e["host"]: ({"run": "r", "batch": 1, "hosts": [x["host"] for x in entries]},
                           {k: v for k, v in e.items() if k != "host"}) for e in entries}
    return build_report(records, [e["host"] for e in entries], "r")


def docker_host() -> dict:
    return {"host": "dock1", **host_verdict([docker_config()], [], plan("docker"), {}, {"mirrors": [M]}, run="r")}


def multi_host() -> dict:
    entry = host_verdict([docker_config(), wrote("containerd", False)], [], plan("docker", "containerd"),
                         live(containerd=ctd([])), {"mirrors": [M]}, run="r")
    return {"host": "node1", **entry}


def test_summary_has_a_line_per_runtime_for_hosts_with_several() -> None:
    lines = summary(report(docker_host(), multi_host()))
    assert lines[0].startswith("docker_mirror: 1/2 hosts verified (1 failed)"), lines
    assert any(line.split() == ["ok", "dock1:", "live", "mirrors", M + "/"] for line in lines), lines
    assert any(line.startswith("ok") and "node1 [docker]: live mirrors" in line for line in lines), lines
    assert any(line.startswith("FAILED") and "node1 [containerd] (verify): containerd does not use" in line
               for line in lines), lines


def test_junit_has_a_case_per_host_and_runtime() -> None:
    suite = ET.fromstring(junit(report(docker_host(), multi_host())))
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    assert set(cases) == {("docker_mirror", "dock1"), ("docker_mirror.docker", "node1 [docker]"),
                          ("docker_mirror.containerd", "node1 [containerd]")}
    assert (suite.get("tests"), suite.get("failures")) == ("3", "1")
    assert cases[("docker_mirror.containerd", "node1 [containerd]")].find("failure") is not None


# --- run_verdict: from what the role registers --------------------------------------------------------------

CTD_OUTCOME = {"runtime": "containerd", "apply_needed": False, "apply_action": ""}


def _run(live_before: dict, **extra) -> dict:
    return {"want": {"mirrors": ["https://m.example"], "runtimes": ["containerd"]},
            "plan": {"runtimes": {"containerd": {"installed": True}}, "write": ["containerd"],
                     "live": {"containerd": live_before}},
            "configured": {"containerd": {"changed": False, "outcome": CTD_OUTCOME}}, "apply": {}, **extra}


@pytest.mark.parametrize("run_result, live, verdict_, reason", [
    # nothing applied: the plan's reading stands
    (_run({"state": "running", "mirrors": ["https://m.example"], "cri_reads_hosts_dir": True}), {}, "ok",
     "live mirrors https://m.example/"),
    # the handler read again after a change: its reading wins
    (_run({"state": "running", "mirrors": []}),
     {"runtimes": {"containerd": {"state": "running", "mirrors": ["https://m.example"]}}}, "ok",
     "live mirrors https://m.example/"),
    (_run({"state": "running", "mirrors": []}), {"skipped": True}, "failed",
     "containerd does not use the wanted mirrors (missing https://m.example/)"),
    # refused before anything ran
    ({"failed": True, "msg": "Validation of arguments failed: runtimes: value of runtimes must be one of"}, {},
     "failed", "Validation of arguments failed: runtimes: value of runtimes must be one of"),
    ({"unreachable": True, "msg": "Task failed: ssh: connect to host h port 22"}, {}, "unreachable",
     "ssh: connect to host h port 22"),
])
def test_run_verdict(run_result: dict, live: dict, verdict_: str, reason: str) -> None:
    judged = judge.run_verdict(run_result, [{}, {}, {}], live, False, "r")
    assert (judged["verdict"], judged["reason"]) == (verdict_, reason), judged
    assert judged["run"] == "r"


def test_what_a_runtime_cannot_do_is_a_note_not_a_failure() -> None:
    gap = {"registry": "ghcr.io", "mirror": "http://127.0.0.1:5000", "what": "headers",
           "why": "registries.conf has no header setting"}
    podman = {"changed": True, "unsupported": [gap],
              "outcome": {"runtime": "podman", "apply_needed": False, "apply_action": ""}}
    run_result = {"want": {"mirrors": ["http://127.0.0.1:5000"], "runtimes": ["podman"]},
                  "plan": {"runtimes": {"podman": {"installed": True}}, "write": ["podman"]},
                  "configured": {"podman": podman}, "apply": {}}
    live = {"runtimes": {"podman": {"state": "ready", "mirrors": ["http://127.0.0.1:5000"]}}}
    judged = judge.run_verdict(run_result, [{}, {}, {}], live, False, "r")
    note = "ghcr.io http://127.0.0.1:5000: headers (registries.conf has no header setting)"
    assert judged["verdict"] == "ok" and judged["runtimes"][0]["unsupported"] == [note]
    assert judged["unsupported"] == ["podman: " + note]
    report = build_report({"h": ({"run": "r", "batch": 1, "hosts": ["h"]}, judged)}, ["h"], "r")
    lines = summary(report)
    assert lines[2].split() == ["not", "supported", "here:"] + note.split(), lines
    assert "not supported here: " + note in junit(report)


# --- every registry, each mirror probed ------------------------------------------------------------------------

K8S = "https://k8s.example:5001"
WANT_K8S = {"mirrors": ["http://127.0.0.1:5000"], "state": "present", "exclusive": False,
            "registries": [{"registry": "docker.io", "mirrors": [{"url": "http://127.0.0.1:5000"}]},
                           {"registry": "registry.k8s.io", "mirrors": [{"url": K8S}]}]}
OK_PROBE = {"mirror": K8S, "ok": True, "status": 200, "error": None}
X509 = {"mirror": K8S, "ok": False, "status": None, "error": "x509: certificate signed by unknown authority"}


def k8s_view(mirrors=(K8S,), probes=(OK_PROBE,), **extra) -> dict:
    return {"state": "running", "mirrors": ["http://127.0.0.1:5000"],
            "registries": {"docker.io": {"mirrors": ["http://127.0.0.1:5000"], "probes": []},
                           "registry.k8s.io": {"mirrors": None if mirrors is None else list(mirrors),
                                               "probes": list(probes), **extra}}}


@pytest.mark.parametrize("view, want_overrides, problem", [
    (k8s_view(), {}, ""),
    (k8s_view(probes=(X509,)), {},
     f"registry.k8s.io mirror {K8S} does not answer: x509: certificate signed by unknown authority"),
    (k8s_view(mirrors=()), {}, f"registry.k8s.io: not the wanted mirrors (missing {K8S}/)"),
    (k8s_view(mirrors=None, error="cannot parse /etc/containerd/certs.d/registry.k8s.io/hosts.toml"), {},
     "registry.k8s.io: cannot parse /etc/containerd/certs.d/registry.k8s.io/hosts.toml"),
    # classic Docker: its module said so (a note), nothing to judge here
    (k8s_view(mirrors=None, unsupported="classic Docker mirrors docker.io only"), {}, ""),
    # absent: the mirror must be gone; probes are not judged
    (k8s_view(probes=(X509,)), {"state": "absent"}, f"registry.k8s.io: not the wanted mirrors (still live: {K8S}/)"),
    (k8s_view(mirrors=(), probes=()), {"state": "absent"}, ""),
    # one dead mirror of two: a pull falls back to the next one (a note in the reason, not a failure)
    (k8s_view(mirrors=(K8S, K8S + "0"), probes=(X509, dict(OK_PROBE, mirror=K8S + "0"))), {}, ""),
    (k8s_view(mirrors=(K8S, K8S + "0"), probes=(X509, dict(X509, mirror=K8S + "0"))), {},
     f"registry.k8s.io mirror {K8S} does not answer (nor 1 more): x509: certificate signed by unknown authority"),
    (k8s_view(image={"name": "registry.k8s.io/pause:3.10", "ok": False, "mirror": None}), {},
     "registry.k8s.io/pause:3.10 cannot be resolved through any registry.k8s.io mirror"),
    ({"state": "running", "mirrors": []}, {}, ""),  # not read (an older view): nothing to say
])
def test_registry_problem(view: dict, want_overrides: dict, problem: str) -> None:
    assert judge.registry_problem(view, {**WANT_K8S, **want_overrides}) == problem


def test_a_mirror_the_runtime_does_not_trust_fails_the_host() -> None:
    line = runtime_line("containerd", {"changed": False, "outcome": outcome("containerd", "configure")},
                        live=k8s_view(probes=(X509,)), want=WANT_K8S)
    assert (line["verdict"], line["stage"]) == ("failed", "verify"), line
    ok = runtime_line("containerd", {"changed": False, "outcome": outcome("containerd", "configure")},
                      live=k8s_view(), want=WANT_K8S)
    assert ok["verdict"] == "ok" and ok["reason"] == f"live mirrors http://127.0.0.1:5000/; registry.k8s.io {K8S}/"


def test_docker_alone_is_judged_by_daemon_json_s_own_probes() -> None:
    x509 = {"mirror": "https://m.example", "ok": False, "status": None,
            "error": "x509: certificate signed by unknown authority"}
    docker = {"changed": False, "live_mirrors": ["https://m.example/"], "daemon_state": "running",
              "outcome": {"runtime": "docker", "apply_needed": False, "apply_action": ""},
              "live_registries": {"docker.io": {"mirrors": ["https://m.example"], "probes": [x509]}}}
    run_result = {"want": {"mirrors": ["https://m.example"], "runtimes": ["docker"],
                           "registries": [{"registry": "docker.io", "mirrors": [{"url": "https://m.example"}]}]},
                  "plan": {"runtimes": {"docker": {}}, "write": ["docker"]}, "configured": {"docker": docker}}
    judged = judge.run_verdict(run_result, [{}, {}, {}], {}, False, "r")
    assert (judged["verdict"], judged["reason"]) == (
        "failed", "docker.io mirror https://m.example does not answer: x509: certificate signed by unknown authority")


def test_a_dead_mirror_before_a_live_one_is_a_note() -> None:
    view = k8s_view(mirrors=(K8S, K8S + "0"), probes=(X509, dict(OK_PROBE, mirror=K8S + "0")))
    want = dict(WANT_K8S, registries=[WANT_K8S["registries"][0], {"registry": "registry.k8s.io", "mirrors": [
        {"url": K8S}, {"url": K8S + "0"}]}])
    line = runtime_line("containerd", {"changed": False, "outcome": outcome("containerd", "configure")},
                        live=view, want=want)
    assert line["verdict"] == "ok", line
    assert line["reason"].endswith(f"; {K8S} does not answer (x509: certificate signed by unknown authority): "
                                   "pulls use the next one"), line["reason"]


# --- a host without sudo: the line says what to do -------------------------------------------------------------

PLAN_DOCKER = {"runtimes": {"docker": {"installed": True, "problem": None}}, "write": ["docker"]}
NO_SUDO = [
    # the Docker connection as root, without pipelining: the module's output is the shell's error
    {"failed": True, "msg": "Module result deserialization failed: No start of json char found",
     "module_stdout": "", "module_stderr": "/bin/sh: 1: sudo: not found\n"},
    # SSH as a user whose login shell is bash
    {"failed": True, "msg": "MODULE FAILURE\nSee stdout/stderr for the exact error", "rc": 127,
     "module_stderr": "bash: line 1: sudo: command not found\n"},
    {"unreachable": True, "msg": "Task failed: Failed to connect to the host via ssh: /bin/sh: sudo: not found"},
]


@pytest.mark.parametrize("res", NO_SUDO)
def test_a_host_without_sudo_says_what_to_do(res: dict) -> None:
    line = host_verdict([res], [{}], PLAN_DOCKER, {}, {"mirrors": [M]}, False)
    assert line["verdict"] in ("failed", "unreachable")
    assert line["reason"].startswith("sudo is not installed on the host, and the play becomes root through it: ")
    assert "-e docker_mirror_become=false" in line["reason"] and "ansible_user: root" in line["reason"]


def test_other_failures_keep_their_words() -> None:
    res = {"failed": True, "msg": "cannot parse /etc/docker/daemon.json: sudo: not found in labels"}
    assert host_verdict([res], [{}], PLAN_DOCKER, {}, {"mirrors": [M]}, False)["reason"] == res["msg"]
