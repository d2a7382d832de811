"""What one module run costs on a managed host, next to ansible.builtin.ping (issue #12).

    .venv/bin/python bench/module_cost.py --inventory INVENTORY --host HOST [--reps 20] [--collections PATH]

The host must be a test-fleet host reached through the Docker socket (tools/fleet.py up --transport docker) whose
daemon.json already holds the mirror (run the module once first), so that the daemon_json run changes nothing.
Ansible keeps the AnsiballZ payloads on the host (ANSIBLE_KEEP_REMOTE_FILES, pipelining off); each payload is then
run inside the host, interleaved with the others, and timed there: the controller and the connection are left
out. With strace on the controller (root), the processes each payload starts are listed too: strace follows
`nsenter` into the host's namespaces. Prints one JSON document: per payload the median wall and CPU seconds
(the CPU of the module and every process it waited for), the payload's size and the commands it ran.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIRROR = "http://127.0.0.1:5000"
WORKDIR = "/root/module-cost"
PAYLOADS = {
    "ping": ("ansible.builtin.ping", {}),
    "daemon_json": ("fleetops.docker_mirror.daemon_json",
                    {"registry_mirrors": [MIRROR], "require_daemon": True, "keep_previous": True}),
}

# Runs inside the host: times each payload, interleaved, and prints {name: {"wall": [...], "cpu": [...]}}.
TIMER = r"""
import json, os, subprocess, sys, time
names, reps, result = sys.argv[2:], int(sys.argv[1]), {}
for dummy in range(reps):
    for name in names:
        before, started = os.times(), time.perf_counter()
        subprocess.run(["python3", name + ".py"], cwd=%r, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall, after = time.perf_counter() - started, os.times()
        cpu = after.children_user - before.children_user + after.children_system - before.children_system
        entry = result.setdefault(name, {"wall": [], "cpu": []})
        entry["wall"].append(wall)
        entry["cpu"].append(cpu)
print(json.dumps(result))
""" % WORKDIR


def docker_exec(host: str, *argv: str, stdin: str | None = None) -> str:
    return subprocess.run(["docker", "exec", "-i", host, *argv], input=stdin, text=True, capture_output=True,
                          check=True).stdout


def keep_payload(args: argparse.Namespace, name: str) -> int:
    """Run the module once through Ansible, keeping its AnsiballZ payload on the host as NAME.py; its size."""
    module, module_args = PAYLOADS[name]
    env = dict(os.environ, ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_PIPELINING="False",
               ANSIBLE_COLLECTIONS_PATH=args.collections, ANSIBLE_DEPRECATION_WARNINGS="False")
    docker_exec(args.host, "sh", "-c", "rm -rf /root/.ansible/tmp/ansible-tmp-*")
    arguments = ["-a", json.dumps(module_args)] if module_args else []
    subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible"), args.host, "-i", args.inventory, "-m", module,
                    *arguments], env=env, cwd=ROOT, capture_output=True, check=True)
    size = docker_exec(args.host, "sh", "-c", "mkdir -p %s && cp /root/.ansible/tmp/ansible-tmp-*/AnsiballZ_*.py "
                       "%s/%s.py && rm -rf /root/.ansible/tmp/ansible-tmp-* && stat -c %%s %s/%s.py"
                       % (WORKDIR, WORKDIR, name, WORKDIR, name))
    return int(size)


def commands_run(host: str, name: str) -> list[str] | None:
    """argv of every process the payload started (strace through nsenter), or None without strace or root."""
    if not shutil.which("strace") or os.geteuid() != 0:
        return None
    pid = subprocess.run(["docker", "inspect", "-f", "{{.State.Pid}}", host], text=True, capture_output=True,
                         check=True).stdout.strip()
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as trace:
        subprocess.run(["strace", "-f", "-qq", "-e", "trace=execve", "-e", "signal=none", "-o", trace.name,
                        "nsenter", "-t", pid, "-m", "-p", "-u", "-i", "-n", "sh", "-c",
                        "cd %s && exec python3 %s.py" % (WORKDIR, name)], capture_output=True, check=True)
        lines = [line for line in trace.read().splitlines() if "execve(" in line and "ENOENT" not in line]
    argvs = [" ".join(re.findall(r'"((?:[^"\\]|\\.)*)"', line.split("[", 1)[1].split("]", 1)[0])) for line in lines]
    return [argv for argv in argvs if not argv.startswith(("nsenter ", "sh -c ", "python3 %s.py" % name))]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--inventory", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--collections", default=os.path.join(ROOT, ".collections"))
    args = parser.parse_args()
    sizes = {name: keep_payload(args, name) for name in PAYLOADS}
    timings = json.loads(docker_exec(args.host, "python3", "-", str(args.reps), *PAYLOADS, stdin=TIMER))
    report = {name: {"payload_bytes": sizes[name], "wall_s": round(median(timings[name]["wall"]), 3),
                     "cpu_s": round(median(timings[name]["cpu"]), 3), "commands": commands_run(args.host, name)}
              for name in PAYLOADS}
    docker_exec(args.host, "rm", "-rf", WORKDIR)
    print(json.dumps({"host": args.host, "reps": args.reps, "modules": report}, indent=2))


if __name__ == "__main__":
    main()
