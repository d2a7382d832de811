# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the real containerd_hosts module in-process against a temporary /etc/containerd.

The rendering and the config.toml edit have their own tables (module_utils/test_containerd.py); these check the
module's I/O: which files are written or left alone, check and diff mode, ownership, every failure path.
"""

from __future__ import annotations

import json
import os
import stat
import time
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
RESULT_KEYS = {"changed", "failed", "path", "paths", "hosts_dir", "restart_needed", "cri_reads_hosts_dir",
               "cri_enabled", "config_created", "restart_pending_only", "apply_action", "outcome", "registries",
               "unsupported"}


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
    monkeypatch.setattr(ctd, "CRI_DEFAULT_CONFIG_PATH", "%s:%s" % (hosts_dir, os.path.join(host.root, "docker-certs")))
    host.write(config, DEBIAN)
    fake_containerd(host, "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3")
    return Tree(etc, config, hosts_dir, os.path.join(hosts_dir, "docker.io", "hosts.toml"))


def fake_containerd(host, version_line: str) -> None:
    """``--version``; ``config dump`` prints the file itself (containerd adds every default and merges imports)."""
    script = os.path.join(host.bin_dir, "containerd")
    with open(script, "w") as handle:
        handle.write("#!/bin/sh\nif [ \"$1 $3 $4\" = \"--config config dump\" ]; then cat \"$2\"; exit 0; fi\n"
                     "echo '%s'\n" % version_line)
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
    assert_failed_unchanged(result, before, tree.etc, "containerd reads %s before" % os.path.join(first, "docker.io"))
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


CTD_17 = "containerd github.com/containerd/containerd 1.7.24~ds1 1.7.24~ds1-6+deb13u1"
CTD_21 = "containerd github.com/containerd/containerd/v2 2.1.9+unknown "  # Debian forky, measured
CTD_20 = "containerd containerd.io v2.0.2 c507a0257ea6462fbd6f5ba4f5c74facb04021f4"
CTD_22 = "containerd containerd.io v2.2.2 c507a0257ea6462fbd6f5ba4f5c74facb04021f4"
V3_REGISTRY = '[plugins."io.containerd.cri.v1.images".registry]'


@pytest.mark.parametrize("version_line, created", [
    (CTD_17, {"version": 2, "plugins": {"io.containerd.grpc.v1.cri": {"registry": {"config_path": None}}}}),
    # containerd 2.0 and 2.1 read no hosts directory while config_path is unset: a version 3 file is written
    (CTD_20, {"version": 3, "plugins": {"io.containerd.cri.v1.images": {"registry": {"config_path": None}}}}),
    (CTD_21, {"version": 3, "plugins": {"io.containerd.cri.v1.images": {"registry": {"config_path": None}}}}),
    (CTD_22, None),  # 2.2 reads /etc/containerd/certs.d by default
])
def test_missing_config_toml(host, tree, version_line: str, created: dict[str, t.Any] | None) -> None:
    os.unlink(tree.config)
    fake_containerd(host, version_line)
    result = run(host, tree, default_dir=True, mirrors=[MIRROR])
    assert result["restart_needed"] is bool(created) and os.path.exists(tree.config) is bool(created)
    assert result["config_created"] is bool(created)
    assert result["hosts_dir"] == tree.hosts_dir and result["cri_reads_hosts_dir"]
    if created:
        table = next(iter(created["plugins"]))
        created["plugins"][table]["registry"]["config_path"] = tree.hosts_dir
        assert tomllib.loads(host.read(tree.config).decode()) == created
        assert stat.S_IMODE(os.stat(tree.config).st_mode) == 0o644


@pytest.mark.parametrize("config", [
    'version = 3\n[plugins."io.containerd.cri.v1.images"]\n  max_concurrent_downloads = 4\n',
    'version = 3\n%s\n  config_path = ""\n' % V3_REGISTRY,
])
def test_version_3_without_config_path_on_containerd_21(host, tree, config: str) -> None:
    """Measured on forky: 2.1.9's CRI pull goes through a hosts.toml mirror only once config_path is set."""
    host.write(tree.config, config)
    fake_containerd(host, CTD_21)
    result = run(host, tree, default_dir=True, mirrors=[MIRROR])
    assert result["changed"] and result["restart_needed"] and result["cri_reads_hosts_dir"]
    assert result["paths"] == [tree.hosts_toml, tree.config] and not result["config_created"]
    after = host.read(tree.config).decode()
    assert tomllib.loads(after)["plugins"]["io.containerd.cri.v1.images"]["registry"]["config_path"] == tree.hosts_dir
    assert [line for line in after.splitlines() if line not in config.splitlines()] in (
        ['  config_path = "%s"' % tree.hosts_dir], [V3_REGISTRY, '  config_path = "%s"' % tree.hosts_dir])
    second = run(host, tree, default_dir=True, mirrors=[MIRROR])
    assert not second["changed"] and not second["restart_needed"]


