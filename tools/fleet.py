#!/usr/bin/env python
"""The local test fleet: one tool for Molecule, the demo and the benchmark.

Test hosts are containers running systemd as PID 1 with their own dockerd, containerd and Podman, and a
registry mirror on their own loopback. They run with ``--network none``, so nothing in a test can send traffic
anywhere but the Docker socket and a host's own loopback. Two ways to reach them (``up --transport``):
  docker  (default) the Docker socket: ``community.docker.docker`` as root
  ssh     as a user would: SSH as ``deploy`` (passwordless sudo, key generated on the controller under
          $FLEETOPS_FLEET_STATE, default ~/.local/state/fleetops-fleet), to an sshd listening on the host's
          127.0.0.1 only, tunnelled by ``ProxyCommand="docker exec -i HOST socat - TCP:127.0.0.1:22"``

Subcommands:
  engine                     use the reachable Docker daemon, or install docker.io and start dockerd
  image [NAME ...]           build the test-host images (debian11, debian12, debian13, forky) unless cached
  up --prefix P --count N    start N hosts (images round-robin from --images) and write an inventory
                             (--transport docker|ssh)
  down --prefix P            remove the hosts of fleet P and their volumes
  status --prefix P          print each host's Docker version and live registry mirrors

Standard library only: it runs before the project's virtualenv exists.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time

DEBIAN_ARCHIVE = "http://deb.debian.org/debian"
IMAGE_REPO = "fleetops-host"
FLEET_LABEL = "fleetops.fleet"
DOCKERD_LOG = "/var/log/fleetops-dockerd.log"
# The command each Debian package we install on the engine's machine provides (to skip what is there).
APT_COMMANDS = {"docker.io": "dockerd", "debootstrap": "debootstrap", "openssh-client": "ssh-keygen"}

BASE_PACKAGES = [
    "systemd", "systemd-sysv", "dbus", "python3", "docker.io", "docker-registry",
    "busybox-static", "ca-certificates", "iproute2", "procps",
    # The SSH flavour (up --transport ssh): sshd on the host's loopback, reached through `docker exec socat`.
    "openssh-server", "sudo", "socat",
    # The other runtimes of issue #13: containerd (and its ctr) comes with docker.io; Podman reads
    # /etc/containers/registries.conf(.d) like Buildah, Skopeo and CRI-O. Without its Recommends: no rootless
    # helpers, and no fuse-overlayfs, since /var/lib/containers is a volume (see RUN_FLAGS).
    "podman",
    # A CRI pull as kubelet makes it (issue #18): tests/tools/cri_pull.py, one gRPC call on containerd's socket.
    # Debian has no crictl; its gRPC runtime is packaged in every suite.
    "python3-grpcio",
]
IMAGES = {
    # Debian 11 (Python 3.9, Docker 20.10.5, containerd 1.4, Podman 3.0.1): the oldest host Python we prove, with
    # the TOML reader its archive ships (python3-toml; bullseye has no python3-tomli).
    "debian11": {"suite": "bullseye", "packages": BASE_PACKAGES + ["containernetworking-plugins", "python3-toml"]},
    # bookworm's containers-common needs the virtual container-network-stack, which debootstrap cannot resolve.
    "debian12": {"suite": "bookworm", "packages": BASE_PACKAGES + ["containernetworking-plugins"]},
    # python3-grpcio needs the virtual libre2-11-absl20240722 there; debootstrap resolves no virtual package:
    # name its provider, libre2-11 (the same on forky).
    "debian13": {"suite": "trixie", "packages": BASE_PACKAGES + ["docker-cli", "libre2-11"]},
    # Debian 14 (testing): this debootstrap has no forky script, sid's builds it. Boots on a private cgroup2
    # hierarchy (OWN_CGROUP2_IMAGES).
    "forky": {"suite": "forky", "packages": BASE_PACKAGES + ["docker-cli", "libre2-11"],
              "script": "/usr/share/debootstrap/scripts/sid",
              # The testing archive's snapshot is older than the clock: apt would refuse its Release as expired.
              "apt_conf": {"99fleet-valid-until": 'Acquire::Check-Valid-Until "false";\n'}},
}

# The host's mirror: Debian's docker-registry, without auth, on the host's own loopback only.
REGISTRY_CONFIG = """\
version: 0.1
log:
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: /var/lib/docker-registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
"""

# Imports a tiny image (busybox only) as the given reference; used to seed mirrors and run containers.
SEED_IMAGE_SCRIPT = """\
#!/bin/sh
# usage: fleet-seed-image REF — import a tiny busybox image as REF (no registry needed)
set -eu
dir=$(mktemp -d)
mkdir -p "$dir/bin"
cp /bin/busybox "$dir/bin/busybox"
for applet in sh sleep cat echo ls; do ln -s busybox "$dir/bin/$applet"; done
tar -C "$dir" -c . | docker import -c 'CMD ["/bin/sleep", "infinity"]' - "$1" >/dev/null
rm -rf "$dir"
"""

# The SSH flavour's login: a non-root user with passwordless sudo (as on a real fleet), and an sshd that listens
# on the host's own loopback only and takes keys only. The key is generated on the controller at `up` time.
SSH_USER = "deploy"
SSHD_CONFIG = """\
# Written by tools/fleet.py: reached only through `docker exec HOST socat - TCP:127.0.0.1:22`.
ListenAddress 127.0.0.1
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UseDNS no
"""
SUDOERS = f"{SSH_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n"
# The controller's side: never inside the repository, so a key is never committed.
STATE_DIR = os.environ.get("FLEETOPS_FLEET_STATE") or os.path.expanduser("~/.local/state/fleetops-fleet")
SSH_KEY = os.path.join(STATE_DIR, "id_ed25519")

# Units that have nothing to do in a container and would only make systemd report "degraded".
MASKED_UNITS = [
    "systemd-udevd.service", "systemd-udevd-control.socket", "systemd-udevd-kernel.socket",
    "getty@tty1.service", "console-getty.service", "systemd-remount-fs.service",
    "systemd-modules-load.service", "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_reap.service",
]

MACHINE_CGROUPS = "/sys/fs/cgroup:/sys/fs/cgroup:rw"
RUN_FLAGS = [
    "--network", "none",
    "--cap-add=ALL", "--cap-drop=SYS_RESOURCE",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "--cgroupns=host", "-v", MACHINE_CGROUPS,
    "--tmpfs", "/run", "--tmpfs", "/run/lock",
    # Anonymous volumes for every runtime's image store: an overlay mount (dockerd's overlay2, containerd's
    # overlayfs snapshotter, Podman's overlay driver) cannot have its upper layer on the host's own overlay root.
    "-v", "/var/lib/docker", "-v", "/var/lib/docker-registry",
    "-v", "/var/lib/containerd", "-v", "/var/lib/containers",
    "--stop-signal", "SIGRTMIN+3",
]


def log(message: str) -> None:
    print(f"[fleet] {message}", flush=True)


def run(argv: list[str], check: bool = True, capture: bool = True, **kwargs) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(argv, text=True, capture_output=capture, check=False, **kwargs)
    except subprocess.TimeoutExpired:
        result = subprocess.CompletedProcess(argv, 124, "", f"timed out after {kwargs.get('timeout')}s")
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout or "").strip() if capture else ""
        raise SystemExit(f"[fleet] command failed ({result.returncode}): {' '.join(argv)}\n{detail}")
    return result


def docker_ok() -> bool:
    if not shutil.which("docker"):
        return False
    return run(["docker", "info", "--format", "{{.ServerVersion}}"], check=False).returncode == 0


# apt allows one user at a time; wait for a lock another apt holds (unattended upgrades, a parallel step)
# instead of failing at once with "Could not get lock".
APT_LOCK_WAIT = ["-o", "DPkg::Lock::Timeout=300"]


def apt_install(packages: list[str]) -> None:
    missing = [package for package in packages if not shutil.which(APT_COMMANDS.get(package, package))]
    if not missing:
        return
    log(f"installing Debian packages: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", *APT_LOCK_WAIT, "update", "-qq"], env=env)
    run(["apt-get", *APT_LOCK_WAIT, "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)


# Every host runs systemd, journald and dockerd, each holding inotify instances. The kernel's default of 128
# instances per user runs out at about a dozen hosts: systemd's .path units then fail and the boot stalls in
# "initializing" for ever. Raise the limits where we may (root on the engine's machine).
INOTIFY_LIMITS = {"fs/inotify/max_user_instances": 8192, "fs/inotify/max_user_watches": 1048576}


def raise_inotify_limits() -> None:
    for key, wanted in INOTIFY_LIMITS.items():
        path = os.path.join("/proc/sys", key)
        try:
            with open(path, encoding="ascii") as f:
                current = int(f.read())
            if current < wanted:
                with open(path, "w", encoding="ascii") as f:
                    f.write(str(wanted))
                log(f"raised {key.replace('/', '.')} from {current} to {wanted}")
        except OSError as exc:
            log(f"cannot raise {key.replace('/', '.')} ({exc.strerror}): large fleets may not boot")


def cmd_engine(_args: argparse.Namespace) -> None:
    raise_inotify_limits()
    if docker_ok():
        version = run(["docker", "info", "--format", "{{.ServerVersion}}"]).stdout.strip()
        log(f"using the running Docker engine {version}")
        return
    apt_install(["docker.io"])
    log(f"starting dockerd in the background (log: {DOCKERD_LOG})")
    with open(DOCKERD_LOG, "ab") as logfile:
        subprocess.Popen(["dockerd"], stdout=logfile, stderr=logfile, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    started = time.monotonic()
    while time.monotonic() - started < 90:
        if docker_ok():
            log(f"dockerd is up after {time.monotonic() - started:.1f}s")
            return
        time.sleep(1)
    raise SystemExit(f"[fleet] dockerd did not answer within 90s; see {DOCKERD_LOG}")


def recipe_digest(name: str) -> str:
    recipe = {
        "image": IMAGES[name], "registry": REGISTRY_CONFIG, "seed": SEED_IMAGE_SCRIPT,
        "masked": MASKED_UNITS, "archive": DEBIAN_ARCHIVE,
        "ssh": [SSH_USER, SSHD_CONFIG, SUDOERS],
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def image_ref(name: str) -> str:
    return f"{IMAGE_REPO}:{name}-{recipe_digest(name)}"


def image_exists(ref: str) -> bool:
    return run(["docker", "image", "inspect", ref], check=False).returncode == 0


def configure_rootfs(rootfs: str, spec: dict) -> None:
    with open(os.path.join(rootfs, "etc/machine-id"), "w", encoding="utf-8"):
        pass
    with open(os.path.join(rootfs, "etc/docker/registry/config.yml"), "w", encoding="utf-8") as f:
        f.write(REGISTRY_CONFIG)
    seed = os.path.join(rootfs, "usr/local/bin/fleet-seed-image")
    with open(seed, "w", encoding="utf-8") as f:
        f.write(SEED_IMAGE_SCRIPT)
    os.chmod(seed, 0o755)
    for unit in MASKED_UNITS:
        link = os.path.join(rootfs, "etc/systemd/system", unit)
        if not os.path.lexists(link):
            os.symlink("/dev/null", link)
    configure_ssh(rootfs)
    for conf_name, text in spec.get("apt_conf", {}).items():
        with open(os.path.join(rootfs, "etc/apt/apt.conf.d", conf_name), "w", encoding="utf-8") as f:
            f.write(text)
    # The package's default daemon.json does not exist; make sure no stale one ships in the image.
    stale = os.path.join(rootfs, "etc/docker/daemon.json")
    if os.path.exists(stale):
        os.remove(stale)


def configure_ssh(rootfs: str) -> None:
    """The deploy user (not in the docker group: it needs sudo, like a real operator), sudo, sshd on loopback."""
    run(["chroot", rootfs, "useradd", "--create-home", "--shell", "/bin/bash", SSH_USER])
    sudoers = os.path.join(rootfs, "etc/sudoers.d", SSH_USER)
    with open(sudoers, "w", encoding="utf-8") as f:
        f.write(SUDOERS)
    os.chmod(sudoers, 0o440)
    with open(os.path.join(rootfs, "etc/ssh/sshd_config.d/fleet.conf"), "w", encoding="utf-8") as f:
        f.write(SSHD_CONFIG)
    # pam_loginuid cannot set the audit login uid inside a container; sshd would refuse the session.
    pam_sshd = os.path.join(rootfs, "etc/pam.d/sshd")
    with open(pam_sshd, encoding="utf-8") as f:
        text = f.read()
    with open(pam_sshd, "w", encoding="utf-8") as f:
        f.write(text.replace("session    required     pam_loginuid.so", "session    optional     pam_loginuid.so"))


def build_image(name: str) -> str:
    ref = image_ref(name)
    if image_exists(ref):
        log(f"{name}: cached image {ref}")
        run(["docker", "tag", ref, f"{IMAGE_REPO}:{name}"])
        return ref
    spec = IMAGES[name]
    started = time.monotonic()
    log(f"{name}: building {ref} with debootstrap ({spec['suite']}; about a minute)")
    workdir = tempfile.mkdtemp(prefix=f"fleetops-{name}-", dir="/var/tmp")
    rootfs = os.path.join(workdir, "rootfs")
    try:
        run(["debootstrap", "--variant=minbase", f"--include={','.join(spec['packages'])}",
             spec["suite"], rootfs, DEBIAN_ARCHIVE, *([spec["script"]] if "script" in spec else [])])
        configure_rootfs(rootfs, spec)
        log(f"{name}: importing the root filesystem into Docker")
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        run(["docker", "import", "-c", 'CMD ["/lib/systemd/systemd"]', "-", ref], stdin=tar.stdout)
        if tar.wait() != 0:
            raise SystemExit(f"[fleet] {name}: tar of the root filesystem failed")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    run(["docker", "tag", ref, f"{IMAGE_REPO}:{name}"])
    log(f"{name}: built in {time.monotonic() - started:.0f}s")
    return ref


def check_image_names(names) -> None:
    unknown = sorted(set(names) - set(IMAGES))
    if unknown:
        raise SystemExit(f"[fleet] unknown image {', '.join(unknown)}; known: {', '.join(sorted(IMAGES))}")


def cmd_image(args: argparse.Namespace) -> None:
    names = args.names or sorted(IMAGES)
    check_image_names(names)
    build_images(names)


def build_images(names) -> None:
    """Build the missing images in parallel; the one apt step they share runs first, alone."""
    if not all(image_exists(image_ref(name)) for name in names):
        apt_install(["debootstrap"])
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(names)) as pool:
        list(pool.map(build_image, names))


def fleet_members(prefix: str) -> list[str]:
    out = run(["docker", "ps", "-a", "--filter", f"label={FLEET_LABEL}={prefix}", "--format", "{{.Names}}"])
    return sorted(out.stdout.split())


def wait_ready(name: str, transport: str = "docker", timeout: float = 180) -> None:
    """Wait until systemd has booted and the host's dockerd and mirror answer; never longer than timeout."""
    deadline = time.monotonic() + timeout
    checks = [
        ["systemctl", "is-system-running"],
        ["docker", "info", "--format", "{{.ServerVersion}}"],
        ["systemctl", "is-active", "docker-registry"],
    ]
    if transport == "ssh":
        checks.append(["systemctl", "is-active", "ssh"])
    for check in checks:
        while True:
            result = run(["docker", "exec", name, *check], check=False, timeout=30)
            state = result.stdout.strip()
            if result.returncode == 0 or state == "degraded":
                break
            if time.monotonic() > deadline:
                failed = run(["docker", "exec", name, "systemctl", "--failed", "--no-legend"], check=False, timeout=30)
                raise SystemExit(f"[fleet] {name}: not ready after {timeout:.0f}s: {' '.join(check)} "
                                 f"-> {state or result.stderr.strip()}; failed units: {failed.stdout.strip() or 'none'}")
            time.sleep(1)


