#!/usr/bin/env bash
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# usage: tests/ee-check.sh   (make ee-check)
#
# Checks the execution environment files without building an image (no container registry here):
#  1. meta/execution-environment.yml is valid ansible-builder v3 and, read from the collection as installed
#     from its release tarball, yields the dependencies in requirements.txt and bindep.txt (ansible-builder's
#     own introspection, as run inside an EE build);
#  2. docs/execution-environment.yml (the EE definition) passes `ansible-builder create`, which validates it
#     and writes the build context (Containerfile) only.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/.cache/ee-check
builder_venv=$root/.cache/ansible-builder-venv
builder_version=3.2.0

fail() { echo "FAIL: $*" >&2; exit 1; }

if [[ ! -x $builder_venv/bin/ansible-builder ]] \
    || [[ $("$builder_venv/bin/ansible-builder" --version) != "$builder_version" ]]; then
    echo "installing ansible-builder==$builder_version into $builder_venv"
    rm -rf "$builder_venv"
    "$root/.venv/bin/python3" -m venv "$builder_venv"
    "$builder_venv/bin/pip" install -q --disable-pip-version-check "ansible-builder==$builder_version" 2>&1 \
        | sed '/is ignored: it is neither a file nor a directory/d'
fi
rm -rf "$work" && mkdir -p "$work/dist" "$work/collections"

echo "--- meta/execution-environment.yml: v3 schema, and the dependencies ansible-builder finds in the collection"
"$builder_venv/bin/python" - "$root/meta/execution-environment.yml" <<'EOF' || fail "meta/execution-environment.yml is not valid"
import sys
import yaml
from ansible_builder.ee_schema import validate_schema
with open(sys.argv[1]) as handle:
    definition = yaml.safe_load(handle)
validate_schema(definition)
assert definition["version"] == 3, definition
EOF
(cd "$root" && "$root/.venv/bin/ansible-galaxy" collection build --force --output-path "$work/dist" >/dev/null)
"$root/.venv/bin/ansible-galaxy" collection install --force "$work"/dist/*.tar.gz -p "$work/collections" \
    >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "cannot install the built collection"; }
"$builder_venv/bin/python" -m ansible_builder._target_scripts.introspect introspect \
    "$work/collections" >"$work/introspect.yml" || fail "ansible-builder introspection failed"
cat "$work/introspect.yml"
grep -q 'jsonschema.*# from collection fleetops.docker_mirror' "$work/introspect.yml" \
    || fail "introspection does not report the collection's Python dependency (jsonschema)"
grep -q 'openssh-client .*# from collection fleetops.docker_mirror' "$work/introspect.yml" \
    || fail "introspection does not report the collection's system dependency (openssh-client)"

echo "--- docs/execution-environment.yml: ansible-builder create (build context only, no image)"
"$builder_venv/bin/ansible-builder" create -f "$root/docs/execution-environment.yml" -c "$work/context" \
    --output-filename Containerfile || fail "ansible-builder create rejected docs/execution-environment.yml"
grep -q 'ansible-core==2.19.14' "$work/context/Containerfile" || fail "Containerfile does not pin ansible-core"
grep -rq 'fleetops.docker_mirror' "$work/context/_build" || fail "the build context does not install the collection"
echo "PASS: EE files valid; build context in ${work#"$root"/}/context"
