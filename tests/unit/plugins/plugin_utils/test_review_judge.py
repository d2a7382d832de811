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


CERTS_HOSTS = "/etc/docker/certs.d/quay.io/hosts.toml"
WANT_QUAY = {"mirrors": ["http://127.0.0.1:5000"], "state": "present", "exclusive": False, "apply": "auto",
             "verify": True, "registries": [{"registry": "docker.io", "mirrors": [{"url": "http://127.0.0.1:5000"}]},
                                            {"registry": "quay.io", "mirrors": [{"url": "http://127.0.0.1:5000"}]}]}
VIEW_BEFORE = {"registries": {"docker.io": {"mirrors": ["http://127.0.0.1:5000/"]},
                              "quay.io": {"mirrors": [], "probes": None}}}


def docker_config(changed: bool) -> dict:
    """daemon_json on Docker with the containerd image store: daemon.json already right, quay.io's hosts.toml in
    /etc/docker/certs.d to write (Docker reads it at each pull: nothing to apply)."""
    return {"changed": changed, "changed_keys": [], "daemon_state": "running",
            "live_mirrors": ["http://127.0.0.1:5000/"], "registry_mirrors": ["http://127.0.0.1:5000"],
            "outcome": {"files_changed": [CERTS_HOSTS] if changed else [], "apply_needed": False,
                        "apply_action": ""}}


def test_docker_hosts_toml_to_write_in_check_mode_would_change() -> None:
    """Check mode on Docker with the containerd image store said 'FAILED quay.io: not the wanted mirrors' for a
    hosts.toml it would write (the live view is the one before the change)."""
    line = _judge.docker_line(docker_config(True), {}, WANT_QUAY, True, VIEW_BEFORE)
    assert line["verdict"] == "would change", line
    assert line["reason"] == "hosts.toml would change (Docker reads it at each pull: nothing to apply)", line


def test_docker_already_right_in_check_mode_is_still_verified() -> None:
    line = _judge.docker_line(docker_config(False), {}, WANT_QUAY, True, VIEW_BEFORE)
    assert line["verdict"] == "failed" and "quay.io: not the wanted mirrors" in line["reason"]
