"""The change matrix: one-setting changes a platform team makes over the years, each synthesized before and after,
with what CloudFormation would do to every resource (``review.changeplan``, from the AWS resource schemas).

``python -m private_eks_fargate.app.changes --synth DIR`` synthesizes every configuration into ``DIR/<name>/`` (the
test session does this in the background); ``--changes docs/day-2.md --retained docs/operations.md`` also renders
the change table and the destroy table between their markers. Each configuration is the app as ``cdk synth`` builds it from ``cdk.json``
plus ``-c`` overrides, without the compliance packs (they do not change templates).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..review.assembly import StackTemplate, load_stacks
from ..settings import ConfigError
from ..settings.docs import replace_between_markers
from ..review.changeplan import REPLACING, Change, StagePlan, is_custom, plan_stage, references, retained_resources

#: The account's first zones, as ``Fn::GetAZs`` returns them where the stage runs today (us-east-1 in the
#: examples): an environment-agnostic stage picks its subnets' zones with ``Fn::Select [i, Fn::GetAZs]``.
ACCOUNT_AZS = ("us-east-1a", "us-east-1b", "us-east-1c")
EXISTING_SUBNETS = ("subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2", "subnet-0ccccccccccccccc3")
EXISTING_VPC = {
    "network.existing_vpc_id": "vpc-0a1b2c3d4e5f60718",
    "network.existing_vpc_cidr": "10.20.0.0/16",
    "network.existing_subnet_ids": ",".join(EXISTING_SUBNETS),
    "network.existing_availability_zones": ",".join(ACCOUNT_AZS),
    "network.existing_route_table_ids": "rtb-0aaaaaaaaaaaaaaa1,rtb-0bbbbbbbbbbbbbbb2,rtb-0ccccccccccccccc3",
}
PREVIOUS_KUBERNETES = "1.35"
#: the default stage's cluster name (derived from the stage and construct path), as recorded after its first deploy
DEPLOYED_NAME = "DevCluster-BAA1FB0D"

#: Configurations a change starts from: the app as cdk.json has it, and three others a matrix entry needs.
BASES: dict[str, dict[str, Any]] = {
    "default": {},
    "existing-vpc": EXISTING_VPC,
    "kubernetes-previous": {
        "cluster.kubernetes_version": PREVIOUS_KUBERNETES,
        "cluster.deployed_kubernetes_version": PREVIOUS_KUBERNETES,
    },
    "no-bastion": {"operations.bastion": "false"},
    # a stage deployed before zone IDs, kept where it is by placing its subnets by name
    "by-name": {"network.zones_by_name": "true"},
    "three-profiles": {"cluster.app_profiles": json.dumps([{"namespace": n} for n in ("payments", "custom-space", "batch")])},
    "deployed-name": {"cluster.deployed_name": DEPLOYED_NAME},
}


@dataclass(frozen=True)
class SettingChange:
    """One setting changed from a base configuration, as the user would type it (``-c key=value``)."""

    name: str
    setting: str
    change: str
    overrides: Mapping[str, Any]
    base: str = "default"
    #: values that must come along with the setting (e.g. zone names for more zones), not a second change
    with_: Mapping[str, Any] = field(default_factory=dict)

    @property
    def context(self) -> dict[str, Any]:
        return {**BASES[self.base], **self.with_, **self.overrides}


CHANGES: tuple[SettingChange, ...] = (
    SettingChange("az-count", "network.az_count", "2 → 3 (each region's first three zone IDs)", {"network.az_count": "3"}),
    SettingChange(
        "zones-by-id", "network.zones_by_name", "true → false (a stage deployed before zone IDs moves to them)",
        {"network.zones_by_name": "false"}, base="by-name",
    ),
    SettingChange(
        "existing-subnets", "network.existing_subnet_ids", "one subnet of an existing VPC swapped for another",
        {"network.existing_subnet_ids": ",".join((*EXISTING_SUBNETS[:2], "subnet-0ddddddddddddddd4"))}, base="existing-vpc",
    ),
    SettingChange(
        "new-namespace", "cluster.app_profiles", "a second application namespace (payments)",
        {"cluster.app_profiles": json.dumps([{"namespace": "custom-space"}, {"namespace": "payments"}])},
    ),
    SettingChange(
        "profile-labels", "cluster.app_profiles", "labels on the custom-space profile (tier=web)",
        {"cluster.app_profiles": json.dumps([{"namespace": "custom-space", "labels": {"tier": "web"}}])},
    ),
    SettingChange(
        "profiles-reordered", "cluster.app_profiles", "payments, custom-space, batch → batch, custom-space, payments",
        {"cluster.app_profiles": json.dumps([{"namespace": n} for n in ("batch", "custom-space", "payments")])},
        base="three-profiles",
    ),
    SettingChange(
        "profile-removed", "cluster.app_profiles", "the first of payments, custom-space, batch removed",
        {"cluster.app_profiles": json.dumps([{"namespace": n} for n in ("custom-space", "batch")])}, base="three-profiles",
    ),
    SettingChange(
        "cluster-name", "cluster.name", f"{DEPLOYED_NAME} → payments-cluster on a deployed stage",
        {"cluster.name": "payments-cluster"}, base="deployed-name",
    ),
    SettingChange(
        "cluster-name-intended", "cluster.name", "the same, with cluster.replace_deployed_cluster=true",
        {"cluster.name": "payments-cluster"}, base="deployed-name", with_={"cluster.replace_deployed_cluster": "true"},
    ),
    SettingChange(
        "support-extended", "cluster.support_type", "STANDARD → EXTENDED", {"cluster.support_type": "EXTENDED"}
    ),
    SettingChange(
        "sample-image", "workloads.sample_image", "nginx-unprivileged 1.28.0 → 1.29.1",
        {"workloads.sample_image": "public.ecr.aws/nginx/nginx-unprivileged:1.29.1"},
    ),
    SettingChange(
        "kubernetes-upgrade", "cluster.kubernetes_version", f"{PREVIOUS_KUBERNETES} → 1.36 (one minor version)",
        {"cluster.kubernetes_version": "1.36"}, base="kubernetes-previous",
    ),
    SettingChange(
        "bastion-public", "operations.bastion_subnet", "isolated → public", {"operations.bastion_subnet": "public"}
    ),
    SettingChange("bastion-on", "operations.bastion", "false → true", {"operations.bastion": "true"}, base="no-bastion"),
    SettingChange(
        "logging-off", "operations.fargate_logging", "true → false", {"operations.fargate_logging": "false"}
    ),
    SettingChange(
        "log-retention", "compliance.log_retention_days", "365 → 731", {"compliance.log_retention_days": "731"}
    ),
    SettingChange(
        "strict-perimeter", "compliance.strict_data_perimeter", "false → true",
        {"compliance.strict_data_perimeter": "true"},
    ),
    SettingChange(
        "extra-endpoint", "endpoints.extra_services", "+ secretsmanager", {"endpoints.extra_services": "secretsmanager"}
    ),
    SettingChange(
        "admin-principal", "operations.admin_principal_arns", "+ one IAM role",
        {"operations.admin_principal_arns": "arn:aws:iam::123456789012:role/PlatformAdmins"},
    ),
    SettingChange(
        "tags", "compliance.tags", "owner platform-team → team-b",
        {"compliance.tags": json.dumps({"owner": "team-b", "cost-center": "CC-0000", "data-classification": "internal"})},
    ),
    SettingChange("production", "compliance.production", "false → true", {"compliance.production": "true"}),
)


def configurations() -> dict[str, dict[str, Any]]:
    """Every configuration to synthesize: the bases and the changed ones (overrides of cdk.json's context)."""
    return {**{f"base-{name}": context for name, context in BASES.items()}, **{c.name: c.context for c in CHANGES}}


def synthesize(outdir: Path, cdk_json: Path = Path("cdk.json")) -> None:
    """Synthesize every configuration into ``outdir/<name>/``, one CDK app each in this process (one jsii runtime:
    after the first, a configuration takes well under a second)."""
    project_context = json.loads(cdk_json.read_text())["context"]
    for name, overrides in configurations().items():
        synthesize_configuration(outdir / name, {**project_context, **overrides})


def synthesize_configuration(outdir: Path, context: Mapping[str, Any]) -> None:
    """The stage `context` configures, synthesized into ``outdir`` without the compliance packs, or ``outdir/REFUSED``
    with the line synth stops with."""
    import aws_cdk as cdk  # noqa: PLC0415 (jsii starts only when something is synthesized)

    from .context import settings_from_context, stage_from_context
    from .stage import PrivateEksFargateStage

    # path metadata as the CDK CLI writes it, so a person reads construct paths instead of logical ids
    context = {**context, "aws:cdk:enable-path-metadata": True, "aws:cdk:disable-asset-staging": True}
    app = cdk.App(outdir=str(outdir), context=context)
    stage, env = stage_from_context(context)
    try:
        PrivateEksFargateStage(app, stage, settings=settings_from_context(context), env=env, compliance_checks=False)
    except ConfigError as error:  # the synth stops with this line: the change is refused, nothing is deployed
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / REFUSED_FILE).write_text(f"error: {error}")
        return
    app.synth()


