#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: registry_cache_info
short_description: Verify the registry caches of a host - they answer, what they proxy, a pull through them
version_added: 2.0.0
description:
  - For each instance (as M(fleetops.docker_mirror.registry_cache) returns them in RV(fleetops.docker_mirror.registry_cache#module:instances)),
    from the host itself, C(GET /v2/) over TLS trusting O(ca) (at the listen address, C(localhost) when the
    instance listens on every address, which generated certificates name); C(GET /debug/health) and
    C(GET /metrics) on the debug address; the upstream from the configuration file the running main process of
    its unit was started with (C(docker-registry serve FILE)); and, with a C(probe_image), its manifest fetched
    through the cache (the cache asks the upstream).
  - Never fails for an instance that does not answer; RV(problems) names each one and why, for the role to fail
    the host after its summary.
author:
  - fleetops engineers (@fleetops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module changes nothing, in check mode or not.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  instances:
    description: The instances to verify, as the registry_cache module returns them.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The instance.
        type: str
        required: true
      registry:
        description: The registry it caches.
        type: str
        required: true
      url:
        description: The URL clients use.
        type: str
        required: true
      upstream:
        description: The upstream it must proxy.
        type: str
        required: true
      listen:
        description: The C(http.addr).
        type: str
        required: true
      debug_address:
        description: The C(http.debug.addr).
        type: str
        required: true
      service:
        description: The systemd unit.
        type: str
        required: true
      config:
        description: The configuration file the unit must run.
        type: str
        required: true
      probe_image:
        description: An image whose manifest is fetched through the cache; empty for none.
        type: str
        default: ""
  ca:
    description: PEM text of the CA the caches' certificates chain to.
    type: str
    required: true
  timeout:
    description: Seconds each request may take.
    type: float
    default: 10
seealso:
  - module: fleetops.docker_mirror.registry_cache
"""

EXAMPLES = r"""
- name: Write the caches
  fleetops.docker_mirror.registry_cache:
    url_host: cache1.example.com
    tls_cert: "{{ lookup('ansible.builtin.file', 'pki/cache1.crt') }}"
    tls_key: "{{ lookup('ansible.builtin.file', 'pki/cache1.key') }}"
    ca: "{{ lookup('ansible.builtin.file', 'pki/ca.crt') }}"
    instances:
      - {name: dockerhub, registry: docker.io, port: 5443, probe_image: library/busybox:1.36}
  register: caches
  become: true

- name: Verify them
  fleetops.docker_mirror.registry_cache_info:
    instances: "{{ caches.instances | selectattr('state', 'equalto', 'present') | list }}"
    ca: "{{ lookup('ansible.builtin.file', 'pki/ca.crt') }}"
  register: verified
  become: true
"""

RETURN = r"""
instances:
  description: One entry per instance.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The instance.
      type: str
    registry:
      description: The registry it caches.
      type: str
    url:
      description: The URL clients use.
      type: str
    ok:
      description: Every check passed.
      type: bool
    answers:
      description: C(GET /v2/) answered over TLS with the CA (200 or 401).
      type: bool
    health:
      description: C(/debug/health) answered 200.
      type: bool
    metrics:
      description: C(/metrics) answered 200.
      type: bool
    pid:
      description: The main process of the unit (0 when it does not run).
      type: int
    running_config:
      description: The configuration file the running process was started with.
      type: str
    upstream:
      description: The C(proxy.remoteurl) of that file.
      type: str
    probe_image:
      description: The image whose manifest was fetched through the cache; empty for none.
      type: str
    pulled:
      description: The manifest of RV(instances[].probe_image) was fetched through the cache; null without one.
      type: bool
    problems:
      description:
        - Why the instance is not verified, one sentence each. An instance whose unit does not run says why it
          exits (its journal's last C(panic) or C(level=fatal) line, such as an upstream it cannot reach at start)
          and is not probed.
      type: list
      elements: str
    warnings:
      description:
        - What does not fail the instance, such as an upstream that does not answer C(/v2/) from the cache host
          (the cache still serves what it holds).
      type: list
      elements: str
problems:
  description: Every instance's problems, each naming its instance.
  returned: success
  type: list
  elements: str
"""

import os
import time
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _distribution as dist
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _files
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _probe as probe
from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _process
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._host import HostRunner

EVERY_ADDRESS = ("", "0.0.0.0", "::", "[::]")


def probe_host(listen: str) -> str:
    """Where the host reaches an instance listening on ``listen`` (host:port)."""
    address = listen.rpartition(":")[0]
    return "localhost" if address in EVERY_ADDRESS else address


def unit_journal(runner: HostRunner, service: str) -> str:
    """The last lines of the unit's journal, message text only; "" when there is no journal."""
    if not runner.bins.get("journalctl"):
        return ""
    rc, out, _err = runner.run_bounded([runner.bins["journalctl"], "--no-pager", "-o", "cat", "-n", "60", "-u",
                                        service])
    return out if rc == 0 else ""


def upstream_warnings(instance: dict[str, t.Any], timeout: float) -> list[str]:
    """The upstream asked directly: a cache whose upstream does not answer still serves what it holds."""
    answer = probe.probe(probe.Target(instance["upstream"]), timeout)
    if answer["status"] is not None:
        return []
    return ["upstream %s does not answer (%s): the cache serves only what it holds"
            % (instance["upstream"], answer["error"])]


def running_upstream(runner: HostRunner, instance: dict[str, t.Any]) -> tuple[int, str, str, list[str]]:
    """(pid, the configuration file it was started with, its upstream, problems) of the unit's main process."""
    service = instance["service"][:-len(".service")] if instance["service"].endswith(".service") \
        else instance["service"]
    pid = runner.main_pid(service)
    if pid <= 0:
        reason = dist.exit_reason(unit_journal(runner, instance["service"]))
        cause = ": it exits at start: " + reason if reason else ""
        return 0, "", "", ["%s does not run%s" % (instance["service"], cause)]
    argv = _process.process_argv(pid) or []
    named = dist.serve_config(argv)
    if named is None:
        return pid, "", "", ["the main process of %s is not docker-registry serve (%s)"
                             % (instance["service"], " ".join(argv)[:200])]
    path = _process.resolve_against_cwd(named, pid)
    problems = []
    if path != instance["config"]:
        problems.append("it runs %s, not %s" % (path, instance["config"]))
    try:
        upstream = dist.config_upstream(_files.read_text(path) or "") or ""
    except ConfigError as exc:
        return pid, path, "", problems + ["%s: %s" % (path, exc.message)]
    if upstream != instance["upstream"]:
        problems.append("it proxies %s, not %s" % (upstream or "nothing", instance["upstream"]))
    if _process.started_before_change(pid, path):
        problems.append("it started before %s last changed (restart pending)" % path)
    return pid, path, upstream, problems


# Distribution asks its upstream before it listens: just after a (re)start its port refuses for a moment.
STARTING_ATTEMPTS = 10


def first_answer(target: probe.Target, timeout: float) -> dict[str, t.Any]:
    """``GET /v2/``, asked again each second (up to STARTING_ATTEMPTS times) while the port refuses."""
    for _attempt in range(STARTING_ATTEMPTS - 1):
        answer = probe.probe(target, timeout)
        if answer["status"] is not None or "refused" not in (answer["error"] or ""):
            return answer
        time.sleep(1)
    return probe.probe(target, timeout)


def endpoint_checks(instance: dict[str, t.Any], ca_file: str, timeout: float) -> tuple[dict[str, t.Any], list[str]]:
    port = instance["listen"].rpartition(":")[2]
    target = probe.Target("https://%s:%s" % (probe_host(instance["listen"]), port), ca_files=(ca_file,))
    debug = probe.Target("http://%s" % instance["debug_address"])
    checks = {"answers": first_answer(target, timeout), "health": probe.get_path(debug, "/debug/health", timeout),
              "metrics": probe.get_path(debug, "/metrics", timeout)}
    problems = ["%s: %s" % (what if what != "answers" else "/v2/ over TLS", check["error"])
                for what, check in checks.items() if not check["ok"]]
    flags: dict[str, t.Any] = {what: check["ok"] for what, check in checks.items()}
    flags["pulled"] = None
    if instance.get("probe_image") and flags["answers"]:
        where = probe.split_image(instance["probe_image"], instance["registry"])
        if where is not None:
            pulled = probe.resolve_manifest(target, where[0], where[1], timeout=timeout)
            flags["pulled"] = pulled["ok"]
            if not pulled["ok"]:
                problems.append("%s through the cache: %s" % (instance["probe_image"], pulled["error"]))
    return flags, problems


def verify(runner: HostRunner, instance: dict[str, t.Any], ca_file: str, timeout: float) -> dict[str, t.Any]:
    pid, running, upstream, problems = running_upstream(runner, instance)
    warnings: list[str] = []
    if pid > 0:
        flags, endpoint_problems = endpoint_checks(instance, ca_file, timeout)
        problems = endpoint_problems + problems
        warnings = upstream_warnings(instance, timeout)
    else:  # nothing listens: every endpoint would only say "connection refused"
        flags = {"answers": False, "health": False, "metrics": False, "pulled": None}
    return dict(flags, name=instance["name"], registry=instance["registry"], url=instance["url"], pid=pid,
                running_config=running, upstream=upstream, probe_image=instance.get("probe_image") or "",
                problems=problems, warnings=warnings, ok=not problems)


def run_module(module: AnsibleModule) -> dict[str, t.Any]:
    params = module.params
    ca_file = os.path.join(module.tmpdir, "registry-cache-ca.crt")
    with open(ca_file, "w", encoding="utf-8") as handle:
        handle.write(params["ca"])
    runner = HostRunner(module, ("systemctl", "journalctl", "timeout"), params["timeout"])
    results = [verify(runner, instance, ca_file, params["timeout"]) for instance in params["instances"]]
    problems = ["instance %s: %s" % (item["name"], problem) for item in results for problem in item["problems"]]
    return {"changed": False, "instances": results, "problems": problems}


def main() -> None:
    text = dict(type="str", required=True)
    module = AnsibleModule(
        argument_spec=dict(
            instances=dict(type="list", elements="dict", required=True, options=dict(
                name=text, registry=text, url=text, upstream=text, listen=text, debug_address=text, service=text,
                config=text, probe_image=dict(type="str", default=""))),
            ca=dict(type="str", required=True),
            timeout=dict(type="float", default=10),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module))


if __name__ == "__main__":
    main()
