# Copyright: fleetops engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils/_configure: which runtimes the mirrors action plans and writes, with which arguments."""

from __future__ import annotations

import os
import typing as t

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils._errors import ConfigError
from ansible_collections.fleetops.docker_mirror.plugins.plugin_utils import _configure as cfg

MIRRORS = ["https://mirror.gcr.io"]


def args(**overrides: t.Any) -> dict[str, t.Any]:
    """The action's arguments after its argument spec (every default filled in)."""
    values = {name: spec.get("default") for name, spec in cfg.ARGUMENT_SPEC.items()}
    values["registry_mirrors"] = MIRRORS
    values.update(overrides)
    return values


@pytest.mark.parametrize("overrides, host_free", [
    ({"runtimes": ["docker"], "probe": False}, True),
    ({"runtimes": "docker", "probe": False}, True),  # -e docker_mirror_runtimes=docker
    ({"runtimes": ["docker"], "verify": False}, True),
    ({"runtimes": ["docker"]}, True),  # daemon_json probes the mirrors itself
    ({"runtimes": ["docker"], "probe": False, "probe_image": "registry.k8s.io/pause:3.10"}, True),
    ({"runtimes": ["docker", "containerd"]}, False),
    ({"runtimes": "docker,podman"}, False),
    ({"runtimes": ["auto"]}, False),
    ({"runtimes": []}, False),  # mirrors_info says what is wrong
])
def test_host_free_plan(overrides: dict[str, t.Any], host_free: bool) -> None:
    plan = cfg.host_free_plan(args(**overrides))
    assert (plan is not None) == host_free
    if plan:
        assert plan["write"] == ["docker"] and list(plan["runtimes"]) == ["docker"] and plan["changed"] is False


@pytest.mark.parametrize("overrides, mirrors, detect_only", [
    ({}, MIRRORS, False),
    ({"state": "absent"}, [], False),  # nothing to refuse when removing
    ({"verify": False}, MIRRORS, True),  # nothing to read: no command runs
    ({"verify": False, "write": False}, MIRRORS, False),  # verify only reads, whatever docker_mirror_verify says
])
def test_info_args(overrides: dict[str, t.Any], mirrors: list[str], detect_only: bool) -> None:
    values = args(**overrides)
    info = cfg.info_args(values, cfg.registries(values))
    assert info["mirrors"] == mirrors and info["detect_only"] is detect_only
    assert "hosts_dir" not in info


def test_info_args_pass_the_hosts_dir_when_set() -> None:
    values = args(containerd_hosts_dir="/etc/containerd/certs.d")
    assert cfg.info_args(values, cfg.registries(values))["hosts_dir"] == "/etc/containerd/certs.d"


@pytest.mark.parametrize("runtime, expected", [
    ("docker", {"path": "/etc/docker/daemon.json", "require_daemon": True, "probe": True,
                "registries": [{"registry": "docker.io", "mirrors": [{"url": MIRRORS[0]}]}],
                "keep_previous": False, "backup": False, "state": "present", "exclusive": False, "apply": "auto"}),
    ("containerd", {"registries": [{"registry": "docker.io", "mirrors": [{"url": MIRRORS[0]}]}],
                    "config_path": "/etc/containerd/config.toml",
                    "manage_config_path": True, "keep_previous": False, "state": "present", "exclusive": False,
                    "apply": "auto"}),
    ("podman", {"registries": [{"registry": "docker.io", "mirrors": [{"url": MIRRORS[0]}]}],
                "dropin": "50-fleetops-docker-mirror.conf",
                "state": "present", "exclusive": False, "apply": "auto"}),
])
def test_module_args(runtime: str, expected: dict[str, t.Any]) -> None:
    given = cfg.module_args(runtime, args(), cfg.registries(args()))
    names = given.pop("option_names")
    assert given == dict(expected, force=False)
    assert names["force"] == "docker_mirror_force" and set(names) <= set(given)
    assert all(names[option] == cfg.ROLE_VARIABLES[option] for option in names)


@pytest.mark.parametrize("runtime, option, variable", [
    ("docker", "path", "docker_mirror_daemon_json_path"),
    ("docker", "keep_previous", "docker_mirror_rollback"),
    ("containerd", "config_path", "docker_mirror_containerd_config"),
    ("containerd", "manage_config_path", "docker_mirror_containerd_manage_config_path"),
    ("podman", "dropin", "docker_mirror_registries_conf_dropin"),
    ("podman", "force", "docker_mirror_force"),
])
def test_modules_name_their_options_by_the_role_variables(runtime: str, option: str, variable: str) -> None:
    assert cfg.module_args(runtime, args(force=True), [])["option_names"][option] == variable
    assert cfg.module_args(runtime, args(force=True), [])["force"] is True


def test_every_role_variable_named_exists() -> None:
    with open(os.path.join(os.path.dirname(cfg.__file__), "..", "..", "roles", "docker_mirror", "defaults",
                           "main.yml"), encoding="utf-8") as handle:
        defaults = handle.read()
    assert all("\n%s:" % variable in defaults for variable in cfg.ROLE_VARIABLES.values())


def test_module_args_pass_insecure_registries_and_hosts_dir_only_when_set() -> None:
    values = args(insecure_registries=["127.0.0.1:5000"], containerd_hosts_dir="/srv/certs.d")
    wanted = cfg.registries(values)
    assert cfg.module_args("docker", values, wanted)["insecure_registries"] == ["127.0.0.1:5000"]
    assert cfg.module_args("containerd", values, wanted)["hosts_dir"] == "/srv/certs.d"


