# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The docs cannot drift from the repository: every relative link resolves (file and anchor), the Molecule
scenario table lists exactly the scenarios, the snippets other tests run are where they look for them, and the
benchmark page is what its figures render to. They need the repository (molecule/, bench/, tools/), not the
release tarball that ansible-test units stages, and skip there."""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
if not os.path.isdir(os.path.join(ROOT, "molecule")):
    pytest.skip("needs the repository checkout, not the release tarball", allow_module_level=True)

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)


def doc_files() -> list[str]:
    """README.md, every page under docs/ and the benchmark page, relative to the repository."""
    pages = ["README.md", os.path.join("bench", "README.md")]
    pages += sorted(glob.glob("docs/**/*.md", root_dir=ROOT, recursive=True))
    return pages


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks, with inline code spans removed."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(CODE_SPAN.sub("", line))
    return lines


def links(text: str) -> list[str]:
    found = []
    for line in prose_lines(text):
        found += INLINE_LINK.findall(line)
        found += REFERENCE_LINK.findall(line)
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text without markup, lower case, punctuation dropped, spaces as '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text
    text = text.replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for line in prose_lines_keep_code(text):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else "%s-%d" % (base, count))
    return result


def prose_lines_keep_code(text: str) -> list[str]:
    """The lines outside fenced code blocks (headings keep their code spans: the slug drops the backticks)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def broken_links(page: str, root: str = ROOT) -> list[str]:
    """Each relative link of `page` whose file, or whose anchor in that file, does not exist."""
    with open(os.path.join(root, page), encoding="utf-8") as f:
        text = f.read()
    broken = []
    for target in links(text):
        if EXTERNAL.match(target):
            continue
        path, anchor = (target.split("#", 1) + [""])[:2]
        resolved = os.path.normpath(os.path.join(root, os.path.dirname(page), path or os.path.basename(page)))
        if not os.path.exists(resolved):
            broken.append("%s: %s (no such file)" % (page, target))
        elif anchor and resolved.endswith(".md"):
            with open(resolved, encoding="utf-8") as f:
                if anchor not in anchors(f.read()):
                    broken.append("%s: %s (no such heading)" % (page, target))
    return broken


@pytest.mark.parametrize("page", doc_files())
def test_every_relative_link_resolves(page: str) -> None:
    assert broken_links(page) == []


def test_the_pages_checked_include_every_doc() -> None:
    pages = doc_files()
    for page in ("README.md", "bench/README.md", "docs/operations.md", "docs/roles/docker_mirror.md"):
        assert os.path.normpath(page) in [os.path.normpath(p) for p in pages]


@pytest.mark.parametrize(("heading", "expected"), [
    ("Every registry a node pulls from: `docker_mirror_registries`",
     "every-registry-a-node-pulls-from-docker_mirror_registries"),
    ("AWX / Ansible Automation Platform", "awx--ansible-automation-platform"),
    ("containerd: restart only for config.toml", "containerd-restart-only-for-configtoml"),
    ("Podman, Buildah, Skopeo and CRI-O: nothing, or a reload", "podman-buildah-skopeo-and-cri-o-nothing-or-a-reload"),
    ("See [the guide](x.md) — now", "see-the-guide--now"),
])
def test_slug_is_github_s_anchor(heading: str, expected: str) -> None:
    assert slug(heading) == expected


def test_a_broken_link_or_anchor_is_found(tmp_path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\n## Two words\n\n## Two words\n", encoding="utf-8")
    (tmp_path / "README.md").write_text(
        "[ok](docs/a.md#two-words) [ok](docs/a.md#two-words-1) [ok](#top) [web](https://example.org/x)\n"
        "[gone](docs/b.md) [bad](docs/a.md#three) `[code](docs/c.md)`\n\n```\n[fenced](docs/d.md)\n```\n# Top\n"
        "[ref]: docs/e.md\n", encoding="utf-8")
    assert broken_links("README.md", str(tmp_path)) == [
        "README.md: docs/b.md (no such file)", "README.md: docs/a.md#three (no such heading)",
        "README.md: docs/e.md (no such file)"]


def scenario_rows(text: str) -> list[str]:
    """The scenario names of the table in the section 'Molecule scenarios'."""
    section = text[text.index("### Molecule scenarios"):]
    section = section[:section.find("\n#", 1)] if "\n#" in section[1:] else section
    return re.findall(r"^\|\s*`([^`]+)`\s*\|", section, re.M)


def test_the_scenario_table_lists_exactly_the_molecule_scenarios() -> None:
    with open(os.path.join(ROOT, "docs", "development.md"), encoding="utf-8") as f:
        rows = scenario_rows(f.read())
    scenarios = sorted(name for name in os.listdir(os.path.join(ROOT, "molecule"))
                       if os.path.isdir(os.path.join(ROOT, "molecule", name)) and name != "_shared")
    assert len(rows) == len(set(rows)), "a scenario is listed twice"
    assert sorted(rows) == scenarios


def test_scenario_rows_reads_only_its_table() -> None:
    text = "## T\n| `x` | no |\n### Molecule scenarios\n\n| scenario | what |\n| --- | --- |\n| `a` | A |\n" \
           "| `b` | B |\n\n## Next\n| `c` | C |\n"
    assert scenario_rows(text) == ["a", "b"]


def test_readme_keeps_the_quick_start_commands() -> None:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    for command in ("make demo", "make demo-cache", "make test"):
        assert command in text


def test_the_site_playbook_molecule_runs_is_in_operations() -> None:
    """molecule/faults/tests/test_4_site.py runs this snippet as printed: it must be a playbook importing the role."""
    with open(os.path.join(ROOT, "docs", "operations.md"), encoding="utf-8") as f:
        text = f.read()
    heading = "## Importing the role into a site playbook"
    assert heading in text
    block = re.search(r"```ya?ml\n(.*?)```", text[text.index(heading):], re.S)
    plays = yaml.safe_load(block.group(1))
    roles = [task["ansible.builtin.import_role"]["name"] for play in plays for task in play["tasks"]]
    assert roles and set(roles) == {"fleetops.docker_mirror.docker_mirror"}


def test_the_benchmark_page_is_what_its_figures_render_to() -> None:
    result = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "run.py"), "--check-readme"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
