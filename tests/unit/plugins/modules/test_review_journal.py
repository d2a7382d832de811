# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the writers log to the host's journal (AnsibleModule's "Invoked with ..." line, read by anyone in the
adm/systemd-journal group): never a client key or a header value given in ``registries``.

Ansible masks a no_log value inside a list option only where the logged text holds it verbatim; it logs the list's
repr, where a PEM key's line breaks are written as ``\\n``: the key went to the journal in clear (seen on a
Debian 13 host: ``journalctl | grep 'BEGIN PRIVATE KEY'``)."""

from __future__ import annotations

import os
import typing as t

import pytest

from ansible.module_utils import basic

from ansible_collections.fleetops.docker_mirror.plugins.modules import containerd_hosts, daemon_json, registries_conf
from ansible_collections.fleetops.docker_mirror.tests.unit.plugins.modules.test_containerd_hosts import (  # noqa: F401 pylint: disable=unused-import
    tree,
)

CA = "-----BEGIN CERTIFICATE-----\nTUlJQmNhY2VydA==\n-----END CERTIFICATE-----\n"
CERT = "-----BEGIN CERTIFICATE-----\nY2xpZW50Y2VydA==\n-----END CERTIFICATE-----\n"
KEY_BODY = "U0VDUkVUS0VZU0VDUkVUS0VZU0VDUkVU"
KEY = "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n" % KEY_BODY
TOKEN = "Bearer t0ken-never-logged"
REGISTRIES = [
    {"registry": "docker.io", "mirrors": [{"url": "http://127.0.0.1:5000"}]},
    {"registry": "ghcr.io", "mirrors": [{"url": "https://user:pa55word@mirror.example:5443", "ca": CA,
                                         "client_cert": CERT, "client_key": KEY,
                                         "headers": {"Authorization": TOKEN}}]},
]


@pytest.fixture
def journal(monkeypatch) -> list[str]:
    """Every line a module would send to the journal (AnsibleModule.log writes nothing when no_log is set)."""
    lines: list[str] = []

    def log(module, msg, log_args=None):
        if not module.no_log:
            lines.append(msg + repr(log_args))

    monkeypatch.setattr(basic.AnsibleModule, "log", log)
    return lines


def _params(host, tree, name: str) -> tuple[t.Callable[[], None], dict[str, t.Any]]:
    if name == "containerd_hosts":
        return containerd_hosts.main, {"config_path": tree.config, "hosts_dir": tree.hosts_dir}
    if name == "daemon_json":
        return daemon_json.main, {"path": host.path, "certs_dir": os.path.join(host.root, "docker", "certs.d")}
    etc = os.path.join(host.root, "etc", "containers")
    os.makedirs(os.path.join(etc, "registries.conf.d"))
    host.write(os.path.join(etc, "registries.conf"), 'unqualified-search-registries = ["docker.io"]\n')
    return registries_conf.main, {"conf_dir": os.path.join(etc, "registries.conf.d"),
                                  "main_conf": os.path.join(etc, "registries.conf"),
                                  "certs_dir": os.path.join(etc, "certs.d")}


@pytest.mark.parametrize("name", ["containerd_hosts", "daemon_json", "registries_conf"])
def test_the_journal_never_holds_a_key_or_a_header(host, tree, journal, name: str) -> None:
    main, params = _params(host, tree, name)
    host.run(main, check_mode=True, registries=REGISTRIES, _ansible_no_log=False, **params)
    logged = "\n".join(journal)
    assert "Invoked with" in logged  # the audit line is kept
    assert "ghcr.io" in logged and "mirror.example:5443" in logged
    assert KEY_BODY not in logged and TOKEN not in logged and "pa55word" not in logged
