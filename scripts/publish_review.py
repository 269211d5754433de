#!/usr/bin/env python3
"""`make publish-review`, in the pipeline's synth step after `make review`: each stage's review report to the
pipeline's artifact bucket, and the approval messages into ``cdk.out/review/approvals.env``,
which the synth step's last command sources so that CodeBuild exports them to the approvals.

The synth step sets ``PEF_REVIEW_BUCKET`` (the artifact bucket) and ``PEF_REVIEW_PREFIX`` (``reviews/<execution id>``);
reports go to ``s3://BUCKET/PREFIX/<stage>/`` with the AWS CLI of the build image. Elsewhere it stops with one line.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from private_eks_fargate.review.approval import APPROVAL_FILE, pipeline_record  # noqa: E402
from private_eks_fargate.review.assembly import load_review  # noqa: E402
from private_eks_fargate.review.report import REPORT_FILE, REVIEW_DIR  # noqa: E402

BUCKET, PREFIX = "PEF_REVIEW_BUCKET", "PEF_REVIEW_PREFIX"
ENV_FILE = "approvals.env"


def publish(assembly_dir: Path, bucket: str, prefix: str) -> list[str]:
    """Upload the reports and write the approvals' variables; the lines to print."""
    found = pipeline_record(load_review(assembly_dir))
    if found is None:
        raise RuntimeError(f"{assembly_dir} is not a pipeline's cloud assembly (no pipeline stack); run make review first")
    _, record = found
    reviews = assembly_dir / REVIEW_DIR
    exports, lines = [], []
    for stage in record["stages"]:
        name = stage["name"]
        target = f"s3://{bucket}/{prefix}/{name}/"
        subprocess.run(["aws", "s3", "cp", "--recursive", "--only-show-errors", str(reviews / name), target], check=True)
        lines.append(f"review report of {name}: {target}{REPORT_FILE}")
        if stage.get("approval"):
            message = (reviews / stage["name"] / APPROVAL_FILE).read_text().strip()
            exports.append(f"export {stage['approval']}={shlex.quote(message)}")
    (reviews / ENV_FILE).write_text("".join(f"{line}\n" for line in exports))
    return lines + [f"approval messages: {reviews / ENV_FILE} ({len(exports)})"]


def main() -> int:
    bucket, prefix = os.environ.get(BUCKET), os.environ.get(PREFIX)
    if not bucket or not prefix:
        print(f"error: publish-review runs in the pipeline's synth step, which sets {BUCKET} and {PREFIX}", file=sys.stderr)
        return 2
    try:
        lines = publish(Path("cdk.out"), bucket, prefix.rstrip("/"))
    except (RuntimeError, FileNotFoundError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
