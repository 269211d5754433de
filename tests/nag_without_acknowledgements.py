"""The cdk-nag packs on the tested configurations with every acknowledgement withheld from them, in a process of its
own (tests/test_compliance.py runs it in the background): ``python tests/nag_without_acknowledgements.py OUT.json``.

Each configuration is built as its session fixture builds it (tests/conftest.py), except that
``Validations.acknowledge`` does nothing: the constructs still write every acknowledgement with its reason into the
template Metadata (``cdk_nag.rules_to_suppress``), but the packs see none of them. OUT.json holds, per configuration,
what the templates acknowledge and what the packs find, both as (rule, construct path of the resource) pairs; the
test compares the two.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import conftest
from conftest import EXISTING_VPC_CONTEXT, PUBLIC_BASTION_CONTEXT, USER_SETTINGS, UserStack, stage_builder

import aws_cdk as cdk
from private_eks_fargate.compliance import NAG_PACKS, SUPPRESSIONS_METADATA
from private_eks_fargate.review.assembly import load_stacks

#: the configurations of the session fixtures, built without the packs in the synth (they would stop it)
BUILDERS = {
    "default": lambda: stage_builder({}, compliance_checks=False),
    "existing-vpc": lambda: stage_builder(EXISTING_VPC_CONTEXT, compliance_checks=False),
    "user-stack": lambda: lambda app: UserStack(app, "TeamPlatform", settings=USER_SETTINGS),
    "public-bastion": lambda: stage_builder(PUBLIC_BASTION_CONTEXT, compliance_checks=False),
    "pipeline": lambda: conftest.pipeline_builder(),
}
CONTEXTS = {"existing-vpc": EXISTING_VPC_CONTEXT, "public-bastion": PUBLIC_BASTION_CONTEXT,
            "pipeline": {**conftest.pipeline_docs.example(), "aws:cdk:enable-path-metadata": True}}


def acknowledged(assembly_dir: Path) -> list[tuple[str, str]]:
    """(rule, construct path) of every acknowledgement the templates record."""
    return sorted(
        (rule["id"], stack.construct_path(lid))
        for stack in load_stacks(assembly_dir)
        for lid, resource in stack.resources.items()
        for rule in (resource.get("Metadata") or {}).get(SUPPRESSIONS_METADATA, {}).get("rules_to_suppress", [])
    )


def found(app: cdk.App) -> list[tuple[str, str]]:
    """(rule, construct path) of every finding of the four packs."""
    return sorted(
        (violation.rule_name, resource.construct_path)
        for pack in NAG_PACKS.values()
        for violation in pack().validate_scope(app).violations
        for resource in violation.violating_resources
    )


def main(out: Path) -> None:
    cdk.Validations.acknowledge = lambda self, *rules: None  # the packs see no acknowledgement
    import private_eks_fargate.app.pipeline as pipeline

    pipeline.enable_compliance_checks = lambda *args, **kwargs: None  # the pipeline's synth would stop at the findings
    results = {}
    for name, builder in BUILDERS.items():
        synth = conftest.synthesize(conftest.scratch(f"nag-{name}-"), builder(), CONTEXTS.get(name))
        results[name] = {"acknowledged": acknowledged(Path(synth.assembly.directory)), "found": found(synth.app)}
    out.write_text(json.dumps(results))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
