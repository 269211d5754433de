"""The sample application: its manifests, the order the deploy applies them in, and the wait for 3 ready replicas."""

import json

import pytest
import yaml
from private_eks_fargate.blocks.image_guard import render
from private_eks_fargate.blocks.workload import AVAILABLE_JSON_PATH
from private_eks_fargate.composition.sample_app import DROPPED_CAPABILITIES, manifests

from conftest import applied_manifests, find_one
from conftest import kubectl_jsonpath as jsonpath

ECR_IMAGE = "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/sample-app/nginx:1.28.0"


@pytest.fixture(scope="module")
def app_manifest(cluster_resources):
    return find_one(
        cluster_resources,
        lambda r: r["Type"] == "Custom::AWSCDK-EKS-KubernetesResource" and "sample-app" in json.dumps(r["Properties"]["Manifest"]),
    )


@pytest.fixture(scope="module")
def applied(app_manifest):
    deployment, service = json.loads(render(app_manifest[1]["Properties"]["Manifest"]))
    return deployment, service


def test_deployment_runs_3_nginx_replicas_from_this_accounts_ecr(applied):
    deployment, _ = applied
    assert (deployment["kind"], deployment["metadata"]["name"], deployment["metadata"]["namespace"]) == (
        "Deployment", "sample-app", "custom-space"
    )
    assert deployment["spec"]["replicas"] == 3
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["name"] == "nginx"
    assert container["image"] == ECR_IMAGE  # account and region are the stack's, resolved by CloudFormation
    assert container["ports"] == [{"name": "http", "containerPort": 80, "protocol": "TCP"}]
    assert container["resources"]["requests"] == {"cpu": "250m", "memory": "256Mi"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/", "port": "http"}


def test_security_context_is_as_strict_as_stock_nginx_allows(applied):
    deployment, _ = applied
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    context = container["securityContext"]
    assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
    assert pod["automountServiceAccountToken"] is False
    assert context["allowPrivilegeEscalation"] is False and context["privileged"] is False
    assert context["readOnlyRootFilesystem"] is True
    # looser than "drop ALL": nginx starts as root and keeps what it needs; Fargate refuses added capabilities
    assert context["capabilities"] == {"drop": DROPPED_CAPABILITIES}
    assert not {"CHOWN", "SETUID", "SETGID", "NET_BIND_SERVICE", "KILL"} & set(DROPPED_CAPABILITIES)
    assert {"NET_RAW", "MKNOD", "SYS_CHROOT", "DAC_OVERRIDE"} <= set(DROPPED_CAPABILITIES)
    assert "runAsNonRoot" not in context and "add" not in context["capabilities"]
    writable = {m["mountPath"] for m in container["volumeMounts"]}
    assert writable == {"/var/cache/nginx", "/run"}
    assert all("emptyDir" in v for v in pod["volumes"])


def test_service_is_cluster_ip_on_port_80(applied):
    deployment, service = applied
    assert service["kind"] == "Service" and service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http"}]
    assert service["spec"]["selector"] == deployment["spec"]["template"]["metadata"]["labels"]


def test_sample_manifests_are_among_those_validated_for_the_cluster_version(default_app):
    kinds = {(m["kind"], m["metadata"]["name"]) for _, m in applied_manifests(default_app)}
    assert {("Deployment", "sample-app"), ("Service", "sample-app"), ("Namespace", "custom-space")} <= kinds


def test_deploy_order_namespace_profile_copy_then_deployment_then_readiness_wait(cluster_resources, app_manifest):
    """Namespace, profile and image copy are independent of each other (they run in parallel); the Deployment
    waits for all three, and the readiness wait for the Deployment."""
    manifest_id, manifest = app_manifest
    resources = cluster_resources
    namespace_id, _ = find_one(
        resources,
        lambda r: r["Type"] == "Custom::AWSCDK-EKS-KubernetesResource"
        and '"kind":"Namespace","metadata":{"name":"custom-space"' in r["Properties"]["Manifest"],
    )
    profile_id, _ = find_one(
        resources,
        lambda r: r["Type"] == "AWS::EKS::FargateProfile" and r["Properties"]["Selectors"] == [{"Namespace": "custom-space", "Labels": []}],
    )
    copy_id, copy = find_one(resources, lambda r: r["Type"] == "Custom::ImageCopy")
    repository_id, _ = find_one(resources, lambda r: r["Type"] == "AWS::ECR::Repository")
    wait_id, wait = find_one(
        resources,
        lambda r: r["Type"] == "Custom::AWSCDK-EKS-KubernetesObjectValue" and r["Properties"]["ObjectName"] == "sample-app",
    )
    assert repository_id in copy["DependsOn"]
    assert {namespace_id, profile_id, copy_id} <= set(manifest["DependsOn"])
    assert manifest_id in wait["DependsOn"]
    props = wait["Properties"]
    assert (props["ObjectType"], props["ObjectNamespace"], props["JsonPath"], props["TimeoutSeconds"]) == (
        "deployment", "custom-space", AVAILABLE_JSON_PATH, 600
    )


def with_status(tmp_path, name, ready, available_condition):
    """The sample Deployment as the API server returns it: status written by the Deployment controller.

    With maxUnavailable 0 the controller sets Available=True (reason MinimumReplicasAvailable) only when
    availableReplicas >= replicas - 0, i.e. all 3 replicas ready (minReadySeconds 0)."""
    deployment = manifests(image="x", namespace="custom-space")[0]
    status = "True" if available_condition else "False"
    reason = "MinimumReplicasAvailable" if available_condition else "MinimumReplicasUnavailable"
    deployment["status"] = {
        "observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "readyReplicas": ready, "availableReplicas": ready,
        "unavailableReplicas": 3 - ready,
        "conditions": [
            {"type": "Available", "status": status, "reason": reason},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable" if ready == 3 else "ReplicaSetUpdated"},
        ],
    }
    if ready == 0:
        for key in ("readyReplicas", "availableReplicas"):
            deployment["status"].pop(key)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(deployment))
    return path


def test_readiness_json_path_is_empty_until_3_replicas_are_ready(kubectl_binary, tmp_path):
    new = tmp_path / "new.yaml"
    new.write_text(yaml.safe_dump(manifests(image="x", namespace="custom-space")[0]))  # no status yet
    none_ready = with_status(tmp_path, "none", 0, False)
    two_ready = with_status(tmp_path, "two", 2, False)
    three_ready = with_status(tmp_path, "three", 3, True)
    assert jsonpath(kubectl_binary, new, AVAILABLE_JSON_PATH) == ""
    assert jsonpath(kubectl_binary, none_ready, AVAILABLE_JSON_PATH) == ""
    assert jsonpath(kubectl_binary, two_ready, AVAILABLE_JSON_PATH) == ""
    assert jsonpath(kubectl_binary, three_ready, AVAILABLE_JSON_PATH) == "True"
    # why not `.status.readyReplicas`: it is already non-empty with 2 of 3 ready, so the wait would end too early
    assert jsonpath(kubectl_binary, two_ready, ".status.readyReplicas") == "2"


def test_sample_app_can_be_switched_off(user_stack_app):
    resources = user_stack_app.resources("TeamPlatform")
    assert not [k for k in resources if "SampleApp" in k]
    assert "sample-app" not in json.dumps(user_stack_app.template("TeamPlatform"))
