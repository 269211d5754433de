"""cdk.json's feature flags: the recommended value of every flag aws-cdk-lib reports, except the kept ones, each with
its reason in docs/feature-flags.md."""

import json
from pathlib import Path

import pytest
from private_eks_fargate.app.feature_flags import BEGIN, END, KEPT, flag_report, kept_table

from conftest import CDK_JSON_CONTEXT, ROOT

FLAG_PREFIXES = ("@aws-cdk/", "@aws-cdk-containers/")


@pytest.fixture(scope="module")
def report(default_app) -> dict[str, dict]:
    """The flag report of the default app's cloud assembly (synthesized with cdk.json's context)."""
    flags = flag_report(Path(default_app.assembly.directory))
    assert len(flags) > 80  # every flag aws-cdk-lib knows, set or not
    return flags


def test_every_flag_cdk_json_sets_is_one_aws_cdk_lib_knows(report):
    flags = [key for key in CDK_JSON_CONTEXT if key.startswith("@")]
    assert flags
    assert [key for key in flags if key not in report] == []
    assert all(key.startswith(FLAG_PREFIXES) for key in flags)


def test_cdk_json_differs_from_the_recommended_values_only_in_the_kept_flags(report):
    differing = {
        name: CDK_JSON_CONTEXT[name] for name, flag in report.items()
        if name in CDK_JSON_CONTEXT and CDK_JSON_CONTEXT[name] != flag.get("recommendedValue")
    }
    assert differing == {name: kept.value for name, kept in KEPT.items()}
    for name, kept in KEPT.items():
        assert report[name]["recommendedValue"] == kept.recommended, name
        assert len(kept.reason.split()) >= 20, name


def test_a_flag_cdk_json_leaves_unset_behaves_as_recommended(report):
    unset = {name: flag for name, flag in report.items() if name not in CDK_JSON_CONTEXT and "recommendedValue" in flag}
    assert unset
    # a flag that names no behaviour when unconfigured is off when unset (the CLI's `flags` table: effective false)
    assert {name: flag for name, flag in unset.items()
            if flag.get("unconfiguredBehavesLike", {}).get("v2", False) != flag["recommendedValue"]} == {}


def test_the_docs_table_is_the_rendered_one():
    text = (ROOT / "docs" / "feature-flags.md").read_text()
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    assert text.split(BEGIN)[1].split(END)[0].strip() == kept_table(), "run: make docs"
    assert "docs/feature-flags.md" in json.loads((ROOT / "cdk.json").read_text())["//"]
