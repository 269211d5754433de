"""review/diagram.py: the architecture diagram is drawn from the templates as an SVG that names what it shows: the
VPC, cluster, profiles and endpoints; below it any gateway, the internet, the image copies, ECR and the log groups."""

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from private_eks_fargate.review.assembly import load_review
from private_eks_fargate.review.diagram import draw_architecture

SVG = "{http://www.w3.org/2000/svg}"


def svg_text(path: Path) -> str:
    """Every text of the drawing, wrapped lines joined, runs of spaces as one."""
    root = ElementTree.parse(path).getroot()  # well-formed XML
    assert root.tag == f"{SVG}svg"
    return re.sub(r"\s+", " ", " ".join(t.text or "" for t in root.iter(f"{SVG}text")))


def drawn(synth, tmp_path) -> str:
    return svg_text(draw_architecture(load_review(Path(synth.assembly.directory)), tmp_path / "architecture.svg"))


def plain(logical_id: str) -> str:
    return re.sub(r"[0-9A-F]{8}$", "", logical_id)


def test_diagram_is_an_svg_naming_the_cluster_profiles_and_endpoints(default_app, default_review):
    diagram = default_review.parent / "architecture.svg"
    root = ElementTree.parse(diagram).getroot()
    assert int(root.get("width")) >= 1200 and int(root.get("height")) >= 700
    text = svg_text(diagram)
    (cluster,) = default_app.resources("Dev/Cluster", "AWS::EKS::Cluster").values()
    assert f"EKS cluster {cluster['Properties']['Name']}" in text
    profiles = default_app.resources("Dev/Cluster", "AWS::EKS::FargateProfile")
    assert profiles
    for profile in profiles.values():
        assert f"Fargate profile {profile['Properties']['FargateProfileName']}" in text
    endpoints = default_app.resources("Dev/Endpoints", "AWS::EC2::VPCEndpoint")
    assert endpoints
    for endpoint in endpoints.values():
        assert f"{endpoint['Metadata']['Purpose']['Service']} (" in text
    arrows = list(root.iter(f"{SVG}line"))
    assert len(arrows) > len(endpoints)  # an arrow to each service, and from the consumers to their endpoints
    functions = [lid for stack in default_app.templates for lid, fn in default_app.resources(stack, "AWS::Lambda::Function").items()
                 if fn["Properties"].get("VpcConfig")]
    assert functions
    assert f"{len(functions)} Lambda functions in the VPC (deploy time only) {', '.join(map(plain, functions))}" in text
    assert "![architecture](architecture.svg)" in default_review.read_text()


def env(project: dict) -> dict:
    return {v["Name"]: v["Value"] for v in project["Properties"]["Environment"]["EnvironmentVariables"]}


def test_diagram_shows_the_copy_path_ecr_and_every_log_group_with_its_key(default_app, default_review):
    text = svg_text(default_review.parent / "architecture.svg")
    (project_id, project), = default_app.resources("Dev/Cluster", "AWS::CodeBuild::Project").items()
    variables = env(project)
    source = variables["SOURCE_IMAGE"]
    assert f"• {source.split('/')[0]}: source of {source.split('/', 1)[1]}" in text  # the internet side
    assert f"CodeBuild image copies (the one path to the internet) {plain(project_id)} (no VPC: CodeBuild network) {source} " \
           f"→ ECR {variables['TARGET_REPOSITORY']}:{variables['TARGET_TAG']}" in text
    (repository,) = default_app.resources("Dev/Cluster", "AWS::ECR::Repository").values()
    key_id = repository["Properties"]["EncryptionConfiguration"]["KmsKey"]["Fn::GetAtt"][0]
    assert (f"• {repository['Properties']['RepositoryName']}: key {plain(key_id)} (Cluster), scan on push, immutable tags, "
            "retained") in text
    assert "Pods pull from: this account's ECR in this region EKS add-ons (coredns)" in text
    groups = [(stack, lid, group) for stack in default_app.templates
              for lid, group in default_app.resources(stack, "AWS::Logs::LogGroup").items()]
    assert len(groups) == 6  # control plane, Fargate, flow logs, the copy build's, the kubectl and image copy Lambdas'
    for stack, lid, group in groups:
        name = group["Properties"].get("LogGroupName", plain(lid))
        key = f"key {plain(group['Properties']['KmsKeyId']['Fn::GetAtt'][0])} ({stack.split('/')[1]})"
        assert re.search(rf"• {re.escape(name)}: [^•]+; {group['Properties']['RetentionInDays']} days, retained, "
                         rf"{re.escape(key)}", text), name
    writers = ["VPC flow logs, all traffic", "EKS control plane, 5 log types", "Fargate pods' containers (Fluent Bit)",
               f"CodeBuild {plain(project_id)}", "Lambda ClusterKubectlProviderHandler, ClusterKubectlProviderframeworkonEvent",
               "Lambda ImageCopyProviderCopy, ImageCopyProviderframeworkonEvent"]
    assert [w for w in writers if w not in text] == []
    assert "no writer" not in text
    assert "isolated subnets, no internet or NAT gateway" in text and "internet gateway" not in text


def test_public_bastion_diagram_shows_the_internet_gateway_and_the_imported_log_key(public_bastion_app, tmp_path):
    from conftest import LOG_KEY

    text = drawn(public_bastion_app, tmp_path)
    (igw_id,) = public_bastion_app.resources("Seed/Network", "AWS::EC2::InternetGateway")
    public = [s["Properties"]["CidrBlock"] for s in public_bastion_app.resources("Seed/Network", "AWS::EC2::Subnet").values()
              if {"Key": "aws-cdk:subnet-type", "Value": "Public"} in s["Properties"]["Tags"]]
    assert len(public) == 2
    assert f"internet gateway {plain(igw_id)} default route of subnets {', '.join(public)}" in text
    assert f"• through the internet gateway {plain(igw_id)}: outbound from its subnets" in text
    assert "PUBLIC IP (public bastion subnet)" in text
    assert "CodeBuild image copies (the one path" not in text  # not the one path any more
    assert f"imported key {LOG_KEY.rsplit('/', 1)[1][:8]}…" in text


def test_diagram_without_sample_app_fargate_logging_or_bastion_has_no_copy_path(bare_platform_app, tmp_path):
    text = drawn(bare_platform_app, tmp_path)
    assert not bare_platform_app.resources("Bare", "AWS::CodeBuild::Project")
    assert "no image copy: nothing is pulled from outside AWS at deploy" in text
    assert "• from the existing VPC: its routes are not in these templates" in text
    assert "• no repository created here" in text
    assert "Fargate pods' containers" not in text and "/fargate" not in text
    assert "EKS control plane, 5 log types" in text  # the control-plane log group stays
    assert "bastion" not in text.lower()


@pytest.mark.parametrize("config", ["user-stack", "existing-vpc"])
def test_diagram_names_the_copies_of_each_configuration(all_synths, config, tmp_path):
    synth = all_synths[config]
    text = drawn(synth, tmp_path)
    projects = [r for stack in synth.templates for r in synth.resources(stack, "AWS::CodeBuild::Project").values()]
    assert projects
    for project in projects:
        variables = env(project)
        assert f"{variables['SOURCE_IMAGE']} → ECR {variables['TARGET_REPOSITORY']}:{variables['TARGET_TAG']}" in text
    if config == "user-stack":
        assert "• registry.k8s.io: source of pause:3.10" in text
    assert "(the one path to the internet)" not in text  # an existing VPC's routes are not known here
