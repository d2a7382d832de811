# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the real containerd_apply module against runtimes_fake's containerd, whose restart keeps, kills or
re-creates tasks as a table of cases says."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _daemon
from ansible_collections.fleetops.docker_mirror.plugins.modules import containerd_apply
from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.modules.runtimes_fake import Runtimes

LISTING = ["ctr namespaces ls -q", "ctr -n default tasks ls", "ctr -n moby tasks ls"]


@pytest.fixture
def fake(host, monkeypatch) -> Runtimes:
    monkeypatch.setattr(containerd_apply, "POLL_INTERVAL", 0.01)
    return Runtimes(monkeypatch)


def run(host, fake, check_mode: bool = False, **params: t.Any) -> dict[str, t.Any]:
    params.setdefault("timeout", 1)
    return host.run(containerd_apply.main, check_mode=check_mode, **params)


def restarts(fake) -> list[str]:
    return [call for call in fake.calls if call.startswith("systemctl restart")]


def test_restart_keeps_running_tasks(host, fake) -> None:
    fake.tasks["default"].append(("done", 0, "STOPPED"))
    result = run(host, fake)
    assert result == {"changed": True, "tasks_running": 2, "interrupted": [], "failed": False}
    restarted = ["systemctl restart containerd", "ctr version"]
    assert fake.calls == ["systemctl is-active containerd.service"] + LISTING + restarted + LISTING


def test_check_mode_lists_but_does_not_restart(host, fake) -> None:
    result = run(host, fake, check_mode=True)
    assert result == {"changed": True, "tasks_running": 2, "interrupted": [], "failed": False}
    assert restarts(fake) == []


@pytest.mark.parametrize("check_mode", [False, True])
def test_stopped_containerd_is_not_started(host, fake, check_mode: bool) -> None:
    fake.active = False
    result = run(host, fake, check_mode=check_mode, service="containerd")
    assert result == {"changed": False, "tasks_running": 0, "interrupted": [], "failed": False,
                      "skipped_reason": "containerd.service is not active; it was not started"}
    assert fake.calls == ["systemctl is-active containerd.service"]


def kill(name: str) -> t.Callable[[Runtimes], None]:
    def on_restart(fake: Runtimes) -> None:
        namespace, dummy, task_id = name.partition("/")
        fake.tasks[namespace] = [row for row in fake.tasks[namespace] if row[0] != task_id]
    return on_restart


def restart_as(name: str, pid: int, status: str = "RUNNING") -> t.Callable[[Runtimes], None]:
    def on_restart(fake: Runtimes) -> None:
        namespace, dummy, task_id = name.partition("/")
        fake.tasks[namespace] = [(task_id, pid, status) if row[0] == task_id else row for row in fake.tasks[namespace]]
    return on_restart


def kill_all(fake: Runtimes) -> None:
    fake.tasks = {name: [(row[0], 0, "STOPPED") for row in rows] for name, rows in fake.tasks.items()}


@pytest.mark.parametrize("on_restart, interrupted", [
    (kill("moby/c0ffee"), ["moby/c0ffee"]),
    (restart_as("default/web", 9999), ["default/web"]),
    (restart_as("default/web", 500, "STOPPED"), ["default/web"]),
    (kill_all, ["default/web", "moby/c0ffee"]),
])
def test_interrupted_tasks_fail_naming_them(host, fake, on_restart, interrupted: list[str]) -> None:
    fake.on_restart = on_restart
    result = run(host, fake)
    assert result["failed"] and result["changed"] and result["interrupted"] == interrupted
    assert result["tasks_running"] == 2
    assert result["msg"] == ("containerd was restarted, but %d of its 2 running task(s) did not survive with the same "
                             "process: %s" % (len(interrupted), ", ".join(interrupted)))


def test_tasks_listed_late_are_waited_for(host, fake) -> None:
    """Right after a restart a namespace may not list yet: the module polls until the tasks are back."""
    def on_restart(fake: Runtimes) -> None:
        fake.tasks_rc["moby"] = 1
        polls = {"count": 0}
        real_ctr = fake.ctr

        def ctr(args: list[str]) -> tuple[int, str, str]:
            if args[:2] == ["-n", "moby"]:
                polls["count"] += 1
                if polls["count"] > 2:
                    fake.tasks_rc.clear()
            return real_ctr(args)
        fake.ctr = ctr
    fake.on_restart = on_restart
    assert run(host, fake)["interrupted"] == []


def test_no_tasks_at_all(host, fake) -> None:
    fake.tasks = {}
    assert run(host, fake) == {"changed": True, "tasks_running": 0, "interrupted": [], "failed": False}


def test_restart_failing_quotes_the_journal(host, fake) -> None:
    fake.restart_rc = 1
    result = run(host, fake)
    assert result["failed"] and result["interrupted"] == [] and result["tasks_running"] == 2
    assert result["msg"] == (
        "systemctl restart containerd failed: Job for containerd.service failed because the control process exited.; "
        "containerd said: level=info msg=\"starting containerd\" | containerd: failed to load TOML: bad | "
        "containerd.service: Main process exited, code=exited, status=1/FAILURE")


def test_containerd_not_answering_after_the_restart(host, fake) -> None:
    def hang(fake: Runtimes) -> None:
        fake.answers = False
    fake.on_restart = hang
    result = run(host, fake, timeout=1)
    assert result["failed"] and result["interrupted"] == []
    assert result["msg"] == "containerd did not answer ctr version within 1 s after the restart"


@pytest.mark.parametrize("setup, message", [
    (lambda fake: setattr(fake, "answers", False), "cannot list containerd's tasks before the restart (ctr namespaces "
                                                   "ls failed: ctr: failed to dial"),
    (lambda fake: fake.tasks_rc.update(moby=1), "cannot list containerd's tasks before the restart (ctr -n moby tasks "
                                                "ls failed: ctr: namespace moby: listing failed); containerd was not "
                                                "restarted"),
    (lambda fake: fake.tasks.update(moby=[("bad", "pid", "RUNNING")]),
     "cannot list containerd's tasks before the restart (cannot read ctr tasks ls output in namespace moby"),
    (lambda fake: fake.present.discard("ctr"), "no ctr command on this host to list containerd's tasks; containerd "
                                               "was not restarted"),
])
def test_nothing_restarted_when_tasks_cannot_be_listed(host, fake, setup, message: str) -> None:
    setup(fake)
    result = run(host, fake)
    assert result["failed"] and message in result["msg"]
    assert restarts(fake) == []


def test_needs_root(host, fake, monkeypatch) -> None:
    monkeypatch.setattr(_daemon, "is_root", lambda: False)
    result = run(host, fake)
    assert result["failed"] and "needs root on this host" in result["msg"] and fake.calls == []


def test_needs_systemd(host, fake) -> None:
    host.no_systemd()
    result = run(host, fake)
    assert result["failed"] and fake.calls == []
    assert result["msg"] == "containerd_apply needs systemd on this host to restart containerd; nothing was restarted"
