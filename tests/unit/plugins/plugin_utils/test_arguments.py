# Copyright: fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's variables checked on the controller before any host is touched: one short line per problem (before
2.0, Ansible's own check of the role's argument spec failed the first host with the whole spec, about 7 KB, and no
summary)."""

from __future__ import annotations

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.filter.rollout import FilterModule
from ansible_collections.fleetops.docker_mirror.plugins.plugin_utils import _arguments as arguments

HOSTS = ["h1", "h2", "h3"]


def everywhere(**values) -> dict:
    return {host: dict(values) for host in HOSTS}


@pytest.mark.parametrize("hostvars, expected", [
    (everywhere(), ""),
    (everywhere(docker_mirror_apply="reload", docker_mirror_runtimes="docker,containerd", unrelated="x"), ""),
    (everywhere(docker_mirror_apply="sometimes"),
     "docker_mirror: stopped before any host was touched: value of docker_mirror_apply must be one of: auto, "
     "reload, restart, none, got: sometimes (every host)"),
    (everywhere(docker_mirror_runtimes="crio"),
     "docker_mirror: stopped before any host was touched: value of docker_mirror_runtimes must be one or more of: "
     "docker, containerd, podman, auto. Got no match for: crio (every host)"),
])
def test_problems(hostvars: dict, expected: str) -> None:
    assert arguments.problems(hostvars, HOSTS) == expected


def test_a_problem_of_some_hosts_names_them() -> None:
    hostvars = {"h1": {"docker_mirror_apply_timeout": "soon"}, "h2": {}, "h3": {"docker_mirror_apply_timeout": "soon"}}
    text = arguments.problems(hostvars, HOSTS)
    assert text.startswith("docker_mirror: stopped before any host was touched: argument 'docker_mirror_apply_timeout'")
    assert text.endswith("int (h1, h3)") and "\n" not in text and len(text) < 300


def test_two_problems_are_two_clauses() -> None:
    text = arguments.problems(everywhere(docker_mirror_apply="x", docker_mirror_state="gone"), HOSTS)
    assert text.count("(every host)") == 2 and "docker_mirror_state must be one of: present, absent, got: gone" in text


def test_a_variable_that_cannot_be_templated_is_named() -> None:
    class Broken(dict):
        def __getitem__(self, name):
            raise ValueError("'nosuch' is undefined")

    text = arguments.problems({"h1": Broken(docker_mirror_apply="{{ nosuch }}")}, ["h1"])
    assert text.endswith("docker_mirror_apply: 'nosuch' is undefined (every host)")


def test_every_entry_point_has_the_options_of_the_role() -> None:
    assert "docker_mirror_apply" in arguments.role_options("main")
    assert arguments.role_options("verify") == arguments.role_options("main")


def test_registered_as_a_filter() -> None:
    assert FilterModule().filters()["docker_mirror_arguments"] is arguments.problems
