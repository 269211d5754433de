"""The pipeline's review reports and approval messages, read from the cloud assembly alone.

A pipeline assembly holds the pipeline stack and one stage per environment. Each stage gets its own report (the
report of ``make synth ENV=that``, with the results of the checks that ran on the whole assembly, reduced to its
templates) in ``review/<stage>/``; the assembly's report covers everything, the pipeline stack too. A stage a person approves
gets ``APPROVAL.txt``: what the approver reads in CodePipeline's approval, one paragraph of at most
``MESSAGE_LIMIT`` characters, from that stage's templates and build record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

from .assembly import Review, StackTemplate, build_environment, load_review, public_instances, show, stack_record
from .report import REVIEW_DIR, write_report
from .summary import RESULT_TOOLS, build_record

#: the pipeline stack's metadata that describes the pipeline (app/pipeline.py PIPELINE_RECORD)
PIPELINE_RECORD = "private-eks-fargate:pipeline"
APPROVAL_FILE = "APPROVAL.txt"
#: CodePipeline shows an approval's comment (its CustomData) in the console and in the SNS notification; the synth
#: step keeps it within 500 characters, the console's limit for comments
MESSAGE_LIMIT = 500


def pipeline_record(review: Review) -> tuple[StackTemplate, dict] | None:
    """The pipeline stack and its record, if the assembly is a pipeline's."""
    return stack_record(review, PIPELINE_RECORD)


def _in(stack: StackTemplate, prefix: str) -> bool:
    return stack.path == prefix or stack.path.startswith(f"{prefix}/")


def _findings_of(record: Mapping[str, Any], stacks: list[StackTemplate]) -> dict:
    """A tool's results reduced to `stacks`: findings on their templates or resources, templates checked counted anew."""
    files = {stack.template_file.name for stack in stacks if stack.template_file}
    paths = {stack.path for stack in stacks}

    def mine(finding: Mapping) -> bool:
        if "template" in finding:
            return finding["template"] in files
        return str(finding.get("resource", "")).split(":")[0] in paths

    findings = [f for f in record.get("findings", []) if isinstance(f, Mapping) and mine(f)]
    reduced = {**record, "findings": findings, "failed": len(findings)}
    if record.get("unit") == "templates":
        reduced["checked"] = len(files)
    return reduced


def _validation_of(validation: Mapping | None, prefix: str) -> dict | None:
    if validation is None:
        return None
    reports = []
    for report in validation.get("pluginReports", []):
        violations = [
            {**v, "violatingConstructs": kept}
            for v in report.get("violations", [])
            if (kept := [c for c in v.get("violatingConstructs", []) if str(c.get("constructPath", "")).startswith(f"{prefix}/")])
        ]
        reports.append({**report, "violations": violations})
    return {**validation, "pluginReports": reports}


def stage_review(review: Review, prefix: str) -> Review:
    """The part of `review` that is one stage (or the pipeline stack): its stacks, and the results on them."""
    stacks = [stack for stack in review.stacks if _in(stack, prefix)]
    return replace(
        review, stacks=stacks, validation=_validation_of(review.validation, prefix),
        results={tool: _findings_of(record, stacks) for tool, record in review.results.items()},
    )


