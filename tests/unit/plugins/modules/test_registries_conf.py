# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the real registries_conf module in-process against a temporary /etc/containers.

The rendering and the override rules have their own tables (module_utils/test_registries_conf.py); these check
the module's I/O: the drop-in written or left alone, the other files read, check and diff mode, failures.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _registries_conf as rc
from ansible_collections.fleetops.docker_mirror.plugins.modules import registries_conf
from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.modules.file_tree import (
    assert_failed_unchanged,
    snapshot,
)

MIRROR = "https://mirror.gcr.io"
DOCKER = '[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n'


class Tree(t.NamedTuple):
    etc: str
    conf_dir: str
    main_conf: str
    dropin: str
    certs_dir: str


@pytest.fixture
def tree(host) -> Tree:
    etc = os.path.join(host.root, "etc", "containers")
    conf_dir = os.path.join(etc, "registries.conf.d")
    main_conf = os.path.join(etc, "registries.conf")
    host.write(main_conf, 'unqualified-search-registries = ["docker.io"]\n')
    os.makedirs(conf_dir)
    return Tree(etc, conf_dir, main_conf, os.path.join(conf_dir, rc.DEFAULT_DROPIN), os.path.join(etc, "certs.d"))


def run(host, tree: Tree, check_mode: bool = False, diff: bool = False, **params: t.Any) -> dict[str, t.Any]:
    params.setdefault("conf_dir", tree.conf_dir)
    params.setdefault("main_conf", tree.main_conf)
    params.setdefault("certs_dir", tree.certs_dir)
    return host.run(registries_conf.main, check_mode=check_mode, diff=diff, **params)


@pytest.fixture
def warnings(monkeypatch) -> list[str]:
    found: list[str] = []
    monkeypatch.setattr(registries_conf.AnsibleModule, "warn", lambda module, text: found.append(text))
    return found


# --------------------------------------------------------------------------- writing


def test_writes_dropin(host, tree) -> None:
    result = run(host, tree, mirrors=[MIRROR, "http://10.0.0.5:5000/"])
    assert set(result) == {"changed", "failed", "path", "apply_needed", "apply_action", "outcome", "unsupported"}
    assert result["unsupported"] == []
    assert result["changed"] and result["path"] == tree.dropin
    assert tomllib.loads(host.read(tree.dropin).decode()) == {"registry": [{
        "prefix": "docker.io", "location": "docker.io",
        "mirror": [{"location": "mirror.gcr.io"}, {"location": "10.0.0.5:5000", "insecure": True}]}]}
    assert stat.S_IMODE(os.stat(tree.dropin).st_mode) == 0o644
    assert os.listdir(tree.conf_dir) == [rc.DEFAULT_DROPIN]


def test_creates_missing_directory(host, tree) -> None:
    conf_dir = os.path.join(host.root, "new", "registries.conf.d")
    result = run(host, tree, conf_dir=conf_dir, mirrors=[MIRROR])
    assert result["changed"] and stat.S_IMODE(os.stat(conf_dir).st_mode) == 0o755


def test_second_run_changes_nothing(host, tree) -> None:
    run(host, tree, mirrors=[MIRROR])
    mtime = os.stat(tree.dropin).st_mtime_ns
    result = run(host, tree, mirrors=[MIRROR + "/"], diff=True)
    assert not result["changed"] and os.stat(tree.dropin).st_mtime_ns == mtime
    assert result["diff"]["before"] == result["diff"]["after"]


def test_check_mode_and_diff(host, tree) -> None:
    result = run(host, tree, check_mode=True, diff=True, mirrors=[MIRROR])
    assert result["changed"] and not os.path.exists(tree.dropin)
    assert result["diff"]["before"] == "" and result["diff"]["before_header"] == tree.dropin + " (absent)"
    real = run(host, tree, diff=True, mirrors=[MIRROR])
    assert real["diff"] == result["diff"] and host.read(tree.dropin).decode() == result["diff"]["after"]


def test_other_dropin_name_and_registry(host, tree) -> None:
    result = run(host, tree, dropin="99-mirror.conf", registry="quay.io", mirrors=["https://quay-mirror.example"])
    data = tomllib.loads(host.read(os.path.join(tree.conf_dir, "99-mirror.conf")).decode())
    assert result["changed"] and data["registry"][0]["prefix"] == "quay.io"


