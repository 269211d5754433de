"""CoreDNS on Fargate: the patch that moves it there and a wait that fails the deploy if it never gets ready."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Duration
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

COMPUTE_TYPE_ANNOTATION = "eks.amazonaws.com/compute-type"
COREDNS_SELECTOR = {"namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}}

#: Strategic-merge patch of the pod template. It sets the annotation whether or not the Deployment carries
#: `compute-type: ec2` (a JSON-patch `remove` fails when the annotation is absent), and changing the pod
#: template rolls the pods out again, so no separate `kubectl rollout restart` is needed.
FARGATE_PATCH = {"spec": {"template": {"metadata": {"annotations": {COMPUTE_TYPE_ANNOTATION: "fargate"}}}}}

#: `.status.readyReplicas` is absent until at least one CoreDNS pod is Ready, so the wait only ends then.
READY_JSON_PATH = ".status.readyReplicas"


class CoreDnsOnFargate(Construct):
    """Patch CoreDNS onto Fargate, then wait until it reports ready replicas.

    The patch depends on the CoreDNS Fargate profile and on `after` (the VPC endpoints in a single-stack
    setup): pods created before the profile exists stay Pending.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.ICluster,
        profile: eks.FargateProfile,
        timeout: Duration,
        after: Sequence[IDependable] = (),
    ) -> None:
        """
        :param cluster: the cluster whose ``kube-system/coredns`` Deployment is patched
        :param profile: the Fargate profile that selects the CoreDNS pods
        :param timeout: how long the readiness wait polls before it fails the deploy
        :param after: further resources the patch must wait for. default: none
        """
        super().__init__(scope, construct_id)
        self.patch = eks.KubernetesPatch(
            self,
            "Patch",
            cluster=cluster,
            resource_name="deployment/coredns",
            resource_namespace="kube-system",
            apply_patch=FARGATE_PATCH,
            # Restoring `ec2` on delete would strand CoreDNS on a Fargate-only cluster and is the step that
            # fails stack deletion (aws-cdk #28621, #33347); re-applying the same patch is a harmless no-op.
            restore_patch=FARGATE_PATCH,
            patch_type=eks.PatchType.STRATEGIC,
        )
        self.patch.node.add_dependency(profile, *after)
        self.ready = eks.KubernetesObjectValue(
            self,
            "Ready",
            cluster=cluster,
            object_type="deployment",
            object_name="coredns",
            object_namespace="kube-system",
            json_path=READY_JSON_PATH,
            timeout=timeout,
        )
        self.ready.node.add_dependency(self.patch)

    @property
    def ready_replicas(self) -> str:
        """Token: the number of ready CoreDNS replicas the deploy observed."""
        return self.ready.value
