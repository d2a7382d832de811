# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's defaults/main.yml and meta/argument_specs.yml describe the same variables with the same defaults."""

from __future__ import annotations

import os

import pytest
import yaml

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "docker_mirror")


def load(relative: str) -> dict:
    with open(os.path.join(ROLE, relative), encoding="utf-8") as f:
        return yaml.safe_load(f)


DEFAULTS = load("defaults/main.yml")
SPECS = load("meta/argument_specs.yml")["argument_specs"]


@pytest.mark.parametrize("entry_point", sorted(SPECS))
def test_every_option_has_its_default_in_defaults(entry_point: str) -> None:
    options = SPECS[entry_point]["options"]
    for name, spec in options.items():
        assert name in DEFAULTS, f"{entry_point}: {name} is not in defaults/main.yml"
        assert spec.get("default") == DEFAULTS[name], f"{entry_point}: default of {name} differs"


def test_every_default_is_in_the_main_spec() -> None:
    assert sorted(DEFAULTS) == sorted(SPECS["main"]["options"])


def test_every_public_variable_is_prefixed_and_documented() -> None:
    for name, spec in SPECS["main"]["options"].items():
        assert name.startswith("docker_mirror_")
        assert spec.get("description"), name
        assert spec.get("type"), name
