"""The workloads API for library users, and the settings of workloads, each bad value with its one-line message."""

import json

import pytest
from aws_cdk import Duration
from private_eks_fargate import ConfigError, MirroredImage, PlatformSettings, WorkloadSettings, settings_from_context
from private_eks_fargate.blocks.coredns import PROFILE_LABEL

from conftest import USER_IMAGE, background_job, find_one, run_app, user_deployment

STACK = "TeamPlatform"


@pytest.fixture(scope="module")
def resources(user_stack_app):
    return user_stack_app.resources(STACK)


def test_user_workload_gets_repository_copy_namespace_and_its_own_profile(resources):
    (repo,) = [r for r in resources.values() if r["Type"] == "AWS::ECR::Repository"]
    assert repo["Properties"]["RepositoryName"] == USER_IMAGE.repository
    _, copy = find_one(resources, lambda r: r["Type"] == "Custom::ImageCopy")
    assert copy["Properties"]["SourceImage"] == USER_IMAGE.source
    profiles = [r["Properties"]["Selectors"] for r in resources.values() if r["Type"] == "AWS::EKS::FargateProfile"]
    assert [{"Namespace": "web", "Labels": []}] in profiles  # no profile was configured for `web`: one is added


def test_user_workload_is_ordered_like_the_sample_app(resources):
    def manifest_with(text):
        return find_one(
            resources,
            lambda r: r["Type"] == "Custom::AWSCDK-EKS-KubernetesResource" and text in json.dumps(r["Properties"]["Manifest"]),
        )

    namespace_id, _ = manifest_with('\\"kind\\":\\"Namespace\\",\\"metadata\\":{\\"name\\":\\"web\\"')
    deployment_id, deployment = manifest_with('\\"name\\":\\"pause\\"')
    profile_id, _ = find_one(
        resources,
        lambda r: r["Type"] == "AWS::EKS::FargateProfile" and r["Properties"]["Selectors"][0]["Namespace"] == "web",
    )
    copy_id, _ = find_one(resources, lambda r: r["Type"] == "Custom::ImageCopy")
    _, wait = find_one(resources, lambda r: r["Type"] == "Custom::AWSCDK-EKS-KubernetesObjectValue" and r["Properties"]["ObjectName"] == "deployment/web")
    assert {namespace_id, profile_id} <= set(deployment["DependsOn"])
    assert {"Fn::GetAtt": [copy_id, "Digest"]} in deployment["Properties"]["Manifest"]["Fn::Join"][1]  # waits for it
    assert deployment_id in wait["DependsOn"]
    assert (wait["Properties"]["ObjectNamespace"], wait["Properties"]["TimeoutSeconds"]) == ("web", 600)


def test_a_configured_profile_and_namespace_are_reused_not_duplicated(guarded_cluster):
    before = (dict(guarded_cluster.namespaces), len(guarded_cluster.app_profiles))
    workload = guarded_cluster.add_workload("Reuse", namespace="custom-space")
    assert workload.profile is guarded_cluster.app_profiles[0]
    assert workload.namespace_manifest is before[0]["custom-space"]
    assert (dict(guarded_cluster.namespaces), len(guarded_cluster.app_profiles)) == before


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda c: c.add_workload("BadTag", namespace="web", images=[MirroredImage(source="nginx:latest", repository="web/nginx")]),
            "images[0].source: 'nginx:latest' is not allowed; give an upstream image with an explicit tag other than latest "
            "(e.g. public.ecr.aws/nginx/nginx:1.28.0), so that a deploy copies a known image",
        ),
        (
            lambda c: c.add_workload("NoTag", namespace="web", images=[MirroredImage(source="ghcr.io/acme/app", repository="web/app")]),
            "images[0].source: 'ghcr.io/acme/app' is not allowed; give an upstream image with an explicit tag other than latest "
            "(e.g. public.ecr.aws/nginx/nginx:1.28.0), so that a deploy copies a known image",
        ),
        (
            lambda c: c.add_workload("BadRepo", namespace="web", images=[MirroredImage(source="ghcr.io/a/b:1", repository="Web/App")]),
            "images[0].repository: 'Web/App' is not a valid ECR repository name (2-256 lower-case letters, digits and '.', '_', "
            "'-', '/' between them, e.g. team/nginx)",
        ),
        (
            lambda c: c.add_workload(
                "Twice", namespace="web",
                images=[MirroredImage(source="ghcr.io/a/b:1", repository="web/b"), MirroredImage(source="ghcr.io/a/b:2", repository="web/b")],
            ),
            "images: two images name the same repository; give each image its own repository",
        ),
        (
            lambda c: c.add_workload("Slow", namespace="web", ready_timeout=Duration.minutes(20)),
            "ready_timeout: 20 is not allowed; use 1 to 14 (the kubectl Lambda stops after 15 minutes)",
        ),
        (
            lambda c: c.add_workload("BadNs", namespace="Web"),
            "namespace: 'Web' is not a valid Kubernetes namespace name (lower-case letters, digits and '-', starting and "
            "ending with a letter or digit, at most 63 characters)",
        ),
        (
            lambda c: c.add_workload("NoImage", namespace="web").image_uri("web/nginx"),
            "repository: 'web/nginx' is not one of this workload's images ()",
        ),
        (
            lambda c: c.add_workload("NoDeployment", namespace="web").wait_until_available("web"),
            "deployment: 'web' is not a Deployment added to this workload with add_manifests",
        ),
    ],
)
def test_workload_api_misuse_is_one_clear_line(guarded_cluster, call, message):
    with pytest.raises(ConfigError) as error:
        call(guarded_cluster)
    assert str(error.value) == message


