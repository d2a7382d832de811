#!/usr/bin/env python3
"""Fleet benchmark (issues #5, #12): our configure playbook against the common playbook patterns, same fleet.

For each fleet size N: start N Debian 12 hosts (tools/fleet.py, prefix `bench`), seed each with a running
container and a daemon.json of unrelated keys, then time, repeatedly and interleaved, over each connection:
  ping    ansible.builtin.ping: the floor of any playbook
  role    ansible-playbook fleetops.docker_mirror.configure: first apply, then a re-run with nothing to change
  role1   the same with docker_mirror_serial=100% (one batch instead of the default canary host + the rest)
  slurp   bench/patterns/slurp_merge.yml: slurp + from_json|combine + copy + restart handler + docker info
  whole   bench/patterns/whole_file.yml: copy of the whole file from a dict + restart handler
Connections (--transport): docker = the Docker socket (community.docker.docker, root); ssh = SSH as the non-root
`deploy` user with sudo (tools/fleet.py up --transport ssh), measured twice: with and without ANSIBLE_PIPELINING,
ControlPersist on in both (each run starts with no master connection: a fresh ControlPath directory).
The fleet is reset between variants (seeded daemon.json, dockerd restarted, container recreated). Each host's
memory (its container's cgroup) is sampled after the runs of each size.
Writes bench/results/{bench.json,bench.png,README-section.md} and prints the tables and the targets with
PASS/FAIL; --publish copies the figures to bench/figures/ and writes the section into bench/README.md (the only
copy of that text). The fleet is removed at the end, also on failure.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import hosts
import report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
RESULTS = os.path.join(BENCH, "results")
BIN = os.path.join(ROOT, ".venv", "bin")
FLEET = [sys.executable, os.path.join(ROOT, "tools", "fleet.py")]
PREFIX = "bench"
MIRROR = "http://127.0.0.1:5000"
ROLE_PLAYBOOK = "fleetops.docker_mirror.configure"
ROLE_PLAYBOOK_FILE = os.path.join(ROOT, "playbooks", "configure.yml")
MAX_FORKS = 20

# name -> (playbook, extra vars besides the mirrors, measure a no-change re-run too)
VARIANTS = {
    "ping": (os.path.join(BENCH, "patterns", "ping.yml"), {}, False),
    "role": (ROLE_PLAYBOOK, {}, True),
    "slurp": (os.path.join(BENCH, "patterns", "slurp_merge.yml"), {}, True),
    "whole": (os.path.join(BENCH, "patterns", "whole_file.yml"), {}, True),
    # Our playbook in one batch instead of canary host + rest (the re-run target is reported for both).
    "role1": (ROLE_PLAYBOOK, {"docker_mirror_serial": "100%"}, True),
}
DEFAULT_VARIANTS = "ping,role,role1,slurp,whole"
# connection -> (tools/fleet.py transport, ANSIBLE_PIPELINING)
CONNECTIONS = {
    "docker": ("docker", True),
    "ssh": ("ssh", True),
    "ssh-nopipe": ("ssh", False),
}
# --transport names -> connections measured
TRANSPORTS = {"docker": ["docker"], "ssh": ["ssh", "ssh-nopipe"]}
SSH_ARGS = "-C -o ControlMaster=auto -o ControlPersist=60s"


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="10", help="fleet sizes, comma-separated (default 10)")
    parser.add_argument("--scale-sizes", default="",
                        help="larger fleet sizes measured for the scaling and memory targets only: ping and our "
                             "role (default rollout), over the Docker socket, one repetition (e.g. 50)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each variant (median reported)")
    parser.add_argument("--variants", default=DEFAULT_VARIANTS,
                        help="subset of: " + ",".join(VARIANTS) + " (role brings role1 along: the re-run "
                             "target is judged with both rollouts)")
    parser.add_argument("--transport", default="docker,ssh",
                        help="docker and/or ssh, comma-separated (default both; ssh is measured with and "
                             "without pipelining)")
    parser.add_argument("--publish", action="store_true",
                        help="also copy the figures to bench/figures/ and write the section into bench/README.md")
    parser.add_argument("--check-readme", action="store_true",
                        help="measure nothing: fail if bench/README.md's generated section is not what "
                             "bench/figures/bench.json renders to")
    parser.add_argument("--render", metavar="BENCH_JSON",
                        help="measure nothing: redraw the table, plot and text from a saved bench.json")
    parser.add_argument("--keep-fleet", action="store_true", help="do not remove the bench fleet at the end")
    args = parser.parse_args(argv)
    args.sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    args.scale_sizes = sorted({int(s) for s in args.scale_sizes.split(",") if s.strip()})
    args.variants = [v for v in args.variants.split(",") if v]
    if "role" in args.variants and "role1" not in args.variants:
        args.variants.insert(args.variants.index("role") + 1, "role1")
    transports = [t for t in args.transport.split(",") if t]
    unknown = set(args.variants) - set(VARIANTS) | set(transports) - set(TRANSPORTS)
    if unknown or not args.variants or not transports or args.reps < 1 or not args.sizes or min(args.sizes) < 1:
        parser.error(f"bad --variants/--transport/--reps/--sizes (unknown: {sorted(unknown)})")
    scale = args.scale_sizes
    if scale and (min(scale) <= max(args.sizes) or not {"ping", "role"} & set(args.variants)):
        parser.error("--scale-sizes must be larger than every --sizes and needs ping or role in --variants")
    args.connections = [c for t in TRANSPORTS if t in transports for c in TRANSPORTS[t]]
    return args


def preflight(variants: list[str]) -> None:
    if not os.path.exists(os.path.join(BIN, "ansible-playbook")):
        raise SystemExit("[bench] .venv/bin/ansible-playbook not found: run `make venv` (or `make bench`) first")
    if {"role", "role1"} & set(variants) and not os.path.exists(ROLE_PLAYBOOK_FILE):
        raise SystemExit(
            f"[bench] {os.path.relpath(ROLE_PLAYBOOK_FILE, ROOT)} not found: the role variant "
            f"({ROLE_PLAYBOOK}) cannot run yet.\n"
            "        Measure only the patterns with: make bench BENCH_VARIANTS=ping,slurp,whole")


def fleet_up(size: int, replace: bool, connections: list[str]) -> tuple[list[str], dict[str, str]]:
    """Start (replace=True: afresh) or grow the bench fleet to `size` hosts; returns the names and one inventory
    per transport ({transport: path}): the same hosts, reached through the Docker socket or over SSH."""
    inventories = {}
    for transport in dict.fromkeys(CONNECTIONS[c][0] for c in connections):
        inventory = os.path.join(RESULTS, f"inventory-{size}-{transport}.yml")
        subprocess.run([*FLEET, "up", "--prefix", PREFIX, "--count", str(size), "--images", "debian12",
                        "--inventory", inventory, "--transport", transport,
                        *(["--replace"] if replace and not inventories else [])],
                       check=True, stdout=subprocess.DEVNULL)
        inventories[transport] = inventory
    names = [f"{PREFIX}-{i + 1}" for i in range(size)]
    return names, inventories


def fleet_down() -> None:
    subprocess.run([*FLEET, "down", "--prefix", PREFIX], check=False)


def ansible_env(forks: int, pipelining: bool, control_dir: str) -> dict:
    """The same Ansible settings for every variant; pipelining as the connection says."""
    return dict(
        os.environ,
        ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
        ANSIBLE_PIPELINING=str(pipelining),
        ANSIBLE_SSH_PIPELINING=str(pipelining),
        ANSIBLE_SSH_ARGS=SSH_ARGS,
        ANSIBLE_SSH_CONTROL_PATH_DIR=control_dir,
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_FORKS=str(forks),
        # One JSON document on stdout: per-host stats and every task's start/end time (warnings go to stderr).
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
    )


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def close_masters(control_dir: str) -> None:
    """End the SSH master connections ControlPersist kept open, so the next run starts cold as well."""
    for name in os.listdir(control_dir):
        subprocess.run(["ssh", "-o", f"ControlPath={os.path.join(control_dir, name)}", "-O", "exit", "bench"],
                       capture_output=True, check=False, timeout=10)


def run_playbook(playbook: str, extra_vars: dict, fleet: dict, log_path: str) -> dict:
    """Run one playbook; returns wall and controller CPU seconds, exit code, task counts and per-task times."""
    extra_vars = {"docker_mirror_registry_mirrors": [MIRROR], **extra_vars}
    transport, pipelining = CONNECTIONS[fleet["connection"]]
    argv = [os.path.join(BIN, "ansible-playbook"), playbook, "-i", fleet["inventories"][transport],
            "-e", json.dumps(extra_vars)]
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-cp-") as control_dir:
        cpu, started = children_cpu(), time.monotonic()
        result = subprocess.run(argv, cwd=ROOT, env=ansible_env(fleet["forks"], pipelining, control_dir),
                                text=True, capture_output=True)
        seconds, cpu = time.monotonic() - started, children_cpu() - cpu
        close_masters(control_dir)
    with open(log_path, "w", encoding="utf-8") as f:
        f.write(f"$ {' '.join(argv)}\n# exit {result.returncode}, {seconds:.2f}s\n# stderr:\n{result.stderr}"
                f"# stdout (ansible.posix.json):\n{result.stdout}")
    return {"seconds": seconds, "controller_cpu_s": cpu, "load_before": load, "rc": result.returncode,
            "log": os.path.relpath(log_path, ROOT), **parse_output(result.stdout, fleet["hosts"])}


def iso_seconds(stamp: str) -> float:
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def parse_output(stdout: str, fleet_hosts: list[str]) -> dict:
    """Task counts per fleet host and seconds per task, from the ansible.posix.json callback's document."""
    try:
        document = json.loads(stdout)
    except ValueError:  # the run stopped before the callback wrote its document (e.g. a syntax error)
        document = {}
    stats = [counts for host, counts in document.get("stats", {}).items() if host in fleet_hosts]
    task_seconds: dict[str, float] = {}  # task name -> seconds, summed over the playbook's batches (plays)
    for play in document.get("plays", []):
        for task in play["tasks"]:
            duration = task["task"]["duration"]
            if "end" in duration:  # meta tasks have no end
                name = task["task"]["name"]
                task_seconds[name] = task_seconds.get(name, 0.0) + iso_seconds(duration["end"]) - iso_seconds(
                    duration["start"])
    return {
        "tasks_per_host": max((c["ok"] + c["failures"] for c in stats), default=0),
        "changed_per_host": max((c["changed"] for c in stats), default=0),
        "skipped_per_host": max((c["skipped"] for c in stats), default=0),
        "task_seconds": [[name, round(seconds, 3)] for name, seconds in task_seconds.items()],
    }


