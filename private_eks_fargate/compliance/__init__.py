"""Compliance checks run on every synth: four cdk-nag packs plus the project's own EKS checks.

cdk-nag 3.0.2's EKS rules only look at the old ``aws_eks`` cluster, so ``PrivateEksChecks`` checks every
``AWS::EKS::Cluster`` in the synthesized templates itself. It is a CDK validation plugin like the cdk-nag packs:
a finding fails synth the same way and lands in the same ``validation-report.json``.

Findings that cannot be fixed are acknowledged one at a time with ``acknowledge()``, next to the construct that
owns the resource, with a reason that names the resource and why; ``check_reason`` refuses empty or stock reasons.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks
from constructs import IConstruct

from .control_tower import ControlTowerChecks, user_choice  # noqa: F401  (user_choice: for the blocks)

#: cdk-nag packs by the prefix of their rule ids
NAG_PACKS = {
    "AwsSolutions": AwsSolutionsChecks,
    "NIST.800.53.R5": NIST80053R5Checks,
    "HIPAA.Security": HIPAASecurityChecks,
    "PCI.DSS.321": PCIDSS321Checks,
}
NIST, HIPAA, PCI = "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"
OWN_PACK = "PrivateEks"
SUPPRESSIONS_METADATA = "cdk_nag"

#: The control-plane log types EKS offers; a private cluster for a regulated workload keeps all of them.
EKS_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")

_STOCK_REASONS = re.compile(
    r"^\s*(n/?a|none|todo|tbd|ok|okay|fine|ignore|ignored|suppress(ed)?|false positive|not (needed|applicable|required)"
    r"|accepted|by design|acknowledged|known)\W*$",
    re.IGNORECASE,
)
MIN_REASON_WORDS = 8


def check_reason(rule_id: str, reason: str) -> None:
    """A reason must say which resource and why: at least 8 words and not a stock phrase."""
    if not isinstance(reason, str) or _STOCK_REASONS.match(reason) or len(reason.split()) < MIN_REASON_WORDS:
        raise ValueError(
            f"acknowledgement of {rule_id}: reason {reason!r} is too generic; name the resource and why the "
            f"finding does not apply (at least {MIN_REASON_WORDS} words)"
        )


def acknowledge(resource: cdk.CfnResource, rule_id: str, reason: str) -> None:
    """Acknowledge one finding (e.g. ``AwsSolutions-IAM4[Policy::...]``) on the one resource that has it.

    Besides CDK's acknowledgement (which cdk-nag honours), the rule and reason go into the resource's template
    Metadata (``cdk_nag.rules_to_suppress``, cdk-nag's own format) for a reviewer who reads only the template.
    """
    acknowledge_all(resource, {rule_id: reason})


def acknowledge_in_packs(resource: cdk.CfnResource, rule: str, packs: Sequence[str], reason: str) -> None:
    """The same rule as several packs name it (e.g. ``LambdaDLQ`` in NIST 800-53 and HIPAA), one reason."""
    acknowledge_all(resource, {f"{pack}-{rule}": reason for pack in packs})


#: the acknowledgements written on each resource so far, by the resource's jsii object id: read without asking the
#: jsii runtime (each call is a round trip to Node.js, and a synth makes a hundred acknowledgements)
_RECORDED: dict[str, list[dict[str, str]]] = {}


def acknowledged_rules(resource: cdk.CfnResource) -> list[dict[str, str]]:
    """The acknowledgements (``{id, reason}``) written on `resource`, in order."""
    ref = getattr(getattr(resource, "__jsii_ref__", None), "ref", None)
    if ref is None or ref not in _RECORDED:
        recorded = list((resource.get_metadata(SUPPRESSIONS_METADATA) or {}).get("rules_to_suppress", []))
        if ref is None:
            return recorded
        _RECORDED[ref] = recorded
    return _RECORDED[ref]


def acknowledge_all(resource: cdk.CfnResource, reasons: Mapping[str, str]) -> None:
    """Acknowledge several findings (rule id -> reason) on the one resource that has them, in three jsii calls."""
    if not (isinstance(resource, cdk.CfnResource) or cdk.CfnResource.is_cfn_resource(resource)):
        raise TypeError(f"acknowledge {', '.join(reasons)} on the resource itself (a CfnResource), not on {resource.node.path}")
    for rule_id, reason in reasons.items():
        check_reason(rule_id, reason)
    cdk.Validations.of(resource).acknowledge(*(cdk.Acknowledgment(id=rule, reason=reason) for rule, reason in reasons.items()))
    recorded = acknowledged_rules(resource)
    recorded += [{"id": rule_id, "reason": reason} for rule_id, reason in reasons.items()]
    resource.add_metadata(SUPPRESSIONS_METADATA, {"rules_to_suppress": list(recorded)})


MANAGED_POLICY_FINDING = "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{}]"
LAMBDA_BASIC_EXECUTION = "service-role/AWSLambdaBasicExecutionRole"
LAMBDA_VPC_EXECUTION = "service-role/AWSLambdaVPCAccessExecutionRole"
PROVIDER_FRAMEWORK_FUNCTIONS = ("framework-onEvent", "framework-isComplete", "framework-onTimeout")


def logical_id(element: cdk.CfnElement) -> str:
    return cdk.Stack.of(element).resolve(element.logical_id)


def nag_arn(scope: IConstruct, service: str, resource: str) -> str:
    """An ARN of `scope`'s stack as cdk-nag writes it in finding ids: partition, region and account literal when the
    stack knows them, else ``<AWS::Partition>`` and so on."""
    stack = cdk.Stack.of(scope)

    def part(value: str, pseudo: str) -> str:
        return f"<AWS::{pseudo}>" if cdk.Token.is_unresolved(value) else value

    return (
        f"arn:{part(stack.partition, 'Partition')}:{service}:{part(stack.region, 'Region')}:"
        f"{part(stack.account, 'AccountId')}:{resource}"
    )


def acknowledge_deploy_time_lambda(function: lambda_.Function, *, name: str, made_by: str, scope_of_policy: str) -> None:
    """The findings every custom-resource Lambda has, each on its resource, with reasons naming `name`. Every such
    Lambda runs in the VPC (AWS Control Tower's CT.LAMBDA.PR.3): one outside it keeps LambdaInsideVPC open.

    :param name: what the function is, e.g. "kubectl handler Lambda"
    :param made_by: who shapes its role, e.g. "aws-cdk-lib's KubectlProvider"
    :param scope_of_policy: what its inline policies are limited to
    """
    resource = function.node.default_child
    ignore_cfn_lint(resource, REDUNDANT_ROLE_DEPENDENCY)
    in_vpc = function.is_bound_to_vpc
    for policy in (LAMBDA_BASIC_EXECUTION, LAMBDA_VPC_EXECUTION) if in_vpc else (LAMBDA_BASIC_EXECUTION,):
        acknowledge(
            function.role.node.default_child,
            MANAGED_POLICY_FINDING.format(policy),
            f"{made_by} gives the {name} role {policy.split('/')[-1]}, the AWS-managed policy for "
            + ("creating its ENIs in the cluster subnets and " if in_vpc else "")
            + "writing its own logs; the role is not ours to shape.",
        )
    acknowledge_inline_policies(function, name=name, made_by=made_by, scope_of_policy=scope_of_policy)
    acknowledge_in_packs(
        resource,
        "LambdaConcurrency",
        (NIST, HIPAA),
        f"The {name} runs only while CloudFormation deploys this stack, one custom resource at a time; reserved "
        "concurrency would take capacity from the account for no gain.",
    )
    acknowledge_in_packs(
        resource,
        "LambdaDLQ",
        (NIST, HIPAA),
        f"The {name} is invoked synchronously for CloudFormation custom resources; a failure fails the deployment "
        "and rolls it back, so there is no lost asynchronous event to park in a dead-letter queue.",
    )


def acknowledge_inline_policies(function: lambda_.Function, *, name: str, made_by: str, scope_of_policy: str) -> None:
    """IAMNoInlinePolicy on each inline policy of `function`'s role not acknowledged yet (its DefaultPolicy, and one
    ``inlinePolicyAddedToExecutionRole-N`` per ``add_to_role_policy`` call): call again after adding statements."""
    inline = [function.role.node.try_find_child("DefaultPolicy")] + [
        child for child in function.node.children if child.node.id.startswith("inlinePolicyAddedToExecutionRole")
    ]
    for policy in filter(None, inline):
        resource = policy.node.default_child
        if any(rule["id"].endswith("-IAMNoInlinePolicy") for rule in acknowledged_rules(resource)):
            continue
        acknowledge_in_packs(
            resource,
            "IAMNoInlinePolicy",
            (NIST, HIPAA, PCI),
            f"This inline policy of the {name} role is written by {made_by} and allows only {scope_of_policy}; "
            "it lives and dies with the role.",
        )


def acknowledge_provider_framework(provider: cr.Provider, *, name: str, handlers: Sequence[lambda_.IFunction]) -> None:
    """The findings of aws-cdk-lib's custom-resource Provider: its framework Lambdas (which may invoke every version
    of `handlers`). No acknowledgement for an isComplete handler's waiter state machine: without logging and X-Ray
    tracing it fails AWS Control Tower's CT.STEPFUNCTIONS.PR.1 and PR.2, so the platform's providers have none.

    :param name: the provider, e.g. "kubectl provider"
    """
    framework = [f for f in map(provider.node.try_find_child, PROVIDER_FRAMEWORK_FUNCTIONS) if f is not None]
    for function in framework:
        step = function.node.id.removeprefix("framework-")
        acknowledge_deploy_time_lambda(
            function,
            name=f"{name} framework {step} Lambda",
            made_by="aws-cdk-lib's custom-resource Provider",
            scope_of_policy=f"invoking and reading the {name}'s own handler Lambdas",
        )
        for handler in handlers:
            acknowledge(
                function.role.node.find_child("DefaultPolicy").node.default_child,
                f"AwsSolutions-IAM5[Resource::<{logical_id(handler.node.default_child)}.Arn>:*]",
                f"The {name} framework {step} Lambda may invoke every version (ARN suffix :*) of the {name}'s handler "
                f"{handler.node.id}, nothing else; aws-cdk-lib's Provider writes this statement.",
            )


def check_eks_cluster(properties: Mapping) -> list[tuple[str, str]]:
    """The project's own checks of one ``AWS::EKS::Cluster``: (rule, problem) for each one that fails."""
    problems = []
    vpc = properties.get("ResourcesVpcConfig", {})
    if vpc.get("EndpointPublicAccess", True) is not False or vpc.get("EndpointPrivateAccess") is not True:
        problems.append(
            ("EndpointPrivateOnly", "The EKS API server endpoint must be private only (EndpointPublicAccess false, "
             "EndpointPrivateAccess true).")
        )
    enabled = {entry.get("Type") for entry in properties.get("Logging", {}).get("ClusterLogging", {}).get("EnabledTypes", [])}
    missing = [kind for kind in EKS_LOG_TYPES if kind not in enabled]
    if missing:
        problems.append(
            ("ControlPlaneLogging", f"All five control-plane log types must be enabled; missing: {', '.join(missing)}.")
        )
    encrypted = [
        config
        for config in properties.get("EncryptionConfig", [])
        if "secrets" in config.get("Resources", []) and config.get("Provider", {}).get("KeyArn")
    ]
    if not encrypted:
        problems.append(
            ("SecretsEncryption", "Kubernetes secrets must be envelope-encrypted with a KMS key (EncryptionConfig).")
        )
    return problems


