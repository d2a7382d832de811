# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the real daemon_json module in-process against temporary files.

Host probing is pointed at a fake tree (fake /proc, unit files, env files) and a fake
``dockerd`` script on PATH, so no real daemon, unit or file outside tmp_path is read.
"""

from __future__ import annotations

import json
import os
import stat
import typing as t

import pytest

from ansible.module_utils import basic

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _docker_host
from ansible_collections.fleetops.docker_mirror.plugins.modules import daemon_json

FAKE_DOCKERD = """#!/bin/sh
echo "$*" >> "$FAKE_DOCKER_LOG"
case "$1" in
  --version)
    echo "Docker version $FAKE_DOCKER_VERSION, build 0000000"
    exit 0 ;;
  --validate)
    if grep -q '"refuse-me"' "$3"; then
      echo "unable to configure the Docker daemon with file $3: the following directives don't match any configuration option: refuse-me" >&2
      exit 1
    fi
    echo "configuration OK"
    exit 0 ;;
esac
exit 2
"""
DAEMON_DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
# `docker info` prints $FAKE_DOCKER_INFO when set (dockerd answering), else what Docker 26.1's CLI does when
# dockerd is down: exit status 0 with a format, the error on stderr and in ServerErrors.
FAKE_DOCKER = """#!/bin/sh
echo "$*" >> "$FAKE_DOCKER_CLI_LOG"
if [ "$1" = info ]; then
  if [ -n "$FAKE_DOCKER_INFO" ]; then
    printf '%%s\\n' "$FAKE_DOCKER_INFO"
    exit 0
  fi
  echo '{"ID":"","ServerVersion":"","RegistryConfig":null,"ServerErrors":["%(down)s"]}'
  echo '%(down)s' >&2
  exit 0
