"""The change matrix: for each one-setting change, what CloudFormation would do to every resource (from the AWS resource
schemas' createOnlyProperties), checked against the rules a platform team lives by, and the README generated from it."""

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from private_eks_fargate.app.changes import (
    CHANGES,
    CHANGES_BEGIN,
    CHANGES_END,
    RETAINED_BEGIN,
    RETAINED_END,
    change_table,
    load,
    plans,
    retained_table,
)
from private_eks_fargate.review.changeplan import REPLACING, name_paths, normalize, schema, at

from conftest import ROOT, background_job


@background_job
def synthesized_matrix():
    """Every configuration of the matrix, in a subprocess (one jsii runtime, one app each, no compliance packs)."""
    outdir = Path(tempfile.mkdtemp(prefix="change-matrix-"))
    command = [sys.executable, "-m", "private_eks_fargate.app.changes", "--synth", str(outdir)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900), outdir


pytestmark = pytest.mark.background

PROTECTED = {"AWS::EKS::Cluster", "AWS::KMS::Key", "AWS::Logs::LogGroup", "AWS::ECR::Repository"}
PROFILES = {"Cluster/Cluster/CoreDnsProfile", "Cluster/Cluster/AppProfile0"}
BASTION = "Cluster/Operations/Bastion/Instance"

#: what each change replaces, by construct path (stack/...): reasoned from the resource schemas, not copied
SUBNETS = {f"Network/Network/Vpc/clusterSubnet{n}/{part}" for n in (1, 2) for part in ("Subnet", "RouteTableAssociation")}
EXPECTED_REPLACED = {
    # a profile's Subnets are create-only: both profiles move to the new subnet list, under new names
    "az-count": PROFILES,
    # AvailabilityZone -> AvailabilityZoneId is a create-only change: new subnets, which CloudFormation cannot make
    # (their CIDR blocks are held by the old ones, whose ids other stacks import): see REFUSED
    "zones-by-id": SUBNETS,
    "existing-subnets": PROFILES,
    # a new profile is added; nothing existing moves
    "new-namespace": set(),
    # Selectors are create-only; the sample app's namespace then gets a whole-namespace profile of its own (added)
    "profile-labels": {"Cluster/Cluster/AppProfile0"},
    # a new tag is a new image: the copy and the Deployment update, and the wait runs again
    "sample-image": set(),
    # the kubectl layer's Content is create-only: a new layer version, the handler updated to it
    "kubernetes-upgrade": {"Cluster/Cluster/KubectlLayer"},
    # SubnetId is create-only: the bastion moves to the public subnet
    "bastion-public": {BASTION},
    "bastion-on": set(),
    "logging-off": set(),
    "log-retention": set(),
    "strict-perimeter": set(),
    "extra-endpoint": set(),
    "admin-principal": set(),
    "tags": set(),
    "production": set(),
}
#: changes CloudFormation refuses: the resources whose replacement cannot be created (a value they hold uniquely is
#: still held by the resource they replace); the exports of those resources' ids, which other stacks import, fail too
REFUSED = {"zones-by-id": {"Network/Network/Vpc/clusterSubnet1/Subnet", "Network/Network/Vpc/clusterSubnet2/Subnet"}}
#: resources that get a new logical id (removed and added): the bastion's id carries a hash of its boot script
RECREATED = {"kubernetes-upgrade": {BASTION}}
#: retained resources a change takes out of the stack: they stay in the account with their data
RETAINED_REMOVED = {"logging-off": {"Cluster/Operations/FargateLogging/Key", "Cluster/Operations/FargateLogging/LogGroup"}}


@pytest.fixture(scope="module")
def change_matrix():
    """Every configuration of the change matrix, by name (``app.changes.configurations()``)."""
    result, outdir = synthesized_matrix.result()
    assert result.returncode == 0, result.stderr[-3000:]
    return load(outdir)


@pytest.fixture(scope="module")
def matrix(change_matrix):
    return plans(change_matrix)


def _labels(stage, *actions):
    return {label for label, _ in stage.with_action(*actions)}


def test_the_matrix_has_the_changes_a_platform_team_makes():
    assert len(CHANGES) >= 14 and set(EXPECTED_REPLACED) == {c.name for c in CHANGES}
    assert {c.setting for c in CHANGES} >= {
        "network.az_count", "network.existing_subnet_ids", "cluster.app_profiles", "workloads.sample_image",
        "cluster.kubernetes_version", "operations.bastion_subnet", "operations.bastion", "operations.fargate_logging",
        "compliance.log_retention_days", "compliance.strict_data_perimeter", "endpoints.extra_services",
        "operations.admin_principal_arns", "compliance.tags", "compliance.production",
    }


@pytest.mark.parametrize("name", sorted(EXPECTED_REPLACED))
def test_each_change_replaces_exactly_the_expected_resources(matrix, name):
    stage = matrix[name]
    assert stage.changes()
    assert _labels(stage, *REPLACING) == EXPECTED_REPLACED[name]
    assert _labels(stage, "remove") & _labels(stage, "add") == RECREATED.get(name, set())


