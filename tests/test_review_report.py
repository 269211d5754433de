"""The review report: every section present, its numbers and facts match the templates, the diagram is drawn."""

import json
import re
import subprocess
from pathlib import Path

from private_eks_fargate.review.report import (
    SECTIONS,
    SUMMARY_WIDTH,
    Review,
    StackTemplate,
    checkov_skips,
    public_exposure,
    show,
)

from conftest import ROOT, summary_items


def test_report_has_every_section_in_order(default_review):
    text = default_review.read_text()
    titles = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert titles == list(SECTIONS)


def test_report_lists_every_security_group_rule(default_app, default_review):
    text = default_review.read_text()
    (group_id,) = default_app.resources("Dev/Endpoints", "AWS::EC2::SecurityGroup")
    assert (f"| Dev/Endpoints | {group_id} (VPC interface endpoints: HTTPS from inside the VPC only) | inbound | tcp | 443 "
            "| 10.0.0.0/16 | HTTPS from inside the VPC to the AWS service endpoints |") in text
    groups = [k for k, r in default_app.all_resources().items() if r["Type"] == "AWS::EC2::SecurityGroup"]
    assert groups
    for key in groups:
        assert f"| {key.split(':')[1]} (" in text, key


def test_report_lists_every_role_with_trust_and_policies(default_app, default_review):

    section = default_review.read_text().split("## IAM roles")[1].split("## VPC endpoints")[0]
    roles = {k.split(":")[1]: r for k, r in default_app.all_resources().items() if r["Type"] == "AWS::IAM::Role"}
    assert any(role_id.startswith("OperationsBastionRole") for role_id in roles)
    for role_id, role in roles.items():
        block = section.split(f"`{role_id}`")[1].split("### ")[0]
        (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert f"- trust: sts:AssumeRole by Service: {trust['Principal']['Service']}" in block, role_id
        missing = [arn for arn in role["Properties"].get("ManagedPolicyArns", []) if f"policy: `{show(arn)}`" not in block]
        assert missing == [], role_id
    assert "AmazonEKSFargatePodExecutionRolePolicy" in section
    assert "customer-managed policy" in section and "logs:CreateLogStream" in section


def test_report_explains_every_endpoint(existing_vpc_app, existing_vpc_review):
    text = existing_vpc_review
    section = text.split("## VPC endpoints")[1].split("## Anything public")[0]
    endpoints = [r for r in existing_vpc_app.all_resources().values() if r["Type"] == "AWS::EC2::VPCEndpoint"]
    # S3 gateway, 6 for the cluster, secretsmanager and ec2 (extra), 3 for the SSM bastion, kms for its session key
    assert len(endpoints) == 13
    for endpoint in endpoints:
        purpose = endpoint["Metadata"]["Purpose"]
        assert f"| Prod/Endpoints | com.amazonaws.<region>.{purpose['Service']} |" in section
        assert purpose["Why"].replace("|", "\\|") in section
    assert section.count("OnlyPrincipalsOfThisAccount") == 12  # strict mode: every interface endpoint
    assert "EcrImageLayers" in section


def test_report_finds_nothing_public_in_the_default_app(default_review):
    section = default_review.read_text().split("## Anything public")[1].split("## Compliance")[0]
    assert "**Nothing public.**" in section


def test_public_exposure_is_reported_when_present():
    template = {"Resources": {
        "Igw": {"Type": "AWS::EC2::InternetGateway", "Properties": {}},
        "Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "web", "SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}]}},
        "Eks": {"Type": "AWS::EKS::Cluster", "Properties": {"ResourcesVpcConfig": {"SubnetIds": []}}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
    }}  # fmt: skip
    findings = public_exposure(Review(stacks=[StackTemplate(path="X/Y", name="X-Y", template=template)]))
    assert findings == [
        "X/Y: `Igw` (AWS::EC2::InternetGateway): internet-facing resource type",
        "X/Y: `Eks` (AWS::EKS::Cluster): public API server endpoint",
        "X/Y: `Bucket` (AWS::S3::Bucket): public access not blocked",
        "X/Y: security group Sg (web) admits 0.0.0.0/0 on 22",
    ]


