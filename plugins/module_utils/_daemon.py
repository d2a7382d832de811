# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Docker daemon and its host: which dockerd runs (and which file it reads), whether it runs at all,
what it answers, where flags are given to it, and how to signal it.

Commands run through a ``run_command(argv) -> (rc, stdout, stderr)`` callable passed in
(``AnsibleModule.run_command`` in the modules), so tests can substitute one. The host paths below are
module-level so tests can point them at a temporary tree; they are not options.

The live daemon is read from the Docker API on its unix socket (``GET /info``, what ``docker info`` asks),
with the standard library: no docker CLI process per question (a Go binary costing about 40 ms of CPU).
"""

from __future__ import annotations

import errno
import glob
import json
import os
import re
import socket
import time
import typing as t

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _process
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._daemon_options import flags_for_key
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import is_root, mask_url

RunCommand = t.Callable[[t.List[str]], t.Tuple[int, str, str]]

# sd_booted(): systemd is the running service manager when this directory exists.
SYSTEMD_RUN_DIR = "/run/systemd/system"
# dockerd's default --pidfile; without systemd the only trustworthy way to the host's own daemon.
PIDFILE = "/var/run/docker.pid"
# How long ``docker info`` may take before dockerd counts as not answering; coreutils' timeout exits 124 then.
DOCKER_INFO_TIMEOUT = 30
TIMEOUT_EXIT_STATUS = 124
# The socket the docker CLI talks to when neither DOCKER_HOST nor a context says otherwise.
DOCKER_SOCKET = "/var/run/docker.sock"
# The docker CLI's configuration directory (for its current context) when DOCKER_CONFIG is not set.
DOCKER_CONFIG_DIR = "~/.docker"
# /info is a few KiB; an answer this large is not dockerd's.
API_MAX_BYTES = 4 * 1024 * 1024
# Main unit candidates in systemd's order of precedence (first existing wins).
UNIT_FILES = (
    "/etc/systemd/system/docker.service",
    "/run/systemd/system/docker.service",
    "/usr/lib/systemd/system/docker.service",
    "/lib/systemd/system/docker.service",
)
# Drop-in directories, highest precedence first (a same-named file there wins).
DROPIN_DIRS = (
    "/etc/systemd/system/docker.service.d",
    "/run/systemd/system/docker.service.d",
    "/usr/lib/systemd/system/docker.service.d",
    "/lib/systemd/system/docker.service.d",
)
ENV_FILES = ("/etc/default/docker", "/etc/sysconfig/docker")
# The snap's dockerd is started with --config-file $SNAP_DATA/config/daemon.json.
SNAP_MARKERS = ("/snap/bin/dockerd", "/var/snap/docker")
SNAP_CONFIG = "/var/snap/docker/current/config/daemon.json"
# systemctl is-active states in which a dockerd runs (asking it cannot start one).
ACTIVE_STATES = ("active", "reloading", "activating")
# What Docker 20.10's CLI prints for a template over a daemon it could not reach (non-root, no socket access).
NIL_INFO_ERROR = "indirection through nil pointer to embedded struct field Info"


def read_text(path: str) -> str | None:
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def first_line(text: str | None) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


# --------------------------------------------------------------------------- versions


_VERSION_RE = re.compile(r"(?:^|[\s,v])(\d+\.\d+(?:\.\d+)?[0-9A-Za-z.+~-]*)")


def parse_docker_version(text: str | None) -> str | None:
    """Version token of ``dockerd --version`` output, e.g. ``20.10.24+dfsg1``."""
    match = _VERSION_RE.search((text or "").strip())
    return match.group(1).rstrip(",") if match else None


def dockerd_version(run_command: RunCommand, dockerd: str | None) -> str | None:
    """The installed engine's version from ``dockerd --version`` (talks to no daemon)."""
    if not dockerd:
        return None
    rc, out, dummy = run_command([dockerd, "--version"])
    return parse_docker_version(out) if rc == 0 else None


# --------------------------------------------------------------------------- docker info


