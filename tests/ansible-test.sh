#!/usr/bin/env bash
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# usage: tests/ansible-test.sh sanity|units [ansible-test options...]
#        ANSIBLE_TEST_VENV=DIR tests/ansible-test.sh ...   (another release's ansible-core: tests/matrix.sh)
#
# Runs ansible-test offline, on a clean machine, with the project venv's ansible-core (or the one in the
# virtualenv ANSIBLE_TEST_VENV names, which then also builds the collection and has its own stage):
#  - ansible-test needs the collection at .../ansible_collections/fleetops/docker_mirror and resolves the
#    working directory through symlinks (so .collections/ cannot serve), so the collection is built from
#    this checkout (work in progress included) and unpacked, with the checkout's tests/ added, into
#    .cache/ansible-test/ansible_collections/... where ansible-test runs. Its reports are copied back to
#    tests/output/ (git-ignored).
#  - --venv makes one virtualenv per test from PyPI with ansible-test's own pinned requirements. To create
#    them ansible-test fetches a get-pip script from the internet; a stand-in that installs a pip 24.2 wheel
#    (from PyPI, via `pip download`) is placed in its cache first.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${ANSIBLE_TEST_VENV:-$root/.venv}
if [[ -n ${ANSIBLE_TEST_VENV:-} ]]; then stage_top=$venv/../ansible-test; else stage_top=$root/.cache/ansible-test; fi
stage=$stage_top/ansible_collections/fleetops/docker_mirror
pip_cache=$HOME/.ansible/test/cache
# The pip release this ansible-test bootstraps its virtualenvs with on Python 3.11 (2.15: 21.3.1, 2.16 and 2.17:
# 23.1.2, 2.18 and later: 24.2), as ansible-test itself computes it.
pip_version=$("$venv/bin/python" -c 'import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="3.11"))["pip"])')
get_pip=$pip_cache/get_pip_${pip_version//./_}.py
pip_wheel=$pip_cache/pip-$pip_version-py3-none-any.whl

ensure_get_pip() {
    # A real get-pip script already cached (downloaded on a connected machine) is used as it is.
    if [[ -f $get_pip ]] && ! grep -q 'fleetops stand-in' "$get_pip"; then return; fi
    mkdir -p "$pip_cache"
    [[ -f $pip_wheel ]] ||
        "$venv/bin/python" -m pip download -q --no-deps --only-binary :all: -d "$pip_cache" "pip==$pip_version"
    sed "s/@PIP_VERSION@/$pip_version/g" >"$get_pip.tmp" <<'EOF'
# fleetops stand-in for https://ci-files.testing.ansible.com/ansible-test/get-pip-@PIP_VERSION@.py (written by
# tests/ansible-test.sh): runs pip from the pip @PIP_VERSION@ wheel beside this file and installs the packages
# ansible-test asks for (pip==@PIP_VERSION@), setuptools and wheel unless --no-setuptools / --no-wheel are given.
import os
import runpy
import sys

here = os.path.dirname(os.path.abspath(__file__))
args = sys.argv[1:]
extra = [name for name, flag in (("setuptools", "--no-setuptools"), ("wheel", "--no-wheel")) if flag not in args]
args = [arg for arg in args if arg not in ("--no-setuptools", "--no-wheel")]
sys.path.insert(0, os.path.join(here, "pip-@PIP_VERSION@-py3-none-any.whl"))
sys.argv = ["pip", "install", "--find-links", here] + args + extra
runpy.run_module("pip", run_name="__main__", alter_sys=True)
EOF
    mv "$get_pip.tmp" "$get_pip"
}

stage_collection() {
    # Sanity and unit tests run on exactly what is released: the tarball that `ansible-galaxy collection
    # build` makes from this checkout (galaxy.yml's build_ignore leaves developer tooling out), unpacked,
    # plus the checkout's tests/, which the release leaves out too.
    local build_dir=$stage_top/build
    rm -rf "$build_dir" && mkdir -p "$build_dir" "$stage"
    (cd "$root" && "$venv/bin/ansible-galaxy" collection build --force --output-path "$build_dir" >/dev/null)
    # Start from an empty tree each time, but keep earlier reports (tests/output) for comparison.
    find "$stage" -mindepth 1 -maxdepth 1 ! -name tests ! -name .git -exec rm -rf {} +
    [[ ! -d $stage/tests ]] || find "$stage/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
    # ansible-test's scratch space, with the virtualenv units run in: made again, so that a changed
    # tests/unit/requirements.txt or constraints.txt is installed.
    rm -rf "$stage/tests/output/.tmp"
    tar -xzf "$build_dir"/fleetops-docker_mirror-*.tar.gz -C "$stage"
    (cd "$root" && tar -c --exclude=./tests/output --exclude=__pycache__ ./tests) | tar -x -C "$stage"
    rm -f "$stage/FILES.json"
    cp "$root/galaxy.yml" "$stage/"
    # The stage lies inside this checkout, whose .gitignore hides it: give it a repository of its own so
    # that ansible-test lists its files with git (all untracked), as it would in a clone of the collection.
    [[ -d $stage/.git ]] || git -C "$stage" init -q
    echo /tests/output/ >"$stage/.gitignore"
}

ensure_shellcheck() {
    # The shellcheck sanity test needs the program (Debian's package); without it the test is skipped.
    command -v shellcheck >/dev/null && return
    echo "installing shellcheck (Debian package) for the shellcheck sanity test"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
}

command=${1:?usage: $0 sanity|units [ansible-test options...]}
shift
ensure_get_pip
[[ $command != sanity ]] || ensure_shellcheck
stage_collection
rc=0
(cd "$stage" && "$venv/bin/ansible-test" "$command" --venv --python 3.11 --color no "$@") || rc=$?
mkdir -p "$root/tests/output"
[[ ! -d $stage/tests/output ]] || cp -r "$stage/tests/output/." "$root/tests/output/"
exit $rc