def test_version_3_without_config_path_on_containerd_22_is_left(host, tree) -> None:
    config = 'version = 3\n[plugins."io.containerd.cri.v1.images"]\n  max_concurrent_downloads = 4\n'
    host.write(tree.config, config)
    fake_containerd(host, CTD_22)
    result = run(host, tree, default_dir=True, mirrors=[MIRROR])
    assert result["changed"] and not result["restart_needed"] and result["cri_reads_hosts_dir"]
    assert result["paths"] == [tree.hosts_toml] and host.read(tree.config) == config.encode()


def test_version_3_with_mirrors_on_containerd_222_gets_no_default(host, tree) -> None:
    """2.2.2 takes its default directories only while no legacy mirrors are set: with them, config_path cannot
    be set either (the CRI plugin refuses both)."""
    config = 'version = 3\n%s.mirrors."docker.io"]\n  endpoint = ["https://m"]\n' % V3_REGISTRY[:-1]
    host.write(tree.config, config)
    fake_containerd(host, CTD_22)
    before = snapshot(tree.etc)
    assert_failed_unchanged(run(host, tree, default_dir=True, mirrors=[MIRROR]), before, tree.etc,
                            "config_path cannot be set while")


def test_containerd22_default_not_holding_hosts_dir_fails(host, tree) -> None:
    host.write(tree.config, "version = 3\n")
    fake_containerd(host, CTD_22)
    before = snapshot(tree.etc)
    result = run(host, tree, hosts_dir=os.path.join(host.root, "elsewhere"), mirrors=[MIRROR])
    assert_failed_unchanged(result, before, tree.etc, "%s leaves config_path empty, so the CRI plugin reads "
                                                      "containerd 2.2's default" % tree.config)


def test_missing_config_toml_containerd22_other_hosts_dir_fails(host, tree) -> None:
    os.unlink(tree.config)
    fake_containerd(host, CTD_22)
    result = run(host, tree, hosts_dir=os.path.join(host.root, "elsewhere"), mirrors=[MIRROR])
    assert_failed_unchanged(result, {}, tree.etc, "so the CRI plugin reads containerd 2.2's default")


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
     "CRI plugin refuses to load"),
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

    def write_text(module, path, text, mode=None):
        if path == tree.config:
            raise containerd_hosts.FileError(path, "cannot write the file: No space left on device")
        real_write(module, path, text, mode)

    monkeypatch.setattr(_files, "write_text", write_text)
    before = snapshot(tree.etc)
    result = run(host, tree, mirrors=[MIRROR])
    assert result["failed"] and "No space left" in result["msg"] and result["path"] == tree.config
    assert snapshot(tree.etc) == before


# --------------------------------------------------------------------------- containerd checks the new config.toml

# containerd 1.7's words on a value of the wrong type (measured on Debian 13), and on anything it cannot load.
CONTAINERD = r'''#!/bin/sh
echo "$*" >> "%(log)s"
if [ "$1" = "--version" ]; then echo 'containerd github.com/containerd/containerd 1.7.24~ds1 1.7.24~ds1-6+deb13u1'; exit 0; fi
if [ "$1" = "--config" ] && [ "$3 $4" = "config dump" ]; then
  if grep -q SLOW "$2"; then exit 124; fi
  if grep -q abc "$2"; then
    echo 'time="x" level=warning msg="containerd config version `1` has been deprecated"' >&2
    echo "containerd: failed to load TOML from $2: (2, 1): Can't convert abc(string) to int" >&2
    exit 1
  fi
  cat "$2"; exit 0
fi
exit 2
'''
BAD = DEBIAN.replace("version = 2\n", 'version = 2\noom_score = "abc"\n')


@pytest.fixture
def dump_log(host) -> str:
    log = os.path.join(host.root, "containerd.log")
    script = os.path.join(host.bin_dir, "containerd")
    with open(script, "w") as handle:
        handle.write(CONTAINERD % {"log": log})
    os.chmod(script, 0o755)
    return log


def dumps(log: str) -> list[str]:
    if not os.path.exists(log):
        return []
    with open(log) as handle:
        return [line for line in handle.read().splitlines() if line.endswith("config dump")]


