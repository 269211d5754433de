"""CoreDNS onto Fargate: the patch in the template, its ordering, and the patch applied by the real kubectl."""

import json
import subprocess

import pytest
import yaml
from private_eks_fargate.blocks.coredns import COMPUTE_TYPE_ANNOTATION, FARGATE_PATCH, READY_JSON_PATH

from conftest import FIXTURES, find_one, kubectl_jsonpath, manifest

CLUSTER = "Dev/Cluster"


@pytest.fixture(scope="module")
def patch(cluster_resources):
    return find_one(cluster_resources, lambda r: r["Type"] == "Custom::AWSCDK-EKS-KubernetesPatch")


def test_patch_targets_coredns_with_a_strategic_merge_patch(patch):
    _, resource = patch
    props = resource["Properties"]
    assert props["ResourceName"] == "deployment/coredns"
    assert props["ResourceNamespace"] == "kube-system"
    assert props["PatchType"] == "strategic"
    assert json.loads(props["ApplyPatchJson"]) == FARGATE_PATCH
    # deleting must not move CoreDNS back to EC2 (stranding it) nor fail stack deletion (aws-cdk #28621)
    assert json.loads(props["RestorePatchJson"]) == FARGATE_PATCH


def test_patch_runs_after_the_coredns_profile(patch, cluster_resources):
    _, resource = patch
    coredns_profile, _ = find_one(
        cluster_resources,
        lambda r: r["Type"] == "AWS::EKS::FargateProfile" and r["Properties"]["Selectors"][0]["Namespace"] == "kube-system",
    )
    assert coredns_profile in resource["DependsOn"]


def test_cluster_stack_is_deployed_after_and_destroyed_before_the_endpoints(default_app):
    # CloudFormation cannot point a DependsOn at another stack; the assembly's stack dependency orders it.
    ids = {s.hierarchical_id: s.id for s in default_app.assembly.nested_assemblies[0].nested_assembly.stacks}
    assert ids["Dev/Endpoints"] in default_app.dependencies["Dev/Cluster"]
    assert ids["Dev/Network"] in default_app.dependencies["Dev/Endpoints"]


def test_in_one_stack_the_kubectl_provider_and_the_patch_wait_for_every_endpoint(user_stack_app):
    resources = user_stack_app.resources("TeamPlatform")
    endpoints = {k for k, v in resources.items() if v["Type"] == "AWS::EC2::VPCEndpoint"}
    assert len(endpoints) == 10  # 6 interface + S3 gateway + the bastion's ssm, ssmmessages, ec2messages
    patch_id, patch = find_one(resources, lambda r: r["Type"] == "Custom::AWSCDK-EKS-KubernetesPatch")
    assert endpoints <= set(patch["DependsOn"])
    kubectl_lambdas = [(k, fn) for k, fn in resources.items() if fn["Type"] == "AWS::Lambda::Function" and "KubectlProvider" in k]
    assert len(kubectl_lambdas) == 2
    for key, fn in kubectl_lambdas:
        assert endpoints <= set(fn["DependsOn"]), key


def test_readiness_wait_follows_the_patch_and_fails_if_no_replica_gets_ready(patch, cluster_resources):
    patch_id, _ = patch
    _, wait = find_one(
        cluster_resources,
        lambda r: r["Type"] == "Custom::AWSCDK-EKS-KubernetesObjectValue" and r["Properties"]["ObjectName"] == "coredns",
    )
    props = wait["Properties"]
    assert (props["ObjectType"], props["ObjectName"], props["ObjectNamespace"]) == ("deployment", "coredns", "kube-system")
    assert props["JsonPath"] == READY_JSON_PATH
    assert props["TimeoutSeconds"] == 600
    assert patch_id in wait["DependsOn"]


