# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the real daemon_apply module against the fake Docker host of conftest.py, whose fake dockerd takes or
refuses its daemon.json on reload/restart the way the real one does."""

from __future__ import annotations

import json
import os
import stat
import typing as t

import pytest

from ansible.module_utils import basic

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _errors
from ansible_collections.fleetops.docker_mirror.plugins.modules import daemon_apply


MIRROR = "https://m.example"
PREVIOUS = b'{\n  "debug": true\n}\n'
REFUSED = b'{\n  "debug": true,\n  "refuse-me": 1,\n  "registry-mirrors": ["https://m.example"]\n}\n'
TAKEN = b'{\n  "debug": true,\n  "registry-mirrors": ["https://m.example"]\n}\n'


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch) -> None:
    monkeypatch.setattr(daemon_apply, "POLL_INTERVAL", 0.05)


def run(host, check_mode: bool = False, **params: t.Any) -> dict[str, t.Any]:
    params.setdefault("path", host.path)
    params.setdefault("mirrors", [MIRROR])
    params.setdefault("timeout", 1)
    result = host.run(daemon_apply.main, check_mode=check_mode, **params)
    outcome = result.pop("outcome", None)  # the runtime's result shape: tests/unit/plugins/module_utils/test_outcome.py
    assert outcome is None or (outcome["runtime"], outcome["stage"], outcome["rolled_back"]) == (
        "docker", "apply", bool(result.get("rolled_back")))
    return result


def previous_copy(host, data: bytes = PREVIOUS) -> str:
    name = os.path.join(os.path.dirname(host.path), ".daemon.json.docker_mirror-previous")
    host.write(name, data)
    os.chmod(name, 0o600)
    return name


def service_calls(host) -> list[str]:
    return [line for line in host.calls() if line.split(" ", 1)[0] in ("systemctl", "service")
            and " show " not in line and " is-active " not in line]


def test_check_mode_does_nothing(host) -> None:
    host.write(host.path, REFUSED)
    result = run(host, check_mode=True, action="restart", rollback_file=previous_copy(host))
    assert result == {"changed": True, "action": "restart", "live_mirrors": None, "failed": False}
    assert host.calls() == [] and host.read(host.path) == REFUSED


@pytest.mark.parametrize("action", ["reload", "restart"])
def test_success_removes_the_previous_copy(host, action: str) -> None:
    host.write(host.path, TAKEN)
    rollback_file = previous_copy(host)
    result = run(host, action=action, rollback_file=rollback_file, mirrors=[MIRROR + "/"])
    assert result == {"changed": True, "action": action, "live_mirrors": [MIRROR], "failed": False}
    assert service_calls(host) == ["systemctl reset-failed docker"] * (action == "restart") + [
        "systemctl %s docker" % action]
    assert not os.path.exists(rollback_file) and host.read(host.path) == TAKEN


def test_empty_mirror_list(host) -> None:
    host.set(mirrors=["https://old.example/"])
    host.write(host.path, b'{"registry-mirrors": []}')
    assert run(host, action="reload", mirrors=[])["live_mirrors"] == []


def test_rejected_reload_is_rolled_back(host) -> None:
    host.set(mirrors=["https://old.example/"])
    host.write(host.path, REFUSED)
    os.chmod(host.path, 0o640)
    os.chown(host.path, 1234, 1234)
    result = run(host, action="reload", rollback_file=previous_copy(host))
    assert result["failed"] and result["stage"] == "apply" and result["action"] == "reload"
    assert result["msg"] == (
        "Docker did not take the new %s: dockerd rejected the new file on reload (it keeps running on its "
        "previous configuration); previous daemon.json restored, Docker running again. dockerd said: "
        'level=error msg="Error reloading the daemon configuration" error="unable to configure the Docker daemon '
        "with file %s: the following directives don't match any configuration option: refuse-me\"" % (
            host.path, host.path))
    assert result["rolled_back"] is True and result["docker_running"] is True
    assert result["live_mirrors"] == ["https://old.example/"]
    assert len(result["journal"]) == 1
    assert host.read(host.path) == PREVIOUS
    assert stat.S_IMODE(os.stat(host.path).st_mode) == 0o640 and os.stat(host.path).st_uid == 1234
    assert service_calls(host) == ["systemctl reload docker", "systemctl reset-failed docker", "systemctl reload docker"]
    assert os.listdir(os.path.dirname(host.path)) == ["daemon.json"]


def test_failed_restart_is_rolled_back_and_docker_started(host) -> None:
    host.write(host.path, REFUSED)
    result = run(host, action="restart", rollback_file=previous_copy(host))
    assert result["failed"] and result["rolled_back"] and result["docker_running"]
    assert result["msg"].startswith("Docker did not take the new %s: systemctl restart docker failed: Job for "
                                    "docker.service failed" % host.path)
    assert "previous daemon.json restored, Docker running again. dockerd said: unable to configure" in result["msg"]
    assert result["journal"] == ["unable to configure the Docker daemon with file %s: the following directives "
                                 "don't match any configuration option: refuse-me" % host.path]
    assert host.read(host.path) == PREVIOUS and host.state()["active"] is True
    assert service_calls(host) == ["systemctl reset-failed docker", "systemctl restart docker",
                                   "systemctl reset-failed docker", "systemctl restart docker"]


def test_restart_after_systemd_start_limit(host) -> None:
    """A unit that failed too often is refused by systemd until reset-failed: the restart clears it first."""
    host.write(host.path, TAKEN)
    host.set(active=False, start_limit_hit=True)
    result = run(host, action="restart", rollback_file=previous_copy(host))
    assert result["changed"] and not result["failed"] and result["live_mirrors"] == [MIRROR]
    assert service_calls(host) == ["systemctl reset-failed docker", "systemctl restart docker"]


def test_mirror_password_never_echoed(host) -> None:
    host.write(host.path, TAKEN)
    result = run(host, action="reload", mirrors=["https://user:s3cr3tPW@m.example", "user:s3cr3tPW@m.example"])
    assert host.invocation["module_args"]["mirrors"] == ["https://xxxxx@m.example", "xxxxx@m.example"]
    assert "s3cr3tPW" not in json.dumps(result) + json.dumps(host.invocation)


def other_name(host) -> str:
    name = os.path.join(os.path.dirname(host.path), "my-own-backup.json")
    host.write(name, PREVIOUS)
    return name


def garbage_copy(host) -> str:
    return previous_copy(host, b"garbage{\n")


def truncated_copy(host) -> str:
    return previous_copy(host, PREVIOUS[:5])


def linked_copy(host) -> str:
    name = previous_copy(host)
    real = name + ".real"
    os.rename(name, real)
    os.symlink(real, name)
    return name


def directory_copy(host) -> str:
    name = previous_copy(host)
    os.unlink(name)
    os.mkdir(name)
    return name


ROLLBACK_COPIES_REFUSED = [
    ("not the private copy", other_name, "is not the copy daemon_json keeps for"),
    ("garbage", garbage_copy, "is not a daemon.json dockerd reads (cannot parse as JSON"),
    ("truncated", truncated_copy, "is not a daemon.json dockerd reads (cannot parse as JSON"),
    ("symlink", linked_copy, "is not a regular file"),
    ("directory", directory_copy, "is not a regular file"),
]


@pytest.mark.parametrize("name, make, fragment", ROLLBACK_COPIES_REFUSED,
                         ids=[row[0] for row in ROLLBACK_COPIES_REFUSED])
def test_rollback_copy_that_cannot_be_trusted_is_not_restored(host, name: str, make, fragment: str) -> None:
    host.write(host.path, REFUSED)
    rollback_file = make(host)
    result = run(host, action="restart", rollback_file=rollback_file)
    assert result["failed"] and result["rolled_back"] is False, result
    assert fragment in result["msg"] and "not restored (the new one stays)" in result["msg"], result["msg"]
    assert host.read(host.path) == REFUSED and os.path.lexists(rollback_file)


def test_created_file_is_removed(host) -> None:
    host.write(host.path, REFUSED)
    result = run(host, action="restart", created=True)
    assert result["failed"] and "the daemon.json this run created removed, Docker running again" in result["msg"]
    assert not os.path.exists(host.path)


def test_nothing_to_restore(host) -> None:
    host.write(host.path, REFUSED)
    result = run(host, action="restart")
    assert result["failed"] and result["rolled_back"] is False and result["docker_running"] is False
    assert "no previous copy of daemon.json to restore (the new one stays), but DOCKER IS NOT RUNNING" in result["msg"]


def test_rollback_off(host) -> None:
    host.write(host.path, REFUSED)
    rollback_file = previous_copy(host)
    result = run(host, action="restart", rollback=False, rollback_file=rollback_file)
    assert result["failed"] and result["rolled_back"] is False and result["docker_running"] is False
    assert "rollback is off: %s holds the new configuration" % host.path in result["msg"]
    assert host.read(host.path) == REFUSED and os.path.exists(rollback_file)
    assert service_calls(host) == ["systemctl reset-failed docker", "systemctl restart docker"]


def test_previous_file_refused_too(host) -> None:
    host.write(host.path, REFUSED)
    result = run(host, action="restart", rollback_file=previous_copy(host, REFUSED))
    assert result["failed"] and result["docker_running"] is False and result["live_mirrors"] is None
    assert "previous daemon.json restored, but DOCKER IS NOT RUNNING (docker.service is not active)" in result["msg"]
    assert "SOCKET-ACTIVATED" not in host.state()["journal"]


def test_dockerd_stops_answering(host) -> None:
    host.write(host.path, TAKEN)
    host.set(answers=False)
    result = run(host, action="reload", rollback_file=previous_copy(host))
    assert result["failed"]
    assert "dockerd is not answering after the reload (Cannot connect to the Docker daemon" in result["msg"]
    # Nothing but systemd's state lines: those are shown rather than nothing (as the role did).
    assert result["journal"] == ["Reloading Docker Application Container Engine...",
                                 "Reloaded Docker Application Container Engine."]


def test_hung_dockerd_after_the_reload(host) -> None:
    host.write(host.path, TAKEN)
    host.set(hung=True)
    result = run(host, action="reload", rollback=False)
    assert result["failed"] and result["docker_running"] is False
    assert "dockerd is not answering after the reload (docker info did not answer within 1 s (is dockerd hung?))" \
        in result["msg"]


@pytest.mark.parametrize("action", ["reload", "restart"])
def test_live_daemon_read_from_the_api(host, action: str) -> None:
    """No docker CLI, and on a reload the journal read until dockerd's verdict, not a fixed pause."""
    host.write(host.path, TAKEN)
    assert run(host, action=action)["live_mirrors"] == [MIRROR]
    assert host.calls("docker") == [] and host.calls("dockerapi") == ["dockerapi GET /info"]
    assert len(host.calls("journalctl")) == 2 * (action == "reload")


