"""The image guard: an image the cluster cannot pull fails synth with one line naming manifest, container, image, why."""

import itertools

import pytest
from aws_cdk import Stack
from private_eks_fargate import ConfigError
from private_eks_fargate.blocks.image_guard import ACCOUNT, REGION, ImagePolicy, containers
from private_eks_fargate.settings.images import ImageRef

from conftest import ALLOWED_REGISTRY, GUARD_ACCOUNT, GUARD_REGION, user_deployment

THIS_ECR = f"{GUARD_ACCOUNT}.dkr.ecr.{GUARD_REGION}.amazonaws.com"


TAIL = (
    f"; pods of this cluster pull only from this account's ECR in this region ({GUARD_ACCOUNT}.dkr.ecr.{GUARD_REGION}."
    "${AWS::URLSuffix}) or workloads.allowed_registries: mirror the image into ECR (PrivateCluster.add_workload)"
)


_ids = itertools.count()


def add(cluster, image, *, kind="deployment"):
    """Apply one Deployment (or a CronJob with an init container) naming `image` through a fresh workload."""
    workload = cluster.add_workload(f"W{next(_ids)}", namespace="web")
    if kind == "deployment":
        return workload.add_manifests("App", user_deployment(image))
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "report", "namespace": "web"},
        "spec": {"schedule": "0 1 * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "initContainers": [{"name": "fetch", "image": image}],
            "containers": [{"name": "report", "image": f"{THIS_ECR}/report:1"}],
        }}}}},
    }
    return workload.add_manifests("Cron", cron)


BAD_IMAGES = {
    "Docker Hub, latest": ("nginx:latest", "is on Docker Hub, which is on the internet"),
    "Docker Hub, explicit host": ("docker.io/library/nginx:1.28.0", "is on Docker Hub, which is on the internet"),
    "ECR Public": (
        "public.ecr.aws/nginx/nginx:1.28.0",
        "is on ECR Public, which is on the internet (the ecr.dkr endpoint serves private registries only)",
    ),
    "GitHub": ("ghcr.io/acme/app:2.1", "is on ghcr.io, which is on the internet"),
    "registry.k8s.io": ("registry.k8s.io/pause:3.10", "is on registry.k8s.io, which is on the internet"),
    "another account's ECR": (
        f"999999999999.dkr.ecr.{GUARD_REGION}.amazonaws.com/app:1",
        f"is in the ECR of account 999999999999, not this stack's account ({GUARD_ACCOUNT})",
    ),
    "another region's ECR": (
        f"{GUARD_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/app:1",
        f"is in the ECR of region us-east-1, not this stack's region ({GUARD_REGION}); pods pull through their own "
        "region's ECR endpoints",
    ),
    "outside the allowed prefix": (
        "registry.corp.example:5000/other/app:1",
        "is on registry.corp.example:5000, which is on the internet",
    ),
}


@pytest.mark.parametrize("name", BAD_IMAGES)
def test_guard_rejects_an_unpullable_image_with_one_line(guarded_cluster, name):
    image, why = BAD_IMAGES[name]
    with pytest.raises(ConfigError) as error:
        add(guarded_cluster, image)
    message = str(error.value)
    path = error.value.setting.split(" ")[1]
    assert path.startswith("Guarded/Cluster/W") and path.endswith("/App")
    assert message == f"manifest {path} (Deployment web/web): container 'pause' image {image!r} {why}{TAIL}"
    assert "\n" not in message


def test_guard_finds_init_containers_of_any_pod_template(guarded_cluster):
    with pytest.raises(ConfigError) as error:
        add(guarded_cluster, "quay.io/acme/fetch:1.0", kind="cronjob")
    assert str(error.value).endswith(
        f"(CronJob web/report): container 'fetch' image 'quay.io/acme/fetch:1.0' is on quay.io, which is on the internet{TAIL}"
    )


def test_guard_rejects_an_image_known_only_at_deploy_time(guarded_cluster):
    from aws_cdk import aws_ecr as ecr

    # its URI is made of the repository's ARN attribute, which CloudFormation only knows after creating it
    repository = ecr.Repository(guarded_cluster, "Unnamed")
    with pytest.raises(ConfigError, match=r"is only known at deploy time, so it cannot be checked; build it from the stack's"):
        add(guarded_cluster, repository.repository_uri_for_tag("1"))