def measured_run(label: str, playbook: str, extra_vars: dict, fleet: dict, rep: int) -> dict:
    before = hosts.snapshot_fleet(fleet["hosts"])
    log_path = os.path.join(RESULTS, "logs", f"n{len(fleet['hosts'])}-{fleet['connection']}-{label}-{rep + 1}.log")
    run = run_playbook(playbook, extra_vars, fleet, log_path)
    after = hosts.snapshot_fleet(fleet["hosts"])
    run.update(hosts.compare_fleet(before, after, MIRROR))
    status = "ok" if run["rc"] == 0 else f"FAILED (exit {run['rc']}, see {run['log']})"
    log(f"  N={len(fleet['hosts'])} {fleet['connection']:<10} rep {rep + 1} {label:<12} {run['seconds']:6.2f}s "
        f"(controller CPU {run['controller_cpu_s']:5.1f}s, load {run['load_before']:4.1f})  {status}")
    return run


def run_variant(name: str, fleet: dict, rep: int) -> dict[str, dict]:
    """One repetition of a variant from a reset fleet: {row label: run}."""
    playbook, extra_vars, rerun = VARIANTS[name]
    if name == "ping":
        return {"ping": measured_run("ping", playbook, extra_vars, fleet, rep)}
    hosts.reset_fleet(fleet["hosts"])
    runs = {f"{name}:apply": measured_run(f"{name}-apply", playbook, extra_vars, fleet, rep)}
    if rerun:
        runs[f"{name}:rerun"] = measured_run(f"{name}-rerun", playbook, extra_vars, fleet, rep)
    return runs


