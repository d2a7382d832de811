# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_daemon: docker info, versions, the host's own dockerd, flags given to it, the journal filter (as tables)."""

from __future__ import annotations

import errno
import json
import os
import socket
import tempfile
import threading
import time
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _errors
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _daemon as daemon
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _process
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._process import DOCKERD_CONFIG_FILE, flag_value

INFO = json.dumps({"ServerVersion": "26.1.5", "RegistryConfig": {"Mirrors": ["https://mirror.gcr.io/"]}})
DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
BINS = {"docker": "/usr/bin/docker", "dockerd": "/usr/sbin/dockerd", "systemctl": "/bin/systemctl", "timeout": None}


class FakeRun:
    """run_command stand-in: answers by the first words of argv, records every call."""

    def __init__(self, answers: dict[str, tuple[int, str, str]] | None = None,
                 default: tuple[int, str, str] = (0, "", "")) -> None:
        self.answers = answers or {}
        self.default = default
        self.calls: list[list[str]] = []

    def __call__(self, argv: list[str]) -> tuple[int, str, str]:
        self.calls.append(argv)
        words = " ".join(os.path.basename(argv[0]) if i == 0 else arg for i, arg in enumerate(argv))
        for prefix, answer in self.answers.items():
            if words.startswith(prefix):
                return answer
        return self.default


# --------------------------------------------------------------------------- docker info and versions

DOCKER_INFO_CASES = [
    ("answers", 0, INFO, "", daemon.DockerInfo(True, "26.1.5", ["https://mirror.gcr.io/"], None,
                                               image_store="classic")),
    ("no mirrors", 0, json.dumps({"ServerVersion": "20.10.24", "RegistryConfig": {"Mirrors": None}}), "",
     daemon.DockerInfo(True, "20.10.24", [], None, image_store="classic")),
    ("mirror userinfo masked", 0, json.dumps({"ServerVersion": "1", "RegistryConfig": {"Mirrors": ["https://u:p@h/"]}}),
     "", daemon.DockerInfo(True, "1", ["https://xxxxx@h/"], None, image_store="classic")),
    ("containerd image store", 0, json.dumps({"ServerVersion": "28.5.2", "Driver": "overlayfs", "DriverStatus": [
        ["driver-type", "io.containerd.snapshotter.v1"]]}), "",
     daemon.DockerInfo(True, "28.5.2", [], None, image_store="containerd")),
    ("graph driver status", 0, json.dumps({"ServerVersion": "20.10.24", "Driver": "overlay2", "DriverStatus": [
        ["Backing Filesystem", "extfs"], ["Supports d_type", "true"]]}), "",
     daemon.DockerInfo(True, "20.10.24", [], None, image_store="classic")),
    ("driver status not a list", 0, json.dumps({"ServerVersion": "1", "DriverStatus": {"driver-type": "x"}}), "",
     daemon.DockerInfo(True, "1", [], None, image_store="classic")),
    ("down, exit 0 with a format", 0, json.dumps({"ServerVersion": "", "ServerErrors": [DOWN]}), DOWN,
     daemon.DockerInfo(False, None, None, DOWN)),
    ("down, error only in ServerErrors", 0, json.dumps({"ServerErrors": ["boom"]}), "",
     daemon.DockerInfo(False, None, None, "boom")),
    ("permission denied", 0, json.dumps({"ServerErrors": ["permission denied while trying to connect"]}), "",
     daemon.DockerInfo(False, None, None, "permission denied while trying to connect", True)),
    ("docker 20.10 template error", 1, "", "template: :1:2: executing \"\" at <.ServerVersion>: reflect: "
     "indirection through nil pointer to embedded struct field Info", daemon.DockerInfo(
         False, None, None, "template: :1:2: executing \"\" at <.ServerVersion>: reflect: indirection through nil "
         "pointer to embedded struct field Info", True)),
    ("not json", 0, "garbage", "", daemon.DockerInfo(False, None, None, "docker info reported no server version")),
    ("exit status only", 3, "", "", daemon.DockerInfo(False, None, None, "docker info exited with status 3")),
]


@pytest.mark.parametrize("name, rc, out, err, expected", DOCKER_INFO_CASES, ids=[c[0] for c in DOCKER_INFO_CASES])
def test_parse_docker_info(name, rc, out, err, expected) -> None:
    info = daemon.parse_docker_info(rc, out, err)
    assert info._replace(info=None) == expected and (info.info is None) != info.answered  # the answer kept whole


