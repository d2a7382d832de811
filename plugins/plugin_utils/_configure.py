# Copyright: fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller side of fleetops.docker_mirror.mirrors: which runtimes to plan and write, each runtime's module
and its arguments, and the one result that folds the plan and every runtime's module result.

Pure functions on the action's arguments and the modules' results (tested as tables in
tests/unit/plugins/plugin_utils/test_configure.py); the action plugin only runs the modules these name."""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _mirror_spec as spec
from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError
from ansible_collections.fleetops.docker_mirror.plugins.plugin_utils._judge import RUNTIMES, listed

COLLECTION = "fleetops.docker_mirror."
INFO = COLLECTION + "mirrors_info"
MODULES = {"docker": COLLECTION + "daemon_json", "containerd": COLLECTION + "containerd_hosts",
           "podman": COLLECTION + "registries_conf"}
RUNTIME_CHOICES = ["auto"] + list(RUNTIMES)
APPLY_MODES = ["auto", "reload", "restart", "none"]

ARGUMENT_SPEC = dict(
    runtimes=dict(type="list", elements="str", choices=RUNTIME_CHOICES, default=["auto"]),
    registry_mirrors=dict(type="list", elements="str", default=[]),
    registries=dict(type="raw", default={}),
    insecure_registries=dict(type="list", elements="str", default=[]),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    exclusive=dict(type="bool", default=False),
    apply=dict(type="str", choices=APPLY_MODES, default="auto"),
    write=dict(type="bool", default=True),
    verify=dict(type="bool", default=True),
    probe=dict(type="bool", default=True),
    probe_image=dict(type="str", default=""),
    backup=dict(type="bool", default=False),
    force=dict(type="bool", default=False),
    keep_previous=dict(type="bool", default=False),
    daemon_json_path=dict(type="path", default="/etc/docker/daemon.json"),
    containerd_config=dict(type="path", default="/etc/containerd/config.toml"),
    containerd_hosts_dir=dict(type="path"),
    manage_config_path=dict(type="bool", default=True),
    registries_conf_dropin=dict(type="str", default="50-fleetops-docker-mirror.conf"),
    docker_service=dict(type="str", default="docker"),
)

# The role variable behind each option of the modules this action runs: the modules' messages name these
# (option_names), since the user of the role set the variables, never the modules' options.
ROLE_VARIABLES = {
    "path": "docker_mirror_daemon_json_path", "registries": "docker_mirror_registries",
    "insecure_registries": "docker_mirror_insecure_registries", "state": "docker_mirror_state",
    "exclusive": "docker_mirror_exclusive", "apply": "docker_mirror_apply", "backup": "docker_mirror_backup",
    "keep_previous": "docker_mirror_rollback", "force": "docker_mirror_force", "probe": "docker_mirror_probe",
    "probe_image": "docker_mirror_probe_image", "hosts_dir": "docker_mirror_containerd_hosts_dir",
    "config_path": "docker_mirror_containerd_config", "containerd_config": "docker_mirror_containerd_config",
    "manage_config_path": "docker_mirror_containerd_manage_config_path",
    "dropin": "docker_mirror_registries_conf_dropin", "runtimes": "docker_mirror_runtimes",
}

# What the verdict compares the runtimes with: the arguments that say what was asked for.
WANT_KEYS = ("runtimes", "state", "exclusive", "apply", "verify", "manage_config_path", "probe", "probe_image")


def registries(args: Mapping) -> list[dict]:
    """Every registry's mirrors as the modules' ``registries`` option, docker.io first: ``registry_mirrors`` (the
    docker.io URLs) and ``registries`` (registry -> [URL | mirror dict], or that option's list already). Raises
    ConfigError naming the registry and the entry that is wrong; docker.io named in both is refused."""
    given = args["registries"] or {}
    listed_ = spec.canonical_registries(given) if isinstance(given, Mapping) else [
        {"registry": item.registry, "mirrors": raw["mirrors"]}
        for item, raw in zip(spec.parse_registries(given, allow_default=True), given)]
    hub = next((item for item in listed_ if item["registry"] == spec.DOCKER_HUB), None)
    if hub and args["registry_mirrors"]:
        raise ConfigError("docker.io is named in both docker_mirror_registry_mirrors and docker_mirror_registries: "
                          "give its mirrors in one of them (docker_mirror_registry_mirrors: [] to use "
                          "docker_mirror_registries)")
    if hub is None:
        hub = {"registry": spec.DOCKER_HUB, "mirrors": [{"url": url} for url in args["registry_mirrors"]]}
    return [hub] + [item for item in listed_ if item is not hub]


def hub_urls(wanted: list[dict]) -> list[str]:
    """The docker.io mirror URLs of ``registries``'s list (its first entry)."""
    return [mirror["url"] for mirror in wanted[0]["mirrors"]]


def public(wanted: list[dict]) -> list[dict]:
    """``registries``'s list as a result may show it: URLs (userinfo masked) and settings, no key, no header value."""
    specs = spec.parse_registries(wanted, allow_default=True)
    return [{"registry": item.registry, "mirrors": [spec.public_mirror(mirror) for mirror in item.mirrors]}
            for item in specs]


def want(args: Mapping, wanted: list[dict]) -> dict:
    """What was asked for, as the verdict reads it ('mirrors': the docker.io mirrors; 'registries': every
    registry, as public())."""
    return {"mirrors": hub_urls(wanted), "registries": public(wanted), **{key: args[key] for key in WANT_KEYS}}


def probing(args: Mapping) -> bool:
    """Whether each mirror is asked, the way its runtime reaches it, whether it answers (verify and probe)."""
    return bool(args.get("verify", True) and (args.get("probe", True) or args.get("probe_image")))


def host_free_plan(args: Mapping) -> dict | None:
    """The plan that needs no host, or None: writing for Docker alone. Docker is the one runtime the plan never
    asks the host about: daemon_json checks the mirrors itself, for the release installed, says when Docker is
    missing, reports the live mirrors and probes its mirrors; so the plan of ``runtimes: [docker]`` is the same
    on every host: write daemon.json."""
    if listed(args.get("runtimes", ["auto"])) != ["docker"]:
        return None
    docker = {"installed": None, "state": None, "mirrors": None, "error": None, "problem": None}
    return {"changed": False, "detected": None, "runtimes": {"docker": docker}, "write": ["docker"]}


def named(module_args: dict) -> dict:
    """A module's arguments with ``option_names``: the role variable behind each option its messages may name."""
    return dict(module_args, option_names={name: ROLE_VARIABLES[name] for name in
                                           sorted(set(module_args) | {"force"}) if name in ROLE_VARIABLES})


def info_args(args: Mapping, wanted: list[dict]) -> dict:
    """mirrors_info's arguments: the plan (can each selected runtime take the mirrors?) and, unless nothing is to
    be verified, what each runtime uses now."""
    return named({
        "runtimes": list(args["runtimes"]),
        "mirrors": hub_urls(wanted) if args["state"] == "present" else [],
        "detect_only": bool(args["write"]) and not args["verify"],
        "containerd_config": args["containerd_config"],
        **_optional(hosts_dir=args["containerd_hosts_dir"]),
        "docker_service": args["docker_service"],
        **live_args(args, wanted),
    })


def live_args(args: Mapping, wanted: list[dict]) -> dict:
    """What mirrors_info reads of each runtime besides docker.io: every wanted registry, each mirror probed."""
    return {"registries": [item["registry"] for item in wanted], "probe": probing(args),
            **_optional(probe_image=args.get("probe_image"))}


def _optional(**values) -> dict:
    return {key: value for key, value in values.items() if value}


def module_args(runtime: str, args: Mapping, wanted: list[dict]) -> dict:
    """The arguments of the module that writes ``runtime``'s file (``wanted``: registries()), with the role
    variables its messages name."""
    common = {"state": args["state"], "exclusive": args["exclusive"], "apply": args["apply"],
              "force": args.get("force", False)}
    if runtime == "docker":
        probe = _optional(insecure_registries=list(args["insecure_registries"]), probe=probing(args),
                          probe_image=args.get("probe_image") if probing(args) else None)
        return named({"path": args["daemon_json_path"], "registries": wanted, **probe, "backup": args["backup"],
                      "keep_previous": args["keep_previous"], "require_daemon": True, **common})
    if runtime == "containerd":
        return named({"registries": wanted,
                      **_optional(hosts_dir=args["containerd_hosts_dir"]), "config_path": args["containerd_config"],
                      "manage_config_path": args["manage_config_path"], "keep_previous": args["keep_previous"],
                      **common})
    if runtime == "podman":
        return named({"registries": wanted, "dropin": args["registries_conf_dropin"], **common})
    raise ValueError("no module writes %r" % runtime)


def to_write(args: Mapping, plan: Mapping) -> list[str]:
    """The runtimes whose file is written, in order: those of the plan's ``write`` (none when one selected runtime
    refuses the mirrors, or the plan failed); none in a verify-only run."""
    if not args["write"] or plan.get("failed") or plan.get("unreachable"):
        return []
    return [name for name in RUNTIMES if name in (plan.get("write") or [])]


def _clean(res: Mapping) -> dict:
    """A module's result as kept in ours: without Ansible's internal keys and the echo of its arguments."""
    return {key: value for key, value in res.items() if key != "invocation" and not key.startswith("_ansible")}


def _apply_action(res: Mapping) -> str:
    outcome = res.get("outcome")
    return outcome.get("apply_action") or "" if isinstance(outcome, Mapping) else ""


def _diffs(results: Mapping) -> list:
    diffs = []
    for res in results.values():
        diff = res.get("diff")
        diffs.extend(diff if isinstance(diff, list) else [diff] if diff else [])
    return diffs


def _failures(plan: Mapping, configured: Mapping) -> list[str]:
    failures = ["plan: %s" % (plan.get("msg") or "mirrors_info failed")] if plan.get("failed") else []
    failures.extend("%s: %s" % (name, res.get("msg") or MODULES[name] + " failed")
                    for name, res in configured.items() if res.get("failed"))
    return failures


def fold(wanted: Mapping, plan: Mapping, configured: Mapping) -> dict:
    """The action's result: what was asked ('want'), the plan (mirrors_info's result: the runtimes selected and
    what each uses now), each written runtime's module result ('configured'), the runtimes that must take their
    change and how ('apply', e.g. {'docker': 'reload'}: the role's handlers run them). Changed when a file
    changed or a runtime is to take a change; failed when the plan or any module failed (the others were still
    written: each runtime is its own unit)."""
    plan = _clean(plan)
    configured = {name: _clean(res) for name, res in configured.items()}
    apply = {name: _apply_action(res) for name, res in configured.items() if _apply_action(res)}
    folded = {"changed": any(res.get("changed") for res in configured.values()) or bool(apply),
              "want": dict(wanted), "plan": plan, "configured": configured, "apply": apply}
    diffs = _diffs(configured)
    if diffs:
        folded["diff"] = diffs
    warnings = [w for res in [plan, *configured.values()] for w in res.get("warnings") or []]
    if warnings:
        folded["warnings"] = warnings
    failures = _failures(plan, configured)
    if failures:
        folded.update(failed=True, msg="; ".join(failures))
    return folded
