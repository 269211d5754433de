"""Fixed monthly cost of a synthesized app, counted from its templates (the README's cost table is this output).

List prices of one region, on-demand, without data processing or traffic: what the configuration costs
standing still. Prices change; the unit prices are stated next to every line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

REGION = "us-east-1"
HOURS_PER_MONTH = 730
EKS_CONTROL_PLANE_PER_HOUR = 0.10
INTERFACE_ENDPOINT_PER_AZ_HOUR = 0.01
KMS_KEY_PER_MONTH = 1.00
EBS_GP3_PER_GB_MONTH = 0.08
PUBLIC_IPV4_PER_HOUR = 0.005
FARGATE_VCPU_PER_HOUR = 0.04048
FARGATE_GB_PER_HOUR = 0.004445
#: CoreDNS: 2 replicas; Fargate rounds each pod's request (100m CPU, 70 Mi) up to 0.25 vCPU and 0.5 GB
COREDNS_PODS, COREDNS_VCPU, COREDNS_GB = 2, 0.25, 0.5
#: Linux on-demand prices of the instance types a bastion is likely to use; others are reported as unpriced
EC2_PER_HOUR = {
    "t3.nano": 0.0052, "t3.micro": 0.0104, "t3.small": 0.0208, "t3.medium": 0.0416,
    "t4g.nano": 0.0042, "t4g.micro": 0.0084, "t4g.small": 0.0168, "t4g.medium": 0.0336,
}  # fmt: skip


@dataclass(frozen=True)
class CostLine:
    item: str
    unit_price: str
    quantity: str
    monthly: float | None  # None: no list price known here


def _interface_endpoint_azs(resource: Mapping) -> int:
    subnets = resource["Properties"].get("SubnetIds", [])
    return len(subnets) if isinstance(subnets, list) else 1


def cost_lines(templates: Iterable[Mapping]) -> list[CostLine]:
    """One line per priced kind of resource found in the templates (all stacks of one configuration)."""
    resources = [r for template in templates for r in template.get("Resources", {}).values()]
    by_type: dict[str, list[Mapping]] = {}
    for resource in resources:
        by_type.setdefault(resource["Type"], []).append(resource)
    lines = []
    clusters = len(by_type.get("AWS::EKS::Cluster", []))
    if clusters:
        lines.append(CostLine(
            "EKS control plane", f"${EKS_CONTROL_PLANE_PER_HOUR:.2f}/hour (standard support)", f"{clusters}",
            clusters * EKS_CONTROL_PLANE_PER_HOUR * HOURS_PER_MONTH,
        ))
    endpoints = by_type.get("AWS::EC2::VPCEndpoint", [])
    interface = [e for e in endpoints if e["Properties"].get("VpcEndpointType") == "Interface"]
    if interface:
        az_hours = sum(_interface_endpoint_azs(e) for e in interface)
        azs = sorted({_interface_endpoint_azs(e) for e in interface})
        lines.append(CostLine(
            "Interface VPC endpoints", f"${INTERFACE_ENDPOINT_PER_AZ_HOUR:.2f}/hour per endpoint per AZ",
            f"{len(interface)} × {'/'.join(map(str, azs))} AZ",
            az_hours * INTERFACE_ENDPOINT_PER_AZ_HOUR * HOURS_PER_MONTH,
        ))
    gateway = len(endpoints) - len(interface)
    if gateway:
        lines.append(CostLine("Gateway VPC endpoints (S3)", "free", f"{gateway}", 0.0))
    keys = len(by_type.get("AWS::KMS::Key", []))
    if keys:
        lines.append(CostLine("KMS keys", f"${KMS_KEY_PER_MONTH:.2f}/month per key", f"{keys}", keys * KMS_KEY_PER_MONTH))
    for instance in by_type.get("AWS::EC2::Instance", []):
        props = instance["Properties"]
        kind = props.get("InstanceType")
        price = EC2_PER_HOUR.get(kind) if isinstance(kind, str) else None
        lines.append(CostLine(
            f"EC2 instance {kind} (bastion)", f"${price}/hour" if price else "not in the price table", "1",
            price * HOURS_PER_MONTH if price else None,
        ))
        gigabytes = sum(
            device.get("Ebs", {}).get("VolumeSize", 0) for device in props.get("BlockDeviceMappings", [])
            if device.get("Ebs", {}).get("VolumeType") == "gp3"
        )
        if gigabytes:
            lines.append(CostLine(
                "EBS gp3 volume (bastion)", f"${EBS_GP3_PER_GB_MONTH:.2f}/GB-month", f"{gigabytes} GB",
                gigabytes * EBS_GP3_PER_GB_MONTH,
            ))
        if any(n.get("AssociatePublicIpAddress") for n in props.get("NetworkInterfaces", [])):
            lines.append(CostLine(
                "Public IPv4 address (bastion)", f"${PUBLIC_IPV4_PER_HOUR}/hour", "1", PUBLIC_IPV4_PER_HOUR * HOURS_PER_MONTH
            ))
    coredns = [
        r for r in by_type.get("Custom::AWSCDK-EKS-KubernetesPatch", [])
        if r["Properties"].get("ResourceName") == "deployment/coredns"
    ]
    if coredns:
        pods = COREDNS_PODS * len(coredns)
        per_pod_hour = COREDNS_VCPU * FARGATE_VCPU_PER_HOUR + COREDNS_GB * FARGATE_GB_PER_HOUR
        lines.append(CostLine(
            f"Fargate, CoreDNS ({COREDNS_PODS} pods × {COREDNS_VCPU} vCPU, {COREDNS_GB} GB)",
            f"${FARGATE_VCPU_PER_HOUR}/vCPU-hour, ${FARGATE_GB_PER_HOUR}/GB-hour", f"{pods} pods",
            pods * per_pod_hour * HOURS_PER_MONTH,
        ))
    return lines


def total(lines: Iterable[CostLine]) -> float:
    return sum(line.monthly or 0.0 for line in lines)


def cost_table_markdown(lines: list[CostLine]) -> str:
    """The Markdown table the review report and the README show."""
    rows = ["| item | unit price | quantity | per month |", "|---|---|---|---|"]
    for line in lines:
        monthly = f"${line.monthly:,.2f}" if line.monthly is not None else "not priced"
        rows.append(f"| {line.item} | {line.unit_price} | {line.quantity} | {monthly} |")
    rows.append(f"| **total (fixed part)** | | | **${total(lines):,.2f}** |")
    return "\n".join(rows)
