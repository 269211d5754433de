"""The cluster: private endpoint only, all logs, KMS secrets, access entries, kubectl provider, Fargate profiles."""

import json
import re

import pytest
from private_eks_fargate.blocks.cluster import default_cluster_name, profile_construct_id, profile_name
from private_eks_fargate.blocks.image_guard import render
from private_eks_fargate.settings import FargateProfileSpec

from conftest import find_one

CLUSTER = "Dev/Cluster"


LOG_TYPES = {"api", "audit", "authenticator", "controllerManager", "scheduler"}


@pytest.fixture(scope="module")
def cluster_props(default_app):
    (cluster,) = default_app.resources(CLUSTER, "AWS::EKS::Cluster").values()
    return cluster["Properties"]


@pytest.mark.parametrize("config", ["default", "existing-vpc", "user-stack"])
def test_endpoint_is_private_only(all_synths, config):
    clusters = [(k, v) for k, v in all_synths[config].all_resources().items() if v["Type"] == "AWS::EKS::Cluster"]
    assert len(clusters) == 1
    for synth_name, cluster in clusters:
        vpc_config = cluster["Properties"]["ResourcesVpcConfig"]
        assert vpc_config["EndpointPublicAccess"] is False, synth_name
        assert vpc_config["EndpointPrivateAccess"] is True, synth_name
        assert "PublicAccessCidrs" not in vpc_config


def test_all_five_control_plane_log_types(cluster_props):
    enabled = cluster_props["Logging"]["ClusterLogging"]["EnabledTypes"]
    assert {t["Type"] for t in enabled} == LOG_TYPES


def test_secrets_are_encrypted_with_a_rotating_retained_customer_key(default_app, cluster_props):
    (encryption,) = cluster_props["EncryptionConfig"]
    assert encryption["Resources"] == ["secrets"]
    key_id = encryption["Provider"]["KeyArn"]["Fn::GetAtt"][0]
    key = default_app.resources(CLUSTER)[key_id]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain" and key["UpdateReplacePolicy"] == "Retain"


def test_authentication_through_access_entries_only(cluster_props):
    assert cluster_props["AccessConfig"]["AuthenticationMode"] == "API"
    assert cluster_props["AccessConfig"]["BootstrapClusterCreatorAdminPermissions"] is False


def test_fargate_only_no_auto_mode_no_node_groups(default_app, cluster_props):
    assert cluster_props["ComputeConfig"] == {"Enabled": False}
    assert cluster_props["Version"] == "1.36"
    for kind in ("AWS::EKS::Nodegroup", "AWS::AutoScaling::AutoScalingGroup"):
        assert not default_app.resources(CLUSTER, kind)
    # the only instance is the operators' SSM bastion; no pod can be scheduled on it (it never joins the cluster)
    assert [k.startswith("OperationsBastionInstance") for k in default_app.resources(CLUSTER, "AWS::EC2::Instance")] == [True]


def test_kubectl_handler_runs_in_the_cluster_subnets_with_the_matching_layer(default_app, cluster_props):
    lambdas = default_app.resources(CLUSTER, "AWS::Lambda::Function")
    _, handler = find_one(lambdas, lambda f: f["Properties"].get("Handler") == "index.handler" and f["Properties"]["Runtime"].startswith("python"))
    assert handler["Properties"]["VpcConfig"]["SubnetIds"] == cluster_props["ResourcesVpcConfig"]["SubnetIds"]
    layers = default_app.resources(CLUSTER, "AWS::Lambda::LayerVersion")
    kubectl_layer_id, _ = find_one(layers, lambda l: "kubectl" in json.dumps(l["Properties"]).lower())
    assert {"Ref": kubectl_layer_id} in handler["Properties"]["Layers"]
    # and the asset is the v36 layer package's zip
    assert "KubectlLayer" in kubectl_layer_id
    assert lambdas
    for key, fn in lambdas.items():
        # the image copy's handlers run outside the VPC on purpose (test_image_mirror.py)
        if not key.startswith("ImageCopyProvider"):
            assert "VpcConfig" in fn["Properties"] or "VpcRestrictDefaultSG" in json.dumps(fn), key


