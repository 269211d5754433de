"""The review report: every section present, its numbers and facts match the templates, the diagram is drawn."""

import re

from private_eks_fargate.review.report import SECTIONS, Review, StackTemplate, public_exposure, show


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
    assert len(endpoints) == 12  # S3 gateway, 6 for the cluster, secretsmanager and ec2 (extra), 3 for the SSM bastion
    for endpoint in endpoints:
        purpose = endpoint["Metadata"]["Purpose"]
        assert f"| Prod/Endpoints | {purpose['Service']} |" in section
        assert purpose["Why"].replace("|", "\\|") in section
    assert section.count("OnlyPrincipalsOfThisAccount") == 11  # strict mode: every interface endpoint
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


def test_report_gives_compliance_results_with_every_acknowledgement_and_reason(default_app, default_review):
    section = default_review.read_text().split("## Compliance")[1].split("## Monthly cost estimate")[0]
    assert "**0 unacknowledged findings**" in section
    assert "AwsSolutions, NIST.800.53.R5, HIPAA.Security, PCI.DSS.321, PrivateEks" in section
    acks = [
        (rule["id"], key.split(":")[1], rule["reason"])
        for key, resource in default_app.all_resources().items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert f"{len(acks)} acknowledged findings" in section
    for rule, resource, reason in acks:
        assert f"| {rule.replace('|', chr(92) + '|')} | Dev/" in section and f"| {resource} | {reason} |" in section
    for check in ("CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"):
        assert f"| {check} | " in section


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
