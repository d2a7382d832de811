# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials a diff leaked before the hostile review (each case failed before its fix)."""

from __future__ import annotations

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._files import mask_secrets

CONFIGS = '[plugins."io.containerd.grpc.v1.cri".registry.configs]\n'


@pytest.mark.parametrize(("text", "expected"), [
    # an inline table under a registry name (not a credential key) holding the credentials
    (CONFIGS + '"reg.example" = { auth = { username = "u", password = "hunter2" } }\n',
     CONFIGS + '"reg.example" = "xxxxx"\n'),
    ('registry = { configs = { "r" = { auth = { password = "hunter2" } } } }\n', 'registry = "xxxxx"\n'),
    ('"r" = { auth.password = "hunter2" }\n', '"r" = "xxxxx"\n'),
    # a multi-line basic string: its later lines are the secret
    ('password = """\nhunter2\n"""\nserver = "s"\n', 'password = "xxxxx"\n"xxxxx"\n"xxxxx"\nserver = "s"\n'),
    ("password = '''\nhunter2'''\nserver = \"s\"\n", "password = \"xxxxx\"\n\"xxxxx\"\nserver = \"s\"\n"),
    # an array of inline tables spread over lines
    ('x = [\n  { password = "hunter2" },\n]\n', 'x = [\n  "xxxxx"\n]\n'),
    # not credentials: left alone
    ('"auth.example.com" = { tls = { insecure_skip_verify = true } }\n',
     '"auth.example.com" = { tls = { insecure_skip_verify = true } }\n'),
    ('endpoint = ["https://auth.example.com"]\n', 'endpoint = ["https://auth.example.com"]\n'),
])
def test_mask_secrets_inline_and_multiline(text, expected) -> None:
    assert mask_secrets(text) == expected