@pytest.mark.parametrize("check_mode", [False, True])
def test_containerd_refusing_the_new_file_writes_nothing(host, tree, dump_log, check_mode: bool) -> None:
    host.write(tree.config, BAD)
    before = snapshot(tree.etc)
    result = run(host, tree, check_mode=check_mode, mirrors=[MIRROR])
    # The file was invalid before the edit: said so, with containerd's words on the file as it is.
    assert_failed_unchanged(result, before, tree.etc, "already invalid")
    assert result["msg"] == ("%s: the file is already invalid, before any change: containerd says containerd: failed "
                             "to load TOML from %s: (2, 1): Can't convert abc(string) to int; fix it first — the "
                             "file was left unchanged" % (tree.config, tree.config))
    call = dumps(dump_log)[0]
    candidate = call.split()[1]
    directory = os.path.dirname(candidate)
    assert (directory == tree.etc) is (not check_mode) and not os.path.exists(candidate)


def test_containerd_taking_the_new_file(host, tree, dump_log) -> None:
    result = run(host, tree, mirrors=[MIRROR])
    assert result["changed"] and result["restart_needed"] and len(dumps(dump_log)) == 1
    assert sorted(os.listdir(tree.etc)) == ["certs.d", "config.toml"]


def test_config_dump_that_hangs(host, tree, dump_log) -> None:
    host.write(tree.config, DEBIAN + "# SLOW\n")
    before = snapshot(tree.etc)
    result = run(host, tree, mirrors=[MIRROR])
    assert_failed_unchanged(result, before, tree.etc, "containerd config dump did not finish within 10 s")


def test_no_dump_when_config_toml_stays(host, tree, dump_log) -> None:
    host.write(tree.config, SET % tree.hosts_dir)
    assert not run(host, tree, mirrors=[MIRROR])["restart_needed"] and dumps(dump_log) == []


def test_no_containerd_binary_no_dump(host, tree, monkeypatch) -> None:
    real = containerd_hosts.AnsibleModule.get_bin_path
    monkeypatch.setattr(containerd_hosts.AnsibleModule, "get_bin_path",
                        lambda module, name, *args, **kwargs: None if name == "containerd" else real(module, name))
    host.write(tree.config, BAD)
    result = run(host, tree, mirrors=[MIRROR])
    assert result["changed"] and result["restart_needed"]  # nothing on the host to ask


# --------------------------------------------------------------------------- keep_previous


def test_keep_previous_keeps_the_old_config_toml(host, tree) -> None:
    result = run(host, tree, mirrors=[MIRROR], keep_previous=True)
    copy = os.path.join(tree.etc, ".config.toml.docker_mirror-previous")
    assert result["rollback_file"] == copy and result["config_created"] is False
    assert host.read(copy) == DEBIAN.encode() and stat.S_IMODE(os.stat(copy).st_mode) == 0o600
    again = run(host, tree, mirrors=["https://other.example"], keep_previous=True)
    assert "rollback_file" not in again and host.read(copy) == DEBIAN.encode()  # config.toml did not change


@pytest.mark.parametrize("case", ["created", "check_mode", "off"])
def test_keep_previous_makes_no_copy(host, tree, case: str) -> None:
    if case == "created":
        os.unlink(tree.config)
    result = run(host, tree, check_mode=case == "check_mode", mirrors=[MIRROR], keep_previous=case != "off")
    assert result["restart_needed"] and "rollback_file" not in result
    assert result["config_created"] is (case == "created")
    assert not os.path.exists(os.path.join(tree.etc, ".config.toml.docker_mirror-previous"))


def test_keep_previous_copy_removed_when_config_write_fails(host, tree, monkeypatch) -> None:
    real_write = _files.write_text

    def write_text(module, path, text, mode=None):
        if path == tree.config:
            raise containerd_hosts.FileError(path, "cannot write the file: No space left on device")
        real_write(module, path, text, mode)

    monkeypatch.setattr(_files, "write_text", write_text)
    before = snapshot(tree.etc)
    result = run(host, tree, mirrors=[MIRROR], keep_previous=True)
    assert result["failed"] and snapshot(tree.etc) == before


def test_keep_previous_copy_that_cannot_be_made(host, tree, monkeypatch) -> None:
    real_rename = os.rename

    def rename(src, dst, *args, **kwargs):
        if isinstance(dst, str) and dst.endswith(_files.PREVIOUS_SUFFIX):
            raise PermissionError(1, "Operation not permitted")
        return real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", rename)
    before = snapshot(tree.etc)
    result = run(host, tree, mirrors=[MIRROR], keep_previous=True)
    assert_failed_unchanged(result, before, tree.etc, "cannot keep the previous copy %s: Operation not permitted"
                            % os.path.join(tree.etc, ".config.toml.docker_mirror-previous"))


