"""The review report: what a security reviewer asks, answered from the synthesized templates alone.

``write_review(assembly_dir)`` writes ``review/REVIEW.md`` and ``review/architecture.svg`` into the cloud assembly
(``cdk.out``): per stack the resources, every security-group rule, every IAM role with its trust and policies,
every VPC endpoint with its purpose, anything public, the compliance results with every acknowledgement and its
reason, a fixed monthly cost estimate and an architecture diagram. ``app.py`` calls it after every synth.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from .assembly import Review, StackTemplate, checkov_skips, load_review, load_stacks, show
from .costs import HOURS_PER_MONTH, REGION, cost_lines, cost_table_markdown, platform_total, total
from .deploy_path import NOMINAL_MINUTES, longest_path
from .diagram import draw_architecture, log_group_lines
from .summary import (
    RESULT_TOOLS,
    admin_lines,
    build_record,
    deployed_lines,
    internet_lines,
    kms_lines,
    pod_security_results,
    result_line,
)

#: The packs app.py runs on every synth (compliance.NAG_PACKS and OWN_PACK; a test keeps the two lists equal).
#: The review reads only the cloud assembly, whose validation report names no pack when nothing was found.
PACKS_RUN = ("AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321", "PrivateEks")

REVIEW_DIR = "review"
REPORT_FILE = "REVIEW.md"
RESOURCES_FILE = "resources.json"
DIAGRAM_FILE = "architecture.svg"
SECTIONS = (
    "Summary",
    "Architecture",
    "Stacks and resources",
    "Deploy time",
    "Security-group rules",
    "IAM roles",
    "VPC endpoints",
    "Anything public",
    "Pod Security",
    "Compliance",
    "Monthly cost estimate",
    "Settings",
)


def _cell(text: Any) -> str:
    return show(text).replace("|", "\\|").replace("\n", " ")


def _table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


# --- sections -------------------------------------------------------------------------------------------------


def stacks_section(review: Review) -> list[str]:
    out = ["", f"Resources by type; every resource with its construct path, deletion policy and acknowledgements is in "
           f"`{RESOURCES_FILE}` beside this report.", ""]
    rows = []
    for stack in review.stacks:
        protection = "on" if stack.termination_protection else "off"
        counts: dict[str, int] = {}
        for resource in stack.resources.values():
            counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
        kinds = ", ".join(f"{kind.replace('AWS::', '')} × {n}" for kind, n in sorted(counts.items()))
        rows.append((f"{stack.path} (`{stack.name}`)", len(stack.resources), protection, kinds))
    return out + _table(("stack", "resources", "termination protection", "types"), rows)


def resource_records(review: Review) -> list[dict]:
    """The machine-readable per-resource list written beside the report."""
    records = []
    for stack, lid, resource in review.resources():
        acks = resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
        records.append({
            "stack": stack.path, "logical_id": lid, "type": resource["Type"], "construct_path": stack.construct_path(lid),
            "deletion_policy": resource.get("DeletionPolicy", "Delete"),
            "acknowledgements": [{"rule": a["id"], "reason": a["reason"]} for a in acks],
        })
    return records


def deploy_section(review: Review) -> list[str]:
    path = longest_path(review.stacks)
    nominal = ", ".join(f"{kind} {minutes:g}" for kind, minutes in NOMINAL_MINUTES.items())
    out = ["", f"Longest path of a first deploy: **{path.minutes:.1f} minutes**, from the templates' dependencies "
           f"(DependsOn, Ref, GetAtt, Sub; a stack starts when the stacks it depends on are complete) and nominal "
           f"minutes per resource type ({nominal}; everything else about 0). Resources on it:", ""]
    out += _table(
        ("stack", "logical id", "type", "starts", "done"),
        ((s.stack, s.logical_id, s.type, f"{s.start:g}", f"{s.finish:g}") for s in path.steps if s.finish > s.start),
    )
    return out


@dataclass(frozen=True)
class SecurityGroupRule:
    stack: str
    group: str
    direction: str
    protocol: str
    ports: str
    peer: str
    description: str


def _ports(rule: Mapping) -> str:
    protocol = str(rule.get("IpProtocol"))
    if protocol == "-1":
        return "all"
    low, high = rule.get("FromPort"), rule.get("ToPort")
    if protocol == "icmp":
        return f"icmp type {low} code {high}"
    return f"{low}" if low == high else f"{low}-{high}"


def _peer(rule: Mapping) -> str:
    for key in ("CidrIp", "CidrIpv6", "SourceSecurityGroupId", "DestinationSecurityGroupId", "SourcePrefixListId",
                "DestinationPrefixListId"):
        if key in rule:
            return show(rule[key])
    return "?"


def security_group_rules(review: Review) -> list[SecurityGroupRule]:
    rules = []
    for stack, lid, resource in review.resources("AWS::EC2::SecurityGroup"):
        props = resource["Properties"]
        name = f"{lid} ({props.get('GroupDescription', '')})"
        for direction, key in (("inbound", "SecurityGroupIngress"), ("outbound", "SecurityGroupEgress")):
            for rule in props.get(key, []):
                rules.append(SecurityGroupRule(stack.path, name, direction, str(rule.get("IpProtocol")), _ports(rule),
                                               _peer(rule), rule.get("Description", "")))
    for stack, lid, resource in review.resources("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
        props = resource["Properties"]
        direction = "inbound" if resource["Type"].endswith("Ingress") else "outbound"
        rules.append(SecurityGroupRule(stack.path, show(props.get("GroupId")), direction, str(props.get("IpProtocol")),
                                       _ports(props), _peer(props), props.get("Description", "")))
    return rules


def security_groups_section(review: Review) -> list[str]:
    rules = security_group_rules(review)
    out = ["", "Who can reach what on which port. `255.255.255.255/32 icmp 252-86` is aws-cdk-lib's placeholder "
           "for *no outbound traffic at all*.", ""]
    out += _table(
        ("stack", "security group", "direction", "protocol", "ports", "peer", "description"),
        ((r.stack, r.group, r.direction, r.protocol, r.ports, r.peer, r.description) for r in rules),
    )
    clusters = review.resources("AWS::EKS::Cluster")
    if clusters:
        out += ["", "EKS also creates the *cluster security group* itself (not in the templates): it admits all traffic "
                "between the control-plane ENIs and the Fargate pods, which all carry it."]
    return out


def _condition(condition: Mapping) -> str:
    return " and ".join(
        f"{key} {operator} {show(value)}" for operator, pairs in condition.items() for key, value in pairs.items()
    )


def _statements(document: Mapping) -> list[str]:
    lines = []
    for statement in document.get("Statement", []):
        actions = statement.get("Action", statement.get("NotAction"))
        resources = statement.get("Resource", statement.get("NotResource", "-"))
        condition = f" when {_condition(statement['Condition'])}" if "Condition" in statement else ""
        lines.append(f"{statement.get('Effect')} {show(actions)} on {show(resources)}{condition}")
    return lines


def _principal(statement: Mapping) -> str:
    principal = statement.get("Principal", {})
    if isinstance(principal, str):
        return principal
    return "; ".join(f"{kind}: {show(value)}" for kind, value in principal.items())


def iam_section(review: Review) -> list[str]:
    out = []
    policies = review.resources("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
    for stack, lid, role in review.resources("AWS::IAM::Role"):
        props = role["Properties"]
        out += ["", f"### {stack.path}: `{lid}`", ""]
        if props.get("Description"):
            out.append(f"- description: {props['Description']}")
        for statement in props.get("AssumeRolePolicyDocument", {}).get("Statement", []):
            condition = f" when {_condition(statement['Condition'])}" if "Condition" in statement else ""
            out.append(f"- trust: {show(statement.get('Action'))} by {_principal(statement)}{condition}")
        for arn in props.get("ManagedPolicyArns", []):
            out.append(f"- managed policy: `{show(arn)}`")
        for inline in props.get("Policies", []):
            for line in _statements(inline.get("PolicyDocument", {})):
                out.append(f"- inline policy `{inline.get('PolicyName')}`: {line}")
        for _, policy_id, policy in policies:
            if {"Ref": lid} in policy["Properties"].get("Roles", []):
                kind = "customer-managed policy" if policy["Type"] == "AWS::IAM::ManagedPolicy" else "policy"
                for line in _statements(policy["Properties"].get("PolicyDocument", {})):
                    out.append(f"- {kind} `{policy_id}`: {line}")
    return out


def single_zone_endpoints(review: Review) -> list[tuple[str, dict]]:
    """(logical id, endpoint) of the interface endpoints that have fewer zones than the cluster's subnets."""
    cluster_subnets = max(
        (len(c["Properties"].get("ResourcesVpcConfig", {}).get("SubnetIds", [])) for _, _, c in review.resources("AWS::EKS::Cluster")),
        default=0,
    )
    return [
        (lid, endpoint) for _, lid, endpoint in review.resources("AWS::EC2::VPCEndpoint")
        if endpoint["Properties"].get("VpcEndpointType") == "Interface"
        and isinstance(endpoint["Properties"].get("SubnetIds"), list)
        and len(endpoint["Properties"]["SubnetIds"]) < min(cluster_subnets, 2)
    ]


