"""The review report: every section present, its numbers and facts match the templates, the diagram is drawn."""

import json
import re

import pytest
from matplotlib import image

from conftest import ROOT
from private_eks_fargate.review.costs import cost_lines, cost_table_markdown, fargate_pod_size
from private_eks_fargate.review.report import SECTIONS, Review, StackTemplate, public_exposure, show

HOURS, ENDPOINT_HOUR, EKS_HOUR, KMS_MONTH = 730, 0.01, 0.10, 1.00
POD_MONTH = HOURS * (0.25 * 0.04048 + 0.5 * 0.004445)  # a 0.25 vCPU, 0.5 GB Fargate pod
COREDNS_MONTH = 2 * POD_MONTH
T3_MICRO_HOUR, GP3_GB_MONTH = 0.0104, 0.08


def _interface_endpoints(synth):
    return [
        r for r in synth.all_resources().values()
        if r["Type"] == "AWS::EC2::VPCEndpoint" and r["Properties"]["VpcEndpointType"] == "Interface"
    ]


def _count(synth, kind):
    return sum(r["Type"] == kind for r in synth.all_resources().values())


def _deployment_replicas(synth) -> int:
    """Replicas of the Deployments the app applies; each requests at most 0.25 vCPU and 0.25 GB (asserted)."""
    replicas = 0
    for resource in synth.all_resources().values():
        if resource["Type"] == "Custom::AWSCDK-EKS-KubernetesResource":
            for manifest in json.loads(show(resource["Properties"]["Manifest"])):
                if manifest["kind"] == "Deployment":
                    for container in manifest["spec"]["template"]["spec"]["containers"]:
                        assert container["resources"]["requests"] in ({"cpu": "250m", "memory": "256Mi"}, {"cpu": "100m", "memory": "128Mi"})
                    replicas += manifest["spec"]["replicas"]
    return replicas


def default_review_text(request) -> str:
    return request.getfixturevalue("default_review").read_text()


def test_report_has_every_section_in_order(default_review):
    text = default_review.read_text()
    titles = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert titles == list(SECTIONS)


@pytest.mark.parametrize("config, azs", [("default", 2), ("existing-vpc", 3)])
def test_report_cost_lines_are_endpoint_count_times_azs_times_price(request, all_synths, config, azs):
    synth = all_synths[config]
    text = default_review_text(request) if config == "default" else request.getfixturevalue("existing_vpc_review")
    endpoints = _interface_endpoints(synth)
    assert {len(e["Properties"]["SubnetIds"]) for e in endpoints} == {azs}
    endpoint_cost = len(endpoints) * azs * ENDPOINT_HOUR * HOURS
    assert f"| Interface VPC endpoints | $0.01/hour per endpoint per AZ | {len(endpoints)} × {azs} AZ | ${endpoint_cost:,.2f} |" in text
    keys = _count(synth, "AWS::KMS::Key")
    assert f"| KMS keys | $1.00/month per key | {keys} | ${keys * KMS_MONTH:,.2f} |" in text
    assert "| EKS control plane | $0.10/hour (standard support) | 1 | $73.00 |" in text
    (bastion,) = [r for r in synth.all_resources().values() if r["Type"] == "AWS::EC2::Instance"]
    assert bastion["Properties"]["InstanceType"] == "t3.micro"
    volume_gb = bastion["Properties"]["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"]
    assert f"| EBS gp3 volume (bastion) | $0.08/GB-month | {volume_gb} GB | ${volume_gb * GP3_GB_MONTH:,.2f} |" in text
    bastion_cost = T3_MICRO_HOUR * HOURS + volume_gb * GP3_GB_MONTH
    pods = _deployment_replicas(synth)
    expected_total = EKS_HOUR * HOURS + endpoint_cost + keys * KMS_MONTH + COREDNS_MONTH + bastion_cost + pods * POD_MONTH
    assert f"| **total (fixed part)** | | | **${expected_total:,.2f}** |" in text
    assert "List prices in us-east-1, on demand, 730 hours a month" in text


