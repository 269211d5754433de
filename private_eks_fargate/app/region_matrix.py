"""The region matrix: the app's configuration bound to each region of the aws and aws-us-gov partitions cfn-lint has
data for, synthesized there or refused with the one line a user gets; and docs/regions.md rendered from it.

``python -m private_eks_fargate.app.region_matrix --synth DIR`` writes ``DIR/bound/<region>/`` (a cloud assembly) or
``DIR/bound/<region>.refused`` (the line), and the environment-agnostic app with and without the sample application
(``DIR/agnostic/<name>/``); ``--write docs/regions.md`` also renders the supported-regions table between its markers.
The test session does this in the background and lints every template in the regions its Metadata names.
Each configuration is cdk.json's context plus overrides, without the compliance packs (they do not change templates).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from ..regions import (
    CFN_LINT_VERSION,
    CONSTRAINED_ZONE_IDS,
    EKS_REFUSED_ZONE_IDS,
    US_EAST_1_PRICES,
    ZONE_IDS,
    bastion_default,
    commercial_and_govcloud_regions,
    default_zone_ids,
    partition_of,
)
from ..review.assembly import admitted_by, load_stacks
from ..settings.docs import replace_between_markers

ACCOUNT = "123456789012"
#: a pinned AMI, so a bound stage needs no lookup (the AMI is region-specific on AWS; its id is not checked offline)
AMI = "ami-0123456789abcdef0"
AGNOSTIC: Mapping[str, Mapping[str, Any]] = {
    "default": {},
    "no-sample-app": {"workloads.sample_app": "false"},
}
BEGIN, END = "<!-- regions-table:begin -->", "<!-- regions-table:end -->"
REFUSED_SUFFIX = ".refused"


def bound_context(region: str) -> dict[str, Any]:
    return {"app.account": ACCOUNT, "app.region": region, "operations.bastion_ami": AMI}


def synthesize(outdir: Path, cdk_json: Path = Path("cdk.json")) -> None:
    """Every configuration of the matrix, one CDK app each in this process."""
    import aws_cdk as cdk  # noqa: PLC0415 (jsii starts only when something is synthesized)

    from ..settings import ConfigError
    from .context import settings_from_context, stage_from_context
    from .stage import PrivateEksFargateStage

    project = json.loads(cdk_json.read_text())["context"]
    jobs = [(outdir / "agnostic" / name, dict(overrides)) for name, overrides in AGNOSTIC.items()]
    jobs += [(outdir / "bound" / region, bound_context(region)) for region in commercial_and_govcloud_regions()]
    for target, overrides in jobs:
        context = {**project, **overrides, "aws:cdk:disable-asset-staging": True}
        app = cdk.App(outdir=str(target), context=context, builtin_cloud_formation_validation=False)
        try:
            stage, env = stage_from_context(context)
            PrivateEksFargateStage(app, stage, settings=settings_from_context(context), env=env, compliance_checks=False)
            app.synth()
        except ConfigError as error:
            shutil.rmtree(target, ignore_errors=True)  # the App made it; nothing was synthesized into it
            target.parent.mkdir(parents=True, exist_ok=True)
            target.with_name(target.name + REFUSED_SUFFIX).write_text(f"error: {error}\n")


def synthesized(outdir: Path) -> list[str]:
    """The regions a bound stage was synthesized in."""
    return sorted(p.name for p in (outdir / "bound").iterdir() if (p / "manifest.json").exists())


def refused(outdir: Path) -> dict[str, str]:
    """region -> the line its bound synth stopped with."""
    return {p.name.removesuffix(REFUSED_SUFFIX): p.read_text().strip() for p in sorted((outdir / "bound").glob(f"*{REFUSED_SUFFIX}"))}


def admitted(template: Mapping) -> list[str]:
    """The regions a template's region rule admits (``Rules.SupportedRegion``)."""
    regions = admitted_by(template)
    if regions is None:
        raise ValueError("the template has no region rule (Rules.SupportedRegion)")
    return regions


@lru_cache(maxsize=None)  # the table and its summary line read the same two assemblies
def agnostic_admitted(outdir: Path, name: str) -> list[str]:
    stacks = load_stacks(outdir / "agnostic" / name)
    regions = {tuple(admitted(stack.template)) for stack in stacks}
    if len(regions) != 1:
        raise ValueError(f"the stacks of {name} admit different regions: {regions}")
    return list(regions.pop())


def _why(line: str) -> str:
    """A refusal line without the setting it names and the pointer to this table."""
    text = line.split(": ", 2)[-1].split(" (the regions that have everything")[0]
    return text.replace("`", "")


def regions_table(outdir: Path) -> str:
    """docs/regions.md's table: per region, whether the default app and the app without the sample application can be
    deployed (else what is missing), the bastion's default type and the default zone IDs."""
    default, bare = (set(agnostic_admitted(outdir, name)) for name in AGNOSTIC)
    bound_refusals = refused(outdir)
    lines = ["| region | partition | default app | without the sample app | bastion default (us-east-1 price) | default zone IDs | zones not used by default |",
             "|---|---|---|---|---|---|---|"]
    for region in commercial_and_govcloud_regions():
        kind = bastion_default(region)
        price = f" (${US_EAST_1_PRICES[kind]}/hour)" if kind in US_EAST_1_PRICES else ""
        zones = ", ".join(default_zone_ids(region, 2) or ()) or "—"
        held_back = [f"{z} ({'EKS refuses it' if z in EKS_REFUSED_ZONE_IDS else 'newer accounts lack it'})"
                     for z in ZONE_IDS.get(region, ()) if z in EKS_REFUSED_ZONE_IDS or z in CONSTRAINED_ZONE_IDS]
        why = _why(bound_refusals[region]) if region in bound_refusals else ""
        lines.append(
            f"| {region} | {partition_of(region)} | {'yes' if region in default else f'no: {why}'} | "
            f"{'yes' if region in bare else 'no'} | {kind or '—'}{price} | {zones} | {', '.join(held_back) or '—'} |"
        )
    return "\n".join(lines)


def summary_line(outdir: Path) -> str:
    default, bare = (agnostic_admitted(outdir, name) for name in AGNOSTIC)
    regions = commercial_and_govcloud_regions()
    return (
        f"Of the {len(regions)} commercial and AWS GovCloud (US) regions cfn-lint {CFN_LINT_VERSION} has data for, the "
        f"default app can be deployed in {len(default)}, and without the sample application in {len(bare)}."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synth", type=Path, required=True, help="directory for the synthesized configurations")
    parser.add_argument("--write", type=Path, help="rewrite the regions table of this Markdown file")
    args = parser.parse_args(argv)
    synthesize(args.synth)
    if args.write:
        body = f"{summary_line(args.synth)}\n\n{regions_table(args.synth)}"
        args.write.write_text(replace_between_markers(args.write.read_text(), body, BEGIN, END))
    return 0


if __name__ == "__main__":
    sys.exit(main())
