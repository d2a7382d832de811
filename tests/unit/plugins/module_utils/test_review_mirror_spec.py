# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A value of the wrong shape is named in the user's words: ansible-core 2.19 hands the controller tagged
subclasses (``_AnsibleTaggedStr``), and a message said "got _AnsibleTaggedStr" for a mirror given as a string."""

from __future__ import annotations

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _mirror_spec as spec
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError


class _AnsibleTaggedStr(str):
    pass


class _AnsibleTaggedList(list):
    pass


class _AnsibleTaggedInt(int):
    pass


@pytest.mark.parametrize("mapping, words", [
    ({"quay.io": _AnsibleTaggedStr("http://127.0.0.1:5000")}, "got a string"),
    ({"quay.io": None}, "got nothing (null)"),
    ({"quay.io": _AnsibleTaggedList([_AnsibleTaggedInt(5)])},
     "entry 1 must be a URL string or a mapping with url, got a number"),
    (_AnsibleTaggedList(["quay.io"]), "got a list"),
    ([{"registry": "quay.io", "mirrors": []}, _AnsibleTaggedStr("x")], "got a string"),
])
def test_wrong_shapes_are_named_in_yaml_words(mapping, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        if isinstance(mapping, list) and not isinstance(mapping, _AnsibleTaggedList):
            spec.parse_registries(mapping)
        else:
            spec.canonical_registries(mapping)
    assert words in info.value.message and "Tagged" not in info.value.message
