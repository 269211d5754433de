"""CoreDNS on Fargate as the EKS add-on, at the version EKS lists for the cluster's Kubernetes version, and a wait
that fails the deploy unless every change of it rolls out completely."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Duration
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from ..settings.versions import KubernetesRelease
from .rollout import rollout_wait

#: The pod label that names the Fargate profile a pod goes to, when more than one selects it (EKS user guide).
PROFILE_LABEL = "eks.amazonaws.com/fargate-profile"

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

    The CoreDNS pods are pinned to their profile by name (a pod-template label, ``PROFILE_LABEL``), and the wait carries
    that name: when a change replaces the profile (new subnets, say), CloudFormation creates the new profile, the pin
    moves and CoreDNS rolls onto it (its PodDisruptionBudget keeps DNS answering), the wait runs until the rollout is
    complete, and only then, in its clean-up, does CloudFormation delete the old profile, which no pod uses any more.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.ICluster,
        release: KubernetesRelease,
        profile: eks.FargateProfile,
        profile_name: str,
        timeout: Duration,
        after: Sequence[IDependable] = (),
    ) -> None:
        """
        :param cluster: the cluster whose CoreDNS becomes the add-on
        :param release: the cluster's Kubernetes release; its ``coredns`` is the add-on version
        :param profile: the Fargate profile that selects the CoreDNS pods
        :param profile_name: its name (known at synth), which the pods are pinned to
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
        pin = {"spec": {"template": {"metadata": {"labels": {PROFILE_LABEL: profile_name}}}}}
        self.pin = eks.KubernetesPatch(
            self,
            "ProfilePin",
            cluster=cluster,
            resource_name="deployment/coredns",
            resource_namespace=COREDNS_SELECTOR["namespace"],
            apply_patch=pin,
            # the same patch: deleting this resource keeps the pin (a strategic merge patch cannot carry the null that
            # would remove it); the cluster goes with the stack, and the pin names a profile of the stack
            restore_patch=pin,
            patch_type=eks.PatchType.STRATEGIC,
        )
        # after the add-on (which owns the Deployment) and after the profile it names, created or replaced
        self.pin.node.add_dependency(self.addon, profile)
        self.ready = rollout_wait(
            self,
            "Ready",
            cluster=cluster,
            namespace=COREDNS_SELECTOR["namespace"],
            deployment="coredns",
            applied={"version": self.version, "configuration": FARGATE_CONFIGURATION, "profile": profile_name},
            timeout=timeout,
        )
        self.ready.node.add_dependency(self.addon, self.pin)