def test_any_rolling_update_can_be_waited_for_the_wait_checks_every_replica_itself(guarded_cluster):
    from conftest import GUARD_ACCOUNT, GUARD_REGION
    from aws_cdk import Stack
    from private_eks_fargate.blocks.rollout import rollout_json_path, revision

    workload = guarded_cluster.add_workload("Surge", namespace="web")
    deployment = user_deployment(f"{GUARD_ACCOUNT}.dkr.ecr.{GUARD_REGION}.amazonaws.com/web:1")
    deployment["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%"}}
    workload.add_manifests("App", deployment)
    wait = workload.wait_until_available("web")
    cfn = wait.node.default_child.node.default_child
    props = Stack.of(wait).resolve(cfn._cfn_properties)
    assert (props["ObjectType"], props["ObjectName"]) == ("deployment/web", "deployment/web")
    # the revision is of the Deployment as applied, pinned to its profile: another image, or a replaced profile (a new
    # name), is another revision, so the wait runs again
    name, _ = guarded_cluster.pinned_profile("web", {"app": "web"})
    metadata = deployment["spec"]["template"]["metadata"]
    metadata["labels"] = {**metadata["labels"], PROFILE_LABEL: name}  # its own dict: the selector shares the original
    assert props["JsonPath"] == rollout_json_path(revision(deployment, wait))
    replaced = json.loads(json.dumps(deployment))
    replaced["spec"]["template"]["metadata"]["labels"][PROFILE_LABEL] = "app-web-00000000"
    assert rollout_json_path(revision(replaced, wait)) != props["JsonPath"]
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] += "-2"
    assert rollout_json_path(revision(deployment, wait)) != props["JsonPath"]


SETTING_CASES = {
    "latest sample image": (
        WorkloadSettings(sample_image="public.ecr.aws/nginx/nginx:latest"),
        "workloads.sample_image: 'public.ecr.aws/nginx/nginx:latest' is not allowed; give an upstream image with an explicit "
        "tag other than latest (e.g. public.ecr.aws/nginx/nginx:1.28.0), so that a deploy copies a known image",
    ),
    "bad repository": (
        WorkloadSettings(sample_repository="x"),
        "workloads.sample_repository: 'x' is not a valid ECR repository name (2-256 lower-case letters, digits and '.', '_', "
        "'-', '/' between them, e.g. team/nginx)",
    ),
    "reserved namespace": (
        WorkloadSettings(sample_namespace="default"),
        "workloads.sample_namespace: 'default' is not allowed; use a namespace of its own",
    ),
    "timeout too long": (
        WorkloadSettings(ready_timeout_minutes=15),
        "workloads.ready_timeout_minutes: 15 is not allowed; use 1 to 14 (the kubectl Lambda stops after 15 minutes)",
    ),
    "registry with scheme": (
        WorkloadSettings(allowed_registries=("https://registry.corp.example",)),
        "workloads.allowed_registries: 'https://registry.corp.example' is not a registry host or host/path prefix (e.g. "
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com or registry.corp.example:5000/platform), without a scheme",
    ),
}


@pytest.mark.parametrize("case", SETTING_CASES)
def test_bad_workload_settings_are_rejected_with_one_line(case):
    settings, message = SETTING_CASES[case]
    with pytest.raises(ConfigError) as error:
        PlatformSettings(workloads=settings).validate()
    assert str(error.value) == message


def test_workload_settings_come_from_context():
    settings = settings_from_context({
        "workloads.sample_app": "false",
        "workloads.sample_image": "public.ecr.aws/nginx/nginx:1.29.1",
        "workloads.allowed_registries": "registry.corp.example:5000/platform, 111122223333.dkr.ecr.eu-west-1.amazonaws.com",
        "workloads.ready_timeout_minutes": "5",
    })
    assert settings.workloads == WorkloadSettings(
        sample_app=False,
        sample_image="public.ecr.aws/nginx/nginx:1.29.1",
        allowed_registries=("registry.corp.example:5000/platform", "111122223333.dkr.ecr.eu-west-1.amazonaws.com"),
        ready_timeout_minutes=5,
    )


@background_job
def app_with_an_untagged_image():
    return run_app({"workloads.sample_image": "nginx"})


@pytest.mark.background
def test_cdk_synth_prints_the_workload_setting_error_in_one_line():
    result = app_with_an_untagged_image.result()
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: workloads.sample_image: 'nginx' is not allowed; give an upstream image with an explicit tag other than "
        "latest (e.g. public.ecr.aws/nginx/nginx:1.28.0), so that a deploy copies a known image"
    ]