@pytest.mark.parametrize("image", [f"{THIS_ECR}/app:1", f"{THIS_ECR}/team/app@sha256:{'a' * 64}", f"{ALLOWED_REGISTRY}/app:1"])
def test_this_accounts_ecr_and_allowed_registries_pass(guarded_cluster, image):
    manifest = add(guarded_cluster, image)
    assert manifest.node.path.endswith("/App")


def test_mirrored_image_of_a_workload_passes_and_names_the_stacks_account_and_region(guarded_cluster):
    from private_eks_fargate import MirroredImage

    workload = guarded_cluster.add_workload(
        "Mirrored", namespace="web", images=[MirroredImage(source="public.ecr.aws/nginx/nginx:1.28.0", repository="web/nginx")]
    )
    uri = workload.image_uri("web/nginx")
    (copy,) = [m.copy for m in workload.mirrors.values()]
    assert Stack.of(guarded_cluster).resolve(uri) == {"Fn::Join": ["", [
        f"{GUARD_ACCOUNT}.dkr.ecr.{GUARD_REGION}.", {"Ref": "AWS::URLSuffix"}, "/web/nginx@",
        {"Fn::GetAtt": [Stack.of(copy).get_logical_id(copy.node.default_child), "Digest"]},
    ]]}  # by the digest the copy reports: the deploy-time digest pins the image, the registry is this account's
    workload.add_manifests("App", user_deployment(uri))


def test_synth_time_guard_catches_a_manifest_added_around_the_workloads_api(guarded_cluster):
    """The raw L2 `add_manifest` skips the construction-time check; the validation on the cluster still sees it."""
    assert guarded_cluster.node.validate() == []
    guarded_cluster.cluster.add_manifest("Raw", user_deployment("ghcr.io/acme/app:2.1"))
    errors = guarded_cluster.node.validate()
    assert errors == [
        "manifest Guarded/Cluster/Cluster/manifest-Raw (Deployment web/web): container 'pause' image 'ghcr.io/acme/app:2.1' "
        f"is on ghcr.io, which is on the internet{TAIL}"
    ]
    guarded_cluster.node.find_child("Cluster").node.try_remove_child("manifest-Raw")
    assert guarded_cluster.node.validate() == []


def test_environment_agnostic_stacks_accept_only_the_stacks_own_account_tokens():
    policy = ImagePolicy(account=ACCOUNT, region=REGION)
    assert policy.problem(f"{ACCOUNT}.dkr.ecr.{REGION}.${{AWS::URLSuffix}}/app:1") is None
    assert policy.problem(f"{GUARD_ACCOUNT}.dkr.ecr.{GUARD_REGION}.amazonaws.com/app:1") == (
        f"is in the ECR of account {GUARD_ACCOUNT}, not this stack's account (is only known at deploy time "
        "(environment-agnostic stack))"
    )


@pytest.mark.parametrize(
    "image, parsed",
    [
        ("nginx", ("", "nginx", None, None)),
        ("nginx:1.28", ("", "nginx", "1.28", None)),
        ("localhost:5000/a/b:1", ("localhost:5000", "a/b", "1", None)),
        ("registry.corp.example:5000/platform/app", ("registry.corp.example:5000", "platform/app", None, None)),
        (f"public.ecr.aws/x/y:2@sha256:{'b' * 64}", ("public.ecr.aws", "x/y", "2", f"sha256:{'b' * 64}")),
    ],
)
def test_image_references_parse_as_the_runtime_reads_them(image, parsed):
    ref = ImageRef.parse(image)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == parsed


@pytest.mark.parametrize("image", ["", "nginx:", "a b:1", None])
def test_malformed_image_references_are_not_parsed(image):
    assert ImageRef.parse(image) is None


def test_every_container_list_of_a_pod_spec_is_walked():
    pod = {"spec": {"initContainers": [{"name": "i"}], "containers": [{"name": "c"}], "ephemeralContainers": [{"name": "e"}]}}
    assert [c["name"] for c in containers([pod])] == ["i", "c", "e"]


@pytest.mark.parametrize("config", ["default", "existing-vpc", "user-stack"])
def test_every_image_the_project_applies_passes_the_guard(all_synths, config):
    from conftest import applied_manifests

    policy = ImagePolicy(account=ACCOUNT, region=REGION)
    images = [c["image"] for _, m in applied_manifests(all_synths[config]) for c in containers(m)]
    assert images, "every configuration runs at least one workload container"
    assert [(image, policy.problem(image)) for image in images if policy.problem(image)] == []
    assert all(image.startswith(f"{ACCOUNT}.dkr.ecr.{REGION}.${{AWS::URLSuffix}}/") for image in images)
