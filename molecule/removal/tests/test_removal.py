"""Removing the last mirror: no mirror live, the key kept as [] so a reload clears it, nothing restarted."""

import json


def test_no_mirror_live(host):
    assert json.loads(host.check_output("docker info --format '{{json .RegistryConfig.Mirrors}}'")) in ([], None)


def test_key_kept_empty_and_other_keys_kept(host):
    current = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert current == {"log-level": "info", "registry-mirrors": []}


def test_pull_no_longer_goes_through_the_mirror(host):
    host.run("docker rmi -f hello:1")
    assert host.run("docker pull hello:1").rc != 0  # no mirror, and no Docker Hub from a --network none host


def test_container_was_not_restarted(host):
    started = host.check_output("docker inspect --format '{{.State.StartedAt}}' app")
    assert started == host.file("/var/tmp/fleet-app-started").content_string.strip()
