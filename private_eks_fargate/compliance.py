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
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks
from constructs import IConstruct

#: cdk-nag packs by the prefix of their rule ids
NAG_PACKS = {
    "AwsSolutions": AwsSolutionsChecks,
    "NIST.800.53.R5": NIST80053R5Checks,
    "HIPAA.Security": HIPAASecurityChecks,
    "PCI.DSS.321": PCIDSS321Checks,
}
NIST, HIPAA, PCI = "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"
OWN_PACK = "PrivateEks"

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


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one finding (e.g. ``AwsSolutions-IAM4[Policy::...]``) on `scope` and the resources under it."""
    check_reason(rule_id, reason)
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))


def acknowledge_in_packs(scope: IConstruct, rule: str, packs: Sequence[str], reason: str) -> None:
    """The same rule as several packs name it (e.g. ``LambdaDLQ`` in NIST 800-53 and HIPAA), one reason."""
    for pack in packs:
        acknowledge(scope, f"{pack}-{rule}", reason)


def acknowledgements(root: IConstruct) -> list[dict[str, str]]:
    """Every acknowledgement in the tree: rule id, the construct path it applies to, and the reason."""
    found = []
    for construct in root.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for qualified_id, reason in entry.data.items():
                    rule_id = re.sub(r"^annotation::", "", qualified_id, flags=re.IGNORECASE)
                    found.append({"rule": rule_id, "path": construct.node.path, "reason": reason})
    return found


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


def enable_compliance_checks(scope: cdk.Stage, packs: Iterable[str] = tuple(NAG_PACKS)) -> None:
    """Run the cdk-nag packs and PrivateEksChecks on every synth of `scope` (an App or a Stage)."""
    cdk.Validations.of(scope).add_plugins(*(NAG_PACKS[pack](scope) for pack in packs), PrivateEksChecks())


def apply_tags(scope: IConstruct, tags: Mapping[str, str]) -> None:
    """Put the configured tags on every taggable resource under `scope`."""
    for key, value in tags.items():
        cdk.Tags.of(scope).add(key, value)