def templates_digest(review: Review) -> str:
    """One sha256 over the stage's templates (name and content of each): what the approver approves."""
    digest = hashlib.sha256()
    for stack in sorted(review.stacks, key=lambda s: s.path):
        digest.update(f"{stack.template_file.name} {hashlib.sha256(stack.template_file.read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest()


def _policy_name(arn: Any) -> str:
    return show(arn).rsplit("/", 1)[-1].removeprefix("AmazonEKS").removesuffix("Policy")


def admins(review: Review) -> list[str]:
    """Who administers the cluster, short: each access entry's principal and its access policy."""
    resources = {lid: r for _, lid, r in review.resources()}
    found = []
    for _, _, entry in review.resources("AWS::EKS::AccessEntry"):
        props = entry["Properties"]
        policy = "/".join(_policy_name(p.get("PolicyArn")) for p in props.get("AccessPolicies", [])) or "no policy"
        principal = props.get("PrincipalArn")
        role = principal.get("Fn::GetAtt", [None])[0] if isinstance(principal, Mapping) else None
        if role is None:
            found.append(f"{show(principal).split(':')[-1]} ({policy})")
            continue
        trust = json.dumps(resources.get(role, {}).get("Properties", {}).get("AssumeRolePolicyDocument", {}))
        who = "bastion by SSM" if "ec2." in trust else "kubectl Lambda by CloudFormation" if "lambda." in trust else role
        found.append(f"{who} ({policy})")
    return found


def internet(review: Review) -> list[str]:
    """Every path to or from the internet, short."""
    found = []
    gateways = review.resources("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway")
    found.append(f"{len(gateways)} gateways in the VPC" if gateways else "none from the VPC")
    images = [build_environment(p).get("SOURCE_IMAGE") for _, _, p in review.resources("AWS::CodeBuild::Project")]
    found += [f"image copy pulls {image}" for image in images if image]
    public = public_instances(review)
    if public:
        found.append(f"public IP on {len(public)} instance(s)")
    return found


def keys(review: Review) -> str:
    created = review.resources("AWS::KMS::Key")
    rotating = sum(1 for _, _, key in created if key["Properties"].get("EnableKeyRotation"))
    state = "all rotating" if rotating == len(created) else f"{len(created) - rotating} NOT rotating"
    return f"{len(created)} keys, {state}"


def checks(review: Review) -> str:
    """The results in one phrase: open cdk-nag findings and each tool's failures (or that it did not run)."""
    validation = review.validation
    nag = ("not run" if validation is None else
           f"{sum(len(r.get('violations', [])) for r in validation.get('pluginReports', []))} open")
    parts = [f"cdk-nag {nag}"]
    for tool, name in RESULT_TOOLS.items():
        record = review.results.get(tool)
        short = "Control Tower" if tool == "control-tower" else name
        if record is None:
            parts.append(f"{short} not run")
            continue
        chosen = sorted({f.get("rule") for f in record.get("findings", []) if f.get("setting")})
        parts.append(f"{short} {record.get('failed', 0)} failed" + (f" (by choice: {', '.join(chosen)})" if chosen else ""))
    return ", ".join(parts)


def _commit(text: str) -> str:
    head, _, rest = text.partition(" ")
    if len(head) == 40 and all(c in "0123456789abcdef" for c in head):
        head = head[:12]
    return f"{head} {rest}".strip()


def approval_message(review: Review, stage: Mapping[str, Any]) -> str:
    """What the approver of `stage` reads: where it goes, from which commit, who administers it, its paths to the
    internet, its keys, the settings that differ from the defaults, the checks and the digest of its templates."""
    record = build_record(review)
    changed = list(record.get("changed", []))
    head = (f"{stage['name']} -> {stage['account']}/{stage['region']} from {_commit(record.get('commit', 'no recorded commit'))}. "
            f"Admins: {'; '.join(admins(review)) or 'none'}. Internet: {'; '.join(internet(review))}. KMS: {keys(review)}.")
    tail = f" Checks: {checks(review)}. Templates sha256 {templates_digest(review)[:12]}."
    for shown in range(len(changed), -1, -1):
        more = f" +{len(changed) - shown} more" if shown < len(changed) else ""
        settings = f" Changed: {', '.join(changed[:shown]) or 'none'}{more}."
        message = head + settings + tail
        if len(message) <= MESSAGE_LIMIT:
            return message
    return message[: MESSAGE_LIMIT - 1] + "…"


def write_stage_reviews(assembly_dir: Path, checkov_config: Path | None = Path(".checkov.yaml")) -> list[Path]:
    """In a pipeline's assembly: the report of each stage and each approved stage's message; the reports' paths (none
    for an assembly without a pipeline). The assembly's own report (review/REVIEW.md) covers the pipeline stack."""
    return _stage_reports(load_review(Path(assembly_dir), checkov_config), Path(assembly_dir))


def write_reviews(assembly_dir: Path, checkov_config: Path | None = Path(".checkov.yaml")) -> list[Path]:
    """The assembly's report (``write_review``) and, in a pipeline's assembly, each stage's (``write_stage_reviews``):
    their paths, the assembly's first. The templates and results are read once for all of them."""
    review = load_review(Path(assembly_dir), checkov_config)
    return [write_report(review, Path(assembly_dir) / REVIEW_DIR), *_stage_reports(review, Path(assembly_dir))]


def _stage_reports(review: Review, assembly_dir: Path) -> list[Path]:
    found = pipeline_record(review)
    if found is None:
        return []
    _, record = found
    written = []
    for stage in record.get("stages", []):
        part = stage_review(review, stage["name"])
        out = assembly_dir / REVIEW_DIR / stage["name"]
        written.append(write_report(part, out))
        if stage.get("approval"):
            (out / APPROVAL_FILE).write_text(approval_message(part, stage) + "\n")
    return written
