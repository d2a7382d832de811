# Copyright: fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry_cache role's filters: the cache summary and the clients' registries. Thin: the logic lives in
plugins/plugin_utils/_cache.py."""

from __future__ import annotations

from ansible_collections.fleetops.docker_mirror.plugins.plugin_utils._cache import (
    registry_cache_missing, registry_cache_registries, registry_cache_summary, tls_problems)


class FilterModule:
    def filters(self):
        return {
            "registry_cache_summary": registry_cache_summary,
            "registry_cache_registries": registry_cache_registries,
            "registry_cache_missing": registry_cache_missing,
            "registry_cache_tls_problems": tls_problems,
        }
