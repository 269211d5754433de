"""The delivery pipeline (app/pipeline.py, settings/pipeline.py, review/approval.py, docs/pipeline.md): docs/pipeline.md's
two-environment example synthesizes into the pipeline stack and the stages Test and Prod, in order, production
approved first by a person; the synth step runs the project's make targets and they pass offline, as written; the
pipeline stack passes the gates it enforces; every bad setting stops synth with one line; without pipeline settings
nothing changes.

The CLI runs (the doc's commands and the synth step in a copy of the project with the example, `make synth ENV=prod`,
`make pipeline`) are background jobs."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from private_eks_fargate.app.context import pipeline_environments, pipeline_mode
from private_eks_fargate.app.pipeline import (
    APPROVER_POLICY,
    DEFINITION_VARIABLE,
    INSTALL_COMMANDS,
    PIPELINE_NAME,
    REVIEW_BUCKET_VARIABLE,
    REVIEW_PREFIX_VARIABLE,
    STACK_NAME,
    SYNTH_COMMANDS,
    build_delivery,
    definition_digest,
)
from private_eks_fargate.compliance import check_reason
from private_eks_fargate.review.approval import (
    APPROVAL_FILE,
    MESSAGE_LIMIT,
    approval_message,
    pipeline_record,
    stage_review,
    templates_digest,
)
from private_eks_fargate.review.assembly import load_results, load_review
from private_eks_fargate.review.delivery_costs import ACTION_MINUTE, BUILD_MINUTE, Usage, cost_lines
from private_eks_fargate.review.execution_policy import POLICY_SIZE_LIMIT, handler_permissions, resource_types
from private_eks_fargate.settings import ConfigError

from conftest import CDK_JSON_CONTEXT, ROOT, background_job, pipeline_docs, scratch, summary_items, synthesize_pipeline

sys.path.insert(0, str(ROOT / "scripts"))
import cdk as make_cdk  # noqa: E402  scripts/cdk.py
import doc_pages  # noqa: E402  scripts/doc_pages.py
import own_config  # noqa: E402  scripts/own_config.py
import publish_review  # noqa: E402  scripts/publish_review.py

EXAMPLE = pipeline_docs.example()
#: docs/pipeline.md's offline command lines: the example run runs each as written (tests/test_docs.py)
DOC_LINES = [doc_pages.command(doc_pages.CommandLine(pipeline_docs.DOC, line).command) for line in pipeline_docs.doc_commands()[0]]
PIPELINE, TEST, PROD = "999999999999", "111111111111", "222222222222"
STAGE_STACKS = ("Network", "Endpoints", "Cluster")


# --- background runs: the doc's commands and the synth step, make synth ENV=prod, make pipeline ----------------------


@background_job
def example_run() -> pipeline_docs.ExampleRun:
    return pipeline_docs.run_example(scratch("pipeline-example-"), [*INSTALL_COMMANDS, *SYNTH_COMMANDS])


@background_job
def one_environment() -> dict:
    """`make synth ENV=prod`: the stage as `make deploy ENV=prod` builds it, in a copy of the project with the example."""
    workdir = scratch("pipeline-env-")
    project = pipeline_docs.example_project(workdir)
    env = own_config.offline_environment(workdir / "home", path_first=workdir)
    result = subprocess.run(["make", "synth", "ENV=prod", "ARGS=-o cdk.out.prod"], cwd=project, env=env, capture_output=True,
                            text=True, timeout=900, stdin=subprocess.DEVNULL)
    return {"project": project, "prod": result}


def app_subprocess(context: dict, extra_env: dict[str, str], python_path: str = "") -> tuple[subprocess.CompletedProcess, Path]:
    """app.py as the CLI runs it (context through CDK_CONTEXT_JSON), with variables of the pipeline's synth step; the
    finished process and the cloud assembly's directory."""
    outdir = scratch("app-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEF_")} | extra_env | {
        "CDK_CONTEXT_JSON": json.dumps({**CDK_JSON_CONTEXT, **context}), "CDK_OUTDIR": str(outdir)}
    if python_path:
        env["PYTHONPATH"] = python_path
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    return result, outdir


@background_job
def default_app_without_the_pipeline_code() -> tuple[subprocess.CompletedProcess, Path]:
    """app.py with cdk.json alone, in a Python that cannot import the pipeline's modules."""
    block = scratch("no-pipeline-")
    (block / "sitecustomize.py").write_text(
        "import sys\nfor name in ('private_eks_fargate.app.pipeline', 'private_eks_fargate.review.approval'):\n"
        "    sys.modules[name] = None\n"
    )
    return app_subprocess({}, {}, str(block))


@background_job
def app_with_another_deployed_pipeline() -> subprocess.CompletedProcess:
    return app_subprocess(EXAMPLE, {DEFINITION_VARIABLE: "0" * 64})[0]


@background_job
def app_with_a_bad_pipeline_setting() -> subprocess.CompletedProcess:
    return app_subprocess({**EXAMPLE, "pipeline.environments": "Test,Prd"}, {})[0]


# --- without pipeline settings ----------------------------------------------------------------------------------------


@pytest.mark.background
def test_without_pipeline_settings_the_app_never_loads_the_pipeline_and_writes_the_same_templates(default_app):
    result, assembly = default_app_without_the_pipeline_code.result()
    assert result.returncode == 0, result.stderr
    written = {p.name: p.read_bytes() for p in assembly.rglob("*.template.json")}
    assert len(written) == len(default_app.template_files) == 3
    for stack, path in default_app.template_files.items():
        assert written[path.name] == path.read_bytes(), stack
    assert [line for line in result.stderr.splitlines() if "review report" in line] == [f"review report: {assembly / 'review' / 'REVIEW.md'}"]