class DockerInfo(t.NamedTuple):
    """What ``docker info --format '{{json .}}'`` told about the running daemon."""
    answered: bool
    version: str | None
    mirrors: list[str] | None
    error: str | None
    denied: bool = False  # the socket refused this user
    info: dict | None = None  # the whole answer (RegistryConfig, Driver, DriverStatus), when it answered
    image_store: str | None = None  # containerd | classic (None: not answered)


# ``docker info`` DriverStatus with the containerd image store (moby daemon/containerd/service.go LayerStoreStatus).
SNAPSHOTTER_DRIVER_TYPE = "io.containerd.snapshotter.v1"


def live_image_store(info: t.Any) -> str:
    """``containerd`` when the running daemon uses the containerd image store (its DriverStatus ``driver-type``, or
    its Driver, names the snapshotter service), else ``classic``."""
    if not isinstance(info, dict):
        return "classic"
    status = info.get("DriverStatus") if isinstance(info.get("DriverStatus"), list) else []
    words = [info.get("Driver")] + [pair[1] for pair in status
                                    if isinstance(pair, list) and len(pair) == 2 and pair[0] == "driver-type"]
    return "containerd" if any(isinstance(word, str) and word.startswith(SNAPSHOTTER_DRIVER_TYPE)
                               for word in words) else "classic"


def parse_docker_info(rc: int, stdout: str, stderr: str) -> DockerInfo:
    """Interpret ``docker info --format '{{json .}}'``.

    With a format the CLI exits 0 even when dockerd is down: it prints the client part with an
    empty ``ServerVersion`` and the error in ``ServerErrors`` (and on stderr), so the exit status
    alone does not say whether dockerd answered.
    """
    try:
        info = json.loads(stdout) if stdout and stdout.strip() else None
    except ValueError:
        info = None
    info = info if isinstance(info, dict) else {}
    server_errors = [str(error) for error in info.get("ServerErrors") or []]
    version = info.get("ServerVersion")
    if rc != 0 or server_errors or not isinstance(version, str) or not version.strip():
        reason = (first_line(stderr) or first_line(server_errors[0] if server_errors else "")
                  or ("docker info exited with status %d" % rc if rc else "docker info reported no server version"))
        denied = "permission denied" in (stderr + " ".join(server_errors)).lower() or NIL_INFO_ERROR in reason
        return DockerInfo(False, None, None, mask_url(reason), denied)
    registry_config = info.get("RegistryConfig")
    mirrors = registry_config.get("Mirrors") if isinstance(registry_config, dict) else None
    mirrors = mirrors if isinstance(mirrors, list) else []
    return DockerInfo(True, version.strip(), [mask_url(str(mirror)) for mirror in mirrors], None, info=info,
                      image_store=live_image_store(info))


def docker_info(run_command: RunCommand, docker: str | None, timeout_bin: str | None = None,
                seconds: int = DOCKER_INFO_TIMEOUT) -> DockerInfo:
    """Ask the running dockerd through ``docker info``; not answered when there is no docker CLI.

    Callers make sure dockerd runs first: on a systemd host, asking a stopped docker.service through
    docker.socket would start it. With coreutils' ``timeout`` a hung dockerd cannot stall the module.
    """
    if not docker:
        return DockerInfo(False, None, None, "no docker command on this host")
    argv = [docker, "info", "--format", "{{json .}}"]
    if timeout_bin:
        argv = [timeout_bin, str(max(1, int(seconds)))] + argv
    rc, out, err = run_command(argv)
    if timeout_bin and rc == TIMEOUT_EXIT_STATUS:
        return hung_info(seconds)
    return parse_docker_info(rc, out, err)


def hung_info(seconds: float) -> DockerInfo:
    return DockerInfo(False, None, None, "docker info did not answer within %d s (is dockerd hung?)" % seconds)


# --------------------------------------------------------------------------- the Docker API on its unix socket


