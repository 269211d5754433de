"""Every bad setting is rejected before any resource is defined, with one line naming the setting and what is allowed."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from private_eks_fargate import (
    ClusterSettings,
    ComplianceSettings,
    ConfigError,
    EndpointSettings,
    ExistingVpcSettings,
    FargateProfileSpec,
    NetworkSettings,
    OperationsSettings,
    PlatformSettings,
    WorkloadSettings,
)

from conftest import ADMIN, EXISTING_VPC


def existing(**changes):
    fields = dict(
        vpc_id=EXISTING_VPC.vpc_id,
        vpc_cidr=EXISTING_VPC.vpc_cidr,
        subnet_ids=EXISTING_VPC.subnet_ids,
        availability_zones=EXISTING_VPC.availability_zones,
        route_table_ids=EXISTING_VPC.route_table_ids,
    )
    return PlatformSettings(network=NetworkSettings(existing_vpc=ExistingVpcSettings(**(fields | changes))))


def profiles(*specs):
    return PlatformSettings(cluster=ClusterSettings(app_profiles=specs))


CASES = {
    "one AZ": (
        PlatformSettings(network=NetworkSettings(az_count=1)),
        "network.az_count: 1 is not allowed; use a whole number from 2 to 6",
    ),
    "zones do not match az_count": (
        PlatformSettings(network=NetworkSettings(az_count=3, availability_zones=("eu-west-1a", "eu-west-1b"))),
        "network.availability_zones: 2 zone(s) named but az_count is 3; name exactly az_count zones",
    ),
    "bad zone name": (
        PlatformSettings(network=NetworkSettings(availability_zones=("eu-west-1a", "west"))),
        "network.availability_zones: 'west' is not an availability zone name (expected the form eu-west-1a)",
    ),
    "a zone EKS refuses": (
        PlatformSettings(network=NetworkSettings(availability_zones=("use1-az1", "use1-az3"))),
        "network.availability_zones: 'use1-az3' is a zone of us-east-1 where EKS does not accept control-plane subnets "
        "(EKS User Guide); use other zones of us-east-1, e.g. use1-az1,use1-az2",
    ),
    "a zone ID AWS does not list": (
        PlatformSettings(network=NetworkSettings(availability_zones=("euw1-az1", "euw1-az9"))),
        "network.availability_zones: 'euw1-az9' is not a zone ID AWS lists (docs/regions.md has each region's, e.g. euw1-az1)",
    ),
    "zone IDs and names mixed": (
        PlatformSettings(network=NetworkSettings(availability_zones=("euw1-az1", "eu-west-1b"))),
        "network.availability_zones: ['euw1-az1', 'eu-west-1b'] mixes zone IDs and names ('eu-west-1b'); give zone IDs "
        "only, e.g. euw1-az1,euw1-az2",
    ),
    "zone IDs of two regions": (
        PlatformSettings(network=NetworkSettings(availability_zones=("euw1-az1", "euw2-az1"))),
        "network.availability_zones: ['euw1-az1', 'euw2-az1'] names zones of eu-west-1 and eu-west-2; a VPC is in one region",
    ),
    "the same zone ID twice": (
        PlatformSettings(network=NetworkSettings(availability_zones=("euw1-az1", "euw1-az1"))),
        "network.availability_zones: ['euw1-az1', 'euw1-az1'] lists the same availability zone more than once",
    ),
    "zone IDs while placing by name": (
        PlatformSettings(network=NetworkSettings(zones_by_name=True, availability_zones=("euw1-az1", "euw1-az2"))),
        "network.availability_zones: ['euw1-az1', 'euw1-az2'] are zone IDs, but network.zones_by_name places subnets by "
        "zone name: give the names the stage was deployed with, or set network.zones_by_name false",
    ),
    "zones_by_name not a boolean": (
        PlatformSettings(network=NetworkSettings(zones_by_name="yes")),
        "network.zones_by_name: 'yes' is not allowed; give true or false",
    ),
    "a Session Manager input the document does not have": (
        PlatformSettings(operations=OperationsSettings(session_manager_preferences={"kmsKeyID": "x"})),
        "operations.session_manager_preferences.kmsKeyID: not an input of SSM-SessionManagerRunShell; did you mean kmsKeyId?",
    ),
    "a session key given by alias": (
        PlatformSettings(operations=OperationsSettings(session_manager_preferences={"kmsKeyId": "alias/ssm"})),
        "operations.session_manager_preferences.kmsKeyId: 'alias/ssm' is not a KMS key ARN or key id (an alias cannot "
        "be granted to the bastion's role; give the key it names)",
    ),
    "a session log bucket that is no bucket name": (
        PlatformSettings(operations=OperationsSettings(session_manager_preferences={"s3BucketName": "Logs_Bucket"})),
        "operations.session_manager_preferences.s3BucketName: 'Logs_Bucket' is not an S3 bucket name",
    ),
    "a session log bucket key that is no key ARN": (
        PlatformSettings(operations=OperationsSettings(session_manager_preferences={"s3BucketKmsKeyArn": "key/1"})),
        "operations.session_manager_preferences.s3BucketKmsKeyArn: 'key/1' is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)",
    ),
    "public CIDR": (
        PlatformSettings(network=NetworkSettings(vpc_cidr="8.8.0.0/16")),
        "network.vpc_cidr: '8.8.0.0/16' is not a private (RFC 1918) range; a private cluster needs one",
    ),
    "malformed CIDR": (
        PlatformSettings(network=NetworkSettings(vpc_cidr="10.0.0.0/33")),
        "network.vpc_cidr: '10.0.0.0/33' is not an IPv4 network in CIDR form (e.g. 10.0.0.0/16)",
    ),
    "CIDR too small": (
        PlatformSettings(network=NetworkSettings(vpc_cidr="10.0.0.0/26")),
        "network.vpc_cidr: '10.0.0.0/26' has prefix /26; a VPC CIDR must be /16 to /24",
    ),
    "malformed VPC id": (
        existing(vpc_id="vpc-123"),
        "network.existing_vpc_id: 'vpc-123' is not a valid id (expected the form vpc-0123456789abcdef0)",
    ),
    "malformed subnet id": (
        existing(subnet_ids=("subnet-0aaaaaaaaaaaaaaa1", "sub-2", "subnet-0ccccccccccccccc3")),
        "network.existing_subnet_ids: 'sub-2' is not a valid id (expected the form subnet-0123456789abcdef0)",
    ),
    "one existing subnet": (
        existing(subnet_ids=("subnet-0aaaaaaaaaaaaaaa1",), availability_zones=("eu-west-1a",), route_table_ids=("rtb-0aaaaaaaaaaaaaaa1",)),
        "network.existing_subnet_ids: 1 subnet(s) given; EKS needs private subnets in at least 2 availability zones",
    ),
    "existing subnets in one zone": (
        existing(availability_zones=("eu-west-1a", "eu-west-1a", "eu-west-1a")),
        "network.existing_availability_zones: ['eu-west-1a', 'eu-west-1a', 'eu-west-1a'] lists the same availability zone more than once",
    ),
    "route tables do not match subnets": (
        existing(route_table_ids=("rtb-0aaaaaaaaaaaaaaa1",)),
        "network.existing_route_table_ids: 1 route table(s) for 3 subnet(s); give one per subnet",
    ),
    "no route tables while creating endpoints": (
        existing(route_table_ids=()),
        "network.existing_route_table_ids: required while endpoints.create is true (the S3 gateway endpoint is "
        "added to these route tables); give one per subnet, or set endpoints.create to false if the VPC already has its endpoints",
    ),
    "unknown endpoint service": (
        PlatformSettings(endpoints=EndpointSettings(extra_services=("secretmanager",))),
        "endpoints.extra_services: 'secretmanager' is not an interface endpoint service aws-cdk-lib knows (did you mean "
        "secretsmanager?); use short names such as 'secretsmanager' or 'ecr.api'",
    ),
    "single-zone endpoints in production": (
        PlatformSettings(endpoints=EndpointSettings(single_zone=True), compliance=ComplianceSettings(production=True)),
        "endpoints.single_zone: not allowed with compliance.production: a production VPC keeps its endpoints in every "
        "zone of the cluster; set endpoints.single_zone false, or compliance.production false for a non-production stage",
    ),
    "single zone not a boolean": (
        PlatformSettings(endpoints=EndpointSettings(single_zone="yes")),
        "endpoints.single_zone: 'yes' is not allowed; give true or false",
    ),
    "duplicate endpoint service": (
        PlatformSettings(endpoints=EndpointSettings(extra_services=("kms", "kms"))),
        "endpoints.extra_services: ['kms', 'kms'] lists a service more than once",
    ),
    "unknown Kubernetes version": (
        PlatformSettings(cluster=ClusterSettings(kubernetes_version="1.99")),
        "cluster.kubernetes_version: '1.99' is not a version this platform can create; allowed: 1.32, 1.33, 1.34, 1.35, 1.36",
    ),
    "invalid namespace": (
        profiles(FargateProfileSpec(namespace="Custom_Space")),
        "cluster.app_profiles[0].namespace: 'Custom_Space' is not a valid Kubernetes namespace name (lower-case letters, "
        "digits and '-', starting and ending with a letter or digit, at most 63 characters)",
    ),
    "namespace too long": (
        profiles(FargateProfileSpec(namespace="a" * 64)),
        f"cluster.app_profiles[0].namespace: '{'a' * 64}' is not a valid Kubernetes namespace name (lower-case letters, "
        "digits and '-', starting and ending with a letter or digit, at most 63 characters)",
    ),
    "invalid label key": (
        profiles(FargateProfileSpec(namespace="web", labels={"-app": "x"})),
        "cluster.app_profiles[0].labels: '-app' is not a valid Kubernetes label key ([prefix/]name; name of letters, "
        "digits, '-', '_', '.', at most 63 characters, starting and ending with a letter or digit)",
    ),
    "invalid label value": (
        profiles(FargateProfileSpec(namespace="web", labels={"app": "a b"})),
        "cluster.app_profiles[0].labels: label 'app' has value 'a b', not a valid Kubernetes label value (letters, "
        "digits, '-', '_', '.', at most 63 characters, starting and ending with a letter or digit)",
    ),
    "too many labels": (
        profiles(FargateProfileSpec(namespace="web", labels={f"k{i}": "v" for i in range(6)})),
        "cluster.app_profiles[0].labels: 6 labels given; a Fargate profile selector allows at most 5",
    ),
    "all of kube-system": (
        profiles(FargateProfileSpec(namespace="kube-system")),
        "cluster.app_profiles[0].labels: a profile for all of namespace 'kube-system' is not allowed; give labels that "
        "select the pods meant for Fargate",
    ),
    "all of default": (
        profiles(FargateProfileSpec(namespace="custom-space"), FargateProfileSpec(namespace="default")),
        "cluster.app_profiles[1].labels: a profile for all of namespace 'default' is not allowed; give labels that "
        "select the pods meant for Fargate",
    ),
    "duplicate selectors": (
        profiles(
            FargateProfileSpec(namespace="web", labels={"a": "1", "b": "2"}),
            FargateProfileSpec(namespace="web", labels={"b": "2", "a": "1"}),
        ),
        "cluster.app_profiles[1]: selects the same pods as app_profiles[0] (namespace 'web', labels {'b': '2', 'a': '1'}); each selector once",
    ),
    "bad cluster name": (
        PlatformSettings(cluster=ClusterSettings(cluster_name="my cluster")),
        "cluster.name: 'my cluster' is not a valid EKS cluster name (1-100 letters, digits, '-' or '_', starting with a letter or digit)",
    ),
    "timeout beyond the Lambda's": (
        PlatformSettings(cluster=ClusterSettings(coredns_ready_timeout_minutes=15)),
        "cluster.coredns_ready_timeout_minutes: 15 is not allowed; use 1 to 14 (the kubectl Lambda stops after 15 minutes)",
    ),
    "support type in lower case": (
        PlatformSettings(cluster=ClusterSettings(support_type="extended")),
        "cluster.support_type: 'extended' is not allowed; use STANDARD or EXTENDED",
    ),
    "standard support for a version past it": (
        PlatformSettings(cluster=ClusterSettings(kubernetes_version="1.33", support_type="STANDARD")),
        "cluster.support_type: STANDARD is not allowed with Kubernetes 1.33, whose standard support has ended (extended "
        "support (extra charge); standard ended 2026-07-29); set EXTENDED ($0.60 a cluster-hour), or use a version in "
        "standard support",
    ),
    "bad deployed name": (
        PlatformSettings(cluster=ClusterSettings(deployed_name="-x")),
        "cluster.deployed_name: '-x' is not a valid EKS cluster name (1-100 letters, digits, '-' or '_', starting with a letter or digit)",
    ),
    "replace flag not a boolean": (
        PlatformSettings(cluster=ClusterSettings(replace_deployed_cluster="yes")),
        "cluster.replace_deployed_cluster: 'yes' is not allowed; give true or false",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_settings_are_rejected_with_one_clear_line(case):
    settings, message = CASES[case]
    with pytest.raises(ConfigError) as error:
        settings.validate()
    assert str(error.value) == message
    assert "\n" not in str(error.value)


def test_default_settings_are_valid():
    assert PlatformSettings().validate().version == "1.36"
    # a version already in extended support passes the policy check with the policy that keeps it there (its kubectl
    # layer package is what it needs next)
    with pytest.raises(ConfigError, match="^cluster.kubernetes_version: '1.33' needs its kubectl layer"):
        PlatformSettings(cluster=ClusterSettings(kubernetes_version="1.33", support_type="EXTENDED")).validate()


def test_a_new_cluster_name_on_a_deployed_stage_is_refused_unless_a_new_cluster_is_intended():
    """Like an unsupported version jump: one line, before anything is defined. The effective name is checked, also
    one derived from the stage (PrivateCluster calls this with it; the change matrix refuses that case)."""
    from private_eks_fargate.settings.model import check_cluster_rename

    deployed = ClusterSettings(cluster_name="payments", deployed_name="DevCluster-BAA1FB0D")
    with pytest.raises(ConfigError) as error:
        check_cluster_rename(deployed, "payments")
    assert str(error.value) == (
        "cluster.name: 'payments' is not the deployed cluster 'DevCluster-BAA1FB0D' (cluster.deployed_name): a new name "
        "replaces the cluster, its pods, log groups, image repository and IRSA OIDC provider; keep the name, or set "
        "cluster.replace_deployed_cluster=true if a new cluster is intended"
    )
    check_cluster_rename(ClusterSettings(deployed_name="DevCluster-BAA1FB0D"), "DevCluster-BAA1FB0D")  # the same name
    check_cluster_rename(ClusterSettings(cluster_name="payments"), "payments")  # nothing recorded: nothing to compare
    check_cluster_rename(ClusterSettings(cluster_name="payments", deployed_name="DevCluster-BAA1FB0D",
                                         replace_deployed_cluster=True), "payments")


def test_constructs_validate_before_defining_anything():
    import aws_cdk as cdk
    from private_eks_fargate import PrivateEksFargate

    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ConfigError, match="^network.az_count: 1 is not allowed"):
        PrivateEksFargate(stack, "P", settings=PlatformSettings(network=NetworkSettings(az_count=1)))
    assert [c.node.id for c in stack.node.children] == []  # the composite never got constructed


@pytest.mark.parametrize(
    ("operations", "message"),
    [
        ({"bastion_subnet": "private"}, "operations.bastion_subnet: 'private' is not allowed; use isolated or public"),
        ({"bastion_instance_type": "t3micro"},
         "operations.bastion_instance_type: 't3micro' is not an EC2 instance type (e.g. t3.micro)"),
        ({"admin_access_policy": "AdministratorAccess"},
         "operations.admin_access_policy: 'AdministratorAccess' is not allowed; use one of AmazonEKSClusterAdminPolicy, "
         "AmazonEKSAdminPolicy, AmazonEKSEditPolicy, AmazonEKSViewPolicy, AmazonEKSAdminViewPolicy"),
        ({"admin_principal_arns": ("arn:aws:iam::123456789012:group/admins",)},
         "operations.admin_principal_arns: 'arn:aws:iam::123456789012:group/admins' is not an IAM role or user ARN "
         "(arn:aws:iam::123456789012:role/NAME)"),
        ({"admin_principal_arns": (ADMIN, ADMIN)},
         f"operations.admin_principal_arns: ['{ADMIN}', '{ADMIN}'] lists a principal more than once"),
        ({"log_kms_key_arn": "alias/logs"},
         "operations.log_kms_key_arn: 'alias/logs' is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)"),
    ],
)
def test_bad_operations_settings_are_one_line_errors(operations, message):
    with pytest.raises(ConfigError) as error:
        PlatformSettings(operations=OperationsSettings(**operations)).validate()
    assert str(error.value) == message


def test_public_bastion_needs_a_new_vpc():
    settings = PlatformSettings(
        network=NetworkSettings(existing_vpc=EXISTING_VPC),
        operations=OperationsSettings(bastion_subnet="public"),
    )
    with pytest.raises(ConfigError) as error:
        settings.validate()
    assert str(error.value) == (
        "operations.bastion_subnet: 'public' needs a new VPC (the bastion's public subnet is created with it); "
        "with an existing VPC use 'isolated'"
    )
    from private_eks_fargate import PrivateNetwork

    stack = cdk.Stack(cdk.App(), "Probe")
    with pytest.raises(ConfigError) as construct_error:
        PrivateNetwork(stack, "Network", settings=settings.network, public_bastion_subnet=True)
    assert str(construct_error.value) == str(error.value)
    assert stack.node.children == []
    # with the bastion off the placement does not matter
    PlatformSettings(
        network=NetworkSettings(existing_vpc=EXISTING_VPC),
        operations=OperationsSettings(bastion=False, bastion_subnet="public"),
    ).validate()


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(log_retention_days=100), "compliance.log_retention_days: 100 is not a CloudWatch Logs retention; use one of 1, 3,"),
        (dict(tags={"aws:owner": "x"}), "compliance.tags: 'aws:owner' is not an allowed tag key"),
        (dict(tags={"owner": "a" * 257}), "compliance.tags: tag 'owner' has value"),
        (dict(tags={"owner": ""}, required_tags=("owner",)), "compliance.tags: required tag 'owner' is missing"),
        (dict(production="yes"), "compliance.production: 'yes' is not allowed; give true or false"),
    ],
)
def test_bad_compliance_settings_are_refused(settings, message):
    with pytest.raises(ConfigError) as caught:
        PlatformSettings(compliance=ComplianceSettings(**settings)).validate()
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    "network, message",
    [
        (dict(vpc_cidr="10.9.0.0/16"), "network.vpc_cidr: not used with an existing VPC (network.existing_vpc_id): its CIDR is "
         "network.existing_vpc_cidr; remove network.vpc_cidr"),
        (dict(az_count=3), "network.az_count: not used with an existing VPC (network.existing_vpc_id): its zones are those "
         "of network.existing_availability_zones; remove network.az_count"),
        (dict(availability_zones=("eu-west-1a", "eu-west-1b")), "network.availability_zones: not used with an existing VPC "
         "(network.existing_vpc_id): its zones are network.existing_availability_zones; remove network.availability_zones"),
        (dict(zones_by_name=True), "network.zones_by_name: not used with an existing VPC (network.existing_vpc_id): its "
         "subnets are given by ID in network.existing_subnet_ids; remove network.zones_by_name"),
    ],
)
def test_new_vpc_settings_beside_an_existing_vpc_are_refused(network, message):
    with pytest.raises(ConfigError) as error:
        PlatformSettings(network=NetworkSettings(existing_vpc=EXISTING_VPC, **network)).validate()
    assert str(error.value) == message


def test_settings_of_what_a_configuration_leaves_out_do_not_apply():
    assert PlatformSettings().not_applicable() == {
        f"network.existing_{name}": "a new VPC is created"
        for name in ("vpc_id", "vpc_cidr", "subnet_ids", "availability_zones", "route_table_ids")
    }
    off = PlatformSettings(
        network=NetworkSettings(existing_vpc=EXISTING_VPC), endpoints=EndpointSettings(create=False),
        operations=OperationsSettings(bastion=False, fargate_logging=False),
        workloads=WorkloadSettings(sample_app=False),
    ).not_applicable()
    assert off == {
        "network.vpc_cidr": "an existing VPC is used (network.existing_vpc_id)",
        "network.az_count": "an existing VPC is used (network.existing_vpc_id)",
        "network.availability_zones": "an existing VPC is used (network.existing_vpc_id)",
        "network.zones_by_name": "an existing VPC is used (network.existing_vpc_id)",
        "network.existing_route_table_ids": "endpoints.create is false (no S3 gateway endpoint to add)",
        "endpoints.extra_services": "endpoints.create is false (no Endpoints stack)",
        "endpoints.single_zone": "endpoints.create is false (no Endpoints stack)",
        "operations.bastion_subnet": "operations.bastion is false",
        "operations.bastion_instance_type": "operations.bastion is false",
        "operations.bastion_ami": "operations.bastion is false",
        "operations.session_manager_preferences": "operations.bastion is false",
        "operations.admin_access_policy": "no bastion and no operations.admin_principal_arns",
        "operations.log_kms_key_arn": "operations.fargate_logging is false",
        "operations.log_extra_filters": "operations.fargate_logging is false",
        "operations.log_parsers": "operations.fargate_logging is false",
        "workloads.sample_namespace": "workloads.sample_app is false",
        "workloads.sample_image": "workloads.sample_app is false",
        "workloads.sample_repository": "workloads.sample_app is false",
        "workloads.ready_timeout_minutes": "workloads.sample_app is false",
    }