@jsii.implements(cdk.IPolicyValidationPlugin)
class PrivateEksChecks:
    """CDK validation plugin: every EKS cluster in the templates is private-only, logs all five types and
    encrypts secrets with KMS. Rule ids: ``PrivateEks-EndpointPrivateOnly``, ``PrivateEks-ControlPlaneLogging``,
    ``PrivateEks-SecretsEncryption``."""

    @property
    def name(self) -> str:
        return OWN_PACK

    @property
    def version(self) -> str:
        return "1.0.0"

    @property
    def rule_ids(self) -> list[str]:
        return [f"{OWN_PACK}-{rule}" for rule in ("EndpointPrivateOnly", "ControlPlaneLogging", "SecretsEncryption")]

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        found: dict[str, tuple[str, list[cdk.PolicyViolatingResource]]] = {}
        for template_path in context.template_paths:
            template = json.loads(Path(template_path).read_text())
            for logical_id, resource in template.get("Resources", {}).items():
                if resource.get("Type") != "AWS::EKS::Cluster":
                    continue
                for rule, problem in check_eks_cluster(resource.get("Properties", {})):
                    found.setdefault(f"{OWN_PACK}-{rule}", (problem, []))[1].append(
                        cdk.PolicyViolatingResource(
                            locations=["Properties"], resource_logical_id=logical_id, template_path=template_path
                        )
                    )
        violations = [
            cdk.PolicyViolation(rule_name=rule, description=problem, violating_resources=where, severity="error")
            for rule, (problem, where) in found.items()
        ]
        return cdk.PolicyValidationPluginReport(success=not violations, violations=violations)


