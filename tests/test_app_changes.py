"""The change matrix: for each one-setting change, what CloudFormation would do to every resource (from the AWS resource
schemas' createOnlyProperties), checked against the rules a platform team lives by, and the docs' tables generated from it."""

import subprocess
import sys
from pathlib import Path

import pytest
from private_eks_fargate.app.changes import (
    CHANGES,
    CHANGES_BEGIN,
    CHANGES_END,
    DEPLOYED_NAME,
    RETAINED_BEGIN,
    RETAINED_END,
    change_table,
    load,
    plans,
    pod_restarts,
    refusals,
    retained_table,
)
from private_eks_fargate.review.changeplan import REPLACING, name_paths, normalize, schema, at

from conftest import ROOT, background_job, scratch


@background_job
def synthesized_matrix():
    """Every configuration of the matrix, in a subprocess (one jsii runtime, one app each, no compliance packs)."""
    outdir = scratch("change-matrix-")
    command = [sys.executable, "-m", "private_eks_fargate.app.changes", "--synth", str(outdir)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900), outdir


pytestmark = pytest.mark.background

PROTECTED = {"AWS::EKS::Cluster", "AWS::KMS::Key", "AWS::Logs::LogGroup", "AWS::ECR::Repository"}
PROFILES = {"Cluster/Cluster/CoreDnsProfile", "Cluster/Cluster/AppProfile-custom-space"}
BASTION = "Cluster/Operations/Bastion/Instance"
#: what a new cluster replaces: everything named after it or pointing at it with a create-only property
NEW_CLUSTER = {
    "Cluster/Cluster/Cluster", "Cluster/Cluster/ControlPlaneLogs", "Cluster/Operations/FargateLogging/LogGroup",
    "Cluster/Cluster/SampleApp/Image0/Repository", "Cluster/Cluster/Cluster/OidcProviderNative", *PROFILES,
    "Cluster/Cluster/CoreDns/Addon", "Cluster/Cluster/Cluster/BastionAccess", "Cluster/Cluster/Cluster/ClusterAdminRoleAccess",
    "Cluster/Cluster/KubectlToApiServer",
    "Cluster/Cluster/Cluster/ClusterSecurityGroup/from DevClusterOperationsBastionSecurityGroupB0D7E119:443",
}

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
    # a labelled profile for custom-space is added (keyed by its labels); the sample app still needs the whole
    # namespace, and the profile it ensures has the id the configured one had: nothing is replaced
    "profile-labels": set(),
    # profiles are keyed and chained by what they select: the order of the list is not in the template
    "profiles-reordered": set(),
    # the removed profile goes (its namespace stays, retained); the chain closes over it, nothing is replaced
    "profile-removed": set(),
    # a new cluster, intended: the cluster and everything named after it or tied to it by a create-only property
    "cluster-name-intended": NEW_CLUSTER,
    # the upgrade policy updates in place
    "support-extended": set(),
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
#: protected resources a change replaces on purpose: the old ones stay (UpdateReplacePolicy Retain), with their data
RETAINED_REPLACED = {
    "cluster-name-intended": {"Cluster/Cluster/ControlPlaneLogs", "Cluster/Operations/FargateLogging/LogGroup",
                              "Cluster/Cluster/SampleApp/Image0/Repository"},
}
INTENDED_NEW_CLUSTER = {"cluster-name-intended": {"Cluster/Cluster/Cluster"}}
#: changes synth refuses, with the line the user gets
EXPECTED_REFUSED = {
    "cluster-name": (
        f"error: cluster.name: 'payments-cluster' is not the deployed cluster '{DEPLOYED_NAME}' (cluster.deployed_name): a "
        "new name replaces the cluster, its pods, log groups, image repository and IRSA OIDC provider; keep the name, or set "
        "cluster.replace_deployed_cluster=true if a new cluster is intended"
    ),
}
#: whose pods a change restarts (the selectors of the Fargate profiles it replaces or removes)
COREDNS_PODS, SAMPLE_PODS = "kube-system (k8s-app=kube-dns)", "custom-space"
EXPECTED_RESTARTS = {
    "az-count": [SAMPLE_PODS, COREDNS_PODS],
    "existing-subnets": [SAMPLE_PODS, COREDNS_PODS],
    "profile-removed": ["payments (profile removed)"],
    "cluster-name-intended": [SAMPLE_PODS, COREDNS_PODS],
}


