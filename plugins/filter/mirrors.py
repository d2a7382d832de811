# Copyright: fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that compare registry mirrors the way dockerd does."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._registry import mirror_key


def normalize_mirrors(mirrors):
    """Each mirror as dockerd reports it (one trailing slash), order kept."""
    if mirrors is None:
        return []
    if not isinstance(mirrors, (list, tuple)) or not all(isinstance(m, str) for m in mirrors):
        raise AnsibleFilterError(f"normalize_mirrors expects a list of strings, got {mirrors!r}")
    return [mirror_key(m) for m in mirrors]


class FilterModule:
    def filters(self):
        return {"normalize_mirrors": normalize_mirrors}
