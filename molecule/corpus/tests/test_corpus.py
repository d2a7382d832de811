"""Judge, file by file, what converge.yml recorded on each host (Docker 20.10 on Debian 12, 26.1 on Debian 13).

Every corpus file is either
- accepted: the module wrote it, keeping every byte of the members it does not manage (compared with the
  fixture's own bytes), its diff is the file's real text, a second run changes nothing (bytes, mtime, inode),
  and dockerd takes the written file (`dockerd --validate` on 23+; on 20.10 a throwaway dockerd, see
  DOCKERD_CHECK); or
- refused: the module failed with "<path>: <cause> — the file was left unchanged", naming the cause, and the
  file is byte-identical (and not even touched: mtime and inode kept).
REFUSED says which files must be refused, and why. No result may hold a password, ever.
"""

from __future__ import annotations

import base64
import json
import pathlib
import re

import pytest

SCENARIO = pathlib.Path(__file__).resolve().parents[1]
CORPUS = SCENARIO.parents[1] / "tests" / "unit" / "fixtures" / "daemon_json"
NAMES = sorted(p.name for p in CORPUS.glob("*.json"))

# Constants of vars/corpus.yml.
HOST_DIR = "/etc/docker/corpus"
RECORD = "/var/tmp/corpus-record.json"
MIRROR = "http://127.0.0.1:5000"
SECRET_DIR = "/etc/docker/corpus-secret"
SECRET_SOURCE = "log_options.json"

MANAGED = ("registry-mirrors", "insecure-registries")
SECRETS = ("Pr0xyPW", "s3cr3t")  # the passwords in proxies_password.json and in the secret mirror case
LEFT_UNCHANGED = " — the file was left unchanged"

# File -> (first Docker release that accepts it, or None: refused by every release; the cause the message names).
REFUSED = {
    "refused_deep_nesting.json": (None, r'nesting deeper than \d+ levels.*"deep"'),
    "refused_duplicate_nested.json": (None, r'"log-opts".*duplicate key "max-size"'),
    "refused_duplicate_top.json": (None, r'duplicate key "registry-mirrors"'),
    "refused_infinity.json": (None, r'"x".*-Infinity'),
    "refused_lone_surrogate.json": (None, r'"registry-mirrors".*lone surrogate'),
    "refused_nan.json": (None, r'"x".*NaN'),
    "refused_overflow.json": (None, r'"x".*1e400.*out of range'),
    # dockerd flattens nested objects, so its own words name the members ("ticket, ratio, ...").
    "unknown_keys.json": (None, r"x-fleet-metadata|\bticket\b"),
    # `proxies` exists since Docker 23.0; 20.10 refuses its members as unknown directives.
    "proxies_password.json": ((23, 0), r"proxies|http-proxy"),
}

# The throwaway dockerd gets these as flags, and dockerd refuses a setting given both ways: a file holding one
# of them cannot be checked that way (storage_options.json: "data-root"), and is skipped for that check only.
RECIPE_FLAG_KEYS = {"data-root", "exec-root", "pidfile", "hosts", "containerd"}

# Which dockerd takes which file, run on the host on every written file at once. 23+: `dockerd --validate`.
# 20.10 has no --validate: a throwaway dockerd in private namespaces with its own roots and socket
# (/work/shared/ENVIRONMENT.md); "unable to configure the Docker daemon with file" before it starts = refused;
# its pidfile (written right after the configuration loaded, whatever the log level) or "Starting up" =
# accepted, and it is killed then. Anything else within the deadline is reported as undecided.
DOCKERD_CHECK = r"""
import json, os, subprocess, sys, tempfile, time
mode, paths = sys.argv[1], json.loads(sys.argv[2])
verdicts = {}
if mode == "validate":
    for path in paths:
        run = subprocess.run(["dockerd", "--validate", "--config-file", path], capture_output=True, text=True)
        verdicts[path] = {"verdict": "accepted" if run.returncode == 0 else "refused",
                          "words": (run.stdout + run.stderr).strip()}
    print(json.dumps(verdicts))
    sys.exit(0)
work = tempfile.mkdtemp(prefix="corpus-dockerd.", dir="/var/tmp")
running = {}
for index, path in enumerate(paths):
    root = os.path.join(work, str(index))
    os.mkdir(root)
    log = open(os.path.join(root, "log"), "w+")
    argv = ["unshare", "-mnpf", "--kill-child", "--mount-proc", "dockerd", "--config-file", path,
            "--data-root", root + "/d", "--exec-root", root + "/e", "--pidfile", root + "/p",
            "-H", "unix://" + root + "/s.sock", "--containerd", root + "/none.sock"]
    running[path] = (subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT), root, log)
deadline = time.monotonic() + 60
while running and time.monotonic() < deadline:
    for path, (process, root, log) in list(running.items()):
        log.seek(0)
        words = log.read()
        loaded = os.path.exists(root + "/p") or 'msg="Starting up"' in words
        if process.poll() is None and not loaded:
            continue
        process.kill()
        process.wait()
        refused = "unable to configure the Docker daemon with file" in words
        verdicts[path] = {"verdict": "refused" if refused else "accepted" if loaded else "undecided",
                          "words": words.strip()[-2000:]}
        del running[path]
    time.sleep(0.2)
for path, (process, root, log) in running.items():
    process.kill()
    process.wait()
    log.seek(0)
    verdicts[path] = {"verdict": "undecided", "words": "still running after 60 s: " + log.read()[-2000:]}
subprocess.run(["rm", "-rf", work])
print(json.dumps(verdicts))
"""
# Two files beside the corpus prove the check itself can say no.
CONTROL_DIR = "/var/tmp/corpus-controls"
CONTROLS = {
    "control_good.json": '{"registry-mirrors": ["%s"], "log-level": "warn"}\n' % MIRROR,
    "control_bad.json": '{"registry-mirrors": ["%s"], "no-such-key": 1}\n' % MIRROR,
}