fi
exit 1
""" % {"down": DAEMON_DOWN}


class ModuleExit(Exception):
    def __init__(self, result: dict[str, t.Any]) -> None:
        super().__init__(result)
        self.result = result


class Host(t.NamedTuple):
    root: str
    log: str
    default_docker: str
    dropin_dir: str
    proc: str
    bin_dir: str
    cli_log: str
    systemd_dir: str


@pytest.fixture
def fake_host(tmp_path, monkeypatch) -> Host:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("dockerd", FAKE_DOCKERD), ("docker", FAKE_DOCKER)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "dockerd.log"
    monkeypatch.setenv("PATH", "%s:%s" % (bin_dir, os.environ.get("PATH", "/usr/bin:/bin")))
    monkeypatch.setenv("FAKE_DOCKER_LOG", str(log))
    monkeypatch.setenv("FAKE_DOCKER_VERSION", "20.10.24+dfsg1")
    monkeypatch.setenv("FAKE_DOCKER_CLI_LOG", str(tmp_path / "docker-cli.log"))
    monkeypatch.delenv("FAKE_DOCKER_INFO", raising=False)
    monkeypatch.setattr(_docker_host, "SYSTEMD_RUN_DIR", str(tmp_path / "run-systemd-system"))
    etc = tmp_path / "etc"
    (etc / "docker.service.d").mkdir(parents=True)
    proc = tmp_path / "proc"
    proc.mkdir()
    monkeypatch.setattr(_docker_host, "PROC_ROOT", str(proc))
    monkeypatch.setattr(_docker_host, "UNIT_FILES", (str(etc / "docker.service"),))
    monkeypatch.setattr(_docker_host, "DROPIN_DIRS", (str(etc / "docker.service.d"),))
    monkeypatch.setattr(_docker_host, "ENV_FILES", (str(etc / "default-docker"), str(etc / "sysconfig-docker")))
    (etc / "docker.service").write_text("[Service]\nEnvironmentFile=-/etc/default/docker\n"
                                        "ExecStart=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS\n")
    (etc / "default-docker").write_text('#DOCKER_OPTS="--registry-mirror=https://old.example"\n')
    return Host(str(tmp_path), str(log), str(etc / "default-docker"), str(etc / "docker.service.d"), str(proc),
                str(bin_dir), str(tmp_path / "docker-cli.log"), str(tmp_path / "run-systemd-system"))


def add_running_dockerd(host: Host, args: list[str], pid: int = 4242) -> None:
    directory = os.path.join(host.proc, str(pid))
    os.makedirs(directory)
    with open(os.path.join(directory, "comm"), "w") as handle:
        handle.write("dockerd\n")
    with open(os.path.join(directory, "cmdline"), "wb") as handle:
        handle.write(b"\0".join(arg.encode() for arg in args) + b"\0")


def run(monkeypatch, host: Host, check_mode: bool = False, diff: bool = False, **params) -> dict[str, t.Any]:
    """Run the module; returns its result (``failed`` set on fail_json)."""
    args = dict(params, _ansible_check_mode=check_mode, _ansible_diff=diff,
                _ansible_remote_tmp=os.path.join(host.root, "remote_tmp"), _ansible_keep_remote_files=False)
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")

    def exit_json(self, **result):
        raise ModuleExit(dict(result, failed=False))

    def fail_json(self, msg, **result):
        raise ModuleExit(dict(result, msg=msg, failed=True))

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    with pytest.raises(ModuleExit) as info:
        daemon_json.main()
    return info.value.result


def write(path: str, text: str) -> bytes:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    with open(path, "rb") as handle:
        return handle.read()


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def log_lines(host: Host) -> list[str]:
    return read_bytes(host.log).decode().splitlines() if os.path.exists(host.log) else []


EXISTING = ('{\n    "log-driver": "json-file",\n    "log-opts": {"max-size": "10m"},\n'
            '    "runtimes": {"nvidia": {"path": "nvidia-container-runtime", "runtimeArgs": []}},\n'
            '    "labels": ["名前=値", "emoji=🐳"]\n}\n')
MIRROR = "https://mirror.gcr.io"


# --------------------------------------------------------------------------- creating and merging


def test_creates_missing_file_and_directory(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "etc-docker", "daemon.json")
    old_umask = os.umask(0o077)
    try:
        result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR])
    finally:
        os.umask(old_umask)
    assert result["changed"] and result["created"]
    assert read_bytes(path) == b'{\n  "registry-mirrors": [\n    "https://mirror.gcr.io"\n  ]\n}\n'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o755
    assert os.stat(path).st_uid == os.getuid()
    assert result["changed_keys"] == ["registry-mirrors"]
    assert result["reload_sufficient"] is True
    assert result["docker_version"] == "20.10.24+dfsg1"
    assert "backup_file" not in result and "diff" not in result
    assert os.listdir(os.path.dirname(path)) == ["daemon.json"], "no temp file left behind"


def test_new_file_honours_mode(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR], mode="0600")
    assert result["changed"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_mode_change_alone_is_a_change(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    write(path, '{"registry-mirrors": ["https://mirror.gcr.io"]}\n')
    os.chmod(path, 0o644)
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR], mode="0640")
    assert result["changed"] and result["changed_keys"] == []
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_merge_keeps_other_keys_and_indent_then_idempotent(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    write(path, EXISTING)
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR])
    assert result["changed"]
    text = read_bytes(path).decode()
    assert text.startswith('{\n    "log-driver"') and text.endswith("}\n")
    assert "名前=値" in text and "🐳" in text
    written = json.loads(text)
    assert list(written) == ["log-driver", "log-opts", "runtimes", "labels", "registry-mirrors"]
    assert {k: v for k, v in written.items() if k != "registry-mirrors"} == json.loads(EXISTING)
    before = os.stat(path).st_mtime_ns, read_bytes(path)
    for spelling in (MIRROR, MIRROR + "/"):
        again = run(monkeypatch, fake_host, path=path, registry_mirrors=[spelling])
        assert again["changed"] is False and again["changed_keys"] == []
        assert (os.stat(path).st_mtime_ns, read_bytes(path)) == before


def test_existing_slash_spelling_not_duplicated(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    original = write(path, '{\n\t"registry-mirrors": ["https://mirror.gcr.io/"]\n}\n')
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR, "https://b.example"])
    assert result["registry_mirrors"] == ["https://mirror.gcr.io/", "https://b.example"]
    assert read_bytes(path).startswith(b'{\n\t"registry-mirrors": [\n\t\t"https://mirror.gcr.io/"')
    assert original != read_bytes(path)


@pytest.mark.parametrize("content", ["", "  \n\t\n"])
def test_empty_file_is_empty_document(monkeypatch, fake_host, content: str) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    write(path, content)
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR])
    assert result["changed"] and not result["created"]
    assert json.loads(read_bytes(path)) == {"registry-mirrors": [MIRROR]}


def test_removing_last_mirror_keeps_empty_list(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    write(path, '{"debug": true, "registry-mirrors": ["https://mirror.gcr.io/"]}')
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR], state="absent")
    assert result["changed"] and result["mirrors_cleared"] is True
    assert read_bytes(path) == b'{"debug": true, "registry-mirrors": []}\n'
    again = run(monkeypatch, fake_host, path=path, registry_mirrors=[], state="absent", exclusive=True)
    assert again["changed"] is False and again["mirrors_cleared"] is False


def test_settings_and_insecure_registries(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    write(path, '{"storage-driver": "overlay2"}')
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=["http://10.0.0.5:5000"],
                 insecure_registries=["10.0.0.5:5000"], settings={"live-restore": True, "storage-driver": "overlay2"})
    assert result["changed_keys"] == ["registry-mirrors", "insecure-registries", "live-restore"]
    assert result["reload_sufficient"] is True
    assert result["insecure_registries"] == ["10.0.0.5:5000"]
    result = run(monkeypatch, fake_host, path=path, settings={"storage-driver": "zfs"})
    assert result["changed_keys"] == ["storage-driver"] and result["reload_sufficient"] is False


def test_absent_on_missing_file_creates_nothing(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "nothing", "daemon.json")
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR], state="absent")
    assert result["changed"] is False and result["created"] is False
    assert not os.path.exists(os.path.dirname(path))


# --------------------------------------------------------------------------- check mode, diff, backup


def test_check_mode_writes_nothing(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    original = write(path, EXISTING)
    mtime = os.stat(path).st_mtime_ns
    result = run(monkeypatch, fake_host, check_mode=True, path=path, registry_mirrors=[MIRROR], backup=True)
    assert result["changed"] and result["config"]["registry-mirrors"] == [MIRROR]
    assert read_bytes(path) == original and os.stat(path).st_mtime_ns == mtime
    assert "backup_file" not in result
    assert os.listdir(fake_host.root).count("daemon.json") == 1
    assert not [name for name in os.listdir(fake_host.root) if name.startswith(".daemon.json")]


def test_check_mode_new_file_creates_nothing(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "new-dir", "daemon.json")
    result = run(monkeypatch, fake_host, check_mode=True, diff=True, path=path, registry_mirrors=[MIRROR])
    assert result["changed"] and result["created"]
    assert not os.path.exists(os.path.dirname(path))
    assert result["diff"]["before"] == "" and MIRROR in result["diff"]["after"]


def test_diff_is_pretty_json(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    write(path, '{"debug": false}')
    result = run(monkeypatch, fake_host, diff=True, path=path, registry_mirrors=[MIRROR])
    assert result["diff"] == {
        "before": '{\n  "debug": false\n}\n',
        "after": '{\n  "debug": false,\n  "registry-mirrors": [\n    "https://mirror.gcr.io"\n  ]\n}\n',
        "before_header": path,
        "after_header": path,
    }


def test_backup(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    original = write(path, EXISTING)
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR], backup=True)
    assert read_bytes(result["backup_file"]) == original
    again = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR], backup=True)
    assert "backup_file" not in again


# --------------------------------------------------------------------------- bad input leaves bytes identical

BAD_INPUTS = [
    ("not json", '{\n  "debug": true,\n  "labels": [\n}\n', dict(registry_mirrors=[MIRROR]),
     "cannot parse as JSON (line 4, column 1)"),
    ("top level list", '["https://mirror.gcr.io"]\n', dict(registry_mirrors=[MIRROR]),
     "top level must be a JSON object"),
    ("mirrors not a list", '{"registry-mirrors": "https://a.example"}\n', dict(registry_mirrors=[MIRROR]),
     '"registry-mirrors" must be a list of strings'),
    ("mirrors not strings", '{"registry-mirrors": [{"url": "x"}]}\n', dict(settings={"debug": True}),
     "item 0 is an object"),
    ("invalid utf-8", b'{"labels": ["\xff"]}\n', dict(registry_mirrors=[MIRROR]), "not valid UTF-8"),
    ("bad scheme", "{}\n", dict(registry_mirrors=["ftp://m.example"]), "invalid mirror 'ftp://m.example': unsupported scheme"),
    ("no scheme", "{}\n", dict(registry_mirrors=["mirror.gcr.io"]), "no scheme specified"),
    ("credentials", "{}\n", dict(registry_mirrors=["https://u:p@m.example"]), "username/password not allowed"),
    ("query", "{}\n", dict(registry_mirrors=["https://m.example/?x=1"]), "query or fragment"),
    ("path on old docker", "{}\n", dict(registry_mirrors=["https://m.example/cache"]), "Docker 25.0 or later"),
    ("bad insecure", "{}\n", dict(insecure_registries=["tcp://x"]), "should not contain '://'"),
    ("http mirror not insecure", "{}\n", dict(registry_mirrors=["http://10.0.0.5:5000"]),
     "needs '10.0.0.5:5000' in insecure-registries (add it to insecure_registries)"),
    ("mirror in settings", "{}\n", dict(settings={"registry-mirrors": [MIRROR]}),
     '"registry-mirrors" cannot be set through settings'),
    ("schema", '{"debug": true}\n', dict(settings={"live-restore": "yes"}),
     '["live-restore"]: \'yes\' is not of type \'boolean\''),
]


@pytest.mark.parametrize("name, content, params, fragment", BAD_INPUTS, ids=[row[0] for row in BAD_INPUTS])
def test_bad_input_leaves_file_unchanged(monkeypatch, fake_host, name, content, params, fragment) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    with open(path, "wb") as handle:
        handle.write(content if isinstance(content, bytes) else content.encode())
    original, mtime = read_bytes(path), os.stat(path).st_mtime_ns
    result = run(monkeypatch, fake_host, path=path, **params)
    assert result["failed"], result
    assert result["msg"].startswith(path + ": ")
    assert fragment in result["msg"]
    assert result["msg"].endswith("the file was left unchanged")
    assert read_bytes(path) == original and os.stat(path).st_mtime_ns == mtime
    assert sorted(os.listdir(fake_host.root)).count("daemon.json") == 1
    assert not [n for n in os.listdir(fake_host.root) if n.startswith(".daemon.json")]


def test_validate_false_skips_schema(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    write(path, "{}")
    result = run(monkeypatch, fake_host, path=path, settings={"live-restore": "yes"}, validate=False)
    assert result["changed"] and json.loads(read_bytes(path)) == {"live-restore": "yes"}
    assert result["validation"] == ["mirror URLs"]


def test_directory_at_path(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    os.mkdir(path)
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR])
    assert result["failed"] and "is a directory" in result["msg"] and "left unchanged" in result["msg"]


def test_unreadable_file(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    original = write(path, "{}")

    def deny(*args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(daemon_json, "open", deny, raising=False)
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR])
    assert result["failed"] and "cannot read the file: Permission denied" in result["msg"]
    assert read_bytes(path) == original


def test_parent_is_a_file(monkeypatch, fake_host) -> None:
    parent = os.path.join(fake_host.root, "plainfile")
    original = write(parent, "x")
    result = run(monkeypatch, fake_host, path=os.path.join(parent, "daemon.json"), registry_mirrors=[MIRROR])
    assert result["failed"] and "cannot create directory" in result["msg"]
    assert read_bytes(parent) == original


# --------------------------------------------------------------------------- flags given to dockerd


def test_flag_in_etc_default_docker(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    original = write(path, "{}")
    write(fake_host.default_docker, '# comment\nDOCKER_OPTS="--dns 1.1.1.1 --registry-mirror=https://old.example"\n')
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR])
    assert result["failed"]
    assert "--registry-mirror in %s line 2" % fake_host.default_docker in result["msg"]
    assert "dockerd would refuse to start" in result["msg"]
    assert read_bytes(path) == original


def test_flag_in_unit_dropin(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    original = write(path, "{}")
    dropin = os.path.join(fake_host.dropin_dir, "10-mirror.conf")
    write(dropin, "[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd -H fd:// --insecure-registry 10.0.0.5:5000\n")
    result = run(monkeypatch, fake_host, path=path, insecure_registries=["10.0.0.5:5000"])
    assert result["failed"] and "--insecure-registry in %s line 3" % dropin in result["msg"]
    assert read_bytes(path) == original
    # The mirror key does not clash with an insecure-registry flag.
    assert run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR])["changed"]


def test_flag_on_running_dockerd(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    original = write(path, "{}")
    add_running_dockerd(fake_host, ["/usr/sbin/dockerd", "-H", "fd://", "--registry-mirror", "https://x"])
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR])
    assert result["failed"] and "running dockerd command line (pid 4242)" in result["msg"]
    assert read_bytes(path) == original


def test_commented_flag_is_ignored(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR])
    assert result["changed"] and not result["failed"]


# --------------------------------------------------------------------------- dockerd --validate and versions


def test_dockerd_validate_used_on_docker_23_plus(monkeypatch, fake_host) -> None:
    monkeypatch.setenv("FAKE_DOCKER_VERSION", "24.0.7")
    add_running_dockerd(fake_host, ["/usr/sbin/dockerd", "-H", "fd://", "--config-file", "/etc/docker/daemon.json",
                                    "--containerd=/run/containerd/containerd.sock"])
    path = os.path.join(fake_host.root, "daemon.json")
    write(path, "{}")
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR])
    assert result["changed"] and "dockerd --validate" in result["validation"]
    validate_calls = [line for line in log_lines(fake_host) if line.startswith("--validate")]
    assert len(validate_calls) == 1
    argv = validate_calls[0].split()
    assert argv[1] == "--config-file" and os.path.dirname(argv[2]) == fake_host.root
    assert argv[3:] == ["-H", "fd://", "--containerd=/run/containerd/containerd.sock"]
    assert not os.path.exists(argv[2]), "candidate renamed into place"


def test_dockerd_validate_failure_leaves_file(monkeypatch, fake_host) -> None:
    monkeypatch.setenv("FAKE_DOCKER_VERSION", "26.1.5+dfsg1")
    path = os.path.join(fake_host.root, "daemon.json")
    original = write(path, '{"debug": true}\n')
    result = run(monkeypatch, fake_host, path=path, settings={"refuse-me": 1})
    assert result["failed"]
    assert "dockerd --validate rejected the resulting configuration" in result["msg"]
    assert "don't match any configuration option: refuse-me" in result["msg"]
    assert read_bytes(path) == original
    assert not [n for n in os.listdir(fake_host.root) if n.startswith(".daemon.json")]


def test_dockerd_validate_runs_in_check_mode_without_writing(monkeypatch, fake_host) -> None:
    monkeypatch.setenv("FAKE_DOCKER_VERSION", "25.0.0")
    path = os.path.join(fake_host.root, "daemon.json")
    original = write(path, "{}")
    result = run(monkeypatch, fake_host, check_mode=True, path=path, registry_mirrors=[MIRROR])
    assert result["changed"] and read_bytes(path) == original
    assert [line for line in log_lines(fake_host) if line.startswith("--validate")]


def test_dockerd_validate_not_used_on_20_10(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR])
    assert result["changed"] and "dockerd --validate" not in result["validation"]
    assert log_lines(fake_host) == ["--version"]


@pytest.mark.parametrize("version, allowed", [("26.1.5+dfsg1", True), ("25.0.3", True), ("24.0.7", False),
                                              ("unknown", False)])
def test_mirror_path_depends_on_docker_version(monkeypatch, fake_host, version: str, allowed: bool) -> None:
    monkeypatch.setenv("FAKE_DOCKER_VERSION", version)
    path = os.path.join(fake_host.root, "daemon.json")
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=["https://m.example/v2/cache"])
    assert result["failed"] is (not allowed)
    if version == "unknown":
        assert result.get("docker_version") is None
        assert "version is unknown" in result["msg"]


# --------------------------------------------------------------------------- live daemon (docker info)


def dockerd_answers(monkeypatch, version: str = "26.1.5+dfsg1", mirrors: list[str] | None = None) -> None:
    info = {"ID": "abc", "ServerVersion": version, "RegistryConfig": {"Mirrors": mirrors}}
    monkeypatch.setenv("FAKE_DOCKER_INFO", json.dumps(info))


def remove_docker_cli(monkeypatch, host: Host) -> None:
    """No docker command: only the fake bin directory is searched (the machine running the tests may have one)."""
    os.unlink(os.path.join(host.bin_dir, "docker"))

    def get_bin_path(self, name, *args, **kwargs):
        candidate = os.path.join(host.bin_dir, name)
        return candidate if os.path.exists(candidate) else None

    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", get_bin_path)


def test_docker_info_gives_version_and_live_mirrors(monkeypatch, fake_host) -> None:
    dockerd_answers(monkeypatch, "26.1.5+dfsg1", ["https://mirror.gcr.io/"])
    path = os.path.join(fake_host.root, "daemon.json")
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=["https://m.example/v2/cache"])
    assert result["changed"] and result["daemon_running"] is True
    assert result["live_mirrors"] == ["https://mirror.gcr.io/"]
    assert result["docker_version"] == "26.1.5+dfsg1", "the running daemon's version, not dockerd --version's"
    assert "--version" not in log_lines(fake_host)
    assert "dockerd --validate" in result["validation"], "26.1 from docker info enables --validate"
    assert read_bytes(fake_host.cli_log).decode().splitlines() == ["info --format {{json .}}"]


def test_docker_info_without_mirrors(monkeypatch, fake_host) -> None:
    dockerd_answers(monkeypatch, "24.0.7", None)
    result = run(monkeypatch, fake_host, path=os.path.join(fake_host.root, "daemon.json"), registry_mirrors=[MIRROR])
    assert result["daemon_running"] is True and result["live_mirrors"] == []


def test_dockerd_not_answering(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR])
    assert result["changed"] and not result["failed"]
    assert result["daemon_running"] is False and result["live_mirrors"] is None
    assert result["docker_version"] == "20.10.24+dfsg1", "falls back to dockerd --version"


def test_no_docker_cli(monkeypatch, fake_host) -> None:
    remove_docker_cli(monkeypatch, fake_host)
    result = run(monkeypatch, fake_host, path=os.path.join(fake_host.root, "daemon.json"), registry_mirrors=[MIRROR])
    assert result["changed"] and result["daemon_running"] is False and result["live_mirrors"] is None
    assert not os.path.exists(fake_host.cli_log)


REQUIRE_DAEMON_FAILURES = [
    ("no docker command", "Docker is not installed (no docker command)"),
    ("dockerd down", "dockerd is not answering: " + DAEMON_DOWN),
]


@pytest.mark.parametrize("existing", [True, False], ids=["existing file", "missing file"])
@pytest.mark.parametrize("check_mode", [False, True], ids=["real", "check"])
@pytest.mark.parametrize("case, reason", REQUIRE_DAEMON_FAILURES, ids=[row[0] for row in REQUIRE_DAEMON_FAILURES])
def test_require_daemon_fails_before_writing(monkeypatch, fake_host, case, reason, check_mode, existing) -> None:
    if case == "no docker command":
        remove_docker_cli(monkeypatch, fake_host)
    path = os.path.join(fake_host.root, "etc-docker", "daemon.json")
    if existing:
        os.mkdir(os.path.dirname(path))
        original = write(path, EXISTING)
        mtime = os.stat(path).st_mtime_ns
    result = run(monkeypatch, fake_host, check_mode=check_mode, path=path, registry_mirrors=[MIRROR],
                 require_daemon=True, backup=True)
    assert result["failed"]
    assert result["msg"] == "%s: %s — the file was left unchanged" % (path, reason)
    if existing:
        assert read_bytes(path) == original and os.stat(path).st_mtime_ns == mtime
        assert os.listdir(os.path.dirname(path)) == ["daemon.json"], "no backup, no temp file"
    else:
        assert not os.path.exists(os.path.dirname(path))
    assert "--validate" not in " ".join(log_lines(fake_host))


def test_require_daemon_when_dockerd_answers(monkeypatch, fake_host) -> None:
    dockerd_answers(monkeypatch, "26.1.5+dfsg1", [])
    path = os.path.join(fake_host.root, "daemon.json")
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR], require_daemon=True)
    assert result["changed"] and result["daemon_running"] is True and result["live_mirrors"] == []
    assert json.loads(read_bytes(path)) == {"registry-mirrors": [MIRROR]}


# --------------------------------------------------------------------------- previous_content, service_manager


def test_previous_content_of_changed_file(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    original = write(path, EXISTING)
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR])
    assert result["changed"] and result["created"] is False
    assert result["previous_content"].encode("utf-8") == original
    again = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR])
    assert again["changed"] is False and again["previous_content"] is None


def test_previous_content_of_new_file(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR])
    assert result["changed"] and result["created"] is True and result["previous_content"] is None


def test_previous_content_in_check_mode(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    original = write(path, '{"debug": true}')
    result = run(monkeypatch, fake_host, check_mode=True, path=path, registry_mirrors=[MIRROR])
    assert result["changed"] and result["previous_content"] == '{"debug": true}'
    assert read_bytes(path) == original


def test_previous_content_of_empty_file(monkeypatch, fake_host) -> None:
    path = os.path.join(fake_host.root, "daemon.json")
    write(path, "")
    result = run(monkeypatch, fake_host, path=path, registry_mirrors=[MIRROR])
    assert result["changed"] and result["created"] is False and result["previous_content"] == ""


@pytest.mark.parametrize("systemd, expected", [(True, "systemd"), (False, "service")])
def test_service_manager(monkeypatch, fake_host, systemd: bool, expected: str) -> None:
    if systemd:
        os.mkdir(fake_host.systemd_dir)
    result = run(monkeypatch, fake_host, path=os.path.join(fake_host.root, "daemon.json"), registry_mirrors=[MIRROR])
    assert result["service_manager"] == expected