def test_pod_execution_role_is_scoped_to_this_clusters_profiles(default_app):
    roles = default_app.resources(CLUSTER, "AWS::IAM::Role")
    _, role = find_one(roles, lambda r: "eks-fargate-pods" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"]))
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "eks-fargate-pods.amazonaws.com"}
    (cluster_id,) = default_app.resources(CLUSTER, "AWS::EKS::Cluster")
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == {
        "Fn::Join": ["", [
            "arn:", {"Ref": "AWS::Partition"}, ":eks:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"},
            ":fargateprofile/", {"Ref": cluster_id}, "/*",
        ]]
    }
    policies = json.dumps(role["Properties"]["ManagedPolicyArns"])
    assert "AmazonEKSFargatePodExecutionRolePolicy" in policies
    assert len(role["Properties"]["ManagedPolicyArns"]) == 1


def _profiles(synth, stack):
    return synth.resources(stack, "AWS::EKS::FargateProfile")


def test_coredns_profile_selects_only_kube_dns(default_app):
    _, profile = find_one(_profiles(default_app, CLUSTER), lambda p: p["Properties"]["Selectors"][0]["Namespace"] == "kube-system")
    assert profile["Properties"]["Selectors"] == [
        {"Namespace": "kube-system", "Labels": [{"Key": "k8s-app", "Value": "kube-dns"}]}
    ]


def test_default_app_profile_is_custom_space_and_nothing_takes_default_or_all_of_kube_system(default_app):
    selectors = [p["Properties"]["Selectors"] for p in _profiles(default_app, CLUSTER).values()]
    assert [{"Namespace": "custom-space", "Labels": []}] in selectors
    assert len(selectors) == 2
    for selector_list in selectors:
        assert selector_list
        for selector in selector_list:
            assert selector["Namespace"] != "default"
            if selector["Namespace"] == "kube-system":
                assert selector.get("Labels")


def test_profiles_use_only_the_private_cluster_subnets_and_one_role(default_app, cluster_props):
    roles = set()
    profiles = _profiles(default_app, CLUSTER)
    assert len(profiles) == 2
    for profile in profiles.values():
        assert profile["Properties"]["Subnets"] == cluster_props["ResourcesVpcConfig"]["SubnetIds"]
        roles.add(json.dumps(profile["Properties"]["PodExecutionRoleArn"]))
    assert len(roles) == 1


def test_profiles_are_created_one_after_another_coredns_first(existing_vpc_app):
    profiles = _profiles(existing_vpc_app, "Prod/Cluster")
    assert len(profiles) == 4  # CoreDNS and three application profiles
    # a single chain (EKS takes one profile operation at a time): the CoreDNS profile has no profile dependency,
    # each other profile depends on exactly one, and no two on the same
    deps = {k: [d for d in v.get("DependsOn", []) if d in profiles] for k, v in profiles.items()}
    assert sorted(len(d) for d in deps.values()) == [0, 1, 1, 1]
    assert len({d[0] for d in deps.values() if d}) == 3
    (first,) = [k for k, d in deps.items() if not d]
    assert profiles[first]["Properties"]["Selectors"][0]["Namespace"] == "kube-system"


def test_only_the_coredns_profile_holds_back_every_kubectl_resource(existing_vpc_app):
    """aws-cdk-lib's KubectlReadyBarrier waits for every L2 profile; the application profiles are L1, so kubectl
    work (the CoreDNS rollout wait) does not wait for them."""
    resources = existing_vpc_app.resources("Prod/Cluster")
    _, barrier = find_one(resources, lambda r: r["Type"] == "AWS::SSM::Parameter" and r["Properties"]["Value"] == "aws:cdk:eks:kubectl-ready")
    waited = [d for d in barrier["DependsOn"] if resources[d]["Type"] == "AWS::EKS::FargateProfile"]
    assert len(waited) == 1
    assert resources[waited[0]]["Properties"]["Selectors"][0]["Namespace"] == "kube-system"


