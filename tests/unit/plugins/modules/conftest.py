# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake Docker host for the module tests: docker, dockerd, systemctl, service and journalctl on PATH, one
script acting as a tiny dockerd + systemd state machine, plus a fake /proc, unit tree and pidfile. The Docker
API socket is faked at ``_daemon.unix_http_get``: each request runs the same script (as ``dockerapi``), which
answers from the state, or says which error the socket would raise.

State (JSON file, ``FakeHost.state``/``FakeHost.set``):
  active       docker.service is active (systemctl is-active); docker info answers only then
  active_state what systemctl show says as ActiveState while active (default "active"; e.g. "deactivating")
  answers      dockerd answers docker info while active (False: hung/broken daemon)
  version      ServerVersion; dockerd_version is what ``dockerd --version`` says
  mirrors      RegistryConfig.Mirrors of the live daemon
  mainpid      systemctl show -p MainPID
  config       the daemon.json the fake dockerd reads on reload/restart; a file holding "refuse-me" or
               invalid JSON is rejected (a reload keeps the old mirrors, a restart leaves Docker down)
  denied       docker info: permission denied (a non-root user); nil_info: Docker 20.10's template error
  hung         dockerd accepts on its socket but never answers (the API request times out)
  info_extra   more keys of docker info's answer (Driver, DriverStatus, a RegistryConfig with its CIDRs)
  image_store  "containerd": GET /info reports the containerd image store (DriverStatus driver-type)
  socket       docker.socket listens: docker info on a stopped docker.service starts it (and logs it)
  start_limit_hit  systemd refuses to start docker.service until ``systemctl reset-failed``
Every call is logged as one line "<command> <args>" in ``FakeHost.log`` (an API request as "dockerapi GET /info").
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import tempfile
import typing as t

import pytest

from ansible.module_utils import basic
from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.modules.module_args import patch_module_args

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _daemon, _process

DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
DENIED = ("permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: "
          "Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.45/info\": dial unix /var/run/docker.sock: connect: "
          "permission denied")
NIL_INFO = ("template: :1:2: executing \"\" at <.ServerVersion>: reflect: indirection through nil pointer to "
            "embedded struct field Info")