def cli_context() -> str | None:
    """The docker CLI's current context (``docker context use``), from its config.json; None when unset."""
    directory = os.environ.get("DOCKER_CONFIG") or os.path.expanduser(DOCKER_CONFIG_DIR)
    try:
        config = json.loads(read_text(os.path.join(directory, "config.json")) or "{}")
    except ValueError:
        return None
    context = config.get("currentContext") if isinstance(config, dict) else None
    return context if isinstance(context, str) and context else None


def docker_socket() -> str | None:
    """The unix socket ``docker info`` would ask, or None when DOCKER_HOST or a CLI context points elsewhere
    (a TCP or SSH daemon, another context): then only the docker CLI knows where to go."""
    host = os.environ.get("DOCKER_HOST")
    if host:
        return host[len("unix://"):] if host.startswith("unix://") and len(host) > len("unix://") else None
    context = os.environ.get("DOCKER_CONTEXT") or cli_context()
    return DOCKER_SOCKET if context in (None, "default") else None


def parse_http_response(data: bytes) -> tuple[int, bytes]:
    """(status, body) of an HTTP/1.x answer read to its end; ValueError when it is not one, or truncated."""
    head, separator, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = lines[0].split()
    if not separator or len(status) < 2 or not status[0].startswith(b"HTTP/") or not status[1].isdigit():
        raise ValueError("the answer is not HTTP")
    for line in lines[1:]:
        name, dummy, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit() and len(body) < int(value):
            raise ValueError("the answer was cut short")
    return int(status[1]), body


def unix_http_get(socket_path: str, path: str, seconds: float) -> tuple[int, bytes]:
    """GET ``path`` from the HTTP server on the unix socket ``socket_path``, all within ``seconds``.

    HTTP/1.0, so dockerd answers without chunked encoding and closes the connection at the end; the socket
    timeout is the time left, so a hung or trickling dockerd cannot stall the module. Raises OSError
    (TimeoutError past the deadline) or ValueError (not an HTTP answer)."""
    deadline = time.monotonic() + seconds
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(seconds)
        sock.connect(socket_path)
        sock.sendall(b"GET %s HTTP/1.0\r\nHost: docker\r\n\r\n" % path.encode("ascii"))
        data = bytearray()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(errno.ETIMEDOUT, "timed out")
            sock.settimeout(remaining)
            chunk = sock.recv(65536)
            if not chunk:
                return parse_http_response(bytes(data))
            data += chunk
            if len(data) > API_MAX_BYTES:
                raise ValueError("the answer is larger than %d bytes" % API_MAX_BYTES)


def api_message(body: bytes, status: int) -> str:
    """dockerd's ``{"message": ...}`` of an error answer, else the status."""
    try:
        message = json.loads(body.decode("utf-8", "replace")).get("message")
    except (ValueError, AttributeError):
        message = None
    return first_line(message) if isinstance(message, str) and message.strip() else "HTTP status %d" % status


def api_info(socket_path: str, seconds: float = DOCKER_INFO_TIMEOUT) -> DockerInfo:
    """What ``docker info`` says, from ``GET /info`` on dockerd's unix socket; words as the CLI's."""
    where = "unix://" + socket_path
    try:
        status, body = unix_http_get(socket_path, "/info", seconds)
    except TimeoutError:
        return hung_info(seconds)
    except PermissionError:
        return DockerInfo(False, None, None, "permission denied while trying to connect to the Docker daemon "
                          "socket at %s" % where, True)
    except (FileNotFoundError, ConnectionRefusedError):
        return DockerInfo(False, None, None, "Cannot connect to the Docker daemon at %s. Is the docker daemon "
                          "running?" % where)
    except (OSError, ValueError) as exc:
        cause = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return DockerInfo(False, None, None, "error during connect to %s: %s" % (where, cause))
    if status != 200:
        return DockerInfo(False, None, None, mask_url("Error response from daemon: %s" % api_message(body, status)))
    return parse_docker_info(0, body.decode("utf-8", "replace"), "")


