"""Fixed monthly cost of a synthesized app, counted from its templates (docs/costs.md's cost table is this output).

List prices of one region, on-demand, without data processing or traffic: what the configuration costs
standing still. Prices change; the unit prices are stated next to every line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ..regions import US_EAST_1_PRICES
from .assembly import in_region, kubernetes_manifests, region_mappings

REGION = "us-east-1"
HOURS_PER_MONTH = 730
EKS_CONTROL_PLANE_PER_HOUR = 0.10
#: a cluster whose Kubernetes version is in extended support (upgrade policy EXTENDED, after standard support ends)
EKS_EXTENDED_SUPPORT_PER_HOUR = 0.60
#: what EKS applies when the template sets no UpgradePolicy
EKS_DEFAULT_SUPPORT_TYPE = "EXTENDED"
#: the cluster resource's template metadata saying where its version stands (blocks/cluster.py writes it)
SUPPORT_METADATA = "private-eks-fargate:kubernetes-support"
INTERFACE_ENDPOINT_PER_AZ_HOUR = 0.01
KMS_KEY_PER_MONTH = 1.00
EBS_GP3_PER_GB_MONTH = 0.08
PUBLIC_IPV4_PER_HOUR = 0.005
FARGATE_VCPU_PER_HOUR = 0.04048
FARGATE_GB_PER_HOUR = 0.004445
#: CoreDNS: 2 replicas; Fargate rounds each pod's request (100m CPU, 70 Mi) up to 0.25 vCPU and 0.5 GB
COREDNS_PODS, COREDNS_VCPU, COREDNS_GB = 2, 0.25, 0.5
#: Fargate task sizes: vCPU and the memory (GB) each allows; EKS adds 0.25 GB for the Kubernetes components
FARGATE_SIZES = (
    (0.25, (0.5, 1, 2)), (0.5, (1, 2, 3, 4)), (1, tuple(range(2, 9))), (2, tuple(range(4, 17))),
    (4, tuple(range(8, 31))),
)  # fmt: skip
KUBERNETES_OVERHEAD_GB = 0.25
#: Linux on-demand prices (us-east-1) of the instance types a bastion is likely to use: the default types per region
#: and a few cheaper ones a user may choose; others are reported as unpriced.
EC2_PER_HOUR = US_EAST_1_PRICES
#: EC2 detailed monitoring (one-minute metrics): CloudWatch bills each of the instance's 7 metrics as a custom metric
#: ($0.30 per metric-month, first 10,000 metrics; the account's free tier of 10 such metrics is not counted here)
DETAILED_MONITORING_METRICS, METRIC_PER_MONTH = 7, 0.30


@dataclass(frozen=True)
class CostLine:
    item: str
    unit_price: str
    quantity: str
    monthly: float | None  # None: no list price known here
    #: Fargate pods (CoreDNS, Deployments): what runs on the platform rather than the platform itself
    pods: bool = False
    #: a cost that starts later (extended support once standard support ends): shown, not in the totals
    later: bool = False


CPU_UNITS = {"m": 0.001, "": 1.0}
MEMORY_UNITS = {"Gi": 1.0, "Mi": 1 / 1024, "Ki": 1 / 2**20, "G": 1e9 / 2**30, "M": 1e6 / 2**30, "": 1 / 2**30}


def _quantity(value: str | None, units: Mapping[str, float]) -> float:
    """A Kubernetes quantity (``250m``, ``256Mi``) in the unit the first entry of `units` stands for."""
    if value is None:
        return 0.0
    text = str(value)
    suffix = next(s for s in units if text.endswith(s))
    return float(text[: len(text) - len(suffix)]) * units[suffix]


def fargate_pod_size(cpu: float, memory_gb: float) -> tuple[float, float]:
    """The Fargate size (vCPU, GB) EKS gives a pod: the smallest that fits its requests plus 0.25 GB."""
    for vcpu, memories in FARGATE_SIZES:
        fitting = [gb for gb in memories if gb >= memory_gb + KUBERNETES_OVERHEAD_GB]
        if vcpu >= cpu and fitting:
            return vcpu, fitting[0]
    return FARGATE_SIZES[-1][0], FARGATE_SIZES[-1][1][-1]


def deployments(resources: list[Mapping]) -> list[tuple[str, int, tuple[float, float]]]:
    """(name, replicas, Fargate size) of each Deployment the templates apply (every pod runs on Fargate)."""

    found = []
    for _, manifest in kubernetes_manifests(("", resource) for resource in resources):
        if manifest.get("kind") != "Deployment":
            continue
        spec = manifest["spec"]
        requests = [c.get("resources", {}).get("requests", {}) for c in spec["template"]["spec"].get("containers", [])]
        cpu = sum(_quantity(r.get("cpu"), CPU_UNITS) for r in requests)
        memory = sum(_quantity(r.get("memory"), MEMORY_UNITS) for r in requests)
        found.append((manifest["metadata"]["name"], int(spec.get("replicas", 1)), fargate_pod_size(cpu, memory)))
    return found


def _interface_endpoint_azs(resource: Mapping) -> int:
    subnets = resource["Properties"].get("SubnetIds", [])
    return len(subnets) if isinstance(subnets, list) else 1


def cost_lines(templates: Iterable[Mapping]) -> list[CostLine]:
    """One line per priced kind of resource found in the templates (all stacks of one configuration)."""
    templates = list(templates)
    resources = [r for template in templates for r in template.get("Resources", {}).values()]
    by_type: dict[str, list[Mapping]] = {}
    for resource in resources:
        by_type.setdefault(resource["Type"], []).append(resource)
    lines = []
    for cluster in by_type.get("AWS::EKS::Cluster", []):
        lines += control_plane_lines(cluster)
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
    mappings = region_mappings(templates)
    for instance in by_type.get("AWS::EC2::Instance", []):
        props = instance["Properties"]
        kind, per_region = in_region(props.get("InstanceType"), mappings, REGION)
        price = EC2_PER_HOUR.get(kind) if isinstance(kind, str) else None
        lines.append(CostLine(
            f"EC2 instance {kind} (bastion{f'; the type {REGION} gets from the {per_region} mapping' if per_region else ''})",
            f"${price}/hour" if price else "not in the price table", "1", price * HOURS_PER_MONTH if price else None,
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
        if props.get("Monitoring") is True:
            lines.append(CostLine(
                "EC2 detailed monitoring (bastion)", f"${METRIC_PER_MONTH:.2f}/metric-month",
                f"{DETAILED_MONITORING_METRICS} metrics", DETAILED_MONITORING_METRICS * METRIC_PER_MONTH,
            ))
        if any(n.get("AssociatePublicIpAddress") for n in props.get("NetworkInterfaces", [])):
            lines.append(CostLine(
                "Public IPv4 address (bastion)", f"${PUBLIC_IPV4_PER_HOUR}/hour", "1", PUBLIC_IPV4_PER_HOUR * HOURS_PER_MONTH
            ))
    coredns = [r for r in by_type.get("AWS::EKS::Addon", []) if r["Properties"].get("AddonName") == "coredns"]
    if coredns:
        pods = COREDNS_PODS * len(coredns)
        per_pod_hour = COREDNS_VCPU * FARGATE_VCPU_PER_HOUR + COREDNS_GB * FARGATE_GB_PER_HOUR
        lines.append(CostLine(
            f"Fargate, CoreDNS ({COREDNS_PODS} pods × {COREDNS_VCPU} vCPU, {COREDNS_GB} GB)",
            f"${FARGATE_VCPU_PER_HOUR}/vCPU-hour, ${FARGATE_GB_PER_HOUR}/GB-hour", f"{pods} pods",
            pods * per_pod_hour * HOURS_PER_MONTH, pods=True,
        ))
    for name, replicas, (vcpu, gigabytes) in deployments(resources):
        per_pod_hour = vcpu * FARGATE_VCPU_PER_HOUR + gigabytes * FARGATE_GB_PER_HOUR
        lines.append(CostLine(
            f"Fargate, Deployment {name} ({replicas} pods × {vcpu} vCPU, {gigabytes} GB)",
            f"${FARGATE_VCPU_PER_HOUR}/vCPU-hour, ${FARGATE_GB_PER_HOUR}/GB-hour", f"{replicas} pods",
            replicas * per_pod_hour * HOURS_PER_MONTH, pods=True,
        ))
    return lines


def control_plane_lines(cluster: Mapping) -> list[CostLine]:
    """The control plane at its support phase's price; with the EXTENDED upgrade policy on a version still in
    standard support, what extended support will cost once standard support ends (a later line)."""
    props = cluster["Properties"]
    policy = props.get("UpgradePolicy", {}).get("SupportType", EKS_DEFAULT_SUPPORT_TYPE)
    support = cluster.get("Metadata", {}).get(SUPPORT_METADATA, {})
    version = props.get("Version", "?")
    if support.get("phase") == "extended":
        return [CostLine(
            f"EKS control plane, Kubernetes {version} in extended support", f"${EKS_EXTENDED_SUPPORT_PER_HOUR:.2f}/hour",
            "1", EKS_EXTENDED_SUPPORT_PER_HOUR * HOURS_PER_MONTH,
        )]
    lines = [CostLine(
        f"EKS control plane, upgrade policy {policy}", f"${EKS_CONTROL_PLANE_PER_HOUR:.2f}/hour (standard support)", "1",
        EKS_CONTROL_PLANE_PER_HOUR * HOURS_PER_MONTH,
    )]
    if policy == "EXTENDED":
        extra = EKS_EXTENDED_SUPPORT_PER_HOUR - EKS_CONTROL_PLANE_PER_HOUR
        lines.append(CostLine(
            f"EKS extended support once Kubernetes {version}'s standard support ends (upgrade policy EXTENDED)",
            f"+${extra:.2f}/hour (${EKS_EXTENDED_SUPPORT_PER_HOUR:.2f} in all)", "1", extra * HOURS_PER_MONTH, later=True,
        ))
    return lines


def total(lines: Iterable[CostLine]) -> float:
    return sum(line.monthly or 0.0 for line in lines if not line.later)


def platform_total(lines: Iterable[CostLine]) -> float:
    """The platform standing still: control plane, endpoints, keys, bastion; no Fargate pods."""
    return total(line for line in lines if not line.pods)


PLATFORM_ROW = "**platform, without pods**"


def cost_table_markdown(lines: list[CostLine], total_label: str = "total (fixed part)") -> str:
    """The Markdown table the review report and docs/costs.md show: the platform's lines, their subtotal, the pods
    (the delivery pipeline's table too, with its own total's label)."""
    def row(line: CostLine) -> str:
        monthly = f"${line.monthly:,.2f}" if line.monthly is not None else "not priced"
        monthly = f"(+{monthly} from then; not in the totals)" if line.later else monthly
        return f"| {line.item} | {line.unit_price} | {line.quantity} | {monthly} |"

    pods = [row(line) for line in lines if line.pods]
    rows = ["| item | unit price | quantity | per month |", "|---|---|---|---|"]
    rows += [row(line) for line in lines if not line.pods]
    if pods:
        rows += [f"| {PLATFORM_ROW} | | | **${platform_total(lines):,.2f}** |", *pods]
    rows.append(f"| **{total_label}** | | | **${total(lines):,.2f}** |")
    return "\n".join(rows)


def cost_summary(lines: list[CostLine]) -> str:
    """One line: interface endpoints, the platform without pods and the total (docs/costs.md's single-zone figure)."""
    endpoints = next((line for line in lines if line.item == "Interface VPC endpoints"), None)
    where = f"interface endpoints {endpoints.quantity} ${endpoints.monthly:,.2f}, " if endpoints else ""
    return f"{where}platform without pods **${platform_total(lines):,.2f}**, total **${total(lines):,.2f}** a month"
