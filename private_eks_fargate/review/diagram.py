"""Architecture diagram drawn from the synthesized templates, written directly as SVG (standard library only: no
plotting library to import on every synth).

Left to right: the VPC with its subnets, the EKS cluster and its Fargate profiles, the in-VPC Lambdas and any
bastion; the VPC endpoints on the VPC's edge; the AWS services they reach. Arrows run from each consumer to the
endpoints whose ``Metadata.Purpose.NeededBy`` names it. Below the VPC: any internet or NAT gateway on its edge, the
internet, and the services outside the VPC: the image copies (source registry -> CodeBuild -> ECR), the ECR
repositories and the registries pods pull from, and every CloudWatch log group with its writer, retention and key.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from ..pod_security import pod_templates
from .assembly import show
from .summary import _ref, build_record

if TYPE_CHECKING:
    from .assembly import Review, StackTemplate

COLORS = {
    "vpc": "#e8f1fb", "subnet": "#cfe3f7", "cluster": "#fde9c9", "profile": "#fff6e5", "lambda": "#e6f4ea",
    "bastion": "#f3e5f5", "interface": "#dbe9d6", "gateway": "#fff2b3", "service": "#eeeeee", "edge": "#5b6b7a",
    "internet": "#fbe3e3", "internet_gateway": "#f6b8b8", "outside": "#f7f7f7", "build": "#e3e8fb", "ecr": "#fdf0dc",
    "logs": "#e9f5f7",
}  # fmt: skip
CONSUMER_WORDS = {"cluster": ("fargate", "pods", "image pulls"), "lambda": ("lambda",), "bastion": ("bastion",)}
#: Drawing units (x 0..180, y up from Y_MIN, which the band below the VPC lowers, to 108) and pixels per unit.
X_MAX, Y_MIN, Y_MAX, SCALE = 180, -16, 108, 10
#: Average glyph width as a fraction of the font size (sans-serif), to wrap text inside its box; listings of names
#: and identifiers (wider letters) wrap earlier.
GLYPH_WIDTH, LISTING_GLYPH_WIDTH = 0.55, 0.6


def line_height(size: float) -> float:
    """Drawing units between two lines of text of `size` points."""
    return size * 1.35 / SCALE


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

    @staticmethod
    def rows(lines: list[str], w: float, size: float = 7.5) -> list[str]:
        """`lines` wrapped to a box `w` units wide (continuations indented)."""
        width = max(int((w - 2.4) * SCALE / (size * 1.35 * LISTING_GLYPH_WIDTH)), 8)
        return [row for line in lines for row in textwrap.wrap(line, width, subsequent_indent="   ", break_on_hyphens=False) or [""]]

    def listing(self, x: float, top: float, w: float, h: float, color: str, title: str, lines: list[str],
                size: float = 7.5) -> None:
        """A box (top edge at `top`) with a bold title and lines under it; lines that do not fit are counted."""
        self.box(x, top - h, w, h, color)
        self.text(x + 1.2, top - 0.8, title, size + 1.5, "bold", valign="top")
        rows = self.rows(lines, w, size)
        fit = int((h - 4) / line_height(size))
        if len(rows) > fit:
            rows = rows[: fit - 1] + [f"… {len(rows) - fit + 1} more lines in REVIEW.md"]
        self.text(x + 1.2, top - 3.4, "\n".join(rows), size, valign="top")

    def arrow(self, start: tuple[float, float], end: tuple[float, float], opacity: float = 0.8) -> None:
        self.parts.append(
            f'<line x1="{self._x(start[0])}" y1="{self._y(start[1])}" x2="{self._x(end[0])}" y2="{self._y(end[1])}" '
            f'stroke="{COLORS["edge"]}" stroke-width="1" stroke-opacity="{opacity}" marker-end="url(#head)"/>'
        )

    def render(self, y_min: float = Y_MIN) -> str:
        width, height = X_MAX * SCALE, round((Y_MAX - y_min) * SCALE)
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


def _plain_id(logical_id: str) -> str:
    """A logical id without the hash aws-cdk-lib appends (``LogsKeyA6AB43B2`` -> ``LogsKey``)."""
    return re.sub(r"(?<=.)[0-9A-F]{8}$", "", logical_id)


def key_label(stack: "StackTemplate", value: Any) -> str:
    """The KMS key a property names: a key of the same stack by logical id, or an imported key by its id."""
    if value is None:
        return "no KMS key"
    if _ref(value):
        return f"key {_plain_id(_ref(value))} ({stack.path.rsplit('/', 1)[-1]})"
    if isinstance(value, str):
        return f"imported key {value.rsplit('/', 1)[-1][:8]}…"
    return f"key {show(value)}"


def log_group_lines(review: "Review") -> list[str]:
    """Each log group with what writes to it (the flow log, build or cluster that names it), retention and key."""
    writers = {}
    for _, _, flow in review.resources("AWS::EC2::FlowLog"):
        props = flow["Properties"]
        writers[_ref(props.get("LogGroupName")) or _ref(props.get("LogDestination"))] = (
            f"VPC flow logs, {str(props.get('TrafficType', '?')).lower()} traffic")
    for _, lid, project in review.resources("AWS::CodeBuild::Project"):
        group = project["Properties"].get("LogsConfig", {}).get("CloudWatchLogs", {}).get("GroupName")
        writers[_ref(group)] = f"CodeBuild {_plain_id(lid)}"
    functions: dict[str | None, list[str]] = {}
    for _, lid, function in review.resources("AWS::Lambda::Function"):
        group = function["Properties"].get("LoggingConfig", {}).get("LogGroup")
        functions.setdefault(_ref(group), []).append(_plain_id(lid))
    for group, names in functions.items():
        writers[group] = f"Lambda {', '.join(names)}"
    clusters = {f"/aws/eks/{show(c['Properties'].get('Name'))}/cluster": c for _, _, c in review.resources("AWS::EKS::Cluster")}
    applied = " ".join(json.dumps(m) for _, m in review.manifests())
    lines = []
    for stack, lid, group in review.resources("AWS::Logs::LogGroup"):
        props = group["Properties"]
        name = show(props["LogGroupName"]) if "LogGroupName" in props else ""
        if lid in writers:
            writer = writers[lid]
        elif name in clusters:
            types = clusters[name]["Properties"].get("Logging", {}).get("ClusterLogging", {}).get("EnabledTypes", [])
            writer = f"EKS control plane, {len(types)} log types"
        elif name and name in applied:
            writer = "Fargate pods' containers (Fluent Bit)"
        else:
            writer = "no writer in these templates"
        retention = f"{props['RetentionInDays']} days" if "RetentionInDays" in props else "never expires"
        kept = "retained" if group.get("DeletionPolicy") == "Retain" else "deleted with the stack"
        lines.append(f"• {name or _plain_id(lid)}: {writer}; {retention}, {kept}, {key_label(stack, props.get('KmsKeyId'))}")
    return lines


def copy_builds(review: "Review") -> list[tuple[str, str, str, bool]]:
    """(build, source image, target repository:tag, inside the VPC) of each CodeBuild project (the image copies)."""
    builds = []
    for _, lid, project in review.resources("AWS::CodeBuild::Project"):
        props = project["Properties"]
        env = {v.get("Name"): show(v.get("Value")) for v in props.get("Environment", {}).get("EnvironmentVariables", [])}
        if "SOURCE_IMAGE" not in env:
            continue  # a delivery pipeline's build, not an image copy
        target = f"{env.get('TARGET_REPOSITORY', '?')}:{env.get('TARGET_TAG', '?')}"
        builds.append((_plain_id(lid), env.get("SOURCE_IMAGE", props.get("Description", "?")), target,
                       bool(props.get("VpcConfig"))))
    return builds


def registry(image: str) -> str:
    """The registry an image reference names, as a reader knows it."""
    host = image.split("/", 1)[0] if "/" in image and re.search(r"[.:]|^localhost$", image.split("/", 1)[0]) else "docker.io"
    return "this account's ECR in this region" if re.match(r"<account>\.dkr\.ecr\.<region>\.", host) else host


def ecr_lines(review: "Review") -> list[str]:
    """The repositories created here, and the registries the pods of these templates pull from."""
    lines = []
    for stack, lid, repository in review.resources("AWS::ECR::Repository"):
        props = repository["Properties"]
        encryption = props.get("EncryptionConfiguration", {})
        key = key_label(stack, encryption.get("KmsKey")) if encryption.get("EncryptionType") == "KMS" else "AES256"
        scan = "scan on push" if props.get("ImageScanningConfiguration", {}).get("ScanOnPush") else "NO scan on push"
        tags = "immutable tags" if props.get("ImageTagMutability", "MUTABLE").startswith("IMMUTABLE") else "MUTABLE tags"
        kept = "retained" if repository.get("DeletionPolicy") == "Retain" else "deleted with the stack"
        lines.append(f"• {show(props.get('RepositoryName', _plain_id(lid)))}: {key}, {scan}, {tags}, {kept}")
    if not lines:
        lines.append("• no repository created here")
    images = sorted({registry(show(c.get("image", "")))
                     for _, manifest in review.manifests() for _, spec in pod_templates(manifest)
                     for c in [*spec.get("containers", []), *spec.get("initContainers", [])]})
    lines.append(f"Pods pull from: {', '.join(images) or 'no pod in these templates'}")
    addons = [show(a["Properties"].get("AddonName")) for _, _, a in review.resources("AWS::EKS::Addon")]
    if addons:
        lines.append(f"EKS add-ons ({', '.join(addons)}): images from the EKS add-on registry of the region")
    allowed = build_record(review).get("settings", {}).get("workloads.allowed_registries")
    if allowed:
        lines.append(f"Also allowed by the image guard: {', '.join(allowed)}")
    return lines


def gateway_lines(review: "Review") -> list[tuple[str, str]]:
    """(label, what routes to it) of each internet or NAT gateway: the subnets whose default route names it."""
    subnets = {lid: r for _, lid, r in review.resources("AWS::EC2::Subnet")}
    tables = {}
    for _, _, association in review.resources("AWS::EC2::SubnetRouteTableAssociation"):
        props = association["Properties"]
        tables.setdefault(_ref(props.get("RouteTableId")), []).append(_ref(props.get("SubnetId")))
    found = []
    for _, lid, gateway in review.resources("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway"):
        routed = [subnet for _, _, route in review.resources("AWS::EC2::Route")
                  if lid in (_ref(route["Properties"].get("GatewayId")), _ref(route["Properties"].get("NatGatewayId")))
                  for subnet in tables.get(_ref(route["Properties"].get("RouteTableId")), [])]
        cidrs = ", ".join(show(subnets[s]["Properties"].get("CidrBlock")) for s in routed if s in subnets)
        kind = "internet gateway" if gateway["Type"].endswith("InternetGateway") else "NAT gateway"
        found.append((f"{kind} {_plain_id(lid)}", f"default route of subnets {cidrs}" if cidrs else "no route to it"))
    return found


def draw_architecture(review: "Review", path: Path) -> Path:
    from .costs import deployments  # the same reading of the manifests as the cost estimate

    svg = Svg()
    stacks = ", ".join(s.path for s in review.stacks)
    svg.text(2, 105, f"Private EKS on Fargate: {stacks}", size=15, weight="bold")

    vpcs = review.resources("AWS::EC2::VPC")
    subnets = review.resources("AWS::EC2::Subnet")
    clusters = review.resources("AWS::EKS::Cluster")
    gateways = gateway_lines(review)
    if vpcs:
        reach = (f"{' and '.join(label for label, _ in gateways)} (below), {gateways[0][1]}" if gateways
                 else "isolated subnets, no internet or NAT gateway")
        vpc_label = f"VPC {vpcs[0][2]['Properties'].get('CidrBlock')}: {reach}"
    else:
        vpc_label = "existing VPC (imported, not created here)"
    svg.box(2, 2, 116, 98, COLORS["vpc"])
    svg.text(4, 98, _short(vpc_label, 110), size=11, weight="bold", valign="top")

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
    in_vpc = [lid for _, lid, r in review.resources("AWS::Lambda::Function") if r["Properties"].get("VpcConfig")]
    if in_vpc:
        svg.box(5, 26, 62, 14, COLORS["lambda"], f"{len(in_vpc)} Lambda functions in the VPC (deploy time only)\n"
                + ", ".join(_plain_id(lid) for lid in in_vpc), size=8.5)
        consumers["lambda"] = (67, 33)
    instances = review.resources("AWS::EC2::Instance")
    public = False
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

    bottom = _outside_the_vpc(svg, review, gateways, bastion_public=public, own_vpc=bool(vpcs))
    path.write_text(svg.render(y_min=bottom))
    return path


def _outside_the_vpc(svg: Svg, review: "Review", gateways: list[tuple[str, str]], bastion_public: bool,
                     own_vpc: bool) -> float:
    """Below the VPC: its gateways on the edge, the internet, and the regional services outside it: the image copy
    path (source registry -> CodeBuild -> ECR), ECR, CloudWatch Logs with each group's key. Returns the lowest y."""
    for i, (label, routes) in enumerate(gateways):
        svg.box(8 + i * 30, -2, 26, 7, COLORS["internet_gateway"], f"{label}\n{routes}", size=7)
        svg.arrow((21 + i * 30, -2.2), (21 + i * 30, -7.8))
        if bastion_public and "internet" in label:
            svg.arrow((21 + i * 30, 7.8), (21 + i * 30, 5.2))  # the bastion's outbound traffic
    builds = copy_builds(review)
    sources: dict[str, list[str]] = {}
    for _, source, _, _ in builds:
        sources.setdefault(registry(source), []).append(source.split("/", 1)[-1])
    reached = [f"• {host}: source of {', '.join(images)}" for host, images in sorted(sources.items())]
    reached += [f"• through the {label}: outbound from its subnets" for label, _ in gateways]
    if not own_vpc:
        reached.append("• from the existing VPC: its routes are not in these templates")
    reached = reached or ["• not reached: no gateway in the VPC, no image copy"]
    ecr, logs = ecr_lines(review), log_group_lines(review) or ["• no log group created here"]
    shown = builds[:4]
    top, build_height = -12.5, 8.0
    height = max(16.0, len(shown) * (build_height + 1.5) + 1,
                 *(len(svg.rows(lines, w)) * line_height(7.5) + 5 for lines, w in ((reached, 38), (ecr, 40), (logs, 42))))
    bottom = top - height
    svg.listing(2, -8, 38, height + 4.5, COLORS["internet"], "Internet", reached)

    svg.box(44, bottom - 2, 134, height + 12.5, COLORS["outside"])
    svg.text(46, -5.5, "Outside the VPC: regional services of the account", size=10, weight="bold", valign="top")
    path = " (the one path to the internet)" if builds and own_vpc and not gateways else ""
    svg.text(46, -9.5, f"CodeBuild image copies{path}", size=8.5, weight="bold", valign="top")
    for i, (build, source, target, in_vpc) in enumerate(shown):
        y = top - (i + 1) * (build_height + 1.5)
        svg.box(46, y, 38, build_height, COLORS["build"],
                f"{build} ({'in the VPC' if in_vpc else 'no VPC: CodeBuild network'})\n{source}\n→ ECR {target}", size=7)
        svg.arrow((40.2, y + build_height / 2), (45.8, y + build_height / 2))
        svg.arrow((84.2, y + build_height / 2), (89.8, y + build_height / 2))
    if len(builds) > len(shown):
        svg.text(46, bottom + 1, f"… and {len(builds) - len(shown)} more copies", size=7.5)
    if not builds:
        svg.text(46, top - 4, "no image copy: nothing is pulled\nfrom outside AWS at deploy", size=8.5)
    svg.listing(90, top, 40, height, COLORS["ecr"], "ECR", ecr)
    svg.listing(134, top, 42, height, COLORS["logs"], "CloudWatch Logs", logs)
    keys = review.resources("AWS::KMS::Key")
    rotating = sum(1 for _, _, k in keys if k["Properties"].get("EnableKeyRotation"))
    outside = [r for _, _, r in review.resources("AWS::Lambda::Function") if not r["Properties"].get("VpcConfig")]
    svg.text(2, bottom - 4, f"KMS keys created here: {len(keys)} ({rotating} rotating)   custom-resource Lambdas outside "
             f"the VPC (deploy time only): {len(outside)}", size=8)
    return bottom - 6
