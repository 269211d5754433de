"""The sample application: its manifests, the order the deploy applies them in, and the wait for 3 ready replicas."""

import json

import pytest
from private_eks_fargate.blocks.coredns import PROFILE_LABEL
from private_eks_fargate.blocks.image_guard import render
from private_eks_fargate.blocks.rollout import rollout_json_path
from private_eks_fargate.composition.sample_app import manifests

from conftest import applied_manifests, find_one

#: by digest: the Digest attribute of the image copy, known at deploy time
ECR_IMAGE = "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/devcluster-baa1fb0d/sample-app@${deploy-time value}"


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


def test_deployment_runs_3_unprivileged_nginx_replicas_from_this_accounts_ecr_by_digest(applied, app_manifest, cluster_resources):
    deployment, _ = applied
    assert (deployment["kind"], deployment["metadata"]["name"], deployment["metadata"]["namespace"]) == (
        "Deployment", "sample-app", "custom-space"
    )
    assert deployment["spec"]["replicas"] == 3
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["name"] == "nginx"
    assert container["image"] == ECR_IMAGE  # account and region are the stack's, the digest the copy reported
    copy_id, _ = find_one(cluster_resources, lambda r: r["Type"] == "Custom::ImageCopy")
    assert {"Fn::GetAtt": [copy_id, "Digest"]} in app_manifest[1]["Properties"]["Manifest"]["Fn::Join"][1]
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["resources"]["requests"] == {"cpu": "250m", "memory": "256Mi"}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/", "port": "http"}, probe


def test_pods_meet_pod_security_restricted_as_the_unprivileged_image_runs(applied):
    deployment, _ = applied
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    context = container["securityContext"]
    assert pod["securityContext"] == {
        "runAsNonRoot": True, "runAsUser": 101, "runAsGroup": 101, "seccompProfile": {"type": "RuntimeDefault"}
    }
    assert pod["automountServiceAccountToken"] is False
    assert context == {
        "privileged": False, "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}
    }
    # nginx-unprivileged writes its pid file and temp files under /tmp; /var/cache/nginx is its compiled-in cache
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp", "/var/cache/nginx"}
    assert [sorted(v) for v in pod["volumes"]] == [["emptyDir", "name"], ["emptyDir", "name"]]


def test_service_is_cluster_ip_on_port_80_to_the_pods_8080(applied):
    deployment, service = applied
    assert service["kind"] == "Service" and service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http"}]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    (named,) = [p for p in container["ports"] if p["name"] == service["spec"]["ports"][0]["targetPort"]]
    assert named["containerPort"] == 8080
    labels = dict(deployment["spec"]["template"]["metadata"]["labels"])
    assert labels.pop(PROFILE_LABEL).startswith("app-custom-space-")  # the profile the pods are pinned to
    assert service["spec"]["selector"] == labels == deployment["spec"]["selector"]["matchLabels"]


def test_sample_manifests_are_among_those_validated_for_the_cluster_version(default_app):
    kinds = {(m["kind"], m["metadata"]["name"]) for _, m in applied_manifests(default_app)}
    assert {("Deployment", "sample-app"), ("Service", "sample-app"), ("Namespace", "custom-space")} <= kinds


