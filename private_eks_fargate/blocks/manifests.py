"""Kubernetes manifests the platform owns but never deletes on its own: namespaces may hold more than it put there."""

from __future__ import annotations

from typing import Any, Mapping

from aws_cdk import RemovalPolicy
from aws_cdk import aws_eks_v2 as eks


def retained_manifest(cluster: eks.ICluster, construct_id: str, *manifest: Mapping[str, Any]) -> eks.KubernetesManifest:
    """``cluster.add_manifest(construct_id, …)`` (the same construct path, so the same logical id) with the custom
    resource retained: when it leaves the template (the setting that made it is gone) CloudFormation forgets it instead
    of running ``kubectl delete``, so a namespace stays with everything in it, also what was deployed outside this app.
    Delete it yourself: ``kubectl delete namespace NAME`` (docs/operations.md)."""
    return eks.KubernetesManifest(
        cluster, f"manifest-{construct_id}", cluster=cluster, manifest=list(manifest), removal_policy=RemovalPolicy.RETAIN
    )