def kubectl_patch(kubectl, fixture, patch_json):
    result = subprocess.run(
        [str(kubectl), "patch", "--local", "-f", str(fixture), "--type", "strategic", "-p", patch_json, "-o", "yaml"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)




def fargate_blockers(pod_template: dict, namespace: str, selectors: list[dict]) -> list[str]:
    """Why the Fargate scheduler would not take these pods (empty list: schedulable on Fargate)."""
    reasons = []
    metadata, spec = pod_template["metadata"], pod_template["spec"]
    if metadata.get("annotations", {}).get(COMPUTE_TYPE_ANNOTATION) == "ec2":
        reasons.append("pod template is annotated compute-type=ec2")
    labels = metadata.get("labels", {})
    if not any(
        s["Namespace"] == namespace and all(labels.get(l["Key"]) == l["Value"] for l in s.get("Labels", []))
        for s in selectors
    ):
        reasons.append("no Fargate profile selector matches the pod labels")
    if spec.get("hostNetwork"):
        reasons.append("hostNetwork")
    for container in spec["containers"]:
        if container.get("securityContext", {}).get("privileged"):
            reasons.append(f"{container['name']} is privileged")
        if any("hostPort" in p for p in container.get("ports", [])):
            reasons.append(f"{container['name']} uses hostPort")
    return reasons


@pytest.mark.parametrize("fixture", ["coredns-deployment-eks-ec2.yaml", "coredns-deployment-eks.yaml"])
def test_real_kubectl_applies_the_patch_with_and_without_the_ec2_annotation(kubectl_binary, patch, default_app, fixture):
    _, resource = patch
    source = yaml.safe_load((FIXTURES / fixture).read_text())
    patched = kubectl_patch(kubectl_binary, FIXTURES / fixture, resource["Properties"]["ApplyPatchJson"])
    annotations = patched["spec"]["template"]["metadata"]["annotations"]
    assert annotations[COMPUTE_TYPE_ANNOTATION] == "fargate"
    # the rest of the Deployment is untouched
    patched["spec"]["template"]["metadata"]["annotations"].pop(COMPUTE_TYPE_ANNOTATION)
    source["spec"]["template"]["metadata"].setdefault("annotations", {}).pop(COMPUTE_TYPE_ANNOTATION, None)
    assert patched["spec"] == source["spec"]
    selectors = [p["Properties"]["Selectors"][0] for p in default_app.resources(CLUSTER, "AWS::EKS::FargateProfile").values()]
    before = fargate_blockers(yaml.safe_load((FIXTURES / fixture).read_text())["spec"]["template"], "kube-system", selectors)
    after = fargate_blockers(patched["spec"]["template"] | {"metadata": {**patched["spec"]["template"]["metadata"], "annotations": annotations}}, "kube-system", selectors)
    assert after == []
    assert before == (["pod template is annotated compute-type=ec2"] if "ec2" in fixture else [])


def test_the_runbooks_json_patch_fails_where_ours_does_not(kubectl_binary):
    """The original runbook's JSON-patch `remove` breaks on a Deployment without the annotation."""
    runbook_patch = json.dumps([{"op": "remove", "path": "/spec/template/metadata/annotations/eks.amazonaws.com~1compute-type"}])
    result = subprocess.run(
        [str(kubectl_binary), "patch", "--local", "-f", str(FIXTURES / "coredns-deployment-eks.yaml"), "--type", "json", "-p", runbook_patch, "-o", "yaml"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0


def test_readiness_json_path_is_empty_until_a_replica_is_ready(kubectl_binary, tmp_path):
    deployment = yaml.safe_load((FIXTURES / "coredns-deployment-eks.yaml").read_text())
    pending = tmp_path / "pending.yaml"
    pending.write_text(yaml.safe_dump(deployment | {"status": {"replicas": 2, "unavailableReplicas": 2}}))
    ready = tmp_path / "ready.yaml"
    ready.write_text(yaml.safe_dump(deployment | {"status": {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2}}))
    # the kubectl handler keeps polling while the output is empty, and fails the deploy at the timeout
    assert kubectl_jsonpath(kubectl_binary, pending, READY_JSON_PATH) == ""
    assert kubectl_jsonpath(kubectl_binary, ready, READY_JSON_PATH) == "2"


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
def test_coredns_patch_and_wait_need_no_application_profile(all_synths, config, stack):
    """The CoreDNS patch and its wait need their profile, the endpoints and the logging ConfigMap, never an
    application profile: those are created while CoreDNS rolls out (existing-vpc has three of them)."""
    resources = all_synths[config].resources(stack)
    profiles = {k: r for k, r in resources.items() if r["Type"] == "AWS::EKS::FargateProfile"}
    coredns_profile = {k for k, r in profiles.items() if r["Properties"]["Selectors"][0]["Namespace"] == "kube-system"}
    assert len(coredns_profile) == 1 and len(profiles) >= 2
    config_map, _ = manifest(all_synths[config], stack, "ConfigMap", "aws-logging")
    patch_id, _ = find_one(resources, lambda r: r["Type"] == "Custom::AWSCDK-EKS-KubernetesPatch")
    wait_id, _ = find_one(
        resources,
        lambda r: r["Type"] == "Custom::AWSCDK-EKS-KubernetesObjectValue" and r["Properties"]["ObjectName"] == "coredns",
    )
    for needs in (_needs(resources, patch_id), _needs(resources, wait_id)):
        assert needs & set(profiles) == coredns_profile
        assert config_map in needs
