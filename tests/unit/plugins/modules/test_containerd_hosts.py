# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the real containerd_hosts module in-process against a temporary /etc/containerd.

The rendering and the config.toml edit have their own tables (module_utils/test_containerd.py); these check the
module's I/O: which files are written or left alone, check and diff mode, ownership, every failure path.
"""

from __future__ import annotations

import os
import stat
import tomllib
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd as ctd
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _files
from ansible_collections.fleetops.docker_mirror.plugins.modules import containerd_hosts
from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.modules.file_tree import (
    assert_failed_unchanged,
    snapshot,
)

MIRROR = "https://mirror.gcr.io"
DEBIAN = ('version = 2\n\n[plugins]\n  [plugins."io.containerd.grpc.v1.cri"]\n'
          '    [plugins."io.containerd.grpc.v1.cri".cni]\n      bin_dir = "/usr/lib/cni"\n'
          '      conf_dir = "/etc/cni/net.d"\n  [plugins."io.containerd.internal.v1.opt"]\n'
          '    path = "/var/lib/containerd/opt"\n')
SET = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "%s"\n'
RESULT_KEYS = {"changed", "failed", "path", "paths", "hosts_dir", "restart_needed", "cri_reads_hosts_dir"}


class Tree(t.NamedTuple):
    etc: str
    config: str
    hosts_dir: str
    hosts_toml: str


@pytest.fixture
def tree(host, monkeypatch) -> Tree:
    etc = os.path.join(host.root, "etc", "containerd")
    hosts_dir = os.path.join(etc, "certs.d")
    config = os.path.join(etc, "config.toml")
    # The defaults point into the temporary tree: no test may touch this machine's /etc/containerd.
    monkeypatch.setattr(ctd, "DEFAULT_HOSTS_DIR", hosts_dir)
    monkeypatch.setattr(ctd, "V3_DEFAULT_CONFIG_PATH", "%s:%s" % (hosts_dir, os.path.join(host.root, "docker-certs")))
    host.write(config, DEBIAN)
    fake_containerd(host, "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3")
    return Tree(etc, config, hosts_dir, os.path.join(hosts_dir, "docker.io", "hosts.toml"))


def fake_containerd(host, version_line: str) -> None:
    script = os.path.join(host.bin_dir, "containerd")
    with open(script, "w") as handle:
        handle.write("#!/bin/sh\necho '%s'\n" % version_line)
    os.chmod(script, 0o755)


def run(host, tree: Tree, check_mode: bool = False, diff: bool = False, **params: t.Any) -> dict[str, t.Any]:
    params.setdefault("config_path", tree.config)
    if "hosts_dir" not in params and params.pop("default_dir", False) is False:
        params["hosts_dir"] = tree.hosts_dir
    return host.run(containerd_hosts.main, check_mode=check_mode, diff=diff, **params)


# --------------------------------------------------------------------------- writing


def test_first_run_writes_hosts_toml_and_sets_config_path(host, tree) -> None:
    result = run(host, tree, mirrors=[MIRROR, "http://10.0.0.5:5000"])
    assert set(result) == RESULT_KEYS
    assert result["changed"] and result["restart_needed"] and result["cri_reads_hosts_dir"]
    assert result["paths"] == [tree.hosts_toml, tree.config] and result["path"] == tree.hosts_toml
    hosts = tomllib.loads(host.read(tree.hosts_toml).decode())
    assert hosts == {"server": "https://registry-1.docker.io",
                     "host": {MIRROR: {"capabilities": ["pull", "resolve"]},
                              "http://10.0.0.5:5000": {"capabilities": ["pull", "resolve"]}}}
    config = host.read(tree.config).decode()
    assert config == DEBIAN.replace('      conf_dir = "/etc/cni/net.d"\n', '      conf_dir = "/etc/cni/net.d"\n'
                                    '    [plugins."io.containerd.grpc.v1.cri".registry]\n'
                                    '      config_path = "%s"\n' % tree.hosts_dir)
    assert stat.S_IMODE(os.stat(tree.hosts_toml).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(os.path.dirname(tree.hosts_toml)).st_mode) == 0o755
    assert sorted(os.listdir(tree.etc)) == ["certs.d", "config.toml"]  # no temporary file left


def test_second_run_changes_nothing(host, tree) -> None:
    run(host, tree, mirrors=[MIRROR])
    before = snapshot(tree.etc)
    mtime = os.stat(tree.hosts_toml).st_mtime_ns
    result = run(host, tree, mirrors=[MIRROR + "/"], diff=True)
    assert not result["changed"] and not result["restart_needed"] and result["paths"] == []
    assert result["diff"] == [] and snapshot(tree.etc) == before
    assert os.stat(tree.hosts_toml).st_mtime_ns == mtime


def test_changing_mirrors_rewrites_only_hosts_toml(host, tree) -> None:
    run(host, tree, mirrors=[MIRROR])
    config = host.read(tree.config)
    result = run(host, tree, mirrors=["https://other.example"], diff=True)
    assert result["changed"] and not result["restart_needed"] and result["paths"] == [tree.hosts_toml]
    assert host.read(tree.config) == config
    assert result["diff"][0]["before"].count(MIRROR) == 1 and "https://other.example" in result["diff"][0]["after"]


def test_check_mode_writes_nothing_and_reports_the_same(host, tree) -> None:
    before = snapshot(tree.etc)
    result = run(host, tree, check_mode=True, diff=True, mirrors=[MIRROR])
    assert result["changed"] and result["restart_needed"] and result["paths"] == [tree.hosts_toml, tree.config]
    assert snapshot(tree.etc) == before
    real = run(host, tree, diff=True, mirrors=[MIRROR])
    assert real["diff"] == result["diff"]
    assert result["diff"][0]["before_header"] == tree.hosts_toml + " (absent)"
    assert result["diff"][1]["before"] == DEBIAN and result["diff"][1]["after"] == host.read(tree.config).decode()


def test_config_path_already_set_is_used_and_not_touched(host, tree) -> None:
    other = os.path.join(host.root, "other-certs")
    host.write(tree.config, SET % other)
    result = run(host, tree, default_dir=True, mirrors=[MIRROR])
    assert result["hosts_dir"] == other and not result["restart_needed"] and result["cri_reads_hosts_dir"]
    assert os.path.exists(os.path.join(other, "docker.io", "hosts.toml"))
    assert host.read(tree.config) == (SET % other).encode()


def test_config_path_listing_hosts_dir_second(host, tree) -> None:
    first = os.path.join(host.root, "first")
    host.write(tree.config, SET % ("%s:%s" % (first, tree.hosts_dir)))
    result = run(host, tree, mirrors=[MIRROR])
    assert result["changed"] and result["hosts_dir"] == tree.hosts_dir and not result["restart_needed"]


def test_earlier_config_path_dir_shadowing_fails(host, tree) -> None:
    first = os.path.join(host.root, "first")
    os.makedirs(os.path.join(first, "docker.io"))
    host.write(tree.config, SET % ("%s:%s" % (first, tree.hosts_dir)))
    before = snapshot(tree.etc)
    result = run(host, tree, mirrors=[MIRROR])
    assert_failed_unchanged(result, before, tree.etc, "containerd reads that one")
    assert result["path"] == tree.config


def test_explicit_hosts_dir_not_read_fails(host, tree) -> None:
    host.write(tree.config, SET % "/somewhere/else")
    before = snapshot(tree.etc)
    result = run(host, tree, mirrors=[MIRROR])
    assert_failed_unchanged(result, before, tree.etc, "config_path in %s is /somewhere/else" % tree.config)


def test_explicit_hosts_dir_not_read_warns_without_manage(host, tree, monkeypatch) -> None:
    host.write(tree.config, SET % "/somewhere/else")
    warnings: list[str] = []
    monkeypatch.setattr(containerd_hosts.AnsibleModule, "warn", lambda module, text: warnings.append(text))
    result = run(host, tree, mirrors=[MIRROR], manage_config_path=False)
    assert result["changed"] and result["cri_reads_hosts_dir"] is False and "does not read hosts_dir" in warnings[0]
    assert host.read(tree.config) == (SET % "/somewhere/else").encode()


def test_manage_config_path_false_never_writes_config(host, tree) -> None:
    result = run(host, tree, mirrors=[MIRROR], manage_config_path=False)
    assert result["changed"] and not result["restart_needed"] and result["cri_reads_hosts_dir"] is False
    assert host.read(tree.config) == DEBIAN.encode()


@pytest.mark.parametrize("version_line, created", [
    ("containerd github.com/containerd/containerd 1.7.24~ds1 1.7.24~ds1-6+deb13u1", True),
    ("containerd containerd.io v2.0.2 c507a0257ea6462fbd6f5ba4f5c74facb04021f4", False),
])
def test_missing_config_toml(host, tree, version_line: str, created: bool) -> None:
    os.unlink(tree.config)
    fake_containerd(host, version_line)
    result = run(host, tree, default_dir=True, mirrors=[MIRROR])
    assert result["restart_needed"] is created and os.path.exists(tree.config) is created
    assert result["hosts_dir"] == tree.hosts_dir and result["cri_reads_hosts_dir"]
    if created:
        assert tomllib.loads(host.read(tree.config).decode())["version"] == 2
        assert stat.S_IMODE(os.stat(tree.config).st_mode) == 0o644


def test_missing_config_toml_containerd2_other_hosts_dir_fails(host, tree) -> None:
    os.unlink(tree.config)
    fake_containerd(host, "containerd containerd.io v2.0.2 c507a0257ea6462fbd6f5ba4f5c74facb04021f4")
    result = run(host, tree, hosts_dir=os.path.join(host.root, "elsewhere"), mirrors=[MIRROR])
    assert_failed_unchanged(result, {}, tree.etc, "containerd 2.x default")


def test_registry_with_port_and_own_server(host, tree) -> None:
    result = run(host, tree, registry="registry.example:5000", mirrors=["http://10.0.0.5:5000"],
                 server="https://registry.example:5000/", capabilities=["pull"])
    path = os.path.join(tree.hosts_dir, "registry.example:5000", "hosts.toml")
    assert result["path"] == path
    assert tomllib.loads(host.read(path).decode()) == {
        "server": "https://registry.example:5000", "host": {"http://10.0.0.5:5000": {"capabilities": ["pull"]}}}


def test_skip_verify_only_for_https(host, tree) -> None:
    run(host, tree, mirrors=["https://self.example", "http://10.0.0.5:5000"], skip_verify=True)
    hosts = tomllib.loads(host.read(tree.hosts_toml).decode())["host"]
    assert hosts["https://self.example"]["skip_verify"] is True and "skip_verify" not in hosts["http://10.0.0.5:5000"]


def test_symlinked_hosts_toml_target_is_written(host, tree) -> None:
    real = os.path.join(host.root, "real-hosts.toml")
    host.write(real, ctd.MARKER + "\n")
    os.makedirs(os.path.dirname(tree.hosts_toml))
    os.symlink(real, tree.hosts_toml)
    result = run(host, tree, mirrors=[MIRROR])
    assert result["path"] == real and os.path.islink(tree.hosts_toml) and MIRROR in host.read(real).decode()


def test_mode_option_applies(host, tree) -> None:
    result = run(host, tree, mirrors=[MIRROR], mode="0600")
    assert result["changed"] and stat.S_IMODE(os.stat(tree.hosts_toml).st_mode) == 0o600


# --------------------------------------------------------------------------- files we do not own


def test_foreign_hosts_toml_is_not_replaced(host, tree) -> None:
    host.write(tree.hosts_toml, 'server = "https://registry-1.docker.io"\n[host."https://theirs"]\n')
    before = snapshot(tree.etc)
    result = run(host, tree, mirrors=[MIRROR])
    assert_failed_unchanged(result, before, tree.etc, "not written by this module")


def test_force_replaces_foreign_hosts_toml(host, tree) -> None:
    host.write(tree.hosts_toml, 'server = "https://registry-1.docker.io"\n')
    result = run(host, tree, mirrors=[MIRROR], force=True)
    assert result["changed"] and ctd.is_ours(host.read(tree.hosts_toml).decode())


def test_absent_removes_only_our_file(host, tree) -> None:
    run(host, tree, mirrors=[MIRROR])
    host.write(os.path.join(tree.hosts_dir, "docker.io", "ca.crt"), "cert")
    config = host.read(tree.config)
    result = run(host, tree, state="absent", diff=True)
    assert result["changed"] and result["paths"] == [tree.hosts_toml] and not result["restart_needed"]
    assert not os.path.exists(tree.hosts_toml) and os.path.exists(os.path.join(tree.hosts_dir, "docker.io", "ca.crt"))
    assert host.read(tree.config) == config
    assert result["diff"][0]["after_header"] == tree.hosts_toml + " (absent)"
    again = run(host, tree, state="absent")
    assert not again["changed"]


def test_absent_removes_empty_directory(host, tree) -> None:
    run(host, tree, mirrors=[MIRROR])
    run(host, tree, state="absent")
    assert os.listdir(tree.hosts_dir) == []


def test_absent_check_mode(host, tree) -> None:
    run(host, tree, mirrors=[MIRROR])
    result = run(host, tree, state="absent", check_mode=True)
    assert result["changed"] and os.path.exists(tree.hosts_toml)


def test_absent_leaves_foreign_file(host, tree, monkeypatch) -> None:
    host.write(tree.hosts_toml, 'server = "https://x"\n')
    warnings: list[str] = []
    monkeypatch.setattr(containerd_hosts.AnsibleModule, "warn", lambda module, text: warnings.append(text))
    result = run(host, tree, state="absent")
    assert not result["changed"] and os.path.exists(tree.hosts_toml) and "left in place" in warnings[0]


# --------------------------------------------------------------------------- failures: nothing written


@pytest.mark.parametrize("params, fragment", [
    ({"mirrors": ["mirror.gcr.io"]}, "no scheme"),
    ({"mirrors": ["https://user:secret@m.example"]}, "username/password"),
    ({"registry": "../../etc"}, "invalid registry"),
    ({"server": "ftp://x"}, "server: invalid URL"),
    ({"capabilities": []}, "capabilities"),
    ({"config_path": "relative/config.toml"}, "must be an absolute path"),
])
def test_bad_input_fails_before_writing(host, tree, params: dict[str, t.Any], fragment: str) -> None:
    before = snapshot(tree.etc)
    result = run(host, tree, **dict({"mirrors": [MIRROR]}, **params))
    assert_failed_unchanged(result, before, tree.etc, fragment)
    assert "secret" not in result["msg"]


@pytest.mark.parametrize("config, fragment", [
    ("version = 2\n[plugins\n", "cannot parse config.toml as TOML"),
    ("version = 9\n", "unsupported config version 9"),
    ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\nendpoint = ["https://m"]\n',
     "CRI plugin would refuse to load"),
    ('version = 2\n[plugins."io.containerd.grpc.v1.cri"]\nregistry.auths = {}\n', "set it to"),
])
def test_bad_config_toml_fails_byte_identical(host, tree, config: str, fragment: str) -> None:
    host.write(tree.config, config)
    before = snapshot(tree.etc)
    result = run(host, tree, mirrors=[MIRROR])
    assert_failed_unchanged(result, before, tree.etc, fragment)
    assert result["path"] == tree.config


@pytest.mark.parametrize("raw, fragment", [(b"\xff\xfe", "not valid UTF-8"), (None, "not a regular file")])
def test_unreadable_config_toml(host, tree, raw: bytes | None, fragment: str) -> None:
    if raw is None:
        os.unlink(tree.config)
        os.mkfifo(tree.config)
    else:
        host.write(tree.config, raw)
    result = run(host, tree, mirrors=[MIRROR])
    assert result["failed"] and fragment in result["msg"] and not os.path.exists(tree.hosts_toml)


def test_failed_config_write_restores_hosts_toml(host, tree, monkeypatch) -> None:
    real_write = _files.write_text

    def write_text(module, path, text):
        if path == tree.config:
            raise containerd_hosts.FileError(path, "cannot write the file: No space left on device")
        real_write(module, path, text)

    monkeypatch.setattr(_files, "write_text", write_text)
    before = snapshot(tree.etc)
    result = run(host, tree, mirrors=[MIRROR])
    assert result["failed"] and "No space left" in result["msg"] and result["path"] == tree.config
    assert snapshot(tree.etc) == before
