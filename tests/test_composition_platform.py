"""The composite construct in a user's own stack (existing VPC). That another app can install and import the library
is `make compat`'s (CI runs it after the suite: the wheel in fresh venvs, the docs' python examples run in each)."""

import kubernetes_validate
import pytest
from private_eks_fargate.settings.versions import DEFAULT_KUBERNETES_VERSION

from conftest import EXISTING_VPC, applied_manifests


def test_composite_builds_a_complete_private_cluster_in_one_user_stack(user_stack_app):
    assert list(user_stack_app.templates) == ["TeamPlatform"]
    kinds = [r["Type"] for r in user_stack_app.resources("TeamPlatform").values()]
    assert kinds.count("AWS::EKS::Cluster") == 1
    assert kinds.count("AWS::EKS::FargateProfile") == 3  # CoreDNS, custom-space, and web from add_workload
    assert kinds.count("AWS::EC2::VPCEndpoint") == 10  # with the bastion's three SSM endpoints
    assert "AWS::EC2::VPC" not in kinds
    (cluster,) = user_stack_app.resources("TeamPlatform", "AWS::EKS::Cluster").values()
    assert cluster["Properties"]["Name"] == "team-a"
    assert cluster["Properties"]["ResourcesVpcConfig"]["SubnetIds"] == list(EXISTING_VPC.subnet_ids)


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
