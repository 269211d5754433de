"""Strict data perimeter: VPC endpoint policies that admit only this account's principals and the S3 buckets
the platform needs. Off by default (``compliance.strict_data_perimeter``); unverified until deployed.

Assumed bucket names (from AWS documentation; see docs/compliance.md, *Data perimeter*):

- ``prod-<region>-starport-layer-bucket``: where ECR keeps image layers; pulls fetch them from it through the
  S3 gateway endpoint with a URL that ECR pre-signs, so the caller is not a principal of this account.
- ``cloudformation-custom-resource-response-<region without dashes>``: CloudFormation's bucket for custom
  resource responses; the kubectl provider Lambda PUTs to a URL that CloudFormation pre-signs.
- ``cdk-hnb659fds-assets-<account>-<region>``: the CDK bootstrap assets bucket (default qualifier ``hnb659fds``);
  the bastion downloads kubectl and the verify command from it when it boots.
"""

from __future__ import annotations

from aws_cdk import Aws, Fn
from aws_cdk import aws_iam as iam

CDK_BOOTSTRAP_QUALIFIER = "hnb659fds"
THIS_ACCOUNT = {"StringEquals": {"aws:PrincipalAccount": Aws.ACCOUNT_ID}}


def _objects(bucket: str) -> str:
    return f"arn:{Aws.PARTITION}:s3:::{bucket}/*"


def assumed_buckets() -> dict[str, str]:
    """Bucket name (with tokens for account and region) -> who needs it."""
    region_without_dashes = Fn.join("", Fn.split("-", Aws.REGION))
    return {
        f"prod-{Aws.REGION}-starport-layer-bucket": "ECR image layers (Fargate image pulls)",
        f"cloudformation-custom-resource-response-{region_without_dashes}": (
            "CloudFormation custom-resource responses (kubectl provider Lambda)"
        ),
        f"cdk-{CDK_BOOTSTRAP_QUALIFIER}-assets-{Aws.ACCOUNT_ID}-{Aws.REGION}": "CDK bootstrap assets of this account",
    }


def interface_endpoint_statements(service: str) -> list[iam.PolicyStatement]:
    """Any action, but only by principals of this account. STS also admits web-identity role assumption
    (IRSA), whose caller is not yet a principal, for roles of this account only."""
    statements = [
        iam.PolicyStatement(
            sid="OnlyPrincipalsOfThisAccount",
            principals=[iam.AnyPrincipal()],
            actions=["*"],
            resources=["*"],
            conditions=THIS_ACCOUNT,
        )
    ]
    if service == "sts":
        statements.append(
            iam.PolicyStatement(
                sid="WebIdentityToRolesOfThisAccount",
                principals=[iam.AnyPrincipal()],
                actions=["sts:AssumeRoleWithWebIdentity"],
                resources=[f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/*"],
            )
        )
    return statements


def s3_gateway_statements(session_log_bucket: str | None = None) -> list[iam.PolicyStatement]:
    """Only the buckets the platform needs: ECR layers (read), custom-resource responses (write), CDK assets
    (read, this account's principals only), and the Session Manager log bucket when the account's preferences name
    one (write, this account's principals only)."""
    layers, responses, assets = assumed_buckets()
    session = [
        iam.PolicyStatement(
            sid="SessionManagerLogsOfThisAccount",
            principals=[iam.AnyPrincipal()],
            actions=["s3:PutObject", "s3:GetEncryptionConfiguration"],
            resources=[f"arn:{Aws.PARTITION}:s3:::{session_log_bucket}", _objects(session_log_bucket)],
            conditions=THIS_ACCOUNT,
        )
    ] if session_log_bucket else []
    return [
        iam.PolicyStatement(
            sid="EcrImageLayers",
            principals=[iam.AnyPrincipal()],
            actions=["s3:GetObject"],
            resources=[_objects(layers)],
        ),
        iam.PolicyStatement(
            sid="CloudFormationCustomResourceResponses",
            principals=[iam.AnyPrincipal()],
            actions=["s3:PutObject"],
            resources=[_objects(responses)],
        ),
        iam.PolicyStatement(
            sid="CdkAssetsOfThisAccount",
            principals=[iam.AnyPrincipal()],
            actions=["s3:GetObject"],
            resources=[_objects(assets)],
            conditions=THIS_ACCOUNT,
        ),
        *session,
    ]
