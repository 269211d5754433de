"""The change-plan engine on synthetic template pairs, one or more per rule (positive and negative cases); the change
matrix (test_app_changes.py) runs it on the platform's own templates."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from private_eks_fargate.review.changeplan import Change, moved_exports, plan, retained_resources, schema

SUBNET_ID = {"Ref": "Subnet"}


def tpl(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


def res(rtype: str, **props: Any) -> dict[str, Any]:
    return {"Type": rtype, "Properties": props}


def by_id(before: dict[str, Any], after: dict[str, Any], **kw: Any) -> dict[str, Change]:
    return {c.logical_id: c for c in plan(before, after, **kw)}


SUBNET = res("AWS::EC2::Subnet", VpcId="vpc-1", CidrBlock="10.0.0.0/24", AvailabilityZone="us-east-1a")
PROFILE = res("AWS::EKS::FargateProfile", ClusterName={"Ref": "Cluster"}, FargateProfileName="app",
              PodExecutionRoleArn="arn:aws:iam::1:role/x", Subnets=[SUBNET_ID],
              Selectors=[{"Namespace": "default"}])


def with_props(resource: dict[str, Any], **props: Any) -> dict[str, Any]:
    out = copy.deepcopy(resource)
    for key, value in props.items():
        if value is None:
            out["Properties"].pop(key, None)
        else:
            out["Properties"][key] = value
    return out


def test_add_remove_unchanged() -> None:
    got = by_id(tpl(A=SUBNET, B=SUBNET), tpl(B=SUBNET, C=SUBNET))
    assert [got[k].action for k in "ABC"] == ["remove", "unchanged", "add"]


def test_top_level_create_only_replaces_and_other_property_updates() -> None:
    assert by_id(tpl(S=SUBNET), tpl(S=with_props(SUBNET, CidrBlock="10.0.1.0/24")))["S"].action == "replace"
    upd = by_id(tpl(S=SUBNET), tpl(S=with_props(SUBNET, MapPublicIpOnLaunch=True)))["S"]
    assert (upd.action, upd.reasons) == ("update", ("MapPublicIpOnLaunch",))


def test_missing_vs_present_counts_as_change() -> None:
    got = by_id(tpl(S=with_props(SUBNET, AvailabilityZone=None)), tpl(S=SUBNET))["S"]
    assert (got.action, got.reasons) == ("replace", ("AvailabilityZone",))


def test_nested_create_only_path_compared_exactly() -> None:
    cluster = res("AWS::EKS::Cluster", RoleArn="r", ResourcesVpcConfig={"SubnetIds": ["a"]},
                  KubernetesNetworkConfig={"ServiceIpv4Cidr": "10.100.0.0/16"})
    cidr = with_props(cluster, KubernetesNetworkConfig={"ServiceIpv4Cidr": "10.200.0.0/16"})
    got = by_id(tpl(C=cluster), tpl(C=cidr))["C"]
    assert (got.action, got.reasons) == ("replace", ("KubernetesNetworkConfig/ServiceIpv4Cidr",))
    # a sibling under the same top-level property that is not create-only: in place
    subnets = with_props(cluster, ResourcesVpcConfig={"SubnetIds": ["a", "b"]})
    assert by_id(tpl(C=cluster), tpl(C=subnets))["C"].action == "update"


def test_textual_only_changes_are_no_change() -> None:
    joined = with_props(SUBNET, CidrBlock={"Fn::Join": ["", ["10.0.0.", "0/24"]]},
                        AvailabilityZone={"Fn::Sub": "us-east-1a"})
    assert by_id(tpl(S=SUBNET), tpl(S=joined))["S"].action == "unchanged"
    short = res("AWS::EC2::SubnetRouteTableAssociation", SubnetId={"Fn::GetAtt": "S.SubnetId"}, RouteTableId="r")
    long = with_props(short, SubnetId={"Fn::GetAtt": ["S", "SubnetId"]})
    assert by_id(tpl(A=short), tpl(A=long))["A"].action == "unchanged"
    # a Ref that stays the same text is no change either; a Ref to another resource is
    assert by_id(tpl(A=short), tpl(A=with_props(short, SubnetId={"Ref": "T"})))["A"].action == "replace"


def test_get_azs_resolves_only_when_azs_given() -> None:
    agnostic = with_props(SUBNET, AvailabilityZone={"Fn::Select": [0, {"Fn::GetAZs": ""}]})
    assert by_id(tpl(S=agnostic), tpl(S=SUBNET))["S"].action == "replace"
    assert by_id(tpl(S=agnostic), tpl(S=SUBNET), azs=("us-east-1a", "us-east-1b"))["S"].action == "unchanged"
    assert by_id(tpl(S=agnostic), tpl(S=SUBNET), azs=("us-east-1b", "us-east-1a"))["S"].action == "replace"


def test_custom_resources_update_and_service_token_is_rejected_not_replaced() -> None:
    cr = res("Custom::Thing", ServiceToken="arn:fn:1", Size=1)
    upd = by_id(tpl(C=cr), tpl(C=with_props(cr, Size=2)))["C"]
    assert (upd.action, upd.reasons) == ("update", ("Size",)) and "handler" in upd.note
    token = by_id(tpl(C=cr), tpl(C=with_props(cr, ServiceToken="arn:fn:2")))["C"]
    assert (token.action, token.reasons) == ("update", ("ServiceToken",)) and "rejects" in token.note
    plain = res("AWS::CloudFormation::CustomResource", ServiceToken="arn:fn:1")
    assert by_id(tpl(C=plain), tpl(C=plain))["C"].action == "unchanged"


def test_type_without_schema_is_unknown_not_guessed() -> None:
    assert schema("AWS::Made::Up") is None
    made_up = res("AWS::Made::Up", Name="a")
    got = by_id(tpl(X=made_up), tpl(X=with_props(made_up, Name="b")))["X"]
    assert (got.action, got.reasons) == ("unknown", ("Name",))
    assert by_id(tpl(X=made_up), tpl(X=made_up))["X"].action == "unchanged"


def test_type_change_replaces_and_resource_keys_update_but_metadata_does_not() -> None:
    assert by_id(tpl(S=SUBNET), tpl(S={**SUBNET, "Type": "AWS::EC2::VPC"}))["S"].action == "replace"
    dep = by_id(tpl(S=SUBNET), tpl(S={**SUBNET, "DependsOn": ["X"]}))["S"]
    assert (dep.action, dep.reasons) == ("update", ("DependsOn",))
    assert by_id(tpl(S=SUBNET), tpl(S={**SUBNET, "Metadata": {"aws:cdk:path": "x"}}))["S"].action == "unchanged"


def test_replacement_propagates_through_ref_to_create_only_and_chains() -> None:
    assoc = res("AWS::EC2::SubnetRouteTableAssociation", SubnetId=SUBNET_ID, RouteTableId="rtb-1")
    endpoint = res("AWS::EC2::VPCEndpoint", VpcId="vpc-1", ServiceName="s3", SubnetIds=[SUBNET_ID])
    profile = with_props(PROFILE, PodExecutionRoleArn={"Fn::GetAtt": ["Assoc", "Id"]}, FargateProfileName=None)
    before = tpl(Subnet=SUBNET, Assoc=assoc, Endpoint=endpoint, Profile=profile)
    after = tpl(Subnet=with_props(SUBNET, CidrBlock="10.0.9.0/24"), Assoc=assoc, Endpoint=endpoint, Profile=profile)
    got = by_id(before, after)
    assert got["Subnet"].action == "replace"
    assert (got["Assoc"].action, got["Assoc"].reasons) == ("may_replace", ("SubnetId",))
    assert got["Endpoint"].action == "update"  # SubnetIds is not create-only: the new id is set in place
    assert got["Profile"].action == "may_replace"  # via Assoc.Id, a read-only (regenerated) attribute


def test_getatt_of_an_unchanged_writable_property_survives_replacement() -> None:
    user = res("AWS::EC2::SubnetRouteTableAssociation", SubnetId={"Fn::GetAtt": ["Subnet", "VpcId"]},
               RouteTableId="rtb-1")
    before = tpl(Subnet=SUBNET, User=user)
    after = tpl(Subnet=with_props(SUBNET, CidrBlock="10.0.9.0/24"), User=user)
    assert by_id(before, after)["User"].action == "unchanged"


def test_collision_when_replaced_resource_keeps_its_custom_name() -> None:
    before = tpl(Profile=PROFILE)
    moved = by_id(before, tpl(Profile=with_props(PROFILE, Subnets=["subnet-2"])))["Profile"]
    assert (moved.action, moved.collision) == ("replace", True)
    renamed = with_props(PROFILE, Subnets=["subnet-2"], FargateProfileName="app-2")
    assert by_id(before, tpl(Profile=renamed))["Profile"].collision is False
    generated = with_props(PROFILE, FargateProfileName=None)
    assert by_id(tpl(P=generated), tpl(P=with_props(generated, Subnets=["s-2"])))["P"].collision is False


def test_collision_when_a_new_resource_takes_a_name_still_held_by_another() -> None:
    renamed = with_props(PROFILE, FargateProfileName="app-2", Selectors=[{"Namespace": "x"}])
    got = by_id(tpl(P0=PROFILE), tpl(P0=renamed, P1=PROFILE))
    assert (got["P1"].action, got["P1"].collision) == ("add", True)
    assert got["P0"].collision is False
    assert by_id(tpl(P0=PROFILE), tpl(P0=PROFILE, P1=with_props(PROFILE, FargateProfileName="new")))["P1"].collision \
        is False


def test_retained_resources_with_and_without_literal_names() -> None:
    group = {**res("AWS::Logs::LogGroup", LogGroupName="/x"), "DeletionPolicy": "Retain"}
    found = retained_resources(tpl(G=group, Deleted=res("AWS::Logs::LogGroup", LogGroupName="/y"),
                                   Generated={**res("AWS::Logs::LogGroup"), "DeletionPolicy": "Retain"},
                                   Reffed={**res("AWS::Logs::LogGroup", LogGroupName={"Ref": "G"}),
                                           "DeletionPolicy": "Retain"},
                                   Key={**res("AWS::KMS::Key", KeyPolicy={}), "DeletionPolicy": "Retain"}))
    assert [(r.logical_id, r.name, r.importable) for r in found] == [
        ("G", "/x", True), ("Generated", None, False), ("Reffed", None, False), ("Key", None, False)
    ]


def test_import_support_from_schema_handlers_and_identifiers() -> None:
    for rtype in ("AWS::Logs::LogGroup", "AWS::ECR::Repository", "AWS::EKS::FargateProfile", "AWS::KMS::Key"):
        assert {"read", "list"} <= set(schema(rtype)["handlers"])
    assert schema("AWS::KMS::Key")["primaryIdentifier"] == ["/properties/KeyId"]  # read-only: no auto-import


def test_moved_exports() -> None:
    before = {**tpl(Subnet=SUBNET), "Outputs": {"Out": {"Value": SUBNET_ID, "Export": {"Name": "n"}},
                                                "Local": {"Value": SUBNET_ID}}}
    after = {**before, "Resources": {"Subnet": with_props(SUBNET, CidrBlock="10.0.9.0/24")}}
    assert moved_exports(before, after, plan(before, after)) == ["Out"]
    assert moved_exports(before, before, plan(before, before)) == []


def test_cli(tmp_path: Path) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(tpl(Profile=PROFILE)))
    new.write_text(json.dumps(tpl(Profile=with_props(PROFILE, Subnets=["s-2"]))))
    run = subprocess.run([sys.executable, "-m", "private_eks_fargate.review.changeplan", str(old), str(new)],
                         capture_output=True, text=True, check=True)
    assert run.stdout.startswith("replace      Profile (AWS::EKS::FargateProfile) COLLISION Subnets")


def test_cli_without_cfn_lint_says_what_to_install_in_one_line(tmp_path: Path) -> None:
    """As after `make setup` alone: the runtime has no cfn-lint (a test tool), whose schemas the plan reads."""
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(tpl(Profile=PROFILE)))
    new.write_text(json.dumps(tpl(Profile=with_props(PROFILE, Subnets=["s-2"]))))
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import importlib.util\n_find = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name == 'cfnlint' else _find(name, *a)\n")
    env = {k: v for k, v in os.environ.items() if k != "CHANGEPLAN_SCHEMAS"} | {"PYTHONPATH": str(blocker)}
    run = subprocess.run([sys.executable, "-m", "private_eks_fargate.review.changeplan", str(old), str(new)],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.splitlines() == [
        "error: cfn-lint not found (its resource schemas say what replaces what): run make setup-test, or set "
        "CHANGEPLAN_SCHEMAS to a folder of AWS resource schemas"]


@pytest.mark.parametrize("rtype", ["AWS::EC2::Subnet", "AWS::EKS::FargateProfile", "AWS::Lambda::LayerVersion"])
def test_schema_lookup_has_create_only_properties(rtype: str) -> None:
    assert schema(rtype)["createOnlyProperties"]


def test_a_getatt_of_a_custom_resource_that_runs_again_may_change() -> None:
    """A custom resource's attributes are whatever its handler answers: an update may answer a new digest."""
    copy = res("Custom::Copy", ServiceToken="arn:fn:1", Image="a:1")
    user = res("Custom::Apply", ServiceToken="arn:fn:2", Manifest={"Fn::GetAtt": ["Copy", "Digest"]})
    got = by_id(tpl(Copy=copy, User=user), tpl(Copy=with_props(copy, Image="a:2"), User=user))
    assert (got["Copy"].action, got["User"].action) == ("update", "update")
    assert "Copy" in got["User"].note
    # a Ref is the physical id, not an answer of the handler: no propagation from an in-place update
    by_ref = res("Custom::Apply", ServiceToken="arn:fn:2", Manifest={"Ref": "Copy"})
    assert by_id(tpl(Copy=copy, User=by_ref), tpl(Copy=with_props(copy, Image="a:2"), User=by_ref))["User"].action \
        == "unchanged"
