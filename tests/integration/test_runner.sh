#!/usr/bin/env bash
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# usage: tests/integration/test_runner.sh   (make runner-test)
#
# The collection on the engine AWX / Ansible Automation Platform runs jobs with: ansible-runner, a private data
# dir (project/, inventory/, env/), the collection installed from the built tarball (not this checkout):
#  1. build the tarball, install it into a private collections path;
#  2. start a two-host test fleet (Debian 12 + Debian 13, tools/fleet.py, prefix `runner`; removed on exit,
#     also on failure or Ctrl-C);
#  3. `ansible-runner run DATA_DIR -p site.yml`, site.yml importing fleetops.docker_mirror.configure, with
#     env/extravars (mirror, docker_mirror_report_dir) and env/envvars (ANSIBLE_COLLECTIONS_PATH);
#  4. judge only from the runner's artifacts and the report: artifacts/ID/status "successful" and rc 0, the role's
#     tasks ran from the installed tarball, the fleet summary "docker_mirror: 2/2 hosts verified" in the job
#     events and stdout, docker_mirror.json with both hosts verdict ok, the JUnit report with no failure.
#
# RUNNER_TEST_MIRROR=ftp://127.0.0.1:5000 (a mirror dockerd refuses) shows the test failing: the job's status is
# "failed" and the summary reads 0/2. RUNNER_TEST_KEEP=1 leaves the fleet up for a look.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$root/.cache/runner-test
data=$work/data
prefix=runner
mirror=${RUNNER_TEST_MIRROR:-http://127.0.0.1:5000}
ident=configure
fqcn=fleetops.docker_mirror
fleet=(python3 "$root/tools/fleet.py")
export PATH=$root/.venv/bin:$PATH

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { printf -- '--- %s\n' "$*"; }

command -v ansible-runner >/dev/null || fail "ansible-runner is not in .venv: run \`make venv\` (requirements-dev.txt)"

cleanup() {
    local rc=$?
    if [[ -z ${RUNNER_TEST_KEEP:-} ]]; then
        "${fleet[@]}" down --prefix "$prefix" >/dev/null 2>&1 || echo "warning: fleet '$prefix' not removed" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$work" && mkdir -p "$work/dist" "$work/collections" "$work/report" \
    "$data/project" "$data/inventory" "$data/env"

step "build the tarball and install it into a private collections path"
(cd "$root" && ansible-galaxy collection build --force --output-path "$work/dist" >/dev/null)
tarball=$(echo "$work"/dist/fleetops-docker_mirror-*.tar.gz)
[[ -f $tarball ]] || fail "no tarball in $work/dist"
ANSIBLE_COLLECTIONS_PATH=$work/collections \
    ansible-galaxy collection install --force "$tarball" -p "$work/collections" >/dev/null
installed=$work/collections/ansible_collections/fleetops/docker_mirror
[[ -f $installed/MANIFEST.json ]] || fail "$fqcn is not installed under $work/collections"
echo "$(basename "$tarball") installed into $work/collections"

step "test fleet '$prefix': 2 hosts (debian12, debian13), inventory in the private data dir"
"${fleet[@]}" up --prefix "$prefix" --count 2 --images debian12,debian13 --replace \
    --inventory "$data/inventory/hosts.yml" >/dev/null

step "private data dir: project/site.yml, inventory/hosts.yml, env/extravars, env/envvars, env/settings"
cat >"$data/project/site.yml" <<EOF
- name: Configure the registry mirror (the collection's playbook, as an AWX project would import it)
  ansible.builtin.import_playbook: $fqcn.configure
EOF
# JSON is valid YAML: ansible-runner reads both files as YAML.
cat >"$data/env/extravars" <<EOF
{"docker_mirror_registry_mirrors": ["$mirror"], "docker_mirror_report_dir": "$work/report"}
EOF
# Only the installed tarball: this checkout's .collections (exported by the Makefile) must not be seen. The sys
# path stays scanned: the ansible package provides community.docker for the test fleet's connection, as an
# execution environment would.
cat >"$data/env/envvars" <<EOF
{"ANSIBLE_COLLECTIONS_PATH": "$work/collections", "ANSIBLE_CONFIG": "$work/ansible.cfg",
 "ANSIBLE_NOCOLOR": "1", "ANSIBLE_HOST_KEY_CHECKING": "False"}
EOF
printf '{"job_timeout": 600, "suppress_ansible_output": false}\n' >"$data/env/settings"
printf '[defaults]\nretry_files_enabled = false\n[connection]\npipelining = true\n' >"$work/ansible.cfg"

step "ansible-runner run $data -p site.yml --ident $ident"
runner_rc=0
(cd "$work" && env -u ANSIBLE_COLLECTIONS_PATH ansible-runner run "$data" -p site.yml --ident "$ident") \
    >"$work/runner.log" 2>&1 || runner_rc=$?
echo "ansible-runner exited $runner_rc (output: $work/runner.log)"

step "judge the job from its artifacts (artifacts/$ident: status, rc, stdout, job_events) and the report"
python3 - "$data/artifacts/$ident" "$work/report" "$installed" "$runner_rc" <<'EOF' || {
import glob, json, os, sys
import xml.etree.ElementTree as ET

artifacts, report_dir, installed, runner_rc = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
SUMMARY = "docker_mirror: 2/2 hosts verified"
problems = []

def read(name):
    with open(os.path.join(artifacts, name), encoding="utf-8") as f:
        return f.read()

status, rc, stdout = read("status").strip(), read("rc").strip(), read("stdout")
print(f"artifacts: status={status} rc={rc}, ansible-runner exit {runner_rc}")
if status != "successful" or rc != "0" or runner_rc != 0:
    problems.append(f"the job did not succeed: status {status!r}, rc {rc}, ansible-runner exit {runner_rc}")

events = []
for path in glob.glob(os.path.join(artifacts, "job_events", "*.json")):
    with open(path, encoding="utf-8") as f:
        events.append(json.load(f))
events.sort(key=lambda e: e.get("counter", 0))
print(f"job events: {len(events)}")
if not any(e.get("event") == "playbook_on_stats" for e in events):
    problems.append("no playbook_on_stats event: the job did not run to its end")

def message_lines(event):
    message = event.get("event_data", {}).get("res", {}).get("msg", [])
    return message if isinstance(message, list) else [str(message)]

# The role's summary task prints a list of lines, the first one "docker_mirror: V/N hosts verified ...".
summary_lines = next((lines for e in events if e.get("event") == "runner_on_ok"
                      for lines in [message_lines(e)] if lines and str(lines[0]).startswith("docker_mirror: ")), [])
print("fleet summary (job event): " + (" | ".join(summary_lines) or "none"))
if not any(line.startswith(SUMMARY) for line in summary_lines):
    problems.append(f"no job event holds the fleet summary {SUMMARY!r}")
if SUMMARY not in stdout:
    problems.append(f"the job's stdout lacks {SUMMARY!r}")

role_paths = {e["event_data"]["task_path"].rsplit(":", 1)[0] for e in events
              if e.get("event") == "playbook_on_task_start" and "/roles/docker_mirror/" in
              e.get("event_data", {}).get("task_path", "")}
outside = sorted(p for p in role_paths if not p.startswith(installed + os.sep))
if not role_paths:
    problems.append("no task of the role ran")
elif outside:
    problems.append(f"role tasks ran from outside the installed tarball: {outside}")
else:
    print(f"role tasks ran from the installed tarball ({len(role_paths)} task files under {installed})")

try:
    with open(os.path.join(report_dir, "docker_mirror.json"), encoding="utf-8") as f:
        report = json.load(f)
    verdicts = {h["host"]: h["verdict"] for h in report["hosts"]}
    print(f"docker_mirror.json: {report['verified']}/{report['total']} verified, {verdicts}")
    if len(verdicts) != 2 or set(verdicts.values()) != {"ok"} or report["verified"] != 2:
        problems.append(f"docker_mirror.json: expected 2 hosts with verdict ok, got {verdicts}")
    cases = ET.parse(os.path.join(report_dir, "docker_mirror.junit.xml")).getroot().iter("testcase")
    bad = [c.get("name") for c in cases if c.find("failure") is not None or c.find("error") is not None]
    if bad:
        problems.append(f"docker_mirror.junit.xml: failed test cases {bad}")
except (OSError, ValueError, KeyError, ET.ParseError) as error:
    problems.append(f"the report in {report_dir} is missing or unreadable: {error!r}")

for problem in problems:
    print("  - " + problem)
sys.exit(1 if problems else 0)
EOF
    tail -40 "$work/runner.log"
    fail "the ansible-runner job on the test fleet did not give the expected result (above)"
}
echo "PASS: $fqcn.configure through ansible-runner $(ansible-runner --version) from the tarball: 2/2 hosts verified"
