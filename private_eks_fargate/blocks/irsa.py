"""IAM roles for service accounts (IRSA): the only way pods on Fargate get AWS credentials (no Pod Identity there)."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from ..settings.checks import check_namespace
from ..settings.errors import ConfigError

#: aws-cdk-lib's feature flag for a native AWS::IAM::OIDCProvider instead of a custom resource with its own Lambda.
NATIVE_OIDC_PROVIDER_FLAG = "@aws-cdk/aws-eks:useNativeOidcProvider"


def irsa_service_account(
    scope: Construct,
    construct_id: str,
    *,
    cluster: eks.ICluster,
    name: str,
    namespace: str,
    after: Sequence[IDependable] = (),
) -> eks.ServiceAccount:
    """A Kubernetes service account in `namespace` bound to a new IAM role through the cluster's OIDC provider.

    Pods that use it (``serviceAccountName: NAME``) get the role's credentials from STS through the ``sts``
    endpoint. Grant the role what the pods need, e.g. ``bucket.grant_read(account)`` or
    ``account.add_to_principal_policy(statement)``; the role trusts only ``system:serviceaccount:NAMESPACE:NAME``.

    :param scope: where the service account construct (role + manifest) is defined
    :param cluster: the cluster; the first call creates its IAM OIDC provider
    :param name: the service account's name (a DNS-1123 label)
    :param namespace: its namespace, which must exist (pass its manifest in `after`)
    :param after: resources the service account manifest waits for, e.g. the namespace manifest. default: none
    """
    check_namespace("irsa.namespace", namespace)
    try:
        check_namespace("irsa.name", name)
    except ConfigError:
        raise ConfigError("irsa.name", f"{name!r} is not a valid service account name (a DNS-1123 label)") from None
    account = eks.ServiceAccount(
        scope, construct_id, cluster=cluster, name=name, namespace=namespace, identity_type=eks.IdentityType.IRSA
    )
    if after:
        account.node.add_dependency(*after)
    return account