def test_a_selected_environment_builds_its_stage_alone_as_without_a_pipeline():
    assert pipeline_mode(EXAMPLE) is not None
    assert pipeline_mode({**EXAMPLE, "app.environment": "prod"}) is None
    assert pipeline_mode(CDK_JSON_CONTEXT) is None


# --- settings: each bad value, one line --------------------------------------------------------------------------------

CONNECTION = EXAMPLE["pipeline.connection_arn"]
WITHOUT_SOURCE = {k: v for k, v in EXAMPLE.items() if k not in ("pipeline.repository", "pipeline.connection_arn")}


def _with(**changes) -> dict:
    context = dict(EXAMPLE)
    for key, value in changes.items():
        key = key.replace("__", ".")
        if value is None:
            context.pop(key, None)
        else:
            context[key] = value
    return context


def _environments(**own) -> dict:
    envs = json.loads(json.dumps(EXAMPLE["app.environments"]))
    for name, changes in own.items():
        envs[name] = {**envs.get(name, {}), **changes}
        envs[name] = {k: v for k, v in envs[name].items() if v is not None}
    return _with(**{"app__environments": envs})


@pytest.mark.parametrize(
    "context, message",
    [
        (_with(pipeline__account=None), "pipeline.account: required with the pipeline settings; give pipeline.account and "
         "pipeline.region (the tooling account and region the pipeline runs in)"),
        (_with(pipeline__region=None), "pipeline.region: required with the pipeline settings; give pipeline.account and "
         "pipeline.region (the tooling account and region the pipeline runs in)"),
        (_with(pipeline__account="99999"), "pipeline.account: '99999' is not a 12-digit AWS account id"),
        (_with(pipeline__region="ireland"), "pipeline.region: 'ireland' is not an AWS region name (e.g. eu-west-1)"),
        (WITHOUT_SOURCE, "pipeline.repository: the pipeline needs a source: pipeline.repository and pipeline.connection_arn "
         "(AWS CodeConnections), or pipeline.source_bucket (S3)"),
        (_with(pipeline__source_bucket="bank-sources"), "pipeline.source_bucket: not with pipeline.repository; the pipeline "
         "has one source, a repository or a bucket"),
        (_with(pipeline__repository=None), "pipeline.repository: required with pipeline.connection_arn; give owner/name"),
        (_with(pipeline__connection_arn=None), "pipeline.connection_arn: required with pipeline.repository; give the "
         f"connection's ARN, e.g. {CONNECTION}"),
        (_with(pipeline__repository="platform"), "pipeline.repository: 'platform' is not a repository name; give "
         "owner/name, e.g. bank/platform"),
        (_with(pipeline__connection_arn="arn:aws:codeconnections:eu-west-1:999999999999:connection/x"),
         "pipeline.connection_arn: 'arn:aws:codeconnections:eu-west-1:999999999999:connection/x' is not an AWS "
         f"CodeConnections ARN (e.g. {CONNECTION})"),
        (_with(pipeline__branch="release..1"), "pipeline.branch: 'release..1' is not a git branch name"),
        ({**WITHOUT_SOURCE, "pipeline.source_bucket": "Bank_Sources"}, "pipeline.source_bucket: 'Bank_Sources' is not an "
         "S3 bucket name"),
        ({**WITHOUT_SOURCE, "pipeline.source_bucket": "bank-sources", "pipeline.source_key": "platform.tar.gz"},
         "pipeline.source_key: 'platform.tar.gz' is not allowed; give the object key of a zip, e.g. private-eks-fargate.zip"),
        (_with(pipeline__environments="Test,Prod,Test"), "pipeline.environments: ['Test', 'Prod', 'Test'] lists an "
         "environment more than once; each is deployed once"),
        (_with(pipeline__environments="Test,Prd"), "pipeline.environments: 'Prd' is not an environment of app.environments; "
         "did you mean Prod? (environments: Test, Prod)"),
        (_with(pipeline__approval_topic_arn="arn:aws:sns:eu-west-1:222222222222:approvals"),
         "pipeline.approval_topic_arn: the topic is in 222222222222/eu-west-1; the approval publishes only to a topic of the "
         "pipeline's 999999999999/eu-west-1"),
        (_with(pipeline__approval_topic_arn="approvals"), "pipeline.approval_topic_arn: 'approvals' is not an SNS topic ARN "
         "(arn:aws:sns:REGION:ACCOUNT:NAME)"),
        (_with(pipeline__access_log_bucket="Logs!"), "pipeline.access_log_bucket: 'Logs!' is not an S3 bucket name"),
        (_with(app__environments=None), "app.environments: required with the pipeline settings: the pipeline deploys the "
         "environments of app.environments (one stage each, with app.account and app.region), e.g. "
         '{"Test": {"app.account": "111111111111", "app.region": "eu-west-1"}, "Prod": {…}}'),
        (_environments(Test={"app.account": None, "app.region": None}), "environment Test: app.account: required when the "
         "pipeline deploys it: each environment goes to its own account and region; give app.account and app.region"),
        (_environments(Prod={"app.region": "eu-central-1"}),
         "environment Prod: app.region: 'eu-central-1' is not the pipeline's region (eu-west-1); the pipeline deploys to its "
         "own region (one pipeline per region)"),
        (_environments(Pipeline={"app.account": "333333333333", "app.region": "eu-west-1"}),
         "app.environments.Pipeline: 'Pipeline' is the name of the pipeline's stack; name the environment otherwise"),
        (_environments(Prod={"pipeline.branch": "release"}),
         "app.environments.Prod.pipeline.branch: not allowed inside an environment; one pipeline deploys them all"),
        (_with(pipeline__acount="999999999999"), "pipeline.acount: unknown setting; did you mean pipeline.account?"),
        # an environment's own bad setting names the environment, as without a pipeline
        (_environments(Prod={"network.existing_vpc_id": "vpc-0a1b2c3d4e5f60718"}),
         "environment Prod: network.existing_vpc_cidr: required when any network.existing_* setting is given"),
        (_environments(Test={"app.region": "ireland"}),
         "environment Test: app.region: 'ireland' is not an AWS region name (e.g. eu-west-1)"),
    ],
)
def test_each_bad_pipeline_setting_stops_with_one_line(context, message):
    with pytest.raises(ConfigError) as error:
        pipeline_environments(context, pipeline_mode(context))
    assert str(error.value) == message


