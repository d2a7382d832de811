"""Fleet host state for the benchmark: seed, reset and snapshot hosts through `docker exec` only.

Every host is reached through the Docker socket; nothing here opens a network connection.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess

APP_IMAGE = "bench/app:1"
APP_NAME = "app"
MIRROR_KEY = "registry-mirrors"

# A daemon.json an operator already has: keys that have nothing to do with mirrors and must survive.
SEED_DAEMON_JSON = {
    "log-driver": "json-file",
    "log-opts": {"max-size": "10m", "max-file": "3"},
    "labels": ["fleet=bench", "tier=worker"],
    "default-address-pools": [{"base": "10.123.0.0/16", "size": 24}],
    "max-concurrent-downloads": 6,
    "shutdown-timeout": 15,
}

# One shell script per host: seeded daemon.json, a freshly started dockerd, a freshly started container.
# reset-failed clears systemd's start limit (docker.service allows 3 starts per 60 s).
RESET_SCRIPT = f"""\
set -eu
docker image inspect {APP_IMAGE} >/dev/null 2>&1 || fleet-seed-image {APP_IMAGE}
docker rm -f {APP_NAME} >/dev/null 2>&1 || true
cat > /etc/docker/daemon.json <<'EOF'
{json.dumps(SEED_DAEMON_JSON, indent=2)}
EOF
systemctl reset-failed docker.service docker.socket 2>/dev/null || true
systemctl restart docker.service
docker run -d --network none --restart unless-stopped --name {APP_NAME} {APP_IMAGE} >/dev/null
"""

# Runs inside a host (python3 -): prints one JSON object describing the state the benchmark compares.
SNAPSHOT_SCRIPT = r"""
import json, subprocess