def test_pauses_back_off_to_the_poll_interval(monkeypatch) -> None:
    monkeypatch.setattr(daemon_apply, "FIRST_POLL", 0.05)
    monkeypatch.setattr(daemon_apply, "POLL_INTERVAL", 0.5)
    pauses = daemon_apply.pauses()
    assert [next(pauses) for dummy in range(7)] == [0.05, 0.1, 0.2, 0.4, 0.5, 0.5, 0.5]


def test_wait_for_sleeps_the_back_off_between_polls(monkeypatch) -> None:
    """The live daemon is polled at once, then after 0.05, 0.1, 0.2 ... s (not a fixed second)."""
    slept: list[float] = []
    answers = iter([False, False, False, True])

    class Polled:
        def info(self, seconds):
            return next(answers)

    monkeypatch.setattr(daemon_apply, "FIRST_POLL", 0.05)
    monkeypatch.setattr(daemon_apply, "POLL_INTERVAL", 0.5)  # the module's own values (a fixture shortens them)
    monkeypatch.setattr(daemon_apply.time, "sleep", slept.append)
    result = daemon_apply.wait_for(Polled(), 30, lambda answered: answered)
    assert result is True
    assert slept == [0.05, 0.1, 0.2]


def test_empty_journal(host) -> None:
    host.write(host.path, TAKEN)
    host.set(answers=False)
    host.remove_command("journalctl")
    result = run(host, action="reload")
    assert result["failed"] and "(nothing from dockerd in the journal)" in result["msg"] and result["journal"] == []