# Images whose systemd refuses this machine's cgroup v1 ("Detected unsupported legacy cgroup hierarchy": forky's
# systemd 262). Each such host gets its own subdirectory of one cgroup2 hierarchy mounted on the machine, bound as
# its /sys/fs/cgroup; its shell moves itself into that cgroup and starts systemd in a cgroup namespace rooted
# there. Without the namespace, `systemctl restart containerd` makes containerd 2.1 "clean a leaked shim" and lose
# dockerd's running task.
OWN_CGROUP2_IMAGES = {"forky"}
CGROUP2_ROOT = "/run/fleetops-cgroup2"
CGROUP2_ENTRYPOINT = ["--entrypoint", "/bin/sh"]
CGROUP2_COMMAND = ["-c", "echo $$ > /sys/fs/cgroup/cgroup.procs && exec unshare --cgroup /lib/systemd/systemd"]


def cgroup2_mounted() -> bool:
    with open("/proc/self/mounts", encoding="utf-8") as f:
        return any(line.split()[1:3] == [CGROUP2_ROOT, "cgroup2"] for line in f)


def host_cgroup2(name: str) -> str:
    """The host's own empty cgroup2 directory (the hierarchy mounted once, a leftover of an old host removed)."""
    if not cgroup2_mounted():
        os.makedirs(CGROUP2_ROOT, exist_ok=True)
        run(["mount", "-t", "cgroup2", "none", CGROUP2_ROOT])
    directory = os.path.join(CGROUP2_ROOT, name)
    remove_cgroup2(name)
    os.mkdir(directory)
    return directory


