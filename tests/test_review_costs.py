"""review/costs.py: the fixed monthly cost counted from the templates, and docs/costs.md's cost table."""

import json
import sys

import pytest
from private_eks_fargate.review.costs import (
    cost_lines,
    cost_summary,
    cost_table_markdown,
    fargate_pod_size,
    platform_total,
    total,
)
from private_eks_fargate.review.report import show

from conftest import ROOT, SINGLE_ZONE_CONTEXT, default_review_text

sys.path.insert(0, str(ROOT / "scripts"))
import cost_docs  # noqa: E402  scripts/cost_docs.py

HOURS, ENDPOINT_HOUR, EKS_HOUR, KMS_MONTH = 730, 0.01, 0.10, 1.00
C7A_MEDIUM_HOUR, GP3_GB_MONTH = 0.05131, 0.08
DETAILED_MONITORING_MONTH = 7 * 0.30  # the bastion's 7 one-minute metrics (AWS Control Tower CT.EC2.PR.13)
POD_MONTH = HOURS * (0.25 * 0.04048 + 0.5 * 0.004445)  # a 0.25 vCPU, 0.5 GB Fargate pod


COREDNS_MONTH = 2 * POD_MONTH


def _interface_endpoints(synth):
    return [
        r for r in synth.all_resources().values()
        if r["Type"] == "AWS::EC2::VPCEndpoint" and r["Properties"]["VpcEndpointType"] == "Interface"
    ]


def _count(synth, kind):
    return sum(r["Type"] == kind for r in synth.all_resources().values())


def _deployment_replicas(synth) -> int:
    """Replicas of the Deployments the app applies; each requests at most 0.25 vCPU and 0.25 GB (asserted)."""
    deployments = [
        manifest
        for resource in synth.all_resources().values()
        if resource["Type"] == "Custom::AWSCDK-EKS-KubernetesResource"
        for manifest in json.loads(show(resource["Properties"]["Manifest"]))
        if manifest["kind"] == "Deployment"
    ]
    requests = [c["resources"]["requests"] for d in deployments for c in d["spec"]["template"]["spec"]["containers"]]
    assert all(r in ({"cpu": "250m", "memory": "256Mi"}, {"cpu": "100m", "memory": "128Mi"}) for r in requests), requests
    return sum(d["spec"]["replicas"] for d in deployments)


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
    assert "| EKS control plane, upgrade policy STANDARD | $0.10/hour (standard support) | 1 | $73.00 |" in text
    (bastion,) = [r for r in synth.all_resources().values() if r["Type"] == "AWS::EC2::Instance"]
    # an environment-agnostic stage reads the type per region from a mapping; prices are us-east-1's
    assert bastion["Properties"]["InstanceType"]["Fn::FindInMap"][0] == "BastionInstanceTypes"
    assert "| EC2 instance c7a.medium (bastion; the type us-east-1 gets from the BastionInstanceTypes mapping) |" in text
    volume_gb = bastion["Properties"]["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"]
    assert f"| EBS gp3 volume (bastion) | $0.08/GB-month | {volume_gb} GB | ${volume_gb * GP3_GB_MONTH:,.2f} |" in text
    bastion_cost = C7A_MEDIUM_HOUR * HOURS + volume_gb * GP3_GB_MONTH + DETAILED_MONITORING_MONTH
    pods = _deployment_replicas(synth)
    expected_total = EKS_HOUR * HOURS + endpoint_cost + keys * KMS_MONTH + COREDNS_MONTH + bastion_cost + pods * POD_MONTH
    assert f"| **total (fixed part)** | | | **${expected_total:,.2f}** |" in text
    assert "List prices in us-east-1, on demand, 730 hours a month" in text


def test_default_app_costs(default_app):
    """9 interface endpoints (6 for the platform, the bastion's ssm and ssmmessages, codebuild for the image copy's
    Lambda in the VPC; no ec2 or ec2messages, which nothing needs) in 2 AZs; 6 KMS keys (secrets, the two stacks' log
    keys, Fargate logs, bastion volume, workload images); the c7a.medium bastion with 16 GB gp3 and detailed
    monitoring. CoreDNS and the sample app's 3 pods on top."""
    lines = cost_lines(default_app.templates.values())
    by_item = {line.item: line.monthly for line in lines}
    assert round(by_item["Interface VPC endpoints"], 2) == round(9 * 2 * ENDPOINT_HOUR * HOURS, 2) == 131.40
    assert by_item["KMS keys"] == 6.00
    bastion = (by_item["EC2 instance c7a.medium (bastion; the type us-east-1 gets from the BastionInstanceTypes mapping)"]
               + by_item["EBS gp3 volume (bastion)"]
               + by_item["EC2 detailed monitoring (bastion)"])
    assert round(bastion, 2) == round(C7A_MEDIUM_HOUR * HOURS + 16 * GP3_GB_MONTH + DETAILED_MONITORING_MONTH, 2) == 40.84
    platform = platform_total(lines)
    assert round(platform, 2) == round(EKS_HOUR * HOURS + 131.40 + 6 + bastion, 2)
    # $219.27 (issue 12's bound: $220) before the AWS Control Tower proactive controls (issue 11): the bastion is now
    # the cheapest x86_64 type CT.EC2.PR.19 accepts, with detailed monitoring (PR.10, PR.13); the codebuild endpoint
    # the image copy's in-VPC Lambda needs (CT.LAMBDA.PR.3) replaced ec2messages, which SSM Agent 3.3.40.0+ does not use.
    # operations.bastion_instance_type=t3.micro gives back $29.87 a month and fails CT.EC2.PR.19.
    assert platform <= 252
    assert round(by_item["Fargate, Deployment sample-app (3 pods × 0.25 vCPU, 0.5 GB)"], 2) == round(3 * POD_MONTH, 2) == 27.03
    assert round(total(lines), 2) == round(platform + COREDNS_MONTH + 3 * POD_MONTH, 2)


