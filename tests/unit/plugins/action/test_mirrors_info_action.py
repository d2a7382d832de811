# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of Docker alone is answered on the controller; every other call runs the module on the host."""

from __future__ import annotations

import typing as t
from unittest import mock

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.action import mirrors_info as action

MIRRORS = ["https://mirror.gcr.io"]


@pytest.mark.parametrize("args, host_free", [
    ({"runtimes": ["docker"], "mirrors": MIRRORS}, True),
    ({"runtimes": "docker", "mirrors": []}, True),  # -e docker_mirror_runtimes=docker; state absent plans []
    ({"runtimes": ["docker"]}, False),  # the live read, not a plan
    ({"runtimes": ["docker"], "mirrors": MIRRORS, "detect_only": True}, False),
    ({"runtimes": ["docker", "containerd"], "mirrors": MIRRORS}, False),
    ({"runtimes": "docker,podman", "mirrors": MIRRORS}, False),
    ({"runtimes": ["auto"], "mirrors": MIRRORS}, False),
    ({"mirrors": MIRRORS}, False),  # the module's default: auto
    ({"runtimes": [], "mirrors": MIRRORS}, False),  # the module says what is wrong
])
def test_host_free_plan(args: dict[str, t.Any], host_free: bool) -> None:
    plan = action.host_free_plan(args)
    assert (plan is not None) == host_free
    if plan:
        assert plan["write"] == ["docker"] and list(plan["runtimes"]) == ["docker"] and plan["changed"] is False


def make_action(args: dict[str, t.Any]) -> action.ActionModule:
    task = mock.MagicMock(args=args, async_val=0, check_mode=False, diff=False)
    plugin = action.ActionModule(task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=None,
                                 shared_loader_obj=None)
    plugin._execute_module = mock.MagicMock(return_value={"changed": False, "write": ["containerd"]})
    return plugin


def test_docker_alone_touches_no_host() -> None:
    plugin = make_action({"runtimes": ["docker"], "mirrors": MIRRORS})
    result = plugin.run(task_vars={})
    assert result["write"] == ["docker"] and not plugin._execute_module.called


def test_any_other_runtime_runs_the_module() -> None:
    args = {"runtimes": ["docker", "containerd"], "mirrors": MIRRORS}
    plugin = make_action(args)
    result = plugin.run(task_vars={})
    assert result["write"] == ["containerd"]
    plugin._execute_module.assert_called_once_with(module_name=action.MODULE, module_args=args, task_vars={})
