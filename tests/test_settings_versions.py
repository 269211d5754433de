"""Kubernetes versions: one table from version to kubectl layer; retired and unknown versions rejected."""

import importlib.util

import pytest
from private_eks_fargate import ConfigError
from private_eks_fargate.settings import ClusterSettings, key_of
from private_eks_fargate.settings.versions import DEFAULT_KUBERNETES_VERSION, RELEASES, RETIRED, resolve_release

KEY = key_of(ClusterSettings, "kubernetes_version")


def test_default_is_the_newest_version_aws_cdk_lib_offers():
    from aws_cdk import aws_eks_v2 as eks

    offered = sorted((n for n in dir(eks.KubernetesVersion) if n.startswith("V1_")), key=lambda n: int(n[3:]))
    assert DEFAULT_KUBERNETES_VERSION == offered[-1].replace("V", "").replace("_", ".")
    assert list(RELEASES)[-1] == DEFAULT_KUBERNETES_VERSION


def test_every_release_names_its_own_layer_package():
    assert len(RELEASES) == 5
    for version, release in RELEASES.items():
        minor = version.split(".")[1]
        assert release.layer_package == f"aws-cdk.lambda-layer-kubectl-v{minor}"
        assert release.layer_module == f"aws_cdk.lambda_layer_kubectl_v{minor}"
        assert release.layer_class == f"KubectlV{minor}Layer"


def test_default_layer_is_installed_and_exports_its_class():
    release = resolve_release(DEFAULT_KUBERNETES_VERSION, setting=KEY)
    module = importlib.import_module(release.layer_module)
    assert hasattr(module, release.layer_class)


@pytest.mark.parametrize("version", ["1.29", "1.30"])
def test_versions_eks_no_longer_creates_are_rejected(version):
    with pytest.raises(ConfigError) as error:
        resolve_release(version, setting=KEY)
    assert str(error.value) == (
        f"cluster.kubernetes_version: '{version}' is past EKS extended support (ended {RETIRED[version]}) and EKS no "
        "longer creates clusters on it; allowed: 1.32, 1.33, 1.34, 1.35, 1.36"
    )


@pytest.mark.parametrize("version", ["1.37", "1.24", "latest", "1.36.1"])
def test_unknown_versions_are_rejected(version):
    with pytest.raises(ConfigError, match=r"is not a version this platform can create; allowed: 1\.32, 1\.33"):
        resolve_release(version, setting=KEY)


def test_a_version_whose_layer_is_not_installed_names_the_pip_package():
    with pytest.raises(ConfigError) as error:
        resolve_release("1.34", setting=KEY, module_available=lambda name: False)
    assert str(error.value) == (
        "cluster.kubernetes_version: '1.34' needs its kubectl layer: pip install aws-cdk.lambda-layer-kubectl-v34 "
        "(the package is not installed)"
    )


def test_missing_layer_detection_uses_the_real_import_system():
    # v34 is not in requirements; the real finder must report it missing
    assert importlib.util.find_spec("aws_cdk.lambda_layer_kubectl_v34") is None
    with pytest.raises(ConfigError, match="pip install aws-cdk.lambda-layer-kubectl-v34"):
        resolve_release("1.34", setting=KEY)


DEPLOYED = key_of(ClusterSettings, "deployed_kubernetes_version")


@pytest.mark.parametrize(
    ("version", "deployed", "message"),
    [
        ("1.36", "1.34", "cluster.kubernetes_version: '1.36' skips 1.35: EKS upgrades one minor version at a time; "
         "deploy 1.35 first (the deployed version is 1.34)"),
        ("1.35", "1.36", "cluster.kubernetes_version: '1.35' is older than the deployed '1.36'; EKS cannot downgrade a cluster"),
        ("1.36", "v1.35", "cluster.deployed_kubernetes_version: 'v1.35' is not a version such as 1.35"),
    ],
)
def test_an_upgrade_that_eks_cannot_do_is_rejected_in_one_line(version, deployed, message):
    with pytest.raises(ConfigError) as error:
        ClusterSettings(kubernetes_version=version, deployed_kubernetes_version=deployed).validate()
    assert str(error.value) == message


@pytest.mark.parametrize(("version", "deployed"), [("1.36", "1.35"), ("1.35", "1.35"), ("1.36", None)])
def test_the_same_version_or_one_minor_version_up_is_allowed(version, deployed):
    assert ClusterSettings(kubernetes_version=version, deployed_kubernetes_version=deployed).validate().version == version
