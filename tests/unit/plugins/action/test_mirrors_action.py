# Copyright: fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleetops.docker_mirror.mirrors: one task plans every runtime and runs each runtime's module; the plan of
Docker alone is answered on the controller, and the result folds the plan and the modules' results."""

from __future__ import annotations

import typing as t
from unittest import mock

import pytest
from ansible.errors import AnsibleError

from ansible_collections.fleetops.docker_mirror.plugins.action import mirrors as action
from ansible_collections.fleetops.docker_mirror.plugins.plugin_utils import _configure as cfg

MIRRORS = ["https://mirror.gcr.io"]


def make_action(args: dict[str, t.Any], replies: dict[str, dict[str, t.Any]]) -> action.ActionModule:
    """The action with a fake host: each module name answers its reply (a copy), and every call is recorded."""
    task = mock.MagicMock(args=args, async_val=0, check_mode=False, diff=False)
    plugin = action.ActionModule(task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=None,
                                 shared_loader_obj=None)

    def execute(module_name, module_args, task_vars):
        return dict(replies[module_name])

    plugin._execute_module = mock.MagicMock(side_effect=execute)
    return plugin


def called(plugin: action.ActionModule) -> list[str]:
    return [call.kwargs["module_name"].rsplit(".", 1)[-1] for call in plugin._execute_module.call_args_list]


def outcome(runtime: str, apply_action: str = "") -> dict[str, t.Any]:
    return {"runtime": runtime, "apply_needed": bool(apply_action), "apply_action": apply_action}


DOCKER_OK = {"changed": False, "outcome": outcome("docker"), "invocation": {"module_args": {}}}
DOCKER_RELOAD = {"changed": True, "outcome": outcome("docker", "reload"), "diff": {"before": "a", "after": "b"},
                 "warnings": ["w1"]}
CONTAINERD_RESTART = {"changed": True, "outcome": outcome("containerd", "restart"),
                      "diff": [{"before": "x", "after": "y"}, {"before": "", "after": "z"}]}
PLAN_BOTH = {"changed": False, "detected": ["docker", "containerd"], "write": ["docker", "containerd"],
             "runtimes": {"docker": {"installed": True}, "containerd": {"installed": True}},
             "live": {"containerd": {"state": "running", "mirrors": []}}}


def test_docker_alone_without_probes_runs_daemon_json_only() -> None:
    plugin = make_action({"runtimes": ["docker"], "registry_mirrors": MIRRORS, "probe": False},
                         {cfg.MODULES["docker"]: DOCKER_OK})
    result = plugin.run(task_vars={})
    assert called(plugin) == ["daemon_json"]
    assert result["changed"] is False and result["apply"] == {} and "failed" not in result
    assert result["plan"]["write"] == ["docker"]
    assert "invocation" not in result["configured"]["docker"]
    hub = {"url": MIRRORS[0], "capabilities": ["pull", "resolve"], "skip_verify": False, "override_path": False,
           "ca": False, "client_cert": False, "headers": []}
    assert result["want"] == {"mirrors": MIRRORS, "runtimes": ["docker"], "state": "present", "exclusive": False,
                              "apply": "auto", "verify": True, "manage_config_path": True, "probe": False,
                              "probe_image": "", "registries": [{"registry": "docker.io", "mirrors": [hub]}]}


def test_every_runtime_of_the_plan_is_written_in_order_and_folded() -> None:
    plugin = make_action({"runtimes": ["auto"], "registry_mirrors": MIRRORS},
                         {cfg.INFO: PLAN_BOTH, cfg.MODULES["docker"]: DOCKER_RELOAD,
                          cfg.MODULES["containerd"]: CONTAINERD_RESTART})
    result = plugin.run(task_vars={})
    assert called(plugin) == ["mirrors_info", "daemon_json", "containerd_hosts"]
    assert result["apply"] == {"docker": "reload", "containerd": "restart"} and result["changed"] is True
    assert len(result["diff"]) == 3 and result["warnings"] == ["w1"]
    assert result["plan"]["live"]["containerd"]["state"] == "running"
    info_args = plugin._execute_module.call_args_list[0].kwargs["module_args"]
    assert info_args["mirrors"] == MIRRORS and info_args["detect_only"] is False
    assert info_args["registries"] == ["docker.io"] and info_args["probe"] is True