def remove_cgroup2(name: str, timeout: float = 30) -> None:
    """Remove a stopped host's cgroup subtree depth-first (rmdir fails while its last processes still exit)."""
    directory = os.path.join(CGROUP2_ROOT, name)
    deadline = time.monotonic() + timeout
    while os.path.isdir(directory):
        for root, dirs, _files in os.walk(directory, topdown=False):
            for child in [os.path.join(root, d) for d in dirs] + ([directory] if root == directory else []):
                try:
                    os.rmdir(child)
                except OSError:
                    pass
        if os.path.isdir(directory):
            if time.monotonic() > deadline:
                log(f"{name}: cannot remove its cgroup {directory}: processes still in it")
                return
            time.sleep(0.2)


def boot_flags(name: str, image: str) -> tuple[list[str], list[str]]:
    """docker run flags before the image and arguments after it: the machine's cgroups, or a private cgroup2."""
    if image not in OWN_CGROUP2_IMAGES:
        return RUN_FLAGS, []
    own = f"{host_cgroup2(name)}:/sys/fs/cgroup:rw"
    return [own if flag == MACHINE_CGROUPS else flag for flag in RUN_FLAGS] + CGROUP2_ENTRYPOINT, CGROUP2_COMMAND


def start_host(prefix: str, name: str, image: str) -> None:
    flags, command = boot_flags(name, image)
    run(["docker", "run", "-d", "--name", name, "--hostname", name, "--label", f"{FLEET_LABEL}={prefix}",
         "--label", f"fleetops.image={image}", *flags, image_ref(image), *command])
    wait_ready(name)