@pytest.mark.background
def test_the_app_prints_a_bad_pipeline_setting_as_one_line():
    result = app_with_a_bad_pipeline_setting.result()
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line == ("error: pipeline.environments: 'Prd' is not an environment of app.environments; did you mean Prod? "
                    "(environments: Test, Prod)")
    assert f"`{line}`" in pipeline_docs.DOC.read_text()  # the doc's example of a bad setting


@pytest.mark.background
def test_a_commit_that_changes_the_deployed_pipeline_stops_the_synth_step():
    result = app_with_another_deployed_pipeline.result()
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: pipeline: this commit changes the pipeline (its settings, environments or code) and the pipeline running "
        "it was deployed from another definition; deploy the pipeline first (make pipeline, with the tooling account's "
        "credentials), then release this commit again"]


def test_the_definition_changes_with_the_settings_and_the_environments():
    settings = pipeline_mode(EXAMPLE)
    environments = pipeline_environments(EXAMPLE, settings)
    digest = definition_digest(settings, environments)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert definition_digest(replace(settings, branch="release"), environments) != digest
    assert definition_digest(settings, environments[1:]) != digest
    production_test = [replace(environments[0], production=True), environments[1]]
    assert definition_digest(settings, production_test) != digest
    assert definition_digest(settings, environments) == digest


# --- the pipeline stack -------------------------------------------------------------------------------------------------


def _pipeline(synth) -> dict:
    (resource,) = [r for r in synth.resources("Pipeline").values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    return resource["Properties"]


def _actions(synth, stage: str) -> list[dict]:
    (found,) = [s for s in _pipeline(synth)["Stages"] if s["Name"] == stage]
    return found["Actions"]


def _project(synth, description: str) -> dict:
    (project,) = [r["Properties"] for r in synth.resources("Pipeline", "AWS::CodeBuild::Project").values()
                  if r["Properties"]["Description"].endswith(description)]
    return project


def test_the_example_is_the_pipeline_stack_and_one_stage_per_environment(pipeline_app):
    stages = {name.split("/")[0] for name in pipeline_app.templates}
    assert stages == {"Pipeline", "Test", "Prod"}
    assert sorted(pipeline_app.templates) == ["Pipeline", *sorted(f"{s}/{n}" for s in ("Prod", "Test") for n in STAGE_STACKS)]
    accounts = {}
    for assembly in [pipeline_app.assembly, *(n.nested_assembly for n in pipeline_app.assembly.nested_assemblies)]:
        for stack in assembly.stacks:
            accounts[stack.hierarchical_id] = (stack.environment.account, stack.environment.region, stack.termination_protection)
    assert accounts.pop("Pipeline") == (PIPELINE, "eu-west-1", True)
    assert accounts == {f"{s}/{n}": (account, "eu-west-1", s == "Prod") for s, account in (("Test", TEST), ("Prod", PROD))
                        for n in STAGE_STACKS}
    assert pipeline_app.assembly.get_stack_by_name(STACK_NAME).stack_name == STACK_NAME


def test_the_stages_deploy_each_environment_in_order_with_its_accounts_roles(pipeline_app):
    pipeline = _pipeline(pipeline_app)
    assert pipeline["PipelineType"] == "V2" and pipeline["Name"] == PIPELINE_NAME
    assert [s["Name"] for s in pipeline["Stages"]] == ["Source", "Build", "Assets", "Test", "Prod"]
    for stage, account in (("Test", TEST), ("Prod", PROD)):
        deploys = [a for a in _actions(pipeline_app, stage) if a["ActionTypeId"]["Provider"] == "CloudFormation"]
        assert [a["Name"] for a in deploys] == [f"{n}.{step}" for n in STAGE_STACKS for step in ("Prepare", "Deploy")]
        orders = [a["RunOrder"] for a in deploys]
        assert orders == sorted(orders) and len(set(orders)) == len(orders)  # one stack after the other
        for action in deploys:
            assert action["Configuration"]["StackName"] == f"{stage}-{action['Name'].split('.')[0]}"
            assert json.dumps(action["RoleArn"]).endswith(f':iam::{account}:role/cdk-hnb659fds-deploy-role-{account}-eu-west-1"]]}}')
            if action["Name"].endswith(".Prepare"):
                assert action["Configuration"]["TemplatePath"].startswith(f"Synth_Output::assembly-{stage}/{stage}")
                assert action["Configuration"]["RoleArn"] == {
                    "Fn::Sub": f"arn:${{AWS::Partition}}:iam::{account}:role/cdk-hnb659fds-cfn-exec-role-{account}-eu-west-1"}


def test_a_person_approves_production_before_any_of_its_actions_and_only_production(pipeline_app):
    approvals = {stage["Name"]: [a for a in stage["Actions"] if a["ActionTypeId"]["Category"] == "Approval"]
                 for stage in _pipeline(pipeline_app)["Stages"]}
    assert {name: len(found) for name, found in approvals.items()} == {"Source": 0, "Build": 0, "Assets": 0, "Test": 0, "Prod": 1}
    (approval,) = approvals["Prod"]
    others = [a["RunOrder"] for a in _actions(pipeline_app, "Prod") if a is not approval]
    assert others and approval["RunOrder"] < min(others)
    (synth,) = _actions(pipeline_app, "Build")
    assert approval["Configuration"]["CustomData"] == f"#{{{synth['Namespace']}.APPROVAL_PROD}}"
    assert f"#{{{synth['Namespace']}.APPROVAL_PROD}}" in pipeline_docs.DOC.read_text()  # as the doc names it
    link = json.dumps(approval["Configuration"]["ExternalEntityLink"])
    bucket = next(k for k, r in pipeline_app.resources("Pipeline", "AWS::S3::Bucket").items() if "Artifacts" in k)
    assert f'{{"Ref": "{bucket}"}}' in link and "reviews/#{codepipeline.PipelineExecutionId}/Prod/REVIEW.md" in link


def _makefile_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.M))


