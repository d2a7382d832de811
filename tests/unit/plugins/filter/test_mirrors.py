# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.fleetops.docker_mirror.plugins.filter.mirrors import FilterModule, normalize_mirrors


@pytest.mark.parametrize(
    ("mirrors", "expected"),
    [
        (["https://mirror.gcr.io"], ["https://mirror.gcr.io/"]),
        (["https://mirror.gcr.io/"], ["https://mirror.gcr.io/"]),
        (["http://127.0.0.1:5999", "http://127.0.0.1:5000/"], ["http://127.0.0.1:5999/", "http://127.0.0.1:5000/"]),
        ([], []),
        (None, []),
    ],
)
def test_normalize_mirrors(mirrors, expected) -> None:
    assert normalize_mirrors(mirrors) == expected


@pytest.mark.parametrize("bad", ["https://mirror.gcr.io", [1], {"a": "b"}])
def test_normalize_mirrors_rejects_non_lists(bad) -> None:
    with pytest.raises(AnsibleFilterError, match="list of strings"):
        normalize_mirrors(bad)


def test_filter_is_registered() -> None:
    assert FilterModule().filters()["normalize_mirrors"] is normalize_mirrors