# --------------------------------------------------------------------------- the CRI plugin disabled (Docker CE)

DOCKER_CE = '#   Copyright 2018-2022 Docker Inc.\n\ndisabled_plugins = ["cri"]\n'


@pytest.mark.parametrize("config", [DOCKER_CE, 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                                    '[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/elsewhere"\n'])
@pytest.mark.parametrize("hosts_dir", [None, "/srv/certs.d"])
def test_cri_disabled_leaves_config_toml(host, tree, dump_log, config: str, hosts_dir: str | None) -> None:
    host.write(tree.config, config)
    params = {"hosts_dir": os.path.join(host.root, hosts_dir.lstrip("/"))} if hosts_dir else {"default_dir": True}
    result = run(host, tree, mirrors=[MIRROR], keep_previous=True, **params)
    assert result["changed"] and result["restart_needed"] is False and result["cri_enabled"] is False
    assert result["cri_reads_hosts_dir"] is None and result["config_created"] is False
    assert result["hosts_dir"] == (params.get("hosts_dir") or tree.hosts_dir) and "rollback_file" not in result
    assert host.read(tree.config) == config.encode() and dumps(dump_log) == []
    assert os.path.exists(os.path.join(result["hosts_dir"], "docker.io", "hosts.toml"))


def test_cri_enabled_reported(host, tree) -> None:
    result = run(host, tree, mirrors=[MIRROR], manage_config_path=False)
    assert result["cri_enabled"] is True and result["cri_reads_hosts_dir"] is False


# --------------------------------------------------------------------------- the file the running containerd reads


def running_containerd(host, argv: list[str], cwd: str | None = None) -> None:
    host.set(mainpid=3131)
    host.add_process(3131, argv, comm="containerd")
    if cwd:
        os.symlink(cwd, os.path.join(host.proc, "3131", "cwd"))


@pytest.mark.parametrize("flags, cwd, runs_with", [
    (["--config", "/etc/k8s/containerd.toml"], None, "--config /etc/k8s/containerd.toml"),
    (["-c=/opt/c.toml"], None, "--config /opt/c.toml"),
    ([], None, "its default /etc/containerd/config.toml"),
    (["-c", "other.toml"], "/run", "--config other.toml"),
    (["-c", "/a.toml", "-c", "/b.toml"], None, "--config /b.toml"),  # the last one wins, as in mirrors_info
])
def test_containerd_reading_another_file_fails(host, tree, flags: list[str], cwd: str | None, runs_with: str) -> None:
    running_containerd(host, ["/usr/bin/containerd"] + flags, cwd)
    before = snapshot(tree.etc)
    result = run(host, tree, mirrors=[MIRROR])
    expected = os.path.join(cwd, flags[-1]) if cwd else (flags[-1].partition("=")[2] or flags[-1] if flags
                                                         else containerd_hosts.DEFAULT_CONFIG)
    assert_failed_unchanged(result, before, tree.etc, "containerd runs with %s (pid 3131), not %s: point config_path "
                            "at %s" % (runs_with, tree.config, expected))


@pytest.mark.parametrize("flags, relative", [(["--config"], False), (["-c"], True)])
def test_containerd_reading_config_path(host, tree, flags: list[str], relative: bool) -> None:
    if relative:
        running_containerd(host, ["/usr/bin/containerd", "-c", "config.toml"], tree.etc)
    else:
        running_containerd(host, ["/usr/bin/containerd", "--config", os.path.join(tree.etc, ".", "config.toml")])
    assert run(host, tree, mirrors=[MIRROR])["changed"]


def test_running_containerd_not_checked_for_absent(host, tree) -> None:
    run(host, tree, mirrors=[MIRROR])
    running_containerd(host, ["/usr/bin/containerd", "--config", "/etc/k8s/containerd.toml"])
    assert run(host, tree, state="absent")["changed"]


def test_unit_main_pid_not_containerd_is_ignored(host, tree) -> None:
    host.set(mainpid=3132)  # no such process, then a process that is not containerd
    assert run(host, tree, mirrors=[MIRROR])["changed"]
    host.add_process(3133, ["/usr/bin/sleep", "--config", "/x"], comm="sleep")
    host.set(mainpid=3133)
    assert not run(host, tree, mirrors=[MIRROR])["failed"]


# --------------------------------------------------------------------------- secrets


