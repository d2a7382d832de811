"""Debian 11 (Python 3.9, python3-toml only): the role gives containerd 1.4's CRI plugin the mirrors of docker.io
and registry.k8s.io (TLS with the test CA) in config.toml's legacy registry tables and CRI pulls of both go
through them; the modules write, read back and report each runtime's mirror, Docker and Podman pull through it;
without python3-toml the TOML modules fail with one line naming the package and leave every file as it was."""

import json
import os
import re
import tomllib

MIRROR = "http://127.0.0.1:5000"
HOSTS_TOML = "/etc/containerd/certs.d/docker.io/hosts.toml"
CONFIG_TOML = "/etc/containerd/config.toml"
DROPIN = "/etc/containers/registries.conf.d/50-fleetops-docker-mirror.conf"
IMAGE = "hello:1"  # only in the host's loopback mirror (molecule/_shared/prepare.yml); there is no Docker Hub here
TLS_MIRROR = "https://127.0.0.1:5001"  # registry.k8s.io's (molecule/_shared/mirrors.yml), pause:3.9 only there
CA_FILE = "/etc/containerd/certs.d/registry.k8s.io/127.0.0.1_5001.ca.crt"
EPHEMERAL = os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]


def result(host, name: str) -> dict:
    return json.loads(host.file(f"/var/tmp/bullseye/{name}.json").content_string)


def registry_requests(host, since: str) -> list[str]:
    log = host.check_output(f"journalctl -u docker-registry --since @{since} --no-pager -o cat")
    return [line for line in log.splitlines() if "/v2/library/hello/manifests/1" in line]


# --- the host ----------------------------------------------------------------------------------------------

def test_the_host_is_debian_11_whose_only_toml_reader_is_python3_toml(host):
    assert host.file("/etc/debian_version").content_string.startswith("11.")
    assert host.check_output("python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'") == "3.9"
    for module in ("tomllib", "tomli"):
        assert host.run(f"python3 -c 'import {module}'").rc == 1, module
    assert host.run("python3 -c 'import toml'").rc == 0
    assert host.package("python3-toml").is_installed


# --- containerd --------------------------------------------------------------------------------------------

def test_containerd_hosts_writes_hosts_toml_and_reads_it_back(host):
    assert result(host, "containerd-first")["changed"] is True
    assert result(host, "containerd-again")["changed"] is False
    hosts = tomllib.loads(host.file(HOSTS_TOML).content_string)
    assert hosts == {"server": "https://registry-1.docker.io",
                     "host": {MIRROR: {"capabilities": ["pull", "resolve"]}}}
    assert host.file(HOSTS_TOML).content_string.startswith("# Managed by fleetops.docker_mirror.containerd_hosts")


def test_containerd_first_keeps_config_toml_to_the_operator_without_manage_config_path(host):
    # Without config_path management the module writes hosts.toml only, and says the CRI plugin does not read it.
    assert result(host, "containerd-first")["cri_reads_hosts_dir"] is False


# --- containerd 1.4 through the role: what its CRI plugin reads ---------------------------------------------

def read_log(name: str) -> str:
    with open(os.path.join(EPHEMERAL, name), encoding="utf-8") as handle:
        return handle.read()


def recap_changed(log: str) -> dict:
    return {name: int(changed) for name, changed in re.findall(r"^(mol-\S+)\s+:\s+ok=\d+\s+changed=(\d+)", log, re.M)}


def test_the_role_writes_config_toml_legacy_tables_and_the_ca(host):
    registry = tomllib.loads(host.file(CONFIG_TOML).content_string)["plugins"]["io.containerd.grpc.v1.cri"]["registry"]
    assert registry == {"mirrors": {"docker.io": {"endpoint": [MIRROR]}, "registry.k8s.io": {"endpoint": [TLS_MIRROR]}},
                        "configs": {"127.0.0.1:5001": {"tls": {"ca_file": CA_FILE}}}}
    with open(os.path.join(EPHEMERAL, "fleet-mirror-pki", "ca.crt"), encoding="utf-8") as handle:
        assert host.file(CA_FILE).content_string == handle.read()
    assert host.file(CA_FILE).mode == 0o644
    # No hosts.toml for it: containerd 1.4 reads none.
    assert not host.file("/etc/containerd/certs.d/registry.k8s.io/hosts.toml").exists


def test_the_role_restarted_containerd_and_docker_s_container_kept_running(host):
    before, after = result(host, "before-role"), result(host, "after-role")
    assert before["containerd_pid"] != after["containerd_pid"] and after["containerd_pid"] > 0
    assert before["keep"]["Running"] is True
    assert after["keep"]["Running"] is True and after["keep"]["StartedAt"] == before["keep"]["StartedAt"]
    assert after["keep"]["Pid"] == before["keep"]["Pid"]
    keep = json.loads(host.check_output("docker inspect --format '{{json .State}}' keep"))
    assert keep["Running"] is True and keep["Pid"] == before["keep"]["Pid"]


def test_the_role_verifies_containerd_1_4_from_its_live_configuration():
    log = read_log("bullseye-role.log")
    # mirrors_info reads 1.4's mirrors from its config dump; no "does not read the hosts directory" note or failure.
    flat = re.sub(r"\s+", " ", log)  # the summary's items may wrap
    assert re.search(r"ok +mol-bullseye-d11 \[containerd\]: live mirrors http://127\.0\.0\.1:5000/; "
                     r"registry\.k8s\.io https://127\.0\.0\.1:5001/'", flat), log
    assert "does not read" not in log


def test_the_second_run_changes_nothing():
    log = read_log("bullseye-role-rerun.log")
    assert "RUNNING HANDLER" not in log
    assert recap_changed(log) and set(recap_changed(log).values()) == {0}, log
    assert "RUNNING HANDLER" in read_log("bullseye-role.log")