def test_single_zone_costs(default_app, single_zone_app):
    """The non-production profile pays each interface endpoint in one zone: half the endpoint line of the default."""
    default, single = cost_lines(default_app.templates.values()), cost_lines(single_zone_app.templates.values())
    endpoints = {line.item: line for line in single}["Interface VPC endpoints"]
    assert endpoints.quantity == "9 × 1 AZ"
    assert round(endpoints.monthly, 2) == round(9 * ENDPOINT_HOUR * HOURS, 2) == 65.70
    assert round(platform_total(default) - platform_total(single), 2) == 65.70


@pytest.mark.parametrize(
    "cpu, memory, size", [(0.25, 0.25, (0.25, 0.5)), (0, 0, (0.25, 0.5)), (0.25, 0.3, (0.25, 1)), (0.3, 0.1, (0.5, 1)), (1, 3, (1, 4))]
)
def test_fargate_pod_size_is_the_smallest_that_fits_requests_plus_kubernetes(cpu, memory, size):
    assert fargate_pod_size(cpu, memory) == size


def test_the_docs_cost_sections_are_what_the_code_computes_for_the_default_and_single_zone_apps(default_app, single_zone_app):
    assert cost_docs.SINGLE_ZONE_CONTEXT == SINGLE_ZONE_CONTEXT  # the configuration single_zone_app synthesizes
    page = cost_docs.DOC.read_text()
    generated = cost_docs.sections(default_app.templates.values(), single_zone_app.templates.values())
    assert generated[cost_docs.TABLE] == cost_table_markdown(cost_lines(default_app.templates.values()))
    assert generated[cost_docs.SINGLE_ZONE].endswith(f"{cost_summary(cost_lines(single_zone_app.templates.values()))}.")
    for (begin, end), body in generated.items():
        assert page.count(begin) == 1 and page.count(end) == 1
        assert page.split(begin)[1].split(end)[0].strip() == body, "run: make docs"


def _cluster(policy=None, phase="standard"):
    props = {"Version": "1.36", **({"UpgradePolicy": {"SupportType": policy}} if policy else {})}
    metadata = {"private-eks-fargate:kubernetes-support": {"version": "1.36", "phase": phase, "calendar": "…"}}
    return {"Resources": {"C": {"Type": "AWS::EKS::Cluster", "Properties": props, "Metadata": metadata}}}


def test_extended_support_is_shown_with_its_price_and_counted_only_once_it_applies():
    """STANDARD: the control plane alone. EXTENDED (or no policy: EKS's default) on a version in standard support: what
    extended support will add once standard support ends, shown but not in the totals. A version whose standard support
    has ended: $0.60 an hour now."""
    from private_eks_fargate.blocks.cluster import SUPPORT_METADATA
    from private_eks_fargate.review.costs import SUPPORT_METADATA as READ

    assert READ == SUPPORT_METADATA  # the review reads what the cluster block writes
    standard = cost_lines([_cluster("STANDARD")])
    assert [(line.item, line.monthly) for line in standard] == [("EKS control plane, upgrade policy STANDARD", 73.0)]
    for policy in ("EXTENDED", None):
        later = cost_lines([_cluster(policy)])
        assert [line.later for line in later] == [False, True] and total(later) == 73.0
        assert round(later[1].monthly, 2) == 365.00
        table = cost_table_markdown(later)
        assert ("| EKS extended support once Kubernetes 1.36's standard support ends (upgrade policy EXTENDED) | "
                "+$0.50/hour ($0.60 in all) | 1 | (+$365.00 from then; not in the totals) |") in table
        assert "| **total (fixed part)** | | | **$73.00** |" in table
    extended = cost_lines([_cluster("EXTENDED", phase="extended")])
    assert [(line.item, round(line.monthly, 2)) for line in extended] == [
        ("EKS control plane, Kubernetes 1.36 in extended support", 438.00)]