FAKE = r'''#!%(python)s
import json, os, sys

name, args = os.path.basename(sys.argv[0]), sys.argv[1:]
state_path = os.environ["FAKE_STATE"]
with open(state_path) as handle:
    state = json.load(handle)
with open(os.environ["FAKE_LOG"], "a") as handle:
    handle.write(" ".join([name] + args) + "\n")


def save():
    with open(state_path, "w") as handle:
        json.dump(state, handle)


def config_error():
    """What dockerd says about its configuration file, or None when it takes it."""
    path = state["config"]
    try:
        with open(path) as handle:
            text = handle.read()
    except FileNotFoundError:
        return None, None
    if "refuse-me" in text:
        return ("unable to configure the Docker daemon with file %%s: the following directives don't match any "
                "configuration option: refuse-me" %% path), []
    try:
        return None, json.loads(text or "{}").get("registry-mirrors")
    except ValueError as exc:
        return "unable to configure the Docker daemon with file %%s: %%s" %% (path, exc), []


def journal(*lines):
    state["journal"].extend(lines)


def docker():
    if args[:1] != ["info"]:
        sys.exit(1)
    if state.get("denied"):
        if state.get("nil_info"):
            print(%(nil_info)r, file=sys.stderr)
            sys.exit(1)
        print(json.dumps({"ServerErrors": [%(denied)r]}))
        sys.exit(0)
    if not state["active"] and state.get("socket"):
        journal("SOCKET-ACTIVATED")
        start()
    if state["active"] and state["answers"]:
        print(json.dumps(dict({"ID": "x", "ServerVersion": state["version"],
                               "RegistryConfig": {"Mirrors": state["mirrors"]}}, **state.get("info_extra", {}))))
    else:
        print(json.dumps({"ID": "", "ServerVersion": "", "ServerErrors": [%(down)r]}))
        print(%(down)r, file=sys.stderr)
    sys.exit(0)


def dockerapi():
    """GET args[1] on the Docker socket: "STATUS\nBODY", or the errno name the connection would fail with."""
    if state.get("denied"):
        print("EACCES")
        sys.exit(0)
    if not state["active"] and state.get("socket"):
        journal("SOCKET-ACTIVATED")
        start()
    if not (state["active"] and state["answers"]):
        print("ECONNREFUSED")
    elif state.get("hung"):
        print("ETIMEDOUT")
    elif args[1] != "/info":
        print("404\n" + json.dumps({"message": "page not found"}))
    else:
        store = [["driver-type", "io.containerd.snapshotter.v1"]] if state.get("image_store") == "containerd" else []
        print("200\n" + json.dumps(dict({"ID": "x", "ServerVersion": state["version"], "DriverStatus": store,
                                          "RegistryConfig": {"Mirrors": state["mirrors"]}},
                                         **state.get("info_extra", {}))))
    save()


def dockerd():
    if args[:1] == ["--version"]:
        print("Docker version %%s, build 0000000" %% state["dockerd_version"])
        sys.exit(0)
    if args[:1] == ["--validate"]:
        with open(args[2]) as handle:
            if "refuse-me" in handle.read():
                print("unable to configure the Docker daemon with file %%s: the following directives don't match "
                      "any configuration option: refuse-me" %% args[2], file=sys.stderr)
                sys.exit(1)
        print("configuration OK")
        sys.exit(0)
    sys.exit(2)


def service_action(action):
    if action == "is-active":
        print("active" if state["active"] else state.get("inactive_word", "inactive"))
        sys.exit(0 if state["active"] else 3)
    if action == "show":
        pid = state["mainpid"] if state["active"] else 0
        if "--value" in args:
            print(pid)
        else:
            print("MainPID=%%s\nActiveState=%%s" %% (pid, state.get("active_state", "active") if state["active"]
                                                   else state.get("inactive_word", "inactive")))
        sys.exit(0)
    if action == "reset-failed":
        state["start_limit_hit"] = False
        save()
        sys.exit(0)
    error, mirrors = config_error()
    if action == "reload":
        if not state["active"]:
            print("Job for docker.service failed: docker.service is not active, cannot reload.", file=sys.stderr)
            sys.exit(1)
        journal("Reloading Docker Application Container Engine...")
        if error:
            journal('level=error msg="Error reloading the daemon configuration" error="%%s"' %% error)
        else:
            if mirrors is not None:  # dockerd keeps its mirrors on a reload when the key is missing
                state["mirrors"] = mirrors
            journal('level=info msg="Reloaded configuration"')
        journal("Reloaded Docker Application Container Engine.")
        save()
        sys.exit(state.get("reload_rc", 0))
    if action in ("restart", "start"):
        if state.get("start_limit_hit"):
            journal("docker.service: Start request repeated too quickly.")
            print("Job for docker.service failed. See \"systemctl status docker.service\".", file=sys.stderr)
            sys.exit(1)
        if not start():
            print("Job for docker.service failed because the control process exited with error code.",
                  file=sys.stderr)
            sys.exit(1)
        sys.exit(0)
    sys.exit(2)


def start():
    """(Re)start the fake dockerd on its file; False when it refuses the file (Docker stays down)."""
    error, mirrors = config_error()
    journal("Stopping Docker Application Container Engine...", "Starting Docker Application Container Engine...",
            'level=info msg="Starting up"', 'level=warning msg="Your kernel does not support cgroup blkio weight"')
    if error:
        state["active"] = False
        journal(error, "docker.service: Main process exited, code=exited, status=1/FAILURE",
                "Failed to start Docker Application Container Engine.")
        save()
        return False
    state["active"], state["mirrors"] = True, mirrors or []
    journal("Started Docker Application Container Engine.")
    save()
    return True


def systemctl():
    service_action(args[0])


def service():
    service_action(args[1])


def journalctl():
    print("\n".join(state["journal"]))


{"docker": docker, "dockerapi": dockerapi, "dockerd": dockerd, "systemctl": systemctl, "service": service,
 "journalctl": journalctl}[name]()
''' % {"python": sys.executable, "down": DOWN, "denied": DENIED, "nil_info": NIL_INFO}