def root_deployment(image: str, namespace: str = "web") -> dict:
    """The user's Deployment without the security context Pod Security "restricted" asks for."""
    deployment = user_deployment(image)
    deployment["metadata"]["namespace"] = namespace
    pod = deployment["spec"]["template"]["spec"]
    del pod["securityContext"], pod["containers"][0]["securityContext"]
    return deployment


def test_add_manifests_rejects_pods_the_namespaces_pod_security_level_refuses(guarded_cluster):
    from conftest import GUARD_ACCOUNT, GUARD_REGION

    workload = guarded_cluster.add_workload("Root", namespace="web")
    with pytest.raises(ConfigError) as error:
        workload.add_manifests("App", root_deployment(f"{GUARD_ACCOUNT}.dkr.ecr.{GUARD_REGION}.amazonaws.com/web:1"))
    assert str(error.value) == (
        "manifest Guarded/Cluster/Root/App (Deployment web/web): namespace web enforces Pod Security 'restricted' (v1.36), "
        "which would refuse its pods: allowPrivilegeEscalation != false (container \"pause\" must set "
        "securityContext.allowPrivilegeEscalation=false); runAsNonRoot != true (pod or every container must set "
        "securityContext.runAsNonRoot=true); seccompProfile (container \"pause\" or the pod must set "
        "securityContext.seccompProfile.type to RuntimeDefault or Localhost); unrestricted capabilities (container "
        "\"pause\" must set securityContext.capabilities.drop=[\"ALL\"]); change the pod spec, or relax the namespace with "
        "cluster.pod_security_levels"
    )
    assert workload.node.try_find_child("App") is None  # nothing was defined


def test_a_relaxed_namespace_is_labelled_with_its_level_and_admits_what_that_level_allows():
    import aws_cdk as cdk
    from private_eks_fargate import ClusterSettings, NetworkSettings, PrivateCluster, PrivateNetwork

    from conftest import CDK_JSON_CONTEXT, GUARD_ACCOUNT, GUARD_REGION

    stack = cdk.Stack(cdk.App(context=CDK_JSON_CONTEXT), "Relaxed", env=cdk.Environment(account=GUARD_ACCOUNT, region=GUARD_REGION))
    network = PrivateNetwork(stack, "Network", settings=NetworkSettings(availability_zones=("eu-west-1a", "eu-west-1b")))
    cluster = PrivateCluster(
        stack, "Cluster", vpc=network.vpc, subnets=network.cluster_subnets,
        settings=ClusterSettings(pod_security_levels={"legacy": "baseline"}, kubernetes_version="1.36"),
    )
    workload = cluster.add_workload("Legacy", namespace="legacy")
    workload.add_manifests("App", root_deployment(f"{GUARD_ACCOUNT}.dkr.ecr.{GUARD_REGION}.amazonaws.com/legacy:1", "legacy"))
    (namespace,) = json.loads(stack.resolve(workload.namespace_manifest.node.find_child("Resource").node.default_child._cfn_properties["Manifest"]))  # noqa: SLF001
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/warn-version"] == "v1.36"
    privileged = root_deployment(f"{GUARD_ACCOUNT}.dkr.ecr.{GUARD_REGION}.amazonaws.com/legacy:1", "legacy")
    privileged["spec"]["template"]["spec"]["hostNetwork"] = True
    with pytest.raises(ConfigError, match=r"enforces Pod Security 'baseline' \(v1.36\), which would refuse its pods: host namespaces"):
        workload.add_manifests("HostNetwork", privileged)


def test_a_manifest_that_does_not_name_the_digest_still_waits_for_the_copy(guarded_cluster):
    from conftest import GUARD_ACCOUNT, GUARD_REGION

    workload = guarded_cluster.add_workload("Tagged", namespace="web", images=[USER_IMAGE])
    manifest = workload.add_manifests("App", user_deployment(f"{GUARD_ACCOUNT}.dkr.ecr.{GUARD_REGION}.amazonaws.com/team-a/pause:3.10"))
    (copy,) = [m.copy for m in workload.mirrors.values()]
    assert copy in manifest.node.dependencies


POD_SECURITY_CASES = {
    "unknown level": (
        {"legacy": "strict"},
        "cluster.pod_security_levels['legacy']: 'strict' is not a Pod Security level; use privileged, baseline, restricted",
    ),
    "reserved namespace": ({"kube-system": "privileged"}, "cluster.pod_security_levels: 'kube-system' is not a namespace the platform creates or labels"),
    "bad name": (
        {"Legacy": "baseline"},
        "cluster.pod_security_levels: 'Legacy' is not a valid Kubernetes namespace name (lower-case letters, digits and "
        "'-', starting and ending with a letter or digit, at most 63 characters)",
    ),
}


@pytest.mark.parametrize("case", POD_SECURITY_CASES)
def test_bad_pod_security_levels_are_rejected_with_one_line(case):
    levels, message = POD_SECURITY_CASES[case]
    with pytest.raises(ConfigError) as error:
        settings_from_context({"cluster.pod_security_levels": json.dumps(levels)}).validate()
    assert str(error.value) == message
