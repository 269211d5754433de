"""Operator access and observability for a PrivateCluster: bastion, admin access entries, Fargate logging, IRSA."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from ..blocks.bastion import SsmBastion, check_instance_type
from ..blocks.cluster import PrivateCluster
from ..blocks.fargate_logging import NAMESPACE as LOGGING_NAMESPACE
from ..blocks.fargate_logging import FargateLogging, checked_logging_config
from ..blocks.network import PrivateNetwork
from ..settings import ClusterSettings, OperationsSettings


@dataclass(frozen=True)
class VerifyTarget:
    """What the bastion's verify command checks besides the platform: taken from what the composition applied."""

    #: where the probe pod runs (a namespace a Fargate profile selects); None: no probe pod can be scheduled
    namespace: str | None
    #: labels the probe pod needs to match its namespace's Fargate profile. default: none
    probe_labels: Mapping[str, str] | None = None
    #: a Deployment that must be fully ready, and its replicas. default: none, the platform only
    deployment: str | None = None
    replicas: int | None = None

    @classmethod
    def platform_only(cls, settings: ClusterSettings) -> VerifyTarget:
        """No application to check: the probe pod goes to the first application profile's namespace."""
        if not settings.app_profiles:
            return cls(namespace=None)
        profile = sorted(settings.app_profiles, key=lambda spec: bool(spec.labels))[0]
        return cls(namespace=profile.namespace, probe_labels=dict(profile.labels) or None)

    @property
    def arguments(self) -> str:
        if self.namespace is None:
            args = ["--no-probe"]
        else:
            args = ["--namespace", self.namespace]
            if self.probe_labels:
                args += ["--probe-labels", ",".join(f"{k}={v}" for k, v in sorted(self.probe_labels.items()))]
        if self.deployment is not None:
            args += ["--deployment", self.deployment, "--replicas", str(self.replicas)]
        return " ".join(args)


def admin_access_policy(policy_name: str) -> eks.IAccessPolicy:
    return eks.AccessPolicy.from_access_policy_name(policy_name, access_scope_type=eks.AccessScopeType.CLUSTER)


class ClusterOperations(Construct):
    """Everything an operator needs around a PrivateCluster, in the cluster's stack.

    - an IAM OIDC provider for the cluster (native ``AWS::IAM::OIDCProvider``), for IRSA service accounts;
    - Fargate container logs to a CloudWatch log group of this stack (``settings.fargate_logging``);
    - an SSM-only bastion whose role has an EKS access entry (``settings.bastion``), admitted to the API server;
    - access entries for ``settings.admin_principal_arns``, all with ``settings.admin_access_policy``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: PrivateCluster,
        network: PrivateNetwork,
        settings: OperationsSettings | None = None,
        verify: VerifyTarget | None = None,
    ) -> None:
        """
        :param cluster: the cluster to operate
        :param network: its network (the bastion goes into its cluster subnets, or its public bastion subnets)
        :param settings: the operations settings. default: ``OperationsSettings()``
        :param verify: what the bastion's verify command checks besides the platform.
            default: ``VerifyTarget.platform_only(cluster.settings)``
        """
        settings = settings or OperationsSettings()
        settings.validate()
        verify = verify or VerifyTarget.platform_only(cluster.settings)
        # named after the cluster like EKS's own /aws/eks/NAME/cluster group; a generated name is unknown at synth
        log_group_name = f"/aws/eks/{cluster.cluster_name}/fargate"
        if settings.fargate_logging:
            checked_logging_config(scope, log_group_name, settings)
        if settings.bastion:
            check_instance_type(settings.bastion_instance_type, cluster.release)
        super().__init__(scope, construct_id)
        self.settings = settings
        self.cluster = cluster
        self.oidc_provider = cluster.cluster.open_id_connect_provider
        policy = admin_access_policy(settings.admin_access_policy)

        self.logging = None
        if settings.fargate_logging:
            self.logging = FargateLogging(
                self,
                "FargateLogging",
                cluster=cluster.cluster,
                pod_execution_role=cluster.pod_execution_role,
                log_group_name=log_group_name,
                settings=settings,
                retention_days=cluster.log_retention_days,
                namespace_labels=cluster.pod_security_labels(LOGGING_NAMESPACE),
            )
            # Fargate applies the logging configuration to pods started after it: CoreDNS and workloads follow it
            cluster.before_pods(self.logging.config_map)

        self.bastion = None
        if settings.bastion:
            public = settings.bastion_subnet == "public"
            self.bastion = SsmBastion(
                self,
                "Bastion",
                vpc=network.vpc,
                subnets=network.bastion_subnets if public else network.cluster_subnets,
                cluster=cluster.cluster,
                release=cluster.release,
                kubectl_layer=cluster.kubectl_layer,
                instance_type=settings.bastion_instance_type,
                ami=settings.bastion_ami,
                public=public,
                verify_args=verify.arguments,
                session_preferences=settings.session_manager_preferences,
            )
            cluster.cluster.grant_access("BastionAccess", self.bastion.role.role_arn, [policy])
        for index, arn in enumerate(settings.admin_principal_arns):
            cluster.cluster.grant_access(f"AdminAccess{index}", arn, [policy])

    def add_outputs(self, scope: Construct) -> None:
        """CfnOutputs with the exact commands: SSM session, kubeconfig, verify; the log group and OIDC provider."""
        region = Stack.of(scope).region
        cluster_name = self.cluster.cluster.cluster_name
        outputs = [
            (
                "UpdateKubeconfigCommand",
                f"aws eks update-kubeconfig --region {region} --name {cluster_name}",
                "Write a kubeconfig for the cluster (done at boot on the bastion for ssm-user)",
            ),
            ("OidcProviderArn", self.oidc_provider.open_id_connect_provider_arn, "IAM OIDC provider for IRSA"),
        ]
        if self.bastion is not None:
            outputs += [
                ("BastionInstanceId", self.bastion.instance_id, "SSM-managed bastion (no key pair, no inbound rule)"),
                ("BastionSessionCommand", self.bastion.session_command(), "Open a shell on the bastion (Session Manager plugin)"),
                ("VerifyCommand", self.bastion.verify_command, "Run on the bastion: PASS/FAIL per check, exit 1 on any FAIL"),
            ]
        if self.logging is not None:
            outputs.append(("FargateLogGroup", self.logging.log_group.log_group_name, "CloudWatch log group of the pods' logs"))
        for name, value, description in outputs:
            CfnOutput(scope, name, value=value, description=description)
