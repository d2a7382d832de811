"""Each corpus daemon.json as converge.yml left it on the host: every other key kept, the mirror added, and
the host's own dockerd starts with it as /etc/docker/daemon.json and reports the mirror.

dockerd is restarted twice per file (with the result, then without daemon.json), so that loop runs as one
script per host, on all hosts at once; each file still gets its own test and its own failure report."""

import concurrent.futures
import json
import pathlib

import pytest
import testinfra
import yaml

SCENARIO = pathlib.Path(__file__).resolve().parents[1]
CORPUS = SCENARIO.parents[1] / "tests" / "unit" / "fixtures" / "daemon_json"
EXCLUDED = yaml.safe_load((SCENARIO / "vars" / "corpus.yml").read_text(encoding="utf-8"))["corpus_excluded"]
NAMES = sorted(p.name for p in CORPUS.glob("*.json") if p.name not in EXCLUDED)
HOST_DIR = "/etc/docker/corpus"  # corpus_dest in vars/corpus.yml
MIRROR = "http://127.0.0.1:5000"
MIRRORS_KEY = "registry-mirrors"

# For each file: install it as daemon.json, restart dockerd, record whether it came up and its live mirrors
# (or why it refused), then remove daemon.json and restart again. One tab-separated line per file.
ACCEPT_SCRIPT = r"""
restart() {
    systemctl reset-failed docker.service  # the unit allows 3 starts a minute; this loop does many more
    systemctl restart docker.service 2>/dev/null && systemctl is-active -q docker.service
}
why() {
    journalctl -u docker.service -n 4 --no-pager -o cat | tr '\t\n' '  '
}
for path in "$@"; do
    install -m 0644 "$path" /etc/docker/daemon.json
    if restart; then
        printf '%s\taccepted\t%s\n' "$path" "$(docker info --format '{{json .RegistryConfig.Mirrors}}' 2>&1)"
    else
        printf '%s\trefused\t%s\n' "$path" "$(why)"
    fi
    rm -f /etc/docker/daemon.json
    restart || printf '%s\trestore failed\t%s\n' "$path" "$(why)"
done
"""

corpus_file = pytest.mark.parametrize("name", NAMES)


def parse(text):
    """As dockerd and the module: empty or whitespace-only text is {}."""
    return json.loads(text) if text.strip() else {}


def original(name):
    return parse((CORPUS / name).read_text(encoding="utf-8"))


def host_id(host):
    return host.backend.get_pytest_id()


def accept_on(host):
    paths = [f"{HOST_DIR}/{name}" for name in NAMES]
    result = host.run("sh -c %s corpus-accept" + " %s" * len(paths), ACCEPT_SCRIPT, *paths)
    lines = {}
    for line in result.stdout.splitlines():
        path, status, detail = line.split("\t", 2)
        lines.setdefault(path.rsplit("/", 1)[1], []).append((status, detail))
    return lines, result


@pytest.fixture(scope="session")
def all_hosts(request):
    option = request.config.option
    return testinfra.get_hosts(
        option.hosts.split(",") if option.hosts else [None], connection=option.connection,
        ansible_inventory=option.ansible_inventory, force_ansible=option.force_ansible)


@pytest.fixture(scope="session")
def acceptance(all_hosts):
    """host id -> ({corpus name: [(status, detail), ...]}, CommandResult), run on every host at once."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(all_hosts)) as pool:
        return dict(zip(map(host_id, all_hosts), pool.map(accept_on, all_hosts)))


@pytest.fixture(scope="module")
def merged_files(host):
    """Corpus name -> parsed file on this host, read in one command."""
    read_all = ("import glob, json, os; print(json.dumps({os.path.basename(p): open(p, encoding='utf-8').read() "
                f"for p in glob.glob('{HOST_DIR}/*.json')}}))")
    return {name: json.loads(text) for name, text in json.loads(host.check_output("python3 -c %s", read_all)).items()}


def test_corpus_is_not_empty():
    assert len(NAMES) >= 10, NAMES


@corpus_file
def test_every_other_key_is_kept(merged_files, name):
    before, after = original(name), merged_files[name]
    others_before = {key: value for key, value in before.items() if key != MIRRORS_KEY}
    others_after = {key: value for key, value in after.items() if key != MIRRORS_KEY}
    assert others_after == others_before
    assert list(others_after) == list(others_before), "key order changed"


@corpus_file
def test_mirror_is_added_after_existing_ones(merged_files, name):
    assert merged_files[name][MIRRORS_KEY] == original(name).get(MIRRORS_KEY, []) + [MIRROR]


@corpus_file
def test_dockerd_accepts_result_and_reports_mirror(host, acceptance, merged_files, name):
    lines, result = acceptance[host_id(host)]
    assert name in lines, f"no result for {name}: rc={result.rc} {result.stderr}"
    (status, detail), *restore = lines[name]
    assert status == "accepted", f"dockerd {status} {name}: {detail}"
    expected = [mirror.rstrip("/") + "/" for mirror in merged_files[name][MIRRORS_KEY]]
    assert detail.startswith("["), f"dockerd started with {name} but docker info failed: {detail}"
    assert json.loads(detail) == expected
    assert not restore, f"dockerd did not start again without daemon.json: {restore}"


def test_dockerd_runs_again_without_daemon_json(host, acceptance):
    assert not host.file("/etc/docker/daemon.json").exists
    assert host.service("docker").is_running
    assert host.check_output("docker info --format '{{json .RegistryConfig.Mirrors}}'") in ("[]", "null")