#: aws-cdk-lib writes DependsOn on a Lambda function's role although the function's Role property already
#: references it; cfn-lint warns (W3005) about the redundant but harmless DependsOn.
REDUNDANT_ROLE_DEPENDENCY = "W3005"


def ignore_cfn_lint(resource: cdk.CfnResource, check: str) -> None:
    """Tell cfn-lint to skip one check on one resource (resource Metadata, visible in the template)."""
    resource.add_metadata("cfn-lint", {"config": {"ignore_checks": [check]}})


def skip_checkov(resource: cdk.CfnResource, check: str, reason: str) -> None:
    """Tell checkov to skip one check on one resource, with the reason (resource Metadata ``checkov.skip``, checkov's
    own format, visible in the template); the global skips of ``.checkov.yaml`` stay for what holds everywhere."""
    check_reason(check, reason)
    recorded = resource.get_metadata("checkov") or {"skip": []}
    recorded["skip"].append({"id": check, "comment": reason})
    resource.add_metadata("checkov", recorded)


def enable_compliance_checks(scope: cdk.Stage, packs: Iterable[str] = tuple(NAG_PACKS), *, control_tower: bool = True) -> None:
    """Run the cdk-nag packs and PrivateEksChecks on every synth of `scope` (an App or a Stage), and the AWS Control
    Tower proactive controls (``compliance.control_tower``; one run for all stages of the app).

    :param control_tower: run the proactive controls too (cfn-guard processes: they start before the cdk-nag packs
        and run beside them). default: true
    """
    plugins = [*(NAG_PACKS[pack](scope) for pack in packs), PrivateEksChecks()]
    if control_tower:  # its controls start first and run beside the packs; it reports after them
        checks = ControlTowerChecks.of(scope)
        plugins = [checks.starter, *plugins, checks]
    cdk.Validations.of(scope).add_plugins(*plugins)