def test_without_systemd(host) -> None:
    host.no_systemd()
    host.write(host.path, REFUSED)
    result = run(host, action="reload", rollback_file=previous_copy(host))
    assert result["failed"] and result["journal"] == [] and result["docker_running"] is True
    assert service_calls(host) == ["service docker reload", "service docker reload"]
    assert host.calls("journalctl") == []


@pytest.mark.parametrize("command, manager", [("systemctl", "systemd"), ("service", "service")])
def test_no_service_command(host, command: str, manager: str) -> None:
    if manager == "service":
        host.no_systemd()
    host.remove_command(command)
    host.write(host.path, TAKEN)
    result = run(host, action="reload")
    assert result["failed"] and "no %s command on this host" % command in result["msg"]


def test_no_docker_command(host) -> None:
    host.remove_command("docker")
    host.write(host.path, TAKEN)
    result = run(host, action="reload")
    assert result["failed"] and "not answering after the reload (no docker command on this host)" in result["msg"]


def test_restore_failure_is_reported_and_docker_still_brought_back(host, monkeypatch) -> None:
    host.write(host.path, REFUSED)

    def refuse(module, src, dest, unsafe_writes=False, keep_dest_attrs=True):
        raise Exception("Could not replace %r with %r." % (dest, src))

    monkeypatch.setattr(basic.AnsibleModule, "atomic_move", refuse)
    result = run(host, action="reload", rollback_file=previous_copy(host))
    assert result["failed"] and "the previous daemon.json could NOT be restored from" in result["msg"]
    assert service_calls(host)[-1] == "systemctl reload docker"