REFUSED_FILE = "REFUSED"


def refusals(outdir: Path) -> dict[str, str]:
    """The configurations synth refused, with the one line the user sees."""
    return {name: (outdir / name / REFUSED_FILE).read_text() for name in configurations() if (outdir / name / REFUSED_FILE).exists()}


def load(outdir: Path) -> dict[str, list[StackTemplate]]:
    """The synthesized configurations, by name (the refused ones are absent)."""
    return {name: load_stacks(outdir / name) for name in configurations() if not (outdir / name / REFUSED_FILE).exists()}


def plans(synthesized: Mapping[str, list[StackTemplate]]) -> dict[str, StagePlan]:
    """The plan of every change in the matrix that synthesizes, by change name."""
    return {
        change.name: plan_stage(synthesized[f"base-{change.base}"], synthesized[change.name], azs=ACCOUNT_AZS)
        for change in CHANGES if change.name in synthesized
    }


def _selector(resource: Mapping[str, Any]) -> str:
    """A Fargate profile's selectors as a person reads them: ``namespace`` or ``namespace (key=value)``."""
    words = []
    for selector in resource["Properties"].get("Selectors", []):
        labels = ",".join(f"{label['Key']}={label['Value']}" for label in selector.get("Labels", []))
        words.append(f"{selector['Namespace']} ({labels})" if labels else selector["Namespace"])
    return ", ".join(words)