@pytest.fixture(scope="module")
def change_matrix():
    """Every configuration of the change matrix that synthesizes, by name (``app.changes.configurations()``)."""
    result, outdir = synthesized_matrix.result()
    assert result.returncode == 0, result.stderr[-3000:]
    return load(outdir)


@pytest.fixture(scope="module")
def refused():
    """The configurations synth refused, with the line it printed."""
    return refusals(synthesized_matrix.result()[1])


@pytest.fixture(scope="module")
def matrix(change_matrix):
    return plans(change_matrix)


def _labels(stage, *actions):
    return {label for label, _ in stage.with_action(*actions)}


def test_the_matrix_has_the_changes_a_platform_team_makes():
    assert len(CHANGES) >= 20 and set(EXPECTED_REPLACED) | set(EXPECTED_REFUSED) == {c.name for c in CHANGES}
    assert not set(EXPECTED_REPLACED) & set(EXPECTED_REFUSED)
    assert {c.setting for c in CHANGES} >= {
        "network.az_count", "network.existing_subnet_ids", "cluster.app_profiles", "workloads.sample_image",
        "cluster.kubernetes_version", "operations.bastion_subnet", "operations.bastion", "operations.fargate_logging",
        "compliance.log_retention_days", "compliance.strict_data_perimeter", "endpoints.extra_services",
        "operations.admin_principal_arns", "compliance.tags", "compliance.production", "cluster.name", "cluster.support_type",
    }


def test_a_refused_change_stops_synth_with_one_line_and_nothing_else(change_matrix, refused, matrix):
    assert refused == EXPECTED_REFUSED
    assert not set(refused) & (set(change_matrix) | set(matrix))


@pytest.mark.parametrize("name", sorted(EXPECTED_REPLACED))
def test_each_change_replaces_exactly_the_expected_resources(matrix, name):
    stage = matrix[name]
    assert stage.changes()
    assert _labels(stage, *REPLACING) == EXPECTED_REPLACED[name]
    assert _labels(stage, "remove") & _labels(stage, "add") == RECREATED.get(name, set())


@pytest.mark.parametrize("name", sorted(EXPECTED_REPLACED))
def test_no_change_replaces_the_cluster_or_loses_keys_logs_or_images(matrix, change_matrix, name):
    """Only a new cluster, asked for, replaces the cluster; a replaced or removed key, log group or repository stays in
    the account with its data (UpdateReplacePolicy / DeletionPolicy Retain)."""
    stage = matrix[name]
    change = next(c for c in CHANGES if c.name == name)
    before = {s.path: s.template for s in change_matrix[f"base-{change.base}"]}
    touched = [(stack, c) for stack, c in stage.changes() if c.type in PROTECTED and c.action in (*REPLACING, "remove")]
    by_action = {action: {stage.labels[stack, c.logical_id] for stack, c in touched if (c.action == "remove") == (action == "remove")}
                 for action in ("remove", "replace")}
    assert by_action["remove"] == RETAINED_REMOVED.get(name, set())
    assert by_action["replace"] == RETAINED_REPLACED.get(name, set()) | INTENDED_NEW_CLUSTER.get(name, set())
    policy = {"remove": "DeletionPolicy", "replace": "UpdateReplacePolicy"}
    lost = [c.logical_id for stack, c in touched if c.type != "AWS::EKS::Cluster"
            and before[stack]["Resources"][c.logical_id].get(policy["remove" if c.action == "remove" else "replace"]) != "Retain"]
    assert lost == []


@pytest.mark.parametrize("name", sorted(EXPECTED_REPLACED))
def test_the_pods_a_change_restarts_are_named(matrix, change_matrix, name):
    change = next(c for c in CHANGES if c.name == name)
    assert pod_restarts(change_matrix[f"base-{change.base}"], matrix[name]) == EXPECTED_RESTARTS.get(name, [])


def test_a_replaced_profile_rolls_coredns_and_the_sample_app_onto_its_replacement(matrix):
    """The pin patch and the sample Deployment name the new profile, so both roll while the old profile still exists,
    and their waits run again with the new name in their revision; the old profile is deleted in the clean-up."""
    for name in ("az-count", "existing-subnets"):
        updated = _labels(matrix[name], "update")
        assert {"Cluster/Cluster/CoreDns/ProfilePin", "Cluster/Cluster/CoreDns/Ready", "Cluster/Cluster/SampleApp/Manifest",
                "Cluster/Cluster/SampleApp/Ready"} <= updated, name


