#!/usr/bin/env bash
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# usage: tests/matrix.sh [RELEASE...]   (make test-matrix; default: every tests/matrix/core-*.txt)
#
# Every ansible-core release the collection claims and this controller's Python runs, each checked three ways:
#  sanity   ansible-test sanity of THAT release (tests/ansible-test.sh, ANSIBLE_TEST_VENV), its ignore file
#           tests/sanity/ignore-RELEASE.txt;
#  units    ansible-test units of that release;
#  rollout  the collection built and installed by that release's ansible-galaxy, then
#           fleetops.docker_mirror.configure run by its ansible-playbook on two fresh test hosts (Debian 12 + 13,
#           tools/fleet.py, prefix `matrix`, over the Docker socket) twice: the first run changes both hosts and
#           ends "docker_mirror: 2/2 hosts verified"; the re-run ends the same with changed=0 on both.
# Each release has a cached virtualenv .cache/matrix/core-RELEASE/venv with the ansible-core that
# tests/matrix/core-RELEASE.txt pins, rebuilt when that file changes, and the collections the role and the
# fleet need (community.docker, ansible.posix, community.crypto) unpacked from the Ansible package its
# "# bundle:" line names (Galaxy is unreachable). A table of release x check (pass/fail, seconds) closes the run;
# any failed cell fails it.
#
# MATRIX_CHECKS="sanity units rollout" picks checks. The rollout holds /tmp/fleetops-molecule.lock while its hosts
# are up (the same lock as Molecule). MATRIX_KEEP=1 leaves the last fleet up for a look.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=$root/.cache/matrix
checks=${MATRIX_CHECKS:-sanity units rollout}
prefix=matrix
mirror=http://127.0.0.1:5000
summary_ok="docker_mirror: 2/2 hosts verified"
lock=/tmp/fleetops-molecule.lock