def test_report_gives_compliance_results_grouped_by_rule_and_every_acknowledgement_beside_it(default_app, default_review):
    section = default_review.read_text().split("## Compliance")[1].split("## Monthly cost estimate")[0]
    assert "**0 unacknowledged findings**" in section
    assert "AwsSolutions, NIST.800.53.R5, HIPAA.Security, PCI.DSS.321, PrivateEks" in section
    acks = [
        (rule["id"], key.split(":")[1], rule["reason"])
        for key, resource in default_app.all_resources().items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert f"{len(acks)} acknowledged findings" in section
    by_rule = {}
    for rule, _, _ in acks:
        by_rule[rule.split("[")[0]] = by_rule.get(rule.split("[")[0], 0) + 1
    assert len(by_rule) > 10
    for rule, count in by_rule.items():
        assert f"| {rule} | {count} | " in section, rule
    records = json.loads((default_review.parent / "resources.json").read_text())
    listed = {(a["rule"], r["logical_id"], a["reason"]) for r in records for a in r["acknowledgements"]}
    assert listed == set(acks)
    skips = checkov_skips(ROOT / ".checkov.yaml")
    assert skips
    for check, reason in skips:
        assert f"| {check} | {reason} |" in section


def test_resource_list_beside_the_report_has_every_resource_with_its_construct_path(default_app, default_review):
    records = json.loads((default_review.parent / "resources.json").read_text())
    resources = default_app.all_resources()
    assert len(records) == len(resources) > 70  # 81 since the image copy has no waiter state machine (issue 11)
    assert {f"{r['stack']}:{r['logical_id']}" for r in records} == set(resources)
    assert [r for r in records if not r["construct_path"].startswith(r["stack"] + "/")] == []
    retained = {r["logical_id"] for r in records if r["deletion_policy"] == "Retain"}
    assert retained == {k.split(":")[1] for k, r in resources.items() if r.get("DeletionPolicy") == "Retain"}


summary_of = summary_items


def test_default_report_is_under_34_kb_with_a_summary_under_80_items_of_readable_width(default_review):
    """34 KB: the regions (issue 15) and every log group with its writer in the summary, the kubectl Lambdas' own
    security group and the image copy on the deploy path (issue 16) took the default report from 27.5 to 31.5 KB; what
    each key encrypts, the bastion's AMI and the settings that are unset or do not apply, saying so (issue 18), to 32.7."""
    text = default_review.read_text()
    assert len(text.encode()) < 34_000
    lines = text.split("## Summary\n")[1].split("\n## ")[0].splitlines()
    assert 20 < len(summary_of(text)) < 80
    assert max(len(line) for line in lines) <= SUMMARY_WIDTH


def test_summary_says_what_is_deployed_and_who_administers_it_and_how(default_app, default_review):
    summary = "\n".join(summary_of(default_review.read_text()))
    assert "Kubernetes 1.36, API endpoint private only" in summary
    assert "control-plane logs: api, audit, authenticator, controllerManager, scheduler" in summary
    assert re.search(r"\(AmazonEKSClusterAdminPolicy\) -> role `OperationsBastionRole\w+` -> the instance "
                     r"OperationsBastionInstance\w+: the IAM principals of this account whose policies allow "
                     r"ssm:StartSession on it \(no SSH, no key pair\)", summary)
    assert re.search(r"-> role `ClusterKubectlProviderHandlerServiceRole\w+` -> the Lambda ClusterKubectlProviderHandler\w+, "
                     "invoked only by CloudFormation", summary)
    assert "- from the VPC: none (no internet or NAT gateway" in summary
    assert "outside the VPC (CodeBuild's network): pulls public.ecr.aws/nginx/nginx-unprivileged:1.28.0 at deploy" in summary
    keys = [k for k, r in default_app.all_resources().items() if r["Type"] == "AWS::KMS::Key"]
    assert len(keys) == summary.count(", rotating): encrypts ") > 1
    # statements of every key's policy once; CT.KMS.PR.3's deny reads as a deny with its condition, never as a grant
    assert ("- every key's policy: the account (IAM policies decide who): kms:*; anyone: denied use (CreateGrant) when "
            "kms:GrantIsForAWSResource is false (or absent) and aws:PrincipalIsAWSService is false (or absent)\n") in summary
    assert "when kms:EncryptionContext:aws:logs:arn matches arn:<partition>:logs:<region>:<account>:log-group:" in summary
    assert " for false" not in summary
    assert "**Retained on destroy**: ECR::Repository × 1, KMS::Key × 6, Logs::LogGroup × 6" in summary


def test_summary_names_configured_admins_and_the_internet_gateway_of_the_public_bastion(public_bastion_app):
    from private_eks_fargate.review.report import load_review, render

    summary = "\n".join(summary_of(render(load_review(Path(public_bastion_app.assembly.directory)), None)))
    assert ("(AmazonEKSAdminPolicy) -> `arn:aws:iam::123456789012:role/PlatformAdmins` (configured) -> whoever may "
            "assume or sign in as it") in summary
    assert re.search(r"- from the VPC: InternetGateway \w+, default routes \w+", summary)
    assert re.search(r"- to the internet: public IP on OperationsBastionInstance\w+", summary)
    assert "`operations.bastion_subnet` = `\"public\"`" in summary  # a setting that is not the default


def test_summary_counts_results_of_what_ran_and_says_not_run_otherwise(default_app, default_review):
    summary = "\n".join(summary_of(default_review.read_text()))
    assert "- cdk-nag: AwsSolutions 0 open / " in summary and "PrivateEks 0 open / 0 acknowledged" in summary
    for tool in ("cfn-lint", "checkov"):  # Control Tower ran in the synth (test_compliance_control_tower.py)
        assert f"- {tool}: not run on this assembly" in summary
    assert "- Pod Security: 1 pod templates checked against their namespace's level, 0 refused; 2 namespaces" in summary
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    assert f"built from commit `{commit}" in summary
    from private_eks_fargate.settings import SECTIONS
    from private_eks_fargate.settings.catalog import declared

    from private_eks_fargate.settings import PlatformSettings

    platform = [spec.key for _, cls in SECTIONS for _, spec in declared(cls) if not spec.key.startswith(("app.", "pipeline."))]
    unused = PlatformSettings().not_applicable()
    assert unused and set(unused) < set(platform)
    assert f"**Effective settings**: {len(platform) - len(unused)} apply, {len(unused)} do not (all under Settings)" in summary


def test_recorded_results_are_counted_and_unknown_formats_are_not_taken_for_passes(tmp_path):
    from private_eks_fargate.review.assembly import load_results
    from private_eks_fargate.review.summary import record_results, result_line

    record_results(tmp_path, "cfn-lint", version="1.58.0", checked=3, findings=[{"rule": "W3005", "resource": "X"}])
    (tmp_path / "results" / "control-tower.json").write_text('{"status": "whatever"}')
    (tmp_path / "results" / "checkov.json").write_text("not json")
    results = load_results(tmp_path)
    assert result_line("cfn-lint", results["cfn-lint"]) == "cfn-lint 1.58.0: 1 failed, 3 checked (W3005)"
    assert result_line("Control Tower", results["control-tower"]).startswith("Control Tower: results recorded in a format")
    assert "checkov" not in results and result_line("checkov", None) == "checkov: not run on this assembly"


def test_report_says_what_single_zone_endpoints_lose_when_their_zone_fails(single_zone_app, default_review):
    from pathlib import Path

    from private_eks_fargate.review.report import load_review, render

    text = render(load_review(Path(single_zone_app.assembly.directory)), None)
    section = text.split("## VPC endpoints")[1].split("## Anything public")[0]
    assert "**Interface endpoints in one zone** (9 endpoints" in section
    interface = [r for r in single_zone_app.resources("Dev/Endpoints", "AWS::EC2::VPCEndpoint").values()
                 if r["Properties"]["VpcEndpointType"] == "Interface"]
    assert len(interface) == 9
    for endpoint in interface:
        purpose = endpoint["Metadata"]["Purpose"]
        assert f"- `{purpose['Service']}`: {purpose['NeededBy']}" in section
    assert "Interface endpoints in one zone" not in default_review.read_text()
    summary = "\n".join(summary_items(text))
    assert "- interface endpoints in one zone (`endpoints.single_zone`): if that zone fails, the VPC loses 9 AWS APIs" in summary


def test_summary_says_each_key_encrypts_what_names_it(default_app, default_review):
    items = summary_items(default_review.read_text())
    for stack in ("Dev/Network", "Dev/Cluster"):
        (key_id,) = [k for k, r in default_app.resources(stack, "AWS::KMS::Key").items() if k.startswith("LogsKey")]
        groups = [r["Properties"].get("LogGroupName", k) for k, r in default_app.resources(stack, "AWS::Logs::LogGroup").items()
                  if r["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}]
        assert groups
        (line,) = [item for item in items if item.startswith(f"- {stack} `{key_id}` (")]
        assert line.split("): encrypts ")[1].split(";")[0] == ", ".join(f"Logs::LogGroup `{show(g)}`" for g in groups)


def test_summary_says_the_bastion_ami_is_read_at_every_deploy_and_how_to_pin_it(default_app, default_review):
    ((instance_id, instance),) = default_app.resources("Dev/Cluster", "AWS::EC2::Instance").items()
    parameter = default_app.template("Dev/Cluster")["Parameters"][instance["Properties"]["ImageId"]["Ref"]]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"
    assert (f"- instance `{instance_id}`: its AMI is read at every deploy from the SSM parameter `{parameter['Default']}`; "
            "a deploy after a new image is published there replaces the instance (pin it with operations.bastion_ami, or "
            "bind the stage to app.account and app.region: the AMI is then looked up once and kept in cdk.context.json)"
            ) in summary_items(default_review.read_text())
    pinned = {"Resources": {"Bastion": {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-0123456789abcdef0"}}}}
    from private_eks_fargate.review.summary import image_lines

    assert image_lines(Review(stacks=[StackTemplate(path="X/Y", name="X-Y", template=pinned)])) == []


def test_summary_lists_construct_warnings_beside_the_results(default_review, user_stack_app):
    from private_eks_fargate.review.report import construct_warnings, load_review

    assert "- construct warnings: none" in summary_items(default_review.read_text())
    (warning,) = construct_warnings(load_review(Path(user_stack_app.assembly.directory)))
    # a library user's stack keeps the warning the app's stage leaves to the summary
    assert warning.startswith("The bastion's AMI is resolved at every deploy")
    assert warning.endswith("(TeamPlatform/Platform/Operations/Bastion)")


def test_settings_read_as_set_not_set_or_not_applying_never_as_the_string_not_set(default_review, existing_vpc_review):
    from private_eks_fargate.settings import key_of
    from private_eks_fargate.settings.catalog import spec_of
    from private_eks_fargate.settings.model import ClusterSettings

    section = default_review.read_text().split("## Settings")[1]
    assert f"| `cluster.name` | *not set*: {spec_of(ClusterSettings, 'cluster_name').default_text} |" in section
    assert "| `network.existing_vpc_id` | *does not apply*: a new VPC is created |" in section
    assert "| `network.az_count` | 2 |" in section
    assert '"not set"' not in section
    existing = existing_vpc_review.split("## Settings")[1]
    assert "| `network.az_count` | *does not apply*: an existing VPC is used (network.existing_vpc_id) |" in existing
    assert f"| `{key_of(ClusterSettings, 'cluster_name')}` | \"bank-private\" |" in existing


def test_a_setting_given_where_it_does_not_apply_is_named_so_in_the_summary():
    from private_eks_fargate.app.stage import BUILD_RECORD, settings_record
    from private_eks_fargate.review.report import settings_section, summary_section
    from private_eks_fargate.settings import OperationsSettings, PlatformSettings

    record = settings_record(PlatformSettings(operations=OperationsSettings(bastion=False, bastion_instance_type="t3.micro")))
    assert record["not_applicable"]["operations.bastion_instance_type"] == {"why": "operations.bastion is false",
                                                                             "value": "t3.micro"}
    stack = StackTemplate(path="Dev/Cluster", name="Dev-Cluster", template={"Resources": {}},
                          metadata={"/Dev/Cluster": [{"type": BUILD_RECORD, "data": record}]})
    summary = summary_section(Review(stacks=[stack]))
    assert "- `operations.bastion_instance_type` = `\"t3.micro\"`: does not apply, operations.bastion is false" in summary
    assert "- `operations.bastion` = `false`" in summary
    assert ("| `operations.bastion_instance_type` | *does not apply*: operations.bastion is false (given: \"t3.micro\") |"
            in settings_section(Review(stacks=[stack])))


def test_the_summary_says_where_and_with_which_session_preferences(default_review, existing_vpc_review):
    default = "\n".join(summary_of(default_review.read_text()))
    assert "- regions: the templates admit 30, refuse the rest (rule SupportedRegion, docs/regions.md)" in default
    assert "- bastion: c7a.medium in us-east-1 (by region: mapping BastionInstanceTypes)" in default
    assert "- Session Manager preferences: none given (operations.session_manager_preferences)" in default
    prod = "\n".join(summary_items(existing_vpc_review))
    assert ("- Session Manager preferences (the bastion may act on them): sessions encrypted with KMS key "
            "arn:aws:kms:eu-west-1:123456789012:key/2b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0; logged to CloudWatch Logs "
            "/org/ssm-sessions; logged to s3://org-session-logs-123456789012/bank/ (KMS key "
            "arn:aws:kms:eu-west-1:123456789012:key/3b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0)") in prod