def test_created_file_removal_failure(host, monkeypatch) -> None:
    host.write(host.path, REFUSED)

    def refuse(path):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(daemon_apply.os, "unlink", refuse)
    result = run(host, action="reload", created=True)
    assert result["failed"] and "created could NOT be removed (Permission denied)" in result["msg"]


def test_os_error_is_one_sentence(host, monkeypatch) -> None:
    host.write(host.path, TAKEN)
    rollback_file = previous_copy(host)

    def refuse(path):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(daemon_apply.os, "unlink", refuse)
    result = run(host, action="reload", rollback_file=rollback_file)
    assert result["failed"] and result["msg"].startswith(host.path + ": [Errno 13] Permission denied")
    assert json.dumps(result)


def test_non_root_signals_nothing(host, monkeypatch) -> None:
    host.write(host.path, TAKEN)
    monkeypatch.setattr(_errors.os, "geteuid", lambda: 65534)
    monkeypatch.setattr(_errors, "current_user", lambda: "deploy")
    result = run(host, action="reload")
    assert result["failed"] and result["msg"] == "needs root on this host (running as deploy): run with become: true (or -b)"
    assert result["rolled_back"] is False and host.calls() == []


def test_relative_path_is_refused_before_signalling(host) -> None:
    result = run(host, action="reload", path="docker/daemon.json", created=True)
    assert result["failed"] and result["rolled_back"] is False and host.calls() == []
    assert result["msg"] == "docker/daemon.json: path must be absolute, starting with / (for example " \
                            "/etc/docker/daemon.json); nothing was signalled"


def test_created_removes_only_a_daemon_json(host) -> None:
    """A mistaken created: true on another file (here not JSON) must not delete it."""
    host.write(host.path, b"root:x:0:0:root:/root:/bin/bash\n")
    host.set(active=False)
    result = run(host, action="restart", created=True)
    assert result["failed"] and result["rolled_back"] is False
    assert "is not a daemon.json dockerd reads" in result["msg"] and "not removed" in result["msg"]
    assert host.read(host.path) == b"root:x:0:0:root:/root:/bin/bash\n"


def test_success_removes_only_daemon_json_s_own_copy(host) -> None:
    host.write(host.path, TAKEN)
    mine = other_name(host)
    result = run(host, action="reload", rollback_file=mine)
    assert result["changed"] and not result["failed"] and os.path.exists(mine)


def test_rejected_reload_with_the_mirrors_already_live_is_a_failure(host) -> None:
    """dockerd keeps its mirrors when it rejects a reload: if they already equal the wanted ones, only its
    own verdict in the journal tells; the file it refused would stop Docker at the next restart."""
    host.set(mirrors=[MIRROR])
    host.write(host.path, REFUSED)
    result = run(host, action="reload", rollback_file=previous_copy(host))
    assert result["failed"] and result["rolled_back"] is True, result
    assert "dockerd rejected the new file on reload (it keeps" in result["msg"] and "refuse-me" in result["msg"]
    assert host.read(host.path) == PREVIOUS


def test_reload_taken_with_the_mirrors_already_live(host) -> None:
    host.set(mirrors=[MIRROR], journal=['level=error msg="unable to configure the Docker daemon with file x: old"'])
    host.write(host.path, TAKEN)
    result = run(host, action="reload", rollback_file=previous_copy(host))
    assert result["changed"] and not result["failed"], result