@pytest.mark.parametrize(("timeout_bin", "seconds", "expected_argv"), [
    (None, 30, ["/usr/bin/docker", "info", "--format", "{{json .}}"]),
    ("/usr/bin/timeout", 30, ["/usr/bin/timeout", "30", "/usr/bin/docker", "info", "--format", "{{json .}}"]),
    ("/usr/bin/timeout", 0.2, ["/usr/bin/timeout", "1", "/usr/bin/docker", "info", "--format", "{{json .}}"]),
])
def test_docker_info_argv(timeout_bin, seconds, expected_argv) -> None:
    run = FakeRun(default=(0, INFO, ""))
    info = daemon.docker_info(run, "/usr/bin/docker", timeout_bin, seconds)
    assert run.calls == [expected_argv] and info.answered


def test_hung_dockerd_counts_as_not_answering() -> None:
    info = daemon.docker_info(FakeRun(default=(124, "", "")), "/usr/bin/docker", "/usr/bin/timeout")
    assert not info.answered and info.error == "docker info did not answer within 30 s (is dockerd hung?)"


def test_no_docker_cli_runs_nothing() -> None:
    run = FakeRun()
    assert daemon.docker_info(run, None, "/usr/bin/timeout").error == "no docker command on this host"
    assert run.calls == []


@pytest.mark.parametrize("text, expected", [
    ("Docker version 20.10.24+dfsg1, build 297e128", "20.10.24+dfsg1"),
    ("Docker version 26.1.5+dfsg1, build 411e817", "26.1.5+dfsg1"),
    ("Docker version 28.0.1, build 068a01e", "28.0.1"),
    ("dockerd version v23.0", "23.0"),
    ("", None),
    ("no version here", None),
])
def test_parse_docker_version(text: str, expected: str | None) -> None:
    assert daemon.parse_docker_version(text) == expected


def test_dockerd_version() -> None:
    assert daemon.dockerd_version(FakeRun(default=(0, "Docker version 24.0.7, build x", "")), "/d") == "24.0.7"
    assert daemon.dockerd_version(FakeRun(default=(1, "", "")), "/d") is None
    assert daemon.dockerd_version(FakeRun(), None) is None


# --------------------------------------------------------------------------- the host's own dockerd


@pytest.fixture
def proc(tmp_path, monkeypatch) -> t.Callable[..., None]:
    monkeypatch.setattr(_process, "PROC_ROOT", str(tmp_path / "proc"))
    monkeypatch.setattr(daemon, "PIDFILE", str(tmp_path / "docker.pid"))
    monkeypatch.setattr(daemon, "SYSTEMD_RUN_DIR", str(tmp_path / "systemd"))

    def add(pid: int, argv: list[str], comm: str = "dockerd") -> None:
        directory = tmp_path / "proc" / str(pid)
        directory.mkdir(parents=True)
        (directory / "comm").write_text(comm + "\n")
        (directory / "cmdline").write_bytes(b"\0".join(arg.encode() for arg in argv) + b"\0")

    add.root = tmp_path  # type: ignore[attr-defined]
    return add


def test_find_daemon_main_pid_first(proc) -> None:
    os.mkdir(proc.root / "systemd")
    proc(10, ["/usr/local/bin/dockerd", "--config-file", "/dind.json"])  # a container's daemon, lower pid
    proc(300, ["/usr/sbin/dockerd", "-H", "fd://"])
    (proc.root / "docker.pid").write_text("10")
    run = FakeRun({"systemctl show": (0, "300\n", "")})
    found = daemon.find_daemon(run, "/bin/systemctl")
    assert found == daemon.DaemonProcess(300, ["/usr/sbin/dockerd", "-H", "fd://"], "docker.service MainPID")
    assert run.calls == [["/bin/systemctl", "show", "-p", "MainPID", "--value", "docker"]]


