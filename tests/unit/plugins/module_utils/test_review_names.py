# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names with a trailing newline (a YAML block scalar): ``$`` matched before it (hostile review)."""

from __future__ import annotations

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _containerd as ctd
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _registries_conf as rc
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError


@pytest.mark.parametrize("name", ["docker.io\n", "_default\n", "localhost:5000\n"])
def test_containerd_registry_with_a_trailing_newline_is_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="invalid registry"):
        ctd.validate_registry(name)


def test_registries_conf_registry_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(ConfigError, match="invalid registry"):
        rc.validate_registry("quay.io\n")


def test_dropin_with_a_trailing_newline_is_refused() -> None:
    """containers read only names ending in .conf: "x.conf\\n" would never be read."""
    with pytest.raises(ConfigError, match="invalid dropin"):
        rc.validate_dropin_name("50-x.conf\n")