def single_zone_lines(review: Review) -> list[str]:
    """What is lost when the one zone of single-zone interface endpoints fails (endpoints.single_zone)."""
    endpoints = single_zone_endpoints(review)
    if not endpoints:
        return []
    subnets = sorted({show(e["Properties"]["SubnetIds"]) for _, e in endpoints})
    out = ["", f"**Interface endpoints in one zone** ({len(endpoints)} endpoints, subnet {', '.join(subnets)}; "
           "`endpoints.single_zone`, a non-production cost profile). Pods in the other zones reach them across zones "
           "(inter-zone data transfer is charged per GB). If that zone fails, the VPC loses these AWS APIs until it "
           "is back; pods already running elsewhere keep running, and the EKS API server stays reachable (its "
           "network interfaces span the cluster subnets). Lost, by consumer:", ""]
    for _, endpoint in endpoints:
        purpose = endpoint.get("Metadata", {}).get("Purpose", {})
        service = purpose.get("Service", show(endpoint["Properties"].get("ServiceName")))
        out.append(f"- `{service}`: {purpose.get('NeededBy', 'no consumer recorded')}")
    return out


def endpoints_section(review: Review) -> list[str]:
    rows = []
    for stack, lid, endpoint in review.resources("AWS::EC2::VPCEndpoint"):
        props = endpoint["Properties"]
        purpose = endpoint.get("Metadata", {}).get("Purpose", {})
        kind = props.get("VpcEndpointType", "Gateway")
        where = (f"{len(props.get('SubnetIds', []))} AZ" if kind == "Interface"
                 else f"{len(props.get('RouteTableIds', []))} route tables")
        policy = "; ".join(
            f"{s.get('Sid', '')}: {_statements({'Statement': [s]})[0]}" for s in props.get("PolicyDocument", {}).get("Statement", [])
        ) or "AWS default (full access)"
        rows.append((stack.path, show(props.get("ServiceName")), kind, where,
                     str(props.get("PrivateDnsEnabled", "-")), purpose.get("NeededBy", "?"), purpose.get("Why", "?"), policy))
    table = _table(("stack", "service name", "type", "where", "private DNS", "consumer", "why", "endpoint policy"), rows)
    return ["", "Each endpoint's consumer and why (its `Metadata.Purpose`); service names as the template writes them.",
            "", *table, *endpoint_check_lines(review), *single_zone_lines(review)]


