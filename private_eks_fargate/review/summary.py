"""The approver's one-screen summary, read from the cloud assembly alone: what is deployed, who administers it and
how, every path to or from the internet, each KMS key and who may use it, what is retained, the cost, the results
of every check that ran (and "not run" for those that did not), the effective settings and the commit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from ..pod_security import enforced, pod_templates, violations
from .assembly import (
    RESULTS_DIR,
    Review,
    admitted_by,
    build_environment,
    in_region,
    public_instances,
    region_mappings,
    show,
    stack_record,
    template_digests,
)

#: the tools whose results the summary reports, in this order, by the file name they write (``<name>.json``)
RESULT_TOOLS = {"control-tower": "Control Tower proactive controls", "cfn-lint": "cfn-lint", "checkov": "checkov"}
NAG_PACKS = ("AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321", "PrivateEks")
BUILD_RECORD = "private-eks-fargate:build"


def record_results(assembly_dir: Path, tool: str, *, version: str, checked: int, findings: list[Mapping],
                   unit: str = "", evaluated: list[str] | None = None) -> Path:
    """Write one tool's results where the summary reads them: what was checked (`checked` `unit`s) and each failed
    finding (``{rule, resource, message}``, with ``setting`` when the user's choice of that setting is why it fails);
    bound to the assembly's templates as they are now (``load_results`` drops it once they change).

    :param evaluated: the rule ids that ran, when the tool names them (``checked`` counts them)
    """
    out = Path(assembly_dir) / RESULTS_DIR
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{tool}.json"
    path.write_text(json.dumps({"tool": tool, "version": version, "checked": checked, "failed": len(findings),
                                "findings": list(findings), **({"unit": unit} if unit else {}),
                                **({"evaluated": evaluated} if evaluated else {}),
                                "templates": template_digests(assembly_dir)}, indent=1))
    return path


def result_line(name: str, data: Mapping | None) -> str:
    if data is None:
        return f"{name}: not run on this assembly"
    findings = data.get("findings") if isinstance(data.get("findings"), list) else []
    if "failed" not in data and "findings" not in data:
        return f"{name}: results recorded in a format this report does not read (see {RESULTS_DIR}/)"
    failed = data.get("failed", len(findings))
    unit = f" {data['unit']}" if data.get("unit") else ""
    checked = f", {data['checked']}{unit} checked" if "checked" in data else ""
    version = f" {data['version']}" if data.get("version") else ""
    rules = sorted({str(f.get("rule") or f.get("id") or "?") for f in findings if isinstance(f, Mapping)})
    named = f" ({', '.join(rules)})" if rules else ""
    chosen = sorted({f"{f.get('rule')} by {f['setting']}" for f in findings if isinstance(f, Mapping) and f.get("setting")})
    choice = f"; the user's choice: {', '.join(chosen)}" if chosen else ""
    return f"{name}{version}: {failed} failed{checked}{named}{choice}"


def build_record(review: Review) -> dict:
    found = stack_record(review, BUILD_RECORD)
    return found[1] if found else {}


def _by_id(review: Review) -> dict[str, dict]:
    return {lid: resource for _, lid, resource in review.resources()}


def _ref(value: Any) -> str | None:
    if isinstance(value, Mapping) and "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    if isinstance(value, Mapping) and "Ref" in value:
        return value["Ref"]
    return None


def reached_by(review: Review, role_id: str) -> str:
    """Who can act as the role: from its trust and what in the templates carries it."""
    resources = _by_id(review)
    role = resources.get(role_id, {})
    services = [s for st in role.get("Properties", {}).get("AssumeRolePolicyDocument", {}).get("Statement", [])
                for s in ([st.get("Principal", {}).get("Service")] if isinstance(st.get("Principal"), Mapping) else [])]
    if any("ec2" in show(s) for s in services):
        profiles = [lid for lid, r in resources.items() if r["Type"] == "AWS::IAM::InstanceProfile"
                    and {"Ref": role_id} in r["Properties"].get("Roles", [])]
        instances = [lid for lid, r in resources.items() if r["Type"] == "AWS::EC2::Instance"
                     and _ref(r["Properties"].get("IamInstanceProfile")) in profiles]
        return (f"the instance {', '.join(instances) or '?'}: the IAM principals of this account whose policies allow "
                "ssm:StartSession on it (no SSH, no key pair)")
    functions = [lid for lid, r in resources.items() if r["Type"] == "AWS::Lambda::Function"
                 and _ref(r["Properties"].get("Role")) == role_id]
    if functions:
        return f"the Lambda {', '.join(functions)}, invoked only by CloudFormation through the custom-resource provider"
    return f"whoever its trust admits ({', '.join(show(s) for s in services) or 'see IAM roles'})"


def admin_lines(review: Review) -> list[str]:
    lines = []
    for stack, lid, entry in review.resources("AWS::EKS::AccessEntry"):
        props = entry["Properties"]
        policies = ", ".join(show(p.get("PolicyArn")).rsplit("/", 1)[-1] for p in props.get("AccessPolicies", []))
        principal = props.get("PrincipalArn")
        role_id = _ref(principal)
        if role_id:
            lines.append(f"- `{lid}` ({policies or 'no access policy'}) -> role `{role_id}` -> {reached_by(review, role_id)}")
        else:
            lines.append(f"- `{lid}` ({policies or 'no access policy'}) -> `{show(principal)}` (configured) -> whoever may "
                         "assume or sign in as it, outside this app")
    return lines or ["- no access entries in these templates"]


def internet_lines(review: Review) -> list[str]:
    lines = []
    gateways = review.resources("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway")
    default_routes = [lid for _, lid, r in review.resources("AWS::EC2::Route")
                      if r["Properties"].get("DestinationCidrBlock") == "0.0.0.0/0"]
    if gateways:
        lines.append(f"- from the VPC: {', '.join(r['Type'].split('::')[-1] + ' ' + lid for _, lid, r in gateways)}, "
                     f"default routes {', '.join(default_routes) or 'none'} (public bastion subnets only)")
    else:
        lines.append("- from the VPC: none (no internet or NAT gateway, no default route; AWS services via endpoints)")
    for _, lid, project in review.resources("AWS::CodeBuild::Project"):
        env = build_environment(project)
        where = "inside the VPC" if project["Properties"].get("VpcConfig") else "outside the VPC (CodeBuild's network)"
        if "SOURCE_IMAGE" not in env:  # not an image copy: a delivery pipeline's build
            lines.append(f"- build `{lid}` {where}: the delivery pipeline's, installs what it builds with from PyPI and npm")
            continue
        lines.append(f"- image copy `{lid}` {where}: pulls {env.get('SOURCE_IMAGE', '?')} at deploy, pushes to ECR")
    outside = [lid for _, lid, r in review.resources("AWS::Lambda::Function") if not r["Properties"].get("VpcConfig")]
    if outside:
        lines.append(f"- {len(outside)} deploy-time Lambdas outside the VPC: AWS APIs only (CodeBuild, EC2), no inbound")
    public = public_instances(review)
    if public:
        lines.append(f"- to the internet: public IP on {', '.join(public)} (no inbound rule)")
    return lines


def _principal_words(statement: Mapping) -> str:
    principal = statement.get("Principal", {})
    if principal == "*" or principal == {"AWS": "*"}:
        return "anyone"
    if isinstance(principal, Mapping) and "AWS" in principal and show(principal["AWS"]).endswith(":root"):
        return "the account (IAM policies decide who)"
    if isinstance(principal, Mapping) and "Service" in principal:
        return f"service {show(principal['Service'])}"
    return show(principal)


def _condition_words(condition: Mapping) -> str:
    """A statement's condition block in words: every test must hold (IAM's AND across operators and keys)."""
    words = []
    for operator, tests in condition.items():
        for key, value in tests.items():
            if operator.startswith("Bool"):
                absent = " (or absent)" if operator.endswith("IfExists") else ""
                words.append(f"{key} is {show(value)}{absent}")
            elif operator.startswith(("ArnLike", "StringLike")):
                words.append(f"{key} matches {show(value)}")
            elif operator.startswith(("ArnEquals", "StringEquals")):
                words.append(f"{key} is {show(value)}")
            else:
                words.append(f"{key} {operator} {show(value)}")
    return " and ".join(words)


def _statement_words(statement: Mapping) -> str:
    actions = statement.get("Action")
    actions = "kms:*" if actions == "kms:*" else "use (" + show(actions).replace("kms:", "") + ")"
    effect = "denied " if statement.get("Effect") == "Deny" else ""
    condition = statement.get("Condition")
    when = f" when {_condition_words(condition)}" if condition else ""
    return f"{_principal_words(statement)}: {effect}{actions}{when}"


def _refers_to(value: Any, lid: str) -> bool:
    if isinstance(value, Mapping):
        return value in ({"Ref": lid}, {"Fn::GetAtt": [lid, "Arn"]}) or any(_refers_to(v, lid) for v in value.values())
    return isinstance(value, list) and any(_refers_to(v, lid) for v in value)


def encrypted_with(stack, key_id: str) -> list[str]:
    """What the stack's resources encrypt with key `key_id`, read from their properties (IAM policies only grant)."""
    found = []
    for lid, resource in stack.resources.items():
        if resource["Type"].startswith(("AWS::IAM::", "AWS::KMS::")) or not _refers_to(resource.get("Properties"), key_id):
            continue
        name = resource["Properties"].get("LogGroupName") if resource["Type"] == "AWS::Logs::LogGroup" else None
        found.append(f"{resource['Type'].split('::', 1)[1]} `{show(name) if name else lid}`")
    return found