@pytest.mark.parametrize("systemd, main_pid, pidfile, expected", [
    (True, "0", "300", 300),            # dockerd started by hand on a systemd host
    (False, None, "300", 300),          # no systemd: the pidfile
    (False, None, "301", None),         # stale pidfile, another process
    (False, None, "", None),            # empty pidfile
    (False, None, None, None),          # no pidfile
    (True, "garbage", None, None),
])
def test_find_daemon_cases(proc, systemd, main_pid, pidfile, expected) -> None:
    if systemd:
        os.mkdir(proc.root / "systemd")
    proc(300, ["/usr/sbin/dockerd"])
    proc(301, ["/bin/sleep", "1"], comm="sleep")
    if pidfile is not None:
        (proc.root / "docker.pid").write_text(pidfile)
    found = daemon.find_daemon(FakeRun({"systemctl show": (0, main_pid or "", "")}), "/bin/systemctl")
    assert (found.pid if found else None) == expected


@pytest.mark.parametrize("argv, expected", [
    (["dockerd", "--config-file", "/a.json"], "/a.json"),
    (["dockerd", "--config-file=/b.json", "-D"], "/b.json"),
    (["dockerd", "-H", "fd://"], None),
    (["dockerd", "--config-file"], None),
])
def test_config_file_arg(argv, expected) -> None:
    assert flag_value(argv, DOCKERD_CONFIG_FILE) == expected


@pytest.mark.parametrize("argv, expected", [
    (["dockerd", "-H", "fd://", "--config-file", "/a", "--debug"], ["-H", "fd://", "--debug"]),
    (["dockerd", "--config-file=/a"], []),
    (["dockerd"], []),
])
def test_strip_config_file_args(argv, expected) -> None:
    assert daemon.strip_config_file_args(argv) == expected


def test_dockerd_validate_argv_and_masking() -> None:
    run = FakeRun(default=(1, "", "invalid mirror https://u:pw@h\n"))
    found = daemon.DaemonProcess(1, ["dockerd", "-H", "fd://", "--config-file", "/x"], "pidfile")
    ok, message = daemon.dockerd_validate(run, "/usr/sbin/dockerd", "/tmp/c.json", found)
    assert not ok and message == "invalid mirror https://xxxxx@h"
    assert run.calls == [["/usr/sbin/dockerd", "--validate", "--config-file", "/tmp/c.json", "-H", "fd://"]]


# --------------------------------------------------------------------------- flags given to dockerd

FLAG_CASES = [
    ("--registry-mirror", "--registry-mirror=https://a", True),
    ("--registry-mirror", 'DOCKER_OPTS="--registry-mirror https://a"', True),
    ("--registry-mirror", "--registry-mirrors=https://a", False),
    ("--registry-mirror", "--no-registry-mirror", False),
    ("-H", "dockerd -H fd://", True),
    ("-H", "dockerd -Hfd://", True),
    ("-H", "dockerd --Host x", False),
    ("-H", "dockerd --host x", False),
    ("--host", "dockerd --host=x", True),
    ("--host", "dockerd --hosts x", False),
]


@pytest.mark.parametrize("flag, text, hit", FLAG_CASES)
def test_flag_pattern(flag: str, text: str, hit: bool) -> None:
    assert bool(daemon.flag_pattern(flag).search(text)) is hit


def test_logical_lines_join_continuations_and_skip_comments() -> None:
    text = "# c\n\nA=1 \\\n  --x \\\n  y\n; semi\nB=2\n"
    assert daemon.logical_lines(text, "#;") == [(3, "A=1 --x y"), (7, "B=2")]


def test_flags_in_units_follow_exec_start_reset() -> None:
    units = [("/unit", "[Service]\nExecStart=/usr/sbin/dockerd -H fd:// --registry-mirror x\n"
                       "Environment=DOCKER_OPTS=--insecure-registry=y\n"),
             ("/dropin.conf", "[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd -H unix://\n")]
    hits = daemon.flags_in_units(units, ("--registry-mirror", "-H", "--insecure-registry"))
    assert [(hit.source, hit.line, hit.flag) for hit in hits] == [
        ("/dropin.conf", 3, "-H"), ("/unit", 3, "--insecure-registry")]


def test_environment_files() -> None:
    units = [("/unit", "[Service]\nEnvironmentFile=-/etc/default/docker /etc/extra\n# EnvironmentFile=/no\n"),
             ("/d.conf", "EnvironmentFile=/etc/more\n")]
    assert daemon.environment_files(units) == ["/etc/default/docker", "/etc/extra", "/etc/more"]