corpus_file = pytest.mark.parametrize("name", NAMES)


# --------------------------------------------------------------------------- reading the fixtures


def fixture_bytes(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def fixture_text(name: str) -> str:
    return fixture_bytes(name).decode("utf-8")


def parse(text: str) -> dict:
    """As dockerd 23+ and the module: empty or whitespace-only text is {}."""
    return json.loads(text) if text.strip() else {}


def skip_ws(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def members(text: str) -> list[tuple[str, str]]:
    """(key, exact text from the key's opening quote to the end of its value) of each top-level member."""
    decoder = json.JSONDecoder()
    index = skip_ws(text, 0)
    if index == len(text):
        return []
    assert text[index] == "{", text
    found = []
    index = skip_ws(text, index + 1)
    while text[index] != "}":
        start = index
        key, index = json.decoder.scanstring(text, index + 1)
        index = skip_ws(text, index)
        assert text[index] == ":", text[start:index + 1]
        _, index = decoder.raw_decode(text, skip_ws(text, index + 1))
        found.append((key, text[start:index]))
        index = skip_ws(text, index)
        if text[index] == ",":
            index = skip_ws(text, index + 1)
    return found


def line_indent(text: str, member_text: str) -> str:
    """Whitespace before a member on its line ('' when it does not start a line)."""
    start = text.index(member_text)
    line_start = text.rfind("\n", 0, start) + 1
    prefix = text[line_start:start]
    return prefix if not prefix.strip() else ""


# --------------------------------------------------------------------------- what converge recorded


def host_id(host) -> str:
    return host.backend.get_hostname()


def version_tuple(text: str) -> tuple[int, int]:
    match = re.search(r"(\d+)\.(\d+)", text)
    assert match, text
    return int(match.group(1)), int(match.group(2))


@pytest.fixture(scope="module")
def docker_release(host) -> tuple[int, int]:
    return version_tuple(host.check_output("dockerd --version"))


@pytest.fixture(scope="module")
def record(host) -> dict:
    return json.loads(host.file(RECORD).content_string)


@pytest.fixture(scope="module")
def runs(record) -> dict[str, tuple[dict, dict]]:
    """Corpus name -> (first run's result, second run's result)."""
    first = {result["item"]: result for result in record["run1"]}
    second = {result["item"]: result for result in record["run2"]}
    return {name: (first[name], second[name]) for name in first}


def snapshot(record: dict, when: str, name: str, directory: str = HOST_DIR) -> dict:
    return record[when][directory][name]


def snapshot_bytes(record: dict, when: str, name: str, directory: str = HOST_DIR) -> bytes:
    return base64.b64decode(snapshot(record, when, name, directory)["b64"])


def accepted(result: dict) -> bool:
    """A module success returns changed_keys; a failure (kept by failed_when: false) does not."""
    return "changed_keys" in result


def expected_refusal(name: str, release: tuple[int, int]) -> str | None:
    """The cause a refusal of ``name`` must name on this Docker release, or None when it must be accepted."""
    if name not in REFUSED:
        return None
    accepted_from, cause = REFUSED[name]
    return None if accepted_from and release >= accepted_from else cause


def result_without_echo(result: dict) -> dict:
    """The result minus what Ansible adds around it (the loop item, the failed_when bookkeeping)."""
    return {key: value for key, value in result.items()
            if key not in ("item", "ansible_loop_var", "failed_when_result", "failed")}


@pytest.fixture(scope="module")
def dockerd_verdicts(host, runs, docker_release) -> dict[str, dict]:
    """Written path (and control path) -> {"verdict", "words"}, from the host's own dockerd."""
    host.run_expect([0], "mkdir -p %s", CONTROL_DIR)
    for name, text in CONTROLS.items():
        host.run_expect([0], "printf %%s %s > %s/%s", text, CONTROL_DIR, name)
    mode = "validate" if docker_release >= (23, 0) else "throwaway"
    paths = [f"{CONTROL_DIR}/{name}" for name in CONTROLS] + [
        f"{HOST_DIR}/{name}" for name, (first, _) in runs.items()
        if accepted(first) and (mode == "validate" or not recipe_flag_keys(name))]
    output = host.check_output("python3 -c %s %s %s", DOCKERD_CHECK, mode, json.dumps(paths))
    return json.loads(output)


def recipe_flag_keys(name: str) -> set[str]:
    return RECIPE_FLAG_KEYS & set(parse(fixture_text(name)))


# --------------------------------------------------------------------------- the hosts and the copies


def test_hosts_run_the_expected_docker_releases(host, docker_release, runs):
    expected = {"mol-corpus-d12": (20, 10), "mol-corpus-d13": (26, 1)}[host_id(host)]
    assert docker_release == expected
    reported = {first["docker_version"] for first, _ in runs.values() if accepted(first)}
    assert {version_tuple(version) for version in reported} == {expected}, reported


def test_every_corpus_file_ran(runs):
    assert sorted(runs) == NAMES


@corpus_file
def test_copy_on_host_is_byte_for_byte(record, name):
    assert snapshot_bytes(record, "before", name) == fixture_bytes(name)


@corpus_file
def test_module_accepts_or_refuses_as_expected(runs, docker_release, name):
    first, _ = runs[name]
    cause = expected_refusal(name, docker_release)
    if cause:
        assert not accepted(first), (
            f"Docker {docker_release}: the module wrote {name}, which it must refuse ({cause}): "
            f"{result_without_echo(first)}")
    else:
        assert accepted(first), f"Docker {docker_release}: the module refused {name}: {first.get('msg')}"


@corpus_file
def test_no_traceback(runs, name):
    for result in runs[name]:
        assert "module_stderr" not in result and "Traceback" not in json.dumps(result), result


@corpus_file
def test_no_password_in_any_result(runs, name):
    for result in runs[name]:
        text = json.dumps(result, ensure_ascii=False)
        assert not [secret for secret in SECRETS if secret in text], text


def test_nothing_left_behind_in_the_directories(record):
    """No temporary file, backup, previous copy or lock file: the directories hold what was copied."""
    for directory in (HOST_DIR, SECRET_DIR):
        assert sorted(record["after_run2"][directory]) == sorted(record["before"][directory])


# --------------------------------------------------------------------------- accepted files


def written(record: dict, runs: dict, name: str) -> str:
    if not accepted(runs[name][0]):
        pytest.skip(f"the module refused {name}: nothing written")
    return snapshot_bytes(record, "after_run1", name).decode("utf-8")


@corpus_file
def test_members_not_managed_keep_every_byte(record, runs, name):
    original, result = fixture_text(name), written(record, runs, name)
    kept = [(key, text) for key, text in members(original) if key not in MANAGED]
    result_members = members(result)
    assert [key for key, _ in result_members if key not in MANAGED] == [key for key, _ in kept], "key order"
    result_texts = dict(result_members)
    for key, text in kept:
        assert result_texts[key] == text, f"member {key!r} was rewritten"


@corpus_file
def test_layout_is_the_files_own(record, runs, name):
    original, result = fixture_text(name), written(record, runs, name)
    if "\r\n" in original:
        assert result.count("\n") == result.count("\r\n"), "CRLF file got LF line ends"
    else:
        assert "\r" not in result, "LF file got CR"
    if not original.strip():
        return  # nothing to keep: an empty file becomes indented JSON
    assert result[result.rindex("}"):] == original[original.rindex("}"):], "text after the closing brace"
    if "\n" not in original.strip():
        assert "\n" not in result.strip(), "one-line file was reflowed"
    else:
        indents = {line_indent(result, text) for _, text in members(result)}
        assert len(indents) == 1, f"the new member is not indented like the others: {indents}"


@corpus_file
def test_mirror_is_added_after_existing_ones(record, runs, name):
    result = parse(written(record, runs, name))
    assert result["registry-mirrors"] == parse(fixture_text(name)).get("registry-mirrors", []) + [MIRROR]
    assert runs[name][0]["registry_mirrors"] == result["registry-mirrors"]


@corpus_file
def test_diff_is_the_real_text_before_and_after(record, runs, name):
    after = written(record, runs, name)
    if any(secret.encode() in fixture_bytes(name) for secret in SECRETS):
        pytest.skip("a file with a password: its diff is masked (test_proxies_password_stays_on_the_host)")
    diff = runs[name][0]["diff"]
    assert diff["before"] == fixture_text(name)
    assert diff["after"] == after
    assert diff["before_header"] == diff["after_header"] == f"{HOST_DIR}/{name}"


@corpus_file
def test_second_run_changes_nothing(record, runs, name):
    written(record, runs, name)
    second = runs[name][1]
    assert second.get("changed") is False and second.get("changed_keys") == [], result_without_echo(second)
    assert snapshot(record, "after_run2", name) == snapshot(record, "after_run1", name), "bytes, mtime or inode"


def test_dockerd_check_can_refuse(dockerd_verdicts):
    verdicts = {name: dockerd_verdicts[f"{CONTROL_DIR}/{name}"] for name in CONTROLS}
    assert verdicts["control_good.json"]["verdict"] == "accepted", verdicts
    assert verdicts["control_bad.json"]["verdict"] == "refused", verdicts
    assert "no-such-key" in verdicts["control_bad.json"]["words"], verdicts


@corpus_file
def test_dockerd_accepts_the_written_file(record, runs, docker_release, dockerd_verdicts, name):
    written(record, runs, name)
    if docker_release < (23, 0) and recipe_flag_keys(name):
        pytest.skip(f"holds {sorted(recipe_flag_keys(name))}, which the throwaway dockerd takes as flags")
    verdict = dockerd_verdicts[f"{HOST_DIR}/{name}"]
    assert verdict["verdict"] == "accepted", f"dockerd {docker_release} on the written {name}: {verdict}"


def test_proxies_password_stays_on_the_host(record, runs, docker_release):
    """Docker 23+: written; the password is in the file (not ours to rewrite), never in the result or diff."""
    name = "proxies_password.json"
    if docker_release < (23, 0):
        pytest.skip("Docker before 23.0 refuses proxies (test_module_accepts_or_refuses_as_expected)")
    after = written(record, runs, name)
    first = runs[name][0]
    assert "Pr0xyPW" in after and "Pr0xyPW" in fixture_text(name)
    assert "Pr0xyPW" not in json.dumps(first)
    diff = first["diff"]
    assert "xxxxx" in diff["before"] and "xxxxx" in diff["after"]

    def without_proxy_lines(text):
        return [line for line in text.splitlines() if 'proxy"' not in line]

    # Masking aside, the diff is the real text: every line without a proxy member is the file's own.
    assert without_proxy_lines(diff["before"]) == without_proxy_lines(fixture_text(name))
    assert without_proxy_lines(diff["after"]) == without_proxy_lines(after)


# --------------------------------------------------------------------------- refused files


def refusal(runs: dict, name: str) -> str:
    first, second = runs[name]
    if accepted(first):
        pytest.skip(f"the module accepted {name}")
    assert not accepted(second), f"refused once, accepted on the second run: {result_without_echo(second)}"
    assert second["msg"].startswith(f"{HOST_DIR}/{name}: "), second["msg"]
    return first["msg"]


@corpus_file
def test_refusal_names_the_file_and_the_cause(runs, docker_release, name):
    message = refusal(runs, name)
    assert message.startswith(f"{HOST_DIR}/{name}: "), message
    assert message.endswith(LEFT_UNCHANGED), message
    cause = expected_refusal(name, docker_release)
    if cause:
        assert re.search(cause, message), f"the cause /{cause}/ is not named: {message}"


@corpus_file
def test_refused_file_is_untouched(record, runs, name):
    refusal(runs, name)
    assert snapshot_bytes(record, "after_run2", name) == fixture_bytes(name)
    for when in ("after_run1", "after_run2"):
        assert snapshot(record, when, name) == snapshot(record, "before", name), f"{when}: bytes, mtime or inode"


def test_password_in_a_mirror_url_is_masked(record):
    """The user's own argument is in `invocation` (Ansible shows it at -vvv only); nothing else may hold it."""
    result = record["secret_run"]
    assert not accepted(result), result
    message = result["msg"]
    assert message.startswith(f"{SECRET_DIR}/daemon.json: ") and message.endswith(LEFT_UNCHANGED), message
    assert "xxxxx@mirror.example" in message and "username/password" in message, message
    shown = json.dumps({key: value for key, value in result.items() if key != "invocation"})
    assert not [secret for secret in SECRETS if secret in shown], shown
    assert snapshot_bytes(record, "after_run1", "daemon.json", SECRET_DIR) == fixture_bytes(SECRET_SOURCE)
    assert (snapshot(record, "after_run1", "daemon.json", SECRET_DIR)
            == snapshot(record, "before", "daemon.json", SECRET_DIR))
