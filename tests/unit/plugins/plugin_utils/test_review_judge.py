# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A summary line names each changed file so that a reviewer can tell them apart (check mode on a host with
several registries said "hosts.toml and hosts.toml would change")."""

from __future__ import annotations

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.plugin_utils import _judge

D = "/etc/containerd/certs.d/"


@pytest.mark.parametrize("files, text", [
    ([D + "docker.io/hosts.toml", "/etc/containerd/config.toml"], "hosts.toml and config.toml"),
    ([D + "ghcr.io/hosts.toml", D + "quay.io/hosts.toml", "/etc/containerd/config.toml"],
     "ghcr.io/hosts.toml and quay.io/hosts.toml and config.toml"),
    ([D + "ghcr.io/m_5443.ca.crt", D + "ghcr.io/hosts.toml", D + "quay.io/hosts.toml"],
     "m_5443.ca.crt and ghcr.io/hosts.toml and quay.io/hosts.toml"),
    ([], "hosts.toml"),
])
def test_changed_files_are_named_apart(files, text) -> None:
    config = {"outcome": {"files_changed": files}}
    assert _judge._files_text(config, "containerd") == text
