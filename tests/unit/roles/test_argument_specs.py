# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each role's defaults/main.yml and meta/argument_specs.yml describe the same variables with the same defaults."""

from __future__ import annotations

import os

import pytest
import yaml

ROLES_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles")
ROLES = ("docker_mirror", "registry_cache")


def load(role: str, relative: str) -> dict:
    with open(os.path.join(ROLES_DIR, role, relative), encoding="utf-8") as f:
        return yaml.safe_load(f)


def defaults(role: str) -> dict:
    return load(role, "defaults/main.yml")


def specs(role: str) -> dict:
    return load(role, "meta/argument_specs.yml")["argument_specs"]


ENTRY_POINTS = [(role, entry_point) for role in ROLES for entry_point in sorted(specs(role))]


@pytest.mark.parametrize("role, entry_point", ENTRY_POINTS)
def test_every_option_has_its_default_in_defaults(role: str, entry_point: str) -> None:
    options = specs(role)[entry_point]["options"]
    role_defaults = defaults(role)
    for name, spec in options.items():
        assert name in role_defaults, f"{role} {entry_point}: {name} is not in defaults/main.yml"
        assert spec.get("default") == role_defaults[name], f"{role} {entry_point}: default of {name} differs"


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_in_the_main_spec(role: str) -> None:
    assert sorted(defaults(role)) == sorted(specs(role)["main"]["options"])


@pytest.mark.parametrize("role", ROLES)
def test_every_public_variable_is_prefixed_and_documented(role: str) -> None:
    for name, spec in specs(role)["main"]["options"].items():
        assert name.startswith(role + "_")
        assert spec.get("description"), name
        assert spec.get("type"), name
