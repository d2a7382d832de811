# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""containerd_hosts on containerd 1.4 (Debian 11), whose CRI plugin reads no hosts.toml: the mirrors go into
config.toml's legacy registry tables (the planning has its own tables in module_utils/test_containerd_legacy.py);
these check the module's I/O: files written and removed, containerd's own check, the restart decision, what is
reported as unsupported, the upgrade to a containerd that reads hosts.toml, every failure path."""

from __future__ import annotations

import json
import os
import stat
import time
import tomllib
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd_legacy as legacy
from ansible_collections.fleetops.docker_mirror.plugins.modules import containerd_hosts
from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.modules.file_tree import (
    assert_failed_unchanged,
    snapshot,
)
from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.modules.test_containerd_hosts import (  # noqa: F401 pylint: disable=unused-import
    Tree,
    containerd_started,
    fake_containerd,
    run,
    tree,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "containerd_config")
CTD_14 = "containerd github.com/containerd/containerd 1.4.13~ds1 1.4.13~ds1-1~deb11u4"  # Debian 11, measured
CTD_16 = "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3"
CA = "-----BEGIN CERTIFICATE-----\nTUlJQmNhY2VydA==\n-----END CERTIFICATE-----\n"
OTHER_CA = "-----BEGIN CERTIFICATE-----\nT1RIRVJDQQ==\n-----END CERTIFICATE-----\n"
CERT = "-----BEGIN CERTIFICATE-----\nY2xpZW50Y2VydA==\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nU0VDUkVUS0VZU0VDUkVUS0VZU0VDUkVU\n-----END PRIVATE KEY-----\n"
TOKEN = "Bearer t0ken-never-shown"
LOOP = "http://127.0.0.1:5000"
TLS = "https://127.0.0.1:5001"
CLIENT = "https://127.0.0.1:5443"
REGISTRY = ("plugins", "io.containerd.grpc.v1.cri", "registry")


def fixture(name: str) -> str:
    with open(os.path.join(FIXTURES, name), encoding="utf-8", newline="") as handle:
        return handle.read()


DEBIAN_11 = fixture("default_1.4_debian11.toml")


def kube() -> list[dict[str, t.Any]]:
    return [
        {"registry": "docker.io", "mirrors": [{"url": LOOP}]},
        {"registry": "registry.k8s.io", "mirrors": [{"url": TLS, "ca": CA}]},
        {"registry": "ghcr.io", "mirrors": [{"url": CLIENT, "client_cert": CERT, "client_key": KEY,
                                             "headers": {"Authorization": TOKEN}}]},
    ]


@pytest.fixture
def bullseye(host, tree) -> Tree:
    """Debian 11: containerd 1.4.13 and the config.toml it ships."""
    fake_containerd(host, CTD_14)
    host.write(tree.config, DEBIAN_11)
    return tree


def text(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def registry_table(tree: Tree) -> dict[str, t.Any]:
    data: t.Any = tomllib.loads(text(tree.config))
    for key in REGISTRY:
        data = data.get(key, {})
    return data


def cert(tree: Tree, registry: str, name: str) -> str:
    return os.path.join(tree.hosts_dir, registry, name)


def mode(name: str) -> int:
    return stat.S_IMODE(os.stat(name).st_mode)


def test_present_writes_what_the_cri_plugin_of_1_4_reads(host, bullseye) -> None:
    tree = bullseye
    result = run(host, tree, registries=kube(), default_dir=True)
    assert result["changed"] and result["restart_needed"] and not result["restart_pending_only"]
    assert (result["apply_action"], result["outcome"]["apply_needed"]) == ("restart", True)
    ca, client, key = (cert(tree, "registry.k8s.io", "127.0.0.1_5001.ca.crt"),
                       cert(tree, "ghcr.io", "127.0.0.1_5443.client.cert"),
                       cert(tree, "ghcr.io", "127.0.0.1_5443.client.key"))
    assert registry_table(tree) == {
        "mirrors": {"docker.io": {"endpoint": [LOOP]}, "registry.k8s.io": {"endpoint": [TLS]},
                    "ghcr.io": {"endpoint": [CLIENT]}},
        "configs": {"127.0.0.1:5001": {"tls": {"ca_file": ca}},
                    "127.0.0.1:5443": {"tls": {"cert_file": client, "key_file": key}}}}
    assert text(tree.config).startswith(DEBIAN_11.split("  [plugins.\"io.containerd.int")[0])
    # No hosts.toml: nothing on containerd 1.4 reads it (ctr --hosts-dir came with 1.5 too).
    assert sorted(os.listdir(tree.hosts_dir)) == ["ghcr.io", "registry.k8s.io"]
    ghcr = sorted(os.listdir(os.path.join(tree.hosts_dir, "ghcr.io")))
    assert ghcr == ["127.0.0.1_5443.client.cert", "127.0.0.1_5443.client.key"]
    assert text(ca) == CA and mode(ca) == 0o644 and mode(client) == 0o644 and mode(key) == 0o600
    assert result["paths"] == [ca, client, key, tree.config] and result["path"] == tree.config
    assert result["hosts_dir"] == tree.hosts_dir and result["cri_reads_hosts_dir"] is None
    assert result["registries"]["ghcr.io"] == {"path": tree.config, "changed": True, "mirrors": [{
        "url": CLIENT, "capabilities": ["pull", "resolve"], "skip_verify": False, "override_path": False,
        "ca": False, "client_cert": True, "headers": ["Authorization"]}]}
    assert [(item["registry"], item["mirror"], item["what"]) for item in result["unsupported"]] == [
        ("ghcr.io", CLIENT, "headers")]
    assert TOKEN not in json.dumps(result) and "U0VDUkVU" not in json.dumps(result)
    again = run(host, tree, registries=kube(), default_dir=True)
    assert not again["changed"] and not again["restart_needed"] and again["paths"] == []
    assert again["apply_action"] == "" and len(again["unsupported"]) == 1
    assert not any(item["changed"] for item in again["registries"].values())


def test_single_registry_options_and_check_mode(host, bullseye) -> None:
    tree = bullseye
    before = snapshot(tree.etc)
    checked = run(host, tree, check_mode=True, diff=True, mirrors=[LOOP])
    assert checked["changed"] and checked["restart_needed"] and snapshot(tree.etc) == before
    real = run(host, tree, diff=True, mirrors=[LOOP])
    assert real["diff"] == checked["diff"] and real["paths"] == [tree.config]
    assert real["diff"][0]["before"] == DEBIAN_11 and legacy.MARKER in real["diff"][0]["after"]
    assert registry_table(tree) == {"mirrors": {"docker.io": {"endpoint": [LOOP]}}}


def test_no_config_toml_is_created_as_version_2(host, bullseye) -> None:
    tree = bullseye
    os.unlink(tree.config)
    result = run(host, tree, mirrors=[LOOP])
    assert result["config_created"] and result["restart_needed"]
    assert tomllib.loads(text(tree.config)) == {"version": 2, "plugins": {"io.containerd.grpc.v1.cri": {
        "registry": {"mirrors": {"docker.io": {"endpoint": [LOOP]}}}}}}
    assert mode(tree.config) == 0o644


def test_absent_gives_the_file_back_and_removes_our_certificates(host, bullseye) -> None:
    tree = bullseye
    run(host, tree, registries=kube())
    host.write(cert(tree, "ghcr.io", "operator.crt"), CA)  # not ours
    result = run(host, tree, state="absent", registries=[{"registry": name, "mirrors": []}
                                                         for name in ("docker.io", "registry.k8s.io", "ghcr.io")])
    assert result["changed"] and result["restart_needed"] and result["apply_action"] == "restart"
    assert text(tree.config) == DEBIAN_11
    assert not os.path.exists(os.path.join(tree.hosts_dir, "registry.k8s.io"))
    assert os.listdir(os.path.join(tree.hosts_dir, "ghcr.io")) == ["operator.crt"]
    again = run(host, tree, state="absent", mirrors=[])
    assert not again["changed"] and not again["restart_needed"]


def test_absent_of_one_registry_keeps_the_others(host, bullseye) -> None:
    tree = bullseye
    run(host, tree, registries=kube())
    result = run(host, tree, state="absent")  # the single-registry form: docker.io
    assert result["changed"] and list(registry_table(tree)["mirrors"]) == ["registry.k8s.io", "ghcr.io"]


def test_exclusive_removes_our_tables_of_registries_not_listed(host, bullseye) -> None:
    tree = bullseye
    run(host, tree, registries=kube())
    result = run(host, tree, registries=kube()[:1], exclusive=True)
    assert result["changed"] and result["restart_needed"]
    assert registry_table(tree) == {"mirrors": {"docker.io": {"endpoint": [LOOP]}}}
    assert os.listdir(tree.hosts_dir) == []
    assert not run(host, tree, registries=kube()[:1], exclusive=True)["changed"]


def test_without_exclusive_other_registries_stay(host, bullseye) -> None:
    tree = bullseye
    run(host, tree, registries=kube())
    result = run(host, tree, registries=kube()[:1])
    assert not result["changed"], result


def test_a_new_ca_replaces_our_file(host, bullseye) -> None:
    tree = bullseye
    run(host, tree, registries=kube())
    changed = kube()
    changed[1]["mirrors"][0]["ca"] = OTHER_CA
    result = run(host, tree, registries=changed)
    ca = cert(tree, "registry.k8s.io", "127.0.0.1_5001.ca.crt")
    assert result["paths"] == [ca] and not result["restart_needed"] and text(ca) == OTHER_CA


def test_a_certificate_file_not_ours_is_not_replaced(host, bullseye) -> None:
    tree = bullseye
    ca = cert(tree, "registry.k8s.io", "127.0.0.1_5001.ca.crt")
    host.write(ca, OTHER_CA)
    before = snapshot(tree.etc)
    result = run(host, tree, registries=kube())
    assert result["failed"] and result["msg"].startswith(ca + ": not written by this module")
    assert snapshot(tree.etc) == before
    assert run(host, tree, registries=kube(), force=True)["changed"] and text(ca) == CA


def test_a_config_path_1_4_ignores_is_a_warning_and_names_the_certificate_dir(host, bullseye, monkeypatch) -> None:
    tree = bullseye
    other = os.path.join(host.root, "other-certs")
    host.write(tree.config, DEBIAN_11 + '    [plugins."io.containerd.grpc.v1.cri".registry]\n'
                                        '      config_path = "%s"\n' % other)
    warnings: list[str] = []
    monkeypatch.setattr(containerd_hosts.AnsibleModule, "warn", lambda module, text: warnings.append(text))
    result = run(host, tree, registries=kube()[1:2], default_dir=True)
    assert result["hosts_dir"] == other and os.path.exists(os.path.join(other, "registry.k8s.io"))
    assert warnings and warnings[0].startswith(tree.config + ": ") and "1.5 and later refuse" in warnings[0]


def test_manage_config_path_false_writes_hosts_toml_only(host, bullseye) -> None:
    tree = bullseye
    result = run(host, tree, mirrors=[LOOP], manage_config_path=False)
    assert result["paths"] == [tree.hosts_toml] and not result["restart_needed"]
    assert text(tree.config) == DEBIAN_11


def test_cri_disabled_writes_hosts_toml_only(host, bullseye) -> None:
    tree = bullseye
    host.write(tree.config, fixture("dockerce_cri_disabled.toml"))
    result = run(host, tree, mirrors=[LOOP])
    assert result["paths"] == [tree.hosts_toml] and result["cri_enabled"] is False and not result["restart_needed"]


def test_a_stopped_containerd_is_not_restarted(host, bullseye) -> None:
    host.set(mainpid=0)
    result = run(host, bullseye, mirrors=[LOOP])
    assert result["restart_needed"] and (result["apply_action"], result["outcome"]["apply_needed"]) == ("", False)


def test_tables_in_place_but_not_loaded_restart(host, bullseye) -> None:
    """An earlier run wrote the tables with docker_mirror_apply none: the running containerd never loaded them."""
    tree = bullseye
    run(host, tree, mirrors=[LOOP], apply="none")
    containerd_started(host, tree, seconds_ago=3600)
    result = run(host, tree, mirrors=[LOOP])
    assert not result["changed"] and result["restart_pending_only"] and result["apply_action"] == "restart"
    os.utime(tree.config, (time.time() - 7200, time.time() - 7200))
    assert not run(host, tree, mirrors=[LOOP])["restart_needed"]


# --------------------------------------------------------------------------- the upgrade to 1.5 and later


def test_upgrade_replaces_our_tables_with_config_path_and_hosts_toml(host, bullseye) -> None:
    tree = bullseye
    run(host, tree, registries=kube()[:2])
    ca = cert(tree, "registry.k8s.io", "127.0.0.1_5001.ca.crt")
    fake_containerd(host, CTD_16)
    result = run(host, tree, registries=kube()[:2], diff=True)
    assert result["changed"] and result["restart_needed"] and result["cri_reads_hosts_dir"]
    assert registry_table(tree) == {"config_path": tree.hosts_dir}
    assert legacy.MARKER not in text(tree.config)
    hosts = tomllib.loads(text(cert(tree, "registry.k8s.io", "hosts.toml")))
    assert hosts["host"][TLS]["ca"] == ca and text(ca) == CA  # the same file, kept in place
    assert ca not in result["paths"]
    assert not run(host, tree, registries=kube()[:2])["changed"]


def test_upgrade_removes_the_certificates_no_hosts_toml_names(host, bullseye) -> None:
    tree = bullseye
    run(host, tree, registries=kube())
    fake_containerd(host, CTD_16)
    result = run(host, tree, registries=kube()[:1])
    assert result["changed"] and registry_table(tree) == {"config_path": tree.hosts_dir}
    assert sorted(os.listdir(tree.hosts_dir)) == ["docker.io"]


def test_upgrade_with_a_new_ca_replaces_our_file(host, bullseye) -> None:
    tree = bullseye
    run(host, tree, registries=kube()[1:2])
    fake_containerd(host, CTD_16)
    changed = kube()[1:2]
    changed[0]["mirrors"][0]["ca"] = OTHER_CA
    assert run(host, tree, registries=changed)["changed"]
    assert text(cert(tree, "registry.k8s.io", "127.0.0.1_5001.ca.crt")) == OTHER_CA


# --------------------------------------------------------------------------- refusals


def containerd_dump(host, dump: str | None, error: str = "") -> None:
    """containerd 1.4 whose config dump prints ``dump`` (None: fails with ``error`` on a file holding our tables)."""
    script = os.path.join(host.bin_dir, "containerd")
    with open(os.path.join(host.root, "dump.toml"), "w") as handle:
        handle.write(dump or "")
    body = "cat %s/dump.toml; exit 0" % host.root if dump is not None else \
        "if grep -q fleetops \"$2\"; then echo '%s' >&2; exit 1; fi; cat \"$2\"; exit 0" % error
    with open(script, "w") as handle:
        handle.write('#!/bin/sh\nif [ "$1 $3 $4" = "--config config dump" ]; then %s; fi\necho "%s"\n'
                     % (body, CTD_14))
    os.chmod(script, 0o755)


@pytest.mark.parametrize("text, dump, fragment", [
    (DEBIAN_11, None, "containerd would refuse it: containerd: failed to load TOML"),
    (DEBIAN_11, 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n',
     "containerd would load the CRI plugin disabled"),
    ("version = 3\n", "", "version = 3 is a containerd 2.x file: the installed containerd 1.4"),
    (fixture("legacy_mirrors_with_config_path.toml"), "", "already sets mirrors for docker.io"),
    ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  mirrors = {"docker.io" = {endpoint = []}}\n',
     "", "already sets mirrors for docker.io"),
])
def test_refusals_leave_every_file(host, bullseye, text: str, dump: str | None, fragment: str) -> None:
    tree = bullseye
    host.write(tree.config, text)
    containerd_dump(host, dump, "containerd: failed to load TOML")
    before = snapshot(tree.etc)
    result = run(host, tree, registries=kube())
    assert_failed_unchanged(result, before, tree.etc, fragment)
    assert result["path"] == tree.config


def test_absent_with_a_broken_config_toml_fails_naming_it(host, bullseye) -> None:
    tree = bullseye
    run(host, tree, mirrors=[LOOP])
    host.write(tree.config, text(tree.config) + "[broken\n")
    before = snapshot(tree.etc)
    result = run(host, tree, state="absent")
    assert_failed_unchanged(result, before, tree.etc, "config.toml")