def test_application_profiles_are_keyed_by_what_they_select(default_app, user_stack_app, existing_vpc_app):
    """An application profile's construct path, so its logical id, names its namespace (and a digest of its labels),
    never its position in cluster.app_profiles: reordering the list or removing one entry replaces no other profile
    (the change matrix shows both). A profile a workload ensures has the id a configured one for the namespace would
    have. The CoreDNS profile keeps the id it was deployed with."""
    assert set(_profiles(default_app, CLUSTER)) == {"ClusterCoreDnsProfile24FD293B", "ClusterAppProfilecustomspace122F14BC"}
    ids = {k[:-8] for k in _profiles(existing_vpc_app, "Prod/Cluster")}  # without the digest of the path
    labels = profile_construct_id(FargateProfileSpec(namespace="payments", labels={"tier": "api", "app": "ledger"}))
    assert labels == profile_construct_id(FargateProfileSpec(namespace="payments", labels={"app": "ledger", "tier": "api"}))
    assert re.fullmatch(r"AppProfile-payments-[0-9a-f]{8}", labels)
    assert ids == {f"Cluster{name.replace('-', '')}" for name in ("CoreDnsProfile", "AppProfile-custom-space", labels, "AppProfile-batch")}
    # the profile the user's workload ensured for `web` had this id before (it was always keyed by namespace)
    assert {"PlatformClusterAppProfilecustomspace9895C39B", "PlatformClusterAppProfilewebF27E75A6"} == {
        k for k, p in _profiles(user_stack_app, "TeamPlatform").items() if p["Properties"]["Selectors"][0]["Namespace"] != "kube-system"
    }


def test_profile_names_are_label_values_with_the_whole_digest():
    long_namespace = "n" * 63
    name = profile_name(f"app-{long_namespace}", {"path": "x"})
    assert len(name) == 63 and re.fullmatch(r"app-n+-[0-9a-f]{8}", name)
    assert profile_name(f"app-{long_namespace}", {"path": "y"})[:-8] == name[:-8] != profile_name("app-n", {"path": "x"})


def test_profile_names_change_with_every_create_only_property_and_the_path(existing_vpc_app):
    names = [p["Properties"]["FargateProfileName"] for p in _profiles(existing_vpc_app, "Prod/Cluster").values()]
    assert len(set(names)) == 4
    identity = {"path": "Cluster/AppProfile1", "cluster": "c", "role": {"Fn::GetAtt": ["R", "Arn"]},
                "subnets": ["subnet-1", "subnet-2"], "selector": ["payments", [["app", "ledger"]]]}
    name = profile_name("app-payments", identity)
    assert name.startswith("app-payments-") and len(name) == len("app-payments-") + 8
    assert profile_name("app-payments", dict(reversed(identity.items()))) == name
    for key, other in (("path", "Cluster/AppProfile0"), ("cluster", "d"), ("role", {"Fn::GetAtt": ["S", "Arn"]}),
                       ("subnets", ["subnet-1", "subnet-3"]), ("selector", ["payments", []])):
        assert profile_name("app-payments", {**identity, key: other}) != name, key


def test_labelled_profile_renders_its_labels(existing_vpc_app):
    _, profile = find_one(_profiles(existing_vpc_app, "Prod/Cluster"), lambda p: p["Properties"]["Selectors"][0]["Namespace"] == "payments")
    assert profile["Properties"]["Selectors"] == [
        {"Namespace": "payments", "Labels": [{"Key": "app", "Value": "ledger"}, {"Key": "tier", "Value": "api"}]}
    ]


