# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/tools/loopback_tunnel.py: bytes piped both ways through the command, byte for byte, half-closes,
concurrent connections, a failing command, and start/stop of the background tunnel. A local echo server
stands in for the cache and a small Python client for `docker exec -i CACHE socat - TCP:...` (no docker)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "loopback_tunnel.py")
_spec = importlib.util.spec_from_file_location("loopback_tunnel", TOOL)
loopback_tunnel = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(loopback_tunnel)

# What socat - TCP:127.0.0.1:PORT does: stdin to the port, the port to stdout, half-closes passed on.
PIPE_TO_PORT = """
import socket, sys, threading
conn = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def up():
    while True:
        data = sys.stdin.buffer.read1(65536)
        if not data:
            break
        conn.sendall(data)
    conn.shutdown(socket.SHUT_WR)
threading.Thread(target=up, daemon=True).start()
while True:
    data = conn.recv(65536)
    if not data:
        break
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
"""


@pytest.fixture
def echo_port():
    """A local echo server: every byte back, then the end of its output after the client's."""
    server = socket.create_server(("127.0.0.1", 0))

    def echo(conn: socket.socket) -> None:
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)

    def accept() -> None:
        while True:
            try:
                conn = server.accept()[0]
            except OSError:
                return
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


def tunnel(command: list[str]) -> int:
    """A tunnel serving in a thread of this process; returns its port."""
    listener = loopback_tunnel.open_listener(("127.0.0.1", 0))
    threading.Thread(target=loopback_tunnel.serve, args=(listener, command), daemon=True).start()
    return listener.getsockname()[1]


def to_echo(port: int) -> list[str]:
    return [sys.executable, "-c", PIPE_TO_PORT, str(port)]


def exchange(port: int, payload: bytes) -> bytes:
    """Send the payload, half-close, read until the tunnel ends the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        sender = threading.Thread(target=send_all, args=(conn, payload))
        sender.start()
        received = bytearray()
        while True:
            data = conn.recv(65536)
            if not data:
                break
            received += data
        sender.join()
    return bytes(received)


def send_all(conn: socket.socket, payload: bytes) -> None:
    try:
        conn.sendall(payload)
        conn.shutdown(socket.SHUT_WR)
    except OSError:  # the tunnel ended the connection first (a failing command): the reader sees that
        pass


@pytest.mark.parametrize("payload", [
    b"GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1:5443\r\n\r\n",
    bytes(range(256)) * 4,                  # every byte value, NUL and 0xff included
    os.urandom(3 * 1024 * 1024 + 17),       # larger than any buffer on the way
], ids=["http-request", "every-byte-value", "3-MiB-random"])  # fixed ids: pytest-xdist workers collect the same
def test_bytes_come_back_unchanged_through_the_command(echo_port: int, payload: bytes) -> None:
    assert exchange(tunnel(to_echo(echo_port)), payload) == payload


def test_an_empty_connection_ends_cleanly(echo_port: int) -> None:
    assert exchange(tunnel(to_echo(echo_port)), b"") == b""


def test_connections_at_the_same_time_each_get_their_own_bytes(echo_port: int) -> None:
    port = tunnel(to_echo(echo_port))
    payloads = [os.urandom(200_000) + bytes([n]) for n in range(6)]
    results: dict[int, bytes] = {}
    threads = [threading.Thread(target=lambda n=n: results.__setitem__(n, exchange(port, payloads[n])))
               for n in range(len(payloads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [results.get(n) == payloads[n] for n in range(len(payloads))] == [True] * len(payloads)


def test_the_reply_reaches_the_client_before_the_command_sees_its_end_of_input(echo_port: int) -> None:
    """An HTTP client waits for the answer before it closes: bytes flow without waiting for EOF."""
    port = tunnel(to_echo(echo_port))
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        conn.sendall(b"ping")
        assert conn.recv(16) == b"ping"
        conn.sendall(b"pong")
        assert conn.recv(16) == b"pong"


@pytest.mark.parametrize("command", [
    [sys.executable, "-c", "import sys; sys.exit(3)"],   # the command fails at once (docker exec: no such host)
    ["/nonexistent/loopback-tunnel-command"],           # the command cannot run
])
def test_a_failing_command_ends_that_connection_and_the_tunnel_goes_on(echo_port: int, command) -> None:
    port = tunnel(command)
    for _attempt in range(2):
        with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
            try:
                assert conn.recv(16) == b""  # the end of the connection, not a hang
            except ConnectionResetError:
                pass  # the same end, when the tunnel closed before it read what the client sent


@pytest.mark.parametrize("value, expected", [
    ("127.0.0.1:5443", ("127.0.0.1", 5443)),
    ("127.0.0.2:1", ("127.0.0.2", 1)),
    ("[::1]:5443", ("::1", 5443)),
])
def test_listen_takes_a_loopback_address(value: str, expected) -> None:
    assert loopback_tunnel.parse_listen(value) == expected


@pytest.mark.parametrize("value", ["0.0.0.0:5443", "10.0.0.1:5443", ":5443", "5443", "localhost:5443",
                                   "127.0.0.1:port", "[::]:5443"])
def test_listen_refuses_anything_but_a_loopback_address(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="LOOPBACK-ADDRESS:PORT"):
        loopback_tunnel.parse_listen(value)


def test_the_command_is_required() -> None:
    with pytest.raises(SystemExit):
        loopback_tunnel.parse_args(["run", "--listen", "127.0.0.1:5443", "--"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True, timeout=30, check=False)


def test_start_returns_listening_and_stop_ends_the_tunnel(tmp_path, echo_port: int) -> None:
    pidfile, port = str(tmp_path / "tunnel.pid"), free_port()
    started = run_tool("start", "--listen", f"127.0.0.1:{port}", "--pidfile", pidfile,
                       "--log", str(tmp_path / "tunnel.log"), "--", *to_echo(echo_port))
    assert started.returncode == 0, started.stderr
    pid = int(open(pidfile, encoding="ascii").read())
    try:
        assert exchange(port, b"through the background tunnel") == b"through the background tunnel"
        stopped = run_tool("stop", "--pidfile", pidfile)
        assert stopped.stdout.strip() == f"stopped tunnel {pid}", stopped.stderr
        assert not os.path.exists(pidfile)
        assert not loopback_tunnel.is_tunnel(pid)
    finally:
        if loopback_tunnel.is_tunnel(pid):  # never leave a daemon behind when the test fails
            os.kill(pid, signal.SIGKILL)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    again = run_tool("stop", "--pidfile", pidfile)
    assert (again.returncode, again.stdout.strip()) == (0, f"no tunnel recorded in {pidfile}")


def test_stop_never_signals_a_process_that_is_not_the_tunnel(tmp_path) -> None:
    """A pid file left behind whose pid now belongs to another process: forgotten, the process left alone."""
    other = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        pidfile = tmp_path / "tunnel.pid"
        pidfile.write_text(f"{other.pid}\n", encoding="ascii")
        stopped = run_tool("stop", "--pidfile", str(pidfile))
        time.sleep(0.2)
        assert (stopped.returncode, stopped.stdout.strip()) == (0, f"tunnel {other.pid} was not running")
        assert other.poll() is None
        assert not pidfile.exists()
    finally:
        other.kill()
        other.wait()


def test_start_fails_when_the_port_is_taken(tmp_path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        started = run_tool("start", "--listen", f"127.0.0.1:{port}", "--pidfile", str(tmp_path / "p"), "--", "true")
    assert started.returncode != 0
    assert "Address already in use" in started.stderr
    assert not (tmp_path / "p").exists()