#: Tag shapes of resource types that aws-cdk-lib writes as plain CfnResource, which ``Tags.of`` does not reach
#: (an EKS cluster's kubectl ready barrier; a VPC's restrict-default-security-group provider's role and function).
_PLAIN_RESOURCE_TAG_SHAPES = {"AWS::SSM::Parameter": "map", "AWS::IAM::Role": "list", "AWS::Lambda::Function": "list"}


@jsii.implements(cdk.IAspect)
class _TagPlainResources:
    def __init__(self, tags: Mapping[str, str]) -> None:
        self.tags = dict(tags)

    def visit(self, node: IConstruct) -> None:
        # a plain CfnResource comes to Python as that class itself; every other construct is passed over without a
        # call into the jsii runtime (this aspect visits every construct of the scope)
        if type(node) is not cdk.CfnResource or cdk.TagManager.is_taggable(node):
            return
        shape = _PLAIN_RESOURCE_TAG_SHAPES.get(node.cfn_resource_type)
        if shape == "map":
            node.add_property_override("Tags", self.tags)
        elif shape == "list":
            node.add_property_override("Tags", [{"Key": key, "Value": value} for key, value in self.tags.items()])


def apply_tags(scope: IConstruct, tags: Mapping[str, str], *, plain_resources_in: Sequence[IConstruct] | None = None) -> None:
    """Put the configured tags on every taggable resource under `scope`.

    :param plain_resources_in: where aws-cdk-lib writes resources as plain CfnResource (which ``Tags.of`` does not
        reach; an aspect visits every construct there, each visit a call from the jsii runtime into Python).
        default: all of `scope`
    """
    if not tags:
        return
    for key, value in tags.items():
        cdk.Tags.of(scope).add(key, value)
    for where in [scope] if plain_resources_in is None else plain_resources_in:
        cdk.Aspects.of(where).add(_TagPlainResources(tags))