def test_earlier_and_main_tables_are_warnings(host, tree, warnings) -> None:
    host.write(tree.main_conf, DOCKER)
    host.write(os.path.join(tree.conf_dir, "10-early.conf"), DOCKER)
    host.write(os.path.join(tree.conf_dir, "90-lib.conf"),
               '[[registry]]\nprefix = "docker.io/library"\nlocation = "elsewhere.example"\n')
    result = run(host, tree, mirrors=[MIRROR])
    assert result["changed"] and len(warnings) == 3
    assert "registries.conf: its [[registry]] \"docker.io\" is replaced by" in warnings[0]
    assert "10-early.conf" in warnings[1] and "90-lib.conf" in warnings[2] and "used instead of" in warnings[2]


def test_non_conf_files_are_ignored(host, tree) -> None:
    host.write(os.path.join(tree.conf_dir, "99-later.conf.disabled"), DOCKER)
    host.write(os.path.join(tree.conf_dir, "99-broken.txt"), "[[[")
    os.makedirs(os.path.join(tree.conf_dir, "99-dir.conf"))
    assert run(host, tree, mirrors=[MIRROR])["changed"]


def test_missing_main_conf_is_fine(host, tree) -> None:
    os.unlink(tree.main_conf)
    assert run(host, tree, mirrors=[MIRROR])["changed"]


# --------------------------------------------------------------------------- overrides and foreign files


@pytest.mark.parametrize("name, text", [
    ("60-later.conf", DOCKER),
    ("zz.conf", '[[registry]]\nlocation = "docker.io"\n'),
    ("A.conf", DOCKER),  # byte order: read after 50-...
])
def test_later_dropin_with_same_prefix_fails(host, tree, name: str, text: str) -> None:
    host.write(os.path.join(tree.conf_dir, name), text)
    before = snapshot(tree.etc)
    result = run(host, tree, mirrors=[MIRROR])
    assert_failed_unchanged(result, before, tree.etc, "%s defines [[registry]] prefix \"docker.io\" again" % name)
    assert result["path"] == tree.dropin


def test_later_dropin_overriding_in_check_mode_fails_too(host, tree) -> None:
    host.write(os.path.join(tree.conf_dir, "60-later.conf"), DOCKER)
    result = run(host, tree, check_mode=True, mirrors=[MIRROR])
    assert result["failed"] and "60-later.conf" in result["msg"]


@pytest.mark.parametrize("broken", ["registries.conf", "registries.conf.d/70-broken.conf"])
def test_unparsable_other_file_fails_naming_it(host, tree, broken: str) -> None:
    host.write(os.path.join(tree.etc, broken), "[[registry]\n")
    before = snapshot(tree.etc)
    result = run(host, tree, mirrors=[MIRROR])
    assert_failed_unchanged(result, before, tree.etc, os.path.join(tree.etc, broken))
    assert "refuse it as well" in result["msg"]


def test_foreign_file_at_our_name_is_not_replaced(host, tree) -> None:
    host.write(tree.dropin, DOCKER)
    before = snapshot(tree.etc)
    result = run(host, tree, mirrors=[MIRROR])
    assert_failed_unchanged(result, before, tree.etc, "not written by this module")


def test_force_replaces_foreign_file(host, tree) -> None:
    host.write(tree.dropin, DOCKER)
    result = run(host, tree, mirrors=[MIRROR], force=True)
    assert result["changed"] and rc.is_ours(host.read(tree.dropin).decode())


def test_absent_removes_our_dropin_only(host, tree) -> None:
    run(host, tree, mirrors=[MIRROR])
    host.write(os.path.join(tree.conf_dir, "10-other.conf"), DOCKER)
    before_main = host.read(tree.main_conf)
    result = run(host, tree, state="absent", diff=True)
    assert result["changed"] and not os.path.exists(tree.dropin)
    assert result["diff"]["after_header"] == tree.dropin + " (absent)" and result["diff"]["after"] == ""
    assert os.listdir(tree.conf_dir) == ["10-other.conf"] and host.read(tree.main_conf) == before_main
    assert not run(host, tree, state="absent")["changed"]