def test_the_synth_step_runs_the_projects_make_targets(pipeline_app):
    project = _project(pipeline_app, "/Build/Synth")
    spec = json.loads(project["Source"]["BuildSpec"])
    assert spec["phases"]["install"]["commands"] == ["make setup-test"]
    assert spec["phases"]["install"]["runtime-versions"] == {"python": "3.11"}
    assert spec["phases"]["build"]["commands"] == ["make test", "make review", "make publish-review", ". cdk.out/review/approvals.env"]
    assert spec["env"]["exported-variables"] == ["APPROVAL_PROD"]
    assert spec["artifacts"]["base-directory"] == "cdk.out"
    made = [c.split()[1] for c in [*INSTALL_COMMANDS, *SYNTH_COMMANDS] if c.startswith("make ")]
    assert made == ["setup-test", "test", "review", "publish-review"] and set(made) <= _makefile_targets()
    settings = pipeline_mode(EXAMPLE)
    project_env = {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}
    assert project_env[DEFINITION_VARIABLE] == definition_digest(settings, pipeline_environments(EXAMPLE, settings))
    (synth,) = _actions(pipeline_app, "Build")
    action_env = {v["name"]: v["value"] for v in json.loads(synth["Configuration"]["EnvironmentVariables"])}
    (source,) = _actions(pipeline_app, "Source")
    assert action_env["PEF_SOURCE_REVISION"] == f"#{{{source['Namespace']}.CommitId}} (bank/platform main)"
    assert action_env[REVIEW_PREFIX_VARIABLE] == "reviews/#{codepipeline.PipelineExecutionId}"
    assert publish_review.BUCKET == REVIEW_BUCKET_VARIABLE and publish_review.PREFIX == REVIEW_PREFIX_VARIABLE


def test_the_source_is_the_repository_and_branch_through_the_connection(pipeline_app):
    (source,) = _actions(pipeline_app, "Source")
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"] == {"ConnectionArn": EXAMPLE["pipeline.connection_arn"], "FullRepositoryId": "bank/platform",
                                       "BranchName": "main", "DetectChanges": True}


def test_the_pipeline_does_not_mutate_itself_and_builds_unprivileged_with_logs_kept(pipeline_app):
    assert "UpdatePipeline" not in [s["Name"] for s in _pipeline(pipeline_app)["Stages"]]
    projects = pipeline_app.resources("Pipeline", "AWS::CodeBuild::Project")
    assert len(projects) == 2  # the synth step and the asset publishing (one project for all file assets)
    (group_id, group), = pipeline_app.resources("Pipeline", "AWS::Logs::LogGroup").items()
    assert group["Properties"]["RetentionInDays"] == 365 and group["DeletionPolicy"] == "Retain"
    assert "KmsKeyId" in group["Properties"]
    for project in projects.values():
        props = project["Properties"]
        assert props["Environment"]["PrivilegedMode"] is False
        assert props["Environment"]["Image"] == "aws/codebuild/standard:7.0"
        assert props["LogsConfig"]["CloudWatchLogs"] == {"GroupName": {"Ref": group_id}, "Status": "ENABLED"}
        assert props["EncryptionKey"]["Fn::GetAtt"][0].startswith("ArtifactStoreKey")


