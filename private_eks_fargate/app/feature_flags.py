"""The app's CDK feature flags (``cdk.json`` context ``@aws-cdk/…``): each is at the value aws-cdk-lib recommends for new
apps, except the ones in ``KEPT``, whose recommended value would change resources of every stage already deployed.

``python -m private_eks_fargate.app.feature_flags --write docs/feature-flags.md`` renders the table of kept flags
between its markers (``make docs``). tests/test_app_feature_flags.py keeps cdk.json, this list and the table in step
with the flag report aws-cdk-lib writes into every cloud assembly (recommended value of every flag it knows).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..settings.docs import replace_between_markers

BEGIN, END = "<!-- feature-flags:begin -->", "<!-- feature-flags:end -->"
#: the cloud assembly artifact in which aws-cdk-lib reports every flag it knows
REPORT_ARTIFACT = "cdk:feature-flag-report"


@dataclass(frozen=True)
class KeptFlag:
    """A flag cdk.json keeps at a value other than the recommended one."""

    value: Any
    recommended: Any
    #: what the recommended value would do to a deployed stage
    reason: str


KEPT: dict[str, KeptFlag] = {
    "@aws-cdk/aws-lambda:createNewPoliciesWithAddToRolePolicy": KeptFlag(
        True, False,
        "The recommended value moves the statements aws-cdk-lib's custom-resource Provider adds to its Lambdas' roles "
        "into each role's DefaultPolicy: a deployed Cluster stack would delete three AWS::IAM::Policy resources "
        "(kubectl provider framework, image copy Lambda and its framework), create the image copy Lambda's policy under "
        "a new logical id, and update the sample application's image copy, manifest and readiness custom resources, "
        "which copy the image and apply the manifests again.",
    ),
    "@aws-cdk/core:defaultCrossStackReferences": KeptFlag(
        "strong", "weak",
        "Strong references are CloudFormation exports: CloudFormation refuses to delete the Network stack while the "
        "Endpoints and Cluster stacks import its VPC and subnets. Weak ones (Fn::GetStackOutput) drop that protection, "
        "and a deployed stage moves to them only in two deploys (\"both\", then \"weak\"), since the Network stack "
        "cannot delete exports its consumers still import.",
    ),
    "@aws-cdk/aws-lambda:useCdkManagedLogGroup": KeptFlag(
        False, True,
        "The recommended value adds a log group /aws/lambda/NAME for each Lambda function aws-cdk-lib sees without one: "
        "the kubectl provider's two, whose log group is set by a property override (blocks/logs.py). Those groups would "
        "stay empty and unencrypted, and a stage deployed before the kubectl Lambdas had a log group of their own has "
        "them already (Lambda created them when it ran): its next deploy would fail with \"already exists\".",
    ),
}


def flag_report(assembly_dir: Path) -> dict[str, dict]:
    """Every flag aws-cdk-lib reports in a synthesized cloud assembly: name -> {recommendedValue, userValue, …}."""
    manifest = json.loads((Path(assembly_dir) / "manifest.json").read_text())
    (report,) = [a for a in manifest["artifacts"].values() if a["type"] == REPORT_ARTIFACT]
    return report["properties"]["flags"]


def kept_table() -> str:
    def cell(value: Any) -> str:
        return f"`{json.dumps(value)}`"

    lines = ["| flag | cdk.json | recommended | why the recommended value is not taken |", "|---|---|---|---|"]
    lines += [f"| `{flag}` | {cell(k.value)} | {cell(k.recommended)} | {k.reason} |" for flag, k in KEPT.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", type=Path, help="rewrite the table in this file (between its markers)")
    args = parser.parse_args(argv)
    if args.write:
        args.write.write_text(replace_between_markers(args.write.read_text(), kept_table(), BEGIN, END))
    else:
        print(kept_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