@pytest.mark.parametrize("mirrors", [["https://user:s3cr3tPW@mirror.example"], [MIRROR, "user:s3cr3tPW@mirror"]])
def test_secrets_never_shown(host, tree, mirrors: list[str]) -> None:
    result = run(host, tree, mirrors=mirrors, server="https://u:s3cr3tPW@registry.example")
    assert result["failed"] and "s3cr3tPW" not in repr(result)
    assert "s3cr3tPW" not in repr(host.invocation) and host.invocation["module_args"]["mirrors"][-1].startswith(
        ("https://xxxxx@", "xxxxx@"))


def test_invocation_on_success(host, tree) -> None:
    run(host, tree, mirrors=[MIRROR])
    assert host.invocation["module_args"]["mirrors"] == [MIRROR]


# --------------------------------------------------------------------------- issue 21: judged as containerd loads it

V2_REGISTRY = '[plugins."io.containerd.grpc.v1.cri".registry'


@pytest.mark.parametrize("config, fragment", [
    # containerd 1.6 then drops its CRI plugin: "configs.tls cannot be set when config_path is provided"
    (DEBIAN + V2_REGISTRY + '.configs."reg.example".tls]\n', "config_path cannot be set while"),
    (SET % "/x" + V2_REGISTRY + '.mirrors."docker.io"]\nendpoint = ["https://m"]\n', "set together with"),
    ('version = 2\ndisabled_plugins = ["cri"]\n', "already invalid"),
    ("version = 2\n[a]\nb\xe9 = 1\n", "cannot parse"),
])
def test_refused_as_containerd_refuses(host, tree, config: str, fragment: str) -> None:
    host.write(tree.config, config)
    before = snapshot(tree.etc)
    assert_failed_unchanged(run(host, tree, mirrors=[MIRROR]), before, tree.etc, fragment)


@pytest.mark.parametrize("params, fragment", [
    ({"hosts_dir": ""}, "hosts_dir is empty"),
    ({"registry": "../../etc"}, "must be host[:port]"),
])
def test_bad_parameters(host, tree, params: dict[str, t.Any], fragment: str) -> None:
    before = snapshot(tree.etc)
    assert_failed_unchanged(run(host, tree, mirrors=[MIRROR], **params), before, tree.etc, fragment)


def test_messages_name_the_role_variables_under_the_role(host, tree) -> None:
    names = {"hosts_dir": "docker_mirror_containerd_hosts_dir", "config_path": "docker_mirror_containerd_config"}
    result = run(host, tree, mirrors=[MIRROR], hosts_dir="", option_names=names)
    assert result["failed"] and result["msg"].endswith(
        "docker_mirror_containerd_hosts_dir is empty (an unset variable?): name the directory, or leave it out to "
        "use the one containerd reads — the file was left unchanged"), result["msg"]
    running_containerd(host, ["/usr/bin/containerd", "-c", "/etc/k8s/containerd.toml"], None)
    result = run(host, tree, mirrors=[MIRROR], option_names=names)
    assert "point docker_mirror_containerd_config at /etc/k8s/containerd.toml" in result["msg"], result["msg"]


def test_registry_is_written_in_lower_case(host, tree) -> None:
    """The shared model lower-cases registry names (and files Docker Hub's aliases under docker.io)."""
    result = run(host, tree, mirrors=[MIRROR], registry="LocalHost:5003")
    assert result["path"] == os.path.join(tree.hosts_dir, "localhost:5003", "hosts.toml")
    assert run(host, tree, mirrors=[MIRROR], registry="index.docker.io")["path"] == tree.hosts_toml


def test_relative_config_path_is_read_from_root(host, tree, monkeypatch) -> None:
    host.write(tree.config, SET % "relative/certs.d")
    before = snapshot(tree.etc)
    assert_failed_unchanged(run(host, tree, mirrors=[MIRROR]), before, tree.etc, "is /relative/certs.d: the CRI")
    warnings: list[str] = []
    monkeypatch.setattr(containerd_hosts.AnsibleModule, "warn", lambda module, text: warnings.append(text))
    result = run(host, tree, mirrors=[MIRROR], manage_config_path=False)
    assert "is /relative/certs.d" in warnings[0] and result["cri_reads_hosts_dir"] is False


def dump_prints(host, text: str) -> None:
    """A containerd whose config dump prints ``text`` (the effective config after imports) and logs the candidate."""
    script = os.path.join(host.bin_dir, "containerd")
    with open(os.path.join(host.root, "dump.toml"), "w") as handle:
        handle.write(text)
    with open(script, "w") as handle:
        handle.write('#!/bin/sh\nif [ "$1 $3 $4" = "--config config dump" ]; then cat "$2" > %s/candidate; '
                     'cat %s/dump.toml; exit 0; fi\necho "containerd x 1.6.20 y"\n' % (host.root, host.root))
    os.chmod(script, 0o755)


