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
    # issue 21 #6: dotted and quoted keys
    ('auth.password = "s3cr3t"\n', 'auth.password = "xxxxx"\n'),
    ('[plugins."io.containerd.grpc.v1.cri".registry.configs."r.example"]\n  auth.password = "s3"\n',
     '[plugins."io.containerd.grpc.v1.cri".registry.configs."r.example"]\n  auth.password = "xxxxx"\n'),
    ("'password' = 'x'\n", "'password' = \"xxxxx\"\n"),
    ('"password" = "x"\n', '"password" = "xxxxx"\n'),
    ('configs."r.example".auth.identitytoken = "t"\n', 'configs."r.example".auth.identitytoken = "xxxxx"\n'),
    ('auth = { username = "u", password = "p" }\n', 'auth = "xxxxx"\n'),
    # hosts.toml headers: every value of a header table, whatever the header's name
    ('[host."https://m.example".header]\n  Authorization = "Basic c2VjcmV0"\n  x-custom = ["a", "b"]\n',
     '[host."https://m.example".header]\n  Authorization = "xxxxx"\n  x-custom = "xxxxx"\n'),
    ('[header]\nAuthorization = "Basic c2VjcmV0"\n[host."https://m.example"]\n  capabilities = ["pull"]\n',
     '[header]\nAuthorization = "xxxxx"\n[host."https://m.example"]\n  capabilities = ["pull"]\n'),
    ('[host."https://m.example"]\n  header.Authorization = "Basic x"\n',
     '[host."https://m.example"]\n  header.Authorization = "xxxxx"\n'),
    ('[host."https://m.example"]\n  header = { Authorization = "Basic x" }\n',
     '[host."https://m.example"]\n  header = "xxxxx"\n'),
    ('[host."https://m.example".header]\n  X-Multi = [\n    "one",\n    "two",\n  ]\nserver = "x"\n',
     '[host."https://m.example".header]\n  X-Multi = "xxxxx"\n    "xxxxx"\n    "xxxxx"\n  "xxxxx"\n'
     'server = "xxxxx"\n'),  # server is still a key of the header table
    ('[host."https://m.example".header] # comment\nA = "b"\n[host."https://m.example"."header2"]\nB = "c"\n',
     '[host."https://m.example".header] # comment\nA = "xxxxx"\n[host."https://m.example"."header2"]\nB = "c"\n'),
    ('[[host."h".header]]\nA = "b"\n', '[[host."h".header]]\nA = "xxxxx"\n'),
    ('# password = "in a comment"\n', '# password = "in a comment"\n'),
])
def test_mask_secrets(text, expected) -> None:
    assert mask_secrets(text) == expected


def test_diff_entry_masks_both_sides_and_names_absent_files() -> None:
    entry = diff_entry("/etc/containerd/config.toml", None, AUTH + 'password = "s3cr3t"\n')
    assert "s3cr3t" not in entry["after"] and entry["before"] == ""
    assert entry["before_header"] == "/etc/containerd/config.toml (absent)"
    assert entry["after_header"] == "/etc/containerd/config.toml"
