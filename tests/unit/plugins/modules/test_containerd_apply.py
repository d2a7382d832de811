# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the real containerd_apply module against runtimes_fake's containerd, whose restart keeps, kills or
re-creates tasks as a table of cases says."""

from __future__ import annotations

import json
import os
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _errors
from ansible_collections.fleetops.docker_mirror.plugins.modules import containerd_apply
from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.modules.runtimes_fake import Runtimes

LISTING = ["ctr namespaces ls -q", "ctr -n default tasks ls", "ctr -n moby tasks ls"]


@pytest.fixture
def fake(host, monkeypatch) -> Runtimes:
    monkeypatch.setattr(containerd_apply, "POLL_INTERVAL", 0.01)
    return Runtimes(monkeypatch)


def run(host, fake, check_mode: bool = False, **params: t.Any) -> dict[str, t.Any]:
    params.setdefault("timeout", 1)
    result = host.run(containerd_apply.main, check_mode=check_mode, **params)
    outcome = result.pop("outcome", None)  # the runtime's result shape: tests/unit/plugins/module_utils/test_outcome.py
    assert outcome is None or (outcome["runtime"], outcome["applied"]) == (
        "containerd", "restart" if result["changed"] else "")
    return result


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
    monkeypatch.setattr(_errors, "is_root", lambda: False)
    result = run(host, fake)
    assert result["failed"] and "needs root on this host" in result["msg"] and fake.calls == []


def test_needs_systemd(host, fake) -> None:
    host.no_systemd()
    result = run(host, fake)
    assert result["failed"] and fake.calls == []
    assert result["msg"] == "containerd_apply needs systemd on this host to restart containerd; nothing was restarted"


# --------------------------------------------------------------------------- containerd does not come back: rollback


NEW = 'version = 2\noom_score = "abc"\n'  # containerd refuses it (the fake: any file holding "abc")
OLD = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/usr/lib/cni"\n'
REFUSED = "containerd: failed to unmarshal TOML: (2, 1): Can't convert abc(string) to int"


class Containerd(Runtimes):
    """containerd that reads ``config`` at each (re)start: a file holding "abc" makes the start fail (``mode``
    "fail": systemctl restart fails) or leaves containerd silent (``mode`` "hang": ctr never answers)."""

    def __init__(self, monkeypatch, config: str) -> None:
        super().__init__(monkeypatch)
        self.config = config
        self.mode = "fail"
        self.entries: list[dict[str, str]] = []

    def refuses(self) -> bool:
        if not os.path.exists(self.config):
            return False
        with open(self.config) as handle:
            return "abc" in handle.read()

    def systemctl(self, args: list[str]) -> tuple[int, str, str]:
        if args[0] == "reset-failed":
            return 0, "", ""
        if args[0] != "restart" or not self.refuses():
            self.answers = True
            return super().systemctl(args)
        self.entries += [{"SYSLOG_IDENTIFIER": "systemd", "MESSAGE": "containerd.service: Unit process 327 "
                          "(containerd-shim) remains running after unit stopped."},
                         {"SYSLOG_IDENTIFIER": "containerd", "MESSAGE": 'time="t" level=info msg="starting"'},
                         {"SYSLOG_IDENTIFIER": "containerd", "MESSAGE": REFUSED}]
        if self.mode == "hang":
            self.active, self.answers = True, False
            return 0, "", ""
        self.active = False
        return 1, "", "Job for containerd.service failed because the control process exited with error code."

    def journalctl(self, args: list[str]) -> tuple[int, str, str]:
        assert "json" in args
        return 0, "".join(json.dumps(item) + "\n" for item in self.entries), ""


class Files(t.NamedTuple):
    config: str
    copy: str


@pytest.fixture
def files(host) -> Files:
    etc = os.path.join(host.root, "etc", "containerd")
    os.makedirs(etc)
    config, copy = os.path.join(etc, "config.toml"), os.path.join(etc, ".config.toml.docker_mirror-previous")
    host.write(config, NEW)
    host.write(copy, OLD)
    os.chmod(copy, 0o600)
    return Files(config, copy)


@pytest.fixture
def ctd_fake(host, files, monkeypatch) -> Containerd:
    monkeypatch.setattr(containerd_apply, "POLL_INTERVAL", 0.01)
    return Containerd(monkeypatch, files.config)


def text(path: str) -> str | None:
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read()


@pytest.mark.parametrize("mode, cause", [
    ("fail", "systemctl restart containerd failed: Job for containerd.service failed because the control process "
             "exited with error code."),
    ("hang", "containerd did not answer ctr version within 1 s after the restart"),
])
def test_restart_failure_restores_the_previous_file(host, files, ctd_fake, mode: str, cause: str) -> None:
    ctd_fake.mode = mode
    result = run(host, ctd_fake, config_path=files.config, rollback_file=files.copy)
    assert result["failed"] and result["rolled_back"] is True and result["containerd_running"] is True
    assert result["journal"] == [REFUSED] and result["interrupted"] == [] and result["tasks_running"] == 2
    assert result["msg"] == ("containerd did not take the new %s: %s; previous config.toml restored, containerd "
                             "running again. containerd said: %s" % (files.config, cause, REFUSED))
    assert text(files.config) == OLD and not os.path.exists(files.copy)
    assert "systemctl reset-failed containerd" in ctd_fake.calls and len(restarts(ctd_fake)) == 2


def test_created_file_is_removed(host, files, ctd_fake) -> None:
    os.unlink(files.copy)
    result = run(host, ctd_fake, config_path=files.config, created=True)
    assert result["rolled_back"] is True and result["containerd_running"] is True
    assert "the config.toml this run created removed, containerd running again" in result["msg"]
    assert not os.path.exists(files.config)


def test_created_file_that_is_empty_is_not_removed(host, files, ctd_fake) -> None:
    # created: true with a config_path naming somebody's empty file: it parses as TOML, yet no writer made it.
    os.unlink(files.copy)
    with open(files.config, "w"):
        pass
    real = ctd_fake.systemctl

    def systemctl(args: list[str]) -> tuple[int, str, str]:
        if args[0] == "restart":
            return 1, "", "Job for containerd.service failed"
        return real(args)
    ctd_fake.systemctl = systemctl
    result = run(host, ctd_fake, config_path=files.config, created=True)
    assert result["failed"] and result["rolled_back"] is False
    assert "is empty, and containerd_hosts never creates an empty file: not removed" in result["msg"]
    assert os.path.exists(files.config)


def garbage(files: Files) -> None:
    with open(files.config, "a") as handle:
        handle.write("[[[ not toml\n")


def copy_garbage(files: Files) -> None:
    with open(files.copy, "w") as handle:
        handle.write("[[[ not toml abc\n")


def other_copy(files: Files) -> str:
    other = os.path.join(os.path.dirname(files.config), "config.toml.bak")
    os.rename(files.copy, other)
    return other


@pytest.mark.parametrize("setup, params, what", [
    (None, {"rollback_file": None}, "no previous copy of config.toml to restore (the new one stays)"),
    (None, {"rollback_file": "/nonexistent/.config.toml.docker_mirror-previous"},
     "no previous copy of config.toml to restore (the new one stays)"),
    (other_copy, {}, "the previous copy {other} is not the copy containerd_hosts keeps for {config} ({copy}): not "
                     "restored (the new one stays)"),
    (copy_garbage, {}, "the previous copy {copy} is not a TOML file (cannot parse config.toml as TOML"),
    (garbage, {"created": True}, "{config} is not a TOML file (cannot parse config.toml as TOML"),
])
def test_rollback_refused_still_restarts(host, files, ctd_fake, setup, params: dict[str, t.Any], what: str) -> None:
    other = setup(files) if setup else None
    params = dict({"config_path": files.config, "rollback_file": other or files.copy}, **params)
    before = text(files.config)
    result = run(host, ctd_fake, **params)
    assert result["failed"] and result["rolled_back"] is False and result["containerd_running"] is False
    assert what.format(other=other, config=files.config, copy=files.copy) in result["msg"]
    assert "but CONTAINERD IS NOT RUNNING (systemctl restart containerd failed: " in result["msg"]
    assert text(files.config) == before and len(restarts(ctd_fake)) == 2


def test_restore_that_cannot_be_moved(host, files, ctd_fake, monkeypatch) -> None:
    def atomic_move(module, src, dest, unsafe_writes=False):
        raise Exception("Could not replace file: %s to %s: Read-only file system" % (src, dest))
    monkeypatch.setattr(containerd_apply.AnsibleModule, "atomic_move", atomic_move)
    result = run(host, ctd_fake, config_path=files.config, rollback_file=files.copy)
    assert result["rolled_back"] is False and result["containerd_running"] is False
    assert "the previous config.toml could NOT be restored from %s (Could not replace file" % files.copy in result["msg"]


@pytest.mark.parametrize("mode, running", [("fail", False), ("hang", True)])
def test_rollback_off_keeps_the_new_file(host, files, ctd_fake, mode: str, running: bool) -> None:
    ctd_fake.mode = mode
    result = run(host, ctd_fake, config_path=files.config, rollback_file=files.copy, rollback=False)
    assert result["failed"] and result["rolled_back"] is False and result["containerd_running"] is False
    assert result["msg"].startswith("containerd did not take the new %s: " % files.config)
    assert ("; rollback is off: %s holds the new configuration, containerd is NOT RUNNING. containerd said: %s"
            % (files.config, REFUSED)) in result["msg"]
    assert text(files.config) == NEW and text(files.copy) == OLD and len(restarts(ctd_fake)) == 1


def test_systemd_words_when_containerd_said_nothing(host, files, ctd_fake) -> None:
    """An ExecStartPre that fails: containerd never ran, systemd says why."""
    def refuses() -> bool:
        return "abc" in (text(files.config) or "")
    ctd_fake.refuses = refuses
    real = ctd_fake.systemctl

    def systemctl(args: list[str]) -> tuple[int, str, str]:
        rc, out, err = real(args)
        ctd_fake.entries = [{"SYSLOG_IDENTIFIER": "systemd", "MESSAGE": "containerd.service: Control process exited, "
                             "code=exited, status=1/FAILURE"}] if rc else []
        return rc, out, err
    ctd_fake.systemctl = systemctl
    result = run(host, ctd_fake, config_path=files.config, rollback_file=files.copy)
    assert result["rolled_back"] is True
    assert result["msg"].endswith("systemd said: containerd.service: Control process exited, code=exited, "
                                  "status=1/FAILURE")


def test_no_journal_at_all(host, files, ctd_fake) -> None:
    ctd_fake.journalctl = lambda args: (1, "", "No journal files were found.")
    result = run(host, ctd_fake, config_path=files.config, rollback_file=files.copy)
    assert result["journal"] == [] and result["msg"].endswith("(nothing from containerd in the journal)")


# --------------------------------------------------------------------------- containerd came back: the copy goes


def test_success_removes_the_copy(host, files, ctd_fake) -> None:
    host.write(files.config, OLD)
    result = run(host, ctd_fake, config_path=files.config, rollback_file=files.copy)
    assert result == {"changed": True, "tasks_running": 2, "interrupted": [], "failed": False}
    assert not os.path.exists(files.copy) and text(files.config) == OLD


def test_success_never_removes_another_file(host, files, ctd_fake) -> None:
    host.write(files.config, OLD)
    other = other_copy(files)
    assert not run(host, ctd_fake, config_path=files.config, rollback_file=other)["failed"]
    assert text(other) == OLD


def test_interrupted_tasks_are_not_rolled_back(host, files, ctd_fake) -> None:
    host.write(files.config, OLD)
    ctd_fake.on_restart = kill("moby/c0ffee")
    result = run(host, ctd_fake, config_path=files.config, rollback_file=files.copy)
    assert result["failed"] and result["interrupted"] == ["moby/c0ffee"] and "rolled_back" not in result
    assert text(files.config) == OLD and not os.path.exists(files.copy) and len(restarts(ctd_fake)) == 1


def test_check_mode_keeps_the_copy(host, files, ctd_fake) -> None:
    result = run(host, ctd_fake, check_mode=True, config_path=files.config, rollback_file=files.copy)
    assert result["changed"] and not result["failed"] and text(files.copy) == OLD and restarts(ctd_fake) == []


def test_relative_config_path(host, files, ctd_fake) -> None:
    result = run(host, ctd_fake, config_path="etc/config.toml")
    assert result["failed"] and restarts(ctd_fake) == []
    assert result["msg"] == "etc/config.toml: config_path must be an absolute path; nothing was restarted"


def test_copy_that_cannot_be_removed_is_a_warning(host, files, ctd_fake, monkeypatch) -> None:
    host.write(files.config, OLD)
    os.unlink(files.copy)
    os.mkdir(files.copy)
    warnings: list[str] = []
    monkeypatch.setattr(containerd_apply.AnsibleModule, "warn", lambda module, text: warnings.append(text))
    result = run(host, ctd_fake, config_path=files.config, rollback_file=files.copy)
    assert not result["failed"] and os.path.isdir(files.copy)
    assert warnings == ["containerd took the new %s, but its previous copy %s could not be removed (Is a directory)"
                        % (files.config, files.copy)]


def test_unreadable_copy_is_not_restored(host, files, ctd_fake) -> None:
    os.unlink(files.copy)
    os.symlink(files.copy, files.copy)  # a loop: not a regular file
    result = run(host, ctd_fake, config_path=files.config, rollback_file=files.copy)
    assert result["rolled_back"] is False and "is not a regular file" in result["msg"]


def test_copy_that_cannot_be_read_is_not_restored(host, files, ctd_fake, monkeypatch) -> None:
    real_open = os.open

    def deny(name, *args, **kwargs):
        if name == files.copy:
            raise PermissionError(13, "Permission denied", name)
        return real_open(name, *args, **kwargs)
    monkeypatch.setattr(os, "open", deny)  # the copy is read with os.open (no link followed, never blocking)
    result = run(host, ctd_fake, config_path=files.config, rollback_file=files.copy)
    assert result["rolled_back"] is False
    assert "the previous copy %s cannot be read (Permission denied): not restored" % files.copy in result["msg"]


def test_created_file_that_cannot_be_removed(host, files, ctd_fake, monkeypatch) -> None:
    real_unlink = os.unlink

    def unlink(name, *args, **kwargs):
        if name == files.config:
            raise PermissionError(1, "Operation not permitted", name)
        return real_unlink(name, *args, **kwargs)
    monkeypatch.setattr(os, "unlink", unlink)
    result = run(host, ctd_fake, config_path=files.config, created=True)
    assert result["rolled_back"] is False
    assert "the config.toml this run created could NOT be removed (Operation not permitted)" in result["msg"]


def test_created_file_already_gone(host, files, ctd_fake) -> None:
    real = ctd_fake.systemctl

    def systemctl(args: list[str]) -> tuple[int, str, str]:
        if args[0] == "restart" and os.path.exists(files.config):
            rc, out, err = real(args)
            os.unlink(files.config)  # removed by someone else while containerd failed
            return rc, out, err
        return real(args)
    ctd_fake.systemctl = systemctl
    result = run(host, ctd_fake, config_path=files.config, created=True)
    assert result["rolled_back"] is True and result["containerd_running"] is True
    assert "the config.toml this run created is already gone, containerd running again" in result["msg"]
