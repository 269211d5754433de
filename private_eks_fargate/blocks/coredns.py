"""CoreDNS on Fargate as the EKS add-on, at the version EKS lists for the cluster's Kubernetes version, and a wait
that fails the deploy unless every change of it rolls out completely."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Duration
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from ..settings.versions import KubernetesRelease
from .rollout import rollout_wait

COREDNS_SELECTOR = {"namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}}
#: The add-on's own setting that schedules CoreDNS on Fargate (it sets the pod annotation
#: eks.amazonaws.com/compute-type: fargate); confirm with
#: aws eks describe-addon-configuration --addon-name coredns --addon-version VERSION
FARGATE_CONFIGURATION = {"computeType": "Fargate"}
#: EKS bootstraps a self-managed CoreDNS with every cluster: the add-on takes it over and sets its own values.
RESOLVE_CONFLICTS = "OVERWRITE"


class CoreDnsOnFargate(Construct):
    """The ``coredns`` EKS add-on on Fargate, then a wait until its rollout is complete.

    Why the add-on and not a patch of the self-managed Deployment: EKS never upgrades the self-managed CoreDNS;
    the add-on's version is a property CloudFormation updates in place (``AddonVersion`` is not create-only), and
    EKS brings the image of the region, its RBAC and PodDisruptionBudget with each version. A Kubernetes upgrade is
    one setting: the cluster is updated first, then the add-on (it refers to the cluster), then the wait.

    The add-on depends on the CoreDNS Fargate profile and on `after` (the VPC endpoints in a single-stack setup, the
    Fargate logging ConfigMap): pods created before the profile stay Pending.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.ICluster,
        release: KubernetesRelease,
        profile: eks.FargateProfile,
        timeout: Duration,
        after: Sequence[IDependable] = (),
    ) -> None:
        """
        :param cluster: the cluster whose CoreDNS becomes the add-on
        :param release: the cluster's Kubernetes release; its ``coredns`` is the add-on version
        :param profile: the Fargate profile that selects the CoreDNS pods
        :param timeout: how long the rollout wait polls before it fails the deploy
        :param after: further resources the add-on must wait for. default: none
        """
        super().__init__(scope, construct_id)
        self.version = release.coredns
        self.addon = eks.Addon(
            self,
            "Addon",
            cluster=cluster,
            addon_name="coredns",
            addon_version=self.version,
            configuration_values=FARGATE_CONFIGURATION,
            # if the add-on is ever removed from the stack, CoreDNS keeps running (the cluster needs its DNS)
            preserve_on_delete=True,
        )
        self.addon.node.default_child.add_property_override("ResolveConflicts", RESOLVE_CONFLICTS)
        self.addon.node.add_dependency(profile, *after)
        self.ready = rollout_wait(
            self,
            "Ready",
            cluster=cluster,
            namespace=COREDNS_SELECTOR["namespace"],
            deployment="coredns",
            applied={"version": self.version, "configuration": FARGATE_CONFIGURATION},
            timeout=timeout,
        )
        self.ready.node.add_dependency(self.addon)
