# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One reader of the file a service was started with (Go flag semantics for containerd, pflag for dockerd)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _process
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._process import (
    CONTAINERD_CONFIG,
    DOCKERD_CONFIG_FILE,
    flag_value,
)

CONTAINERD = "/usr/bin/containerd"


@pytest.mark.parametrize("argv, expected", [
    ([CONTAINERD], None),
    ([CONTAINERD, "--config", "/etc/c.toml"], "/etc/c.toml"),
    ([CONTAINERD, "--config=/etc/c.toml"], "/etc/c.toml"),
    ([CONTAINERD, "-config", "/etc/c.toml"], "/etc/c.toml"),
    ([CONTAINERD, "-config=/etc/c.toml"], "/etc/c.toml"),
    ([CONTAINERD, "-c", "/etc/c.toml"], "/etc/c.toml"),
    ([CONTAINERD, "--c", "/etc/c.toml"], "/etc/c.toml"),
    ([CONTAINERD, "-c=/etc/c.toml"], "/etc/c.toml"),
    ([CONTAINERD, "-c", "/a", "-c", "/b"], "/b"),  # the last one wins (Go's flag package)
    ([CONTAINERD, "-c", "/a.toml", "--config", "/b.toml"], "/b.toml"),
    ([CONTAINERD, "--log-level", "debug", "-c", "rel.toml"], "rel.toml"),
    ([CONTAINERD, "-l=debug", "--root", "/r", "--version", "-c", "/x"], "/x"),  # --version takes no value
    ([CONTAINERD, "--help", "-c", "/x"], "/x"),
    ([CONTAINERD, "--address", "-c", "/x"], None),  # --address takes "-c" as its value; /x is a word: stop
    ([CONTAINERD, "--config"], None),
    ([CONTAINERD, "--configs", "/x"], None),
    ([CONTAINERD, "config", "dump", "-c", "/x"], None),  # flags after a subcommand are its own
    ([CONTAINERD, "-c", "/a", "config", "-c", "/x"], "/a"),
    ([CONTAINERD, "--", "-c", "/x"], None),
    ([CONTAINERD, "-", "-c", "/x"], None),
])
def test_containerd_config(argv: list[str], expected: str | None) -> None:
    assert flag_value(argv, CONTAINERD_CONFIG) == expected


@pytest.mark.parametrize("argv, expected", [
    (["/usr/bin/dockerd"], None),
    (["/usr/bin/dockerd", "-H", "fd://", "--config-file", "/etc/d.json"], "/etc/d.json"),
    (["/usr/bin/dockerd", "--debug", "--config-file=/etc/d.json"], "/etc/d.json"),
    (["/usr/bin/dockerd", "--config-file", "/a", "--config-file", "/b"], "/b"),  # pflag: the last one wins
    (["/usr/bin/dockerd", "--config-file", "/a", "--", "--config-file", "/b"], "/a"),
    (["/usr/bin/dockerd", "--config-file"], None),
    (["/usr/bin/dockerd", "-config-file", "/x"], None),  # one dash is pflag's shorthand, not this flag
])
def test_dockerd_config_file(argv: list[str], expected: str | None) -> None:
    assert flag_value(argv, DOCKERD_CONFIG_FILE) == expected


def test_started_with_resolves_a_relative_path_against_the_cwd(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(_process, "PROC_ROOT", str(tmp_path))
    os.makedirs(tmp_path / "42")
    (tmp_path / "42" / "cmdline").write_bytes(b"containerd\0-c\0/a\0-c\0conf/b.toml\0")
    os.symlink("/srv/k8s", tmp_path / "42" / "cwd")
    found = _process.started_with(42, CONTAINERD_CONFIG, "/etc/containerd/config.toml")
    assert found == _process.ServiceConfig(42, "conf/b.toml", "/srv/k8s/conf/b.toml")
    (tmp_path / "42" / "cmdline").write_bytes(b"containerd\0")
    assert _process.started_with(42, CONTAINERD_CONFIG, "/etc/c.toml").path == "/etc/c.toml"
    assert _process.started_with(43, CONTAINERD_CONFIG, "/etc/c.toml") is None
    assert _process.started_with(42, CONTAINERD_CONFIG, "/d", lambda argv: False) is None