def test_flags_in_argv_and_describe_masks() -> None:
    hits = daemon.flags_in_argv(["dockerd", "--registry-mirror=https://u:pw@h", "-H", "fd://"], "pid 1",
                                ("--registry-mirror", "-H", "--host"))
    assert [hit.flag for hit in hits] == ["--registry-mirror", "-H"]
    assert "pw" not in hits[0].describe() and hits[0].describe().startswith("pid 1 (dockerd --registry-mirror")


@pytest.mark.parametrize("systemd", [True, False], ids=["systemd", "no systemd: units never start dockerd"])
def test_find_flag_conflicts_reads_every_source(tmp_path, monkeypatch, systemd: bool) -> None:
    monkeypatch.setattr(daemon, "SYSTEMD_RUN_DIR", str(tmp_path if systemd else tmp_path / "absent"))
    unit, dropins, env, named = tmp_path / "docker.service", tmp_path / "d", tmp_path / "default", tmp_path / "named"
    dropins.mkdir()
    unit.write_text("[Service]\nEnvironmentFile=-%s\nExecStart=/usr/sbin/dockerd $DOCKER_OPTS\n" % named)
    (dropins / "x.conf").write_text("[Service]\nEnvironment=OPTS=--registry-mirror=a\n")
    env.write_text("DOCKER_OPTS=--registry-mirror=b\n")
    named.write_text("DOCKER_OPTS='--dns 1.1.1.1 --registry-mirror c'\n")
    monkeypatch.setattr(daemon, "UNIT_FILES", (str(unit),))
    monkeypatch.setattr(daemon, "DROPIN_DIRS", (str(dropins),))
    monkeypatch.setattr(daemon, "ENV_FILES", (str(env), str(named), str(tmp_path / "missing")))
    running = daemon.DaemonProcess(7, ["dockerd", "--registry-mirror", "d"], "pidfile")
    hits = daemon.find_flag_conflicts(["registry-mirrors", "debug"], running)
    assert [hit.source for hit in hits] == [
        "the host's dockerd command line (pid 7)"] + [str(dropins / "x.conf")] * systemd + [str(env), str(named)]
    assert daemon.find_flag_conflicts([], running) == []


# --------------------------------------------------------------------------- signalling and the journal

SERVICE_COMMANDS = [
    ("systemd", {"systemctl": "/bin/systemctl"}, "reload", ["/bin/systemctl", "reload", "docker"]),
    ("systemd", {"systemctl": "/bin/systemctl"}, "reset-failed", ["/bin/systemctl", "reset-failed", "docker"]),
    ("systemd", {}, "reload", None),
    ("service", {"service": "/sbin/service"}, "restart", ["/sbin/service", "docker", "restart"]),
    ("service", {"service": "/sbin/service"}, "reset-failed", None),
    ("service", {}, "restart", None),
]


@pytest.mark.parametrize("manager, bins, action, expected", SERVICE_COMMANDS)
def test_service_command(manager, bins, action, expected) -> None:
    assert daemon.service_command(manager, bins, "docker", action) == expected


JOURNAL_CASES = [
    ("dockerd's error kept, chatter and systemd lines dropped", [
        "Starting Docker Application Container Engine...",
        'time="x" level=info msg="Starting up"',
        'time="x" level=warning msg="Your kernel does not support cgroup blkio weight"',
        "unable to configure the Docker daemon with file /etc/docker/daemon.json: bad",
        "docker.service: Main process exited, code=exited, status=1/FAILURE",
        "Failed to start Docker Application Container Engine.",
    ], ["unable to configure the Docker daemon with file /etc/docker/daemon.json: bad"]),
    ("only the last three", ["e1", "e2", "e3", "e4"], ["e2", "e3", "e4"]),
    ("only systemd lines: those rather than nothing", [
        "Reloading Docker Application Container Engine.", "Reloaded Docker Application Container Engine."],
     ["Reloading Docker Application Container Engine.", "Reloaded Docker Application Container Engine."]),
    ("only chatter", ['level=info msg="a"', 'level=debug msg="b"', ""], []),
    ("secrets masked", ['level=error msg="mirror https://u:pw@h refused"'], ['level=error msg="mirror https://xxxxx@h refused"']),
]