def test_artifacts_are_kept_encrypted_with_a_rotating_customer_managed_key(pipeline_app):
    resources = pipeline_app.resources("Pipeline")
    store = _pipeline(pipeline_app)["ArtifactStore"]
    key_id = store["EncryptionKey"]["Id"]["Fn::GetAtt"][0]
    assert resources[key_id]["Properties"]["EnableKeyRotation"] is True and resources[key_id]["DeletionPolicy"] == "Retain"
    bucket = resources[store["Location"]["Ref"]]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]}}
    assert props["VersioningConfiguration"] == {"Status": "Enabled"} and props["ObjectLockEnabled"] is True
    assert props["PublicAccessBlockConfiguration"] == {k: True for k in ("BlockPublicAcls", "BlockPublicPolicy",
                                                                          "IgnorePublicAcls", "RestrictPublicBuckets")}
    assert props["LoggingConfiguration"]["DestinationBucketName"]["Ref"].startswith("ArtifactStoreAccessLogs")
    assert props["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 365


def test_the_approvers_policy_may_approve_production_and_nothing_else(pipeline_app):
    (policy,) = [p for p in pipeline_app.resources("Pipeline", "AWS::IAM::ManagedPolicy").values()
                 if p["Properties"].get("ManagedPolicyName") == APPROVER_POLICY]
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert set(statements) == {"SeeThePipeline", "ListTheReviewReports", "ReadTheReviewReports", "DecryptTheReviewReports",
                               "ApproveProduction"}
    assert statements["ListTheReviewReports"]["Condition"] == {"StringLike": {"s3:prefix": ["reviews/*"]}}
    approve = statements["ApproveProduction"]
    assert approve["Action"] == "codepipeline:PutApprovalResult"
    assert json.dumps(approve["Resource"]).endswith('"/Prod/Approve"]]}')
    assert all(s["Effect"] == "Allow" and s["Resource"] != "*" for s in statements.values())


def test_the_asset_publishing_role_starts_no_build_and_writes_only_the_build_logs(pipeline_app):
    (limits,) = [p["Properties"] for p in pipeline_app.resources("Pipeline", "AWS::IAM::ManagedPolicy").values()
                 if p["Properties"].get("ManagedPolicyName") != APPROVER_POLICY]
    assert [r["Ref"] for r in limits["Roles"]] == [
        k for k in pipeline_app.resources("Pipeline", "AWS::IAM::Role") if k.startswith("PipelineAssetsFileRole")]
    denies = {s["Sid"]: s for s in limits["PolicyDocument"]["Statement"]}
    assert {s["Effect"] for s in denies.values()} == {"Deny"}
    assert set(denies) == {"NoBuildsOrReportsByTheAssetRole", "NoLogsButTheBuildLogs"}
    assert "codebuild:StartBuild" in denies["NoBuildsOrReportsByTheAssetRole"]["Action"]
    assert denies["NoBuildsOrReportsByTheAssetRole"]["Resource"] == "*"
    assert denies["NoLogsButTheBuildLogs"]["NotResource"]["Fn::GetAtt"][0].startswith("BuildLogs")


# --- the gates on the pipeline itself ------------------------------------------------------------------------------


def test_the_synth_ran_the_packs_over_the_pipeline_and_its_stages_and_left_nothing_open(pipeline_app):
    """CDK writes validation-report.json only when validation plugins are registered; it lists open findings (that the
    packs read the pipeline stack at all: test_a_finding_in_the_pipeline_stack_stops_the_synth)."""
    report = json.loads((Path(pipeline_app.assembly.directory) / "validation-report.json").read_text())
    assert [v["ruleName"] for r in report["pluginReports"] for v in r["violations"]] == []


def test_control_tower_fails_only_the_access_log_bucket_by_the_named_setting(pipeline_app):
    record = load_results(Path(pipeline_app.assembly.directory))["control-tower"]
    assert [(f["rule"], f["resource"].split("AccessLogs")[0], f["setting"]) for f in record["findings"]] == [
        ("CT.S3.PR.2", "Pipeline:ArtifactStore", "pipeline.access_log_bucket")]
    expected = {"CT.CODEBUILD.PR.3", "CT.CODEBUILD.PR.4", "CT.CODEBUILD.PR.5", "CT.KMS.PR.1", "CT.KMS.PR.3",
                "CT.S3.PR.1", "CT.S3.PR.8", "CT.S3.PR.9", "CT.S3.PR.10", "CT.CLOUDWATCH.PR.2", "CT.CLOUDWATCH.PR.3",
                "CT.IAM.PR.1", "CT.IAM.PR.2"}
    assert expected <= set(record["evaluated"])


def test_every_acknowledgement_on_the_pipeline_stack_is_one_finding_with_a_specific_reason(pipeline_app):
    acks = [(rule["id"], lid, rule["reason"]) for lid, r in pipeline_app.resources("Pipeline").items()
            for rule in r.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])]
    assert len(acks) > 40
    reasons: dict[str, set] = {}
    for rule, lid, reason in acks:
        check_reason(rule, reason)
        assert re.search(r"role|policy|bucket|project", reason), (rule, lid, reason)
        if rule.startswith("AwsSolutions-IAM5"):
            assert "[" in rule, rule
        reasons.setdefault(reason, set()).add(re.sub(r"^[\w.]+?-(\w+).*$", r"\1", rule))
    assert {reason: rules for reason, rules in reasons.items() if len(rules) > 1} == {}
    skips = [(s["id"], s["comment"]) for r in pipeline_app.resources("Pipeline").values()
             for s in r.get("Metadata", {}).get("checkov", {}).get("skip", [])]
    assert sorted(check for check, _ in skips) == ["CKV_AWS_111", "CKV_AWS_18"]


SMALL_ENVIRONMENTS = {name: {**own, "workloads.sample_app": False, "operations.bastion": False, "operations.fargate_logging": False}
                      for name, own in EXAMPLE["app.environments"].items()}
S3_SOURCE = {**{k: v for k, v in EXAMPLE.items() if k not in ("pipeline.repository", "pipeline.connection_arn")},
             "app.environments": SMALL_ENVIRONMENTS, "pipeline.source_bucket": "bank-platform-sources",
             "pipeline.access_log_bucket": "bank-tooling-access-logs",
             "pipeline.approval_topic_arn": "arn:aws:sns:eu-west-1:999999999999:platform-approvals",
             "compliance.log_retention_days": 731}


@pytest.fixture(scope="module")
def s3_source_pipeline(tmp_path_factory):
    """The air-gapped variant: the project's zip in S3, the organization's log bucket, an approval topic."""
    return synthesize_pipeline(tmp_path_factory.mktemp("s3-source"), S3_SOURCE, revision="")


