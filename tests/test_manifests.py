"""Every Kubernetes object the platform applies is valid for the cluster's Kubernetes version."""

import json

import kubernetes_validate
import pytest

from private_eks_fargate.blocks.image_guard import render
from private_eks_fargate.settings.versions import DEFAULT_KUBERNETES_VERSION


def applied_manifests(synth):
    for stack, template in synth.templates.items():
        for key, resource in template["Resources"].items():
            if resource["Type"] == "Custom::AWSCDK-EKS-KubernetesResource":
                # manifests naming the stack's account/region are Fn::Join: render pseudo parameters as ${AWS::...}
                for manifest in json.loads(render(resource["Properties"]["Manifest"])):
                    yield f"{stack}:{key}", manifest


def cluster_version(synth) -> str:
    versions = {
        r["Properties"]["Version"] for t in synth.templates.values() for r in t["Resources"].values() if r["Type"] == "AWS::EKS::Cluster"
    }
    (version,) = versions
    return version


@pytest.mark.parametrize("config", ["default", "existing-vpc", "user-stack", "public-bastion"])
def test_manifests_validate_strictly_for_the_cluster_version(all_synths, config):
    synth = all_synths[config]
    version = cluster_version(synth)
    assert version == DEFAULT_KUBERNETES_VERSION
    manifests = list(applied_manifests(synth))
    assert manifests, "every configuration applies at least the namespace"
    for where, manifest in manifests:
        kubernetes_validate.validate(manifest, f"{version}.0", strict=True)


def test_validator_rejects_an_invalid_manifest():
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}, "spec": {"bogus": 1}}, "1.36.0", strict=True)
