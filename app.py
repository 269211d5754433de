#!/usr/bin/env python3
"""The CDK app: one stage (Network, Endpoints, Cluster stacks) configured from cdk.json context / -c.

Every synth runs the compliance packs (a finding stops it) and writes the review report and diagram into
``<outdir>/review/``.
"""

import sys
from pathlib import Path

import aws_cdk as cdk

from private_eks_fargate.app.context import settings_from_context, stage_from_context
from private_eks_fargate.app.stage import PrivateEksFargateStage
from private_eks_fargate.settings import ConfigError


def main() -> None:
    app = cdk.App()
    try:
        context = app.node.get_all_context()
        stage_name, env = stage_from_context(context)
        PrivateEksFargateStage(app, stage_name, settings=settings_from_context(context), env=env)
    except ConfigError as error:
        # one line naming the setting and what is allowed; no traceback
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    assembly = app.synth()
    from private_eks_fargate.review.report import write_review

    report = write_review(Path(assembly.directory))
    print(f"review report: {report}", file=sys.stderr)


if __name__ == "__main__":
    main()
