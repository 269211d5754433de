#!/usr/bin/env python3
"""`make execution-policy`: after make synth, the IAM policies CloudFormation's execution role needs to deploy the
synthesized stacks (review/execution_policy.py): for the environments' accounts, from the stages' templates
(``stages-N.json``), and for the tooling account, from the pipeline stack's (``pipeline-N.json``), in
``cdk.out/execution-policy/``. Create each as a customer-managed policy in its account and give their ARNs to
``cdk bootstrap --cloudformation-execution-policies`` (docs/pipeline.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from private_eks_fargate.review.approval import pipeline_record  # noqa: E402
from private_eks_fargate.review.assembly import load_review  # noqa: E402
from private_eks_fargate.review.execution_policy import policy_documents, required_actions  # noqa: E402

OUTPUT = "execution-policy"


def write_policies(assembly_dir: Path) -> list[Path]:
    review = load_review(assembly_dir)
    found = pipeline_record(review)
    pipeline_path = found[0].path if found else None
    groups = {
        "stages": [s.template for s in review.stacks if s.path != pipeline_path],
        "pipeline": [s.template for s in review.stacks if s.path == pipeline_path],
    }
    out = assembly_dir / OUTPUT
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, templates in groups.items():
        if not templates:
            continue
        sid = "DeployThePipeline" if name == "pipeline" else "DeployTheStages"
        for index, document in enumerate(policy_documents(required_actions(templates), sid), start=1):
            path = out / f"{name}-{index}.json"
            path.write_text(json.dumps(document, indent=1) + "\n")
            written.append(path)
    return written


def main() -> int:
    assembly_dir = Path("cdk.out")
    if not (assembly_dir / "manifest.json").exists():
        print("error: no cloud assembly in cdk.out; run make synth first", file=sys.stderr)
        return 2
    for path in write_policies(assembly_dir):
        actions = json.loads(path.read_text())["Statement"][0]["Action"]
        print(f"{path}: {len(actions)} actions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