DEFAULT_STATE: dict[str, t.Any] = {
    "active": True, "answers": True, "version": "20.10.24+dfsg1", "dockerd_version": "20.10.24+dfsg1",
    "mirrors": [], "mainpid": 4242, "journal": [], "socket": True,
}


class ModuleExit(Exception):
    def __init__(self, result: dict[str, t.Any]) -> None:
        super().__init__(result)
        self.result = result


class FakeHost:
    def __init__(self, tmp_path, monkeypatch) -> None:
        self.root = str(tmp_path)
        self.monkeypatch = monkeypatch
        self.bin_dir = os.path.join(self.root, "bin")
        self.etc = os.path.join(self.root, "etc")
        self.proc = os.path.join(self.root, "proc")
        self.systemd_dir = os.path.join(self.root, "run-systemd-system")
        self.dropin_dir = os.path.join(self.etc, "docker.service.d")
        self.unit = os.path.join(self.etc, "docker.service")
        self.default_docker = os.path.join(self.etc, "default-docker")
        self.pidfile = os.path.join(self.root, "docker.pid")
        self.state_path = os.path.join(self.root, "state.json")
        self.log = os.path.join(self.root, "calls.log")
        # Never a real socket: the fake answers at unix_http_get (and a test path may exceed sun_path's 108 bytes).
        self.socket = os.path.join(tempfile.gettempdir(), "fake-docker-%d.sock" % os.getpid())
        self.path = os.path.join(self.root, "docker", "daemon.json")
        for directory in (self.bin_dir, self.dropin_dir, self.proc, self.systemd_dir, os.path.dirname(self.path)):
            os.makedirs(directory, exist_ok=True)
        script = os.path.join(self.bin_dir, "fakehost")
        with open(script, "w") as handle:
            handle.write(FAKE)
        os.chmod(script, 0o755)
        for name in ("docker", "dockerapi", "dockerd", "systemctl", "service", "journalctl"):
            os.symlink("fakehost", os.path.join(self.bin_dir, name))
        self.write(self.unit, "[Service]\nEnvironmentFile=-%s\nExecStart=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS\n"
                   % self.default_docker)
        self.write(self.default_docker, '#DOCKER_OPTS="--registry-mirror=https://old.example"\n')
        with open(self.state_path, "w") as handle:
            json.dump(dict(DEFAULT_STATE, config=self.path), handle)
        self.add_process(4242, ["/usr/sbin/dockerd", "-H", "fd://"])
        monkeypatch.setenv("PATH", "%s:%s" % (self.bin_dir, os.environ.get("PATH", "/usr/bin:/bin")))
        monkeypatch.setenv("FAKE_STATE", self.state_path)
        monkeypatch.setenv("FAKE_LOG", self.log)
        for name, value in self.constants().items():
            monkeypatch.setattr(_daemon, name, value)
        monkeypatch.setattr(_process, "PROC_ROOT", self.proc)
        monkeypatch.delenv("DOCKER_HOST", raising=False)
        monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
        monkeypatch.setenv("DOCKER_CONFIG", os.path.join(self.root, "docker-config"))
        monkeypatch.setattr(_daemon, "unix_http_get", self.api_get)

    def api_get(self, socket_path: str, path: str, seconds: float) -> tuple[int, bytes]:
        """_daemon.unix_http_get on the fake host: the script answers, or names the error to raise."""
        assert socket_path == self.socket, "the module asked another socket: %s" % socket_path
        out = subprocess.run([os.path.join(self.bin_dir, "dockerapi"), "GET", path], capture_output=True,
                             text=True, check=True).stdout
        first, dummy, body = out.partition("\n")
        errors = {"EACCES": PermissionError, "ECONNREFUSED": ConnectionRefusedError, "ETIMEDOUT": TimeoutError}
        if first in errors:
            code = getattr(errno, first)
            raise errors[first](code, os.strerror(code))
        return int(first), body.encode()

    def constants(self) -> dict[str, t.Any]:
        """The host paths of _daemon pointed into the fake tree."""
        return {
            "SYSTEMD_RUN_DIR": self.systemd_dir, "PIDFILE": self.pidfile,
            "DOCKER_SOCKET": self.socket,
            "UNIT_FILES": (self.unit,), "DROPIN_DIRS": (self.dropin_dir,),
            "ENV_FILES": (self.default_docker, os.path.join(self.etc, "sysconfig-docker")),
            "SNAP_MARKERS": (os.path.join(self.root, "snap-bin-dockerd"), os.path.join(self.root, "var-snap-docker")),
            "SNAP_CONFIG": os.path.join(self.root, "var-snap-docker", "current", "config", "daemon.json"),
        }

    @staticmethod
    def write(path: str, text: str | bytes) -> bytes:
        data = text.encode() if isinstance(text, str) else text
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
        return data

    @staticmethod
    def read(path: str) -> bytes:
        with open(path, "rb") as handle:
            return handle.read()

    def state(self) -> dict[str, t.Any]:
        with open(self.state_path) as handle:
            return json.load(handle)

    def set(self, **changes: t.Any) -> None:
        state = dict(self.state(), **changes)
        with open(self.state_path, "w") as handle:
            json.dump(state, handle)

    def calls(self, name: str | None = None) -> list[str]:
        if not os.path.exists(self.log):
            return []
        lines = self.read(self.log).decode().splitlines()
        return [line for line in lines if name is None or line.split(" ", 1)[0] == name]

    def add_process(self, pid: int, argv: list[str], comm: str = "dockerd") -> None:
        directory = os.path.join(self.proc, str(pid))
        os.makedirs(directory, exist_ok=True)
        self.write(os.path.join(directory, "comm"), comm + "\n")
        self.write(os.path.join(directory, "cmdline"), b"\0".join(arg.encode() for arg in argv) + b"\0")

    def no_systemd(self) -> None:
        os.rmdir(self.systemd_dir)

    def remove_command(self, name: str) -> None:
        """No such command: only the fake bin directory is searched (the test machine may have the real one)."""
        os.unlink(os.path.join(self.bin_dir, name))
        bin_dir = self.bin_dir
        real_get_bin_path = basic.AnsibleModule.get_bin_path

        def get_bin_path(module, arg, *args, **kwargs):
            if arg in ("docker", "dockerd", "systemctl", "service", "journalctl"):
                candidate = os.path.join(bin_dir, arg)
                return candidate if os.path.exists(candidate) else None
            return real_get_bin_path(module, arg, *args, **kwargs)

        self.monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", get_bin_path)

    def run(self, main: t.Callable[[], None], check_mode: bool = False, diff: bool = False,
            **params: t.Any) -> dict[str, t.Any]:
        """Run a module's main() in-process; its result, with ``failed`` set (``invocation`` kept apart in
        ``self.invocation``: what Ansible shows with -vvv)."""
        args = dict(params, _ansible_check_mode=check_mode, _ansible_diff=diff,
                    _ansible_remote_tmp=os.path.join(self.root, "remote_tmp"), _ansible_keep_remote_files=False)

        host = self

        def exit_json(module, **result):
            host.invocation = result.pop("invocation", None)
            raise ModuleExit(dict(result, failed=False))

        def fail_json(module, msg, **result):
            host.invocation = result.pop("invocation", None)
            raise ModuleExit(dict(result, msg=msg, failed=True))

        self.monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
        self.monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
        with patch_module_args(args), pytest.raises(ModuleExit) as info:
            main()
        return info.value.result


@pytest.fixture
def host(tmp_path, monkeypatch) -> FakeHost:
    return FakeHost(tmp_path, monkeypatch)
