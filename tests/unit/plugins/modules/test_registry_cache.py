# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the real registry_cache module in-process against a temporary /etc: files written, check and diff mode,
restarts decided per instance, absent instances, every failure (the refusals of an instance have their table in
module_utils/test_distribution.py)."""

from __future__ import annotations

import os
import stat
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._host import HostRunner
from ansible_collections.fleetops.docker_mirror.plugins.modules import registry_cache

CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
CA = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
HUB = {"name": "dockerhub", "registry": "docker.io", "port": 5443}
K8S = {"name": "k8s", "registry": "registry.k8s.io", "port": 5444}


class Cache(t.NamedTuple):
    host: t.Any
    config_dir: str
    unit_dir: str
    storage_root: str
    active: set

    def run(self, instances: list[dict], check_mode: bool = False, diff: bool = False, **params: t.Any) -> dict:
        params = dict(dict(instances=instances, url_host="cache1.example", tls_cert=CERT, tls_key=KEY, ca=CA,
                           config_dir=self.config_dir, unit_dir=self.unit_dir, storage_root=self.storage_root),
                      **params)
        return self.host.run(registry_cache.main, check_mode=check_mode, diff=diff, **params)


@pytest.fixture
def cache(host, monkeypatch) -> Cache:
    version = os.path.join(host.bin_dir, "docker-registry")
    host.write(version, "#!/bin/sh\necho \"${FAKE_REGISTRY_VERSION-docker-registry github.com/docker/distribution "
                        "2.8.2+ds1}\"\nexit ${FAKE_REGISTRY_RC-0}\n")
    os.chmod(version, 0o755)
    systemctl = os.path.join(host.bin_dir, "systemctl")
    os.unlink(systemctl)  # the fake host's systemctl knows docker.service only: this one logs and succeeds
    host.write(systemctl, "#!/bin/sh\necho \"systemctl $*\" >> \"$FAKE_LOG\"\n")
    os.chmod(systemctl, 0o755)
    active: set = set()
    monkeypatch.setattr(HostRunner, "active", lambda runner, service: service + ".service" in active)
    return Cache(host, os.path.join(host.root, "registry"), os.path.join(host.root, "units"),
                 os.path.join(host.root, "storage"), active)


def test_writes_every_file_of_an_instance(cache: Cache) -> None:
    result = cache.run([dict(HUB, username="bot", password="s3cret-token")])
    assert result["changed"] and not result["failed"]
    config = os.path.join(cache.config_dir, "cache-dockerhub.yml")
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(os.path.join(cache.config_dir, "cache-tls", "server.key")).st_mode) == 0o640
    assert b'"remoteurl": "https://registry-1.docker.io"' in cache.host.read(config)
    assert os.path.isdir(os.path.join(cache.storage_root, "dockerhub"))
    assert result["daemon_reload_needed"] and result["release"] == "2.8.2"
    assert result["mirrors"] == {"docker.io": [{"url": "https://cache1.example:5443", "ca": CA}]}
    assert result["instances"][0]["restart_needed"] is False  # not running yet: the role starts it
    assert "s3cret-token" not in repr(result)


def test_second_run_changes_nothing(cache: Cache) -> None:
    cache.run([HUB, K8S])
    cache.active.update({"registry-cache-dockerhub.service", "registry-cache-k8s.service"})
    result = cache.run([HUB, K8S])
    assert not result["changed"] and not result["daemon_reload_needed"]
    assert [item["restart_needed"] for item in result["instances"]] == [False, False]


def test_a_change_restarts_only_that_instance(cache: Cache) -> None:
    cache.run([HUB, K8S])
    cache.active.update({"registry-cache-dockerhub.service", "registry-cache-k8s.service"})
    result = cache.run([HUB, dict(K8S, settings={"log": {"level": "warn"}})])
    restarts = [(item["name"], item["restart_needed"]) for item in result["instances"]]
    assert restarts == [("dockerhub", False), ("k8s", True)]
    assert not result["daemon_reload_needed"]


def test_a_new_certificate_restarts_every_running_instance(cache: Cache) -> None:
    cache.run([HUB, K8S])
    cache.active.add("registry-cache-k8s.service")
    result = cache.run([HUB, K8S], tls_cert=CERT.replace("MIIB", "MIIC"))
    assert [item["restart_needed"] for item in result["instances"]] == [False, True]


def test_check_mode_writes_nothing_and_masks_the_diff(cache: Cache) -> None:
    result = cache.run([dict(HUB, username="bot", password="s3cret-token")], check_mode=True, diff=True)
    assert result["changed"] and not os.path.exists(cache.config_dir) and not os.path.exists(cache.storage_root)
    texts = repr(result["diff"])
    assert "s3cret-token" not in texts and "MIIE" not in texts and '"password": "xxxxx"' in texts


def test_absent_stops_removes_and_keeps_storage(cache: Cache) -> None:
    cache.run([HUB, K8S])
    result = cache.run([HUB, dict(K8S, state="absent")])
    assert result["changed"] and result["daemon_reload_needed"]
    assert not os.path.exists(os.path.join(cache.config_dir, "cache-k8s.yml"))
    assert not os.path.exists(os.path.join(cache.unit_dir, "registry-cache-k8s.service"))
    assert os.path.isdir(os.path.join(cache.storage_root, "k8s"))
    assert any("disable --now registry-cache-k8s.service" in call for call in cache.host.calls("systemctl"))
    assert list(result["mirrors"]) == ["docker.io"]
    assert not cache.run([HUB, dict(K8S, state="absent")])["changed"]


def test_purge_storage(cache: Cache) -> None:
    cache.run([HUB, K8S])
    cache.run([HUB, dict(K8S, state="absent", purge_storage=True)])
    assert not os.path.exists(os.path.join(cache.storage_root, "k8s"))


@pytest.mark.parametrize("setup, params, words", [
    ("not-installed", {}, "the docker-registry package is not installed"),
    ("bad-version", {}, "--version did not name a release (exit status 0: garbage)"),
    ("failing-version", {}, "--version did not name a release (exit status 3"),
    ("foreign-config", {}, "cache-dockerhub.yml: not written by fleetops.docker_mirror.registry_cache"),
    ("", {"tls_cert": ""}, "tls_cert must hold PEM text (a certificate)"),
    ("", {"tls_key": CERT}, "tls_key must hold PEM text (a private key)"),
    ("", {"config_dir": "relative"}, "config_dir must be an absolute path"),
    ("", {"instances": [dict(HUB, settings={"htpp": 1})]},
     "instance dockerhub: settings key htpp is not a configuration key of Distribution 2.8.2"),
    ("2.7", {"instances": [dict(HUB, settings={"catalog": {"maxentries": 5}})]},
     "settings key catalog is not a configuration key of Distribution 2.7.1"),
])
def test_failures_name_the_host_and_change_nothing(cache: Cache, monkeypatch, setup: str, params: dict,
                                                   words: str) -> None:
    if setup == "not-installed":
        cache.host.remove_command("docker-registry")
        monkeypatch.setattr(registry_cache.AnsibleModule if hasattr(registry_cache, "AnsibleModule") else
                            registry_cache._files.SecretSafeModule, "get_bin_path",
                            lambda module, name, *args, **kwargs: None)
    elif setup == "bad-version":
        monkeypatch.setenv("FAKE_REGISTRY_VERSION", "garbage")
    elif setup == "failing-version":
        monkeypatch.setenv("FAKE_REGISTRY_RC", "3")
    elif setup == "2.7":
        monkeypatch.setenv("FAKE_REGISTRY_VERSION", "docker-registry github.com/docker/distribution v2.7.1+unknown")
    elif setup == "foreign-config":
        cache.host.write(os.path.join(cache.config_dir, "cache-dockerhub.yml"), "version: 0.1\n")
    result = cache.run([HUB], **params) if "instances" not in params else cache.run(**params)
    assert result["failed"]
    assert result["msg"].startswith("registry_cache on ")
    assert words in result["msg"]
    assert not os.path.exists(os.path.join(cache.unit_dir, "registry-cache-dockerhub.service"))


def test_check_mode_without_the_package_plans_the_files(cache: Cache, monkeypatch) -> None:
    monkeypatch.setattr(registry_cache._files.SecretSafeModule, "get_bin_path",
                        lambda module, name, *args, **kwargs: None)
    result = cache.run([HUB], check_mode=True)
    assert result["changed"] and result["release"] == ""


@pytest.mark.parametrize("answer, fails", [
    ("echo 'Access denied' >&2; exit 1", True),
    ("echo 'Unit registry-cache-k8s.service not loaded.' >&2; exit 5", False),
    ("echo 'Unit file registry-cache-k8s.service does not exist.' >&2; exit 1", False),
])
def test_absent_instance_that_cannot_be_stopped(cache: Cache, answer: str, fails: bool) -> None:
    cache.run([HUB, K8S])
    cache.host.write(os.path.join(cache.host.bin_dir, "systemctl"), "#!/bin/sh\n%s\n" % answer)
    result = cache.run([HUB, dict(K8S, state="absent")])
    assert result["failed"] is fails
    assert os.path.exists(os.path.join(cache.unit_dir, "registry-cache-k8s.service")) is fails
    if fails:
        assert "cannot stop registry-cache-k8s.service: Access denied" in result["msg"]


@pytest.fixture
def taken_port() -> t.Iterator[int]:
    """A port another process listens on (as the package's own docker-registry holds *:5000)."""
    import socket
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    yield holder.getsockname()[1]
    holder.close()


@pytest.mark.parametrize("field", ["port", "debug_port"])
def test_a_port_another_process_holds_is_refused_before_writing(cache: Cache, taken_port: int, field: str) -> None:
    item = dict(HUB, address="127.0.0.1", port=5443, debug_port=15443)
    item[field] = taken_port
    result = cache.run([item], check_mode=field == "debug_port")
    assert result["failed"]
    assert "instance dockerhub: %s %d (127.0.0.1:%d) is already in use" % (field, taken_port, taken_port) \
        in result["msg"], result["msg"]
    assert "nothing was written" in result["msg"]
    assert not os.path.exists(cache.config_dir) and not os.path.exists(cache.unit_dir)


def test_a_running_instance_keeps_its_own_port(cache: Cache, taken_port: int) -> None:
    item = dict(HUB, address="127.0.0.1", port=taken_port, debug_port=15443)
    cache.host.write(os.path.join(cache.config_dir, "cache-dockerhub.yml"),
                     "# Managed by fleetops.docker_mirror.registry_cache\n"
                     '{"http": {"addr": "127.0.0.1:%d", "debug": {"addr": "127.0.0.1:15443"}}}\n' % taken_port)
    cache.active.add("registry-cache-dockerhub.service")
    result = cache.run([item])
    assert not result["failed"], result["msg"]
    assert result["instances"][0]["restart_needed"]


@pytest.mark.parametrize("blocker", ["root", "inside"])
def test_a_storage_root_that_is_a_file_is_refused_before_writing(cache: Cache, blocker: str) -> None:
    cache.host.write(cache.storage_root, "not a directory\n")
    root = cache.storage_root if blocker == "root" else os.path.join(cache.storage_root, "sub")
    result = cache.run([HUB], storage_root=root)
    assert result["failed"]
    assert "instance dockerhub: storage directory %s/dockerhub: %s is not a directory" % (root, cache.storage_root) \
        in result["msg"], result["msg"]
    assert not os.path.exists(cache.config_dir) and not os.path.exists(cache.unit_dir)


def test_a_storage_directory_the_service_cannot_write_is_refused(cache: Cache, monkeypatch) -> None:
    os.makedirs(os.path.join(cache.storage_root, "dockerhub"))
    monkeypatch.setattr(registry_cache, "service_user", lambda: (4242, 4242))
    result = cache.run([HUB])
    assert result["failed"]
    assert "instance dockerhub: storage directory %s/dockerhub is owned by uid %d, not docker-registry" \
        % (cache.storage_root, os.getuid()) in result["msg"], result["msg"]
    assert not os.path.exists(cache.unit_dir)


def test_the_holder_of_a_port_is_named(taken_port: int) -> None:
    assert registry_cache.port_in_use("127.0.0.1", taken_port) and registry_cache.port_in_use("", taken_port)
    assert registry_cache.listening_pid(taken_port) == os.getpid()
    assert registry_cache.holder(taken_port).startswith("pid %d: " % os.getpid())


def test_an_instance_left_out_of_the_list_is_reported(cache: Cache) -> None:
    cache.run([HUB, K8S])
    cache.active.add("registry-cache-k8s.service")
    cache.host.write(os.path.join(cache.unit_dir, "registry-cache-mine.service"), "[Unit]\n")  # not ours
    result = cache.run([HUB])  # k8s renamed or dropped: not removed, but said
    assert not result["failed"] and not result["changed"]
    assert result["unlisted"] == [{"name": "k8s", "service": "registry-cache-k8s.service", "active": True}]
    assert os.path.exists(os.path.join(cache.unit_dir, "registry-cache-k8s.service"))


def test_the_upstream_user_name_is_a_credential(cache: Cache, monkeypatch) -> None:
    logged: list = []
    monkeypatch.setattr(registry_cache._files.SecretSafeModule, "log",
                        lambda module, msg, log_args=None: logged.append(msg))
    result = cache.run([dict(HUB, username="hub-robot-7", password="s3cret-token")], diff=True)
    assert not result["failed"] and logged and "hub-robot-7" not in repr(logged) and "s3cret" not in repr(logged)
    assert "hub-robot-7" not in repr(result["diff"]) and '"username": "xxxxx"' in repr(result["diff"])
    params = {"instances": [{"name": "hub", "username": "hub-robot-7", "password": "x"}], "url_host": "c"}
    shown = registry_cache.shown_params(params)
    assert shown["instances"][0]["username"] == "********" and params["instances"][0]["username"] == "hub-robot-7"
    assert "hub-robot-7" in cache.host.read(os.path.join(cache.config_dir, "cache-dockerhub.yml")).decode()


@pytest.mark.parametrize("policy, release, fails", [
    ("docker-registry:\n  Installed: (none)\n  Candidate: 2.7.1+ds2-7+deb11u1\n", "2.7.1", False),
    ("docker-registry:\n  Installed: (none)\n  Candidate: (none)\n", "", True),
])
def test_check_mode_before_the_package_is_installed_checks_settings_against_the_candidate(
        cache: Cache, monkeypatch, policy: str, release: str, fails: bool) -> None:
    monkeypatch.setattr(registry_cache._files.SecretSafeModule, "get_bin_path",
                        lambda module, name, *args, **kwargs: cache.host.bin_dir + "/apt-cache"
                        if name == "apt-cache" else None)
    cache.host.write(cache.host.bin_dir + "/apt-cache", "#!/bin/sh\ncat <<'EOF'\n%sEOF\n" % policy)
    os.chmod(cache.host.bin_dir + "/apt-cache", 0o755)
    result = cache.run([dict(HUB, settings={"catalog": {"maxentries": 5}})], check_mode=True)
    assert result["failed"]
    if release:
        assert "settings key catalog is not a configuration key of Distribution 2.7.1" in result["msg"]
    else:
        assert "no configuration table for Distribution (release unknown)" in result["msg"]
    ok = cache.run([dict(HUB, settings={"log": {"level": "warn"}})], check_mode=True)
    assert ok["failed"] is fails and (fails or ok["release"] == release)


def test_the_last_instance_gone_takes_the_server_key_with_it(cache: Cache) -> None:
    key = os.path.join(cache.config_dir, "cache-tls", "server.key")
    cache.run([HUB, K8S])
    kept = cache.run([dict(HUB, state="absent")])  # k8s is still there (unlisted): the key stays
    assert os.path.exists(key) and kept["unlisted"][0]["name"] == "k8s"
    result = cache.run([dict(HUB, state="absent"), dict(K8S, state="absent")], diff=True)
    assert result["changed"] and not os.path.exists(key)
    assert not os.path.exists(os.path.join(cache.config_dir, "cache-tls", "server.crt"))
    assert "MIIE" not in repr(result["diff"])
    assert [entry["after_header"] for entry in result["diff"] if entry["before_header"].endswith("server.key")] \
        == ["%s (absent)" % key]
    assert not cache.run([dict(HUB, state="absent"), dict(K8S, state="absent")])["changed"]


def test_secrets_inside_settings_are_never_shown(cache: Cache, monkeypatch) -> None:
    logged: list = []
    monkeypatch.setattr(registry_cache._files.SecretSafeModule, "log",
                        lambda module, msg, log_args=None: logged.append(msg))
    settings = {"http": {"secret": "hs-123456"}, "redis": {"password": "rp-456789", "addr": "127.0.0.1:6379"}}
    result = cache.run([dict(HUB, settings=settings)], diff=True)
    assert not result["failed"], result.get("msg")
    shown = repr(logged) + repr(result["diff"]) + repr(registry_cache.shown_params({"instances": [
        dict(HUB, settings=settings)]}))
    assert "hs-123456" not in shown and "rp-456789" not in shown and "127.0.0.1:6379" in shown
