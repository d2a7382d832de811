"""The fleet hosts are real Docker hosts: systemd as PID 1, dockerd answering, a mirror on loopback."""

import json


def test_systemd_is_pid_1(host):
    assert host.check_output("cat /proc/1/comm") == "systemd"
    state = host.run("systemctl is-system-running").stdout.strip()
    assert state == "running", host.check_output("systemctl --failed --no-legend")


def test_dockerd_answers(host):
    assert host.service("docker").is_running
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    expected_major = {"bookworm": 20, "trixie": 26}[host.system_info.codename]
    assert int(info["ServerVersion"].split(".")[0]) == expected_major


def test_mirror_registry_listens_on_loopback_only(host):
    socket = host.socket("tcp://127.0.0.1:5000")
    assert socket.is_listening
    assert not host.socket("tcp://0.0.0.0:5000").is_listening
