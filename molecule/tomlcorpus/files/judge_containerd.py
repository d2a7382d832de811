"""containerd's own verdict on each config.toml given (JSON list in argv[1]), printed as JSON.

For each file: a throwaway containerd started on it in private mount, network and PID namespaces, with its own
root, state and socket (and a private /run), asked `ctr plugins ls` once booted: which CRI plugins loaded, and
the errors its log shows; then `containerd --config F config dump`: the effective registry config_path
(imports merged, version 1/2 migrated), split into the directories containerd reads, and the directory it
would read for REGISTRY (containerd's hostPaths order: host_port_ form, host, then _default, root after root).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import tomllib

REGISTRY = "docker.io"
BATCH = 6
BOOT_TIMEOUT = 40
# containerd's own rule for an empty config_path (its source, not the module's reading): 1.x, 2.0 and 2.1 read no
# hosts directory; 2.2.0 and 2.2.1 hold these as the CRI plugin's default value, so config dump shows them; from
# 2.2.2 the plugin takes them at start when config_path is empty and no mirrors are set, and config dump shows "".
DEFAULT_DIRS = ["/etc/containerd/certs.d", "/etc/docker/certs.d"]
DEFAULT_AT_START = (2, 2, 2)
START = ("ip link set lo up 2>/dev/null; mount -t tmpfs none /run; "
         'exec containerd --config "$1" --root "$2/r" --state "$2/s" --address "$2/c.sock"')


def containerd_release():
    out = subprocess.run(["containerd", "--version"], capture_output=True, text=True).stdout
    match = re.search(r"\s+v?(\d+)\.(\d+)(?:\.(\d+))?", out)
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def effective(path, release):
    run = subprocess.run(["containerd", "--config", path, "config", "dump"], capture_output=True, text=True,
                         timeout=30)
    if run.returncode != 0:
        return {"dump_ok": False, "dump_words": (run.stdout + run.stderr).strip()[-2000:]}
    data = tomllib.loads(run.stdout)
    plugins = data.get("plugins", {})
    images = plugins.get("io.containerd.cri.v1.images") or plugins.get("io.containerd.grpc.v1.cri") or {}
    registry = images.get("registry", {})
    config_path = registry.get("config_path", "")
    # containerd runs from / (systemd): a relative directory is read from there.
    dirs = [os.path.join("/", item) for item in config_path.split(":") if item]
    if not config_path and release >= DEFAULT_AT_START and not registry.get("mirrors"):
        dirs = list(DEFAULT_DIRS)
    return {"dump_ok": True, "config_path": config_path, "dirs": dirs, "lookup": lookup(dirs, REGISTRY)}


def lookup(dirs, host):
    names = ([host.replace(":", "_") + "_"] if ":" in host else []) + [host, "_default"]
    for root in dirs:
        for name in names:
            if os.path.exists(os.path.join(root, name)):
                return os.path.join(root, name)
    return None


def plugins(root):
    run = subprocess.run(["ctr", "--address", root + "/c.sock", "plugins", "ls"], capture_output=True,
                         text=True, timeout=20)
    rows = [line.split() for line in run.stdout.splitlines()[1:] if line.strip()]
    return {row[0] + "/" + row[1]: row[-1] for row in rows if len(row) >= 3}


def verdict(words, booted, status):
    errors = [line for line in words.splitlines()
              if "failed to load plugin" in line or "level=fatal" in line or "failed to load TOML" in line]
    cri = {key: value for key, value in status.items() if "cri" in key}
    # The CRI service Kubernetes talks to is io.containerd.grpc.v1.cri (containerd 2.x also loads its images
    # and runtime plugins when that one is disabled); every CRI plugin it depends on must load too.
    loaded = cri.get("io.containerd.grpc.v1/cri") == "ok" and set(cri.values()) == {"ok"}
    return {"booted": booted, "cri_plugins": cri, "cri_loaded": loaded,
            "errors": errors[-20:], "words": "" if booted else words.strip()[-2000:]}


def judge_batch(batch, work, release, verdicts):
    running = {}
    for index, path in batch:
        root = os.path.join(work, str(index))
        os.makedirs(root)
        log = open(os.path.join(root, "log"), "w+")
        argv = ["unshare", "-mnpf", "--kill-child", "--mount-proc", "sh", "-c", START, "sh", path, root]
        running[path] = (subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT), log, root)
    deadline = time.monotonic() + BOOT_TIMEOUT
    while running:
        for path, (process, log, root) in list(running.items()):
            log.seek(0)
            booted = "containerd successfully booted" in log.read()
            if process.poll() is None and not booted and time.monotonic() < deadline:
                continue
            status = plugins(root) if booted else {}
            process.kill()
            process.wait()
            log.seek(0)
            verdicts[path] = verdict(log.read(), booted, status)
            verdicts[path].update(effective(path, release))
            del running[path]
        time.sleep(0.2)


def main():
    paths = json.loads(sys.argv[1])
    release = containerd_release()
    work = tempfile.mkdtemp(prefix="tc.", dir="/var/lib/containerd")  # a volume: snapshotters work there
    verdicts = {}
    try:
        pending = list(enumerate(paths))
        while pending:
            batch, pending = pending[:BATCH], pending[BATCH:]
            judge_batch(batch, work, release, verdicts)
    finally:
        subprocess.run(["rm", "-rf", work])
    print(json.dumps({"major": release[0], "release": list(release), "verdicts": verdicts}))


main()
