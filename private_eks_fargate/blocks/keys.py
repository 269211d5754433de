"""The platform's KMS keys: one helper, so every key it creates has the same properties and key policy baseline."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

#: the key policy statement AWS Control Tower's proactive control CT.KMS.PR.3 asks for
GRANTS_FOR_AWS_RESOURCES_ONLY = "GrantsOnlyForAwsResourcesOrByAwsServices"


def platform_key(scope: Construct, construct_id: str, *, description: str) -> kms.Key:
    """A KMS key that rotates yearly, is kept on destroy (what it encrypted outlives the stack) and whose policy
    denies ``kms:CreateGrant`` to every principal unless the grant is for an AWS resource (EBS, EKS, ECR create
    grants when they use the key) or an AWS service asks (CT.KMS.PR.3). The account keeps ``kms:*`` (the default
    key policy, so IAM policies decide who uses the key)."""
    key = kms.Key(
        scope, construct_id, description=description, enable_key_rotation=True, removal_policy=RemovalPolicy.RETAIN
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=GRANTS_FOR_AWS_RESOURCES_ONLY,
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["kms:CreateGrant"],
            resources=["*"],
            conditions={"BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
        )
    )
    return key