def measure_size(size: int, args: argparse.Namespace) -> tuple[dict[str, dict[str, list[dict]]], dict]:
    """{connection: {row label: [runs]}} and the hosts' memory after the runs."""
    names, inventories = fleet_up(size, replace=size == min(args.sizes), connections=args.connections)
    started = time.monotonic()
    hosts.reset_fleet(names)
    log(f"N={size}: fleet ready and seeded in {time.monotonic() - started:.1f}s; {args.reps} repetition(s) "
        f"of {', '.join(args.variants)} over {', '.join(args.connections)}")
    runs: dict[str, dict[str, list[dict]]] = {}
    for rep in range(args.reps):
        order = args.variants[rep % len(args.variants):] + args.variants[:rep % len(args.variants)]
        for connection in args.connections:
            fleet = {"hosts": names, "inventories": inventories, "forks": min(size, MAX_FORKS),
                     "connection": connection}
            for name in order:
                for label, run in run_variant(name, fleet, rep).items():
                    runs.setdefault(connection, {}).setdefault(label, []).append(run)
    memory = hosts.memory_fleet(names)
    log(f"N={size}: memory per host {memory['per_host_mib']:.0f} MiB (peak {memory['peak_per_host_mib']:.0f} MiB)")
    return runs, memory


def scale_args(args: argparse.Namespace) -> argparse.Namespace:
    """The settings of a --scale-sizes fleet: ping and our role only, over the Docker socket, once."""
    return argparse.Namespace(**{**vars(args), "variants": [v for v in ("ping", "role") if v in args.variants],
                                 "connections": ["docker"], "reps": 1})


