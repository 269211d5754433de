"""Architecture diagram drawn from the synthesized templates with matplotlib (pure PyPI, no Graphviz binary).

Left to right: the VPC with its subnets, the EKS cluster and its Fargate profiles, the in-VPC Lambdas and any
bastion; the VPC endpoints on the VPC's edge; the AWS services they reach. Arrows run from each consumer to the
endpoints whose ``Metadata.Purpose.NeededBy`` names it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

if TYPE_CHECKING:
    from .assembly import Review

COLORS = {
    "vpc": "#e8f1fb", "subnet": "#cfe3f7", "cluster": "#fde9c9", "profile": "#fff6e5", "lambda": "#e6f4ea",
    "bastion": "#f3e5f5", "interface": "#dbe9d6", "gateway": "#fff2b3", "service": "#eeeeee", "edge": "#5b6b7a",
}  # fmt: skip
CONSUMER_WORDS = {"cluster": ("fargate", "pods", "image pulls"), "lambda": ("kubectl",), "bastion": ("bastion",)}


def _box(ax, x, y, w, h, color, text="", size=9, weight="normal", align="center"):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.3,rounding_size=1.2", fc=color, ec="#4a4a4a", lw=0.8))
    if text:
        tx = x + w / 2 if align == "center" else x + 1.2
        ax.text(tx, y + h / 2, text, ha=align, va="center", fontsize=size, weight=weight, wrap=True)


def _arrow(ax, start, end, color=COLORS["edge"], style="-|>", alpha=0.8):
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle=style, color=color, lw=1.0, alpha=alpha,
                                                          shrinkA=2, shrinkB=2))


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _subnet_type(subnet: dict) -> str:
    """aws-cdk-lib tags each subnet it creates with its type (Isolated, Public, Private)."""
    tags = {t.get("Key"): t.get("Value") for t in subnet["Properties"].get("Tags", [])}
    return tags.get("aws-cdk:subnet-type", "")


def draw_architecture(review: "Review", path: Path) -> Path:
    from .assembly import show

    fig, ax = plt.subplots(figsize=(18, 11.5), dpi=100)
    ax.set_xlim(0, 180)
    ax.set_ylim(-16, 108)
    ax.axis("off")
    stacks = ", ".join(s.path for s in review.stacks)
    ax.text(2, 105, f"Private EKS on Fargate: {stacks}", fontsize=15, weight="bold", va="center")

    vpcs = review.resources("AWS::EC2::VPC")
    subnets = review.resources("AWS::EC2::Subnet")
    clusters = review.resources("AWS::EKS::Cluster")
    gateways = review.resources("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway")
    if vpcs:
        reach = ("internet gateway for the public bastion subnets only" if gateways
                 else "isolated subnets, no internet or NAT gateway")
        vpc_label = f"VPC {vpcs[0][2]['Properties'].get('CidrBlock')}: {reach}"
    else:
        vpc_label = "existing VPC (imported, not created here)"
    _box(ax, 2, 2, 116, 98, COLORS["vpc"])
    ax.text(4, 98, vpc_label, fontsize=11, weight="bold", va="top")

    # subnets, one per availability zone
    if subnets:
        labels = [
            f"{_subnet_type(r).lower()} subnet\n{show(r['Properties'].get('CidrBlock'))}, "
            + show(r["Properties"].get("AvailabilityZone")).strip("<>").replace("availability zone ", "AZ ").replace(" of the region", "")
            for _, _, r in subnets
        ]
    else:
        ids = clusters[0][2]["Properties"]["ResourcesVpcConfig"].get("SubnetIds", []) if clusters else []
        labels = [f"existing subnet\n{show(i)}" for i in ids]
    width = 84 / max(len(labels), 1)
    for i, label in enumerate(labels):
        _box(ax, 5 + i * width, 84, width - 2, 9, COLORS["subnet"], label, size=8 if len(labels) <= 3 else 7)

    # consumers
    consumers: dict[str, tuple[float, float]] = {}
    if clusters:
        _, _, cluster = clusters[0]
        props = cluster["Properties"]
        vpc_config = props.get("ResourcesVpcConfig", {})
        endpoint = "private only" if vpc_config.get("EndpointPublicAccess") is False else "PUBLIC"
        log_types = len(props.get("Logging", {}).get("ClusterLogging", {}).get("EnabledTypes", []))
        secrets = "KMS" if props.get("EncryptionConfig") else "none"
        _box(ax, 5, 44, 62, 37, COLORS["cluster"])
        ax.text(7, 79, f"EKS cluster {show(props.get('Name'))} (Kubernetes {props.get('Version')})",
                fontsize=10, weight="bold", va="top")
        ax.text(7, 75, f"API endpoint: {endpoint}   control-plane logs: {log_types} types   secrets: {secrets}",
                fontsize=8.5, va="top")
        profiles = review.resources("AWS::EKS::FargateProfile")
        for i, (_, _, profile) in enumerate(profiles[:5]):
            selectors = "; ".join(
                f"namespace {s.get('Namespace', '')}"
                + (" with " + ", ".join(f"{lb['Key']}={lb['Value']}" for lb in s.get("Labels", [])) if s.get("Labels") else "")
                for s in profile["Properties"].get("Selectors", [])
            )
            _box(ax, 8, 66 - i * 4.6, 56, 3.6, COLORS["profile"],
                 _short(f"Fargate profile {show(profile['Properties'].get('FargateProfileName'))}: {selectors}", 90),
                 size=7.5, align="left")
        if len(profiles) > 5:
            ax.text(8, 66 - 5 * 4.6 + 1, f"… and {len(profiles) - 5} more profiles", fontsize=7.5)
        from .costs import deployments  # the same reading of the manifests as the cost estimate

        workloads = [f"{name} ({replicas} pods)" for name, replicas, _ in deployments([r for _, _, r in review.resources()])]
        if workloads:
            ax.text(7, 51, _short("Deployments: " + ", ".join(workloads), 90), fontsize=8.5)
        ax.text(7, 47, "every pod runs on Fargate in the isolated subnets", fontsize=8, style="italic")
        consumers["cluster"] = (67, 62)
    in_vpc = [r for _, _, r in review.resources("AWS::Lambda::Function") if r["Properties"].get("VpcConfig")]
    if in_vpc:
        _box(ax, 5, 26, 62, 14, COLORS["lambda"],
             f"{len(in_vpc)} Lambda functions in the VPC\n(kubectl handler and provider framework)", size=9)
        consumers["lambda"] = (67, 33)
    instances = review.resources("AWS::EC2::Instance")
    if instances:
        props = instances[0][2]["Properties"]
        public = any(n.get("AssociatePublicIpAddress") for n in props.get("NetworkInterfaces", []))
        address = "PUBLIC IP (public bastion subnet), no inbound rule" if public else "no public IP"
        _box(ax, 5, 8, 62, 14, COLORS["bastion"], f"SSM-managed bastion ({show(props.get('InstanceType', ''))})\n"
             f"no SSH, {address}", size=9)
        consumers["bastion"] = (67, 15)

    # endpoints on the VPC edge, each with the service it reaches
    endpoints = review.resources("AWS::EC2::VPCEndpoint")
    step = min(9.0, 90 / max(len(endpoints), 1))
    height = step * 0.72
    for i, (_, _, endpoint) in enumerate(endpoints):
        props = endpoint["Properties"]
        purpose = endpoint.get("Metadata", {}).get("Purpose", {})
        service = purpose.get("Service", show(props.get("ServiceName")).split(".")[-1])
        kind = props.get("VpcEndpointType", "Gateway")
        y = 94 - (i + 1) * step
        where = f"{len(props.get('SubnetIds', []))} AZ" if kind == "Interface" else "route tables"
        strict = ", strict policy" if props.get("PolicyDocument") else ""
        _box(ax, 88, y, 28, height, COLORS["interface" if kind == "Interface" else "gateway"],
             f"{service} ({kind.lower()}, {where}{strict})", size=7.5)
        why = textwrap.wrap(purpose.get("Why", ""), 56)
        _box(ax, 132, y, 44, height, COLORS["service"],
             "\n".join([f"{service}: {why[0] if why else ''}", *why[1:2]]) + ("…" if len(why) > 2 else ""),
             size=7, align="left")
        _arrow(ax, (116.5, y + height / 2), (131.5, y + height / 2))
        needed_by = purpose.get("NeededBy", "").lower()
        for consumer, words in CONSUMER_WORDS.items():
            if consumer in consumers and any(word in needed_by for word in words):
                _arrow(ax, consumers[consumer], (87.5, y + height / 2), alpha=0.45)
    ax.text(132, 97, "AWS services (regional), through the endpoints", fontsize=10, weight="bold")
    if not endpoints:
        ax.text(132, 90, "no endpoints created here\n(the VPC is trusted to have them)", fontsize=9)

    # what else the templates hold
    keys = len(review.resources("AWS::KMS::Key"))
    log_groups = review.resources("AWS::Logs::LogGroup")
    retention = sorted({str(r["Properties"].get("RetentionInDays", "∞")) for _, _, r in log_groups})
    repositories = len(review.resources("AWS::ECR::Repository"))
    builds = len(review.resources("AWS::CodeBuild::Project"))
    outside = [r for _, _, r in review.resources("AWS::Lambda::Function") if not r["Properties"].get("VpcConfig")]
    facts = (f"KMS keys: {keys} (rotation on)    log groups: {len(log_groups)} (retention {'/'.join(retention)} days, "
             f"KMS-encrypted)    ECR repositories: {repositories}, filled by {builds} image copy builds outside the VPC\n"
             f"custom-resource Lambdas outside the VPC (deploy time only): {len(outside)}")
    _box(ax, 2, -14, 174, 10, "#f7f7f7", facts, size=9)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.99, bottom=0.01)
    fig.savefig(path)
    plt.close(fig)
    return path