def ssh_key() -> str:
    """The controller's key for the deploy user (made once, kept outside the repository); returns its path."""
    if not os.path.exists(SSH_KEY):
        apt_install(["openssh-client"])
        os.makedirs(STATE_DIR, mode=0o700, exist_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fleetops-fleet", "-f", SSH_KEY])
        log(f"SSH key for the fleet's {SSH_USER} user: {SSH_KEY}")
    return SSH_KEY


def authorize_key(name: str, key: str) -> None:
    with open(f"{key}.pub", encoding="utf-8") as f:
        public_key = f.read()
    home = f"/home/{SSH_USER}/.ssh"
    run(["docker", "exec", "-i", name, "sh", "-ec",
         f"install -d -m 700 -o {SSH_USER} -g {SSH_USER} {home}; cat > {home}/authorized_keys; "
         f"chown {SSH_USER}:{SSH_USER} {home}/authorized_keys; chmod 600 {home}/authorized_keys"],
        input=public_key)


def proxy_command(name: str) -> str:
    """SSH to the host's loopback sshd through the Docker socket: no IP traffic leaves the engine host."""
    return f"docker exec -i {name} socat - TCP:127.0.0.1:22"


def ssh_host_vars(name: str) -> dict[str, str]:
    return {"ansible_ssh_common_args": f'-o ProxyCommand="{proxy_command(name)}" '
                                       "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"}


def connection_vars(transport: str) -> dict[str, str]:
    if transport == "ssh":
        return {"ansible_connection": "ssh", "ansible_user": SSH_USER, "ansible_ssh_private_key_file": SSH_KEY}
    return {"ansible_connection": "community.docker.docker"}


def write_inventory(path: str, prefix: str, hosts: dict[str, str], transport: str = "docker") -> None:
    groups: dict[str, list[str]] = {}
    for name, image in hosts.items():
        groups.setdefault(image, []).append(name)
    inventory = {
        prefix: {
            "hosts": {name: ssh_host_vars(name) if transport == "ssh" else {} for name in hosts},
            "vars": {**connection_vars(transport), "ansible_python_interpreter": "/usr/bin/python3"},
            "children": {image: {"hosts": {n: {} for n in names}} for image, names in groups.items()},
        }
    }
    how = {"docker": "through the Docker socket",
           "ssh": f"over SSH as {SSH_USER} (sudo), tunnelled through the Docker socket"}[transport]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"# Written by tools/fleet.py: the hosts are reached {how}.\n")
        json.dump(inventory, f, indent=2)  # JSON is valid YAML: Ansible's yaml inventory reads it
        f.write("\n")
    log(f"inventory written to {path}")


