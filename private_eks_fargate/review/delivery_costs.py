"""What the delivery pipeline costs a month: its fixed part counted from the pipeline stack's template (KMS keys, the
artifact bucket's lifecycle), its use from the number of releases and the minutes each takes (assumptions, stated
with the table; measure yours in CodePipeline's execution history and CodeBuild's build durations) and the size of
the cloud assembly, at list prices of one region.

``python -m private_eks_fargate.review.delivery_costs ASSEMBLY [--releases N] [--synth-minutes M] …`` prints the
table for a synthesized pipeline (docs/pipeline.md shows the example's, kept identical by a test).
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .approval import pipeline_record
from .assembly import load_review
from .costs import KMS_KEY_PER_MONTH, REGION, CostLine, cost_table_markdown

#: CodePipeline V2: per action execution minute, every action but manual approvals (100 free minutes a month per
#: account are not counted here)
ACTION_MINUTE = 0.002
#: CodeBuild on-demand, Linux, per build minute, by compute type
BUILD_MINUTE = {"BUILD_GENERAL1_SMALL": 0.005, "BUILD_GENERAL1_MEDIUM": 0.01, "BUILD_GENERAL1_LARGE": 0.02}
#: S3 Standard storage per GB-month
S3_GB_MONTH = 0.023
#: the execution's actions besides the builds: the source action
SOURCE_MINUTES = 1
DAYS_PER_MONTH = 365 / 12


@dataclass(frozen=True)
class Usage:
    """How the pipeline is used in a month (assumptions)."""

    releases: int = 20
    #: the synth step: set-up (pip, npm), the test suite, the synth and the scans
    synth_minutes: int = 20
    asset_minutes: int = 3
    #: each environment's CloudFormation actions (change sets prepared and executed); an update, not a first deploy
    deploy_minutes_per_stage: int = 15


def artifact_megabytes(assembly_dir: Path) -> float:
    """The cloud assembly zipped, as CodePipeline stores the synth step's output artifact."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(Path(assembly_dir).rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(assembly_dir))
    return buffer.tell() / 2**20


def cost_lines(assembly_dir: Path, usage: Usage = Usage()) -> list[CostLine]:
    review = load_review(Path(assembly_dir))
    found = pipeline_record(review)
    if found is None:
        raise ValueError(f"{assembly_dir} holds no pipeline stack")
    stack, record = found
    projects = {lid: r["Properties"] for lid, r in stack.resources.items() if r["Type"] == "AWS::CodeBuild::Project"}
    synth = next(p for p in projects.values() if "Synth" in str(p.get("Description", "")))
    assets = [p for p in projects.values() if p is not synth]
    stages = len(record["stages"])
    action_minutes = SOURCE_MINUTES + usage.synth_minutes + usage.asset_minutes + stages * usage.deploy_minutes_per_stage
    synth_type = synth["Environment"]["ComputeType"]
    asset_type = assets[0]["Environment"]["ComputeType"] if assets else "BUILD_GENERAL1_SMALL"
    keys = sum(1 for r in stack.resources.values() if r["Type"] == "AWS::KMS::Key")
    (pipeline,) = [r["Properties"] for r in stack.resources.values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    bucket = stack.resources[pipeline["ArtifactStore"]["Location"]["Ref"]]["Properties"]
    kept_days = min(rule["ExpirationInDays"] for rule in bucket["LifecycleConfiguration"]["Rules"])
    months = kept_days / DAYS_PER_MONTH
    stored_gb = artifact_megabytes(assembly_dir) * usage.releases * months / 1024
    per = f"{usage.releases} releases"
    return [
        CostLine("CodePipeline V2 action minutes", f"${ACTION_MINUTE}/action minute (approvals free)",
                 f"{action_minutes} min × {per}", action_minutes * usage.releases * ACTION_MINUTE),
        CostLine(f"CodeBuild synth step ({synth_type.split('_')[-1].lower()})", f"${BUILD_MINUTE[synth_type]}/build minute",
                 f"{usage.synth_minutes} min × {per}", usage.synth_minutes * usage.releases * BUILD_MINUTE[synth_type]),
        CostLine(f"CodeBuild asset publishing ({asset_type.split('_')[-1].lower()})", f"${BUILD_MINUTE[asset_type]}/build minute",
                 f"{usage.asset_minutes} min × {per}", usage.asset_minutes * usage.releases * BUILD_MINUTE[asset_type]),
        CostLine("KMS keys (artifacts, build logs)", f"${KMS_KEY_PER_MONTH:.2f}/month per key", f"{keys}", keys * KMS_KEY_PER_MONTH),
        CostLine("S3 artifacts kept", f"${S3_GB_MONTH}/GB-month",
                 f"{stored_gb:.1f} GB (releases of {kept_days} days)", stored_gb * S3_GB_MONTH),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assembly", type=Path, help="a synthesized pipeline's cloud assembly (cdk.out)")
    defaults = Usage()
    for name in ("releases", "synth_minutes", "asset_minutes", "deploy_minutes_per_stage"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name))
    args = parser.parse_args(argv)
    usage = Usage(**{k: v for k, v in vars(args).items() if k != "assembly"})
    print(f"{REGION} list prices, {usage.releases} releases a month")
    print(cost_table_markdown(cost_lines(args.assembly, usage), total_label="total"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
