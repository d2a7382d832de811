# Copyright: fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker_mirror role's variables, checked on the controller before any host is touched.

Ansible checks a role's variables against meta/argument_specs.yml itself, in a task it puts first in the role;
when a value is wrong that task fails the first batch's hosts with the whole argument spec in its result (about
7 KB) and no fleet summary. The playbooks run this check first: the same validator on the same spec, one short
clause per problem naming the variable, the value and the choices (Ansible's own words), and the hosts. Controller
code only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

SPEC_FILE = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "docker_mirror", "meta", "argument_specs.yml")


@lru_cache(maxsize=None)
def _specs() -> dict:
    with open(SPEC_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)["argument_specs"]


def role_options(entry: str = "main") -> dict:
    """The options of one of the role's entry points, as meta/argument_specs.yml gives them."""
    return _specs()[entry]["options"]


def host_errors(host_vars: Mapping, options: Mapping) -> list[str]:
    """Ansible's messages for one host's role variables (those it sets; the defaults are right)."""
    values, errors = {}, []
    for name in options:
        if name in host_vars:
            try:
                values[name] = host_vars[name]
            except Exception as exc:  # an undefined variable in the value's template: name the variable
                errors.append(f"{name}: {exc}")
    return errors + list(ArgumentSpecValidator(dict(options)).validate(values).error_messages)


def problems(hostvars, hosts, entry: str = "main") -> str:
    """Filter: '' when every host's role variables are right, else one line: each problem once, with the hosts
    that have it ('every host' when all do)."""
    options = role_options(entry)
    seen: dict[str, list[str]] = {}
    for host in hosts:
        for error in host_errors(hostvars[host], options):
            seen.setdefault(" ".join(str(error).split()), []).append(host)
    if not seen:
        return ""
    clauses = [f"{error} ({'every host' if len(who) == len(hosts) else ', '.join(who)})" for error, who in seen.items()]
    return "docker_mirror: stopped before any host was touched: " + "; ".join(clauses)