def test_absent_check_mode(host, tree) -> None:
    run(host, tree, mirrors=[MIRROR])
    assert run(host, tree, state="absent", check_mode=True)["changed"] and os.path.exists(tree.dropin)


def test_absent_ignores_later_overrides(host, tree) -> None:
    run(host, tree, mirrors=[MIRROR])
    host.write(os.path.join(tree.conf_dir, "60-later.conf"), DOCKER)
    assert run(host, tree, state="absent")["changed"]


def test_absent_leaves_foreign_file(host, tree, warnings) -> None:
    host.write(tree.dropin, DOCKER)
    result = run(host, tree, state="absent", diff=True)
    assert not result["changed"] and host.read(tree.dropin) == DOCKER.encode() and "left in place" in warnings[0]


# --------------------------------------------------------------------------- bad input: nothing written


@pytest.mark.parametrize("params, fragment", [
    ({"mirrors": ["mirror.gcr.io"]}, "no scheme"),
    ({"mirrors": ["https://user:secret@m.example"]}, "username/password"),
    ({"mirrors": ["https://m.example/path"]}, "has a path"),
    ({"registry": "docker.io/library"}, "invalid registry"),
    ({"dropin": "50-mirror.toml"}, "invalid dropin"),
    ({"dropin": "../evil.conf"}, "invalid dropin"),
    ({"conf_dir": "relative/dir"}, "must be an absolute path"),
])
def test_bad_input_fails_before_writing(host, tree, params: dict[str, t.Any], fragment: str) -> None:
    before = snapshot(tree.etc)
    result = run(host, tree, **dict({"mirrors": [MIRROR]}, **params))
    assert_failed_unchanged(result, before, tree.etc, fragment)
    assert "secret" not in result["msg"]


@pytest.mark.parametrize("raw, fragment", [(b"\xff", "not valid UTF-8"), (None, "not a regular file")])
def test_unreadable_dropin(host, tree, raw: bytes | None, fragment: str) -> None:
    if raw is None:
        os.mkfifo(tree.dropin)
    else:
        host.write(tree.dropin, raw)
    result = run(host, tree, mirrors=[MIRROR])
    assert result["failed"] and fragment in result["msg"]


def test_write_failure_leaves_no_temporary(host, tree, monkeypatch) -> None:
    def atomic_move(module, src, dest, unsafe_writes=False):
        raise Exception("Could not replace file")

    monkeypatch.setattr(registries_conf.AnsibleModule, "atomic_move", atomic_move)
    result = run(host, tree, mirrors=[MIRROR])
    assert_failed_unchanged(result, {"registries.conf": host.read(tree.main_conf)}, tree.etc, "cannot replace the file")


# --------------------------------------------------------------------------- secrets


SECRET = "https://user:s3cr3tPW@mirror.example"


@pytest.mark.parametrize("params, failed", [
    ({"mirrors": [MIRROR, SECRET]}, True),  # refused: registries.conf has no place for credentials
    ({"mirrors": [SECRET], "state": "absent"}, False),  # ignored with state absent, still echoed
    ({"mirrors": ["user:s3cr3tPW@mirror.example"]}, True),  # no scheme
])
def test_userinfo_never_leaves_the_host(host, tree, params: dict[str, t.Any], failed: bool) -> None:
    before = snapshot(tree.etc)
    result = run(host, tree, **params)
    assert result["failed"] is failed and snapshot(tree.etc) == before
    shown = host.invocation["module_args"]
    assert "s3cr3tPW" not in repr(result) and "s3cr3tPW" not in repr(shown)
    assert shown["mirrors"][-1].startswith(("https://xxxxx@", "xxxxx@")) and shown["conf_dir"] == tree.conf_dir


def test_invocation_on_success(host, tree) -> None:
    assert run(host, tree, mirrors=[MIRROR])["changed"]
    assert host.invocation["module_args"]["mirrors"] == [MIRROR]


# --------------------------------------------------------------------------- issue 21: several registries, one drop-in

QUAY_MIRROR = "https://quay-mirror.example"
V1_1_DROPIN = (rc.MARKER + '\n[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n\n[[registry.mirror]]\n'
               'location = "mirror.gcr.io"\n')


