#!/usr/bin/env bash
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# usage: tests/matrix.sh [RELEASE...]   (make test-matrix; default: every tests/matrix/core-*.txt)
#
# Every ansible-core release the collection claims, each checked three ways:
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
# "# bundle:" line names (Galaxy is unreachable). A release whose file has a "# python: 3.13" line needs a newer
# Python than this controller's: its wheels for that Python are unpacked into .cache/matrix/core-RELEASE/site and
# its rollout runs on a controller inside a Debian 13 test-host container (python3.13, no network), reaching the
# fleet through the Docker socket mounted into it; its sanity and units are "n/a" (no pip in that host).
# A table of release x check (pass/fail, seconds) closes the run; any failed cell fails it.
#
# MATRIX_CHECKS="sanity units rollout" picks checks. MATRIX_MIRROR=ftp://127.0.0.1:5000 (a mirror dockerd refuses)
# shows the rollout cells failing. The rollout holds /tmp/fleetops-molecule.lock while its hosts
# are up (the same lock as Molecule). MATRIX_KEEP=1 leaves the last fleet up for a look.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=$root/.cache/matrix
checks=${MATRIX_CHECKS:-sanity units rollout}
prefix=matrix
mirror=${MATRIX_MIRROR:-http://127.0.0.1:5000}
summary_ok="docker_mirror: 2/2 hosts verified"
lock=/tmp/fleetops-molecule.lock
controller_image=fleetops-host:debian13
engine_socket=${DOCKER_HOST:-unix:///var/run/docker.sock}
engine_socket=${engine_socket#unix://}

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

# "# KEY: VALUE" lines of a requirements file (bundle, python).
req_value() {
    sed -n "s/^# $2: *//p" "$1"
}

# The release's controller (a virtualenv, or wheels for a newer Python) and bundled collections, built unless the
# cache matches its requirements file.
ensure_release() {
    local release=$1 req=$root/tests/matrix/core-$1.txt dir=$cache/core-$1 key bundle names python
    [[ -f $req ]] || { echo "no requirements file $req" >&2; return 1; }
    key=$(sha256sum "$req" | cut -c1-16)
    if [[ -f $dir/.key && $(cat "$dir/.key") == "$key" ]]; then
        echo "cached controller $dir (key $key)"; return 0
    fi
    read -r -a names < <(req_value "$req" bundle)
    bundle=${names[0]:-} && names=("${names[@]:1}")
    [[ $bundle == *==* && ${#names[@]} -gt 0 ]] ||
        { echo "$req: no '# bundle: ansible==N.N.N COLLECTION...' line" >&2; return 1; }
    python=$(req_value "$req" python)
    echo "building $dir from $req (ansible-core${python:+ for Python $python}; ${names[*]} from $bundle)"
    rm -rf "$dir" && mkdir -p "$cache/wheels" "$dir" || return 1
    if [[ -n $python ]]; then install_site "$req" "$dir" "$python"; else install_venv "$req" "$dir"; fi &&
        pip_quiet download --no-deps --only-binary :all: ${python:+--python-version "$python"} \
            -d "$cache/wheels" "$bundle" &&
        unpack_collections "$cache/wheels/${bundle%%==*}-${bundle##*==}-py3-none-any.whl" "$dir/collections" \
            "${names[@]}" &&
        echo "$key" >"$dir/.key"
}

pip_quiet() {
    python3 -m pip "$1" -q --progress-bar off --disable-pip-version-check "${@:2}"
}

install_venv() {
    python3 -m venv "$2/venv" && "$2/venv/bin/pip" install -q --progress-bar off --disable-pip-version-check -r "$1"
}

# Wheels for another Python (manylinux x86_64), unpacked into DIR/site: that Python runs them with PYTHONPATH.
install_site() {
    local req=$1 dir=$2 python=$3 wheel
    pip_quiet download --only-binary :all: --python-version "$python" --platform manylinux2014_x86_64 \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_34_x86_64 -d "$dir/wheels" -r "$req" || return 1
    for wheel in "$dir"/wheels/*.whl; do python3 -m zipfile -e "$wheel" "$dir/site" || return 1; done
    rm -rf "$dir/wheels"
}

in_container() {
    [[ -d $cache/core-$1/site ]]
}

# The release's ansible-core runs (in the container for a newer Python) and is the one pinned.
check_version() {
    local release=$1 got
    if in_container "$release"; then
        got=$(docker run --rm --network none --entrypoint python3 -v "$cache/core-$release:/ctl:ro" \
            -e PYTHONPATH=/ctl/site "$controller_image" -m ansible playbook --version |
            sed -n '1s/.*core \([^]]*\)].*/\1/p')
    else
        got=$("$cache/core-$release/venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')
    fi
    [[ $got == "$release".* ]] || { echo "core-$release has ansible-core '$got'" >&2; return 1; }
    echo "ansible-core $got$(in_container "$release" && echo " on $controller_image's python3")"
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

# Build and install the collection with the release's ansible-galaxy, then apply and re-apply with its
# ansible-playbook; each run's output and exit status in WORK/{first,rerun}.{log,rc}. The same script runs on this
# controller and inside the container: PYTHON SRC WORK CTL are the paths where it runs.
# shellcheck disable=SC2016
APPLY_SCRIPT='set -u
cd "$WORK"
"$PYTHON" -m ansible galaxy collection build --force --output-path "$WORK/dist" "$SRC" >/dev/null || exit 10
ANSIBLE_COLLECTIONS_PATH=$WORK/collections "$PYTHON" -m ansible galaxy collection install --force \
    "$WORK"/dist/fleetops-docker_mirror-*.tar.gz -p "$WORK/collections" >/dev/null || exit 11
for label in first rerun; do
    rc=0
    ANSIBLE_CONFIG=$WORK/ansible.cfg ANSIBLE_COLLECTIONS_PATH=$WORK/collections:$CTL/collections \
        "$PYTHON" -m ansible playbook -i "$WORK/hosts.yml" fleetops.docker_mirror.configure \
        -e "{\"docker_mirror_registry_mirrors\": [\"$MIRROR\"]}" >"$WORK/$label.log" 2>&1 || rc=$?
    echo "$rc" >"$WORK/$label.rc"
done'

apply_twice() {
    local release=$1 work=$2 dir=$cache/core-$1
    if in_container "$release"; then
        docker run --rm --network none --entrypoint /bin/sh -v "$root:/src:ro" -v "$work:/work" -v "$dir:/ctl:ro" \
            -v "$engine_socket:/run/engine.sock" -e DOCKER_HOST=unix:///run/engine.sock -e PYTHONPATH=/ctl/site \
            -e PYTHON=python3 -e SRC=/src -e WORK=/work -e CTL=/ctl -e MIRROR="$mirror" \
            "$controller_image" -c "$APPLY_SCRIPT"
    else
        PYTHON=$dir/venv/bin/python SRC=$root WORK=$work CTL=$dir MIRROR=$mirror bash -c "$APPLY_SCRIPT"
    fi
}

# Apply on two fresh hosts, then re-apply, with the release's ansible-core; judge both runs.
rollout() {
    local release=$1 work=$cache/core-$1/rollout rc=0
    rm -rf "$work" && mkdir -p "$work/dist" "$work/collections" || return 1
    printf '%s\n' '[defaults]' 'retry_files_enabled = false' 'interpreter_python = auto_silent' \
        '[connection]' 'pipelining = true' >"$work/ansible.cfg"
    (
        flock 9
        trap '[[ -n ${MATRIX_KEEP:-} ]] || python3 "$root/tools/fleet.py" down --prefix "$prefix" >/dev/null' EXIT
        python3 "$root/tools/fleet.py" up --prefix "$prefix" --count 2 --images debian12,debian13 --replace \
            --inventory "$work/hosts.yml" >"$work/fleet.log" 2>&1 || { cat "$work/fleet.log"; exit 1; }
        apply_twice "$release" "$work" || { echo "building or installing the collection failed (exit $?)"; exit 1; }
        judge_run "$work/first.log" "$(cat "$work/first.rc")" changes || exit 1
        judge_run "$work/rerun.log" "$(cat "$work/rerun.rc")" no-change || exit 1
    ) 9>"$lock" || rc=$?
    return $rc
}

# Run one cell, timed; record "release check status seconds".
cell() {
    local release=$1 check=$2 start status; shift 2
    say "ansible-core $release: $check"
    start=$(date +%s)
    if [[ $1 == n/a ]]; then status=n/a; elif "$@"; then status=pass; else status=FAIL; fi
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
        rows.setdefault(release, {})[check] = status if status == "n/a" else f"{status} {int(seconds):>4}s"
total = 0
with open(sys.argv[1], encoding="utf-8") as f:
    total = sum(int(line.split("\t")[3]) for line in f)
print(f"\nansible-core test matrix (seconds per cell, total {total}s; python3.13 in a container for 2.20+)")
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
            sanity|units)
                if in_container "$release"; then cell "$release" "$check" n/a
                else cell "$release" "$check" run_ansible_test "$release" "$check"; fi ;;
            rollout) cell "$release" rollout rollout "$release" ;;
            *) echo "unknown check $check" >&2; exit 2 ;;
        esac
    done
done
print_table
! grep -qP '\tFAIL\t' "$results"
