"""The region matrix (app/region_matrix.py): the app bound to every commercial and AWS GovCloud (US) region is
synthesized and linted there, or refused at synth with the one line that names what the region lacks; the
environment-agnostic templates refuse exactly those regions; docs/regions.md is the rendered table."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from private_eks_fargate.app.region_matrix import (
    BEGIN,
    END,
    admitted,
    agnostic_admitted,
    refused,
    regions_table,
    summary_line,
    synthesized,
)
from private_eks_fargate.regions import (
    MISSING_TYPES,
    PLATFORM_RESOURCE_TYPES,
    Needs,
    bastion_default,
    commercial_and_govcloud_regions,
    default_zone_ids,
    missing,
)
from private_eks_fargate.review.assembly import load_stacks, show

from conftest import ROOT, background_job, scratch

sys.path.insert(0, str(ROOT / "scripts"))
import review as make_review  # noqa: E402  scripts/review.py

pytestmark = pytest.mark.background


@background_job
def region_matrix():
    """Every configuration of the matrix (one subprocess, one jsii runtime), then cfn-lint over every bound template in
    its own region (the regions its Metadata names) and over the agnostic default templates in every region their
    rule refuses."""
    outdir = scratch("region-matrix-")
    command = [sys.executable, "-m", "private_eks_fargate.app.region_matrix", "--synth", str(outdir)]
    synth = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if synth.returncode != 0:
        return synth, outdir, None, None
    bound = [str(p) for p in sorted((outdir / "bound").rglob("*.template.json"))]
    agnostic = [str(p) for p in sorted((outdir / "agnostic" / "default").rglob("*.template.json"))]
    admits = set(admitted(json.loads(Path(agnostic[0]).read_text())))
    refused_regions = [r for r in commercial_and_govcloud_regions() if r not in admits]
    lint = make_review.run_cfn_lint(bound)
    elsewhere = subprocess.run([str(make_review.CFN_LINT), "--format", "json", "--regions", *refused_regions, "--", *agnostic],
                               capture_output=True, text=True, timeout=600)
    return synth, outdir, lint, (refused_regions, json.loads(elsewhere.stdout or "[]"))


@pytest.fixture(scope="module")
def matrix():
    synth, outdir, lint, elsewhere = region_matrix.result()
    assert synth.returncode == 0, synth.stderr[-3000:]
    return outdir, lint, elsewhere


DEFAULT_NEEDS = Needs(resource_types=frozenset(PLATFORM_RESOURCE_TYPES), default_bastion=True, default_zones=2)


def test_every_region_is_synthesized_or_refused_with_the_line_naming_what_it_lacks(matrix):
    outdir, _, _ = matrix
    regions = commercial_and_govcloud_regions()
    lines = refused(outdir)
    built = synthesized(outdir)
    assert sorted([*built, *lines]) == regions and len(regions) == 35
    assert sorted(lines) == ["ap-east-2", "ca-west-1", "mx-central-1", "us-gov-east-1", "us-gov-west-1"]
    for region, line in lines.items():
        (first, *_) = missing(region, DEFAULT_NEEDS)
        assert line == f"error: {first.setting}: {first.problem} (the regions that have everything: docs/regions.md)"
        assert set(MISSING_TYPES[region]) & {"AWS::CodeBuild::Project", "AWS::EKS::FargateProfile"}
        assert MISSING_TYPES[region][0] in line


def test_the_agnostic_template_admits_exactly_the_regions_a_bound_stage_synthesizes_in(matrix):
    outdir, _, _ = matrix
    built = set(synthesized(outdir))
    assert set(agnostic_admitted(outdir, "default")) == built
    assert set(agnostic_admitted(outdir, "no-sample-app")) == built | {"ap-east-2", "ca-west-1", "mx-central-1"}


def test_every_bound_template_lints_clean_in_its_own_region(matrix):
    outdir, lint, _ = matrix
    assert lint["result"].returncode == 0, lint["result"].stderr[-2000:]
    built = synthesized(outdir)
    assert len(lint["files"]) == 3 * len(built) == 90
    assert lint["findings"] == []
    for path in lint["files"]:
        region = Path(path).relative_to(outdir / "bound").parts[0]
        assert json.loads(Path(path).read_text())["Metadata"]["cfn-lint"]["config"]["regions"] == [region]


def test_each_bound_stage_writes_its_regions_type_zones_and_endpoint_names(matrix):
    outdir, _, _ = matrix
    built = synthesized(outdir)
    assert built
    for region in built:
        resources = {s.path: s.resources for s in load_stacks(outdir / "bound" / region)}
        (instance,) = [r for r in resources["Dev/Cluster"].values() if r["Type"] == "AWS::EC2::Instance"]
        assert instance["Properties"]["InstanceType"] == bastion_default(region)
        zones = sorted(r["Properties"]["AvailabilityZoneId"] for r in resources["Dev/Network"].values() if r["Type"] == "AWS::EC2::Subnet")
        assert zones == sorted(default_zone_ids(region, 2))
        names = {show(r["Properties"]["ServiceName"]) for r in resources["Dev/Endpoints"].values() if r["Type"] == "AWS::EC2::VPCEndpoint"}
        assert f"com.amazonaws.{region}.ecr.api" in names and "com.amazonaws.<region>.s3" in names  # CDK: S3 by reference


def test_cfn_lint_finds_in_each_refused_region_what_the_rule_says_it_lacks(matrix):
    outdir, _, (refused_regions, findings) = matrix
    assert refused_regions == ["ap-east-2", "ca-west-1", "mx-central-1", "us-gov-east-1", "us-gov-west-1"]
    found: dict[str, set[str]] = {}
    assert findings
    for finding in findings:
        assert finding["Rule"]["Id"] == "E3006", finding["Message"]  # a resource type the region does not have
        kind, region = finding["Message"].split("'")[1], finding["Message"].split("'")[3]
        found.setdefault(region, set()).add(kind)
    assert set(found) == set(refused_regions)  # every refused region really lacks something, as cfn-lint sees it
    description = json.loads(next((outdir / "agnostic" / "default").rglob("*Network*.template.json")).read_text())
    (assertion,) = description["Rules"]["SupportedRegion"]["Assertions"]
    for region, kinds in found.items():
        group = next(part for part in assertion["AssertDescription"].split(". ") if region in part.split(":")[0])
        assert all(kind in group for kind in kinds), (region, group)


def test_docs_regions_table_is_the_rendered_one(matrix):
    outdir, _, _ = matrix
    text = (ROOT / "docs" / "regions.md").read_text()
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    body = text.split(BEGIN)[1].split(END)[0].strip()
    assert body == f"{summary_line(outdir)}\n\n{regions_table(outdir)}", "run: make docs"
    assert "| ap-southeast-2 | aws | yes | yes | m7a.medium ($0.05796/hour) | apse2-az1, apse2-az2 | — |" in body