def mirror_locations(host, tree: Tree) -> dict[str, list[str]]:
    data = tomllib.loads(host.read(tree.dropin).decode())
    return {entry["prefix"]: [mirror["location"] for mirror in entry.get("mirror", [])] for entry in data["registry"]}


def test_two_registries_through_the_default_dropin_both_stay(host, tree) -> None:
    assert run(host, tree, mirrors=[MIRROR])["changed"]
    assert run(host, tree, registry="quay.io", mirrors=[QUAY_MIRROR])["changed"]
    assert mirror_locations(host, tree) == {"docker.io": ["mirror.gcr.io"], "quay.io": ["quay-mirror.example"]}
    assert not run(host, tree, mirrors=[MIRROR])["changed"]
    assert not run(host, tree, registry="quay.io", mirrors=[QUAY_MIRROR])["changed"]
    assert os.listdir(tree.conf_dir) == [rc.DEFAULT_DROPIN]


def test_upgrade_from_1x_default_dropin(host, tree) -> None:
    host.write(tree.dropin, V1_1_DROPIN)
    assert not run(host, tree, mirrors=[MIRROR])["changed"] and host.read(tree.dropin) == V1_1_DROPIN.encode()
    assert run(host, tree, registry="quay.io", mirrors=[QUAY_MIRROR])["changed"]
    assert mirror_locations(host, tree) == {"docker.io": ["mirror.gcr.io"], "quay.io": ["quay-mirror.example"]}
    assert os.listdir(tree.conf_dir) == [rc.DEFAULT_DROPIN]


@pytest.mark.parametrize("name", ["10-old.conf", "90-old.conf"])
def test_our_other_dropin_for_the_registry_is_refused(host, tree, name: str) -> None:
    host.write(os.path.join(tree.conf_dir, name), V1_1_DROPIN)
    before = snapshot(tree.etc)
    result = run(host, tree, mirrors=[MIRROR])
    assert_failed_unchanged(result, before, tree.etc, "%s was written by this module and already holds" % name)


def test_absent_removes_our_registry_only(host, tree) -> None:
    run(host, tree, mirrors=[MIRROR])
    run(host, tree, registry="quay.io", mirrors=[QUAY_MIRROR])
    assert run(host, tree, state="absent")["changed"]
    assert mirror_locations(host, tree) == {"quay.io": ["quay-mirror.example"]}
    assert not run(host, tree, state="absent")["changed"]
    assert run(host, tree, registry="quay.io", state="absent")["changed"] and os.listdir(tree.conf_dir) == []


def test_our_unparsable_dropin_needs_force(host, tree) -> None:
    host.write(tree.dropin, rc.MARKER + "\n[[registry]\n")
    before = snapshot(tree.etc)
    assert_failed_unchanged(run(host, tree, mirrors=[MIRROR]), before, tree.etc, "set force: true")
    assert run(host, tree, mirrors=[MIRROR], force=True)["changed"]
    assert mirror_locations(host, tree) == {"docker.io": ["mirror.gcr.io"]}


def test_messages_name_the_options_as_the_caller_knows_them(host, tree) -> None:
    # Under the docker_mirror role (its mirrors action passes option_names) the user set docker_mirror_force, not
    # force: before 2.0 the message said "set force: true".
    host.write(tree.dropin, "[[registry]]\nprefix = \"docker.io\"\n")
    before = snapshot(tree.etc)
    names = {"force": "docker_mirror_force", "dropin": "docker_mirror_registries_conf_dropin"}
    result = run(host, tree, mirrors=[MIRROR], option_names=names)
    assert_failed_unchanged(result, before, tree.etc, "set docker_mirror_force: true to replace it")
    assert "force: true" not in result["msg"].replace("docker_mirror_force: true", "")
    result = run(host, tree, mirrors=[MIRROR], dropin="x.toml", option_names=names)
    assert result["failed"] and "invalid docker_mirror_registries_conf_dropin \"x.toml\"" in result["msg"]
    assert "set force: true" in run(host, tree, mirrors=[MIRROR])["msg"]  # called on its own: its own names


# --------------------------------------------------------------------------- issue 17: exclusive