@pytest.mark.parametrize("name", sorted(EXPECTED_REPLACED))
def test_no_change_replaces_the_cluster_or_loses_keys_logs_or_images(matrix, change_matrix, name):
    stage = matrix[name]
    change = next(c for c in CHANGES if c.name == name)
    before = {s.path: s.template for s in change_matrix[f"base-{change.base}"]}
    touched = [(stack, c) for stack, c in stage.changes() if c.type in PROTECTED and c.action in (*REPLACING, "remove")]
    removed = {stage.labels[stack, c.logical_id] for stack, c in touched}
    assert removed == RETAINED_REMOVED.get(name, set())
    lost = [c.logical_id for stack, c in touched
            if c.action != "remove" or before[stack]["Resources"][c.logical_id].get("DeletionPolicy") != "Retain"]
    assert lost == []


@pytest.mark.parametrize("name", sorted(EXPECTED_REPLACED))
def test_every_replaced_or_added_resource_with_a_custom_name_gets_a_name_not_in_use(matrix, change_matrix, name):
    stage = matrix[name]
    change = next(c for c in CHANGES if c.name == name)
    before = {s.path: s.template for s in change_matrix[f"base-{change.base}"]}
    after = {s.path: s.template for s in change_matrix[name]}
    collisions = {stage.labels[stack, c.logical_id] for stack, c in stage.changes() if c.collision}
    assert collisions == REFUSED.get(name, set())
    replaced = [(stack, c) for stack, c in stage.changes() if c.action in REPLACING and not c.collision]
    assert len(replaced) + len(collisions) == len(EXPECTED_REPLACED[name])
    for stack, c in replaced:
        paths = name_paths(schema(c.type))
        old, new = (normalize(t[stack]["Resources"][c.logical_id]["Properties"]) for t in (before, after))
        if paths and all(isinstance(at(new, p), str) for p in paths):
            assert [at(old, p) for p in paths] != [at(new, p) for p in paths], c.logical_id


@pytest.mark.parametrize("name", sorted(EXPECTED_REPLACED))
def test_no_change_needs_what_cloudformation_refuses(matrix, change_matrix, name):
    """No export another stack imports changes value, no custom resource's ServiceToken changes, every type known."""
    stage = matrix[name]
    assert stage.changes()
    change = next(c for c in CHANGES if c.name == name)
    refused = {(stack, c.logical_id) for stack, c in stage.changes() if stage.labels[stack, c.logical_id] in REFUSED.get(name, ())}
    assert len(refused) == len(REFUSED.get(name, ()))
    before = {s.path: s.template for s in change_matrix[f"base-{change.base}"]}
    their_exports = {
        output for stack, lid in refused for output, value in before[stack].get("Outputs", {}).items()
        if "Export" in value and value["Value"] == {"Ref": lid}
    }
    assert len(their_exports) == len(refused)
    assert {export for names in stage.exports.values() for export in names} == their_exports
    assert [c.logical_id for _, c in stage.changes() if "rejects" in c.note or c.action == "unknown"] == []


def test_the_kubernetes_upgrade_updates_cluster_coredns_and_waits_in_place(matrix):
    stage = matrix["kubernetes-upgrade"]
    updated = {c.type: c.reasons for _, c in stage.with_action("update")}
    assert updated["AWS::EKS::Cluster"] == ("Version",)
    assert updated["AWS::EKS::Addon"] == ("AddonVersion",)  # CoreDNS to the version EKS lists for 1.36
    waits = {label for label, c in stage.with_action("update") if c.type == "Custom::AWSCDK-EKS-KubernetesObjectValue"}
    assert waits == {"Cluster/Cluster/CoreDns/Ready"}  # the rollout wait runs again after the add-on update
    assert "Cluster/Cluster/Cluster/KubectlProvider/Handler" in {label for label, _ in stage.with_action("update")}


def test_a_new_image_updates_the_copy_the_deployment_and_reruns_its_wait(matrix):
    stage = matrix["sample-image"]
    assert {label for label, _ in stage.with_action("update")} >= {
        "Cluster/Cluster/SampleApp/Image0/Done", "Cluster/Cluster/SampleApp/Manifest", "Cluster/Cluster/SampleApp/Ready",
    }


def test_production_turns_on_termination_protection_and_changes_no_resource(matrix):
    stage = matrix["production"]
    assert stage.protection_changes() == ["on (Dev/Network)", "on (Dev/Endpoints)", "on (Dev/Cluster)"]
    assert [c for _, c in stage.changes() if c.action != "unchanged"] == []


def _readme_section(begin, end):
    readme = (ROOT / "README.md").read_text()
    assert readme.count(begin) == 1 and readme.count(end) == 1
    return readme.split(begin)[1].split(end)[0].strip()


def test_readme_change_table_is_the_rendered_one(matrix):
    assert _readme_section(CHANGES_BEGIN, CHANGES_END) == change_table(matrix), "run: make docs"


def test_readme_destroy_section_lists_exactly_what_the_templates_retain(change_matrix):
    table = retained_table(change_matrix["base-default"])
    assert _readme_section(RETAINED_BEGIN, RETAINED_END) == table, "run: make docs"
    assert "`/aws/eks/DevCluster-BAA1FB0D/cluster`" in table and "`/aws/eks/DevCluster-BAA1FB0D/fargate`" in table
    assert "`devcluster-baa1fb0d/sample-app`" in table
