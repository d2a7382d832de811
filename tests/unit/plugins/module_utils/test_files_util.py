# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Diffs of the TOML files we write: credentials never shown."""

from __future__ import annotations

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._files import diff_entry, mask_secrets

AUTH = '[plugins."io.containerd.grpc.v1.cri".registry.configs."reg.example.com".auth]\n'


@pytest.mark.parametrize(("text", "expected"), [
    (AUTH + '  username = "ops"\n  password = "hunter2SECRET"\n',
     AUTH + '  username = "ops"\n  password = "xxxxx"\n'),
    (AUTH + 'auth = "b3BzOmh1bnRlcjI="\nidentitytoken = "tok"\n', AUTH + 'auth = "xxxxx"\nidentitytoken = "xxxxx"\n'),
    ('"Password"="x y z"\r\n', '"Password"="xxxxx"\r\n'),                   # quoted key, any case, CRLF kept
    ('[host."https://user:pw@mirror.example"]\n', '[host."https://xxxxx@mirror.example"]\n'),
    ('config_path = "/etc/containerd/certs.d"\n', 'config_path = "/etc/containerd/certs.d"\n'),  # untouched
    ("passwords_file = \"/x\"\n", "passwords_file = \"/x\"\n"),              # not a credential key
])
def test_mask_secrets(text, expected) -> None:
    assert mask_secrets(text) == expected


def test_diff_entry_masks_both_sides_and_names_absent_files() -> None:
    entry = diff_entry("/etc/containerd/config.toml", None, AUTH + 'password = "s3cr3t"\n')
    assert "s3cr3t" not in entry["after"] and entry["before"] == ""
    assert entry["before_header"] == "/etc/containerd/config.toml (absent)"
    assert entry["after_header"] == "/etc/containerd/config.toml"