def test_exclusive_false_adds_the_missing_mirrors_after_those_of_our_dropin(host, tree) -> None:
    run(host, tree, mirrors=[MIRROR, "http://10.0.0.5:5000"])
    assert run(host, tree, mirrors=["https://new.example"])["changed"]
    assert mirror_locations(host, tree) == {"docker.io": ["mirror.gcr.io", "10.0.0.5:5000", "new.example"]}
    assert not run(host, tree, mirrors=["https://new.example"])["changed"]


def test_exclusive_true_is_exactly_the_list(host, tree) -> None:
    run(host, tree, mirrors=[MIRROR, "http://10.0.0.5:5000"])
    assert run(host, tree, mirrors=["https://new.example"], exclusive=True)["changed"]
    assert mirror_locations(host, tree) == {"docker.io": ["new.example"]}


def test_exclusive_ignores_mirrors_of_other_files(host, tree) -> None:
    host.write(tree.main_conf, DOCKER + '[[registry.mirror]]\nlocation = "operator.example"\n')
    run(host, tree, mirrors=[MIRROR])
    assert mirror_locations(host, tree) == {"docker.io": ["mirror.gcr.io"]}


# --------------------------------------------------------------------------- issue 21: blocks, prefixes, _default


@pytest.mark.parametrize("main, value", [
    (DOCKER + "blocked = true\n", "blocked = true"),
    ('[registries.block]\nregistries = ["docker.io"]\n', '[registries.block] registries = ["docker.io"]'),
])
def test_operator_block_is_refused(host, tree, main: str, value: str) -> None:
    host.write(tree.main_conf, main)
    before = snapshot(tree.etc)
    result = run(host, tree, mirrors=[MIRROR])
    assert_failed_unchanged(result, before, tree.etc, value)
    assert tree.main_conf in result["msg"] and "blocks" in result["msg"]


def test_later_dropin_with_trailing_slash_prefix_fails(host, tree) -> None:
    host.write(os.path.join(tree.conf_dir, "60-later.conf"),
               DOCKER.replace('prefix = "docker.io"', 'prefix = "docker.io/"'))
    before = snapshot(tree.etc)
    result = run(host, tree, mirrors=[MIRROR])
    assert_failed_unchanged(result, before, tree.etc,
                            '60-later.conf defines [[registry]] prefix "docker.io" again (prefix = "docker.io/")')


def test_mixed_v1_v2_main_is_refused(host, tree) -> None:
    host.write(tree.main_conf,
               'unqualified-search-registries = ["docker.io"]\n[registries.insecure]\nregistries = ["x"]\n')
    before = snapshot(tree.etc)
    assert_failed_unchanged(run(host, tree, mirrors=[MIRROR]), before, tree.etc, "mixing")


def test_default_registry_is_refused(host, tree) -> None:
    before = snapshot(tree.etc)
    result = run(host, tree, registry="_default", mirrors=[MIRROR])
    assert_failed_unchanged(result, before, tree.etc, "_default")
    assert "containerd" in result["msg"]


def test_module_checks_mirrors_with_check_mirrors(host, tree, monkeypatch) -> None:
    def refuse(urls):
        raise rc.ConfigError("refused by check_mirrors")

    monkeypatch.setattr(rc, "check_mirrors", refuse)
    before = snapshot(tree.etc)
    assert_failed_unchanged(run(host, tree, mirrors=[MIRROR]), before, tree.etc, "refused by check_mirrors")


def test_strict_umask_new_dropin_and_directory_are_world_readable(host, tree) -> None:
    os.rmdir(tree.conf_dir)
    old_umask = os.umask(0o077)
    try:
        assert run(host, tree, mirrors=[MIRROR])["changed"]
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(os.stat(tree.dropin).st_mode) == 0o644  # rootless podman, buildah, skopeo read it
    assert stat.S_IMODE(os.stat(tree.conf_dir).st_mode) == 0o755


def test_immutable_dropin_is_refused_in_check_mode_too(host, tree, monkeypatch) -> None:
    from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _files
    run(host, tree, mirrors=[MIRROR])
    monkeypatch.setattr(_files, "inode_flags", lambda path: _files.FS_IMMUTABLE_FL if path == tree.dropin else 0)
    before = snapshot(tree.etc)
    for check_mode in (True, False):
        result = run(host, tree, check_mode=check_mode, mirrors=["https://other.example"])
        assert_failed_unchanged(result, before, tree.etc, "the file is immutable (chattr +i)")