def test_reordering_profiles_changes_nothing_and_removing_one_touches_no_other(matrix):
    assert [c for _, c in matrix["profiles-reordered"].changes() if c.action != "unchanged"] == []
    stage = matrix["profile-removed"]
    assert _labels(stage, "remove") == {"Cluster/Cluster/AppProfile-payments", "Cluster/Cluster/Cluster/manifest-Namespace-payments"}
    # the chain is ordered by selector (batch, custom-space, payments): the last link goes, nothing else changes (a
    # link in the middle would leave the next profile a new DependsOn, no property of its own)
    assert stage.with_action("update") == []


def test_the_extended_upgrade_policy_updates_the_cluster_and_shows_its_price(matrix, change_matrix):
    from private_eks_fargate.review.costs import cost_lines, total

    assert [(c.type, c.reasons) for _, c in matrix["support-extended"].with_action("update")] == [("AWS::EKS::Cluster", ("UpgradePolicy",))]
    templates = [s.template for s in change_matrix["support-extended"]]
    lines = cost_lines(templates)
    (later,) = [line for line in lines if line.later]
    assert round(later.monthly, 2) == 365.00 and total(lines) == total(cost_lines([s.template for s in change_matrix["base-default"]]))


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


def test_production_turns_on_termination_and_cluster_deletion_protection_in_place(matrix):
    stage = matrix["production"]
    assert stage.protection_changes() == ["on (Dev/Network)", "on (Dev/Endpoints)", "on (Dev/Cluster)"]
    assert [(c.type, c.action, c.reasons) for _, c in stage.changes() if c.action != "unchanged"] == [
        ("AWS::EKS::Cluster", "update", ("DeletionProtection",))]


def _docs_section(page, begin, end):
    text = (ROOT / "docs" / page).read_text()
    assert text.count(begin) == 1 and text.count(end) == 1
    return text.split(begin)[1].split(end)[0].strip()


def test_the_docs_change_table_is_the_rendered_one(change_matrix, refused, matrix):
    table = change_table(change_matrix, refused, matrix)
    assert _docs_section("day-2.md", CHANGES_BEGIN, CHANGES_END) == table, "run: make docs"
    assert f"refused at synth: `{EXPECTED_REFUSED['cluster-name']}`" in table
    assert "| kube-system (k8s-app=kube-dns) |" not in table and f"| {SAMPLE_PODS}, {COREDNS_PODS} |" in table


def test_the_docs_destroy_table_lists_exactly_what_the_templates_retain(change_matrix):
    table = retained_table(change_matrix["base-default"])
    assert _docs_section("operations.md", RETAINED_BEGIN, RETAINED_END) == table, "run: make docs"
    assert "`/aws/eks/DevCluster-BAA1FB0D/cluster`" in table and "`/aws/eks/DevCluster-BAA1FB0D/fargate`" in table
    assert "`devcluster-baa1fb0d/sample-app`" in table
    assert "KubernetesResource" not in table  # a retained namespace goes with the cluster: nothing stays


def test_no_key_a_kept_resource_uses_is_offered_for_deletion(change_matrix):
    """After destroy and redeploy, the adopted log groups and repository keep the keys they were created with (adoption
    does not re-encrypt): the table says so on each such key, from the templates, and offers only unused keys."""
    table = retained_table(change_matrix["base-default"])
    rows = {tuple(line.split(" | ")[:2]): line for line in table.splitlines()[2:]}
    in_use = {
        ("| Dev/Cluster", "Operations/FargateLogging/Key (KMS::Key)"): "`/aws/eks/DevCluster-BAA1FB0D/fargate` (adopted)",
        ("| Dev/Cluster", "WorkloadImagesKey (KMS::Key)"): "`devcluster-baa1fb0d/sample-app` (adopted)",
        ("| Dev/Cluster", "LogsKey (KMS::Key)"): "`/aws/eks/DevCluster-BAA1FB0D/cluster` (adopted)",
        ("| Dev/Network", "LogsKey (KMS::Key)"): "Network/FlowLogs",
    }
    assert set(in_use) <= set(rows)
    for row, user in in_use.items():
        assert user in rows[row] and "keep it while these exist" in rows[row], row
    unused = sorted(resource for (_, resource), line in rows.items() if "no kept resource uses this one" in line)
    assert unused == ["Cluster/SecretsKey (KMS::Key)", "Operations/Bastion/VolumeKey (KMS::Key)"]
    adopted = [line for line in rows.values() if "adopted as it is" in line]
    assert len(adopted) == 3 and all("still encrypted with the old" in line for line in adopted)
