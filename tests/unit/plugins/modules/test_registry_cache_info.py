# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_cache_info: the upstream the running process proxies, read from the configuration file it was started
with, and every reason an instance is not verified (the HTTP checks go through _probe, tested on its own)."""

from __future__ import annotations

import os
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _probe
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._host import HostRunner
from ansible_collections.fleetops.docker_mirror.plugins.modules import registry_cache_info as info

UPSTREAM = "https://registry-1.docker.io"
JOURNAL = {
    "crashing": 'time="x" level=info msg="redis not configured"\n'
                'panic: Get "http://127.0.0.1:5100/v2/": dial tcp 127.0.0.1:5100: connect: connection refused\n'
                "goroutine 1 [running]:\n"
                "registry-cache-hub.service: Main process exited, code=exited, status=2/INVALIDARGUMENT",
    "bind": 'time="x" level=info msg="providing prometheus metrics on /metrics"\n'
            'time="x" level=fatal msg="listen tcp 127.0.0.1:5443: bind: address already in use"\n'
            "registry-cache-hub.service: Failed with result 'exit-code'.",
}
CONFIG = '# Managed by fleetops.docker_mirror.registry_cache\n{"proxy": {"remoteurl": "%s"}}\n'


def instance(host, **changes: t.Any) -> dict[str, t.Any]:
    return dict({"name": "hub", "registry": "docker.io", "url": "https://cache1:5443", "upstream": UPSTREAM,
                 "listen": ":5443", "debug_address": "127.0.0.1:15443", "service": "registry-cache-hub.service",
                 "config": host.root + "/cache-hub.yml", "probe_image": ""}, **changes)


@pytest.fixture
def answers(monkeypatch) -> dict[str, dict]:
    """What each HTTP check answers (all ok unless a test says otherwise); the targets asked are recorded."""
    ok = {"mirror": "", "ok": True, "status": 200, "error": None, "note": None}
    state: dict[str, t.Any] = {"probe": dict(ok), "/debug/health": dict(ok), "/metrics": dict(ok),
                               "manifest": dict(ok), "asked": []}

    def fake_probe(target, timeout):
        state["asked"].append(target)
        return state["probe"]

    monkeypatch.setattr(_probe, "probe", fake_probe)
    monkeypatch.setattr(_probe, "get_path", lambda target, path, timeout: state[path])
    monkeypatch.setattr(_probe, "resolve_manifest", lambda target, repo, ref, timeout: dict(
        state["manifest"], asked="%s:%s" % (repo, ref)))
    return state


@pytest.fixture
def running(host, monkeypatch):
    """The unit's main process: pid 77 running docker-registry serve on the instance's config."""
    pid = {"value": 77}
    monkeypatch.setattr(HostRunner, "main_pid", lambda runner, service: pid["value"])
    host.add_process(77, ["/usr/bin/docker-registry", "serve", host.root + "/cache-hub.yml"], "docker-registry")
    host.write(host.root + "/cache-hub.yml", CONFIG % UPSTREAM)
    return pid


def verify(host, **changes: t.Any) -> dict[str, t.Any]:
    return host.run(info.main, instances=[instance(host, **changes)], ca="-----BEGIN CERTIFICATE-----\n")


def test_verified(host, answers, running) -> None:
    result = verify(host, probe_image="hello:1")
    item = result["instances"][0]
    assert result["problems"] == [] and item["ok"] and item["pulled"] is True
    assert item["upstream"] == UPSTREAM and item["pid"] == 77
    assert answers["asked"][0].url == "https://localhost:5443"


@pytest.mark.parametrize("setup, words", [
    ("stopped", "registry-cache-hub.service does not run"),
    ("crashing", "registry-cache-hub.service does not run: it exits at start: Get \"http://127.0.0.1:5100/v2/\": "
                 "dial tcp 127.0.0.1:5100: connect: connection refused"),
    ("bind", "registry-cache-hub.service does not run: it exits at start: listen tcp 127.0.0.1:5443: bind: "
             "address already in use"),
    ("other-program", "the main process of registry-cache-hub.service is not docker-registry serve"),
    ("other-config", "it runs /elsewhere.yml, not"),
    ("other-upstream", "it proxies https://quay.io, not https://registry-1.docker.io"),
    ("unreadable", "not a configuration file written by the registry_cache role"),
    ("no-tls", "/v2/ over TLS: x509: certificate signed by unknown authority"),
    ("no-health", "health: HTTP status 503 for GET /debug/health"),
    ("no-metrics", "metrics: connect: connection refused"),
    ("no-manifest", "hello:1 through the cache: HTTP status 404 for HEAD /v2/library/hello/manifests/1"),
])
def test_problems_name_the_instance_and_why(host, answers, running, setup: str, words: str) -> None:
    if setup == "stopped":
        running["value"] = 0
    elif setup in ("crashing", "bind"):
        running["value"] = 0
        host.write(host.bin_dir + "/journalctl", "#!/bin/sh\ncat <<'EOF'\n%s\nEOF\n" % JOURNAL[setup])
        os.chmod(host.bin_dir + "/journalctl", 0o755)
    elif setup == "other-program":
        host.add_process(77, ["/usr/bin/python3", "-m", "http.server"], "python3")
    elif setup == "other-config":
        host.add_process(77, ["/usr/bin/docker-registry", "serve", "/elsewhere.yml"], "docker-registry")
    elif setup == "other-upstream":
        host.write(host.root + "/cache-hub.yml", CONFIG % "https://quay.io")
    elif setup == "unreadable":
        host.write(host.root + "/cache-hub.yml", "version: 0.1\n")
    elif setup == "no-tls":
        answers["probe"] = dict(answers["probe"], ok=False, status=None,
                                error="x509: certificate signed by unknown authority")
    elif setup == "no-health":
        answers["/debug/health"] = dict(answers["/debug/health"], ok=False, status=503,
                                        error="HTTP status 503 for GET /debug/health")
    elif setup == "no-metrics":
        answers["/metrics"] = dict(answers["/metrics"], ok=False, status=None, error="connect: connection refused")
    elif setup == "no-manifest":
        answers["manifest"] = dict(answers["manifest"], ok=False, status=404,
                                   error="HTTP status 404 for HEAD /v2/library/hello/manifests/1")
    result = verify(host, probe_image="hello:1")
    assert not result["failed"] and not result["instances"][0]["ok"]
    assert any(problem.startswith("instance hub: ") and words in problem for problem in result["problems"]), \
        result["problems"]


@pytest.mark.parametrize("listen, host_asked", [
    (":5443", "localhost"), ("0.0.0.0:5443", "localhost"), ("[::]:5443", "localhost"),
    ("10.0.0.5:5443", "10.0.0.5"), ("127.0.0.1:5443", "127.0.0.1"),
])
def test_probe_host(listen: str, host_asked: str) -> None:
    assert info.probe_host(listen) == host_asked


def test_an_instance_that_does_not_run_is_not_probed(host, answers, running) -> None:
    running["value"] = 0
    result = verify(host)
    assert result["problems"] == ["instance hub: registry-cache-hub.service does not run"]
    assert answers["asked"] == [] and result["instances"][0]["answers"] is False


def test_an_upstream_that_does_not_answer_is_a_warning(host, answers, running, monkeypatch) -> None:
    def fake_probe(target, timeout):
        answers["asked"].append(target)
        if target.url == UPSTREAM:
            return dict(answers["probe"], ok=False, status=None, error="connect: connection refused")
        return answers["probe"]

    monkeypatch.setattr(_probe, "probe", fake_probe)
    result = verify(host)
    item = result["instances"][0]
    assert result["problems"] == [] and item["ok"]
    assert item["warnings"] == ["upstream https://registry-1.docker.io does not answer (connect: connection "
                                "refused): the cache serves only what it holds"]


def test_an_instance_still_starting_is_given_time(host, answers, running, monkeypatch) -> None:
    """Distribution asks its upstream before it listens: just after a (re)start /v2/ is refused for a moment."""
    calls = {"probe": 0}
    refused = dict(answers["probe"], ok=False, status=None, error="connect: connection refused")

    def fake_probe(target, timeout):
        if target.url == UPSTREAM:
            return answers["probe"]
        calls["probe"] += 1
        return refused if calls["probe"] < 3 else answers["probe"]

    monkeypatch.setattr(_probe, "probe", fake_probe)
    monkeypatch.setattr(info.time, "sleep", lambda seconds: None)
    result = verify(host)
    assert result["problems"] == [] and calls["probe"] == 3
