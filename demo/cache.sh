#!/usr/bin/env bash
# make demo-cache: after `make demo`, a registry cache on demo-1 in front of all three demo hosts, deployed with
# its clients by one playbook (fleetops.docker_mirror.cache), then a pull through it on every host.
set -euo pipefail
cd "$(dirname "$0")/.."
timed=tools/timed
inventory=(-i demo/inventory -i demo/cache-inventory.yml)
tunnels=.cache/demo-tunnels
port=5443

$timed "the cache's upstream: fleet/cached:1 pushed to demo-1's registry on 127.0.0.1:5000, nowhere else" \
  docker exec demo-1 sh -ec '
    fleet-seed-image 127.0.0.1:5000/fleet/cached:1
    docker push -q 127.0.0.1:5000/fleet/cached:1 >/dev/null
    docker rmi 127.0.0.1:5000/fleet/cached:1 >/dev/null'

start_tunnel() {  # the client's 127.0.0.1:$port leads to demo-1's, through the Docker socket
  local client=$1 pid
  pid=$(docker inspect --format '{{.State.Pid}}' "$client")
  python3 tests/tools/loopback_tunnel.py stop --pidfile "$tunnels/$client.pid" >/dev/null
  nsenter -t "$pid" -n python3 tests/tools/loopback_tunnel.py start --listen "127.0.0.1:$port" \
    --pidfile "$tunnels/$client.pid" --log "$tunnels/$client.log" \
    -- docker exec -i demo-1 socat - "TCP:127.0.0.1:$port"
}
mkdir -p "$tunnels"
printf '\n==> tunnels: the 127.0.0.1:%s of demo-2 and demo-3 lead to demo-1'"'"'s (docker exec socat; loopbacks only)\n' "$port"
for client in demo-2 demo-3; do
  start_tunnel "$client"
done

$timed "the cache and its clients: ansible-playbook fleetops.docker_mirror.cache (cache first in every mirror list)" \
  ansible-playbook "${inventory[@]}" fleetops.docker_mirror.cache -e docker_mirror_exclusive=true
$timed "proof: 'docker pull fleet/cached:1' on every host, served by the cache on demo-1" \
  ansible-playbook "${inventory[@]}" demo/cache_pull.yml

cat <<'TEXT'

What you just saw
  - One playbook run deployed a Distribution pull-through cache on demo-1 (Debian's docker-registry, TLS with a
    CA generated on the controller, health and metrics on 127.0.0.1:15443), verified it (it answers, proxies
    http://127.0.0.1:5000, a manifest fetched through it), then pointed Docker on all three hosts at
    https://127.0.0.1:5443 with that CA, canary first, with the fleet summary.
  - fleet/cached:1 exists only in the cache's upstream: each host pulled it through the cache; the upstream's
    log shows each blob fetched by the cache's first miss only (Distribution 2.8 reads a missing blob twice
    then: once for the client, once for its storage); the cache served the other hosts from its storage.
  - demo-2 and demo-3 reach the cache through a tunnel on their own loopback (the hosts have no network).

The same on your own fleet (a group registry_caches in the inventory):
  ansible-playbook -i YOUR_INVENTORY fleetops.docker_mirror.cache \
      -e '{"registry_cache_instances": [{"name": "dockerhub", "registry": "docker.io", "port": 5443}]}'

'make demo-down' ends the tunnels and removes the demo hosts.
TEXT