def test_default_app_costs(default_app):
    """The closing numbers of issue 5: 10 interface endpoints (7 + the bastion's 3 SSM) in 2 AZs; 6 KMS keys (secrets,
    the two stacks' log keys, Fargate logs, bastion volume, workload images); the t3.micro bastion with 16 GB gp3;
    CoreDNS and the sample app's 3 pods on Fargate."""
    lines = {line.item: line.monthly for line in cost_lines(default_app.templates.values())}
    assert round(lines["Interface VPC endpoints"], 2) == 10 * 2 * ENDPOINT_HOUR * HOURS == 146.00
    assert lines["KMS keys"] == 6.00
    assert round(lines["EC2 instance t3.micro (bastion)"] + lines["EBS gp3 volume (bastion)"], 2) == 8.87
    assert round(lines["Fargate, Deployment sample-app (3 pods × 0.25 vCPU, 0.5 GB)"], 2) == round(3 * POD_MONTH, 2) == 27.03
    assert round(sum(v for v in lines.values() if v), 2) == 278.92


@pytest.mark.parametrize(
    "cpu, memory, size", [(0.25, 0.25, (0.25, 0.5)), (0, 0, (0.25, 0.5)), (0.25, 0.3, (0.25, 1)), (0.3, 0.1, (0.5, 1)), (1, 3, (1, 4))]
)
def test_fargate_pod_size_is_the_smallest_that_fits_requests_plus_kubernetes(cpu, memory, size):
    assert fargate_pod_size(cpu, memory) == size


def test_readme_cost_table_is_the_one_the_code_computes_for_the_default_app(default_app):
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- cost-table:begin -->\n(.*?)\n<!-- cost-table:end -->", readme, flags=re.DOTALL)
    assert block, "README.md lacks the cost-table markers"
    expected = cost_table_markdown(cost_lines(default_app.templates.values()))
    assert block.group(1) == expected, f"replace the README's cost table with:\n{expected}"


def test_report_lists_every_security_group_rule(default_app, default_review):
    text = default_review.read_text()
    (group_id,) = default_app.resources("Dev/Endpoints", "AWS::EC2::SecurityGroup")
    assert (f"| Dev/Endpoints | {group_id} (VPC interface endpoints: HTTPS from inside the VPC only) | inbound | tcp | 443 "
            "| 10.0.0.0/16 | HTTPS from inside the VPC to the AWS service endpoints |") in text
    groups = [k for k, r in default_app.all_resources().items() if r["Type"] == "AWS::EC2::SecurityGroup"]
    for key in groups:
        assert f"| {key.split(':')[1]} (" in text, key


def test_report_lists_every_role_with_trust_and_policies(default_app, default_review):
    from private_eks_fargate.review.report import show

    section = default_review.read_text().split("## IAM roles")[1].split("## VPC endpoints")[0]
    roles = {k.split(":")[1]: r for k, r in default_app.all_resources().items() if r["Type"] == "AWS::IAM::Role"}
    assert any(role_id.startswith("OperationsBastionRole") for role_id in roles)
    for role_id, role in roles.items():
        block = section.split(f"`{role_id}`")[1].split("### ")[0]
        (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert f"- trust: sts:AssumeRole by Service: {trust['Principal']['Service']}" in block, role_id
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            assert f"policy: `{show(arn)}`" in block, (role_id, arn)
    assert "AmazonEKSFargatePodExecutionRolePolicy" in section
    assert "customer-managed policy" in section and "logs:CreateLogStream" in section


def test_report_explains_every_endpoint(existing_vpc_app, existing_vpc_review):
    text = existing_vpc_review
    section = text.split("## VPC endpoints")[1].split("## Anything public")[0]
    endpoints = [r for r in existing_vpc_app.all_resources().values() if r["Type"] == "AWS::EC2::VPCEndpoint"]
    assert len(endpoints) == 12  # S3 gateway, 7 for the cluster, secretsmanager (extra), 3 for the SSM bastion
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


def test_diagram_is_a_readable_png(default_review):
    diagram = default_review.parent / "architecture.png"
    assert diagram.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width, _ = image.imread(diagram).shape
    assert width >= 1200 and height >= 700
    assert "![architecture](architecture.png)" in default_review.read_text()