@pytest.mark.parametrize("name, lines, expected", JOURNAL_CASES, ids=[c[0] for c in JOURNAL_CASES])
def test_dockerd_error_lines(name, lines, expected) -> None:
    assert daemon.dockerd_error_lines(lines) == expected


# --------------------------------------------------------------------------- state, root, the file dockerd reads


def test_probe_never_asks_a_stopped_service(proc, api) -> None:
    os.mkdir(proc.root / "systemd")
    run = FakeRun({"systemctl show": (0, "MainPID=0\nActiveState=inactive\n", ""),
                   "dockerd --version": (0, "Docker version 20.10.24+dfsg1, build x", "")})
    status = daemon.probe(run, BINS)
    assert status.state == "stopped" and status.version == "20.10.24+dfsg1"
    assert status.error == "Docker is stopped (docker.service is not active)"
    assert not [argv for argv in run.calls if os.path.basename(argv[0]) == "docker"] and api.requests == []


@pytest.mark.parametrize("word, asked", [("active", True), ("reloading", True), ("activating", True),
                                         ("inactive", False), ("failed", False), ("deactivating", False)])
def test_service_active_states(word: str, asked: bool) -> None:
    assert daemon.service_active(FakeRun(default=(0, word + "\n", "")), "/bin/systemctl", "docker") is asked


def test_needs_root_message(monkeypatch) -> None:
    monkeypatch.setattr(_errors.os, "geteuid", lambda: 0)
    assert _errors.NeedsRoot().message == "needs root on this host (running as root): run with become: true (or -b)"
    monkeypatch.setattr(_errors.os, "geteuid", lambda: 987654)
    assert _errors.current_user() == "uid 987654"


def test_daemon_reads_elsewhere_is_none_for_the_usual_host(proc) -> None:
    found = daemon.DaemonProcess(1, ["/usr/sbin/dockerd", "-H", "fd://"], "pidfile")
    assert daemon.daemon_reads_elsewhere("/etc/docker/daemon.json", found) is None


def test_rootless_daemon_by_its_command_line(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    found = daemon.DaemonProcess(1, ["/usr/bin/dockerd-rootless.sh"], "pidfile")
    message = daemon.daemon_reads_elsewhere("/etc/docker/daemon.json", found)
    assert message == ("Docker here is rootless, its dockerd reads %s/docker/daemon.json, not this file: point path "
                       "at %s/docker/daemon.json" % (tmp_path, tmp_path))


# --------------------------------------------------------------------------- the Docker API on its unix socket


class FakeApi:
    """_daemon.unix_http_get stand-in: answers (status, body), or raises ``error``; records every request."""

    def __init__(self) -> None:
        self.answer: tuple[int, bytes] = (200, INFO.encode())
        self.error: Exception | None = None
        self.requests: list[tuple[str, str, float]] = []

    def __call__(self, socket_path: str, path: str, seconds: float) -> tuple[int, bytes]:
        self.requests.append((socket_path, path, seconds))
        if self.error is not None:
            raise self.error
        return self.answer


@pytest.fixture
def api(monkeypatch, tmp_path) -> FakeApi:
    """No test reaches the machine's own dockerd: the socket is faked, DOCKER_* come from the test."""
    fake = FakeApi()
    monkeypatch.setattr(daemon, "unix_http_get", fake)
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    return fake


@pytest.fixture
def server() -> t.Iterator[t.Callable[..., str]]:
    """A real unix socket in a short directory; ``server(handler)`` serves one connection with ``handler(conn,
    request)`` in a thread and returns the socket's path."""
    directory = tempfile.mkdtemp(prefix="api-")
    path = os.path.join(directory, "d.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    done = threading.Event()

    def start(handler: t.Callable[[socket.socket, bytes], None]) -> str:
        def serve() -> None:
            conn, dummy = listener.accept()
            with conn:
                handler(conn, conn.recv(65536))
                done.wait(5)

        threading.Thread(target=serve, daemon=True).start()
        return path

    yield start
    done.set()
    listener.close()
    os.unlink(path)
    os.rmdir(directory)


def test_unix_http_get_asks_http_1_0_and_reads_to_the_end(server) -> None:
    requests = []

    def answer(conn, request) -> None:
        requests.append(request)
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + INFO[:10].encode())
        conn.sendall(INFO[10:].encode())
        conn.shutdown(socket.SHUT_WR)

    assert daemon.unix_http_get(server(answer), "/info", 5) == (200, INFO.encode())
    assert requests == [b"GET /info HTTP/1.0\r\nHost: docker\r\n\r\n"]


def test_unix_http_get_times_out_on_a_hung_daemon(server) -> None:
    path = server(lambda conn, request: None)  # accepts, never answers
    with pytest.raises(TimeoutError):
        daemon.unix_http_get(path, "/info", 0.2)


def test_unix_http_get_deadline_covers_a_trickling_daemon(server) -> None:
    stop = threading.Event()

    def trickle(conn, request) -> None:
        conn.sendall(b"HTTP/1.0 200 OK\r\n")
        give_up = time.monotonic() + 3  # then close: a client without a deadline fails (not HTTP), never hangs
        while not stop.wait(0.05) and time.monotonic() < give_up:
            conn.sendall(b"X")

    path = server(trickle)
    try:
        with pytest.raises(TimeoutError):
            daemon.unix_http_get(path, "/info", 0.3)
    finally:
        stop.set()


def test_unix_http_get_refuses_an_endless_answer(server, monkeypatch) -> None:
    monkeypatch.setattr(daemon, "API_MAX_BYTES", 100)
    path = server(lambda conn, request: conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 500))
    with pytest.raises(ValueError, match="larger than 100 bytes"):
        daemon.unix_http_get(path, "/info", 5)