def test_module_args_of_an_unknown_runtime() -> None:
    with pytest.raises(ValueError, match="cri-o"):
        cfg.module_args("cri-o", args(), [])


@pytest.mark.parametrize("overrides, plan, expected", [
    ({}, {"write": ["podman", "docker"]}, ["docker", "podman"]),  # always docker, containerd, podman
    ({}, {"write": []}, []),  # a runtime refused the mirrors
    ({}, {"failed": True, "write": ["docker"]}, []),
    ({}, {"unreachable": True}, []),
    ({"write": False}, {"write": ["docker"]}, []),  # verify only
])
def test_to_write(overrides: dict[str, t.Any], plan: dict[str, t.Any], expected: list[str]) -> None:
    assert cfg.to_write(args(**overrides), plan) == expected


def test_fold_without_change() -> None:
    folded = cfg.fold({"mirrors": MIRRORS}, {"write": ["docker"], "_ansible_no_log": False},
                      {"docker": {"changed": False, "outcome": {"apply_action": ""}}})
    assert folded["changed"] is False and folded["apply"] == {} and "diff" not in folded
    assert "failed" not in folded and "warnings" not in folded and folded["plan"] == {"write": ["docker"]}


def test_fold_apply_needed_without_a_file_change_is_a_change() -> None:
    folded = cfg.fold({}, {}, {"docker": {"changed": False, "outcome": {"apply_action": "reload"}}})
    assert folded["changed"] is True and folded["apply"] == {"docker": "reload"}


def test_fold_a_module_that_ansible_could_not_run() -> None:
    folded = cfg.fold({}, {}, {"podman": {"failed": True, "module_stderr": "boom"}})
    assert folded["failed"] is True and folded["msg"] == "podman: fleetops.docker_mirror.registries_conf failed"


def test_the_documented_options_are_the_argument_spec() -> None:
    """plugins/modules/mirrors.py documents the action plugin: the same names, types, defaults and choices."""
    import yaml

    from ansible_collections.fleetops.docker_mirror.plugins.modules import mirrors

    documented = yaml.safe_load(mirrors.DOCUMENTATION)["options"]
    assert sorted(documented) == sorted(cfg.ARGUMENT_SPEC)
    for name, spec in cfg.ARGUMENT_SPEC.items():
        doc = documented[name]
        assert (doc["type"], doc.get("default"), doc.get("choices"), doc.get("elements")) == (
            spec["type"], spec.get("default"), spec.get("choices"), spec.get("elements")), name


CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize("overrides, expected", [
    # docker_mirror_registry_mirrors alone: docker.io's entry
    ({}, [("docker.io", [MIRRORS[0]])]),
    ({"registry_mirrors": []}, [("docker.io", [])]),
    # the role's mapping: docker.io first, then every registry in the order given, names normalised
    ({"registries": {"Registry.K8s.io": ["https://k8s.example"],
                     "ghcr.io": [{"url": "https://gh.example", "ca": CA}]}},
     [("docker.io", [MIRRORS[0]]), ("registry.k8s.io", ["https://k8s.example"]), ("ghcr.io", ["https://gh.example"])]),
    # docker.io given in the mapping instead (docker_mirror_registry_mirrors: [])
    ({"registry_mirrors": [], "registries": {"quay.io": ["https://q.example"], "index.docker.io": ["https://d.example"]}},
     [("docker.io", ["https://d.example"]), ("quay.io", ["https://q.example"])]),
    # the modules' list form is taken as it is
    ({"registries": [{"registry": "quay.io", "mirrors": [{"url": "https://q.example"}]}]},
     [("docker.io", [MIRRORS[0]]), ("quay.io", ["https://q.example"])]),
])
def test_registries(overrides: dict[str, t.Any], expected: list) -> None:
    wanted = cfg.registries(args(**overrides))
    assert [(item["registry"], [m["url"] for m in item["mirrors"]]) for item in wanted] == expected


@pytest.mark.parametrize("overrides, message", [
    ({"registries": {"docker.io": ["https://d.example"]}}, "docker.io is named in both"),
    ({"registries": {"quay.io": "https://q.example"}}, 'docker_mirror_registries["quay.io"] must be a list'),
    ({"registries": {"quay.io": [42]}}, 'docker_mirror_registries["quay.io"] entry 1 must be a URL string'),
    ({"registries": {"quay.io": [{"url": "https://q.example", "ca": "not pem"}]}}, "quay.io"),
    ({"registries": {"bad host!": ["https://q.example"]}}, "invalid registry"),
    ({"registries": ["quay.io"]}, "each entry needs registry and mirrors"),
])
def test_registries_refused(overrides: dict[str, t.Any], message: str) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        cfg.registries(args(**overrides))
    assert message in caught.value.message


def test_want_shows_no_secret() -> None:
    key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQAA\n-----END PRIVATE KEY-----\n"
    cert = CA
    values = args(registries={"ghcr.io": [{"url": "https://gh.example", "client_cert": cert, "client_key": key,
                                           "headers": {"Authorization": "Bearer s3cret-token"}}]})
    shown = repr(cfg.want(values, cfg.registries(values)))
    assert "s3cret-token" not in shown and "PRIVATE KEY" not in shown
    assert "Authorization" in shown and "gh.example" in shown
