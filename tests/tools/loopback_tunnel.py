# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A TCP port on one loopback that leads to another loopback, through a command's stdin and stdout.

Test hosts run with ``--network none``: a client host cannot reach a cache on another host, and nothing may
send traffic to any address but a loopback. Run inside the client's network namespace on the controller, this
listens on the client's 127.0.0.1:PORT and, for each connection, starts COMMAND (typically
``docker exec -i CACHE socat - TCP:127.0.0.1:PORT``) and pipes the connection's bytes through it, both ways:
every hop stays on a loopback or the Docker socket. Standard library only (the controller has no socat).

    nsenter -t CLIENT_PID -n python3 loopback_tunnel.py start --listen 127.0.0.1:5443 --pidfile F [--log L] -- COMMAND...
    python3 loopback_tunnel.py run --listen 127.0.0.1:5443 -- COMMAND...      (in the foreground)
    python3 loopback_tunnel.py stop --pidfile F                               (idempotent)

``start`` returns once the port listens; the tunnel runs in its own session, its pid in the pid file; ``stop``
ends its process group (the tunnel and the commands of open connections).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
import time

CHUNK = 65536
STOP_WAIT = 5.0
TOOL_NAME = "loopback_tunnel"


def parse_listen(value: str) -> tuple[str, int]:
    """HOST:PORT on a loopback address only (the network rule: nothing listens anywhere else)."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    try:
        if not sep or not ipaddress.ip_address(host).is_loopback:
            raise ValueError(value)
        return host, int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--listen {value!r}: give LOOPBACK-ADDRESS:PORT, e.g. 127.0.0.1:5443")


def open_listener(address: tuple[str, int]) -> socket.socket:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(address)
    listener.listen(64)
    return listener


def copy_to_command(conn: socket.socket, stdin) -> None:
    """Connection -> command; the client's end of input closes the command's stdin (a half-close)."""
    try:
        while True:
            data = conn.recv(CHUNK)
            if not data:
                break
            stdin.write(data)
            stdin.flush()
    except OSError:
        pass
    finally:
        try:
            stdin.close()
        except OSError:
            pass


def copy_to_client(stdout, conn: socket.socket) -> None:
    """Command -> connection, until the command closes its output."""
    try:
        while True:
            data = stdout.read1(CHUNK)
            if not data:
                break
            conn.sendall(data)
    except OSError:
        pass


def relay(conn: socket.socket, command: list[str]) -> None:
    """One connection through one run of the command; ends when the command closes its output."""
    with conn:
        try:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        except OSError as exc:
            print(f"{TOOL_NAME}: cannot run {command[0]}: {exc}", file=sys.stderr, flush=True)
            return
        upstream = threading.Thread(target=copy_to_command, args=(conn, process.stdin), daemon=True)
        upstream.start()
        copy_to_client(process.stdout, conn)
        try:
            conn.shutdown(socket.SHUT_RDWR)  # also wakes the reader still waiting on the client
        except OSError:
            pass
        upstream.join(STOP_WAIT)
        finish(process)


def finish(process: subprocess.Popen) -> None:
    process.stdout.close()
    try:
        process.wait(STOP_WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve(listener: socket.socket, command: list[str]) -> None:
    while True:
        conn, _peer = listener.accept()
        threading.Thread(target=relay, args=(conn, command), daemon=True).start()


def daemonize(pidfile: str, log: str) -> bool:
    """Fork into a new session; the original process returns False once the pid file is written, the daemon
    True (stop ends the daemon's process group, which holds the commands of its connections too)."""
    first = os.fork()
    if first:
        _pid, status = os.waitpid(first, 0)
        if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
            raise SystemExit(f"{TOOL_NAME}: the tunnel did not start (status {status})")
        return False
    os.setsid()
    second = os.fork()
    if second:
        with open(pidfile + ".tmp", "w", encoding="ascii") as handle:
            handle.write(f"{second}\n")
        os.replace(pidfile + ".tmp", pidfile)
        os._exit(0)
    redirect_output(log)
    return True


def redirect_output(log: str) -> None:
    with open(os.devnull, "rb") as null:
        os.dup2(null.fileno(), 0)
    with open(log, "ab") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)


def is_tunnel(pid: int) -> bool:
    """The pid is still ours (not a reused pid): its command line names this tool."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return TOOL_NAME.encode() in handle.read()
    except OSError:
        return False


def stop(pidfile: str) -> str:
    try:
        with open(pidfile, encoding="ascii") as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        return f"no tunnel recorded in {pidfile}"
    message = f"tunnel {pid} was not running"
    if is_tunnel(pid):
        os.killpg(os.getpgid(pid), signal.SIGTERM)  # its session's group: the commands of open connections too
        deadline = time.monotonic() + STOP_WAIT
        while is_tunnel(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        message = f"stopped tunnel {pid}"
    os.remove(pidfile)
    return message


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=TOOL_NAME, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="action", required=True)
    for name in ("start", "run"):
        sub = commands.add_parser(name)
        sub.add_argument("--listen", type=parse_listen, required=True, help="LOOPBACK-ADDRESS:PORT")
        sub.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARG...]")
        if name == "start":
            sub.add_argument("--pidfile", required=True)
            sub.add_argument("--log", default=os.devnull)
    commands.add_parser("stop").add_argument("--pidfile", required=True)
    args = parser.parse_args(argv)
    if args.action != "stop":
        args.command = args.command[1:] if args.command[:1] == ["--"] else args.command
        if not args.command:
            parser.error("give the command after --, e.g. -- docker exec -i CACHE socat - TCP:127.0.0.1:5443")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.action == "stop":
        print(stop(args.pidfile))
        return 0
    listener = open_listener(args.listen)  # bound before start returns: the port is ready
    if args.action == "start" and not daemonize(args.pidfile, args.log):
        print(f"tunnel listening on {args.listen[0]}:{args.listen[1]}, pid file {args.pidfile}")
        return 0
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    serve(listener, args.command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
