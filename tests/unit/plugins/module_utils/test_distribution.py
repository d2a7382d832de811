# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Distribution as a pull-through cache: the key tables per release, every refusal of an instance, rendering."""

from __future__ import annotations

import json
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _distribution as dist
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._mirror_spec import normalise_registry
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._probe import split_image

PATHS = dist.Paths("/etc/docker/registry", "/etc/systemd/system", "/var/lib/registry-cache",
                   "/etc/docker/registry/cache-tls/server.crt", "/etc/docker/registry/cache-tls/server.key")


def parse(items: t.Any, release: str | None = "2.8.2", address: str = "") -> list[dist.Instance]:
    return dist.parse_instances(items, release, address, normalise_registry, split_image)


def hub(**changes: t.Any) -> dict[str, t.Any]:
    return dict({"name": "dockerhub", "registry": "docker.io", "port": 5443}, **changes)


@pytest.mark.parametrize("output, release", [
    ("docker-registry github.com/docker/distribution 2.8.2+ds1", "2.8.2"),
    ("docker-registry github.com/docker/distribution v2.7.1+unknown", "2.7.1"),
    ("registry github.com/distribution/distribution/v3 3.0.0", "3.0.0"),
    ("", None),
    ("docker-registry github.com/docker/distribution unknown", None),
])
def test_release_from_version(output: str, release: str | None) -> None:
    assert dist.release_from_version(output) == release


@pytest.mark.parametrize("release, settings, unknown", [
    ("2.8.2", {"log": {"level": "warn"}}, []),
    ("2.8.3", {"http": {"tls": {"minimumtls": "tls1.2"}}, "catalog": {"maxentries": 10}}, []),
    ("2.7.1", {"http": {"tls": {"minimumtls": "tls1.2"}}}, ["http.tls.minimumtls"]),
    ("2.7.1", {"catalog": {"maxentries": 10}}, ["catalog"]),
    ("2.8.2", {"htpp": {}}, ["htpp"]),
    ("2.8.2", {"storage": {"filesystem": {"anything": 1}, "maintenance": {"uploadpurging": {"enabled": False}}}}, []),
    ("2.8.2", {"log": {"fields": {"free": 1}, "hooks": [{"type": "mail", "levls": ["error"]}]}},
     ["log.hooks[0].levls"]),
    ("2.8.2", {"middleware": {"registry": [{"name": "x", "options": {"free": 1}, "bogus": 1}]}},
     ["middleware.registry[0].bogus"]),
    ("2.8.2", {"health": {"http": [{"uri": "http://x", "statuscode": 200, "headers": {"A": ["b"]}}]}}, []),
    ("2.8.2", {"notifications": {"endpoints": [{"name": "e", "ignore": {"actions": ["pull"], "x": 1}}]}},
     ["notifications.endpoints[0].ignore.x"]),
    ("2.8.2", {"proxy": {"ttl": "24h"}}, ["proxy.ttl"]),
])
def test_unknown_keys_per_release(release: str, settings: dict, unknown: list[str]) -> None:
    assert dist.unknown_keys(settings, dist.key_table(release)) == unknown