def test_an_s3_source_with_an_existing_log_bucket_meets_every_control(s3_source_pipeline):
    (source,) = _actions(s3_source_pipeline, "Source")
    assert source["ActionTypeId"]["Provider"] == "S3"
    assert source["Configuration"] == {"S3Bucket": "bank-platform-sources", "S3ObjectKey": "private-eks-fargate.zip",
                                       "PollForSourceChanges": False}
    buckets = s3_source_pipeline.resources("Pipeline", "AWS::S3::Bucket")
    assert len(buckets) == 1
    (bucket,) = buckets.values()
    assert bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"] == "bank-tooling-access-logs"
    record = load_results(Path(s3_source_pipeline.assembly.directory))["control-tower"]
    assert record["checked"] > 20 and record["findings"] == []
    assert bucket["Properties"]["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 731
    (group,) = s3_source_pipeline.resources("Pipeline", "AWS::Logs::LogGroup").values()
    assert group["Properties"]["RetentionInDays"] == 731
    (approval,) = [a for a in _actions(s3_source_pipeline, "Prod") if a["ActionTypeId"]["Category"] == "Approval"]
    assert approval["Configuration"]["NotificationArn"] == S3_SOURCE["pipeline.approval_topic_arn"]
    (synth,) = _actions(s3_source_pipeline, "Build")
    action_env = {v["name"]: v["value"] for v in json.loads(synth["Configuration"]["EnvironmentVariables"])}
    assert action_env["PEF_SOURCE_REVISION"] == (
        f"s3://bank-platform-sources/private-eks-fargate.zip version #{{{source['Namespace']}.VersionId}}")


def test_a_finding_in_the_pipeline_stack_stops_the_synth(tmp_path):
    app = cdk.App(outdir=str(tmp_path), context={**CDK_JSON_CONTEXT, **S3_SOURCE})
    stack = build_delivery(app, app.node.get_all_context(), pipeline_mode(app.node.get_all_context()))
    s3.CfnBucket(stack, "Unprotected")
    with pytest.raises(RuntimeError, match="ValidationFailed") as caught:
        app.synth()
    for rule in ("AwsSolutions-S1", "NIST.800.53.R5-S3BucketLoggingEnabled", "CT.S3.PR.1", "CT.S3.PR.10"):
        assert rule in str(caught.value)


def test_the_cost_follows_the_usage_and_the_artifact_buckets_lifecycle(s3_source_pipeline):
    usage = Usage(releases=10, synth_minutes=5, asset_minutes=2, deploy_minutes_per_stage=7)
    lines = {line.item.split(" (")[0]: line for line in cost_lines(Path(s3_source_pipeline.assembly.directory), usage)}
    assert lines["CodePipeline V2 action minutes"].monthly == pytest.approx((1 + 5 + 2 + 2 * 7) * 10 * ACTION_MINUTE)
    assert lines["CodeBuild synth step"].monthly == pytest.approx(5 * 10 * BUILD_MINUTE["BUILD_GENERAL1_MEDIUM"])
    assert lines["CodeBuild asset publishing"].monthly == pytest.approx(2 * 10 * BUILD_MINUTE["BUILD_GENERAL1_SMALL"])
    keys = s3_source_pipeline.resources("Pipeline", "AWS::KMS::Key")
    assert lines["KMS keys"].quantity == str(len(keys)) and len(keys) == 2
    assert lines["S3 artifacts kept"].quantity.endswith("(releases of 731 days)")


# --- the approval message and the stage reports ---------------------------------------------------------------------


def _review(synth):
    return load_review(Path(synth.assembly.directory))


def test_the_approval_names_the_commit_admins_internet_keys_changed_settings_and_checks(pipeline_app):
    reviews = Path(pipeline_app.assembly.directory) / "review"
    message = (reviews / "Prod" / APPROVAL_FILE).read_text().strip()
    assert not (reviews / "Test" / APPROVAL_FILE).exists()
    assert len(message) <= MESSAGE_LIMIT
    prod = stage_review(_review(pipeline_app), "Prod")
    assert [s.path for s in prod.stacks] == [f"Prod/{n}" for n in STAGE_STACKS]
    entries = prod.resources("AWS::EKS::AccessEntry")
    keys = prod.resources("AWS::KMS::Key")
    assert entries and keys
    assert message.startswith(f"Prod -> {PROD}/eu-west-1 from 1a2b3c4d5e6f (bank/platform main). Admins: ")
    assert message.split("Admins: ")[1].split(". Internet:")[0].count("(ClusterAdmin)") == len(entries)
    assert f"KMS: {len(keys)} keys, all rotating." in message
    assert "Internet: none from the VPC; image copy pulls public.ecr.aws/nginx/nginx-unprivileged:1.28.0." in message
    changed = message.split("Changed: ")[1].split(". Checks:")[0].split(", ")
    assert "compliance.production" in changed
    digest = hashlib.sha256()  # over the stage's templates in the order of their stacks' paths
    by_path = sorted((f"Prod/{n}", pipeline_app.template_files[f"Prod/{n}"]) for n in STAGE_STACKS)
    assert by_path
    for _, path in by_path:
        digest.update(f"{path.name} {hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    assert message.endswith(f"Templates sha256 {digest.hexdigest()[:12]}.")
    assert templates_digest(prod) == digest.hexdigest()


def test_a_long_list_of_changed_settings_is_cut_to_fit_the_approval(pipeline_app):
    prod = stage_review(_review(pipeline_app), "Prod")
    cluster = next(s for s in prod.stacks if s.path == "Prod/Cluster")
    metadata = json.loads(json.dumps(cluster.metadata))
    (entry,) = [e for e in metadata[f"/{cluster.path}"] if e["type"] == "private-eks-fargate:build"]
    entry["data"]["changed"] = [f"cluster.setting_number_{i}" for i in range(30)]
    longer = replace(prod, stacks=[replace(s, metadata=metadata) if s is cluster else s for s in prod.stacks])
    _, record = pipeline_record(_review(pipeline_app))
    message = approval_message(longer, record["stages"][1])
    assert len(message) <= MESSAGE_LIMIT
    shown = message.split("Changed: ")[1].split(". Checks:")[0]
    assert re.fullmatch(r"(cluster\.setting_number_\d+, )*cluster\.setting_number_\d+ \+\d+ more", shown)
    assert int(shown.rsplit("+", 1)[1].split()[0]) + shown.count(",") + 1 == 30
    assert message.endswith(f"Templates sha256 {templates_digest(prod)[:12]}.")


def test_each_stage_report_is_of_its_stage_alone(pipeline_app):
    reviews = Path(pipeline_app.assembly.directory) / "review"
    for stage, account in (("Test", TEST), ("Prod", PROD)):
        summary = "\n".join(summary_items((reviews / stage / "REVIEW.md").read_text()))
        assert f"Stage `{stage}` ({account}/eu-west-1), stacks {stage}/Network, {stage}/Endpoints, {stage}/Cluster;" in summary
        assert "built from commit `1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b (bank/platform main)`" in summary
        assert "Pipeline" not in summary
        assert (reviews / stage / "architecture.svg").is_file() and (reviews / stage / "resources.json").is_file()


# --- the doc's commands and the synth step, run as written ----------------------------------------------------------


def _finished(run) -> None:
    failed = {command: result.stderr[-2000:] for command, result in run.runs.items() if result.returncode}
    assert run.runs and failed == {}


@pytest.mark.background
def test_the_docs_offline_commands_and_the_synth_step_run_as_written():
    run = example_run.result()
    _finished(run)
    offline, _ = pipeline_docs.doc_commands()
    assert list(run.runs) == offline
    review = run.runs[offline[0]]  # make review: make synth first, then the scans
    synth = [line for line in review.stderr.splitlines() if line.strip()]
    assert synth == [
        "review report: cdk.out/review/REVIEW.md", "review report: cdk.out/review/Test/REVIEW.md",
        "review report: cdk.out/review/Prod/REVIEW.md",
        "warning: Control Tower proactive controls 0.0.62: 1 failed, " + synth[3].split(": 1 failed, ")[1],
        f"Successfully synthesized to {run.project / 'cdk.out'}",
        "Supply a stack id (Pipeline, Test/Network, Test/Endpoints, Test/Cluster, Prod/Network, Prod/Endpoints, Prod/Cluster) "
        "to display its template.",
    ]
    assert synth[3].endswith("(CT.S3.PR.2); the user's choice: CT.S3.PR.2 by pipeline.access_log_bucket")
    assert "cfn-lint 1.58.0: 0 failed, 7 templates checked" in review.stdout
    assert re.search(r"checkov [\d.]+: 0 failed, 7 templates checked", review.stdout)
    prefix = f"s3://{pipeline_docs.EXAMPLE_BUCKET}/{pipeline_docs.EXAMPLE_PREFIX}"
    assert run.aws_calls == [f"s3 cp --recursive --only-show-errors cdk.out/review/{stage} {prefix}/{stage}/" for stage in ("Test", "Prod")]
    approval = (run.project / "cdk.out" / "review" / "Prod" / APPROVAL_FILE).read_text().strip()
    assert run.exported == approval
    assert "Checks: cdk-nag 0 open, Control Tower 0 failed, cfn-lint 0 failed, checkov 0 failed." in approval


@pytest.mark.background
def test_the_docs_approval_and_cost_table_are_what_the_example_writes():
    run = example_run.result()
    _finished(run)
    doc = pipeline_docs.DOC.read_text()
    sections = pipeline_docs.sections(run)
    assert sections
    for (begin, end), body in sections.items():
        assert doc.split(begin)[1].split(end)[0].strip() == body, "run: make docs"


def test_every_doc_command_runs_offline_or_says_it_needs_aws():
    offline, aws = pipeline_docs.doc_commands()
    assert offline and aws
    assert [line.split("  #")[0].strip() for line in offline] == [
        "make review", "make execution-policy",
        ".venv/bin/python -m private_eks_fargate.review.delivery_costs cdk.out --releases 20 --synth-minutes 20"]
    assert "make pipeline ARGS='--profile tooling'" in [line.split("  #")[0].strip() for line in aws]
    bootstraps = [line for line in aws if "cdk bootstrap" in line]
    assert len(bootstraps) == 3
    for line in bootstraps[1:]:
        assert f"--trust {PIPELINE}" in line and "PrivateEksFargateDeploy-1" in line and "PrivateEksFargateDeploy-2" in line
    blocks = pipeline_docs.DOC.read_text().split("```")[1::2]
    commands = [line for block in blocks if not block.startswith("json") for line in block.splitlines()
                if re.match(r"^\S+ ", line) and not line.startswith(("Prod ->", "Source"))]
    assert sorted(commands) == sorted(offline + aws)


@pytest.mark.background
def test_the_execution_policies_are_narrow_and_cover_every_resource_type():
    run = example_run.result()
    _finished(run)
    out = run.project / "cdk.out" / "execution-policy"
    written = sorted(p.name for p in out.glob("*.json"))
    assert written == ["pipeline-1.json", "stages-1.json", "stages-2.json"]
    assert [line for line in run.runs[pipeline_docs.doc_commands()[0][1]].stdout.splitlines() if line.startswith("cdk.out/")] == [
        f"cdk.out/execution-policy/{name}: {len(json.loads((out / name).read_text())['Statement'][0]['Action'])} actions"
        for name in ("stages-1.json", "stages-2.json", "pipeline-1.json")]
    review = load_review(run.project / "cdk.out")
    groups = {"stages": [s.template for s in review.stacks if s.path != "Pipeline"],
              "pipeline": [s.template for s in review.stacks if s.path == "Pipeline"]}
    assert groups
    for group, templates in groups.items():
        documents = [json.loads(p.read_text()) for p in sorted(out.glob(f"{group}-*.json"))]
        assert documents and templates
        actions = {a for d in documents for s in d["Statement"] for a in s["Action"]}
        for document in documents:
            assert len(json.dumps(document, separators=(",", ":"))) <= POLICY_SIZE_LIMIT
            assert all(s["Effect"] == "Allow" and s["Resource"] == "*" for s in document["Statement"])
        assert not [a for a in actions if "*" in a or re.match(r"iam:\w*(User|Group)", a) or a.startswith("organizations:")]
        types = resource_types(templates)
        assert types
        for resource_type in types:
            missing = handler_permissions(resource_type) - actions - {a for a in handler_permissions(resource_type)
                                                                      if re.match(r"iam:\w*(User|Group)", a)}
            assert not missing, (resource_type, missing)
    stage_actions = {a for p in out.glob("stages-*.json") for a in json.loads(p.read_text())["Statement"][0]["Action"]}
    assert {"eks:CreateCluster", "iam:PassRole", "lambda:InvokeFunction", "ssm:GetParameters", "codebuild:CreateProject"} <= stage_actions
    assert "iam:CreateUser" not in stage_actions


@pytest.mark.background
def test_a_stage_in_the_pipeline_deploys_the_templates_of_make_synth_env():
    run = example_run.result()
    _finished(run)
    other = one_environment.result()
    assert other["prod"].returncode == 0, other["prod"].stderr
    pipeline_stage = run.project / "cdk.out" / "assembly-Prod"
    alone = other["project"] / "cdk.out.prod" / "assembly-Prod"
    templates = sorted(p.name for p in alone.glob("*.template.json"))
    assert templates == sorted(p.name for p in pipeline_stage.glob("*.template.json")) and len(templates) == 3
    for name in templates:
        assert (alone / name).read_bytes() == (pipeline_stage / name).read_bytes(), name
    # what only the pipeline adds: each stack's tags as a CloudFormation template configuration file (the CLI passes
    # them as stack tags); the stacks' names, roles and environments are the same
    extra = sorted({p.name for p in pipeline_stage.iterdir()} - {p.name for p in alone.iterdir()})
    assert extra == sorted(f"{name}.config.json" for name in templates)
    assert json.loads((pipeline_stage / f"{templates[0]}.config.json").read_text()) == {"Tags": CDK_JSON_CONTEXT["compliance.tags"]}

    def stacks(directory):
        artifacts = json.loads((directory / "manifest.json").read_text())["artifacts"]
        return {k: (a["environment"], a["properties"]["stackName"], a["properties"].get("assumeRoleArn"),
                    a["properties"].get("cloudFormationExecutionRoleArn"), a["properties"].get("terminationProtection"))
                for k, a in artifacts.items() if a["type"] == "aws:cloudformation:stack"}

    assert stacks(alone) == stacks(pipeline_stage) and len(stacks(alone)) == 3


@pytest.mark.parametrize(
    "command, env, args, expected",
    [
        ("synth", "", [], ["synth", "Test/*", "Prod/*", "Pipeline", "--quiet"]),
        ("synth", "", ["-c", "pipeline.environments=Prod"], ["synth", "Prod/*", "Pipeline", "--quiet", "-c", "pipeline.environments=Prod"]),
        ("synth", "prod", [], ["synth", "Prod/*", "--quiet", "-c", "app.environment=Prod"]),
        ("deploy", "prod", [], ["deploy", "Prod/*", "--import-existing-resources", "-c", "app.environment=Prod"]),
        ("pipeline", "", ["--profile", "tooling"], ["deploy", "--exclusively", "Pipeline", "--profile", "tooling"]),
    ],
)
def test_make_targets_in_pipeline_mode(command, env, args, expected):
    assert make_cdk.cli_arguments(command, env, args, {**CDK_JSON_CONTEXT, **EXAMPLE}) == expected


@pytest.mark.parametrize(
    "env, context, message",
    [
        ("prod", EXAMPLE, "ENV: not used with make pipeline: the pipeline deploys every environment of pipeline.environments"),
        ("", {}, "pipeline: no pipeline.* settings in cdk.json or ARGS; see docs/pipeline.md for the settings"),
    ],
)
def test_make_pipeline_mistakes_stop_before_the_cli_starts(env, context, message):
    with pytest.raises(ConfigError) as error:
        make_cdk.cli_arguments("pipeline", env, [], {**CDK_JSON_CONTEXT, **context})
    assert str(error.value) == message


def test_publish_review_outside_the_pipeline_stops_with_one_line(monkeypatch, capsys):
    monkeypatch.delenv(publish_review.BUCKET, raising=False)
    monkeypatch.delenv(publish_review.PREFIX, raising=False)
    assert publish_review.main() == 2
    assert capsys.readouterr().err == (
        "error: publish-review runs in the pipeline's synth step, which sets PEF_REVIEW_BUCKET and PEF_REVIEW_PREFIX\n")


# --- make test on the project's own configuration -----------------------------------------------------------------

SHOW = ("import json, os, pathlib; c = json.load(open('cdk.json'))['context']; "
        "print(sorted(k for k in c if k.startswith(('app.', 'pipeline.'))), pathlib.Path('cdk.context.json').exists(), "
        "os.environ.get('PEF_SOURCE_REVISION'), len(c), os.getcwd())")


def test_make_test_runs_the_suite_on_the_projects_own_configuration(tmp_path):
    project = pipeline_docs.example_project(tmp_path)
    (project / "cdk.context.json").write_text('{"availability-zones:account=111111111111:region=eu-west-1": ["eu-west-1a"]}')
    env = {**os.environ, "PEF_SOURCE_REVISION": "abc"}
    result = subprocess.run([sys.executable, str(project / "scripts" / "own_config.py"), "--", sys.executable, "-c", SHOW],
                            cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    keys, context_file, revision, count, cwd = result.stdout.strip().rsplit(" ", 4)
    assert (keys, context_file, revision, int(count)) == ("[]", "False", "None", len(CDK_JSON_CONTEXT))
    assert cwd != str(project)
    (line,) = result.stderr.splitlines()
    assert line.startswith("python") and line.endswith(
        "(without app.environments, pipeline.account, pipeline.region, pipeline.repository, pipeline.connection_arn, "
        "cdk.context.json)")
    # the project as shipped: in place
    shipped = subprocess.run([sys.executable, str(ROOT / "scripts" / "own_config.py"), "--", sys.executable, "-c", SHOW],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert shipped.stdout.strip().endswith(f"False None {len(CDK_JSON_CONTEXT)} {ROOT}") and shipped.stderr == ""
    assert own_config.deployment_keys(CDK_JSON_CONTEXT) == []
    from private_eks_fargate.app import pipeline, stage

    assert set(own_config.PIPELINE_VARIABLES) == {stage.SOURCE_REVISION_VARIABLE, pipeline.DEFINITION_VARIABLE,
                                                   REVIEW_BUCKET_VARIABLE, REVIEW_PREFIX_VARIABLE}