def endpoint_check_lines(review: Review) -> list[str]:
    """The one AWS CLI command that shows, before a deploy, that the region offers every interface endpoint service
    (nothing offline does: an endpoint service missing there fails the Endpoints stack, before the Cluster stack)."""
    names = [show(e["Properties"].get("ServiceName")) for _, _, e in review.resources("AWS::EC2::VPCEndpoint")
             if e["Properties"].get("VpcEndpointType") == "Interface"]
    if not names:
        return []
    regions = sorted({stack.region for stack in review.stacks if stack.region})
    region = regions[0] if len(regions) == 1 else "$REGION"
    names = [name.replace("<region>", region) for name in names]
    command = (f"aws ec2 describe-vpc-endpoint-services --region {region} --service-names {' '.join(names)} "
               "--query 'ServiceNames' --output text")
    first = "" if regions else "REGION=eu-west-1\n"
    return ["", "Does the region offer each interface endpoint service (InvalidServiceName names one it does not; such an "
            "endpoint fails the Endpoints stack, before the Cluster stack starts)?", "", "```", f"{first}{command}", "```"]


def public_exposure(review: Review) -> list[str]:
    """Everything that admits or reaches the internet; the default app has none."""
    findings = []
    for stack, lid, resource in review.resources():
        props, kind = resource.get("Properties", {}), resource["Type"]
        where = f"{stack.path}: `{lid}` ({kind})"
        if kind in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::EIP",
                    "AWS::EC2::EgressOnlyInternetGateway", "AWS::Lambda::Url", "AWS::ApiGateway::RestApi",
                    "AWS::ApiGatewayV2::Api", "AWS::CloudFront::Distribution"):
            findings.append(f"{where}: internet-facing resource type")
        if kind == "AWS::EC2::Subnet" and props.get("MapPublicIpOnLaunch"):
            findings.append(f"{where}: gives instances public IPs")
        if kind == "AWS::EKS::Cluster" and props.get("ResourcesVpcConfig", {}).get("EndpointPublicAccess", True) is not False:
            findings.append(f"{where}: public API server endpoint")
        if kind == "AWS::ElasticLoadBalancingV2::LoadBalancer" and props.get("Scheme", "internet-facing") == "internet-facing":
            findings.append(f"{where}: internet-facing load balancer")
        if kind == "AWS::EC2::Instance" and any(
            n.get("AssociatePublicIpAddress") for n in props.get("NetworkInterfaces", [])
        ):
            findings.append(f"{where}: public IP address")
        if kind == "AWS::S3::Bucket":
            block = props.get("PublicAccessBlockConfiguration", {})
            if not all(block.get(k) for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")):
                findings.append(f"{where}: public access not blocked")
        for policy_key in ("RepositoryPolicyText", "PolicyDocument"):
            for statement in props.get(policy_key, {}).get("Statement", []) if kind != "AWS::EC2::VPCEndpoint" else []:
                if statement.get("Effect") == "Allow" and statement.get("Principal") in ("*", {"AWS": "*"}) and not statement.get("Condition"):
                    findings.append(f"{where}: resource policy allows any principal")
    for rule in security_group_rules(review):
        if rule.direction == "inbound" and rule.peer in ("0.0.0.0/0", "::/0"):
            findings.append(f"{rule.stack}: security group {rule.group} admits {rule.peer} on {rule.ports}")
    return findings


def public_section(review: Review) -> list[str]:
    findings = public_exposure(review)
    if not findings:
        return ["", "**Nothing public.** No internet or NAT gateway, no public IP, no public subnet, no security-group "
                "rule from 0.0.0.0/0 or ::/0, no public EKS endpoint, no public bucket, load balancer, API or function URL."]
    return [""] + [f"- {finding}" for finding in findings]


def acknowledgements(review: Review) -> list[tuple[str, str, str, str]]:
    """(rule, stack, resource, reason) of every acknowledged finding, from the templates' ``cdk_nag`` metadata."""
    found = []
    for stack, lid, resource in review.resources():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            found.append((rule["id"], stack.path, lid, rule["reason"]))
    return found


def cfn_lint_ignores(review: Review) -> list[tuple[str, str, str]]:
    return [
        (check, stack.path, lid)
        for stack, lid, resource in review.resources()
        for check in resource.get("Metadata", {}).get("cfn-lint", {}).get("config", {}).get("ignore_checks", [])
    ]


def _annotations(report: Mapping) -> bool:
    """aws-cdk-lib's report of construct annotations (warnings), beside the plugins' (annotationsInValidationReport)."""
    return (report.get("metadata") or {}).get("cdk:annotations") == "true"


def unacknowledged_findings(review: Review) -> list[dict]:
    if review.validation is None:
        return []
    return [v for report in review.validation.get("pluginReports", []) if not _annotations(report)
            for v in report.get("violations", [])]


def construct_warnings(review: Review) -> list[str]:
    """The warnings aws-cdk-lib's constructs left on this synth, with the construct each is on."""
    if review.validation is None:
        return []
    return [f"{v.get('description', v.get('ruleName'))} ({', '.join(c.get('constructPath', '?') for c in v.get('violatingConstructs', []))})"
            for report in review.validation.get("pluginReports", []) if _annotations(report)
            for v in report.get("violations", [])]


def compliance_section(review: Review) -> list[str]:
    packs = ", ".join([*PACKS_RUN[:-1], f"{PACKS_RUN[-1]} (the project's EKS checks)"])
    if review.validation is None:
        result = "The compliance packs did not run on this synth (no `validation-report.json`)."
    else:
        open_findings = unacknowledged_findings(review)
        result = f"**{len(open_findings)} unacknowledged findings** (synth fails on any)."
    acks = acknowledgements(review)
    by_rule: dict[str, int] = {}
    for rule, *_ in acks:
        base = rule.split("[")[0]
        by_rule[base] = by_rule.get(base, 0) + 1
    out = ["", f"Packs run on every synth: {packs}.", "", result, "",
           f"{len(acks)} acknowledged findings, each one rule on one resource with its own reason (all of them in "
           f"`{RESOURCES_FILE}`); by rule, with the reason of its first resource:", ""]
    first: dict[str, str] = {}
    for rule, _, _, reason in acks:
        first.setdefault(rule.split("[")[0], reason)
    out += _table(("rule", "findings", "reason (of the first)"), ((rule, count, first[rule]) for rule, count in sorted(by_rule.items())))
    ignores = cfn_lint_ignores(review)
    if ignores:
        out += ["", "cfn-lint checks skipped on single resources (template Metadata `cfn-lint`): W3005 is "
                "aws-cdk-lib's redundant DependsOn from a Lambda function to its role.", ""]
        out += _table(("check", "stack", "resource"), ignores)
    if review.checkov_skips:
        out += ["", "checkov checks skipped (`.checkov.yaml`), with their reasons:", ""]
        out += _table(("check", "reason"), review.checkov_skips)
    return out


def cost_section(review: Review) -> list[str]:
    lines = cost_lines(stack.template for stack in review.stacks)
    return ["", f"List prices in {REGION}, on demand, {HOURS_PER_MONTH} hours a month; the fixed part only (no data "
            "processing, log ingestion, traffic or workload pods).", "", cost_table_markdown(lines)]


def summary_section(review: Review) -> list[str]:
    """The approver's one screen: every line read from the assembly (summary.py)."""
    record = build_record(review)
    lines = cost_lines(stack.template for stack in review.stacks)
    namespaces, pods, refused = pod_security_results(review)
    acks = acknowledgements(review)
    open_findings = unacknowledged_findings(review)
    packs = []
    for pack in PACKS_RUN:
        acked = sum(1 for rule, *_ in acks if rule.startswith(f"{pack}-"))
        opened = sum(1 for v in open_findings if str(v.get("ruleName", "")).startswith(f"{pack}-"))
        packs.append(f"{pack} {opened} open / {acked} acknowledged")
    nag = ("not run on this synth" if review.validation is None else "; ".join(packs))
    relaxed = [f"{ns} {level}" for ns, level, _ in namespaces if level != "restricted"]
    # a retained custom resource leaves nothing in the account (a Kubernetes object goes with its cluster)
    retained = [r for _, _, r in review.resources() if r.get("DeletionPolicy") == "Retain" and not r["Type"].startswith("Custom::")]
    retained_kinds: dict[str, int] = {}
    for resource in retained:
        retained_kinds[resource["Type"]] = retained_kinds.get(resource["Type"], 0) + 1
    settings, unset, unused = record.get("settings", {}), record.get("unset", {}), record.get("not_applicable", {})
    out = [
        "",
        f"Stage `{record.get('stage', '?')}` ({record.get('environment', 'environment not recorded')}), stacks "
        f"{', '.join(stack.path for stack in review.stacks)}; built from commit `{record.get('commit', 'not recorded')}`.",
        "", "**What is deployed**", *deployed_lines(review),
        "", "**Who can administer the cluster** (EKS access entry -> principal -> who can act as it)", *admin_lines(review),
        "", "**Paths to or from the internet**", *internet_lines(review),
        "", "**KMS keys and who may use them** (key policy in words)", *kms_lines(review),
        "", "**Log groups** (what writes to each; retention, on destroy, key)",
        *([f"- {line.removeprefix('• ')}" for line in log_group_lines(review)] or ["- no log group created here"]),
        "", "**Retained on destroy**: " + (", ".join(f"{k.replace('AWS::', '')} × {n}" for k, n in sorted(retained_kinds.items()))
                                        or "nothing"),
        "", f"**Monthly cost** (fixed part, {REGION} list prices): ${total(lines):,.2f}; the platform without pods "
        f"${platform_total(lines):,.2f}",
        *([f"- interface endpoints in one zone (`endpoints.single_zone`): if that zone fails, the VPC loses "
           f"{len(single_zone_endpoints(review))} AWS APIs until it is back (see VPC endpoints)"]
          if single_zone_endpoints(review) else []),
        f"- longest deploy path: {longest_path(review.stacks).minutes:.1f} minutes (nominal durations)",
        "", "**Results**",
        f"- cdk-nag: {nag}",
        f"- {result_line(RESULT_TOOLS['control-tower'], review.results.get('control-tower'))}",
        f"- {result_line('cfn-lint', review.results.get('cfn-lint'))}",
        f"- {result_line('checkov', review.results.get('checkov'))}",
        f"- construct warnings: {'none' if not construct_warnings(review) else ''}",
        *(f"  - {warning}" for warning in construct_warnings(review)),
        f"- Pod Security: {pods} pod templates checked against their namespace's level, {len(refused)} refused; "
        f"{len(namespaces)} namespaces labelled, relaxed: {', '.join(relaxed) or 'none'}",
        f"- public exposure: {len(public_exposure(review)) or 'none'}",
        "",
        f"**Effective settings**: {len(settings) + len(unset)} apply, {len(unused)} do not (all under Settings); "
        "not the default:"
        if settings else "**Effective settings**: not recorded in this assembly (built without the app's stage)",
    ]
    changed = record.get("changed", [])
    out += [f"- `{key}` = `{json.dumps(settings[key])}`" for key in changed if key in settings]
    out += [f"- `{key}` = `{json.dumps(unused[key].get('value'))}`: does not apply, {unused[key]['why']}"
            for key in changed if key in unused]
    return list(wrapped(out if out[-1].startswith("- ") or not settings else [*out, "- none"]))


#: the summary's width: a reader's screen, and a reviewer's diff
SUMMARY_WIDTH = 120


def wrapped(lines: Iterable[str], width: int = SUMMARY_WIDTH) -> Iterable[str]:
    """Markdown lines no wider than `width` where a space allows, each going on indented (the same list item or
    paragraph)."""
    for line in lines:
        if len(line) <= width:
            yield line
            continue
        indent = " " * (len(line) - len(line.lstrip(" -")) if line.lstrip().startswith("- ") else 2)
        yield from textwrap.wrap(line, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


def settings_section(review: Review) -> list[str]:
    record = build_record(review)
    settings, unset, unused = record.get("settings", {}), record.get("unset", {}), record.get("not_applicable", {})
    if not settings:
        return ["", "Not recorded in this assembly."]

    def value(key: str) -> str:
        if key in settings:
            return json.dumps(settings[key])
        if key in unset:
            return f"*not set*: {unset[key]}"
        return f"*does not apply*: {unused[key]['why']}" + (f" (given: {json.dumps(unused[key]['value'])})"
                                                           if key in record.get("changed", []) else "")

    keys = record.get("keys") or list(settings)
    return ["", "Every setting of the platform as this stage uses it (`make help` and docs/configuration.md say what each does).",
            "", *_table(("setting", "value"), ((f"`{key}`", value(key)) for key in keys))]


def pod_security_section(review: Review) -> list[str]:
    namespaces, pods, refused = pod_security_results(review)
    out = ["", f"Namespaces the templates create, with the Pod Security level they enforce (audit and warn alike); "
           f"{pods} pod templates checked against their namespace's level with `private_eks_fargate/pod_security.py`.", ""]
    out += _table(("namespace", "enforced level", "version"), namespaces)
    out += ["", *(f"- refused: {r}" for r in refused)] if refused else ["", "No pod template would be refused."]
    return out


def render(review: Review, diagram: str | None) -> str:
    body = {
        "Summary": summary_section(review),
        "Architecture": ["", f"![architecture]({diagram})" if diagram else "(diagram not drawn)",
                         "", "Drawn from the templates on every synth; below the VPC: the internet, the image copies, ECR and "
                         "the log groups with their keys."],
        "Stacks and resources": stacks_section(review),
        "Deploy time": deploy_section(review),
        "Security-group rules": security_groups_section(review),
        "IAM roles": iam_section(review),
        "VPC endpoints": endpoints_section(review),
        "Anything public": public_section(review),
        "Pod Security": pod_security_section(review),
        "Compliance": compliance_section(review),
        "Monthly cost estimate": cost_section(review),
        "Settings": settings_section(review),
    }
    text = ["# Review report", "", "Generated from the cloud assembly by `make synth` / `make review`; every "
            "statement below is read from the synthesized CloudFormation templates and the assembly's metadata."]
    for title in SECTIONS:
        text += ["", f"## {title}", *body[title]]
    return "\n".join(text) + "\n"


def write_review(assembly_dir: Path, checkov_config: Path | None = Path(".checkov.yaml")) -> Path:
    """Write REVIEW.md and the diagram into ``<assembly_dir>/review/``; returns the report's path."""
    return write_report(load_review(Path(assembly_dir), checkov_config), Path(assembly_dir) / REVIEW_DIR)


def write_report(review: Review, out_dir: Path) -> Path:
    """REVIEW.md, the diagram and the resource list of `review` into `out_dir`; returns the report's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    draw_architecture(review, out_dir / DIAGRAM_FILE)
    (out_dir / RESOURCES_FILE).write_text(json.dumps(resource_records(review), indent=1))
    report = out_dir / REPORT_FILE
    report.write_text(render(review, DIAGRAM_FILE))
    return report