# --------------------------------------------------------------------------- the reload the module decides


@pytest.mark.parametrize(("crio_active", "apply", "needed", "action"), [
    (True, "auto", True, "reload"),
    (True, "restart", True, "reload"),     # CRI-O only reloads registries.conf
    (True, "none", True, ""),              # pending: the verdict says so
    (False, "auto", False, ""),            # a stopped CRI-O reads the drop-in when it starts
])
def test_crio_reload_is_decided_by_the_module(host, tree, crio_active, apply, needed, action) -> None:
    host.set(active=crio_active)
    result = run(host, tree, mirrors=["https://mirror.gcr.io"], apply=apply)
    assert result["changed"] and (result["apply_needed"], result["apply_action"]) == (needed, action), result
    assert result["outcome"]["runtime"] == "podman" and result["outcome"]["files_changed"] == [tree.dropin]
    again = run(host, tree, mirrors=["https://mirror.gcr.io"], apply=apply)
    assert not again["changed"] and (again["apply_needed"], again["apply_action"]) == (False, "")


# --------------------------------------------------------------------------- registries (the shared mirror model)

CERT = "-----BEGIN CERTIFICATE-----\nTUlJQmZha2VjZXJ0\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nU0VDUkVUS0VZU0VDUkVUS0VZU0VDUkVU\n-----END PRIVATE KEY-----\n"
TLS = {"url": "https://m.example:5443", "ca": CERT, "client_cert": CERT, "client_key": KEY}
K8S = [{"registry": "docker.io", "mirrors": [{"url": "http://127.0.0.1:5000"}]},
       {"registry": "registry.k8s.io", "mirrors": [TLS]}]


def cert(tree: Tree, host_port: str, name: str) -> str:
    return os.path.join(tree.certs_dir, host_port, name)


def test_registries_write_tables_and_certificates(host, tree) -> None:
    result = run(host, tree, registries=K8S)
    assert result["changed"] and result["unsupported"] == []
    assert tomllib.loads(host.read(tree.dropin).decode())["registry"] == [
        {"prefix": "docker.io", "location": "docker.io", "mirror": [{"location": "127.0.0.1:5000", "insecure": True}]},
        {"prefix": "registry.k8s.io", "location": "registry.k8s.io", "mirror": [{"location": "m.example:5443"}]}]
    for name, pem, mode in (("ca.crt", CERT, 0o644), ("client.cert", CERT, 0o644), ("client.key", KEY, 0o600)):
        path = cert(tree, "m.example:5443", name)
        assert host.read(path).decode() == rc.MARKER + "\n" + pem and stat.S_IMODE(os.stat(path).st_mode) == mode
    assert sorted(result["outcome"]["files_changed"]) == sorted(
        [tree.dropin] + [cert(tree, "m.example:5443", name) for name in ("ca.crt", "client.cert", "client.key")])
    again = run(host, tree, registries=K8S, diff=True)
    assert not again["changed"] and again["outcome"]["files_changed"] == [] and isinstance(again["diff"], dict)


def test_registries_check_mode_diff_hides_the_key(host, tree) -> None:
    before = snapshot(tree.etc)
    result = run(host, tree, check_mode=True, diff=True, registries=K8S)
    assert result["changed"] and snapshot(tree.etc) == before
    dropin, ca, client_cert, key = result["diff"]
    assert dropin["after_header"] == tree.dropin and "m.example:5443" in dropin["after"]
    assert ca["after"] == rc.MARKER + "\n" + CERT and ca["before_header"].endswith("ca.crt (absent)")
    assert key["after"] == "(client key, not shown)\n" and "U0VDUkVU" not in json.dumps(result)


def test_replaced_key_diff_says_so_without_the_key(host, tree) -> None:
    run(host, tree, registries=K8S)
    other = KEY.replace("U0VDUkVUS0VZU0VDUkVUS0VZU0VDUkVU", "T1RIRVJLRVk=")
    result = run(host, tree, diff=True, registries=[dict(K8S[1], mirrors=[dict(TLS, client_key=other)])])
    key, = result["diff"][1:]
    assert key["before"] == "(client key, not shown)\n" and key["after"] == "(client key, not shown: replaced)\n"
    assert host.read(cert(tree, "m.example:5443", "client.key")).decode() == rc.MARKER + "\n" + other


