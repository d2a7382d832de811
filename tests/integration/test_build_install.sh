#!/usr/bin/env bash
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# usage: tests/integration/test_build_install.sh   (make build-test)
#
# The release tarball works on its own: build it, install it with `ansible-galaxy collection install` into
# an empty collections path of a clean virtualenv that holds ansible-core only (no ansible package, no other
# collection, not this checkout), then use the module and the role by their full names:
#  0. the tarball holds only what a user runs: every entry is on the allow-list below (anything else, e.g.
#     demo/ or tests/, fails the test), the must-haves are there, and no cache or hidden file slipped in;
#  1. fleetops.docker_mirror.daemon_json (ad hoc, on the system python3: the module needs only the standard
#     library) adds a mirror to a daemon.json keeping its other keys, then changes nothing on a second run;
#  2. ansible-doc renders every module and the role's argument specs (entry points main and verify);
#  3. a playbook using the role with an invalid variable fails on the role's argument-spec validation,
#     before any task touches the host.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$root/.cache/build-test
ansible_core=${ANSIBLE_CORE_VERSION:-2.19.14}
fqcn=fleetops.docker_mirror

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { printf -- '--- %s\n' "$*"; }

rm -rf "$work" && mkdir -p "$work/dist" "$work/collections" "$work/run"

step "build"
(cd "$root" && "$root/.venv/bin/ansible-galaxy" collection build --force --output-path "$work/dist" >/dev/null)
tarball=$(echo "$work"/dist/fleetops-docker_mirror-*.tar.gz)
[[ -f $tarball ]] || fail "no tarball in $work/dist"
echo "$(basename "$tarball"): $(stat -c %s "$tarball") bytes, $(tar -tzf "$tarball" | grep -vc '/$') files"

step "the tarball holds only what a user runs (allow-list; build_ignore in galaxy.yml keeps the rest out)"
"$root/.venv/bin/python3" - "$tarball" <<'EOF' || fail "the tarball's file list is not the allow-list (see above)"
import sys, tarfile
# Top-level directories and files a user of the collection runs or reads; MANIFEST.json and FILES.json are
# written by ansible-galaxy. changelogs/ holds only changelog.yaml (the Ansible package's changelog is built
# from it); requirements.txt and bindep.txt are what meta/execution-environment.yml points ansible-builder at.
ALLOWED_DIRS = {"plugins", "roles", "playbooks", "meta", "docs"}
ALLOWED_FILES = {"MANIFEST.json", "FILES.json", "README.md", "COPYING", "CHANGELOG.md", "requirements.txt",
                 "bindep.txt", "changelogs", "changelogs/changelog.yaml"}
REQUIRED = {"MANIFEST.json", "FILES.json", "README.md", "COPYING", "CHANGELOG.md", "changelogs/changelog.yaml",
            "meta/runtime.yml", "plugins/modules", "roles/docker_mirror/tasks/main.yml", "playbooks/configure.yml"}
with tarfile.open(sys.argv[1]) as tar:
    names = [member.name.rstrip("/") for member in tar.getmembers() if member.name not in (".", "./")]
unexpected = [name for name in names if name.split("/")[0] not in ALLOWED_DIRS and name not in ALLOWED_FILES]
stray = [name for name in names
         if any(part.startswith(".") or part == "__pycache__" for part in name.split("/")) or name.endswith(".pyc")]
missing = sorted(REQUIRED - set(names))
for title, found in (("not on the allow-list", unexpected), ("hidden or cache files", stray), ("missing", missing)):
    if found:
        print(f"{title}: {len(found)}\n  " + "\n  ".join(sorted(found)[:40]))
print("top level: " + " ".join(sorted({name.split("/")[0] for name in names})))
sys.exit(1 if unexpected or stray or missing else 0)
EOF

step "clean virtualenv with ansible-core==$ansible_core only (pip's cache makes this quick)"
"$root/.venv/bin/python3" -m venv "$work/venv"
# (sed drops pip's warnings about this machine's unused extra index locations; pipefail keeps pip's status)
"$work/venv/bin/pip" install -q --disable-pip-version-check "ansible-core==$ansible_core" 2>&1 \
    | sed '/is ignored: it is neither a file nor a directory/d' 

