# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Defects found by the hostile review of containerd_hosts (each test failed before its fix)."""

from __future__ import annotations

import os
import tomllib

# pylint: disable-next=unused-import
from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.modules.test_containerd_hosts import (  # noqa: F401
    MIRROR,
    SET,
    run,
    tree,
)


def test_absent_without_hosts_dir_removes_the_file_present_wrote(host, tree) -> None:
    """present (hosts_dir unset) writes into the directory config.toml names; absent must remove it there."""
    other = os.path.join(host.root, "other-certs")
    host.write(tree.config, SET % other)
    written = run(host, tree, default_dir=True, mirrors=[MIRROR])
    assert written["changed"] and written["hosts_dir"] == other
    removed = run(host, tree, default_dir=True, state="absent")
    assert removed["changed"] and removed["hosts_dir"] == other
    assert not os.path.exists(os.path.join(other, "docker.io", "hosts.toml"))


def test_absent_with_an_unparsable_config_toml_warns_and_uses_the_default(host, tree, monkeypatch) -> None:
    from ansible_collections.fleetops.docker_mirror.plugins.modules import containerd_hosts
    run(host, tree, default_dir=True, mirrors=[MIRROR])
    host.write(tree.config, "version = 2\n[plugins\n")
    warnings: list[str] = []
    monkeypatch.setattr(containerd_hosts.AnsibleModule, "warn", lambda module, text: warnings.append(text))
    removed = run(host, tree, default_dir=True, state="absent")
    assert removed["changed"] and not os.path.exists(tree.hosts_toml)
    assert host.read(tree.config) == b"version = 2\n[plugins\n"
    assert tree.config in warnings[0] and "looking for the hosts.toml in" in warnings[0]


DEEP = "x = " + "[" * 5000 + "]" * 5000 + "\n"


def test_deeply_nested_config_toml_is_named(host, tree) -> None:
    """A config.toml nested too deeply for the parser: the failure names config.toml, not the hosts.toml."""
    host.write(tree.config, DEEP)
    result = run(host, tree, mirrors=[MIRROR])
    assert result["failed"] and result["path"] == tree.config
    assert result["msg"].startswith(tree.config + ": cannot parse config.toml as TOML: nested too deeply")
    assert not os.path.exists(tree.hosts_toml) and host.read(tree.config) == DEEP.encode()


def test_deeply_nested_registries_conf_is_named(host, tmp_path) -> None:
    from ansible_collections.fleetops.docker_mirror.plugins.modules import registries_conf
    conf_dir = os.path.join(str(tmp_path), "registries.conf.d")
    main_conf = os.path.join(str(tmp_path), "registries.conf")
    host.write(main_conf, DEEP)
    result = host.run(registries_conf.main, conf_dir=conf_dir, main_conf=main_conf, mirrors=[MIRROR])
    assert result["failed"] and main_conf in result["msg"] and "nested too deeply" in result["msg"]
    assert not os.path.exists(conf_dir)


def test_absent_without_exclusive_removes_only_the_given_mirrors(host, tree) -> None:
    """daemon_json's semantics (one merge semantics for every runtime): absent removes the given mirrors; the
    file goes only with its last mirror."""
    other = "http://127.0.0.1:5001"
    run(host, tree, mirrors=[MIRROR, other])
    result = run(host, tree, mirrors=[MIRROR], state="absent")
    assert result["changed"]
    text = host.read(tree.hosts_toml).decode()
    assert MIRROR not in text and '[host."%s"]' % other in text
    assert not run(host, tree, mirrors=[MIRROR], state="absent")["changed"]
    assert run(host, tree, mirrors=[other], state="absent")["changed"] and not os.path.exists(tree.hosts_toml)


def test_absent_of_one_mirror_keeps_the_server_and_capabilities_the_file_was_written_with(host, tree) -> None:
    other = "http://127.0.0.1:5001"
    run(host, tree, mirrors=[MIRROR, other], server="https://upstream.example", capabilities=["pull"])
    assert run(host, tree, mirrors=[MIRROR], state="absent")["changed"]
    data = tomllib.loads(host.read(tree.hosts_toml).decode())
    assert data == {"server": "https://upstream.example", "host": {other: {"capabilities": ["pull"]}}}


def test_absent_exclusive_or_without_mirrors_removes_the_file(host, tree) -> None:
    run(host, tree, mirrors=[MIRROR, "http://127.0.0.1:5001"])
    assert run(host, tree, mirrors=[MIRROR], state="absent", exclusive=True)["changed"]
    assert not os.path.exists(tree.hosts_toml)
    run(host, tree, mirrors=[MIRROR])
    assert run(host, tree, state="absent")["changed"] and not os.path.exists(tree.hosts_toml)


def test_registries_conf_absent_without_exclusive_removes_only_the_given_mirrors(host, tmp_path) -> None:
    from ansible_collections.fleetops.docker_mirror.plugins.modules import registries_conf
    conf_dir = os.path.join(str(tmp_path), "registries.conf.d")
    main_conf = os.path.join(str(tmp_path), "registries.conf")
    dropin = os.path.join(conf_dir, "50-fleetops-docker-mirror.conf")

    def rc_run(**params):
        return host.run(registries_conf.main, conf_dir=conf_dir, main_conf=main_conf, **params)

    rc_run(mirrors=[MIRROR, "http://127.0.0.1:5001"])
    assert rc_run(mirrors=[MIRROR], state="absent")["changed"]
    text = host.read(dropin).decode()
    assert "mirror.gcr.io" not in text and 'location = "127.0.0.1:5001"' in text
    assert not rc_run(mirrors=[MIRROR], state="absent")["changed"]
    assert rc_run(mirrors=["http://127.0.0.1:5001"], state="absent")["changed"] and not os.path.exists(dropin)
    rc_run(mirrors=[MIRROR, "http://127.0.0.1:5001"])
    assert rc_run(mirrors=[MIRROR], state="absent", exclusive=True)["changed"] and not os.path.exists(dropin)