def summarise_row(runs: list[dict]) -> dict:
    return {
        "median_s": statistics.median(r["seconds"] for r in runs),
        "runs_s": [round(r["seconds"], 2) for r in runs],
        "controller_cpu_s": statistics.median(r["controller_cpu_s"] for r in runs),
        "load_before": [round(r["load_before"], 1) for r in runs],
        "failed_runs": sum(r["rc"] != 0 for r in runs),
        "interrupted": max(r["interrupted"] for r in runs),
        "restarted": max(r["restarted"] for r in runs),
        "reloaded": max(r["reloaded"] for r in runs),
        "mirror_live": min(r["mirror_live"] for r in runs),
        "keys_lost": sorted({k for r in runs for k in r["keys_lost"]}),
        "tasks_per_host": runs[-1]["tasks_per_host"],
        "changed_per_host": runs[-1]["changed_per_host"],
        "task_seconds": runs[-1]["task_seconds"],
        "logs": [r["log"] for r in runs],
    }


def install_signal_handlers() -> None:
    def stop(signum, _frame):
        raise SystemExit(f"[bench] stopped by signal {signum}")
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)


def publish(paths: dict) -> None:
    os.makedirs(os.path.join(BENCH, "figures"), exist_ok=True)
    shutil.copy(paths["json"], os.path.join(BENCH, "figures", "bench.json"))
    shutil.copy(paths["png"], os.path.join(BENCH, "figures", "bench.png"))
    readme_path = os.path.join(BENCH, "README.md")
    with open(readme_path, encoding="utf-8") as f:
        readme = f.read()
    with open(paths["section"], encoding="utf-8") as f:
        readme = report.readme_with_section(readme, f.read())
    with open(readme_path, "w", encoding="utf-8") as f:
        f.write(readme)
    log("published bench/figures/bench.{json,png} and the generated section of bench/README.md")


def check_readme() -> int:
    with open(os.path.join(BENCH, "figures", "bench.json"), encoding="utf-8") as f:
        section = report.readme_section(report.rebuild(json.load(f)))
    with open(os.path.join(BENCH, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    if report.readme_with_section(readme, section) != readme:
        log("bench/README.md's generated section differs from bench/figures/bench.json: run bench/run.py "
            "--render bench/figures/bench.json --publish")
        return 1
    log("bench/README.md's generated section is what bench/figures/bench.json renders to")
    return 0


def render(args: argparse.Namespace) -> int:
    with open(args.render, encoding="utf-8") as f:
        results = report.rebuild(json.load(f))
    os.makedirs(RESULTS, exist_ok=True)
    paths = report.write_all(results, RESULTS)
    print(report.text_tables(results), flush=True)
    if args.publish:
        publish(paths)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.check_readme:
        return check_readme()
    if args.render:
        return render(args)
    preflight(args.variants)
    install_signal_handlers()
    os.makedirs(os.path.join(RESULTS, "logs"), exist_ok=True)
    started = time.monotonic()
    sizes: dict[int, dict] = {}  # N -> {connection: {row label: row}}
    memory: dict[int, dict] = {}
    aborted = None
    try:
        for size in args.sizes + args.scale_sizes:
            runs, memory[size] = measure_size(size, args if size in args.sizes else scale_args(args))
            sizes[size] = {connection: {label: summarise_row(rs) for label, rs in rows.items()}
                           for connection, rows in runs.items()}
    except (subprocess.CalledProcessError, RuntimeError) as error:
        aborted = f"stopped at N={size}: {error}"
        log(f"{aborted}; reporting the sizes measured so far")
    finally:
        if not args.keep_fleet:
            fleet_down()
    if not sizes:
        return 1
    results = report.build(sizes, memory, args, time.monotonic() - started)
    paths = report.write_all(results, RESULTS)
    print(report.text_tables(results), flush=True)
    failed = [f"N={n} {connection} {label}" for n, by_connection in sizes.items()
              for connection, rows in by_connection.items() for label, row in rows.items() if row["failed_runs"]]
    if args.publish and (aborted or failed):
        log("not published: the published figures come from one complete run without failures only")
    elif args.publish:
        publish(paths)
    if aborted:
        log(aborted)
        return 1
    if failed:
        log(f"playbook runs failed: {', '.join(failed)} (logs in bench/results/logs/)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
