# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""containerd (containerd, ctr, its systemd unit) and Podman for the module tests, next to conftest.py's fake
Docker host: ``AnsibleModule.run_command`` answers for them from a state object, every other command (docker,
dockerd, Docker's systemctl calls) goes on to conftest.py's fake scripts.

State (attributes of ``Runtimes``):
  present          the commands that exist (containerd, ctr, podman, buildah, skopeo, crio)
  active           containerd.service is active; ctr answers only then (and when ``answers``)
  tasks            namespace -> list of (id, pid, status)
  dump             what ``containerd config dump`` prints (``dump_rc`` its exit status)
  version          what ``containerd --version`` prints
  podman_rc/podman_out  what ``podman info --format json`` answers
  restart_rc       exit status of ``systemctl restart containerd``; ``on_restart`` mutates the state then
Every call is logged in ``calls`` as "<command> <args>" (without a coreutils ``timeout N`` prefix).
"""

from __future__ import annotations

import json
import os
import typing as t

from ansible.module_utils import basic

BIN = "/fake-bin"
OWN = ("containerd", "ctr", "podman", "buildah", "skopeo", "crio")
UNIT = "containerd"
DUMP = ('version = 2\n[plugins]\n  [plugins."io.containerd.grpc.v1.cri"]\n'
        '    [plugins."io.containerd.grpc.v1.cri".registry]\n      config_path = "/etc/containerd/certs.d"\n')
PODMAN_OUT = json.dumps({"version": {"Version": "5.4.2"}, "registries": {
    "docker.io": {"Prefix": "docker.io", "Location": "docker.io",
                  "Mirrors": [{"Location": "127.0.0.1:5000", "Insecure": True}]}}})
CTR_DOWN = ("ctr: failed to dial \"/run/containerd/containerd.sock\": connection error: desc = \"transport: error "
            "while dialing: dial unix /run/containerd/containerd.sock: connect: no such file or directory\"")


class Runtimes:
    def __init__(self, monkeypatch) -> None:
        self.present = set(OWN) - {"buildah", "skopeo", "crio"}
        self.active = True
        self.answers = True
        self.mainpid = 777
        self.tasks: dict[str, list[tuple[str, int, str]]] = {"default": [("web", 500, "RUNNING")],
                                                             "moby": [("c0ffee", 557, "RUNNING")]}
        self.dump, self.dump_rc = DUMP, 0
        self.version = "containerd github.com/containerd/containerd 1.7.24~ds1 1.7.24~ds1-6+deb13u1"
        self.podman_rc, self.podman_out = 0, PODMAN_OUT
        self.restart_rc = 0
        self.tasks_rc: dict[str, int] = {}
        self.on_restart: t.Callable[[Runtimes], None] | None = None
        self.journal = ["level=info msg=\"starting containerd\"", "containerd: failed to load TOML: bad",
                        "containerd.service: Main process exited, code=exited, status=1/FAILURE"]
        self.calls: list[str] = []
        real_bin_path = basic.AnsibleModule.get_bin_path
        real_run = basic.AnsibleModule.run_command
        fake = self

        def get_bin_path(module, name, *args, **kwargs):
            if name in OWN:
                return os.path.join(BIN, name) if name in fake.present else None
            return real_bin_path(module, name, *args, **kwargs)

        def run_command(module, args, *more, **kwargs):
            argv = list(args)
            if os.path.basename(argv[0]) == "timeout":
                argv = argv[2:]
            name = os.path.basename(argv[0])
            ours = argv[0].startswith(BIN) or (
                name in ("systemctl", "journalctl") and any(arg.startswith(UNIT) for arg in argv[1:]))
            if not ours:
                return real_run(module, args, *more, **kwargs)
            fake.calls.append(" ".join([name] + argv[1:]))
            return fake.answer(name, argv[1:])

        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", get_bin_path)
        monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)

    def answer(self, name: str, args: list[str]) -> tuple[int, str, str]:
        return {"systemctl": self.systemctl, "journalctl": self.journalctl, "ctr": self.ctr,
                "containerd": self.containerd, "podman": self.podman}[name](args)

    def systemctl(self, args: list[str]) -> tuple[int, str, str]:
        if args[0] == "is-active":
            return (0, "active\n", "") if self.active else (3, "inactive\n", "")
        if args[0] == "show":
            return 0, "%d\n" % (self.mainpid if self.active else 0), ""
        if args[0] == "restart":
            if self.restart_rc:
                self.active = False
                return self.restart_rc, "", "Job for containerd.service failed because the control process exited."
            self.active = True
            if self.on_restart:
                self.on_restart(self)
            return 0, "", ""
        return 2, "", "unexpected"

    def journalctl(self, args: list[str]) -> tuple[int, str, str]:
        return 0, "\n".join(self.journal) + "\n", ""

    def ctr(self, args: list[str]) -> tuple[int, str, str]:
        if not (self.active and self.answers):
            return 1, "", CTR_DOWN
        if args == ["version"]:
            return 0, "Client:\n  Version:  1.7.24~ds1\n\nServer:\n  Version:  1.7.24~ds1\n", ""
        if args == ["namespaces", "ls", "-q"]:
            return 0, "".join(name + "\n" for name in self.tasks), ""
        if args[0] == "-n" and args[2:] == ["tasks", "ls"]:
            if self.tasks_rc.get(args[1]):
                return self.tasks_rc[args[1]], "", "ctr: namespace %s: listing failed" % args[1]
            rows = ["%s    %s    %s" % row for row in self.tasks.get(args[1], [])]
            return 0, "\n".join(["TASK    PID    STATUS    "] + rows) + "\n", ""
        return 2, "", "unexpected ctr call"

    def containerd(self, args: list[str]) -> tuple[int, str, str]:
        if args[-2:] == ["config", "dump"]:
            return (0, self.dump, "") if self.dump_rc == 0 else (
                self.dump_rc, "", "containerd: failed to load TOML from /etc/containerd/config.toml: bad")
        if args == ["--version"]:
            return 0, self.version + "\n", ""
        return 2, "", "unexpected"

    def podman(self, args: list[str]) -> tuple[int, str, str]:
        warning = 'time="x" level=warning msg="Using cgroups-v1 which is deprecated"\n'
        if self.podman_rc:
            return self.podman_rc, "", warning + "Error: database is locked\n"
        return 0, self.podman_out, warning