def test_unsupported_settings_are_reported_not_failed(host, tree) -> None:
    mirrors = [{"url": "https://h.example/v2/quay-proxy", "override_path": True,
                "headers": {"Authorization": "Bearer t0ken-value"}},
               {"url": "https://p.example/api"}, {"url": "https://r.example", "capabilities": ["resolve"]}]
    result = run(host, tree, registries=[{"registry": "quay.io", "mirrors": mirrors}])
    assert not result["failed"] and result["changed"]
    assert [(gap["mirror"], gap["what"]) for gap in result["unsupported"]] == [
        ("https://h.example/v2/quay-proxy", "headers: Authorization"), ("https://p.example/api", 'path "/api"'),
        ("https://r.example", "capabilities: resolve")]
    assert tomllib.loads(host.read(tree.dropin).decode())["registry"][0]["mirror"] == [
        {"location": "h.example/quay-proxy"}]
    assert "t0ken-value" not in json.dumps(result)


DIGEST_ONLY = {"location": "m.example", "pull-from-mirror": "digest-only"}


@pytest.mark.parametrize("version, written", [
    ("podman version 3.0.1", []), ("podman version 4.3.1", [DIGEST_ONLY]), (None, [DIGEST_ONLY]),
])
def test_pull_only_mirror_follows_the_installed_podman(host, tree, version: str | None, written) -> None:
    if version is not None:
        host.write(os.path.join(host.bin_dir, "podman"), "#!/bin/sh\necho '%s'\n" % version)
        os.chmod(os.path.join(host.bin_dir, "podman"), 0o755)
    result = run(host, tree, registries=[{"registry": "quay.io", "mirrors": [
        {"url": "https://m.example", "capabilities": ["pull"]}]}])
    assert tomllib.loads(host.read(tree.dropin).decode())["registry"][0].get("mirror", []) == written
    assert [gap["what"] for gap in result["unsupported"]] == ["capabilities: pull"]


def test_foreign_certificate_in_the_way_is_refused_naming_it(host, tree) -> None:
    host.write(cert(tree, "m.example:5443", "ca.crt"), "an operator's CA\n")
    before = snapshot(tree.etc)
    result = run(host, tree, registries=K8S)
    assert_failed_unchanged(result, before, tree.etc, cert(tree, "m.example:5443", "ca.crt") + " exists with other")


def test_foreign_identical_certificate_stays_theirs(host, tree) -> None:
    host.write(cert(tree, "m.example:5443", "ca.crt"), CERT)
    host.write(cert(tree, "m.example:5443", "operator.crt"), "theirs\n")
    assert run(host, tree, registries=K8S)["changed"]
    assert host.read(cert(tree, "m.example:5443", "ca.crt")).decode() == CERT
    run(host, tree, state="absent", registries=[{"registry": "registry.k8s.io", "mirrors": []}])
    assert sorted(os.listdir(os.path.join(tree.certs_dir, "m.example:5443"))) == ["ca.crt", "operator.crt"]


def test_exclusive_registries_remove_other_registries_and_their_files(host, tree) -> None:
    run(host, tree, registries=K8S)
    host.write(cert(tree, "m.example:5443", "operator.crt"), "theirs\n")
    result = run(host, tree, exclusive=True, registries=K8S[:1])
    assert result["changed"] and [entry["prefix"] for entry in
                                  tomllib.loads(host.read(tree.dropin).decode())["registry"]] == ["docker.io"]
    assert os.listdir(os.path.join(tree.certs_dir, "m.example:5443")) == ["operator.crt"]


