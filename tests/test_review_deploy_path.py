"""review/deploy_path.py: the deploy's longest path from the templates' dependency graph, and what it is for the app."""

from pathlib import Path

import pytest
from private_eks_fargate.review.assembly import StackTemplate
from private_eks_fargate.review.deploy_path import NOMINAL_MINUTES, longest_path, references, resource_dependencies

CLUSTER_MIN = NOMINAL_MINUTES["AWS::EKS::Cluster"]
PROFILE_MIN = NOMINAL_MINUTES["AWS::EKS::FargateProfile"]
KUBECTL_MIN = NOMINAL_MINUTES["Custom::AWSCDK-EKS-KubernetesResource"]
WAIT_MIN = NOMINAL_MINUTES["Custom::AWSCDK-EKS-KubernetesObjectValue"]


def test_references_cover_ref_getatt_and_sub():
    value = {"A": {"Ref": "Role"}, "B": {"Fn::GetAtt": ["Fn", "Arn"]}, "C": {"Fn::Sub": "${Bucket.Arn}/${AWS::Region}/${!Literal}"},
             "D": [{"Fn::GetAtt": "Key.Arn"}]}
    assert references(value) == {"Role", "Fn", "Bucket", "AWS::Region", "Key"}


def test_dependencies_keep_only_resources_of_the_same_template():
    template = {"Parameters": {"P": {}}, "Resources": {
        "A": {"Type": "T", "Properties": {"X": {"Ref": "P"}, "Y": {"Ref": "AWS::Region"}, "Z": {"Fn::ImportValue": "e"}}},
        "B": {"Type": "T", "DependsOn": "A", "Properties": {"X": {"Ref": "C"}}},
        "C": {"Type": "T"},
    }}
    assert resource_dependencies(template) == {"A": set(), "B": {"A", "C"}, "C": set()}


def test_longest_path_follows_dependencies_across_stacks():
    network = StackTemplate("S/Network", "S-Network", {"Resources": {"Vpc": {"Type": "AWS::EC2::VPC"}}})
    cluster = StackTemplate("S/Cluster", "S-Cluster", {"Resources": {
        "Cluster": {"Type": "AWS::EKS::Cluster"},
        "Profile": {"Type": "AWS::EKS::FargateProfile", "Properties": {"ClusterName": {"Ref": "Cluster"}}},
        "Late": {"Type": "AWS::EKS::FargateProfile", "DependsOn": ["Profile"]},
        "Manifest": {"Type": "Custom::AWSCDK-EKS-KubernetesResource", "DependsOn": "Profile"},
        "Wait": {"Type": "Custom::AWSCDK-EKS-KubernetesObjectValue", "Properties": {"After": {"Fn::GetAtt": ["Manifest", "Value"]}}},
    }}, dependencies=("S/Network",))
    path = longest_path([cluster, network])
    assert path.minutes == CLUSTER_MIN + 2 * PROFILE_MIN  # the second profile ends after manifest and wait
    assert [s.logical_id for s in path.steps] == ["Vpc", "Cluster", "Profile", "Late"]
    shorter = longest_path([cluster, network], {**NOMINAL_MINUTES, "AWS::EKS::FargateProfile": 0.25})
    assert shorter.minutes == CLUSTER_MIN + 0.25 + KUBECTL_MIN + WAIT_MIN
    assert [s.logical_id for s in shorter.steps][-2:] == ["Manifest", "Wait"]


def test_a_dependency_cycle_is_reported():
    stack = StackTemplate("S", "S", {"Resources": {"A": {"Type": "T", "DependsOn": "B"}, "B": {"Type": "T", "DependsOn": "A"}}})
    with pytest.raises(ValueError, match="dependency cycle"):
        longest_path([stack])


def _stacks(synth):
    from private_eks_fargate.review.assembly import load_stacks

    return load_stacks(Path(synth.assembly.directory))


def test_default_app_deploys_within_target_and_profiles_do_not_add_up(default_app, existing_vpc_app):
    """Default app (one application profile) at most 20.5 minutes; with three application profiles (existing-vpc) the
    path grows by less than a profile's 2.5 minutes per extra profile: only the profile chain itself grows."""
    default = longest_path(_stacks(default_app))
    assert default.minutes <= 20.5, default.describe()
    three = longest_path(_stacks(existing_vpc_app))
    assert len([k for k, r in existing_vpc_app.resources("Prod/Cluster").items() if r["Type"] == "AWS::EKS::FargateProfile"]) == 4
    assert three.minutes - default.minutes < 2 * PROFILE_MIN, three.describe()
    assert default.steps[0].stack == "Dev/Network" and default.steps[-1].stack == "Dev/Cluster"
    root = Path(__file__).resolve().parent.parent
    page = (root / "docs" / "deploy.md").read_text()
    assert f"**{default.minutes:.1f} minutes** for the default app" in page
    assert f"**{three.minutes:.1f}** with three application profiles" in page
    assert f"is **{default.minutes:.1f} minutes** for the\ndefault app" in (root / "README.md").read_text()


def test_report_prints_the_longest_path(default_app, default_review):
    text = default_review.read_text()
    path = longest_path(_stacks(default_app))
    assert f"Longest path of a first deploy: **{path.minutes:.1f} minutes**" in text
    assert f"- longest deploy path: {path.minutes:.1f} minutes" in text
    section = text.split("## Deploy time")[1].split("## ")[0]
    timed = [s for s in path.steps if s.finish > s.start]
    assert timed
    for step in timed:
        assert f"| {step.stack} | {step.logical_id} | {step.type} | {step.start:g} | {step.finish:g} |" in section