# Nothing from the checkout: no ansible.cfg (run from an empty directory), only the new collections path.
bin=$work/venv/bin
export PATH=$bin:$PATH
export ANSIBLE_CONFIG=$work/run/ansible.cfg ANSIBLE_COLLECTIONS_PATH=$work/collections
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=false
export ANSIBLE_INVENTORY_UNPARSED_WARNING=false
printf '[defaults]\nstdout_callback = default\n' >"$ANSIBLE_CONFIG"
cd "$work/run"

step "ansible-galaxy collection install $(basename "$tarball")"
"$bin/ansible-galaxy" collection install --force "$tarball" -p "$work/collections" >/dev/null
"$bin/ansible-galaxy" collection list "$fqcn" -p "$work/collections" | grep -q "$fqcn" \
    || fail "$fqcn is not listed in $work/collections after the install"

step "module by FQCN: $fqcn.daemon_json"
host_python=/usr/bin/python3
[[ -x $host_python ]] || host_python=$bin/python3
printf '{\n  "log-driver": "json-file",\n  "live-restore": true\n}\n' >"$work/run/daemon.json"
run_module() {
    "$bin/ansible" localhost -c local -e "ansible_python_interpreter=$host_python" \
        -m "$fqcn.daemon_json" -a "path=$work/run/daemon.json registry_mirrors=https://mirror.gcr.io"
}
run_module >"$work/run/first.log" || { cat "$work/run/first.log"; fail "the module failed"; }
grep -q 'CHANGED' "$work/run/first.log" || { cat "$work/run/first.log"; fail "first run did not report a change"; }
"$bin/python3" - "$work/run/daemon.json" <<'EOF' || fail "daemon.json does not hold what the module should write"
import json, sys
with open(sys.argv[1]) as handle:
    document = json.load(handle)
expected = {"log-driver": "json-file", "live-restore": True, "registry-mirrors": ["https://mirror.gcr.io"]}
assert document == expected, document
assert list(document) == list(expected), "key order changed: %s" % list(document)
EOF
run_module >"$work/run/second.log" || { cat "$work/run/second.log"; fail "the second run failed"; }
grep -q 'SUCCESS' "$work/run/second.log" || { cat "$work/run/second.log"; fail "second run was not idempotent"; }
echo "daemon.json merged (other keys and order kept), second run unchanged"

step "ansible-doc renders every module and every entry point of the role"
modules=$("$bin/ansible-doc" -t module -l "$fqcn" | awk '{print $1}')
grep -qx "$fqcn.daemon_json" <<<"$modules" || fail "ansible-doc -l does not list $fqcn.daemon_json"
for module in $modules; do
    "$bin/ansible-doc" "$module" >"$work/run/doc-$module.txt" || fail "ansible-doc $module failed"
    grep -q 'EXAMPLES' "$work/run/doc-$module.txt" || fail "ansible-doc $module shows no examples"
done
grep -q 'registry_mirrors' "$work/run/doc-$fqcn.daemon_json.txt" || fail "daemon_json doc lacks registry_mirrors"
for entry_point in main verify; do
    "$bin/ansible-doc" -t role -e "$entry_point" "$fqcn.docker_mirror" >"$work/run/doc-role-$entry_point.txt" \
        || fail "ansible-doc -t role -e $entry_point failed"
done
grep -q 'docker_mirror_registry_mirrors' "$work/run/doc-role-main.txt" || fail "role doc lacks docker_mirror_registry_mirrors"
echo "documentation renders: $(echo "$modules" | wc -w) module(s), role entry points main and verify"

step "role by FQCN: an invalid variable fails the role's argument-spec validation"
cat >"$work/run/invalid.yml" <<EOF
- name: Use the role with an invalid docker_mirror_state
  hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - role: $fqcn.docker_mirror
      vars:
        docker_mirror_state: sideways
EOF
if "$bin/ansible-playbook" -i localhost, "$work/run/invalid.yml" >"$work/run/invalid.log" 2>&1; then
    cat "$work/run/invalid.log"; fail "the playbook with an invalid variable succeeded"
fi
for expected in 'Validating arguments against arg spec' \
    'value of docker_mirror_state must be one of: present, absent, got: sideways'; do
    grep -qF "$expected" "$work/run/invalid.log" \
        || { cat "$work/run/invalid.log"; fail "the failure is not the role's argument-spec error ($expected)"; }
done
grep -o 'value of docker_mirror_state must be one of[^"]*' "$work/run/invalid.log" | head -1
echo "PASS: $(basename "$tarball") installs and runs by FQCN with ansible-core $ansible_core alone"
