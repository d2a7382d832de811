# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""containerd_hosts with ``registries`` (the shared mirror model): one hosts.toml per registry, certificate files
next to it, headers, exclusive removal of our registries no longer listed, secrets never shown."""

from __future__ import annotations

import json
import os
import stat
import tomllib
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _files
from ansible_collections.fleetops.docker_mirror.plugins.modules import containerd_hosts
from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.modules.file_tree import (
    assert_failed_unchanged,
    snapshot,
)
from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.modules.test_containerd_hosts import (  # noqa: F401
    Tree,
    run,
    tree,
)

CA = "-----BEGIN CERTIFICATE-----\nTUlJQmNhY2VydA==\n-----END CERTIFICATE-----\n"
OTHER_CA = "-----BEGIN CERTIFICATE-----\nT1RIRVJDQQ==\n-----END CERTIFICATE-----\n"
CERT = "-----BEGIN CERTIFICATE-----\nY2xpZW50Y2VydA==\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nU0VDUkVUS0VZU0VDUkVUS0VZU0VDUkVU\n-----END PRIVATE KEY-----\n"
TOKEN = "Bearer t0ken-never-shown"
TLS = "https://mirror.example:5443"
LOOP = "http://127.0.0.1:5000"


def registries(**extra: t.Any) -> list[dict[str, t.Any]]:
    return [
        {"registry": "docker.io", "mirrors": [{"url": LOOP}]},
        {"registry": "registry.k8s.io", "mirrors": [dict({"url": TLS, "ca": CA, "capabilities": ["pull"]}, **extra)]},
        {"registry": "ghcr.io", "mirrors": [{"url": TLS + "/ghcr", "override_path": True, "ca": CA,
                                             "client_cert": CERT, "client_key": KEY,
                                             "headers": {"Authorization": TOKEN, "X-Two": ["a-1", "b-2"]}}]},
    ]


def path(tree: Tree, registry: str, name: str = "hosts.toml") -> str:
    return os.path.join(tree.hosts_dir, registry, name)


def mode(name: str) -> int:
    return stat.S_IMODE(os.stat(name).st_mode)


def read(name: str) -> dict[str, t.Any]:
    with open(name, "rb") as handle:
        return tomllib.load(handle)


def no_secret(value: t.Any) -> None:
    text = json.dumps(value)
    assert TOKEN not in text and "U0VDUkVU" not in text and "a-1" not in text


def test_one_run_writes_every_registry(host, tree) -> None:
    result = run(host, tree, registries=registries(), diff=True)
    assert result["changed"] and result["restart_needed"] and not result["failed"]
    assert read(path(tree, "docker.io")) == {"server": "https://registry-1.docker.io",
                                             "host": {LOOP: {"capabilities": ["pull", "resolve"]}}}
    assert read(path(tree, "registry.k8s.io")) == {"server": "https://registry.k8s.io", "host": {TLS: {
        "capabilities": ["pull"], "ca": path(tree, "registry.k8s.io", "mirror.example_5443.ca.crt")}}}
    stem = path(tree, "ghcr.io", "mirror.example_5443")
    assert read(path(tree, "ghcr.io")) == {"server": "https://ghcr.io", "host": {TLS + "/ghcr": {
        "capabilities": ["pull", "resolve"], "override_path": True, "ca": stem + ".ca.crt",
        "client": [[stem + ".client.cert", stem + ".client.key"]],
        "header": {"Authorization": TOKEN, "X-Two": ["a-1", "b-2"]}}}}
    with open(stem + ".client.key") as handle:
        assert handle.read() == KEY
    assert mode(stem + ".client.key") == 0o600 and mode(path(tree, "ghcr.io")) == 0o600
    assert mode(stem + ".ca.crt") == 0o644 and mode(stem + ".client.cert") == 0o644
    assert mode(path(tree, "docker.io")) == 0o644
    assert sorted(result["registries"]) == ["docker.io", "ghcr.io", "registry.k8s.io"]
    assert result["registries"]["ghcr.io"]["mirrors"] == [{
        "url": TLS + "/ghcr", "capabilities": ["pull", "resolve"], "skip_verify": False, "override_path": True,
        "ca": True, "client_cert": True, "headers": ["Authorization", "X-Two"]}]
    assert result["outcome"]["files_changed"] == result["paths"] and tree.config in result["paths"]
    no_secret(result)
    no_secret(host.invocation)
    assert host.invocation["module_args"]["registries"][2]["mirrors"][0]["client_key"] == \
        "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    again = run(host, tree, registries=registries())
    assert not again["changed"] and not again["restart_needed"] and again["paths"] == []
    assert not any(item["changed"] for item in again["registries"].values())


def test_check_mode_writes_nothing_and_diff_masks_secrets(host, tree) -> None:
    before = snapshot(tree.etc)
    result = run(host, tree, registries=registries(), check_mode=True, diff=True)
    assert result["changed"] and snapshot(tree.etc) == before
    headers = [entry["after_header"] for entry in result["diff"]]
    assert path(tree, "ghcr.io", "mirror.example_5443.client.key") in headers
    key_diff = result["diff"][headers.index(path(tree, "ghcr.io", "mirror.example_5443.client.key"))]
    assert key_diff["after"] == "(private key, not shown)\n"
    hosts_diff = result["diff"][headers.index(path(tree, "ghcr.io"))]
    assert '"Authorization" = "xxxxx"' in hosts_diff["after"] and '"X-Two" = "xxxxx"' in hosts_diff["after"]
    no_secret(result)


def test_secrets_are_no_log_values(host, tree, monkeypatch) -> None:
    seen: list[set[str]] = []
    real = containerd_hosts.run_module

    def spy(module):
        try:
            return real(module)
        finally:
            seen.append(set(module.no_log_values))

    monkeypatch.setattr(containerd_hosts, "run_module", spy)
    run(host, tree, registries=registries())
    assert {TOKEN, KEY, "a-1", "b-2"} <= seen[0] and CA not in seen[0]


def test_exclusive_removes_only_our_registries_no_longer_listed(host, tree) -> None:
    run(host, tree, registries=registries())
    host.write(path(tree, "quay.io"), 'server = "https://quay.io"\n')  # not ours
    host.write(path(tree, "ghcr.io", "notes.txt"), "operator's\n")  # not ours, in a directory we write
    result = run(host, tree, registries=registries()[:1], exclusive=True)
    assert result["changed"] and not os.path.exists(path(tree, "registry.k8s.io"))
    assert sorted(os.listdir(os.path.join(tree.hosts_dir, "ghcr.io"))) == ["notes.txt"]
    assert os.path.exists(path(tree, "quay.io")) and os.path.exists(path(tree, "docker.io"))
    assert result["registries"]["registry.k8s.io"] == {"path": path(tree, "registry.k8s.io"), "changed": True,
                                                       "mirrors": []}
    assert not run(host, tree, registries=registries()[:1], exclusive=True)["changed"]


def test_without_exclusive_other_registries_stay(host, tree) -> None:
    run(host, tree, registries=registries())
    assert not run(host, tree, registries=registries()[:1])["changed"]
    assert os.path.exists(path(tree, "ghcr.io"))


def test_absent_removes_only_what_we_wrote(host, tree) -> None:
    run(host, tree, registries=registries())
    host.write(path(tree, "ghcr.io", "operator.crt"), CA)
    result = run(host, tree, registries=[{"registry": "ghcr.io", "mirrors": []},
                                         {"registry": "quay.io", "mirrors": []}], state="absent")
    assert result["changed"] and not result["restart_needed"]
    assert sorted(os.listdir(os.path.join(tree.hosts_dir, "ghcr.io"))) == ["operator.crt"]
    assert os.path.exists(path(tree, "registry.k8s.io", "mirror.example_5443.ca.crt"))


def test_absent_of_one_mirror_removes_its_files_only(host, tree) -> None:
    both = [{"registry": "ghcr.io", "mirrors": [{"url": TLS, "ca": CA}, {"url": "https://other.example", "ca": CA}]}]
    run(host, tree, registries=both)
    result = run(host, tree, registries=[{"registry": "ghcr.io", "mirrors": [{"url": TLS}]}], state="absent")
    assert result["changed"]
    assert sorted(os.listdir(os.path.join(tree.hosts_dir, "ghcr.io"))) == ["hosts.toml", "other.example.ca.crt"]
    assert list(read(path(tree, "ghcr.io"))["host"]) == ["https://other.example"]


def test_dropping_a_ca_removes_its_file(host, tree) -> None:
    run(host, tree, registries=registries())
    plain = [{"registry": "registry.k8s.io", "mirrors": [{"url": TLS}]}]
    result = run(host, tree, registries=plain, diff=True)
    assert result["changed"] and not os.path.exists(path(tree, "registry.k8s.io", "mirror.example_5443.ca.crt"))
    assert "ca" not in read(path(tree, "registry.k8s.io"))["host"][TLS]


def test_a_new_ca_replaces_the_file(host, tree) -> None:
    run(host, tree, registries=registries())
    result = run(host, tree, registries=registries(ca=OTHER_CA))
    assert result["paths"] == [path(tree, "registry.k8s.io", "mirror.example_5443.ca.crt")]
    with open(result["paths"][0]) as handle:
        assert handle.read() == OTHER_CA


def test_a_header_makes_an_existing_hosts_toml_private(host, tree) -> None:
    run(host, tree, registries=[{"registry": "ghcr.io", "mirrors": [{"url": TLS}]}])
    assert mode(path(tree, "ghcr.io")) == 0o644
    run(host, tree, registries=[{"registry": "ghcr.io", "mirrors": [{"url": TLS, "headers": {"A": TOKEN}}]}])
    assert mode(path(tree, "ghcr.io")) == 0o600


def test_a_secret_file_made_readable_is_made_private_again(host, tree) -> None:
    run(host, tree, registries=registries())
    key = path(tree, "ghcr.io", "mirror.example_5443.client.key")
    os.chmod(key, 0o644)
    result = run(host, tree, registries=registries())
    assert result["changed"] and result["paths"] == [key] and mode(key) == 0o600


def test_single_registry_options_are_the_one_entry_case(host, tree) -> None:
    run(host, tree, mirrors=[LOOP])
    result = run(host, tree, registries=[{"registry": "docker.io", "mirrors": [{"url": LOOP}]}])
    assert not result["changed"] and result["path"] == tree.hosts_toml


def test_default_registry_is_accepted(host, tree) -> None:
    result = run(host, tree, registries=[{"registry": "_default", "mirrors": [{"url": LOOP}]}])
    assert "server" not in read(path(tree, "_default")) and result["changed"]


def test_failed_write_leaves_no_certificate_file(host, tree, monkeypatch) -> None:
    real_write = _files.write_text

    def write_text(module, name, text, file_mode=None):
        if name == tree.config:
            raise containerd_hosts.FileError(name, "cannot write the file: No space left on device")
        real_write(module, name, text, file_mode)

    monkeypatch.setattr(_files, "write_text", write_text)
    before = snapshot(tree.etc)
    result = run(host, tree, registries=registries())
    assert result["failed"] and "No space left" in result["msg"] and snapshot(tree.etc) == before
    assert not os.path.exists(tree.hosts_dir) or os.listdir(tree.hosts_dir) == []


@pytest.mark.parametrize("extra, fragment", [
    ({"ca": "/etc/ssl/ca.pem"}, 'registry registry.k8s.io, mirror "https://mirror.example:5443": ca is not PEM'),
    ({"client_cert": CERT}, "client_cert and client_key go together"),
    ({"client_key": CERT, "client_cert": CERT}, "client_key must be an unencrypted private key"),
    ({"headers": {"X-A": TOKEN + "\r\nX-B: 1"}}, "header X-A holds a line break"),
    ({"headers": {"Bad Name": TOKEN}}, 'invalid header name "Bad Name"'),
    ({"url": "ftp://m.example"}, "registry registry.k8s.io: invalid mirror"),
])
def test_bad_mirror_fails_before_writing(host, tree, extra: dict[str, t.Any], fragment: str) -> None:
    before = snapshot(tree.etc)
    result = run(host, tree, registries=registries(**extra))
    assert_failed_unchanged(result, before, tree.etc, fragment)
    no_secret(result)


@pytest.mark.parametrize("value, fragment", [
    ([{"registry": "docker.io", "mirrors": []}, {"registry": "index.docker.io", "mirrors": []}],
     "registry docker.io is given twice"),
    ([{"registry": "ghcr.io/x", "mirrors": []}], 'invalid registry "ghcr.io/x"'),
    ([{"registry": "ghcr.io", "mirrors": [{"url": TLS, "ca": CA}, {"url": TLS + "/v2/x", "ca": OTHER_CA}]}],
     "two mirrors on mirror.example_5443 give different certificates"),
])
def test_bad_registries_fail_before_writing(host, tree, value: t.Any, fragment: str) -> None:
    before = snapshot(tree.etc)
    assert_failed_unchanged(run(host, tree, registries=value), before, tree.etc, fragment)


def test_registries_and_single_options_are_mutually_exclusive(host, tree) -> None:
    before = snapshot(tree.etc)
    result = run(host, tree, registries=registries(), mirrors=[LOOP])
    assert result["failed"] and "mutually exclusive: registries|mirrors" in result["msg"]
    assert snapshot(tree.etc) == before


def test_foreign_certificate_file_is_not_replaced_without_force(host, tree) -> None:
    foreign = path(tree, "registry.k8s.io", "mirror.example_5443.ca.crt")
    host.write(foreign, OTHER_CA)
    before = snapshot(tree.etc)
    assert_failed_unchanged(run(host, tree, registries=registries()), before, tree.etc,
                            "not written by this module (our hosts.toml does not name it)")
    assert run(host, tree, registries=registries(), force=True)["changed"]
    with open(foreign) as handle:
        assert handle.read() == CA


def test_foreign_hosts_toml_of_one_registry_fails_the_run(host, tree) -> None:
    host.write(path(tree, "ghcr.io"), 'server = "https://ghcr.io"\n')
    before = snapshot(tree.etc)
    assert_failed_unchanged(run(host, tree, registries=registries()), before, tree.etc, "no marker comment")


def test_shadowing_is_checked_for_every_registry(host, tree) -> None:
    earlier = os.path.join(tree.etc, "earlier.d")
    host.write(tree.config, 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "%s:%s"\n'
               % (earlier, tree.hosts_dir))
    host.write(os.path.join(earlier, "ghcr.io", "hosts.toml"), 'server = "https://ghcr.io"\n')
    before = snapshot(tree.etc)
    result = run(host, tree, registries=registries())
    assert_failed_unchanged(result, before, tree.etc, "containerd reads %s before" % os.path.join(earlier, "ghcr.io"))