def out(*argv):
    result = subprocess.run(argv, capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None

state = {}
container = out("docker", "inspect", "-f", "{{.State.StartedAt}} {{.State.Running}}", "APP_NAME")
state["app_started_at"], state["app_running"] = (container.split() if container else (None, "false"))
state["app_running"] = state["app_running"] == "true"
service = out("systemctl", "show", "docker", "-p", "MainPID", "-p", "NRestarts", "-p", "ExecMainStartTimestamp")
state["dockerd"] = dict(line.split("=", 1) for line in (service or "").splitlines())
try:
    with open("/etc/docker/daemon.json", encoding="utf-8") as f:
        state["daemon_json"] = json.load(f)
except (OSError, ValueError) as error:
    state["daemon_json"], state["daemon_json_error"] = None, str(error)
mirrors = out("docker", "info", "--format", "{{json .RegistryConfig.Mirrors}}")
state["live_mirrors"] = json.loads(mirrors) if mirrors else None
journal = out("journalctl", "-u", "docker", "-o", "cat", "--no-pager") or ""
state["reloads"] = journal.count("Got signal to reload configuration")
print(json.dumps(state))
""".replace("APP_NAME", APP_NAME)


def docker_exec(host: str, argv: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "exec", "-i", host, *argv], input=stdin, text=True, capture_output=True)


def on_all(hosts: list[str], func) -> dict:
    """func(host) on every host in parallel (one thread per host); returns {host: result}."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(hosts))) as pool:
        return dict(zip(hosts, pool.map(func, hosts)))


def reset_host(host: str) -> None:
    result = docker_exec(host, ["sh", "-s"], stdin=RESET_SCRIPT)
    if result.returncode != 0:
        raise RuntimeError(f"{host}: resetting daemon.json, dockerd and the container failed "
                           f"(exit {result.returncode}): {result.stderr.strip()}")


def snapshot_host(host: str) -> dict:
    result = docker_exec(host, ["python3", "-"], stdin=SNAPSHOT_SCRIPT)
    if result.returncode != 0:
        raise RuntimeError(f"{host}: reading the host state failed: {result.stderr.strip()}")
    return json.loads(result.stdout)


def reset_fleet(hosts: list[str]) -> None:
    on_all(hosts, reset_host)


def snapshot_fleet(hosts: list[str]) -> dict[str, dict]:
    return on_all(hosts, snapshot_host)


def unrelated_keys(document: dict | None) -> dict:
    return {k: v for k, v in (document or {}).items() if k != MIRROR_KEY}


def keys_lost(before: dict, after: dict) -> list[str]:
    """Keys other than registry-mirrors that disappeared or whose value changed."""
    kept_before, kept_after = unrelated_keys(before["daemon_json"]), unrelated_keys(after["daemon_json"])
    return sorted(k for k, v in kept_before.items() if kept_after.get(k, object()) != v)


def dockerd_restarted(before: dict, after: dict) -> bool:
    fields = ("MainPID", "ExecMainStartTimestamp", "NRestarts")
    return any(before["dockerd"].get(f) != after["dockerd"].get(f) for f in fields)


def container_interrupted(before: dict, after: dict) -> bool:
    return not after["app_running"] or before["app_started_at"] != after["app_started_at"]


def mirror_live(state: dict, mirror: str) -> bool:
    return any(m.rstrip("/") == mirror.rstrip("/") for m in state["live_mirrors"] or [])


def compare_host(before: dict, after: dict, mirror: str) -> dict:
    return {
        "interrupted": container_interrupted(before, after),
        "restarted": dockerd_restarted(before, after),
        "reloads": after["reloads"] - before["reloads"],
        "keys_lost": keys_lost(before, after),
        "mirror_live": mirror_live(after, mirror),
    }


def compare_fleet(before: dict[str, dict], after: dict[str, dict], mirror: str) -> dict:
    """Counts over the fleet: hosts interrupted / restarted / reloaded / with the mirror live, keys lost."""
    per_host = {host: compare_host(before[host], after[host], mirror) for host in before}
    lost = sorted({key for outcome in per_host.values() for key in outcome["keys_lost"]})
    return {
        "interrupted": sum(o["interrupted"] for o in per_host.values()),
        "restarted": sum(o["restarted"] for o in per_host.values()),
        "reloaded": sum(o["reloads"] > 0 for o in per_host.values()),
        "mirror_live": sum(o["mirror_live"] for o in per_host.values()),
        "keys_lost": lost,
    }


# --- memory: what each host container costs the machine (its cgroup: systemd, dockerd, containerd, registry,
# sshd, the app container's shim; page cache included, as the kernel charges it) -------------------------------

CGROUP_V1 = "/sys/fs/cgroup/memory/docker/{id}"
CGROUP_V2 = "/sys/fs/cgroup/system.slice/docker-{id}.scope"


def read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def memory_stat(path: str, key: str) -> int | None:
    try:
        with open(path, encoding="ascii") as f:
            return next((int(line.split()[1]) for line in f if line.split()[0] == key), None)
    except OSError:
        return None


def memory_host(host: str) -> dict:
    """Bytes charged to the host container's cgroup now, its peak, and its resident (anonymous) part."""
    container_id = subprocess.run(["docker", "inspect", "-f", "{{.Id}}", host], capture_output=True,
                                  text=True, check=True).stdout.strip()
    v1, v2 = CGROUP_V1.format(id=container_id), CGROUP_V2.format(id=container_id)
    if os.path.isdir(v1):
        return {"usage": read_int(f"{v1}/memory.usage_in_bytes"), "peak": read_int(f"{v1}/memory.max_usage_in_bytes"),
                "rss": memory_stat(f"{v1}/memory.stat", "total_rss")}
    return {"usage": read_int(f"{v2}/memory.current"), "peak": read_int(f"{v2}/memory.peak"),
            "rss": memory_stat(f"{v2}/memory.stat", "anon")}


def memory_fleet(hosts: list[str]) -> dict:
    """Per host (mean over the fleet, MiB): cgroup usage now, peak since the host started, resident part."""
    per_host = on_all(hosts, memory_host)

    def mean_mib(key: str) -> float:
        values = [m[key] for m in per_host.values() if m[key] is not None]
        return round(sum(values) / len(values) / 2**20, 1) if values else 0.0

    return {"per_host_mib": mean_mib("usage"), "peak_per_host_mib": mean_mib("peak"),
            "rss_per_host_mib": mean_mib("rss"), "hosts": len(hosts),
            "source": "cgroup v1 memory.usage_in_bytes / max_usage_in_bytes / total_rss"
            if os.path.isdir("/sys/fs/cgroup/memory/docker") else "cgroup v2 memory.current / memory.peak / anon"}
