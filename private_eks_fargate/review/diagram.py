"""Architecture diagram drawn from the synthesized templates, written directly as SVG (standard library only: no
plotting library to import on every synth).

Left to right: the VPC with its subnets, the EKS cluster and its Fargate profiles, the in-VPC Lambdas and any
bastion; the VPC endpoints on the VPC's edge; the AWS services they reach. Arrows run from each consumer to the
endpoints whose ``Metadata.Purpose.NeededBy`` names it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from .assembly import show

if TYPE_CHECKING:
    from .assembly import Review

COLORS = {
    "vpc": "#e8f1fb", "subnet": "#cfe3f7", "cluster": "#fde9c9", "profile": "#fff6e5", "lambda": "#e6f4ea",
    "bastion": "#f3e5f5", "interface": "#dbe9d6", "gateway": "#fff2b3", "service": "#eeeeee", "edge": "#5b6b7a",
}  # fmt: skip
CONSUMER_WORDS = {"cluster": ("fargate", "pods", "image pulls"), "lambda": ("kubectl",), "bastion": ("bastion",)}
#: Drawing units (x 0..180, y -16..108, y up) and pixels per unit.
X_MAX, Y_MIN, Y_MAX, SCALE = 180, -16, 108, 10
#: Average glyph width as a fraction of the font size (sans-serif), to wrap text inside its box.
GLYPH_WIDTH = 0.55


class Svg:
    """The few shapes the diagram needs, in drawing units (y up), rendered as one SVG document."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    @staticmethod
    def _x(x: float) -> float:
        return round(x * SCALE, 1)

    @staticmethod
    def _y(y: float) -> float:
        return round((Y_MAX - y) * SCALE, 1)

    def text(self, x: float, y: float, text: str, size: float = 9, weight: str = "normal", anchor: str = "start",
             valign: str = "middle", style: str = "normal") -> None:
        """Lines of `text` (split at newlines) centred on y (middle) or starting at y (top); size in points."""
        lines = text.split("\n")
        pixels = size * 1.35
        top = self._y(y) - (len(lines) - 1) * pixels / 2 if valign == "middle" else self._y(y) + pixels * 0.8
        for index, line in enumerate(lines):
            self.parts.append(
                f'<text x="{self._x(x)}" y="{round(top + index * pixels, 1)}" font-size="{round(pixels, 1)}" '
                f'font-weight="{weight}" font-style="{style}" text-anchor="{anchor}" dy="0.35em" xml:space="preserve">'
                f"{escape(line)}</text>"
            )

    def box(self, x: float, y: float, w: float, h: float, color: str, text: str = "", size: float = 9,
            weight: str = "normal", align: str = "center") -> None:
        self.parts.append(
            f'<rect x="{self._x(x)}" y="{self._y(y + h)}" width="{round(w * SCALE, 1)}" height="{round(h * SCALE, 1)}" '
            f'rx="8" fill="{color}" stroke="#4a4a4a" stroke-width="0.8"/>'
        )
        if text:
            width = max(int(w * SCALE / (size * 1.35 * GLYPH_WIDTH)), 8)
            wrapped = "\n".join(wrapped for line in text.split("\n") for wrapped in textwrap.wrap(line, width) or [""])
            if align == "center":
                self.text(x + w / 2, y + h / 2, wrapped, size, weight, anchor="middle")
            else:
                self.text(x + 1.2, y + h / 2, wrapped, size, weight)

    def arrow(self, start: tuple[float, float], end: tuple[float, float], opacity: float = 0.8) -> None:
        self.parts.append(
            f'<line x1="{self._x(start[0])}" y1="{self._y(start[1])}" x2="{self._x(end[0])}" y2="{self._y(end[1])}" '
            f'stroke="{COLORS["edge"]}" stroke-width="1" stroke-opacity="{opacity}" marker-end="url(#head)"/>'
        )

    def render(self) -> str:
        width, height = X_MAX * SCALE, (Y_MAX - Y_MIN) * SCALE
        head = (
            '<defs><marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{COLORS["edge"]}"/></marker></defs>'
        )
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">\n'
            f'<rect width="{width}" height="{height}" fill="white"/>\n{head}\n' + "\n".join(self.parts) + "\n</svg>\n"
        )


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _subnet_type(subnet: dict) -> str:
    """aws-cdk-lib tags each subnet it creates with its type (Isolated, Public, Private)."""
    tags = {t.get("Key"): t.get("Value") for t in subnet["Properties"].get("Tags", [])}
    return tags.get("aws-cdk:subnet-type", "")