def test_custom_space_namespace_is_created_by_a_manifest(default_app):
    manifests = default_app.resources(CLUSTER, "Custom::AWSCDK-EKS-KubernetesResource")
    _, namespace = find_one(manifests, lambda m: '"kind":"Namespace","metadata":{"name":"custom-space"' in m["Properties"]["Manifest"])
    (manifest,) = json.loads(namespace["Properties"]["Manifest"])
    assert (manifest["apiVersion"], manifest["kind"], manifest["metadata"]["name"]) == ("v1", "Namespace", "custom-space")
    # Pod Security "restricted" enforced, audited and warned, pinned to the cluster's minor; and CDK's prune label
    labels = dict(manifest["metadata"]["labels"])
    assert labels.pop(namespace["Properties"]["PruneLabel"]) == ""
    assert labels == {
        f"pod-security.kubernetes.io/{mode}{suffix}": value
        for mode in ("enforce", "audit", "warn") for suffix, value in (("", "restricted"), ("-version", "v1.36"))
    }


def test_named_cluster_and_outputs(existing_vpc_app):
    template = existing_vpc_app.template("Prod/Cluster")
    (cluster,) = existing_vpc_app.resources("Prod/Cluster", "AWS::EKS::Cluster").values()
    assert cluster["Properties"]["Name"] == "bank-private"
    assert set(template["Outputs"]) >= {"ClusterName", "ClusterArn", "ClusterEndpoint", "VpcId"}
    assert template["Outputs"]["VpcId"]["Value"] == "vpc-0a1b2c3d4e5f60718"


def test_default_cluster_name_is_deterministic_valid_and_derived_from_the_stack(default_app):
    (cluster,) = default_app.resources("Dev/Cluster", "AWS::EKS::Cluster").values()
    name = cluster["Properties"]["Name"]
    assert isinstance(name, str) and name.startswith("DevCluster-") and len(name) <= 100
    construct = default_app.app.node.find_child("Dev").node.find_child("Cluster").node.find_child("Cluster")
    assert default_cluster_name(construct) == name


@pytest.mark.parametrize("config", ["default", "existing-vpc", "user-stack", "public-bastion"])
def test_every_in_vpc_lambda_uses_only_security_groups_its_stack_owns(all_synths, config):
    """Lambda releases a function's network interfaces only after the function is gone. In a group the stack owns
    (not the cluster security group EKS creates and deletes), CloudFormation deletes the function, waits for its
    interfaces, then deletes the group: the cluster, its group and the VPC are not held up."""
    synth = all_synths[config]
    functions = [(stack, k, f) for stack in synth.templates for k, f in synth.resources(stack, "AWS::Lambda::Function").items()]
    assert len(functions) == 4  # the kubectl handler and provider framework, the image copy and its framework
    for stack, key, function in functions:
        groups = function["Properties"]["VpcConfig"]["SecurityGroupIds"]
        assert groups and "ClusterSecurityGroupId" not in json.dumps(groups), key
        for group in groups:
            assert synth.resources(stack)[group["Fn::GetAtt"][0]]["Type"] == "AWS::EC2::SecurityGroup", key


