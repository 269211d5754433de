"""`make review` (scripts/review.py): cfn-lint and checkov on the assembly's templates, their results recorded with
review.summary.record_results and shown in the report's summary. The suite's own cfn-lint and checkov runs (one each,
over every configuration, with these functions) are reused here: nothing is linted twice."""

import json
import shutil
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest
from private_eks_fargate.review.assembly import load_results
from private_eks_fargate.review.report import write_review

from conftest import ROOT, make_review, summary_items
from test_setup import _planned


def test_make_review_synthesizes_then_lints_scans_and_writes_the_report_again(tmp_path):
    planned = _planned("review", tmp_path)
    assert "-r requirements-dev.txt" in planned and "-r requirements-checkov.txt" in planned  # the test tools
    synth, review = planned.index("scripts/cdk.py synth"), planned.index("scripts/review.py")
    assert synth < review
    # the assembly the CLI wrote: cdk.out, or make's ARGS --output
    assert make_review.output_dir(["-c", "a=b", "--output", "out/x"]) == Path("out/x")
    assert make_review.output_dir(["--output=y"]) == Path("y") and make_review.output_dir(["-c", "a=b"]) == Path("cdk.out")
    synth_only = _planned("synth", tmp_path)
    assert "scripts/review.py" not in synth_only and "requirements-dev.txt" not in synth_only


def assembly_copy(synth, tmp_path) -> Path:
    """The default app's cloud assembly without its assets, report or results (the session's own stays as it is)."""
    target = tmp_path / "cdk.out"
    shutil.copytree(synth.assembly.directory, target, ignore=shutil.ignore_patterns("asset.*", "review", "results"))
    return target


def summary_lines(report: Path) -> list[str]:
    return summary_items(report.read_text())


def test_review_records_what_cfn_lint_and_checkov_found_on_the_default_app(lint_jobs, default_app, tmp_path, capsys,
                                                                           monkeypatch):
    assembly = assembly_copy(default_app, tmp_path)
    lint, scan = lint_jobs["cfn-lint"].result(timeout=900), lint_jobs["checkov"].result(timeout=900)
    monkeypatch.setattr(make_review, "run_cfn_lint", lambda files: lint)
    monkeypatch.setattr(make_review, "run_checkov", lambda files: scan)
    assert make_review.main(["--output", str(assembly)]) == 0
    checkov_version = next(r["summary"]["checkov_version"] for r in scan["reports"] if r["check_type"] == "cloudformation")
    expected = [f"cfn-lint {version('cfn-lint')}: 0 failed, 3 templates checked",
                f"checkov {checkov_version}: 0 failed, 3 templates checked"]
    assert capsys.readouterr().out.splitlines()[:2] == expected
    summary = summary_lines(assembly / "review" / "REVIEW.md")
    assert [f"- {line}" for line in expected] == [line for line in summary if line.startswith(("- cfn-lint", "- checkov"))]
    recorded = json.loads((assembly / "results" / "cfn-lint.json").read_text())
    templates = sorted(Path(f).name for f in default_app.template_files.values())
    assert sorted(Path(t).name for t in recorded["templates"]) == templates

    # a synth since (another template): the results were not run on this assembly any more
    cluster = next(assembly.rglob(default_app.template_files["Dev/Cluster"].name))
    cluster.write_text(cluster.read_text().replace("sample-app", "other-app"))
    assert load_results(assembly) == {}
    summary = summary_lines(write_review(assembly, ROOT / ".checkov.yaml"))
    assert "- cfn-lint: not run on this assembly" in summary and "- checkov: not run on this assembly" in summary


def test_review_records_the_findings_of_a_broken_template_and_fails(lint_jobs, default_app):
    lint = lint_jobs["cfn-lint"].result(timeout=900)
    (broken,) = [f for f in lint["files"] if f.endswith("broken.template.json")]
    data = make_review.cfn_lint_record(lint, [broken])
    (cluster_id,) = default_app.resources("Dev/Cluster", "AWS::EKS::Cluster")
    assert data["checked"] == 1 and data["findings"]
    assert {(f["level"], f["resource"], f["template"]) for f in data["findings"]} == {("Error", cluster_id, Path(broken).name)}
    assert all("EndpointPublicAccess" in f["message"] or "boolean" in f["message"] for f in data["findings"])


def fake_checkov(failed: list[dict]) -> dict:
    report = {"check_type": "cloudformation", "results": {"failed_checks": failed},
              "summary": {"checkov_version": "9.9.9", "parsing_errors": 0}}
    return {"files": [], "reports": [report], "result": subprocess.CompletedProcess([], 1, "", "")}


def test_review_exits_1_when_checkov_fails_a_check_and_says_which(lint_jobs, default_app, tmp_path, capsys, monkeypatch):
    assembly = assembly_copy(default_app, tmp_path)
    template = str(next(assembly.rglob(default_app.template_files["Dev/Network"].name)))
    failed = [{"check_id": "CKV_AWS_999", "check_name": "a check", "resource": "AWS::EC2::VPC.NetworkVpc",
               "file_path": "/" + Path(template).name, "file_abs_path": template}]
    monkeypatch.setattr(make_review, "run_cfn_lint", lambda files: lint_jobs["cfn-lint"].result(timeout=900))
    monkeypatch.setattr(make_review, "run_checkov", lambda files: fake_checkov(failed))
    assert make_review.main(["--output", str(assembly)]) == 1
    assert "checkov 9.9.9: 1 failed, 3 templates checked (CKV_AWS_999)" in capsys.readouterr().out
    assert "- checkov 9.9.9: 1 failed, 3 templates checked (CKV_AWS_999)" in summary_lines(assembly / "review" / "REVIEW.md")


def test_review_stops_when_a_tool_did_not_run(monkeypatch, default_app, tmp_path, capsys):
    assembly = assembly_copy(default_app, tmp_path)
    crashed = subprocess.CompletedProcess([], 1, "", "Traceback (most recent call last):\nImportError: no cfnlint")
    monkeypatch.setattr(make_review, "run_cfn_lint", lambda files: {"files": files, "findings": [], "result": crashed})
    monkeypatch.setattr(make_review, "run_checkov", lambda files: {"files": files, "reports": [], "result": crashed})
    assert make_review.main(["--output", str(assembly)]) == 2
    assert capsys.readouterr().err.strip() == "error: cfn-lint did not run: ImportError: no cfnlint"
    assert not (assembly / "results").exists()