def test_import_replacing_the_cri_section_fails(host, tree) -> None:
    host.write(tree.config, 'imports = ["/etc/containerd/conf.d/cri.toml"]\n' + SET % tree.hosts_dir)
    dump_prints(host, 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = ""\n')
    before = snapshot(tree.etc)
    assert_failed_unchanged(run(host, tree, mirrors=[MIRROR]), before, tree.etc, 'containerd loads config_path ""')


def test_version_3_on_containerd_16_fails(host, tree) -> None:
    host.write(tree.config, "version = 3\n")
    before = snapshot(tree.etc)
    assert_failed_unchanged(run(host, tree, mirrors=[MIRROR]), before, tree.etc, "installed containerd 1.x ignores")


@pytest.mark.parametrize("check_mode", [False, True])
def test_relative_import_checked_as_containerd_reads_it(host, tree, check_mode: bool) -> None:
    host.write(tree.config, 'imports = ["conf.d/x.toml"]\n' + DEBIAN)
    dump_prints(host, 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "%s"\n'
                % tree.hosts_dir)
    result = run(host, tree, check_mode=check_mode, mirrors=[MIRROR])
    assert result["changed"] and result["cri_reads_hosts_dir"]
    imports = tomllib.loads(host.read(os.path.join(host.root, "candidate")).decode())["imports"]
    assert imports == ([os.path.join(tree.etc, "conf.d/x.toml")] if check_mode else ["conf.d/x.toml"])


@pytest.mark.parametrize("shadow", ["first/_default", "etc/containerd/certs.d/127.0.0.1_5003_"])
def test_shadowing_directory_named(host, tree, shadow: str) -> None:
    first = os.path.join(host.root, "first")
    os.makedirs(os.path.join(host.root, shadow))
    host.write(tree.config, SET % ("%s:%s" % (first, tree.hosts_dir)))
    before = snapshot(tree.etc)
    result = run(host, tree, registry="127.0.0.1:5003", mirrors=[MIRROR])
    assert_failed_unchanged(result, before, tree.etc, "containerd reads %s before" % os.path.join(host.root, shadow))


def test_upper_case_scheme_and_no_mirror(host, tree) -> None:
    run(host, tree, mirrors=["HTTP://10.0.0.5:5000"])
    assert list(tomllib.loads(host.read(tree.hosts_toml).decode())["host"]) == ["http://10.0.0.5:5000"]
    run(host, tree, mirrors=[], server="https://reg.example", exclusive=True)
    assert tomllib.loads(host.read(tree.hosts_toml).decode()) == {"server": "https://reg.example", "host": {}}


def test_config_path_is_the_hosts_toml(host, tree) -> None:
    os.makedirs(os.path.dirname(tree.hosts_toml))
    host.write(tree.hosts_toml, SET % tree.hosts_dir)
    result = run(host, tree, mirrors=[MIRROR], config_path=tree.hosts_toml)
    assert result["failed"] and "is the hosts.toml" in result["msg"]


def test_latin1_comment_accepted_and_kept_byte_for_byte(host, tree) -> None:
    # containerd accepts bytes that are not UTF-8 in a comment: so do we, and only the config_path line is new.
    host.write(tree.config, b"# r\xe9glages de l'\xe9quipe\n" + DEBIAN.encode())
    result = run(host, tree, mirrors=[MIRROR])
    assert not result.get("failed") and result["restart_needed"]
    raw = host.read(tree.config)
    assert raw.startswith(b"# r\xe9glages de l'\xe9quipe\n" + DEBIAN.encode()[:20])
    lines = set(raw.splitlines()) - set((b"# r\xe9glages de l'\xe9quipe\n" + DEBIAN.encode()).splitlines())
    config_line = [line for line in lines if line.strip().startswith(b"config_path = ")]
    assert config_line and lines - set(config_line) <= {b'    [plugins."io.containerd.grpc.v1.cri".registry]',
                                                        b'  [plugins."io.containerd.grpc.v1.cri".registry]'}
    assert not run(host, tree, mirrors=[MIRROR])["changed"]


def test_latin1_comment_shown_in_the_diff_as_the_controller_can_take_it(host, tree) -> None:
    host.write(tree.config, b"# caf\xe9\n" + DEBIAN.encode())
    result = run(host, tree, check_mode=True, diff=True, mirrors=[MIRROR])
    config_diff = [entry for entry in result["diff"] if entry["before_header"] == tree.config][0]
    assert config_diff["before"].startswith("# caf\ufffd\n") and "config_path" in config_diff["after"]
    # Ansible refuses a result holding a lone surrogate ("Refusing to deserialize an invalid UTF8 string").
    json.dumps(result, ensure_ascii=False).encode("utf-8")


def test_latin1_in_a_key_refused_byte_identical(host, tree) -> None:
    original = b"version = 2\npath\xe9 = 1\n"
    host.write(tree.config, original)
    result = run(host, tree, mirrors=[MIRROR])
    assert result["failed"] and "not valid UTF-8 outside a comment or string" in result["msg"]
    assert host.read(tree.config) == original and not os.path.exists(tree.hosts_toml)


def test_bom_accepted_and_kept(host, tree) -> None:
    host.write(tree.config, "\ufeff" + DEBIAN)
    assert run(host, tree, mirrors=[MIRROR])["restart_needed"]
    raw = host.read(tree.config)
    assert raw.startswith(b"\xef\xbb\xbf" + DEBIAN.encode()[:20]) and tomllib.loads(raw.decode()[1:])


def test_absent_does_not_read_config_toml(host, tree) -> None:
    run(host, tree, mirrors=[MIRROR])
    host.write(tree.config, "version = 2\n[plugins\n")
    result = run(host, tree, state="absent")
    assert result["changed"] and not os.path.exists(tree.hosts_toml)


@pytest.mark.parametrize("exclusive, mirrors", [
    (False, [MIRROR, "http://10.0.0.5:5000", "https://new.example"]),
    (True, ["https://new.example"]),
])
def test_exclusive(host, tree, exclusive: bool, mirrors: list[str]) -> None:
    run(host, tree, mirrors=[MIRROR, "http://10.0.0.5:5000"])
    run(host, tree, mirrors=["https://new.example"], exclusive=exclusive)
    assert list(tomllib.loads(host.read(tree.hosts_toml).decode())["host"]) == mirrors


# --------------------------------------------------------------------------- the managed-file protocol (issue 21)


def directories(root: str) -> list[str]:
    return sorted(os.path.relpath(directory, root) for directory, dummy, names in os.walk(root))


def test_strict_umask_new_files_are_world_readable(host, tree) -> None:
    old_umask = os.umask(0o077)
    try:
        run(host, tree, mirrors=[MIRROR])
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(os.stat(tree.hosts_toml).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(tree.hosts_dir).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(os.path.dirname(tree.hosts_toml)).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(tree.config).st_mode) == 0o644  # an existing file keeps its mode


def test_strict_umask_keeps_an_existing_files_mode_and_mode_option_wins(host, tree) -> None:
    os.chmod(tree.config, 0o600)
    old_umask = os.umask(0o077)
    try:
        run(host, tree, mirrors=[MIRROR], mode="0640")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(os.stat(tree.config).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tree.hosts_toml).st_mode) == 0o640