def host_plan(args: argparse.Namespace) -> dict[str, str]:
    """Host name -> image name: explicit --host NAME=IMAGE pairs, else PREFIX-1..N round-robin."""
    if args.host:
        plan = dict(spec.split("=", 1) for spec in args.host)
    else:
        images = args.images.split(",")
        plan = {f"{args.prefix}-{i + 1}": images[i % len(images)] for i in range(args.count)}
    check_image_names(plan.values())
    return plan


def cmd_up(args: argparse.Namespace) -> None:
    raise_inotify_limits()
    hosts = host_plan(args)
    build_images(sorted(set(hosts.values())))
    if args.replace:
        remove_hosts(args.prefix)
    existing = set(fleet_members(args.prefix))
    key = ssh_key() if args.transport == "ssh" else None
    started = time.monotonic()
    log(f"starting {len(hosts)} host(s) for fleet '{args.prefix}'")
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, len(hosts))) as pool:
        futures = [pool.submit(start_host, args.prefix, name, image)
                   for name, image in hosts.items() if name not in existing]
        for future in futures:
            future.result()
    if key:
        for name in hosts:  # also the hosts that were already up
            wait_ready(name, "ssh")
            authorize_key(name, key)
    log(f"fleet '{args.prefix}' ready in {time.monotonic() - started:.0f}s")
    if args.inventory:
        write_inventory(args.inventory, args.prefix, hosts, args.transport)