def test_docker_alone_probing_is_daemon_json_s_own() -> None:
    plugin = make_action({"runtimes": ["docker"], "registry_mirrors": MIRRORS}, {cfg.MODULES["docker"]: DOCKER_OK})
    plugin.run(task_vars={})
    assert called(plugin) == ["daemon_json"]
    assert plugin._execute_module.call_args_list[0].kwargs["module_args"]["probe"] is True


def test_a_refusing_runtime_means_no_module_runs() -> None:
    plan = dict(PLAN_BOTH, write=[])
    plugin = make_action({"runtimes": ["auto"], "registry_mirrors": MIRRORS}, {cfg.INFO: plan})
    result = plugin.run(task_vars={})
    assert called(plugin) == ["mirrors_info"] and result["configured"] == {} and result["changed"] is False


def test_one_failing_module_fails_the_task_the_others_still_run() -> None:
    failed = {"failed": True, "msg": "cannot parse /etc/docker/daemon.json", "outcome": outcome("docker")}
    plugin = make_action({"runtimes": ["auto"], "registry_mirrors": MIRRORS},
                         {cfg.INFO: PLAN_BOTH, cfg.MODULES["docker"]: failed,
                          cfg.MODULES["containerd"]: CONTAINERD_RESTART})
    result = plugin.run(task_vars={})
    assert called(plugin) == ["mirrors_info", "daemon_json", "containerd_hosts"]
    assert result["failed"] is True and result["msg"] == "docker: cannot parse /etc/docker/daemon.json"
    assert result["apply"] == {"containerd": "restart"}


def test_a_failed_plan_writes_nothing() -> None:
    plugin = make_action({"runtimes": ["auto"], "registry_mirrors": MIRRORS},
                         {cfg.INFO: {"failed": True, "msg": "hosts_dir: must be an absolute path"}})
    result = plugin.run(task_vars={})
    assert called(plugin) == ["mirrors_info"]
    assert result["failed"] is True and result["msg"] == "plan: hosts_dir: must be an absolute path"


def test_verify_only_reads_and_writes_nothing_even_for_docker_alone() -> None:
    plugin = make_action({"runtimes": ["docker"], "registry_mirrors": MIRRORS, "write": False},
                         {cfg.INFO: dict(PLAN_BOTH, write=["docker"])})
    result = plugin.run(task_vars={})
    assert called(plugin) == ["mirrors_info"] and result["configured"] == {} and result["changed"] is False


def test_bad_arguments_are_refused_before_any_host_is_asked() -> None:
    plugin = make_action({"runtimes": ["kubernetes"]}, {})
    with pytest.raises(AnsibleError, match="runtimes"):
        plugin.run(task_vars={})
    assert called(plugin) == []


def test_a_wrong_registries_mapping_fails_before_any_host_is_asked() -> None:
    plugin = make_action({"runtimes": ["auto"], "registry_mirrors": MIRRORS,
                          "registries": {"ghcr.io": [{"url": "https://gh.example", "headers": {"X Bad": "v"}}]}}, {})
    with pytest.raises(AnsibleError, match="ghcr.io"):
        plugin.run(task_vars={})
    assert called(plugin) == []


def test_the_modules_name_their_options_by_the_role_variables() -> None:
    plugin = make_action({"runtimes": ["auto"], "registry_mirrors": MIRRORS, "force": True},
                         {cfg.INFO: PLAN_BOTH, cfg.MODULES["docker"]: DOCKER_OK,
                          cfg.MODULES["containerd"]: CONTAINERD_RESTART})
    plugin.run(task_vars={})
    sent = {call.kwargs["module_name"].rsplit(".", 1)[-1]: call.kwargs["module_args"]
            for call in plugin._execute_module.call_args_list}
    assert sent["daemon_json"]["force"] is True and sent["containerd_hosts"]["force"] is True
    assert sent["daemon_json"]["option_names"]["path"] == "docker_mirror_daemon_json_path"
    assert sent["containerd_hosts"]["option_names"]["config_path"] == "docker_mirror_containerd_config"
    assert sent["mirrors_info"]["option_names"]["containerd_config"] == "docker_mirror_containerd_config"