def cri_pull(host, image: str) -> dict:
    host.run(f"ctr -n k8s.io images rm {image}")
    pull = host.run(f"fleet-cri-pull {image}")
    assert pull.rc == 0, pull.stderr
    return json.loads(pull.stdout)


def test_cri_pulls_of_both_registries_go_through_their_mirrors(host):
    since = host.check_output("date +%s")
    hello = cri_pull(host, "docker.io/library/hello:1")
    pause = cri_pull(host, "registry.k8s.io/pause:3.9")
    assert hello["api"] == pause["api"] == "runtime.v1alpha2"  # containerd 1.4 serves no runtime.v1
    requests = host.check_output(f"fleet-mirror-requests @{since}").splitlines()
    print("\n".join(requests))
    # containerd 1.4 resolves the tag with HEAD (?ns= names the registry), then GETs the manifest and blobs.
    for port, repository, tag in (("5000", "library/hello", "1"), ("5001", "pause", "3.9")):
        served = [line for line in requests if line.startswith(f'{port} "') and "containerd/1.4.13" in line]
        assert any(f" /v2/{repository}/manifests/{tag}?" in line and '" 200 ' in line for line in served), requests
        assert any(f"GET /v2/{repository}/blobs/sha256:" in line and '" 200 ' in line for line in served), requests


def test_mirrors_info_reads_containerd_1_4_mirrors_from_its_configuration(host):
    containerd = result(host, "info")["runtimes"]["containerd"]
    assert containerd["mirrors"] == [MIRROR] and containerd["hosts_file"] is None
    assert containerd["cri_reads_hosts_dir"] is None and containerd["problem"] is None


# --- Podman ------------------------------------------------------------------------------------------------

def test_registries_conf_writes_the_dropin_and_reads_it_back(host):
    assert result(host, "podman-first")["changed"] is True
    assert result(host, "podman-again")["changed"] is False
    dropin = tomllib.loads(host.file(DROPIN).content_string)
    assert dropin == {"registry": [{"prefix": "docker.io", "location": "docker.io",
                                    "mirror": [{"location": "127.0.0.1:5000", "insecure": True}]}]}


def test_podman_info_shows_the_mirror(host):
    registries = json.loads(host.check_output("podman info --format json"))["registries"]
    assert registries["docker.io"]["Mirrors"] == [{"Location": "127.0.0.1:5000", "Insecure": True}]


def test_podman_pulls_through_the_mirror(host):
    host.run(f"podman rmi -f docker.io/library/{IMAGE}")
    since = host.check_output("date +%s")
    pull = host.run(f"timeout 60 podman pull docker.io/library/{IMAGE}")
    assert pull.rc == 0, pull.stderr
    assert any(re.search(r"libpod/\d|containers/", line) for line in registry_requests(host, since))  # Podman 3: libpod/3.0.1


# --- Docker ------------------------------------------------------------------------------------------------

def test_docker_takes_the_mirror_from_daemon_json(host):
    assert json.loads(host.file("/etc/docker/daemon.json").content_string)["registry-mirrors"] == [MIRROR]
    assert result(host, "docker-apply")["live_mirrors"] == [MIRROR + "/"]
    live = host.check_output("docker info --format '{{json .RegistryConfig.Mirrors}}'")
    assert json.loads(live) == [MIRROR + "/"]


def test_docker_pulls_through_the_mirror(host):
    host.run(f"docker rmi -f {IMAGE}")
    since = host.check_output("date +%s")
    pull = host.run(f"docker pull {IMAGE}")
    assert pull.rc == 0, pull.stderr
    assert any(re.search(r"docker/\d", line) for line in registry_requests(host, since))


# --- mirrors_info ------------------------------------------------------------------------------------------

def test_mirrors_info_reads_every_runtime(host):
    info = result(host, "info")
    assert info["detected"] == ["docker", "containerd", "podman"]
    runtimes = info["runtimes"]
    assert runtimes["docker"]["mirrors"] == [MIRROR]
    assert runtimes["podman"]["mirrors"] == [MIRROR]
    assert runtimes["containerd"]["mirrors"] == [MIRROR]  # config.toml's legacy tables (the role's), not hosts.toml
    for runtime in runtimes.values():
        assert runtime["error"] is None, runtime


# --- without python3-toml ----------------------------------------------------------------------------------

def test_without_a_toml_reader_each_module_fails_with_one_line_naming_the_package(host):
    # containerd 1.4 keeps its mirrors in config.toml: that is the file the module cannot read.
    for name, path in (("no-reader-new", CONFIG_TOML), ("no-reader-existing", CONFIG_TOML),
                       ("no-reader-podman", DROPIN)):
        failed = result(host, name)
        assert failed["changed"] is False, failed
        msg = failed["msg"]
        assert "\n" not in msg, msg
        # containerd_hosts reads config.toml first (one plan for every registry): either file may be named
        named = msg.split(": Python 3.9 on this host has no TOML reader: install python3-tomli ", 1)[0]
        assert named in (path, "/etc/containerd/config.toml") and named != msg, msg
        assert "python3-toml (Debian 11)" in msg, msg


def test_without_a_toml_reader_no_file_is_written(host):
    before = host.file("/var/tmp/bullseye/files-before").content_string
    assert HOSTS_TOML in before and DROPIN in before
    assert host.file("/var/tmp/bullseye/files-after").content_string == before
    assert not host.file("/etc/containerd/certs.d/quay.io").exists


def test_python3_toml_is_back(host):
    assert host.run("python3 -c 'import toml'").rc == 0
