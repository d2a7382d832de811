"""The site-playbook snippet of docs/operations.md, as printed, with a non-default mirror: the role's variables
reach every step, one summary per play that runs the role, every host verified. The playbook is taken from the
doc at test time, so the test and the doc cannot drift apart."""

import os
import re

import pytest
import yaml
from conftest import D12, D13, EPHEMERAL, INVENTORY, live_mirrors, run_playbook, summaries, verdict_of

README = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "docs", "operations.md")
SITE_MIRROR = "http://localhost:5000"  # another spelling of the host's mirror (it must answer: probes)
HEADING = "## Importing the role into a site playbook"


def readme_snippet() -> list:
    with open(README, encoding="utf-8") as f:
        text = f.read()
    assert HEADING in text, f"docs/operations.md has no section {HEADING!r}"
    block = re.search(r"```ya?ml\n(.*?)```", text[text.index(HEADING):], re.S)
    assert block, "no YAML block in the site-playbook section of docs/operations.md"
    return yaml.safe_load(block.group(1))


def set_mirrors(node, mirrors) -> int:
    """Replace every docker_mirror_registry_mirrors in the playbook; returns how many were replaced."""
    count = 0
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "docker_mirror_registry_mirrors":
                node[key] = list(mirrors)
                count += 1
            else:
                count += set_mirrors(value, mirrors)
    elif isinstance(node, list):
        count += sum(set_mirrors(item, mirrors) for item in node)
    return count


def plays_with_the_role(playbook: list) -> int:
    return sum("fleetops.docker_mirror.docker_mirror" in yaml.safe_dump(play) for play in playbook)


@pytest.fixture(scope="module")
def site():
    playbook = readme_snippet()
    assert set_mirrors(playbook, [SITE_MIRROR]) >= plays_with_the_role(playbook) >= 1, playbook
    path = os.path.join(EPHEMERAL, "site.yml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(playbook, f, sort_keys=False)
    return run_playbook(["-i", INVENTORY, path], "faults-site.log")


def test_site_playbook_passes(site):
    assert site.returncode == 0, site.stdout[-3000:]


def test_one_summary_per_play_every_host_verified(site):
    # The snippet may hold more than one play (configure, then a read-only check): each prints its own summary.
    found = summaries(site.stdout)
    assert len(found) == plays_with_the_role(readme_snippet()), site.stdout[-3000:]
    for verified, total, lines in found:
        assert (verified, total) == (2, 2), lines
        assert all(verdict_of(lines[name]) == "ok" for name in (D12, D13)), lines


@pytest.mark.parametrize("name", [D12, D13])
def test_non_default_mirror_live(site, name):
    assert SITE_MIRROR + "/" in live_mirrors(name)