def test_exclusive_false_keeps_other_registries_and_shared_certificates(host, tree) -> None:
    run(host, tree, registries=K8S)
    shared = [{"registry": "ghcr.io", "mirrors": [{"url": "https://m.example:5443/v2/ghcr", "override_path": True}]}]
    run(host, tree, registries=shared)
    assert [entry["prefix"] for entry in tomllib.loads(host.read(tree.dropin).decode())["registry"]] == [
        "docker.io", "ghcr.io", "registry.k8s.io"]
    # ghcr.io's mirror gives no CA, but registry.k8s.io's mirror on the same host:port still uses ours.
    assert os.path.exists(cert(tree, "m.example:5443", "ca.crt"))
    run(host, tree, state="absent", registries=[{"registry": "registry.k8s.io", "mirrors": [TLS]}])
    assert os.path.exists(cert(tree, "m.example:5443", "ca.crt"))  # ghcr.io's mirror is on that host:port too
    assert run(host, tree, state="absent", registries=shared)["changed"]
    assert not os.path.exists(os.path.join(tree.certs_dir, "m.example:5443")) and os.path.exists(tree.dropin)


def test_absent_removes_tables_and_certificates_with_the_dropin(host, tree) -> None:
    run(host, tree, registries=K8S)
    result = run(host, tree, state="absent", exclusive=True, registries=[
        {"registry": "docker.io", "mirrors": []}, {"registry": "registry.k8s.io", "mirrors": []}])
    assert result["changed"] and not os.path.exists(tree.dropin) and os.listdir(tree.certs_dir) == []


def test_legacy_run_without_a_ca_removes_ours_for_that_mirror(host, tree) -> None:
    run(host, tree, registries=[{"registry": "docker.io", "mirrors": [{"url": "https://m.example", "ca": CERT}]}])
    assert os.path.exists(cert(tree, "m.example", "ca.crt"))
    assert run(host, tree, mirrors=["https://m.example"], exclusive=True)["changed"]
    assert not os.path.exists(os.path.join(tree.certs_dir, "m.example"))


@pytest.mark.parametrize("params, fragment", [
    ({"registries": K8S, "mirrors": [MIRROR]}, "mutually exclusive"),
    ({"registries": K8S, "registry": "quay.io"}, "mutually exclusive"),
    ({"registries": [{"registry": "_default", "mirrors": []}]}, "_default"),
    ({"registries": [{"registry": "quay.io", "mirrors": [{"url": "https://m.example", "client_cert": CERT}]}]},
     "client_cert and client_key go together"),
    ({"registries": [{"registry": "quay.io", "mirrors": [{"url": "https://m.example", "ca": CERT}]},
                     {"registry": "ghcr.io", "mirrors": [{"url": "https://m.example/v2/g", "override_path": True,
                                                          "ca": CERT.replace("TUlJ", "QUJD")}]}]},
     "give different ca for m.example"),
    ({"registries": K8S, "certs_dir": "relative/certs.d"}, "certs_dir must be an absolute path"),
])
def test_registries_bad_input_fails_before_writing(host, tree, params: dict[str, t.Any], fragment: str) -> None:
    before = snapshot(tree.etc)
    result = run(host, tree, **params)
    assert result["failed"] and fragment in result["msg"] and snapshot(tree.etc) == before


def test_registries_check_each_registry_against_later_dropins(host, tree) -> None:
    host.write(os.path.join(tree.conf_dir, "99-later.conf"), '[[registry]]\nprefix = "registry.k8s.io"\n'
                                                             'location = "registry.k8s.io"\n')
    before = snapshot(tree.etc)
    assert_failed_unchanged(run(host, tree, registries=K8S), before, tree.etc,
                            "defines [[registry]] prefix \"registry.k8s.io\" again")


def test_hide_secrets_covers_keys_and_headers_even_when_refused() -> None:
    class Module(t.NamedTuple):
        params: dict[str, t.Any]
        no_log_values: set[str]

    good = Module({"registries": [{"registry": "quay.io", "mirrors": [
        dict(TLS, headers={"Authorization": "Bearer good-token"})]}]}, set())
    registries_conf.hide_secrets(good)
    assert {KEY, "Bearer good-token"} <= good.no_log_values
    bad = Module({"registries": [{"registry": "quay.io", "mirrors": [
        {"url": "not a url", "client_key": "k3y", "headers": {"X": ["bad-token"]}}]}, "junk"]}, set())
    registries_conf.hide_secrets(bad)
    assert {"k3y", "bad-token"} <= bad.no_log_values and "not a url" not in bad.no_log_values