def test_unix_http_get_connection_errors(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        daemon.unix_http_get(str(tmp_path / "none.sock"), "/info", 1)
    directory = tempfile.mkdtemp(prefix="api-")
    path = os.path.join(directory, "s")
    bound = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bound.bind(path)  # bound, not listening: what a dead daemon leaves behind
    try:
        with pytest.raises(ConnectionRefusedError):
            daemon.unix_http_get(path, "/info", 1)
    finally:
        bound.close()
        os.unlink(path)
        os.rmdir(directory)


HTTP_CASES = [
    ("ok", b"HTTP/1.0 200 OK\r\nA: b\r\n\r\n{}", (200, b"{}")),
    ("error status", b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}", (404, b"{}")),
    ("empty body", b"HTTP/1.0 204 No Content\r\n\r\n", (204, b"")),
    ("nothing", b"", ValueError),
    ("no end of headers", b"HTTP/1.0 200 OK\r\nA: b", ValueError),
    ("not http", b"SSH-2.0-OpenSSH\r\n\r\n", ValueError),
    ("no status", b"HTTP/1.0\r\n\r\n", ValueError),
    ("cut short", b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\n{}", ValueError),
]


@pytest.mark.parametrize("name, data, expected", HTTP_CASES, ids=[c[0] for c in HTTP_CASES])
def test_parse_http_response(name, data, expected) -> None:
    if expected is ValueError:
        with pytest.raises(ValueError):
            daemon.parse_http_response(data)
    else:
        assert daemon.parse_http_response(data) == expected


SOCK = "/var/run/docker.sock"
API_INFO_CASES = [
    ("answers", (200, INFO.encode()),
     daemon.DockerInfo(True, "26.1.5", ["https://mirror.gcr.io/"], None, image_store="classic")),
    ("no server version", (200, b'{"ServerVersion": ""}'),
     daemon.DockerInfo(False, None, None, "docker info reported no server version")),
    ("not json", (200, b"<html>"), daemon.DockerInfo(False, None, None, "docker info reported no server version")),
    ("error answer", (500, b'{"message": "boom at https://u:p@h/\\nmore"}'),
     daemon.DockerInfo(False, None, None, "Error response from daemon: boom at https://xxxxx@h/")),
    ("error answer without message", (502, b"bad gateway"),
     daemon.DockerInfo(False, None, None, "Error response from daemon: HTTP status 502")),
    ("hung", TimeoutError(errno.ETIMEDOUT, "timed out"),
     daemon.DockerInfo(False, None, None, "docker info did not answer within 30 s (is dockerd hung?)")),
    ("permission denied", PermissionError(errno.EACCES, "Permission denied"), daemon.DockerInfo(
        False, None, None, "permission denied while trying to connect to the Docker daemon socket at unix://" + SOCK,
        True)),
    ("no socket", FileNotFoundError(errno.ENOENT, "No such file or directory"),
     daemon.DockerInfo(False, None, None, "Cannot connect to the Docker daemon at unix://%s. Is the docker daemon "
                       "running?" % SOCK)),
    ("refused", ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
     daemon.DockerInfo(False, None, None, DOWN)),
    ("reset", ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
     daemon.DockerInfo(False, None, None, "error during connect to unix://%s: Connection reset by peer" % SOCK)),
    ("not http", ValueError("the answer is not HTTP"),
     daemon.DockerInfo(False, None, None, "error during connect to unix://%s: the answer is not HTTP" % SOCK)),
]


@pytest.mark.parametrize("name, answer, expected", API_INFO_CASES, ids=[c[0] for c in API_INFO_CASES])
def test_api_info(api, name, answer, expected) -> None:
    if isinstance(answer, Exception):
        api.error = answer
    else:
        api.answer = answer
    assert daemon.api_info(SOCK)._replace(info=None) == expected
    assert api.requests == [(SOCK, "/info", 30)]


@pytest.mark.parametrize("env, config, expected", [
    ({}, None, SOCK),
    ({"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}, None, "/run/user/1000/docker.sock"),
    ({"DOCKER_HOST": "unix://"}, None, None),
    ({"DOCKER_HOST": "tcp://10.0.0.1:2376"}, None, None),
    ({"DOCKER_HOST": "ssh://me@box"}, None, None),
    ({"DOCKER_CONTEXT": "default"}, None, SOCK),
    ({"DOCKER_CONTEXT": "remote"}, None, None),
    ({}, {"currentContext": "remote"}, None),
    ({}, {"currentContext": "default"}, SOCK),
    ({}, {"auths": {}}, SOCK),
    ({}, "not json", SOCK),
    ({}, ["a list"], SOCK),
    ({"DOCKER_HOST": "unix:///x.sock"}, {"currentContext": "remote"}, "/x.sock"),  # DOCKER_HOST wins, as in the CLI
])
def test_docker_socket(api, monkeypatch, tmp_path, env, config, expected) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if config is not None:
        (tmp_path / "docker-config").mkdir()
        (tmp_path / "docker-config" / "config.json").write_text(config if isinstance(config, str)
                                                                else json.dumps(config))
    assert daemon.docker_socket() == expected


def test_cli_context_default_directory(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text('{"currentContext": "box"}')
    assert daemon.cli_context() == "box"


def test_live_info_asks_the_api_without_a_process(api) -> None:
    run = FakeRun()
    assert daemon.live_info(run, BINS).answered and run.calls == [] and api.requests == [(SOCK, "/info", 30)]


def test_live_info_uses_the_cli_for_another_docker_host(api, monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.0.0.1:2376")
    run = FakeRun(default=(0, INFO, ""))
    info = daemon.live_info(run, dict(BINS, timeout="/usr/bin/timeout"), 7)
    assert info.answered and api.requests == []
    assert run.calls == [["/usr/bin/timeout", "7", "/usr/bin/docker", "info", "--format", "{{json .}}"]]


def test_live_info_without_a_docker_command(api) -> None:
    run = FakeRun()
    info = daemon.live_info(run, dict(BINS, docker=None))
    assert info.error == "no docker command on this host" and run.calls == [] and api.requests == []


# --------------------------------------------------------------------------- the unit, and when dockerd may be asked


@pytest.mark.parametrize("answer, expected", [
    ((0, "MainPID=300\nActiveState=active\n", ""), daemon.UnitState(300, "active")),
    ((0, "ActiveState=deactivating\nMainPID=300\n", ""), daemon.UnitState(300, "deactivating")),
    ((0, "MainPID=0\nActiveState=inactive\n", ""), daemon.UnitState(0, "inactive")),
    ((0, "MainPID=\nActiveState=failed\n", ""), daemon.UnitState(0, "failed")),
    ((0, "MainPID=garbage\nActiveState=active\n", ""), daemon.UnitState(0, "active")),
    ((1, "", "Failed to connect to bus"), daemon.UnitState(0, "")),
])
def test_unit_state(answer, expected) -> None:
    run = FakeRun(default=answer)
    assert daemon.unit_state(run, "/bin/systemctl", "docker") == expected
    assert run.calls == [["/bin/systemctl", "show", "-p", "MainPID", "-p", "ActiveState", "docker.service"]]


def test_unit_state_without_systemctl() -> None:
    run = FakeRun()
    assert daemon.unit_state(run, None, "docker") == daemon.UnitState(0, "") and run.calls == []


UNIT_DOCKERD = daemon.DaemonProcess(300, ["/usr/sbin/dockerd"], "docker.service MainPID")
HAND_DOCKERD = daemon.DaemonProcess(77, ["/usr/sbin/dockerd"], "/var/run/docker.pid")


@pytest.mark.parametrize("unit, found, expected", [
    (None, HAND_DOCKERD, True),                                   # no systemd: a live pidfile
    (None, None, False),
    (daemon.UnitState(300, "active"), UNIT_DOCKERD, True),
    (daemon.UnitState(300, "reloading"), UNIT_DOCKERD, True),
    (daemon.UnitState(300, "deactivating"), UNIT_DOCKERD, False),   # stopping: a connection would queue a start
    (daemon.UnitState(0, "activating"), None, True),                # starting, no MainPID yet
    (daemon.UnitState(0, "inactive"), None, False),
    (daemon.UnitState(0, "failed"), None, False),
    (daemon.UnitState(0, "inactive"), HAND_DOCKERD, True),          # started by hand on a systemd host
    (daemon.UnitState(0, ""), None, False),                         # no systemctl
])
def test_may_ask(unit, found, expected) -> None:
    assert daemon.may_ask(unit, found) is expected


def test_probe_running_asks_once_without_docker_cli(proc, api) -> None:
    os.mkdir(proc.root / "systemd")
    proc(300, ["/usr/sbin/dockerd", "-H", "fd://"])
    run = FakeRun({"systemctl show": (0, "MainPID=300\nActiveState=active\n", "")})
    status = daemon.probe(run, BINS)
    assert status._replace(info=None) == daemon.DaemonStatus(
        "running", "26.1.5", ["https://mirror.gcr.io/"], None,
        UNIT_DOCKERD._replace(argv=["/usr/sbin/dockerd", "-H", "fd://"]), image_store="classic")
    assert status.info["ServerVersion"] == "26.1.5"
    assert [os.path.basename(argv[0]) for argv in run.calls] == ["systemctl"] and len(api.requests) == 1


def test_probe_stopping_service_is_not_asked(proc, api) -> None:
    os.mkdir(proc.root / "systemd")
    proc(300, ["/usr/sbin/dockerd"])
    run = FakeRun({"systemctl show": (0, "MainPID=300\nActiveState=deactivating\n", ""),
                   "dockerd --version": (0, "Docker version 26.1.5, build x", "")})
    status = daemon.probe(run, BINS)
    assert status.state == "stopped" and status.daemon.pid == 300 and api.requests == []


def test_probe_without_systemd_asks_the_pidfile_daemon(proc, api) -> None:
    proc(300, ["/usr/sbin/dockerd"])
    (proc.root / "docker.pid").write_text("300\n")
    run = FakeRun()
    status = daemon.probe(run, BINS)
    assert status.state == "running" and status.daemon.source == str(proc.root / "docker.pid") and run.calls == []


def test_probe_not_answering_reads_dockerd_version(proc, api) -> None:
    os.mkdir(proc.root / "systemd")
    api.error = PermissionError(errno.EACCES, "Permission denied")
    run = FakeRun({"systemctl show": (0, "MainPID=0\nActiveState=activating\n", ""),
                   "dockerd --version": (0, "Docker version 26.1.5, build x", "")})
    status = daemon.probe(run, BINS)
    assert status.state == "not-answering" and status.version == "26.1.5" and status.denied
    assert status.error.startswith("dockerd is not answering: permission denied while trying to connect")


@pytest.mark.parametrize("info, store", [
    ({"Driver": "overlayfs", "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]]}, "containerd"),
    ({"Driver": "overlay2", "DriverStatus": [["Backing Filesystem", "extfs"]]}, "classic"),
    ({"Driver": "io.containerd.snapshotter.v1"}, "containerd"),
    ({"DriverStatus": [["Backing Filesystem", "io.containerd.snapshotter.v1"]]}, "classic"),  # not its type
    ({}, "classic"),
    (None, "classic"),
])
def test_live_image_store(info: t.Any, store: str) -> None:
    assert daemon.live_image_store(info) == store
