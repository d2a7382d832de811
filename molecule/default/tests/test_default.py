"""After converge (and the idempotence run): the file's bytes, the live daemon, the container, a pull.

Each test asserts what the role did to the host: the bytes of daemon.json against the starting text that
prepare recorded, what the running dockerd reports and logged, the start time of a container running since
before the role, and a plain `docker pull` served by the host's mirror.
"""

import difflib
import json
import os

MIRROR = "http://127.0.0.1:5000/"
INITIAL = "/var/tmp/fleet-initial-daemon.json"  # the starting daemon.json, written by prepare (absent: no file)
RELOAD_LOGGED = "Got signal to reload configuration"
# The controller's report of the last run (the idempotence run, which Molecule fails on any changed task).
REPORT = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "report", "docker_mirror.json")


def docker_info(host):
    return json.loads(host.check_output("docker info --format '{{json .}}'"))


def initial_text(host):
    initial = host.file(INITIAL)
    return initial.content_string if initial.exists else None


def normalised(mirrors):
    return [mirror.rstrip("/") + "/" for mirror in mirrors]


def needed_a_change(host):
    text = initial_text(host)
    return text is None or normalised(json.loads(text).get("registry-mirrors", [])) != [MIRROR]


def test_docker_runs_the_version_of_the_host(host):
    assert host.service("docker").is_running
    expected_major = {"bookworm": 20, "trixie": 26}[host.system_info.codename]
    assert int(docker_info(host)["ServerVersion"].split(".")[0]) == expected_major


def test_file_bytes(host):
    current = host.file("/etc/docker/daemon.json").content_string
    initial = initial_text(host)
    if initial is None:  # no file before: a new one holding only the mirror
        document = json.loads(current)
        assert list(document) == ["registry-mirrors"] and normalised(document["registry-mirrors"]) == [MIRROR]
        assert current.endswith("}\n") and "\n  " in current, "not indented JSON with a final newline: " + current
        return
    if not needed_a_change(host):  # the mirror was already there (without its "/"): not rewritten at all
        assert current == initial
        return
    # Only the registry-mirrors key was added: every starting line is still there, byte for byte, except the
    # line that ended the last key, which may now end with a comma.
    current_lines = current.splitlines()
    removed = [line[2:] for line in difflib.ndiff(initial.splitlines(), current_lines) if line.startswith("- ")]
    assert all(line + "," in current_lines for line in removed), "\n".join(
        difflib.unified_diff(initial.splitlines(), current_lines, "before", "after", lineterm=""))
    before, after = json.loads(initial), json.loads(current)
    assert list(after) == list(before) + ["registry-mirrors"], "keys added, removed or reordered"
    assert normalised(after["registry-mirrors"]) == [MIRROR]


def test_file_owner_and_mode(host):
    daemon_json = host.file("/etc/docker/daemon.json")
    assert daemon_json.user == "root" and daemon_json.mode == 0o644


def test_nothing_left_beside_the_file(host):
    # Temporary files, backups (docker_mirror_backup is false) and the rollback copy kept while Docker took
    # the change (.daemon.json.docker_mirror-previous) are all gone once the run succeeded.
    leftovers = host.check_output(
        "find /etc/docker -maxdepth 1 \\( -name '.*' -o -name '*daemon.json?*' \\) -printf '%f\\n'")
    assert leftovers == ""


def test_mirror_is_live(host):
    assert docker_info(host)["RegistryConfig"]["Mirrors"] == [MIRROR]


def test_reloaded_once_only_where_needed_never_restarted(host):
    # converge + idempotence: one SIGHUP where the file changed, none on the host that already had the mirror.
    journal = host.check_output("journalctl -u docker --no-pager -o cat")
    assert journal.count(RELOAD_LOGGED) == (1 if needed_a_change(host) else 0), journal[-3000:]
    started = host.check_output("docker inspect --format '{{.State.StartedAt}}' app")
    assert host.check_output("docker inspect --format '{{.State.Running}}' app") == "true"
    assert started == host.file("/var/tmp/fleet-app-started").content_string.strip(), "the container restarted"


def test_plain_pull_is_served_by_the_mirror(host):
    host.run("docker rmi -f hello:1")
    since = host.check_output("date +%s")
    pull = host.run("docker pull hello:1")
    assert pull.rc == 0, pull.stderr
    log = host.check_output(f"journalctl -u docker-registry --since @{since} --no-pager -o cat")
    assert "/v2/library/hello/manifests/1" in log, log


def test_report_of_the_idempotence_run(host):
    with open(REPORT, encoding="utf-8") as handle:
        report = json.load(handle)
    assert report["counts"] == {"ok": 3} and report["verified"] == report["total"] == 3
    assert [entry["file_changed"] for entry in report["hosts"]] == [False] * 3
