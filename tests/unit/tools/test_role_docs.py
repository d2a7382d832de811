# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/roles/*.md are what tools/role_docs.py makes of the roles' argument specs: a doc cannot drift."""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
if not os.path.isfile(os.path.join(ROOT, "tools", "role_docs.py")):
    pytest.skip("needs the repository checkout (tools/), not the release tarball", allow_module_level=True)
_spec = importlib.util.spec_from_file_location("role_docs", os.path.join(ROOT, "tools", "role_docs.py"))
role_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(role_docs)


@pytest.mark.parametrize(("text", "expected"), [
    ("C(daemon.json)", "`daemon.json`"),
    ("V(true) or O(docker_mirror_state=absent)", "`true` or `docker_mirror_state=absent`"),
    ("I(never) and RV(plan)", "*never* and `plan`"),
    ("U(https://example.org/x)", "<https://example.org/x>"),
    ("L(the guide, https://example.org/g)", "[the guide](https://example.org/g)"),
    ("M(fleetops.docker_mirror.daemon_json) (a module)", "`fleetops.docker_mirror.daemon_json` (a module)"),
    ("plain (text) stays", "plain (text) stays"),
])
def test_markup_becomes_markdown(text: str, expected: str) -> None:
    assert role_docs.markdown(text) == expected


def test_every_role_page_is_current() -> None:
    assert role_docs.stale(ROOT) == []


def test_every_role_with_specs_has_a_page() -> None:
    roles = sorted(name for name in os.listdir(os.path.join(ROOT, "roles"))
                   if os.path.isfile(os.path.join(ROOT, "roles", name, "meta", "argument_specs.yml")))
    assert sorted(os.path.basename(path)[:-3] for path in role_docs.pages(ROOT)) == roles


def test_a_changed_spec_makes_its_page_stale(tmp_path) -> None:
    for part in ("roles", "docs"):
        shutil.copytree(os.path.join(ROOT, part), tmp_path / part, symlinks=True)
    spec = tmp_path / "roles" / "docker_mirror" / "meta" / "argument_specs.yml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("default: /etc/docker/daemon.json", "default: /etc/docker/other.json"),
                    encoding="utf-8")
    assert role_docs.stale(str(tmp_path)) == [os.path.join("docs", "roles", "docker_mirror.md")]


def test_a_row_gives_type_choices_default_and_description() -> None:
    page = role_docs.render("r", {"main": {"short_description": "S", "options": {
        "r_mode": {"type": "str", "choices": ["a", "b"], "default": "a", "description": ["One|two", "C(x)"],
                   "version_added": "2.0.0"}}}})
    assert "| `r_mode` | str<br>one of `a`, `b` | `\"a\"` | One\\|two<br><br>`x`<br>*Added in 2.0.0.* |" in page