def draw_architecture(review: "Review", path: Path) -> Path:
    from .costs import deployments  # the same reading of the manifests as the cost estimate

    svg = Svg()
    stacks = ", ".join(s.path for s in review.stacks)
    svg.text(2, 105, f"Private EKS on Fargate: {stacks}", size=15, weight="bold")

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
    svg.box(2, 2, 116, 98, COLORS["vpc"])
    svg.text(4, 98, vpc_label, size=11, weight="bold", valign="top")

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
        svg.box(5 + i * width, 84, width - 2, 9, COLORS["subnet"], label, size=8 if len(labels) <= 3 else 7)

    # consumers
    consumers: dict[str, tuple[float, float]] = {}
    if clusters:
        _, _, cluster = clusters[0]
        props = cluster["Properties"]
        vpc_config = props.get("ResourcesVpcConfig", {})
        endpoint = "private only" if vpc_config.get("EndpointPublicAccess") is False else "PUBLIC"
        log_types = len(props.get("Logging", {}).get("ClusterLogging", {}).get("EnabledTypes", []))
        secrets = "KMS" if props.get("EncryptionConfig") else "none"
        svg.box(5, 44, 62, 37, COLORS["cluster"])
        svg.text(7, 79, f"EKS cluster {show(props.get('Name'))} (Kubernetes {props.get('Version')})", size=10,
                 weight="bold", valign="top")
        svg.text(7, 75, f"API endpoint: {endpoint}   control-plane logs: {log_types} types   secrets: {secrets}",
                 size=8.5, valign="top")
        profiles = review.resources("AWS::EKS::FargateProfile")
        for i, (_, _, profile) in enumerate(profiles[:5]):
            selectors = "; ".join(
                f"namespace {s.get('Namespace', '')}"
                + (" with " + ", ".join(f"{lb['Key']}={lb['Value']}" for lb in s.get("Labels", [])) if s.get("Labels") else "")
                for s in profile["Properties"].get("Selectors", [])
            )
            svg.box(8, 66 - i * 4.6, 56, 3.6, COLORS["profile"],
                    _short(f"Fargate profile {show(profile['Properties'].get('FargateProfileName'))}: {selectors}", 90),
                    size=7.5, align="left")
        if len(profiles) > 5:
            svg.text(8, 66 - 5 * 4.6 + 1, f"… and {len(profiles) - 5} more profiles", size=7.5)
        workloads = [f"{name} ({replicas} pods)" for name, replicas, _ in deployments([r for _, _, r in review.resources()])]
        if workloads:
            svg.text(7, 51, _short("Deployments: " + ", ".join(workloads), 90), size=8.5)
        svg.text(7, 47, "every pod runs on Fargate in the isolated subnets", size=8, style="italic")
        consumers["cluster"] = (67, 62)
    in_vpc = [r for _, _, r in review.resources("AWS::Lambda::Function") if r["Properties"].get("VpcConfig")]
    if in_vpc:
        svg.box(5, 26, 62, 14, COLORS["lambda"],
                f"{len(in_vpc)} Lambda functions in the VPC\n(kubectl handler and provider framework)", size=9)
        consumers["lambda"] = (67, 33)
    instances = review.resources("AWS::EC2::Instance")
    if instances:
        props = instances[0][2]["Properties"]
        public = any(n.get("AssociatePublicIpAddress") for n in props.get("NetworkInterfaces", []))
        address = "PUBLIC IP (public bastion subnet), no inbound rule" if public else "no public IP"
        svg.box(5, 8, 62, 14, COLORS["bastion"], f"SSM-managed bastion ({show(props.get('InstanceType', ''))})\n"
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
        svg.box(88, y, 28, height, COLORS["interface" if kind == "Interface" else "gateway"],
                f"{service} ({kind.lower()}, {where}{strict})", size=7.5)
        why = textwrap.wrap(purpose.get("Why", ""), 56)
        svg.box(132, y, 44, height, COLORS["service"],
                "\n".join([f"{service}: {why[0] if why else ''}", *why[1:2]]) + ("…" if len(why) > 2 else ""),
                size=7, align="left")
        svg.arrow((116.5, y + height / 2), (131.5, y + height / 2))
        needed_by = purpose.get("NeededBy", "").lower()
        for consumer, words in CONSUMER_WORDS.items():
            if consumer in consumers and any(word in needed_by for word in words):
                svg.arrow(consumers[consumer], (87.5, y + height / 2), opacity=0.45)
    svg.text(132, 98, "AWS services (regional), through the endpoints", size=10, weight="bold")
    if not endpoints:
        svg.text(132, 90, "no endpoints created here\n(the VPC is trusted to have them)", size=9)

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
    svg.box(2, -14, 174, 10, "#f7f7f7", facts, size=9)
    path.write_text(svg.render())
    return path