def pod_restarts(before: list[StackTemplate], stage: StagePlan) -> list[str]:
    """Whose pods a change restarts: EKS deletes every pod a Fargate profile scheduled when CloudFormation deletes
    the profile (replaced: after the new one exists; removed: the pods stay Pending unless another profile selects
    them). From the profiles' selectors in the deployed templates."""
    old = {s.path: s.template.get("Resources", {}) for s in before}
    restarted = []
    for stack, change in stage.changes():
        if change.type == "AWS::EKS::FargateProfile" and change.action in (*REPLACING, "remove"):
            selector = _selector(old[stack][change.logical_id])
            restarted.append(f"{selector} (profile removed)" if change.action == "remove" else selector)
    return restarted


# --- docs sections --------------------------------------------------------------------------------------------------

CHANGES_BEGIN, CHANGES_END = "<!-- change-table:begin -->", "<!-- change-table:end -->"
RETAINED_BEGIN, RETAINED_END = "<!-- retained-table:begin -->", "<!-- retained-table:end -->"


def _short(change: Change) -> str:
    return change.type.split("::", 1)[1].removeprefix("AWSCDK-EKS-")


def _listed(changes: list[tuple[str, Change]]) -> str:
    """Each resource by its construct path (the resources a person must know about)."""
    return ", ".join(f"{label.split('/', 1)[-1]} ({_short(change)})" for label, change in changes) or "—"


def _counted(changes: list[tuple[str, Change]]) -> str:
    """Resources counted by type (the long lists)."""
    counts: dict[str, int] = {}
    for _, change in changes:
        counts[_short(change)] = counts.get(_short(change), 0) + 1
    return ", ".join(f"{kind} ×{n}" if n > 1 else kind for kind, n in counts.items()) or "—"


def _removed(stage: StagePlan, before: list[StackTemplate]) -> str:
    """Removed resources counted by type; those CloudFormation retains (they stay, with their data) say so."""
    old = {s.path: s.template.get("Resources", {}) for s in before}
    gone: list[tuple[str, Change]] = []
    kept: list[tuple[str, Change]] = []
    for stack, change in stage.changes():
        if change.action == "remove":
            retained = old[stack][change.logical_id].get("DeletionPolicy") == "Retain"
            (kept if retained else gone).append((stage.labels[stack, change.logical_id], change))
    parts = ([_counted(gone)] if gone else []) + ([f"kept (retained): {_counted(kept)}"] if kept else [])
    return "; ".join(parts) or "—"