def remove_hosts(prefix: str) -> None:
    members = fleet_members(prefix)
    if members:
        log(f"removing {len(members)} host(s) of fleet '{prefix}'")
        run(["docker", "rm", "-f", "-v", *members])
        for name in members:
            remove_cgroup2(name)


def cmd_down(args: argparse.Namespace) -> None:
    remove_hosts(args.prefix)


def host_status(name: str) -> str:
    info = run(["docker", "exec", name, "docker", "info", "--format",
                "{{.ServerVersion}}\t{{json .RegistryConfig.Mirrors}}"], check=False)
    if info.returncode != 0:
        return f"{name:<20} docker not answering: {info.stderr.strip()}"
    version, mirrors = info.stdout.strip().split("\t")
    return f"{name:<20} Docker {version:<16} mirrors {', '.join(json.loads(mirrors) or []) or '(none)'}"


def cmd_status(args: argparse.Namespace) -> None:
    for name in fleet_members(args.prefix):
        print(host_status(name), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("engine").set_defaults(func=cmd_engine)
    image = sub.add_parser("image")
    image.add_argument("names", nargs="*")
    image.set_defaults(func=cmd_image)
    up = sub.add_parser("up")
    up.add_argument("--prefix", required=True)
    up.add_argument("--count", type=int, default=3)
    up.add_argument("--images", default="debian12")
    up.add_argument("--host", action="append", metavar="NAME=IMAGE", help="explicit hosts (repeatable)")
    up.add_argument("--inventory")
    up.add_argument("--replace", action="store_true", help="remove an existing fleet of that prefix first")
    up.add_argument("--transport", choices=["docker", "ssh"], default="docker",
                    help="how the inventory reaches the hosts (ssh: as deploy with sudo, see above)")
    up.set_defaults(func=cmd_up)
    for name, func in (("down", cmd_down), ("status", cmd_status)):
        p = sub.add_parser(name)
        p.add_argument("--prefix", required=True)
        p.set_defaults(func=func)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