def live_info(run_command: RunCommand, bins: dict[str, str | None],
              seconds: float = DOCKER_INFO_TIMEOUT) -> DockerInfo:
    """``docker info``: from the API socket, or through the CLI when DOCKER_HOST or a context points elsewhere.

    Not answered without a docker command, as before the API was asked directly. Callers make sure dockerd
    runs first (see ``probe``): connecting to docker.socket would start a stopped docker.service."""
    docker = bins.get("docker")
    socket_path = docker_socket() if docker else None
    if socket_path is None:
        return docker_info(run_command, docker, bins.get("timeout"), seconds)
    return api_info(socket_path, seconds)


# --------------------------------------------------------------------------- the host's own dockerd


def service_manager() -> str:
    """``systemd`` when systemd runs the host (as sd_booted()), else ``service``."""
    return "systemd" if os.path.isdir(SYSTEMD_RUN_DIR) else "service"


class DaemonProcess(t.NamedTuple):
    pid: int
    argv: list[str]
    source: str  # how it was found: "docker.service MainPID" or the pidfile


def process_argv(pid: int) -> list[str] | None:
    """The command line of ``pid`` when it is a dockerd process, else None."""
    argv = _process.process_argv(pid)
    comm = read_text(os.path.join(_process.PROC_ROOT, str(pid), "comm"))
    names = {(comm or "").strip()} | {os.path.basename(argv[0])} if argv else set()
    return argv if any(name.startswith("dockerd") for name in names) else None


class UnitState(t.NamedTuple):
    main_pid: int
    active_state: str  # systemd's ActiveState: active, reloading, activating, deactivating, inactive, failed


def unit_state(run_command: RunCommand, systemctl: str | None, service: str) -> UnitState:
    """The service's MainPID and ActiveState in one ``systemctl show``; (0, "") when systemctl cannot tell."""
    if not systemctl:
        return UnitState(0, "")
    rc, out, dummy = run_command([systemctl, "show", "-p", "MainPID", "-p", "ActiveState", service + ".service"])
    values = dict(line.strip().partition("=")[::2] for line in out.splitlines()) if rc == 0 else {}
    try:
        pid = int(values.get("MainPID", "0") or "0")
    except ValueError:
        pid = 0
    return UnitState(pid, values.get("ActiveState", ""))


def main_pid(run_command: RunCommand, systemctl: str | None, service: str) -> int:
    if not systemctl:
        return 0
    rc, out, dummy = run_command([systemctl, "show", "-p", "MainPID", "--value", service])
    try:
        return int(out.strip()) if rc == 0 else 0
    except ValueError:
        return 0


def pidfile_pid() -> int:
    try:
        return int((read_text(PIDFILE) or "").strip())
    except ValueError:
        return 0


def find_daemon(run_command: RunCommand, systemctl: str | None, service: str = "docker") -> DaemonProcess | None:
    """The host's own dockerd: the service's MainPID, else the pid in dockerd's pidfile.

    Never "a process named dockerd": on a host running Docker-in-Docker, kind or CI runners the first
    one may be a container's daemon, with another command line and another configuration file.
    """
    unit_pid = main_pid(run_command, systemctl, service) if service_manager() == "systemd" else None
    return daemon_at(unit_pid, service)


def daemon_at(unit_pid: int | None, service: str = "docker") -> DaemonProcess | None:
    """The dockerd at the unit's MainPID (None without systemd), else the one in dockerd's pidfile."""
    candidates = [] if unit_pid is None else [(unit_pid, "%s.service MainPID" % service)]
    candidates.append((pidfile_pid(), PIDFILE))
    for pid, source in candidates:
        argv = process_argv(pid) if pid > 0 else None
        if argv:
            return DaemonProcess(pid, argv, source)
    return None


def same_file(first: str, second: str) -> bool:
    return os.path.realpath(first) == os.path.realpath(second)


def snap_installed() -> bool:
    return any(os.path.exists(marker) for marker in SNAP_MARKERS)


def rootless_config() -> str:
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return os.path.join(config_home, "docker", "daemon.json")


def is_rootless(daemon: DaemonProcess | None) -> bool:
    """Rootless Docker: started by dockerd-rootless(.sh) through rootlesskit, or a non-root user's own daemon."""
    if daemon is not None and any("rootless" in os.path.basename(arg) for arg in daemon.argv[:2]):
        return True
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR")
    return not is_root() and bool(runtime_dir) and os.path.exists(os.path.join(runtime_dir, "docker.pid"))