FLAGS_REFUSED = [
    ("immutable config.toml", "config", _files.FS_IMMUTABLE_FL, "the file is immutable (chattr +i): remove the flag"),
    ("append-only config.toml", "config", _files.FS_APPEND_FL, "the file is append-only (chattr +a)"),
    ("immutable /etc/containerd", "etc", _files.FS_IMMUTABLE_FL, "is immutable (chattr +i)"),
]


@pytest.mark.parametrize("check_mode", [False, True], ids=["real", "check"])
@pytest.mark.parametrize("name, where, flag, fragment", FLAGS_REFUSED, ids=[r[0] for r in FLAGS_REFUSED])
def test_refusals_run_before_any_write_and_in_check_mode(host, tree, monkeypatch, name, where, flag, fragment,
                                                         check_mode) -> None:
    flagged = tree.config if where == "config" else tree.etc
    monkeypatch.setattr(_files, "inode_flags", lambda path: flag if path == flagged else 0)
    before, dirs = snapshot(tree.etc), directories(tree.etc)
    result = run(host, tree, check_mode=check_mode, mirrors=[MIRROR], keep_previous=True)
    assert_failed_unchanged(result, before, tree.etc, fragment)
    assert result["path"] == tree.config
    assert directories(tree.etc) == dirs  # no empty certs.d/ left behind


def test_immutable_hosts_toml_is_refused_before_config_toml_is_written(host, tree, monkeypatch) -> None:
    run(host, tree, mirrors=[MIRROR])
    monkeypatch.setattr(_files, "inode_flags", lambda path: _files.FS_IMMUTABLE_FL if path == tree.hosts_toml else 0)
    host.write(tree.config, DEBIAN)
    before = snapshot(tree.etc)
    result = run(host, tree, mirrors=["https://other.example"])
    assert_failed_unchanged(result, before, tree.etc, "the file is immutable (chattr +i)")
    assert result["path"] == tree.hosts_toml