releases=("$@")
if [[ ${#releases[@]} -eq 0 ]]; then
    for req in "$root"/tests/matrix/core-*.txt; do
        release=${req##*/core-}; releases+=("${release%.txt}")
    done
fi

say() { printf -- '--- %s\n' "$*"; }

# Unpack the named collections from an Ansible package wheel into DIR/ansible_collections.
unpack_collections() {
    python3 - "$@" <<'EOF'
import sys
import zipfile

wheel, target, names = sys.argv[1], sys.argv[2], sys.argv[3:]
prefixes = tuple("ansible_collections/%s/" % name.replace(".", "/") for name in names)
with zipfile.ZipFile(wheel) as archive:
    members = [m for m in archive.namelist() if m.startswith(prefixes)]
    for name, prefix in zip(names, prefixes):
        if not any(m.startswith(prefix) for m in members):
            sys.exit("%s: no collection %s in it" % (wheel, name))
    archive.extractall(target, members)
EOF
}

# The release's virtualenv and bundled collections, built unless the cache matches its requirements file.
ensure_release() {
    local release=$1 req=$root/tests/matrix/core-$1.txt dir=$cache/core-$1 key bundle names
    [[ -f $req ]] || { echo "no requirements file $req" >&2; return 1; }
    key=$(sha256sum "$req" | cut -c1-16)
    if [[ -f $dir/.key && $(cat "$dir/.key") == "$key" ]]; then
        echo "cached virtualenv $dir (key $key)"; return 0
    fi
    read -r -a names < <(sed -n 's/^# bundle: *//p' "$req")
    bundle=${names[0]:-} && names=("${names[@]:1}")
    [[ $bundle == *==* && ${#names[@]} -gt 0 ]] ||
        { echo "$req: no '# bundle: ansible==N.N.N COLLECTION...' line" >&2; return 1; }
    echo "building $dir from $req (ansible-core; ${names[*]} from $bundle)"
    rm -rf "$dir" && mkdir -p "$cache/wheels" &&
        python3 -m venv "$dir/venv" &&
        "$dir/venv/bin/pip" install -q --progress-bar off --disable-pip-version-check -r "$req" &&
        "$dir/venv/bin/pip" download -q --progress-bar off --disable-pip-version-check --no-deps \
            --only-binary :all: -d "$cache/wheels" "$bundle" &&
        unpack_collections "$cache/wheels/${bundle%%==*}-${bundle##*==}-py3-none-any.whl" "$dir/collections" \
            "${names[@]}" &&
        echo "$key" >"$dir/.key"
}

check_version() {
    local release=$1 got
    got=$("$cache/core-$release/venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')
    [[ $got == "$release".* ]] || { echo "core-$release has ansible-core $got" >&2; return 1; }
    echo "ansible-core $got"
}

setup_release() {
    ensure_release "$1" && check_version "$1"
}

run_ansible_test() {
    ANSIBLE_TEST_VENV=$cache/core-$1/venv "$root/tests/ansible-test.sh" "$2"
}

# PLAY RECAP lines "HOST : ok=N changed=N unreachable=N failed=N ..." -> "HOST changed unreachable failed".
recap() {
    sed -En 's/^([^ ]+) *: ok=[0-9]+ +changed=([0-9]+) +unreachable=([0-9]+) +failed=([0-9]+).*/\1 \2 \3 \4/p' "$1"
}

# Judge one run's log: rc 0, the fleet summary, both hosts reachable and not failed, changed>0 (first) or =0.
judge_run() {
    local log=$1 rc=$2 want=$3 problems=0 host changed unreachable failed hosts=0
    [[ $rc -eq 0 ]] || { echo "  ansible-playbook exited $rc"; problems=1; }
    grep -qF "$summary_ok" "$log" || { echo "  no line '$summary_ok'"; problems=1; }
    while read -r host changed unreachable failed; do
        hosts=$((hosts + 1))
        echo "  $host: changed=$changed unreachable=$unreachable failed=$failed"
        if [[ $unreachable -ne 0 || $failed -ne 0 ]]; then problems=1; fi
        if [[ $want == changes && $changed -eq 0 ]]; then echo "  $host: the first run changed nothing"; problems=1; fi
        if [[ $want == no-change && $changed -ne 0 ]]; then
            echo "  $host: the re-run changed something"; problems=1
        fi
    done < <(recap "$log")
    [[ $hosts -eq 2 ]] || { echo "  PLAY RECAP has $hosts hosts, not 2"; problems=1; }
    [[ $problems -eq 0 ]] || { echo "  (log: $log)"; tail -30 "$log"; }
    return $problems
}

playbook_run() {
    local work=$1 venv=$2 label=$3 rc=0
    (cd "$work" && ANSIBLE_CONFIG=$work/ansible.cfg ANSIBLE_COLLECTIONS_PATH=$work/collections:$work/bundled \
        "$venv/bin/ansible-playbook" -i "$work/hosts.yml" fleetops.docker_mirror.configure \
        -e "{\"docker_mirror_registry_mirrors\": [\"$mirror\"]}") >"$work/$label.log" 2>&1 || rc=$?
    echo "$label run: exit $rc"
    return $rc
}

# The collection as users get it: built and installed by the release's own ansible-galaxy.
install_collection() {
    local venv=$1 work=$2
    (cd "$root" && "$venv/bin/ansible-galaxy" collection build --force --output-path "$work/dist" >/dev/null) ||
        return 1
    ANSIBLE_COLLECTIONS_PATH=$work/collections "$venv/bin/ansible-galaxy" collection install --force \
        "$work"/dist/fleetops-docker_mirror-*.tar.gz -p "$work/collections" >/dev/null
}

# Apply on two fresh hosts, then re-apply, with the release's ansible-playbook.
rollout() {
    local release=$1 venv=$cache/core-$1/venv work=$cache/core-$1/rollout rc=0
    rm -rf "$work" && mkdir -p "$work/dist" "$work/collections" || return 1
    ln -s "$cache/core-$release/collections" "$work/bundled"
    cat >"$work/ansible.cfg" <<'EOF'
[defaults]
retry_files_enabled = false
interpreter_python = auto_silent
[connection]
pipelining = true
EOF
    install_collection "$venv" "$work" || { echo "build or install with ansible-galaxy $release failed"; return 1; }
    (
        flock 9
        trap '[[ -n ${MATRIX_KEEP:-} ]] || python3 "$root/tools/fleet.py" down --prefix "$prefix" >/dev/null' EXIT
        python3 "$root/tools/fleet.py" up --prefix "$prefix" --count 2 --images debian12,debian13 --replace \
            --inventory "$work/hosts.yml" >"$work/fleet.log" 2>&1 || { cat "$work/fleet.log"; exit 1; }
        run_rc=0; playbook_run "$work" "$venv" first || run_rc=$?
        judge_run "$work/first.log" "$run_rc" changes || exit 1
        run_rc=0; playbook_run "$work" "$venv" rerun || run_rc=$?
        judge_run "$work/rerun.log" "$run_rc" no-change || exit 1
    ) 9>"$lock" || rc=$?
    return $rc
}

# Run one cell, timed; record "release check status seconds".
cell() {
    local release=$1 check=$2 start status; shift 2
    say "ansible-core $release: $check"
    start=$(date +%s)
    if "$@"; then status=pass; else status=FAIL; fi
    printf '%s\t%s\t%s\t%s\n' "$release" "$check" "$status" "$(( $(date +%s) - start ))" >>"$results"
    echo "<-- ansible-core $release $check: $status"
    [[ $status == pass ]]
}

print_table() {
    python3 - "$results" "$checks" <<'EOF'
import sys

rows, order = {}, ["setup"] + sys.argv[2].split()
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        release, check, status, seconds = line.rstrip("\n").split("\t")
        rows.setdefault(release, {})[check] = f"{status} {int(seconds):>4}s"
total = 0
with open(sys.argv[1], encoding="utf-8") as f:
    total = sum(int(line.split("\t")[3]) for line in f)
print(f"\nansible-core test matrix (Python 3.11 controller; seconds per cell, total {total}s)")
print("release  " + "".join(f"{name:<12}" for name in order))
for release, cells in rows.items():
    print(f"{release:<9}" + "".join(f"{cells.get(name, 'skipped'):<12}" for name in order))
EOF
}

mkdir -p "$cache" && results=$(mktemp "$cache/results.XXXXXX") || exit 1
trap 'rm -f "$results"' EXIT
for release in "${releases[@]}"; do
    cell "$release" setup setup_release "$release" || continue
    for check in $checks; do
        case $check in
            sanity|units) cell "$release" "$check" run_ansible_test "$release" "$check" ;;
            rollout) cell "$release" rollout rollout "$release" ;;
            *) echo "unknown check $check" >&2; exit 2 ;;
        esac
    done
done
print_table
! grep -qP '\tFAIL\t' "$results"