@pytest.mark.parametrize("item, words", [
    (hub(name="Docker_Hub"), "instance 'Docker_Hub': name must match"),
    (hub(name=""), "name must match"),
    (hub(name="a" * 64), "name must match"),
    (hub(registry="not a registry"), "instance dockerhub: invalid registry"),
    (hub(port=0), "port must be a port number"),
    (hub(port=70000), "port must be a port number"),
    (hub(port=True), "port must be a port number"),
    (hub(port=60000), "debug_port (default port + 10000) must be a port number"),
    (hub(debug_port=-1), "debug_port (default port + 10000) must be a port number"),
    (hub(username="bot"), "username and password go together"),
    (hub(password="p"), "username and password go together"),
    (hub(username=1, password="p"), "username must be a string"),
    (hub(ttl="24h"), "ttl: Distribution 2.8.2 (the installed docker-registry) has no proxy.ttl"),
    (hub(probe_image="quay.io/x/y:1"), "probe_image quay.io/x/y:1 is not on docker.io"),
    (hub(state="gone"), "state must be present or absent"),
    (hub(remoteurl="ftp://x"), "invalid remoteurl ftp://x"),
    (hub(remoteurl="https://"), "invalid remoteurl"),
    (hub(remoteurl="https://x:99999"), "invalid remoteurl"),
    (hub(remoteurl="https://u:p@x"), "holds credentials"),
    (hub(remoteurl="https://x/v2/"), "has a path, query or fragment"),
    (hub(remoteurl=5), "remoteurl must be a string"),
    (hub(address="bad address!"), "invalid address"),
    (hub(address=5), "address must be a string"),
    (hub(settings=[1]), "settings must be a mapping"),
    (hub(settings={"htpp": {}}), "instance dockerhub: settings key htpp is not a configuration key of "
                                 "Distribution 2.8.2"),
    (hub(settings={"proxy": {"remoteurl": "https://x"}}), "settings key proxy is set by the role's options"),
    (hub(settings={"http": {"addr": ":1"}}), "settings key http.addr is set by the role's options"),
    (hub(settings={"storage": {"s3": {}}}), "settings storage.s3: the cache stores in filesystem"),
    # What the role owns (its storage directory, the URL path clients use, the debug endpoints verify reads).
    (hub(settings={"storage": {"filesystem": {"rootdirectory": "/tmp"}}}),
     "settings key storage.filesystem.rootdirectory is set by the role"),
    (hub(settings={"http": {"prefix": "/cache/"}}), "settings key http.prefix is set by the role"),
    (hub(settings={"http": {"debug": {"prometheus": {"path": "/m"}}}}),
     "settings key http.debug.prometheus is set by the role"),
    (hub(settings={"http": {"tls": {"letsencrypt": {"email": "a@b"}}}}),
     "settings key http.tls.letsencrypt is set by the role"),
    # A section given a value that is not a mapping (or a list where one is expected) stops Distribution at start.
    (hub(settings={"log": "warn"}), "settings key log must be a mapping (a section of the configuration), got 'warn'"),
    (hub(settings={"log": {"level": {"x": 1}}}), "settings key log.level must be a value, not a mapping"),
    (hub(settings={"notifications": {"endpoints": {"name": "x"}}}),
     "settings key notifications.endpoints must be a list"),
    (hub(settings={"health": {"tcp": [5]}}), "settings key health.tcp[0] must be a mapping"),
])
def test_instance_refused(item: dict, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse([item])
    assert words in info.value.message


@pytest.mark.parametrize("release, words", [
    (None, "no configuration table for Distribution (release unknown)"),
    ("3.0.0", "no configuration table for Distribution 3.0.0"),
])
def test_settings_need_a_known_release(release: str | None, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse([hub(settings={"log": {"level": "warn"}})], release)


@pytest.mark.parametrize("items, words", [
    ("x", "instances must be a list"),
    (["x"], "each instance must be a mapping"),
    ([hub(), hub(port=5444)], "instance dockerhub is given twice"),
    ([hub(), hub(name="k8s", registry="registry.k8s.io")],
     "instance k8s: port 5443 is already used by instance dockerhub"),
    ([hub(), hub(name="k8s", registry="registry.k8s.io", port=15443)], "instance k8s: port 15443 is already"),
])
def test_instances_refused(items: t.Any, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse(items)


def test_absent_instance_may_share_a_port() -> None:
    assert len(parse([hub(), hub(name="old", state="absent")])) == 2


@pytest.mark.parametrize("item, field, value", [
    (hub(), "remoteurl", "https://registry-1.docker.io"),
    (hub(registry="index.docker.io"), "registry", "docker.io"),
    (hub(registry="registry.k8s.io"), "remoteurl", "https://registry.k8s.io"),
    (hub(remoteurl="http://127.0.0.1:5100/"), "remoteurl", "http://127.0.0.1:5100"),
    (hub(), "debug_port", 15443),
    (hub(), "address", "10.0.0.1"),
    (hub(address=""), "address", ""),
    (hub(address="::1"), "address", "::1"),
    (hub(probe_image="hello:1"), "probe_image", "hello:1"),
])
def test_instance_accepted(item: dict, field: str, value: t.Any) -> None:
    assert getattr(parse([item], address="10.0.0.1")[0], field) == value


def test_config_renders_and_reads_back() -> None:
    instance = parse([hub(username="bot", password="s3cret", settings={"log": {"level": "warn"}},
                          address="::1")])[0]
    text = dist.render_config(instance, PATHS)
    assert text.startswith(dist.MARKER)
    document = dist.parse_config(text)
    assert document["proxy"] == {"remoteurl": "https://registry-1.docker.io", "username": "bot",
                                 "password": "s3cret"}
    assert document["http"]["addr"] == "[::1]:5443"
    assert document["http"]["debug"]["addr"] == "127.0.0.1:15443"
    assert document["log"] == {"fields": {"service": "registry-cache-dockerhub"}, "level": "warn"}
    assert document["storage"]["filesystem"]["rootdirectory"] == "/var/lib/registry-cache/dockerhub"
    assert dist.config_upstream(text) == "https://registry-1.docker.io"
    masked = dist.mask_config(text)
    assert "s3cret" not in masked and '"password": "xxxxx"' in masked


@pytest.mark.parametrize("text, words", [
    ("# x\nnot json", "not a configuration file written by the registry_cache role (JSON"),
    ("# x\n[1]", "not a mapping"),
])
def test_config_unreadable(text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        dist.config_upstream(text)


def test_unit_runs_the_config_as_docker_registry() -> None:
    low = parse([hub(port=443)])[0]
    unit = dist.render_unit(low, PATHS.config("dockerhub"))
    assert "ExecStart=/usr/bin/docker-registry serve /etc/docker/registry/cache-dockerhub.yml" in unit
    assert "User=docker-registry" in unit and "AmbientCapabilities=CAP_NET_BIND_SERVICE" in unit
    assert "StartLimitIntervalSec=0" in unit and "Restart=on-failure" in unit  # retries until the upstream answers
    assert "AmbientCapabilities" not in dist.render_unit(parse([hub()])[0], PATHS.config("dockerhub"))


@pytest.mark.parametrize("argv, config", [
    (["/usr/bin/docker-registry", "serve", "/etc/x.yml"], "/etc/x.yml"),
    (["docker-registry", "serve", "rel.yml"], "rel.yml"),
    (["docker-registry", "garbage-collect", "/etc/x.yml"], None),
    (["docker-registry"], None),
])
def test_serve_config(argv: list[str], config: str | None) -> None:
    assert dist.serve_config(argv) == config


def test_json_is_what_the_file_holds() -> None:
    text = dist.render_config(parse([hub()])[0], PATHS)
    assert json.loads(text.split("\n", 1)[1])["version"] == "0.1"


@pytest.mark.parametrize("text, ports", [
    (dist.render_config(parse([hub()])[0], PATHS), [5443, 15443]),
    ('{"http": {"addr": "[::1]:7"}}', [7]),
    ('{"http": "x"}', []),
])
def test_config_ports(text: str, ports: list[int]) -> None:
    assert dist.config_ports(text) == ports
