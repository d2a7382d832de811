"""Issue #18: docker.io and registry.k8s.io through their mirrors, on every runtime, the way workloads pull: a CRI
pull through containerd's socket (kubelet's way), podman pull, docker pull; registry.k8s.io's mirror over TLS with
the CA the role installed. A second run changes nothing; an exclusive run without registry.k8s.io removes only
its files. Each image exists only in its mirror: a pull that did not go through the mirror fails."""

import json
import os
import re

EPHEMERAL = os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
RUNTIMES = ("docker", "containerd", "podman")
REGISTRIES = {"docker.io": "5000", "registry.k8s.io": "5001"}  # the registry and its mirror's port
IMAGE_STORE = "mol-registries-forky"  # Docker with the containerd image store (molecule.yml)
# How each runtime introduces itself to the registry (fleet-mirror-requests prints the user agent).
USER_AGENTS = {"docker": r"docker/\d", "containerd": r"containerd/", "podman": r"containers/|libpod/"}
K8S_FILES = ("/etc/containerd/certs.d/registry.k8s.io/hosts.toml", "/etc/containers/certs.d/127.0.0.1:5001/ca.crt")
DROPIN = "/etc/containers/registries.conf.d/50-fleetops-docker-mirror.conf"


def read_log(name: str) -> str:
    with open(os.path.join(EPHEMERAL, name), encoding="utf-8") as handle:
        return handle.read()


def host_entry(report_name: str, host: str) -> dict:
    with open(os.path.join(EPHEMERAL, report_name, "docker_mirror.json"), encoding="utf-8") as handle:
        return next(e for e in json.load(handle)["hosts"] if e["host"] == host)


def pulled(host, label: str, runtime: str, registry: str) -> tuple[int, str]:
    status, _, output = host.file(f"/var/tmp/fleet-pull-{label}-{runtime}-{registry}").content_string.partition("\n")
    return int(status), output


def requests(host, label: str) -> list[tuple[str, str, str, str]]:
    """(port, request line, status, user agent) of every request the mirrors served during the pulls."""
    text = host.file(f"/var/tmp/fleet-pull-{label}-requests").content_string
    return re.findall(r'^(\d+) "([^"]*)" (\d+) "([^"]*)"', text, re.M)


def served(host, label: str, runtime: str, registry: str) -> list:
    """The mirror's answers to ``runtime`` for ``registry``'s image (its manifest), 2xx only."""
    port, repository = REGISTRIES[registry], "library/hello" if registry == "docker.io" else "pause"
    return [r for r in requests(host, label) if r[0] == port and f"/v2/{repository}/manifests/" in r[1]
            and r[2].startswith("2") and re.search(USER_AGENTS[runtime], r[3])]


def docker_takes(host, registry: str) -> bool:
    """Classic Docker mirrors docker.io only; with the containerd image store it reads certs.d hosts.toml."""
    return registry == "docker.io" or host.backend.get_hostname() == IMAGE_STORE


# --- configured and verified ----------------------------------------------------------------------------------

def test_every_runtime_is_verified(host):
    entry = host_entry("report", host.backend.get_hostname())
    assert entry["verdict"] == "ok", entry
    assert [line["runtime"] for line in entry["runtimes"]] == list(RUNTIMES), entry


def test_classic_docker_says_it_cannot_mirror_registry_k8s_io(host):
    entry = host_entry("report", host.backend.get_hostname())
    docker = next(line for line in entry["runtimes"] if line["runtime"] == "docker")
    notes = [note for note in docker.get("unsupported", []) if note.startswith("registry.k8s.io ")]
    assert bool(notes) == (not docker_takes(host, "registry.k8s.io")), docker


def test_the_ca_the_role_installed_is_what_containerd_and_podman_trust(host):
    """As the files were when the pulls ran (the exclusive run removed them since)."""
    snapshot = "/var/tmp/fleet-present-etc"
    ca = host.file("/etc/fleet-mirror/ca.crt").content_string.strip()
    hosts_toml = host.file(snapshot + K8S_FILES[0]).content_string
    assert 'host."https://127.0.0.1:5001"' in hosts_toml, hosts_toml
    ca_file = re.search(r'ca = "([^"]+)"', hosts_toml).group(1)
    assert ca in host.file(snapshot + ca_file).content_string
    assert ca in host.file(snapshot + K8S_FILES[1]).content_string


def test_a_second_run_changes_nothing():
    log = read_log("registries-rerun.log")
    recap = dict(re.findall(r"^(mol-\S+)\s+:\s+ok=\d+\s+changed=(\d+)", log, re.M))
    assert recap and set(recap.values()) == {"0"}, recap
    assert "RUNNING HANDLER" not in log


def test_containerd_restart_kept_dockers_container(host):
    started = host.check_output("docker inspect --format '{{.State.StartedAt}}' app")
    assert started == host.file("/var/tmp/fleet-app-started").content_string.strip()
    assert host.check_output("docker inspect --format '{{.State.Status}}' app") == "running"


# --- pulls as workloads make them -----------------------------------------------------------------------------

def test_cri_pulls_both_registries_through_their_mirrors(host):
    for registry in REGISTRIES:
        status, output = pulled(host, "present", "containerd", registry)
        assert status == 0, (registry, output)
        assert served(host, "present", "containerd", registry), (registry, requests(host, "present"))


def test_podman_pulls_both_registries_through_their_mirrors(host):
    for registry in REGISTRIES:
        status, output = pulled(host, "present", "podman", registry)
        assert status == 0, (registry, output)
        assert served(host, "present", "podman", registry), (registry, requests(host, "present"))


def test_docker_pulls_what_it_can_through_the_mirrors(host):
    for registry in REGISTRIES:
        status, output = pulled(host, "present", "docker", registry)
        if docker_takes(host, registry):
            assert status == 0, (registry, output)
            assert served(host, "present", "docker", registry), (registry, requests(host, "present"))
        else:  # nothing to pull from but the upstream, which this host cannot reach
            assert status != 0 and not served(host, "present", "docker", registry), output


# --- exclusive: registry.k8s.io no longer wanted ----------------------------------------------------------------

def test_exclusive_removes_only_what_was_written_for_registry_k8s_io(host):
    for path in K8S_FILES:
        assert not host.file(path).exists, path
    assert not host.file("/etc/containerd/certs.d/registry.k8s.io").exists
    assert host.file("/etc/containerd/certs.d/docker.io/hosts.toml").exists
    dropin = host.file(DROPIN).content_string
    assert 'prefix = "docker.io"' in dropin and "registry.k8s.io" not in dropin, dropin
    assert host.file("/etc/fleet-mirror/ca.crt").exists  # not ours


def test_after_exclusive_only_docker_io_goes_through_a_mirror(host):
    for runtime in ("containerd", "podman"):
        assert pulled(host, "exclusive", runtime, "docker.io")[0] == 0, runtime
        status, output = pulled(host, "exclusive", runtime, "registry.k8s.io")
        assert status != 0 and not served(host, "exclusive", runtime, "registry.k8s.io"), (runtime, output)
    assert pulled(host, "exclusive", "docker", "docker.io")[0] == 0
