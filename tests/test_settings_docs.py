"""docs/configuration.md's settings table is rendered from the setting declarations and kept identical."""

from private_eks_fargate.settings import SECTIONS
from private_eks_fargate.settings.catalog import declared
from private_eks_fargate.settings.docs import BEGIN, END, configuration_table, key_list, rows

from conftest import ROOT


def test_the_docs_table_is_the_rendered_one():
    readme = (ROOT / "docs" / "configuration.md").read_text()
    assert readme.count(BEGIN) == 1 and readme.count(END) == 1
    table = readme.split(BEGIN)[1].split(END)[0].strip()
    assert table == configuration_table(), "run: make docs"


def test_every_declared_setting_has_a_row_with_doc_default_and_allowed():
    keys = [spec.key for _, cls in SECTIONS for _, spec in declared(cls)]
    table_rows = rows()
    assert len(keys) == 58  # 48 of the platform, 10 of the pipeline
    assert [key for key, *_ in table_rows] == keys
    for key, doc, default, allowed in table_rows:
        assert doc and default and allowed, key


def test_defaults_come_from_the_dataclasses():
    by_key = {key: default for key, _, default, _ in rows()}
    assert by_key["network.az_count"] == "2"
    assert by_key["cluster.kubernetes_version"] == "1.36"
    assert by_key["operations.bastion"] == "true"
    assert by_key["cluster.app_profiles"] == '[{"namespace": "custom-space"}]'
    assert by_key["network.existing_vpc_cidr"] == "—"


def test_key_list_has_one_line_per_key():
    lines = key_list().splitlines()
    assert len(lines) == len(rows())
    assert lines[0].split()[0] == "app.stage"