def change_table(synthesized: Mapping[str, list[StackTemplate]], refused: Mapping[str, str] | None = None,
                 matrix: Mapping[str, StagePlan] | None = None) -> str:
    """docs/day-2.md's "what changing each setting does on AWS" table: replaced resources by name (a replaced resource
    with a custom name always gets a new one), whose pods restart (replaced or removed Fargate profiles), the rest
    counted by type; a change synth refuses shows the line the user gets."""
    refused = refused or {}
    matrix = matrix if matrix is not None else plans(synthesized)
    lines = [
        "| setting | change | replaced | restarts the pods of | added | removed | updated in place |",
        "|---|---|---|---|---|---|---|",
    ]
    for change in CHANGES:
        if change.name in refused:
            lines.append(f"| `{change.setting}` | {change.change} | refused at synth: `{refused[change.name].strip()}` | — | — | — | — |")
            continue
        stage, before = matrix[change.name], synthesized[f"base-{change.base}"]
        in_place = [_counted(stage.with_action("update"))] if stage.with_action("update") else []
        in_place += [f"termination protection {state}" for state in stage.protection_changes()]
        lines.append(
            f"| `{change.setting}` | {change.change} | {_listed(stage.with_action(*REPLACING))}{_refused(stage)} | "
            f"{', '.join(pod_restarts(before, stage)) or '—'} | {_counted(stage.with_action('add'))} | "
            f"{_removed(stage, before)} | {'; '.join(in_place) or '—'} |"
        )
    return "\n".join(lines)


def _refused(stage: StagePlan) -> str:
    """What makes CloudFormation refuse the update: collisions and exports in use (nothing: an empty string)."""
    reasons = sorted({f"{c.held} still held" for _, c in stage.changes() if c.collision})
    exports = [name for names in stage.exports.values() for name in names]
    reasons += [f"{len(exports)} export(s) another stack imports would change"] if exports else []
    return f" — **CloudFormation refuses this update** ({'; '.join(reasons)})" if reasons else ""


def _keys_used(template: Mapping[str, Any], logical_id: str) -> list[str]:
    """The KMS keys of `template` that resource `logical_id` references (its encryption)."""
    resources = template.get("Resources", {})
    props = resources[logical_id].get("Properties", {})
    keys = {ref for ref, _ in references(props) if resources.get(ref, {}).get("Type") == "AWS::KMS::Key"}
    return sorted(keys)


def retained_table(stacks: list[StackTemplate]) -> str:
    """docs/operations.md's destroy table: what `cdk destroy` leaves in the account, the key each kept resource is encrypted
    with, and what the next deploy does with it. A key that a kept resource still uses (an adopted log group or
    repository keeps its key: adoption does not re-encrypt) says so, with the resources, so nobody deletes it."""
    lines = ["| stack | resource | name | encrypted with | next deploy of the same stage |", "|---|---|---|---|---|"]
    for stack in stacks:
        # a retained custom resource leaves nothing in the account: a Kubernetes object goes with its cluster
        items = [item for item in retained_resources(stack.template) if not is_custom(item.type)]
        label = {item.logical_id: item.label.split("/", 1)[-1] for item in items}
        used = {item.logical_id: _keys_used(stack.template, item.logical_id) for item in items}
        users: dict[str, list[str]] = {}
        for item in items:
            for key in used[item.logical_id]:
                users.setdefault(key, []).append(f"`{item.name}` (adopted)" if item.importable else label[item.logical_id])
        for item in items:
            keys = [label.get(key, key) for key in used[item.logical_id]]
            encrypted = ", ".join(keys) or "—"
            if item.type == "AWS::KMS::Key":
                kept = users.get(item.logical_id)
                then = (f"a new key is created; this one stays in use by {', '.join(kept)}: keep it while these exist"
                        if kept else "a new key is created; no kept resource uses this one: schedule its deletion when "
                        "nothing you kept elsewhere (exports, backups) needs it")
            elif item.name is None:
                then = "not touched: a new one is created next to it; delete it when no longer needed (its key: see the key's row)"
            elif item.importable:
                then = (f"adopted as it is (`cdk deploy --import-existing-resources`): its logs or images continue, still "
                        f"encrypted with the old {encrypted} (adoption does not re-encrypt)")
            else:
                then = "fails with \"already exists\" until it is deleted"
            name = f"`{item.name}`" if item.name else "generated"
            lines.append(f"| {stack.path} | {label[item.logical_id]} ({item.type.split('::', 1)[1]}) | {name} | {encrypted} | {then} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synth", type=Path, required=True, help="directory for the synthesized configurations")
    parser.add_argument("--changes", type=Path, help="rewrite the change table of this page (between its markers)")
    parser.add_argument("--retained", type=Path, help="rewrite the destroy table of this page (between its markers)")
    args = parser.parse_args(argv)
    synthesize(args.synth)
    synthesized = load(args.synth)
    if args.changes:
        table = change_table(synthesized, refusals(args.synth))
        args.changes.write_text(replace_between_markers(args.changes.read_text(), table, CHANGES_BEGIN, CHANGES_END))
    if args.retained:
        table = retained_table(synthesized["base-default"])
        args.retained.write_text(replace_between_markers(args.retained.read_text(), table, RETAINED_BEGIN, RETAINED_END))
    return 0


if __name__ == "__main__":
    sys.exit(main())