_CONFIG_FILE_RE = re.compile(r"(?<![\w-])--config-file(?:=|\s+)([\"']?)([^\s\"']+)\1")


def configured_config_file() -> tuple[str, str] | None:
    """(where, file) of a ``--config-file`` given in the unit, its drop-ins or environment files."""
    units = unit_texts()
    hits = flags_in_units(units, ("--config-file",))
    for path in env_file_sources(units):
        text = read_text(path)
        if text is not None:
            hits.extend(flags_in_env_file(text, path, ("--config-file",)))
    for hit in hits:
        match = _CONFIG_FILE_RE.search(hit.text)
        if match:
            return "%s line %d" % (hit.source, hit.line), match.group(2)
    return None


def daemon_reads_elsewhere(path: str, daemon: DaemonProcess | None) -> str | None:
    """Why dockerd would never read ``path`` (another --config-file, snap, rootless), or None."""
    if daemon is not None:
        config_file = _process.flag_value(daemon.argv, _process.DOCKERD_CONFIG_FILE)
        if config_file and not same_file(config_file, path):
            return ("the host's dockerd (pid %d, %s) reads %s (its --config-file), not this file: "
                    "point path at %s" % (daemon.pid, daemon.source, config_file, config_file))
    else:
        configured = configured_config_file()
        if configured and not same_file(configured[1], path):
            return ("dockerd is started with --config-file %s (%s), so it does not read this file: point path at %s"
                    % (configured[1], configured[0], configured[1]))
    if is_rootless(daemon):
        config = rootless_config()
        if not same_file(config, path):
            return ("Docker here is rootless, its dockerd reads %s, not this file: point path at %s"
                    % (config, config))
    elif snap_installed() and not any(os.path.exists(unit) for unit in UNIT_FILES):
        if not same_file(SNAP_CONFIG, path):
            return ("Docker here is the snap package, its dockerd reads %s, not this file: point path at %s"
                    % (SNAP_CONFIG, SNAP_CONFIG))
    return None


# --------------------------------------------------------------------------- daemon state


class DaemonStatus(t.NamedTuple):
    state: str  # running | stopped | not-answering | not-installed
    version: str | None
    live_mirrors: list[str] | None
    error: str | None
    daemon: DaemonProcess | None
    denied: bool = False
    info: dict | None = None  # docker info's answer when it answered
    image_store: str | None = None  # what the running daemon reports (None: not asked or not answered)


def service_active(run_command: RunCommand, systemctl: str | None, service: str) -> bool:
    if not systemctl:
        return False
    dummy, out, dummy_err = run_command([systemctl, "is-active", service + ".service"])
    return out.strip() in ACTIVE_STATES


def may_ask(unit: UnitState | None, daemon: DaemonProcess | None) -> bool:
    """Whether asking dockerd cannot start a stopped (or stopping) one; ``unit`` is None without systemd.

    On systemd, docker.socket would socket-activate docker.service: ask only while the unit is active,
    reloading or activating (not while it stops: the connection would queue a start after the stop), or when
    a dockerd started outside systemd holds the pidfile. Without systemd, a live pidfile."""
    if unit is None or (daemon is not None and daemon.pid != unit.main_pid):
        return daemon is not None
    return unit.active_state in ACTIVE_STATES


