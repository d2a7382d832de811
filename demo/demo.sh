#!/usr/bin/env bash
# make demo: a three-host local fleet, the configure playbook applied to it, then a pull through the mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
timed=tools/timed
inventory=demo/inventory

$timed "demo fleet: 3 hosts (Debian 12, 13, 12), each with systemd, its own dockerd and a mirror on its loopback" \
  python3 tools/fleet.py up --prefix demo --replace --images debian12,debian13 --count 3 --inventory $inventory/fleet.yml
$timed "starting state: demo-1 has no daemon.json, demo-2 other teams' keys, demo-3 the mirror already; each runs a container" \
  ansible-playbook -i $inventory molecule/_shared/prepare.yml
$timed "before: each host's Docker version and live registry mirrors" python3 tools/fleet.py status --prefix demo
$timed "the main job: ansible-playbook fleetops.docker_mirror.configure" \
  ansible-playbook -i $inventory fleetops.docker_mirror.configure
$timed "after: each host's Docker version and live registry mirrors" python3 tools/fleet.py status --prefix demo
$timed "proof: a plain 'docker pull hello:1' on every host, served by its mirror" ansible-playbook -i $inventory demo/pull.yml
$timed "one node, every runtime: docker_mirror_runtimes=auto on demo-2 (Docker, containerd, Podman)" \
  ansible-playbook -i $inventory fleetops.docker_mirror.configure --limit demo-2 -e docker_mirror_runtimes=auto
$timed "proof: podman pull, ctr images pull and docker pull of hello:1 on demo-2, all served by its mirror" \
  ansible-playbook -i $inventory demo/pull_runtimes.yml

cat <<'TEXT'

What you just saw
  - Three Docker hosts that started different were pointed at a registry mirror by one playbook run, a canary
    host first, then the rest. demo-2 kept every key other teams had put in its daemon.json; demo-3 already
    had the mirror (spelled without the trailing slash) and was left untouched.
  - Docker took the change by a reload (SIGHUP): the container that was running on each host was never
    restarted. The role then checked the live daemon (docker info) on every host and printed the fleet summary.
  - 'docker pull hello:1' was served by each host's mirror: the image exists nowhere else.
  - On demo-2, docker_mirror_runtimes=auto found Docker, containerd and Podman: containerd got a hosts.toml
    (and config_path in its config.toml, so it restarted once, its containers kept running), Podman a
    registries.conf drop-in; podman pull, ctr images pull and docker pull were all served by the mirror.

The same against your own fleet:
  ansible-playbook -i YOUR_INVENTORY fleetops.docker_mirror.configure --check --diff     # review first
  ansible-playbook -i YOUR_INVENTORY fleetops.docker_mirror.configure \
      -e '{"docker_mirror_registry_mirrors": ["https://mirror.gcr.io"]}'
  ansible-playbook -i YOUR_INVENTORY fleetops.docker_mirror.verify \
      -e '{"docker_mirror_registry_mirrors": ["https://mirror.gcr.io"]}'

The demo hosts keep running: 'make demo-down' removes them.
TEXT
