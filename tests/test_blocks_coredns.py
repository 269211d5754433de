"""CoreDNS on Fargate as the EKS add-on: version from the release table, Fargate compute, ordering, the rollout wait."""

import json
import subprocess

import pytest
from aws_cdk import App, Stack
from private_eks_fargate.blocks.coredns import FARGATE_CONFIGURATION, PROFILE_LABEL, RESOLVE_CONFLICTS
from private_eks_fargate.blocks.rollout import revision, rollout_json_path
from private_eks_fargate.settings.versions import COREDNS_SOURCES, DEFAULT_KUBERNETES_VERSION, RELEASES

from conftest import find_one, manifest

CLUSTER = "Dev/Cluster"


@pytest.fixture(scope="module")
def addon(cluster_resources):
    return find_one(cluster_resources, lambda r: r["Type"] == "AWS::EKS::Addon" and r["Properties"]["AddonName"] == "coredns")


def test_coredns_is_the_eks_addon_on_fargate_at_the_version_listed_for_the_cluster(addon, cluster_resources):
    _, resource = addon
    props = resource["Properties"]
    assert props["AddonVersion"] == RELEASES[DEFAULT_KUBERNETES_VERSION].coredns == "v1.14.3-eksbuild.14"
    assert json.loads(props["ConfigurationValues"]) == {"computeType": "Fargate"} == FARGATE_CONFIGURATION
    # EKS bootstrapped a self-managed CoreDNS: the add-on takes it over instead of failing on the conflict
    assert props["ResolveConflicts"] == RESOLVE_CONFLICTS == "OVERWRITE"
    assert props["PreserveOnDelete"] is True
    (cluster_id,) = [k for k, v in cluster_resources.items() if v["Type"] == "AWS::EKS::Cluster"]
    assert props["ClusterName"] == {"Ref": cluster_id}  # updated after the cluster on an upgrade


def test_every_release_has_a_coredns_version_with_its_source():
    assert len(RELEASES) == 5
    for version, release in RELEASES.items():
        assert release.coredns.startswith("v1.") and "-eksbuild." in release.coredns
        assert COREDNS_SOURCES[version]
    assert set(COREDNS_SOURCES) == set(RELEASES)


def test_the_addon_follows_the_coredns_profile_and_the_logging_configmap(addon, cluster_resources):
    _, resource = addon
    coredns_profile, _ = find_one(
        cluster_resources,
        lambda r: r["Type"] == "AWS::EKS::FargateProfile" and r["Properties"]["Selectors"][0]["Namespace"] == "kube-system",
    )
    config_map, _ = find_one(cluster_resources, lambda r: "aws-logging" in json.dumps(r["Properties"].get("Manifest", "")))
    assert {coredns_profile, config_map} <= set(resource["DependsOn"])


def test_cluster_stack_is_deployed_after_and_destroyed_before_the_endpoints(default_app):
    # CloudFormation cannot point a DependsOn at another stack; the assembly's stack dependency orders it.
    ids = {s.hierarchical_id: s.id for s in default_app.assembly.nested_assemblies[0].nested_assembly.stacks}
    assert ids["Dev/Endpoints"] in default_app.dependencies["Dev/Cluster"]
    assert ids["Dev/Network"] in default_app.dependencies["Dev/Endpoints"]


def test_in_one_stack_the_kubectl_provider_and_the_addon_wait_for_every_endpoint(user_stack_app):
    resources = user_stack_app.resources("TeamPlatform")
    endpoints = {k for k, v in resources.items() if v["Type"] == "AWS::EC2::VPCEndpoint"}
    assert len(endpoints) == 10  # 6 interface + S3 gateway + the bastion's ssm, ssmmessages, ec2messages
    _, addon = find_one(resources, lambda r: r["Type"] == "AWS::EKS::Addon")
    assert endpoints <= set(addon["DependsOn"])
    kubectl_lambdas = [(k, fn) for k, fn in resources.items() if fn["Type"] == "AWS::Lambda::Function" and "KubectlProvider" in k]
    assert len(kubectl_lambdas) == 2
    for key, fn in kubectl_lambdas:
        assert endpoints <= set(fn["DependsOn"]), key


def test_the_rollout_wait_follows_the_addon(addon, cluster_resources):
    addon_id, _ = addon
    _, wait = find_one(
        cluster_resources,
        lambda r: r["Type"] == "Custom::AWSCDK-EKS-KubernetesObjectValue" and r["Properties"]["ObjectName"] == "deployment/coredns",
    )
    props = wait["Properties"]
    assert (props["ObjectType"], props["ObjectNamespace"], props["TimeoutSeconds"]) == ("deployment/coredns", "kube-system", 600)
    revision = props["JsonPath"].split("}{")[0].removeprefix(".metadata.annotations.rev-")
    assert props["JsonPath"] == rollout_json_path(revision)
    assert addon_id in wait["DependsOn"]