def test_kubectl_lambdas_reach_the_api_server_through_one_rule_that_outlives_them(default_app):
    resources = default_app.resources(CLUSTER)
    group_id, group = find_one(resources, lambda r: r["Type"] == "AWS::EC2::SecurityGroup" and "kubectl provider" in r["Properties"]["GroupDescription"])
    assert "SecurityGroupIngress" not in group["Properties"]
    assert group["Properties"]["SecurityGroupEgress"] == [
        {"CidrIp": "0.0.0.0/0", "Description": "HTTPS to the EKS API server and the VPC endpoints", "FromPort": 443,
         "IpProtocol": "tcp", "ToPort": 443}
    ]
    (cluster_id,) = default_app.resources(CLUSTER, "AWS::EKS::Cluster")
    rule_id, _ = find_one(resources, lambda r: r["Type"] == "AWS::EC2::SecurityGroupIngress"
                          and r["Properties"]["SourceSecurityGroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]})
    assert resources[rule_id]["Properties"]["GroupId"] == {"Fn::GetAtt": [cluster_id, "ClusterSecurityGroupId"]}
    kubectl = {k: f for k, f in resources.items() if f["Type"] == "AWS::Lambda::Function" and "KubectlProvider" in k}
    assert len(kubectl) == 2
    for key, function in kubectl.items():
        # created after the rule and deleted before it: deletes of Kubernetes objects still reach the API server
        assert rule_id in function["DependsOn"], key


def test_deletion_protection_follows_production_and_the_upgrade_policy_is_explicit(default_app, existing_vpc_app):
    (default,) = default_app.resources(CLUSTER, "AWS::EKS::Cluster").values()
    (production,) = existing_vpc_app.resources("Prod/Cluster", "AWS::EKS::Cluster").values()
    assert (default["Properties"]["DeletionProtection"], production["Properties"]["DeletionProtection"]) == (False, True)
    # EKS's own default is EXTENDED ($0.60 a cluster-hour once standard support ends): never left to it
    for cluster in (default, production):
        assert cluster["Properties"]["UpgradePolicy"] == {"SupportType": "STANDARD"}
        assert cluster["Metadata"]["private-eks-fargate:kubernetes-support"] == {
            "version": "1.36", "phase": "standard", "calendar": "standard support; newest in aws-cdk-lib 2.275"}


def test_namespaces_are_left_in_the_cluster_when_the_platform_stops_managing_them(all_synths):
    """A Namespace manifest that leaves the template is forgotten, not `kubectl delete`d (it may hold workloads
    deployed outside this app); every other manifest is deleted with its resource."""
    manifests = [(key, resource) for synth in all_synths.values() for template in synth.templates.values()
                 for key, resource in template["Resources"].items() if resource["Type"] == "Custom::AWSCDK-EKS-KubernetesResource"]
    assert len(manifests) >= 12
    namespaces = 0
    for key, resource in manifests:
        kinds = {document["kind"] for document in json.loads(render(resource["Properties"]["Manifest"]))}
        retained = (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")) == ("Retain", "Retain")
        assert retained == (kinds == {"Namespace"}), key
        namespaces += kinds == {"Namespace"}
    assert namespaces >= 8


@pytest.mark.parametrize("config, stack", [("default", CLUSTER), ("existing-vpc", "Prod/Cluster"), ("user-stack", "TeamPlatform")])
def test_the_cluster_is_built_only_after_every_image_copy(all_synths, config, stack):
    """A copy that still fails after its retries fails the stack before EKS starts the cluster: CloudFormation would
    otherwise wait for the cluster (about 10 minutes) and then delete it."""
    resources = all_synths[config].resources(stack)
    copies = {k for k, r in resources.items() if r["Type"] == "Custom::ImageCopy"}
    assert copies
    (cluster,) = [r for r in resources.values() if r["Type"] == "AWS::EKS::Cluster"]
    assert copies <= set(cluster["DependsOn"])


def test_in_one_stack_the_image_copy_waits_for_the_endpoints(user_stack_app):
    resources = user_stack_app.resources("TeamPlatform")
    endpoints = {k for k, r in resources.items() if r["Type"] == "AWS::EC2::VPCEndpoint"}
    (copy,) = [r for r in resources.values() if r["Type"] == "Custom::ImageCopy"]
    assert endpoints and endpoints <= set(copy["DependsOn"])


def test_pods_are_pinned_to_the_most_specific_profile_that_selects_them(existing_vpc_app):
    cluster = existing_vpc_app.app.node.find_child("Prod").node.find_child("Cluster").node.find_child("Cluster")
    profiles = {p["Properties"]["FargateProfileName"]: p["Properties"]["Selectors"][0]
                for p in _profiles(existing_vpc_app, "Prod/Cluster").values()}
    ledger, _ = cluster.pinned_profile("payments", {"app": "ledger", "tier": "api", "version": "2"})
    assert profiles[ledger]["Labels"] == [{"Key": "app", "Value": "ledger"}, {"Key": "tier", "Value": "api"}]
    assert cluster.pinned_profile("payments", {"app": "ledger"}) is None  # no profile selects it: nothing to pin
    batch, _ = cluster.pinned_profile("batch", {"job": "x"})
    assert profiles[batch] == {"Namespace": "batch", "Labels": []}
    coredns, _ = cluster.pinned_profile("kube-system", {"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"})
    assert coredns.startswith("coredns-")
