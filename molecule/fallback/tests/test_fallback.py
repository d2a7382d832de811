"""A dead first mirror does not stop pulls: dockerd falls through to the next one, as Docker documents.

What the role did, on each host: the file lists both mirrors in the order given, the running dockerd reports
them in that order, and a plain `docker pull` first fails on the dead mirror (dockerd's own log says so) and
is then served by the live one (the mirror's log shows the request).
"""

import json

DEAD, LIVE = "http://127.0.0.1:5999/", "http://127.0.0.1:5000/"


def normalised(mirrors):
    return [mirror.rstrip("/") + "/" for mirror in mirrors]


def test_file_lists_both_mirrors_in_order(host):
    document = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert normalised(document["registry-mirrors"]) == [DEAD, LIVE]


def test_both_mirrors_live_in_order(host):
    info = json.loads(host.check_output("docker info --format '{{json .RegistryConfig.Mirrors}}'"))
    assert info == [DEAD, LIVE]


def test_pull_tries_the_dead_mirror_then_the_live_one(host):
    host.run("docker rmi -f hello:1")
    since = host.check_output("date +%s")
    pull = host.run("docker pull hello:1")
    assert pull.rc == 0, pull.stderr
    dockerd = host.check_output(f"journalctl -u docker --since @{since} --no-pager -o cat")
    assert "127.0.0.1:5999" in dockerd, "dockerd did not try the first mirror:\n" + dockerd
    registry = host.check_output(f"journalctl -u docker-registry --since @{since} --no-pager -o cat")
    assert "/v2/library/hello/manifests/1" in registry, registry