def _needs(resources: dict, start: str) -> set[str]:
    """Everything `start` waits for, directly or transitively (DependsOn and references)."""
    from private_eks_fargate.review.deploy_path import resource_dependencies

    graph = resource_dependencies({"Resources": resources})
    seen, todo = set(), [start]
    while todo:
        for dependency in graph[todo.pop()] - seen:
            seen.add(dependency)
            todo.append(dependency)
    return seen


@pytest.mark.parametrize("config, stack", [("default", CLUSTER), ("existing-vpc", "Prod/Cluster")])
def test_coredns_addon_and_wait_need_no_application_profile(all_synths, config, stack):
    """The CoreDNS add-on and its wait need their profile, the endpoints and the logging ConfigMap, never an
    application profile: those are created while CoreDNS rolls out (existing-vpc has three of them)."""
    resources = all_synths[config].resources(stack)
    profiles = {k: r for k, r in resources.items() if r["Type"] == "AWS::EKS::FargateProfile"}
    coredns_profile = {k for k, r in profiles.items() if r["Properties"]["Selectors"][0]["Namespace"] == "kube-system"}
    assert len(coredns_profile) == 1 and len(profiles) >= 2
    config_map, _ = manifest(all_synths[config], stack, "ConfigMap", "aws-logging")
    addon_id, _ = find_one(resources, lambda r: r["Type"] == "AWS::EKS::Addon")
    wait_id, _ = find_one(
        resources,
        lambda r: r["Type"] == "Custom::AWSCDK-EKS-KubernetesObjectValue" and r["Properties"]["ObjectName"] == "deployment/coredns",
    )
    for needs in (_needs(resources, addon_id), _needs(resources, wait_id)):
        assert needs & set(profiles) == coredns_profile
        assert config_map in needs


def test_coredns_pods_are_pinned_to_their_profile_and_the_wait_carries_its_name(addon, cluster_resources, kubectl_binary, tmp_path):
    """A change that replaces the CoreDNS profile (new subnets) renames it: the pin patch moves the pods onto the new
    profile while both exist, the wait (whose revision has the name) runs until that rollout is complete, and only
    then does CloudFormation delete the old profile. The patch applied with the real kubectl to the Deployment."""
    addon_id, _ = addon
    profile_id, profile = find_one(
        cluster_resources,
        lambda r: r["Type"] == "AWS::EKS::FargateProfile" and r["Properties"]["Selectors"][0]["Namespace"] == "kube-system",
    )
    name = profile["Properties"]["FargateProfileName"]
    pin_id, pin = find_one(cluster_resources, lambda r: r["Type"] == "Custom::AWSCDK-EKS-KubernetesPatch")
    props = pin["Properties"]
    applied = {"spec": {"template": {"metadata": {"labels": {PROFILE_LABEL: name}}}}}
    assert (props["ResourceName"], props["ResourceNamespace"], props["PatchType"]) == ("deployment/coredns", "kube-system", "strategic")
    assert json.loads(props["ApplyPatchJson"]) == json.loads(props["RestorePatchJson"]) == applied
    assert {addon_id, profile_id} <= set(pin["DependsOn"])  # after the add-on's Deployment and the (new) profile
    _, wait = find_one(cluster_resources, lambda r: r["Properties"].get("ObjectName") == "deployment/coredns")
    assert pin_id in wait["DependsOn"]
    scope = Stack(App(), "Probe")
    applied_to_addon = {"version": RELEASES[DEFAULT_KUBERNETES_VERSION].coredns, "configuration": FARGATE_CONFIGURATION}
    assert wait["Properties"]["JsonPath"] == rollout_json_path(revision({**applied_to_addon, "profile": name}, scope))
    assert rollout_json_path(revision({**applied_to_addon, "profile": "coredns-00000000"}, scope)) != wait["Properties"]["JsonPath"]
    deployment = tmp_path / "coredns.json"
    deployment.write_text(json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "coredns", "namespace": "kube-system"},
        "spec": {"selector": {"matchLabels": {"k8s-app": "kube-dns"}}, "template": {
            "metadata": {"labels": {"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"}},
            "spec": {"containers": [{"name": "coredns", "image": "coredns"}]}}},
    }))
    result = subprocess.run(
        [str(kubectl_binary), "patch", "--local", "-f", str(deployment), "--type", "strategic", "-p", props["ApplyPatchJson"], "-o", "json"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    labels = json.loads(result.stdout)["spec"]["template"]["metadata"]["labels"]
    assert labels == {"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns", PROFILE_LABEL: name}