def probe(run_command: RunCommand, bins: dict[str, str | None], service: str = "docker") -> DaemonStatus:
    """The daemon's state, version and live mirrors; ``bins`` maps docker, dockerd, systemctl, timeout to paths.

    One ``systemctl show`` on systemd hosts and one API request: no docker CLI, and no ``dockerd --version``
    when the daemon answered (its ServerVersion is the version)."""
    docker, dockerd, systemctl = bins.get("docker"), bins.get("dockerd"), bins.get("systemctl")
    if not docker and not dockerd:
        return DaemonStatus("not-installed", None, None, "Docker is not installed (no docker command)", None)
    unit = unit_state(run_command, systemctl, service) if service_manager() == "systemd" else None
    daemon = daemon_at(None if unit is None else unit.main_pid, service)
    if not may_ask(unit, daemon):
        return DaemonStatus("stopped", dockerd_version(run_command, dockerd), None,
                            "Docker is stopped (%s)" % ("%s.service is not active" % service
                                                        if unit is not None else "no dockerd running"),
                            daemon)
    info = live_info(run_command, bins)
    if info.answered:
        return DaemonStatus("running", info.version, info.mirrors, None, daemon, info=info.info,
                            image_store=info.image_store)
    return DaemonStatus("not-answering", dockerd_version(run_command, dockerd), None,
                        "dockerd is not answering: %s" % info.error, daemon, info.denied)


# --------------------------------------------------------------------------- flags given to dockerd


class FlagHit(t.NamedTuple):
    source: str
    line: int | None
    text: str
    flag: str

    def describe(self) -> str:
        where = self.source if self.line is None else "%s line %d" % (self.source, self.line)
        return "%s (%s)" % (where, mask_url(self.text.strip()))


def flag_pattern(flag: str) -> re.Pattern[str]:
    """A flag as a word: ``--host`` but not ``--hosts``; a shorthand also glued to its value (``-Hfd://``)."""
    tail = r"(?=[=\s\"']|$)" if flag.startswith("--") else ""
    return re.compile(r"(?<![\w-])%s%s" % (re.escape(flag), tail))


def logical_lines(text: str, comment_chars: str = "#") -> list[tuple[int, str]]:
    """(first line number, text) of each non-comment line, with backslash continuations joined."""
    result: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not pending:
            if not line.strip() or line.lstrip()[:1] in comment_chars:
                continue
            start = number
        if line.rstrip().endswith("\\"):
            pending.append(line.rstrip()[:-1])
            continue
        pending.append(line)
        result.append((start, " ".join(part.strip() for part in pending)))
        pending = []
    if pending:
        result.append((start, " ".join(part.strip() for part in pending)))
    return result


def flags_in_env_file(text: str, source: str, flags: t.Sequence[str]) -> list[FlagHit]:
    """Flags in a shell-style environment file (/etc/default/docker, /etc/sysconfig/docker, EnvironmentFile=)."""
    return [FlagHit(source, number, line, flag)
            for number, line in logical_lines(text) for flag in flags if flag_pattern(flag).search(line)]


def flags_in_units(units: list[tuple[str, str]], flags: t.Sequence[str]) -> list[FlagHit]:
    """Flags in the effective ExecStart= and Environment= lines of a unit and its drop-ins.

    ``units`` is the main unit first, then drop-ins in the order systemd applies them;
    an empty ``ExecStart=`` resets the command lines seen so far, as in systemd.
    """
    exec_hits: list[FlagHit] = []
    env_hits: list[FlagHit] = []
    for source, text in units:
        for number, line in logical_lines(text, "#;"):
            name, dummy, value = line.partition("=")
            name = name.strip()
            if name == "ExecStart" and not value.strip():
                exec_hits = []
            elif name in ("ExecStart", "Environment"):
                target = exec_hits if name == "ExecStart" else env_hits
                target.extend(FlagHit(source, number, line, flag) for flag in flags
                              if flag_pattern(flag).search(value))
    return exec_hits + env_hits


def flags_in_argv(argv: list[str], source: str, flags: t.Sequence[str]) -> list[FlagHit]:
    """Flags in a process's argument vector (from /proc/PID/cmdline)."""
    hits = []
    for flag in flags:
        pattern = flag_pattern(flag)
        if any(pattern.match(arg) for arg in argv[1:]):
            hits.append(FlagHit(source, None, " ".join(argv), flag))
    return hits


