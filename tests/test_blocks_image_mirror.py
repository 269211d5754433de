"""The workload repository and the deploy-time copy into it: settings, where it runs, what it may do, when it runs."""

import json
import re
import subprocess
import sys
import types

import pytest
from private_eks_fargate.blocks.image_mirror import (
    BUILD_SPEC,
    BUILD_SPEC_HASH,
    HANDLER,
    HANDLER_TIMEOUT,
    KEEP_IMAGES,
    RESOURCE_TYPE,
    RETRY,
    RETRY_ATTEMPTS,
    UNTAGGED_DAYS,
)

from conftest import CHANGED_SAMPLE_IMAGE, find_one

SAMPLE_SOURCE = "public.ecr.aws/nginx/nginx-unprivileged:1.28.0"
SAMPLE_REPOSITORY = "devcluster-baa1fb0d/sample-app"


THIS_REGISTRY = [{"Ref": "AWS::AccountId"}, ".dkr.ecr.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}]


@pytest.fixture(scope="module")
def resources(cluster_resources):
    return cluster_resources


@pytest.fixture(scope="module")
def repository(resources):
    return find_one(resources, lambda r: r["Type"] == "AWS::ECR::Repository")


@pytest.fixture(scope="module")
def project(resources):
    return find_one(resources, lambda r: r["Type"] == "AWS::CodeBuild::Project")


@pytest.fixture(scope="module")
def copy(resources):
    return find_one(resources, lambda r: r["Type"] == RESOURCE_TYPE)


def test_repository_is_kms_encrypted_scanned_immutable_expiring_and_retained(resources, repository):
    _, repo = repository
    props = repo["Properties"]
    # named after the cluster (DevCluster-BAA1FB0D): another stage in the account has a repository of its own
    assert props["RepositoryName"] == SAMPLE_REPOSITORY == "devcluster-baa1fb0d/sample-app"
    assert props["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert props["ImageTagMutability"] == "IMMUTABLE"
    key_id = props["EncryptionConfiguration"]["KmsKey"]["Fn::GetAtt"][0]
    assert props["EncryptionConfiguration"]["EncryptionType"] == "KMS"
    assert resources[key_id]["Properties"]["EnableKeyRotation"] is True
    assert resources[key_id]["DeletionPolicy"] == repo["DeletionPolicy"] == repo["UpdateReplacePolicy"] == "Retain"
    rules = json.loads(props["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert [(r["selection"]["tagStatus"], r["selection"]["countType"], r["selection"]["countNumber"]) for r in rules] == [
        ("untagged", "sinceImagePushed", UNTAGGED_DAYS),
        ("any", "imageCountMoreThan", KEEP_IMAGES),
    ]
    assert all(r["action"] == {"type": "expire"} for r in rules)


def test_copy_build_runs_outside_the_vpc_unprivileged_with_encrypted_retained_logs(resources, project, repository):
    _, build = project
    props = build["Properties"]
    assert "VpcConfig" not in props  # CodeBuild's own network: the internet, not the isolated VPC
    assert props["Environment"]["PrivilegedMode"] is False
    assert props["Environment"]["Image"] == "aws/codebuild/standard:7.0"
    assert props["EncryptionKey"] == resources[repository[0]]["Properties"]["EncryptionConfiguration"]["KmsKey"]
    env = {v["Name"]: v["Value"] for v in props["Environment"]["EnvironmentVariables"]}
    assert env == {
        "SOURCE_IMAGE": SAMPLE_SOURCE,
        "TARGET_REGISTRY": {"Fn::Join": ["", THIS_REGISTRY]},
        "TARGET_REPOSITORY": SAMPLE_REPOSITORY,
        "TARGET_TAG": "1.28.0",
    }
    assert json.loads(props["Source"]["BuildSpec"]) == BUILD_SPEC
    # every step that reaches a package mirror or a registry runs under the retry function (test_build_retries_…)
    assert BUILD_SPEC["phases"]["install"]["commands"] == [f"{RETRY}retry apt-get update -qq", f"{RETRY}retry apt-get install -y -qq skopeo"]
    log_group = resources[props["LogsConfig"]["CloudWatchLogs"]["GroupName"]["Ref"]]
    assert log_group["Properties"]["RetentionInDays"] == 365 and log_group["DeletionPolicy"] == "Retain"


def statements(resources, role_id):
    return [
        s for p in resources.values() if p["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_copy_build_may_push_to_its_repository_only(resources, project, repository):
    _, build = project
    ecr = [s for s in statements(resources, build["Properties"]["ServiceRole"]["Fn::GetAtt"][0]) if "ecr:" in json.dumps(s["Action"])]
    by_resource = {json.dumps(s["Resource"]): sorted(s["Action"] if isinstance(s["Action"], list) else [s["Action"]]) for s in ecr}
    assert by_resource == {
        # the registry login cannot be scoped to a repository (IAM allows only "*" for this action)
        '"*"': ["ecr:GetAuthorizationToken"],
        json.dumps({"Fn::GetAtt": [repository[0], "Arn"]}): [
            "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:DescribeImages",
            "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
        ],
    }


def test_waiting_custom_resource_runs_in_the_vpc_and_may_only_start_and_read_this_build(resources, copy, project):
    _, resource = copy
    provider = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    assert provider.startswith("ImageCopyProviderframeworkonEvent")
    functions = {k: v for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function" and k.startswith("ImageCopyProvider")}
    assert len(functions) == 2  # the copy Lambda (starts and polls) and the provider framework's onEvent
    for key, function in functions.items():  # AWS Control Tower CT.LAMBDA.PR.3: in the cluster subnets
        assert len(function["Properties"]["VpcConfig"]["SubnetIds"]) == 2, key
    project_arn = {"Fn::GetAtt": [project[0], "Arn"]}
    _, function = find_one(functions, lambda f: f["Properties"].get("Handler") == "index.on_event")
    assert function["Properties"]["Timeout"] == 14 * 60
    assert statements(resources, function["Properties"]["Role"]["Fn::GetAtt"][0]) == [
        {"Action": ["codebuild:BatchGetBuilds", "codebuild:StartBuild"], "Effect": "Allow", "Resource": project_arn}
    ]
    assert project[1]["Properties"]["TimeoutInMinutes"] == 12  # CodeBuild stops the copy before the Lambda must
    # it polls the build itself: no waiter state machine (CT.STEPFUNCTIONS.PR.1/PR.2 have nothing to fail)
    assert not [r for r in resources.values() if r["Type"] == "AWS::StepFunctions::StateMachine"]


def test_copy_waits_for_repository_and_build_role_and_names_the_image(copy, project, repository, resources):
    _, resource = copy
    role = project[1]["Properties"]["ServiceRole"]["Fn::GetAtt"][0]
    (policy,) = [k for k, v in resources.items() if v["Type"] == "AWS::IAM::Policy" and {"Ref": role} in v["Properties"]["Roles"]]
    # the handlers start and poll the build with permissions in policies of their own: the copy must not race them
    handler_policies = [
        k for k, v in resources.items()
        if v["Type"] == "AWS::IAM::Policy" and {"codebuild:StartBuild", "codebuild:BatchGetBuilds"} & set(json.dumps(v["Properties"]["PolicyDocument"]).replace('"', " ").split())
    ]
    assert len(handler_policies) == 1
    assert {repository[0], role, policy, *handler_policies} <= set(resource["DependsOn"])
    assert resource["Properties"] == {
        "ServiceToken": resource["Properties"]["ServiceToken"],
        "ProjectName": {"Ref": project[0]},
        "SourceImage": SAMPLE_SOURCE,
        "TargetImage": {"Fn::Join": ["", [*THIS_REGISTRY, f"/{SAMPLE_REPOSITORY}:1.28.0"]]},
        "BuildSpecHash": BUILD_SPEC_HASH,  # a changed copy procedure copies and reports the digest again
        # a lost answer fails the copy 2 minutes after the handler Lambda (14 minutes) must have stopped
        "ServiceTimeout": str(int(HANDLER_TIMEOUT.to_seconds()) + 120),
    }


def test_only_a_changed_image_changes_what_cloudformation_sees(default_app, existing_vpc_app, copy, project):
    """Same settings: identical properties, so CloudFormation sends no update and nothing is copied (re-synth
    stability is test_stage.test_resynth_is_stable). Another tag: the custom resource changes, so it copies again."""
    key, resource = copy
    changed = existing_vpc_app.resources("Prod/Cluster")
    assert changed[key]["Properties"] == resource["Properties"] | {
        "SourceImage": CHANGED_SAMPLE_IMAGE,
        "TargetImage": {"Fn::Join": ["", [*THIS_REGISTRY, "/bank-private/sample-app:1.29.1"]]},
    }
    env = {v["Name"]: v["Value"] for v in changed[project[0]]["Properties"]["Environment"]["EnvironmentVariables"]}
    assert (env["SOURCE_IMAGE"], env["TARGET_TAG"]) == (CHANGED_SAMPLE_IMAGE, "1.29.1")


def test_handler_code_fails_the_deploy_when_the_build_fails(monkeypatch):
    """The handlers run on AWS; here their logic is run against a stub CodeBuild client."""
    module = types.ModuleType("index")
    builds = {"b-1": {"id": "b-1", "buildStatus": "IN_PROGRESS", "logs": {"deepLink": "https://console/log"}}}
    started = []

    class CodeBuild:
        def start_build(self, projectName):
            started.append(projectName)
            return {"build": dict(builds["b-1"], buildStatus="IN_PROGRESS")}

        def batch_get_builds(self, ids):
            return {"builds": [builds[i] for i in ids]}

    clients = []
    monkeypatch.setitem(sys.modules, "boto3", types.SimpleNamespace(client=lambda name, config: clients.append(config) or CodeBuild()))
    monkeypatch.setitem(sys.modules, "botocore", types.ModuleType("botocore"))
    monkeypatch.setitem(sys.modules, "botocore.config", types.SimpleNamespace(Config=lambda **kwargs: kwargs))
    monkeypatch.setitem(sys.modules, "time", types.SimpleNamespace(sleep=lambda seconds: polls.append(seconds)))
    exec(HANDLER, module.__dict__)
    # CodeBuild calls retry throttling and transient errors (botocore's standard mode)
    assert clients == [{"retries": {"mode": "standard", "max_attempts": 8}}]
    props = {"ProjectName": "p", "SourceImage": SAMPLE_SOURCE, "TargetImage": f"acct.dkr.ecr.r.amazonaws.com/{SAMPLE_REPOSITORY}:1.28.0"}
    create = {"RequestType": "Create", "ResourceProperties": props}
    context = types.SimpleNamespace(get_remaining_time_in_millis=lambda: remaining[0])
    remaining, polls = [600_000], []

    def ends(status, variables=()):
        builds["b-1"].update(buildStatus="IN_PROGRESS")
        def batch_get_builds(ids):
            builds["b-1"].update(buildStatus=status, exportedEnvironmentVariables=list(variables))
            return {"builds": [builds[i] for i in ids]}
        return batch_get_builds

    CodeBuild.batch_get_builds = lambda self, ids: ends_with(ids)
    ends_with = ends("SUCCEEDED")
    with pytest.raises(RuntimeError, match=r"copy of \S+ reported no image digest \(''\): https://console/log"):
        module.on_event(create, context)  # a build that exported no digest must not let pods run an unknown image
    assert started == ["p"] and polls == [15]
    digest = "sha256:" + "ab" * 32
    ends_with = ends("SUCCEEDED", [{"name": "IMAGE_DIGEST", "value": digest}])
    assert module.on_event(create, context) == {
        "PhysicalResourceId": props["TargetImage"], "Data": {"BuildId": "b-1", "Digest": digest}}
    ends_with = ends("FAILED")
    with pytest.raises(RuntimeError, match=rf"copy of {re.escape(SAMPLE_SOURCE)} ended FAILED: https://console/log"):
        module.on_event(create, context)

    def builds_ending(*outcomes):
        """Each build polled once, ending as the next of `outcomes` (status, phases, exported variables)."""
        pending = list(outcomes)
        def batch_get_builds(ids):
            status, phases, variables = pending.pop(0)
            builds["b-1"].update(buildStatus=status, phases=phases, exportedEnvironmentVariables=list(variables))
            return {"builds": [builds[i] for i in ids]}
        return batch_get_builds

    copied = ("SUCCEEDED", [], [{"name": "IMAGE_DIGEST", "value": digest}])
    copy_failed = [{"phaseType": "PROVISIONING", "phaseStatus": "SUCCEEDED"}, {"phaseType": "BUILD", "phaseStatus": "FAILED"}]
    not_provisioned = [{"phaseType": "SUBMITTED", "phaseStatus": "SUCCEEDED"}, {"phaseType": "PROVISIONING", "phaseStatus": "FAILED"}]
    # CodeBuild's own fault, or a build that failed before its commands ran, is started once more
    for status, phases in (("FAULT", []), ("FAILED", not_provisioned)):
        started.clear()
        ends_with = builds_ending((status, phases, ()), copied)
        assert module.on_event(create, context)["Data"]["Digest"] == digest
        assert started == ["p", "p"], status
    # the copy's own failure (after the build's retries) is not started again, nor is a second fault
    for outcomes in ((("FAILED", copy_failed, ()),), (("FAULT", [], ()), ("FAULT", [], ()))):
        started.clear()
        ends_with = builds_ending(*outcomes)
        with pytest.raises(RuntimeError, match=r"ended (FAILED|FAULT): https://console/log"):
            module.on_event(create, context)
        assert len(started) == len(outcomes)
    # nor when the Lambda could not wait for a second build
    started.clear()
    remaining[0] = 5 * 60_000
    ends_with = builds_ending(("FAULT", [], ()))
    with pytest.raises(RuntimeError, match=r"ended FAULT"):
        module.on_event(create, context)
    assert started == ["p"]
    ends_with = ends("IN_PROGRESS")
    remaining[0] = 20_000
    with pytest.raises(RuntimeError, match=r"still running when this Lambda had to stop: build b-1"):
        module.on_event(create, context)
    started.clear()
    deleted = module.on_event({"RequestType": "Delete", "PhysicalResourceId": "x", "ResourceProperties": props}, context)
    assert deleted == {"PhysicalResourceId": "x"} and started == []  # delete starts nothing; images are retained


DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    "tag_in_ecr, skopeo_failures, reported",
    [(True, 0, DIGEST), (False, 0, DIGEST), (False, 2, DIGEST), (False, RETRY_ATTEMPTS, DIGEST), (False, 0, "None")],
)
def test_build_copies_only_a_missing_tag_retrying_with_backoff_then_exports_the_digest_ecr_holds(
    tmp_path, tag_in_ecr, skopeo_failures, reported
):
    """The build's commands run by bash as CodeBuild runs them (one shell, the phase fails at the first failing
    command), with `aws`, `skopeo` and `sleep` stubbed: what it would do in CodeBuild. A copy that fails is tried again
    (up to RETRY_ATTEMPTS, 10, 20, 40, 80 s apart), each time checking ECR first."""
    commands = BUILD_SPEC["phases"]["build"]["commands"]
    assert len(commands) == 2 and BUILD_SPEC["env"]["exported-variables"] == ["IMAGE_DIGEST"]
    calls, failures = tmp_path / "calls", tmp_path / "failures"
    failures.write_text(str(skopeo_failures))
    for tool, body in (
        ("aws", f'echo "aws $*" >> {calls}; [ "$2" = get-login-password ] && echo TOKEN; '
                f'[ "$2" = describe-images ] && [ "$7" = --query ] && echo {reported} && exit 0; '
                f'[ "$2" = describe-images ] && exit {0 if tag_in_ecr else 254}; exit 0'),
        ("skopeo", f'echo "skopeo $*" >> {calls}; left=$(cat {failures}); '
                   f'[ "$left" -gt 0 ] && echo $((left - 1)) > {failures} && exit 1; exit 0'),
        ("sleep", f'echo "sleep $*" >> {calls}'),
    ):
        (tmp_path / tool).write_text(f"#!/bin/bash\n{body}\n")
        (tmp_path / tool).chmod(0o755)
    env = {
        "PATH": f"{tmp_path}:/usr/bin:/bin", "SOURCE_IMAGE": SAMPLE_SOURCE, "TARGET_REGISTRY": "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
        "TARGET_REPOSITORY": SAMPLE_REPOSITORY, "TARGET_TAG": "1.28.0",
    }
    script = "".join(f"{command} || exit $?\n" for command in commands) + 'echo "exported IMAGE_DIGEST=$IMAGE_DIGEST"\n'
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    copy_fails = skopeo_failures >= RETRY_ATTEMPTS
    fails = copy_fails or reported != DIGEST
    assert result.returncode == (1 if fails else 0), result.stderr  # non-zero fails the build, then the deploy
    describe = f"aws ecr describe-images --repository-name {SAMPLE_REPOSITORY} --image-ids imageTag=1.28.0"
    copy = [
        describe,
        "aws ecr get-login-password",
        "skopeo --override-os linux --override-arch amd64 copy --dest-creds AWS:TOKEN "
        f"docker://{SAMPLE_SOURCE} docker://111122223333.dkr.ecr.eu-west-1.amazonaws.com/{SAMPLE_REPOSITORY}:1.28.0",
    ]
    attempts = min(skopeo_failures + 1, RETRY_ATTEMPTS)
    backoff = [f"sleep {5 * 2 ** attempt}" for attempt in range(1, attempts)]
    copied = [describe] if tag_in_ecr else [line for attempt in range(attempts) for line in (copy + backoff[attempt:attempt + 1])]
    digest_query = f"{describe} --query imageDetails[0].imageDigest --output text"
    expected = [*copied, *([] if copy_fails else [digest_query])]
    assert calls.read_text().splitlines() == expected
    assert backoff == ["sleep 10", "sleep 20", "sleep 40", "sleep 80"][: attempts - 1]
    if not fails:
        already = f"{SAMPLE_REPOSITORY}:1.28.0 is already in ECR\n" if tag_in_ecr else ""
        assert result.stdout == f"{already}{SAMPLE_REPOSITORY}:1.28.0 is {DIGEST}\nexported IMAGE_DIGEST={DIGEST}\n"
    retried = [line for line in result.stderr.splitlines() if line.startswith("attempt ")]
    assert retried == [f"attempt {n} of copy_missing failed; again in {5 * 2 ** n} s" for n in range(1, attempts)]


def test_package_installs_are_retried_with_the_same_backoff(tmp_path):
    """The install phase's apt-get runs under the retry function too: a mirror that fails twice costs 30 s, no build."""
    failures = tmp_path / "failures"
    failures.write_text("2")
    (tmp_path / "apt-get").write_text(f'#!/bin/bash\nleft=$(cat {failures}); [ "$left" -gt 0 ] && echo $((left - 1)) > {failures} && exit 100; echo "apt-get $*"\n')
    (tmp_path / "sleep").write_text('#!/bin/bash\necho "sleep $*"\n')
    for tool in ("apt-get", "sleep"):
        (tmp_path / tool).chmod(0o755)
    script = "".join(f"{command} || exit $?\n" for command in BUILD_SPEC["phases"]["install"]["commands"])
    result = subprocess.run(["bash", "-c", script], env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["sleep 10", "sleep 20", "apt-get update -qq", "apt-get install -y -qq skopeo"]
