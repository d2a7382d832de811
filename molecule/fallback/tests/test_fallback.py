"""A dead first mirror does not stop pulls: dockerd falls through to the next one, as Docker documents."""

import json

MIRRORS = ["http://127.0.0.1:5999/", "http://127.0.0.1:5000/"]


def test_both_mirrors_live_in_order(host):
    info = json.loads(host.check_output("docker info --format '{{json .RegistryConfig.Mirrors}}'"))
    assert info == MIRRORS


def test_first_mirror_is_dead(host):
    assert not host.socket("tcp://127.0.0.1:5999").is_listening


def test_pull_falls_back_to_the_live_mirror(host):
    host.run("docker rmi -f hello:1")
    since = host.check_output("date +%s")
    pull = host.run("docker pull hello:1")
    assert pull.rc == 0, pull.stderr
    log = host.check_output(f"journalctl -u docker-registry --since @{since} --no-pager -o cat")
    assert "/v2/library/hello/manifests/1" in log, log
