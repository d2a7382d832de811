"""After converge: every other key kept, the mirror live, the container untouched, pulls served by the mirror."""

import json

import pytest

MIRROR = "http://127.0.0.1:5000/"


def docker_info(host):
    return json.loads(host.check_output("docker info --format '{{json .}}'"))


def test_systemd_and_dockerd_run(host):
    assert host.check_output("cat /proc/1/comm") == "systemd"
    assert host.service("docker").is_running
    expected_major = {"bookworm": 20, "trixie": 26}[host.system_info.codename]
    assert int(docker_info(host)["ServerVersion"].split(".")[0]) == expected_major


def test_other_keys_kept(host):
    current = json.loads(host.file("/etc/docker/daemon.json").content_string)
    initial_file = host.file("/var/tmp/fleet-initial-daemon.json")
    initial = json.loads(initial_file.content_string) if initial_file.exists else {}
    assert {k: v for k, v in current.items() if k != "registry-mirrors"} == \
           {k: v for k, v in initial.items() if k != "registry-mirrors"}
    assert list(current)[: len(initial)] == list(initial), "key order changed"
    assert [m.rstrip("/") for m in current["registry-mirrors"]] == [MIRROR.rstrip("/")]


def test_file_mode(host):
    daemon_json = host.file("/etc/docker/daemon.json")
    assert daemon_json.user == "root" and daemon_json.mode == 0o644


def test_mirror_is_live(host):
    assert docker_info(host)["RegistryConfig"]["Mirrors"] == [MIRROR]


def test_container_was_not_restarted(host):
    started = host.check_output("docker inspect --format '{{.State.StartedAt}}' app")
    assert host.check_output("docker inspect --format '{{.State.Running}}' app") == "true"
    assert started == host.file("/var/tmp/fleet-app-started").content_string.strip()


@pytest.mark.parametrize("image", ["hello:1"])
def test_plain_pull_is_served_by_the_mirror(host, image):
    host.run(f"docker rmi -f {image}")
    since = host.check_output("date +%s")
    pull = host.run(f"docker pull {image}")
    assert pull.rc == 0, pull.stderr
    log = host.check_output(f"journalctl -u docker-registry --since @{since} --no-pager -o cat")
    assert 'uri="/v2/library/hello/manifests/1"' in log or "uri=/v2/library/hello/manifests/1" in log, log


def test_no_rollback_copy_left_behind(host):
    # docker_mirror_backup is false: the role's rollback copy is removed once Docker took the change.
    assert host.run("ls /etc/docker/daemon.json.*~").rc != 0
