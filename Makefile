# The README's two commands: `make demo` and `make test`. Each installs and starts what it needs:
# the pinned controller toolchain in .venv, the Docker engine, and the cached test-host images.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
FLEET := python3 $(CURDIR)/tools/fleet.py
TIMED := $(CURDIR)/tools/timed
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export PY_COLORS := 0

.PHONY: help setup venv engine images test unit lint molecule demo demo-cache demo-down

help:
	@echo "make demo   - a local three-host fleet, and the main job run on it"
	@echo "make demo-cache - make demo, then a registry cache on demo-1 in front of all three hosts (fleetops.docker_mirror.cache)"
	@echo "make test   - every test suite: unit, lint, the ansible-core matrix, build, Molecule (real Debian 11, 12, 13 hosts)"
	@echo "make bench  - the fleet benchmark over the Docker socket and SSH (BENCH_SIZES=5,10,20 for the scaling curve)"
	@echo "make runner-test - the configure playbook through ansible-runner (AWX's job runner)"
	@echo "make test-matrix - ansible-core 2.15 to 2.19: sanity, units and a rollout on two hosts each; 2.20, 2.21: the rollout (docs/testing.md)"
	@echo "make setup  - only install/start what the two need (venv, Docker engine, host images)"

setup: venv engine images

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt
	@python3 -c 'import ensurepip' 2>/dev/null || $(TIMED) "installing python3-venv" \
		bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv'
	@$(TIMED) "controller toolchain into .venv (pinned in requirements-dev.txt; about 40 s)" \
		bash -c 'python3 -m venv $(VENV) && $(BIN)/pip install -q --progress-bar off -r requirements-dev.txt'
	@touch $@

engine:
	@$(TIMED) "Docker engine" $(FLEET) engine

images: engine
	@$(TIMED) "test-host images debian11 + debian12 + debian13 + forky (cached; a rebuild takes about 3 min)" \
		$(FLEET) image debian11 debian12 debian13 forky

# Fast checks first: unit tests, lint, changelog; then the release checks (ansible-test sanity and units of every
# supported ansible-core, in test-matrix); then Molecule on real hosts.
test: setup
	@tools/suites unit lint changelog-lint test-matrix build-test runner-test ee-check molecule

unit: venv
	@$(TIMED) "unit tests" $(BIN)/python -m pytest tests/unit -q -p no:cacheprovider

lint: venv
	@$(TIMED) "ansible-lint" $(BIN)/ansible-lint --offline -q
	@$(TIMED) "modules and module_utils run on Python 3.8 (vermin + tools/py38check.py)" \
		$(BIN)/python tools/py38check.py plugins/modules plugins/module_utils

molecule: venv
	@$(TIMED) "molecule test --all" $(BIN)/molecule test --all

demo: setup
	@demo/demo.sh

demo-cache: demo
	@demo/cache.sh

demo-down:
	@for pidfile in $(CURDIR)/.cache/demo-tunnels/*.pid; do \
		[ -e "$$pidfile" ] && python3 tests/tools/loopback_tunnel.py stop --pidfile "$$pidfile"; done; true
	@$(FLEET) down --prefix demo

# Fleet benchmark (issue #5): our configure playbook against the common playbook patterns on one local fleet.
# Figures in bench/results/ (table, bench.json, bench.png); the bench fleet is removed at the end, also on failure.
BENCH_SIZES ?= 10
BENCH_REPS ?= 3
BENCH_VARIANTS ?= ping,role,role1,slurp,whole
BENCH_ARGS ?=
.PHONY: bench

$(VENV)/.bench-installed: $(VENV)/.installed bench/requirements.txt
	@$(TIMED) "benchmark plot dependencies into .venv (bench/requirements.txt)" \
		$(BIN)/pip install -q --progress-bar off -r bench/requirements.txt
	@touch $@

bench: setup $(VENV)/.bench-installed
	@$(TIMED) "fleet benchmark, N=$(BENCH_SIZES), $(BENCH_REPS) repetitions" bash -c '\
		$(BIN)/python bench/run.py --sizes "$(BENCH_SIZES)" --reps "$(BENCH_REPS)" \
			--variants "$(BENCH_VARIANTS)" $(BENCH_ARGS); rc=$$?; \
		$(FLEET) down --prefix bench; exit $$rc'

# ---- Release checks (issue #6): ansible-test, changelog, build. See RELEASING.md. -------------------
.PHONY: sanity units changelog-lint changelog build build-test ee-check release-check

# ansible-test sanity / units on Python 3.11, offline (one virtualenv per test from PyPI, see the script).
sanity: venv
	@$(TIMED) "ansible-test sanity (Python 3.11, --venv)" tests/ansible-test.sh sanity

units: venv
	@$(TIMED) "ansible-test units (Python 3.11, --venv)" tests/ansible-test.sh units

changelog-lint: venv
	@$(TIMED) "antsibull-changelog lint" $(BIN)/antsibull-changelog lint

# (Re)write the release of galaxy.yml's version in changelogs/changelog.yaml and CHANGELOG.md from every
# fragment and the current plugin/role docs. keep_fragments: true, so running it again after more work has
# landed adds the new fragments to the same release instead of losing them (see RELEASING.md).
changelog: venv
	@$(TIMED) "antsibull-changelog release" $(BIN)/antsibull-changelog release \
		--refresh-fragments --refresh-plugins --reload-plugins

build: venv
	@$(TIMED) "ansible-galaxy collection build" \
		$(BIN)/ansible-galaxy collection build --force --output-path $(CURDIR)/.cache/build

# Build, install into a clean virtualenv with only ansible-core, run the module and the role by FQCN.
build-test: venv
	@$(TIMED) "build, install and run the collection from its tarball" tests/integration/test_build_install.sh

# The configure playbook through ansible-runner (AWX's job runner) from the tarball, on a two-host test fleet.
.PHONY: runner-test
runner-test: setup
	@$(TIMED) "ansible-runner job on a two-host fleet (Debian 12 + 13)" tests/integration/test_runner.sh

# Check the execution environment definition (ansible-builder create: a build context, no image).
ee-check: venv
	@$(TIMED) "execution environment definition" tests/ee-check.sh

release-check: sanity units changelog-lint build-test ee-check

# Every ansible-core release the collection supports (tests/matrix/core-*.txt), each in its own cached virtualenv
# under .cache/matrix: its ansible-test sanity and units, and a rollout (apply, then a re-run changing nothing) on
# two test hosts. Ends with a table of release x check; MATRIX_RELEASES="2.15 2.19" runs a subset.
.PHONY: test-matrix
MATRIX_RELEASES ?=
test-matrix: setup
	@$(TIMED) "ansible-core test matrix (sanity, units, rollout per release)" tests/matrix.sh $(MATRIX_RELEASES)