def kms_lines(review: Review) -> list[str]:
    """Each key: what it encrypts and its key policy in words; statements every key's policy has, once."""
    policies = review.resources("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
    keys = [(stack, lid, key["Properties"], [_statement_words(statement) for statement in
                                             key["Properties"].get("KeyPolicy", {}).get("Statement", [])])
            for stack, lid, key in review.resources("AWS::KMS::Key")]
    common = [g for g in keys[0][3] if all(g in grants for *_, grants in keys)] if len(keys) > 1 else []
    lines = [f"- every key's policy: {'; '.join(common)}"] if common else []
    for stack, lid, props, grants in keys:
        users = sorted({show(r) for _, _, policy in policies
                        for st in policy["Properties"].get("PolicyDocument", {}).get("Statement", [])
                        if {"Fn::GetAtt": [lid, "Arn"]} in (st.get("Resource") if isinstance(st.get("Resource"), list) else [st.get("Resource")])
                        for r in policy["Properties"].get("Roles", [])})
        rotation = "rotating" if props.get("EnableKeyRotation") else "NOT rotating"
        own = [g for g in grants if g not in common]
        parts = [f"encrypts {', '.join(encrypted_with(stack, lid)) or 'nothing in this stack'}",
                 *([f"{'its policy also' if common else 'its policy'}: {'; '.join(own)}"] if own else []),
                 *([f"IAM grants it to {', '.join(users)}"] if users else [])]
        lines.append(f"- {stack.path} `{lid}` ({props.get('Description', '')}, {rotation}): {'; '.join(parts)}")
    return lines or ["- no KMS keys created here"]


def pod_security_results(review: Review) -> tuple[list[tuple[str, str, str]], int, list[str]]:
    """(namespace, level, version) of every namespace the templates create, the number of pod templates checked
    against their namespace's level, and each refusal."""
    namespaces: dict[str, tuple[str, str]] = {}
    pods = []
    for lid, manifest in review.manifests():
        metadata = manifest.get("metadata") or {}
        if manifest.get("kind") == "Namespace":
            namespaces[metadata.get("name")] = enforced(metadata.get("labels") or {})
        for pod_meta, spec in pod_templates(manifest):
            pods.append((lid, manifest, pod_meta, spec))
    refused = []
    for lid, manifest, pod_meta, spec in pods:
        namespace = (manifest.get("metadata") or {}).get("namespace", "default")
        level, version = namespaces.get(namespace, ("privileged", "latest"))
        for why in violations(spec, level=level, version=version, metadata=pod_meta):
            refused.append(f"{manifest.get('kind')} {namespace}/{manifest['metadata'].get('name')} in `{lid}`: {why}")
    return [(ns, *namespaces[ns]) for ns in sorted(namespaces)], len(pods), refused


def deployed_lines(review: Review) -> list[str]:
    lines = []
    for _, lid, cluster in review.resources("AWS::EKS::Cluster"):
        props = cluster["Properties"]
        vpc = props.get("ResourcesVpcConfig", {})
        access = "private only" if vpc.get("EndpointPublicAccess") is False else "PUBLIC"
        access += " (public access off, private on)" if vpc.get("EndpointPrivateAccess") else ""
        encryption = props.get("EncryptionConfig", [])
        keys = ", ".join(show(e.get("Provider", {}).get("KeyArn")) for e in encryption) or "none"
        types = props.get("Logging", {}).get("ClusterLogging", {}).get("EnabledTypes", [])
        auth = props.get("AccessConfig", {}).get("AuthenticationMode", "?")
        lines += [
            f"- EKS cluster `{show(props.get('Name'))}`: Kubernetes {props.get('Version')}, API endpoint {access}, "
            f"authentication {auth}",
            f"- secrets envelope-encrypted with KMS key {keys}; control-plane logs: "
            f"{', '.join(t.get('Type', '?') for t in types) or 'none'}",
        ]
    profiles = review.resources("AWS::EKS::FargateProfile")
    lines.append(f"- {len(profiles)} Fargate profiles; every pod runs on Fargate in the cluster subnets")
    return lines + region_lines(review) + image_lines(review)


def admitted_regions(review: Review) -> list[str] | None:
    """The regions the templates' region rule admits (None: no stack has one)."""
    return next((regions for stack in review.stacks if (regions := admitted_by(stack.template)) is not None), None)


def _per_region(mappings: Mapping[str, Mapping], value: Any, example: str) -> tuple[str, str | None]:
    """A value as `example` region gets it, and the per-region mapping it is read from (None: not per region)."""
    found, mapping = in_region(value, mappings, example)
    if mapping is not None and example in mappings[mapping]:
        return str(found if found is not None else "?"), mapping
    return show(value), None


def _where(values: list[tuple[str, str | None]], example: str) -> str:
    mappings = sorted({mapping for _, mapping in values if mapping})
    per_region = f" in {example} (by region: mapping {', '.join(mappings)})" if mappings else ""
    return ", ".join(value for value, _ in values) + per_region


def region_lines(review: Review) -> list[str]:
    """Where the templates can be deployed, and what each region gets there (zones, the bastion's type)."""
    regions = {stack.region for stack in review.stacks if stack.region}
    admitted = admitted_regions(review)
    example = next(iter(regions)) if len(regions) == 1 else "us-east-1"
    if regions:
        lines = [f"- region {', '.join(sorted(regions))} (the stacks are bound to it)"]
    elif admitted is not None:
        lines = [f"- regions: the templates admit {len(admitted)}, refuse the rest (rule SupportedRegion, docs/regions.md)"]
    else:
        lines = ["- regions: any (no region rule in these templates)"]
    subnets = [s["Properties"] for _, _, s in review.resources("AWS::EC2::Subnet")]
    mappings = region_mappings(stack.template for stack in review.stacks)
    by_id = [_per_region(mappings, props["AvailabilityZoneId"], example) for props in subnets if "AvailabilityZoneId" in props]
    by_name = [show(props.get("AvailabilityZone")) for props in subnets if "AvailabilityZoneId" not in props]
    if by_id:
        lines.append(f"- subnets in zone IDs {_where(by_id, example)}")
    if by_name:
        lines.append(f"- subnets in zones by name: {', '.join(by_name)} (which physical zones: the account's mapping)")
    instances = review.resources("AWS::EC2::Instance")
    types = [_per_region(mappings, r["Properties"].get("InstanceType"), example) for _, _, r in instances]
    if types:
        lines.append(f"- bastion: {_where(types, example)}")
    for _, _, instance in instances:
        lines += session_lines(instance.get("Metadata", {}).get("SessionManagerPreferences"))
    return lines


def image_lines(review: Review) -> list[str]:
    """Instances whose AMI a deploy reads from an SSM parameter: a new image there replaces the instance."""
    lines = []
    for stack, lid, instance in review.resources("AWS::EC2::Instance"):
        parameter = _ref(instance["Properties"].get("ImageId"))
        declared = stack.template.get("Parameters", {}).get(parameter or "", {})
        if str(declared.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
            lines.append(
                f"- instance `{lid}`: its AMI is read at every deploy from the SSM parameter `{declared.get('Default')}`; "
                "a deploy after a new image is published there replaces the instance (pin it with "
                "operations.bastion_ami, or bind the stage to app.account and app.region: the AMI is then looked up "
                "once and kept in cdk.context.json)"
            )
    return lines


def session_lines(preferences: Mapping | None) -> list[str]:
    """The account's Session Manager preferences the bastion was given permissions for (its template Metadata)."""
    if not preferences:
        return ["- Session Manager preferences: none given (operations.session_manager_preferences)"]
    parts = []
    if preferences.get("kmsKeyId"):
        parts.append(f"sessions encrypted with KMS key {preferences['kmsKeyId']}")
    if preferences.get("cloudWatchLogGroupName"):
        parts.append(f"logged to CloudWatch Logs {preferences['cloudWatchLogGroupName']}")
    if preferences.get("s3BucketName"):
        key = f" (KMS key {preferences['s3BucketKmsKeyArn']})" if preferences.get("s3BucketKmsKeyArn") else ""
        parts.append(f"logged to s3://{preferences['s3BucketName']}/{preferences.get('s3KeyPrefix', '')}{key}")
    return [f"- Session Manager preferences (the bastion may act on them): {'; '.join(parts)}"]
