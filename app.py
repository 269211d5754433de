#!/usr/bin/env python3
"""The CDK app: one stage (Network, Endpoints, Cluster stacks) per environment, configured from cdk.json / -c.

cdk.json starts it as ``.venv/bin/python app.py``, so it runs in the project's venv whatever python3 is on PATH.
Every synth runs the compliance packs (a finding stops it) and writes the review report and diagram into
``<outdir>/review/``. A lookup the CLI could not make (no credentials) stops it with one line.
"""

import os
import sys
from pathlib import Path

# jsii starts `node` from PATH: the venv's Node 24 first, also when the CLI was started without the venv on PATH
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

import aws_cdk as cdk  # noqa: E402

from private_eks_fargate.app.context import (  # noqa: E402
    command_line_keys,
    environments_from_context,
    failed_lookups,
    missing_lookups,
    pipeline_mode,
    settings_from_context,
    stage_from_context,
)
from private_eks_fargate.app.stage import PrivateEksFargateStage  # noqa: E402
from private_eks_fargate.settings import ConfigError  # noqa: E402


#: aws-cdk-lib's built-in CloudFormation schema validation: a WebAssembly engine that takes about 2.5 s of every
#: synth to start and, unless a context flag says otherwise, only warns. cfn-lint checks the same schemas, stricter
#: (zero errors and zero warnings), on every configuration in `make test`; CDK_VALIDATION=true turns it back on here.
BUILTIN_VALIDATION = os.environ.get("CDK_VALIDATION", "").lower() == "true"


def main() -> None:
    # no construct stack traces in the metadata: inside jsii they point into its node runtime (a stray
    # `/tmp/…/program.js:1:5591` line under every warning), never to the user's code
    app = cdk.App(builtin_cloud_formation_validation=BUILTIN_VALIDATION, stack_traces=False)
    context = app.node.get_all_context()
    try:
        failed_lookups(context)
        pipeline = pipeline_mode(context)
        if pipeline is not None:
            # loaded only here: without pipeline settings the app is what it was before the pipeline existed
            from private_eks_fargate.app.pipeline import build_delivery

            build_delivery(app, context, pipeline, command_line=command_line_keys(context))
        else:
            for env in environments_from_context(context, command_line=command_line_keys(context)):
                with env.named_errors():
                    name, aws_env = stage_from_context(env.context)
                    PrivateEksFargateStage(app, name, settings=settings_from_context(env.context), env=aws_env)
    except ConfigError as error:
        # one line naming the setting and what is allowed; no traceback
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    assembly = app.synth()
    if missing_lookups(Path(assembly.directory)):
        return  # the CLI looks the values up and runs the app again; the report is written on that run
    if pipeline is None:
        from private_eks_fargate.review.report import write_review

        reports = [write_review(Path(assembly.directory))]
    else:
        from private_eks_fargate.review.approval import write_reviews  # the assembly's report and each stage's

        reports = write_reviews(Path(assembly.directory))
    for report in reports:
        print(f"review report: {report}", file=sys.stderr)
    warn_of_chosen_controls(Path(assembly.directory))


def warn_of_chosen_controls(assembly_dir: Path) -> None:
    """One line when a Control Tower control fails by a setting the user chose (any other failure stopped the synth):
    organizations that enable that control refuse the deploy."""
    from private_eks_fargate.review.assembly import load_results
    from private_eks_fargate.review.summary import RESULT_TOOLS, result_line

    record = load_results(assembly_dir).get("control-tower")
    if record and record.get("failed"):
        print(f"warning: {result_line(RESULT_TOOLS['control-tower'], record)}", file=sys.stderr)


if __name__ == "__main__":
    main()