def test_deploy_order_namespace_profile_copy_then_deployment_then_readiness_wait(cluster_resources, app_manifest):
    """Namespace, profile and image copy are independent of each other (they run in parallel); the Deployment
    waits for all three (for the copy through its digest), and the readiness wait for the Deployment."""
    manifest_id, manifest = app_manifest
    resources = cluster_resources
    namespace_id, _ = find_one(
        resources,
        lambda r: r["Type"] == "Custom::AWSCDK-EKS-KubernetesResource"
        and '"kind":"Namespace","metadata":{"name":"custom-space"' in r["Properties"]["Manifest"],
    )
    profile_id, profile = find_one(
        resources,
        lambda r: r["Type"] == "AWS::EKS::FargateProfile" and r["Properties"]["Selectors"] == [{"Namespace": "custom-space", "Labels": []}],
    )
    # the pods are pinned to that profile by name: a change that replaces it rolls them onto the new one (maxUnavailable
    # 0), the wait below runs again with the new name in its revision, and the old profile is deleted last, unused
    deployment, _ = json.loads(render(manifest["Properties"]["Manifest"]))
    assert deployment["spec"]["template"]["metadata"]["labels"][PROFILE_LABEL] == profile["Properties"]["FargateProfileName"]
    copy_id, copy = find_one(resources, lambda r: r["Type"] == "Custom::ImageCopy")
    repository_id, _ = find_one(resources, lambda r: r["Type"] == "AWS::ECR::Repository")
    wait_id, wait = find_one(
        resources,
        lambda r: r["Type"] == "Custom::AWSCDK-EKS-KubernetesObjectValue" and r["Properties"]["ObjectName"] == "deployment/sample-app",
    )
    # Fargate routes the logs of pods started after the aws-logging ConfigMap: the first pods must find it
    config_map_id, _ = find_one(resources, lambda r: "aws-logging" in json.dumps(r["Properties"].get("Manifest", "")))
    assert repository_id in copy["DependsOn"]
    assert {namespace_id, profile_id, config_map_id} <= set(manifest["DependsOn"])
    # the image copy through the digest the Deployment names (Fn::GetAtt): a DependsOn too would be redundant (W3005)
    assert {"Fn::GetAtt": [copy_id, "Digest"]} in manifest["Properties"]["Manifest"]["Fn::Join"][1]
    assert manifest_id in wait["DependsOn"]
    props = wait["Properties"]
    assert (props["ObjectType"], props["ObjectNamespace"], props["TimeoutSeconds"]) == ("deployment/sample-app", "custom-space", 600)
    # the revision carries the hex of the copied image's digest (deploy time): a new copy re-runs the wait
    head, digest_hex, tail = props["JsonPath"]["Fn::Join"][1]
    assert digest_hex == {"Fn::Select": [1, {"Fn::Split": [":", {"Fn::GetAtt": [copy_id, "Digest"]}]}]}
    revision = head.removeprefix(".metadata.annotations.rev-")
    assert head + "DIGEST" + tail == rollout_json_path(revision, "DIGEST")


def test_sample_app_can_be_switched_off(user_stack_app):
    resources = user_stack_app.resources("TeamPlatform")
    assert not [k for k in resources if "SampleApp" in k]
    assert "sample-app" not in json.dumps(user_stack_app.template("TeamPlatform"))


#: checkov's Kubernetes checks that test what Pod Security "restricted" forbids (privileged, host namespaces, privilege
#: escalation, root, added and undropped capabilities, host ports and paths, seccomp), and the issue's other asks
#: (liveness and readiness probes, read-only root, image by digest)
CHECKOV_RESTRICTED = {
    "CKV_K8S_16", "CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19", "CKV_K8S_20", "CKV_K8S_23", "CKV_K8S_25", "CKV_K8S_26",
    "CKV_K8S_27", "CKV_K8S_28", "CKV_K8S_31", "CKV_K8S_37", "CKV_K8S_39",
}  # fmt: skip
CHECKOV_ALSO = {"CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_22", "CKV_K8S_43"}


def test_sample_deployment_passes_restricted_by_a_checker_not_of_this_project(lint_jobs):
    """The Done-when: checkov (maintained by others) runs its Kubernetes checks over the applied manifests."""
    reports = [r for r in lint_jobs["checkov"].result(timeout=900)["reports"] if r["check_type"] == "kubernetes"]
    assert len(reports) == 1
    results = reports[0]["results"]
    on_deployment = lambda checks: {c["check_id"] for c in checks if c["resource"].startswith("Deployment.")}  # noqa: E731
    passed, failed = on_deployment(results["passed_checks"]), on_deployment(results["failed_checks"])
    assert CHECKOV_RESTRICTED | CHECKOV_ALSO <= passed
    # what remains is not Pod Security: uid 101 < 10000 (the image's user), pull policy (the digest pins the image),
    # CPU limit (Fargate sizes the pod from requests), NetworkPolicy (not enforced on Fargate)
    assert failed <= {"CKV_K8S_40", "CKV_K8S_15", "CKV_K8S_11", "CKV2_K8S_6"}, failed


def test_our_checker_agrees_the_sample_pods_meet_restricted_and_the_seeds_nginx_did_not(applied):
    from private_eks_fargate.pod_security import violations

    deployment, _ = applied
    pod = deployment["spec"]["template"]["spec"]
    assert violations(pod, level="restricted", version="v1.36") == []
    seed = json.loads(json.dumps(pod))
    seed["securityContext"] = {"seccompProfile": {"type": "RuntimeDefault"}}
    seed["containers"][0]["securityContext"]["capabilities"] = {"drop": ["NET_RAW", "MKNOD"]}
    assert [v.split(" (")[0] for v in violations(seed, level="restricted", version="v1.36")] == [
        "runAsNonRoot != true", "unrestricted capabilities"
    ]