def test_failed_write_removes_the_directories_it_made(host, tree, monkeypatch) -> None:
    def refuse(module, src, dest, unsafe_writes=False, keep_dest_attrs=True):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(containerd_hosts.AnsibleModule, "atomic_move", refuse)
    before, dirs = snapshot(tree.etc), directories(tree.etc)
    result = run(host, tree, mirrors=[MIRROR])
    assert result["failed"] and "No space left on device" in result["msg"]
    assert snapshot(tree.etc) == before and directories(tree.etc) == dirs


def test_real_immutable_config_toml(host, tree) -> None:
    import subprocess
    if subprocess.run(["chattr", "+i", tree.config], capture_output=True, check=False).returncode != 0:
        pytest.skip("chattr +i not permitted here")
    try:
        before, dirs = snapshot(tree.etc), directories(tree.etc)
        checked = run(host, tree, check_mode=True, mirrors=[MIRROR])
        result = run(host, tree, mirrors=[MIRROR])
    finally:
        subprocess.run(["chattr", "-i", tree.config], check=True)
    for outcome in (checked, result):
        assert_failed_unchanged(outcome, before, tree.etc, "the file is immutable (chattr +i)")
        assert "failed final rename" not in outcome["msg"]
    assert directories(tree.etc) == dirs


def test_force_replacement_masks_foreign_headers_in_the_diff(host, tree) -> None:
    host.write(tree.hosts_toml, 'server = "https://registry-1.docker.io"\n[host."https://m.example"]\n'
                                '  [host."https://m.example".header]\n    Authorization = "Basic c2VjcmV0"\n'
                                '    x-custom = ["tok3n"]\n')
    result = run(host, tree, mirrors=[MIRROR], force=True, diff=True)
    before = result["diff"][0]["before"]
    assert "c2VjcmV0" not in before and "tok3n" not in before and 'Authorization = "xxxxx"' in before


# --------------------------------------------------------------------------- the restart the module decides


def containerd_started(host, tree: Tree, seconds_ago: float) -> None:
    """The running containerd (pid 3131, reading tree.config) started that long ago (its /proc/PID/stat)."""
    running_containerd(host, ["/usr/bin/containerd", "--config", tree.config])
    ticks = os.sysconf("SC_CLK_TCK")
    uptime = time.clock_gettime(time.CLOCK_BOOTTIME)
    start = max(0, int((uptime - seconds_ago) * ticks))
    host.write(os.path.join(host.proc, "3131", "stat"), "3131 (containerd) S " + "0 " * 18 + "%d 0\n" % start)


def test_a_containerd_that_has_not_loaded_config_toml_is_restarted(host, tree) -> None:
    """An earlier run set config_path with docker_mirror_apply none: the running containerd never loaded it."""
    host.write(tree.config, SET % tree.hosts_dir)
    containerd_started(host, tree, seconds_ago=3600)
    result = run(host, tree, mirrors=[MIRROR], default_dir=True)
    assert result["restart_needed"] and result["restart_pending_only"] and result["paths"] == [tree.hosts_toml]
    assert (result["apply_action"], result["outcome"]["apply_needed"]) == ("restart", True)
    pending = run(host, tree, mirrors=[MIRROR], default_dir=True, apply="none")
    assert not pending["changed"] and (pending["restart_needed"], pending["apply_action"]) == (True, "")


def test_a_containerd_started_after_the_change_is_left_alone(host, tree) -> None:
    host.write(tree.config, SET % tree.hosts_dir)
    os.utime(tree.config, (time.time() - 7200, time.time() - 7200))
    containerd_started(host, tree, seconds_ago=60)
    result = run(host, tree, mirrors=[MIRROR], default_dir=True)
    assert not result["restart_needed"] and result["apply_action"] == "" and result["changed"]


def test_a_stopped_containerd_is_not_restarted(host, tree) -> None:
    """config.toml is edited (containerd reads it when it starts), but nothing restarts a stopped containerd."""
    host.set(mainpid=0)
    result = run(host, tree, mirrors=[MIRROR])
    assert result["restart_needed"] and result["paths"] == [tree.hosts_toml, tree.config]
    assert (result["apply_action"], result["outcome"]["apply_needed"]) == ("", False)
    assert result["outcome"]["files_changed"] == [tree.hosts_toml, tree.config]