def unit_texts() -> list[tuple[str, str]]:
    """The docker.service unit followed by its drop-ins, in the order systemd applies them.

    None without systemd (a container, a sysvinit host): an installed unit file never starts dockerd there.
    """
    if service_manager() != "systemd":
        return []
    texts = []
    for path in UNIT_FILES:
        text = read_text(path)
        if text is not None:
            texts.append((path, text))
            break
    dropins: dict[str, str] = {}
    for directory in reversed(DROPIN_DIRS):
        for path in glob.glob(os.path.join(directory, "*.conf")):
            dropins[os.path.basename(path)] = path
    for name in sorted(dropins):
        text = read_text(dropins[name])
        if text is not None:
            texts.append((dropins[name], text))
    return texts


def environment_files(units: list[tuple[str, str]]) -> list[str]:
    """Files named by ``EnvironmentFile=`` in the unit and drop-ins (a leading ``-`` means optional)."""
    files = []
    for dummy, text in units:
        for dummy_number, line in logical_lines(text, "#;"):
            name, dummy_sep, value = line.partition("=")
            if name.strip() == "EnvironmentFile":
                files.extend(word.lstrip("-") for word in value.split() if word.lstrip("-"))
    return files


def env_file_sources(units: list[tuple[str, str]]) -> list[str]:
    """The well-known environment files and those the unit names, each once (by real path)."""
    seen, sources = set(), []
    for path in list(ENV_FILES) + environment_files(units):
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            sources.append(path)
    return sources


def find_flag_conflicts(keys: t.Iterable[str], daemon: DaemonProcess | None) -> list[FlagHit]:
    """Where dockerd is given a flag that clashes with one of ``keys`` in daemon.json."""
    flags = [flag for key in keys for flag in flags_for_key(key)]
    if not flags:
        return []
    units = unit_texts()
    hits: list[FlagHit] = []
    if daemon is not None:
        hits.extend(flags_in_argv(daemon.argv, "the host's dockerd command line (pid %d)" % daemon.pid, flags))
    hits.extend(flags_in_units(units, flags))
    for path in env_file_sources(units):
        text = read_text(path)
        if text is not None:
            hits.extend(flags_in_env_file(text, path, flags))
    return hits


# --------------------------------------------------------------------------- dockerd --validate


def strip_config_file_args(argv: list[str]) -> list[str]:
    """dockerd's flags minus the program name and its own --config-file."""
    result = []
    skip = False
    for arg in argv[1:]:
        if skip:
            skip = False
        elif arg == "--config-file":
            skip = True
        elif not arg.startswith("--config-file="):
            result.append(arg)
    return result


def dockerd_validate(run_command: RunCommand, dockerd: str, candidate: str,
                     daemon: DaemonProcess | None) -> tuple[bool, str]:
    """Run ``dockerd --validate`` on ``candidate`` with the host's dockerd's other flags: (ok, its words)."""
    extra = strip_config_file_args(daemon.argv) if daemon else []
    rc, out, err = run_command([dockerd, "--validate", "--config-file", candidate] + extra)
    message = "\n".join(part.strip() for part in (err, out) if part and part.strip())
    return rc == 0, mask_url(message)


# --------------------------------------------------------------------------- signalling and the journal


def service_command(manager: str, bins: dict[str, str | None], service: str, action: str) -> list[str] | None:
    """argv that tells the service manager to ``action`` (reload, restart, reset-failed) the service."""
    if manager == "systemd":
        return [bins["systemctl"], action, service] if bins.get("systemctl") else None
    if action == "reset-failed":
        return None
    return [bins["service"], service, action] if bins.get("service") else None


_JOURNAL_CHATTER = re.compile(r"level=(info|debug|warning)")
_SYSTEMD_STATE_LINES = re.compile(
    r"^(Starting|Started|Stopping|Stopped|Reloading|Reloaded) |docker\.service: |Failed to start |Referenced but unset")


def dockerd_error_lines(lines: t.Iterable[str], keep: int = 3) -> list[str]:
    """dockerd's own words in journal lines: its info/debug/warning chatter and systemd's state lines dropped."""
    notable = [line for line in lines if line.strip() and not _JOURNAL_CHATTER.search(line)]
    own = [line for line in notable if not _SYSTEMD_STATE_LINES.search(line)]
    return [mask_url(line) for line in (own or notable)[-keep:]]
