"""The README is an entry and the docs hold the depth: every command line of them is run by a test as written or
says why not, every link leads somewhere, and every generated part is kept by the test of the code that makes it."""

import json
import re
import shlex
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import doc_pages  # noqa: E402  scripts/doc_pages.py

# the modules whose tests run the docs' command lines: importing them records the lines they run
import test_app_pipeline  # noqa: E402,F401
import test_scripts_cdk  # noqa: E402,F401

README = ROOT / "README.md"
LANGUAGES = {"sh", "text", "json", "python"}
#: the targets the Makefile declares (its .PHONY list)
MAKE_TARGETS = set(re.search(r"^\.PHONY:(.*?)\n\n", (ROOT / "Makefile").read_text(), re.S | re.M).group(1).replace("\\\n", " ").split())


def test_the_readme_is_an_entry_prerequisites_and_both_commands_on_the_first_screen():
    lines = README.read_text().splitlines()
    assert len(lines) < 300
    first_screen = "\n".join(lines[:40])
    assert "## Prerequisites" in first_screen
    commands = [c.command for c in doc_pages.command_lines(README)]
    assert commands[:2] == ["make synth", "make deploy"]
    for command in commands[:2]:
        assert re.search(rf"^{command}\s+#", first_screen, re.M), command


def test_every_page_is_linked_from_the_readme():
    linked = set(re.findall(r"\]\((docs/[\w-]+\.md)", README.read_text()))
    pages = {f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")}
    assert pages and linked == pages


def test_every_command_line_is_run_by_a_test_or_marked():
    lines = doc_pages.command_lines()
    assert lines
    requested = set(doc_pages.REQUESTED)
    assert requested
    unaccounted = [f"{c.page.name}: {c.line}" for c in lines if not c.mark and c.command not in requested]
    assert unaccounted == [], "run each in a test with doc_pages.command(...), or mark it"
    # and every line a test asked for is still shown (command() refuses a line no page shows)
    assert requested <= {c.command for c in lines if not c.mark}


def test_lines_marked_for_ci_are_what_ci_runs():
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    marked = [c for c in doc_pages.command_lines() if c.mark == doc_pages.RUN_BY_CI]
    assert marked
    for line in marked:
        assert line.command in ci, f"{line.page.name}: .ci/run does not run {line.command!r}"
    # the README's test command is the one CI runs
    assert "make test" in [c.command for c in doc_pages.command_lines(README) if c.mark == doc_pages.RUN_BY_CI]


def test_documented_make_targets_exist():
    targets = [shlex.split(c.command)[1] for c in doc_pages.command_lines() if c.command.startswith("make ")]
    assert targets
    assert sorted({t for t in targets if t not in MAKE_TARGETS}) == []
    # prose names targets too: `make synth`, and nothing made up
    spans = {m for page in doc_pages.pages() for m in re.findall(r"`make ([\w-]+)`", page.read_text())}
    assert spans and sorted(spans - MAKE_TARGETS) == []


def test_prose_shows_no_command_line_that_no_block_holds():
    """A whole command in running text (`make deploy ENV=prod`, `.venv/bin/…`, `aws … --…`) would escape the rule
    above: it must be a command line of a block, which is run or marked."""
    shown = {c.command for c in doc_pages.command_lines()}
    loose = []
    for page in doc_pages.pages():
        for span in re.findall(r"`([^`\n]+)`", doc_pages.prose(page)):
            whole = (span.startswith("make ") and not re.fullmatch(r"make [\w-]+", span)) or span.startswith(".venv/bin/") \
                or re.match(r"aws [\w-]+ [\w-]+ .*--", span)
            if whole and span not in shown:
                loose.append(f"{page.name}: {span}")
    assert loose == []


def test_every_code_block_says_what_it_holds():
    blocks = doc_pages.blocks()
    assert blocks
    assert sorted({f"{b.page.name}: ```{b.language}" for b in blocks if b.language not in LANGUAGES}) == []


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but - and _ dropped, spaces to -."""
    return {re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", heading.strip().lower()))
            for heading in re.findall(r"^#+ (.*)$", doc_pages.prose(page), re.M)}


def test_every_link_leads_to_a_page_and_section_that_exist():
    links = [(page, target) for page in doc_pages.pages() for target in re.findall(r"\]\(([^)\s]+)\)", doc_pages.prose(page))
             if not re.match(r"^[a-z]+:", target)]
    assert len(links) > 20
    for page, target in links:
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: {target}"
        if anchor:
            assert anchor in _anchors(linked), f"{page.name}: {target} (sections: {sorted(_anchors(linked))})"


def test_the_docs_state_facts_not_the_history_of_the_project():
    found = [f"{page.name}: {m.group(0)}" for page in doc_pages.pages()
             for m in re.finditer(r"\b(issue #?\d+|before this (issue|change)|[Bb]efore:\s*\d)", page.read_text())]
    assert found == []


def test_a_command_the_docs_do_not_show_or_mark_as_not_run_cannot_be_claimed_as_run():
    with pytest.raises(LookupError, match="no page of the docs shows the command 'make synth --all'"):
        doc_pages.command("make synth --all")
    with pytest.raises(LookupError, match=r"the docs mark 'make deploy ENV=prod' as not run by the suite \(# needs AWS\)"):
        doc_pages.command("make deploy ENV=prod")


def test_versions_the_docs_name_are_the_pinned_ones():
    """Versions in running text are copied from the pins: each must still be the pin."""
    pins = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    cli = json.loads((ROOT / "package-lock.json").read_text())["packages"]["node_modules/aws-cdk"]["version"]
    text = {page.name: page.read_text() for page in doc_pages.pages()}
    named = {
        "compliance.md": [f"cdk-nag {pins['cdk-nag']} packs", f"`cdklabs.cdk-validator-cfnguard` {pins['cdklabs.cdk-validator-cfnguard']} (pinned)",
                          f"Control Tower proactive controls {pins['cdklabs.cdk-validator-cfnguard']}:"],
        "operations.md": [f"(CDK CLI {cli};"],
    }
    assert named
    for page, phrases in named.items():
        assert phrases
        for phrase in phrases:
            assert phrase in text[page], f"{page}: {phrase}"
    # the library's requirements are pyproject.toml's, as written there
    ranges = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert len(ranges) == 5
    for requirement in ranges:
        assert f"`{requirement}`" in text["library.md"], requirement


def test_the_outputs_the_deploy_page_names_are_the_stacks_outputs(default_app):
    page = (ROOT / "docs" / "deploy.md").read_text()
    paragraph = re.search(r"What you see on AWS: (.*?)\n\n", page, re.S).group(1)
    cluster, network = paragraph.split("`Dev-Network` outputs")
    assert set(re.findall(r"`([A-Z][A-Za-z]+)`", cluster)) == set(default_app.template("Dev/Cluster")["Outputs"])
    assert set(re.findall(r"`([A-Z][A-Za-z]+)`", network.split(". ")[0])) == {
        name for name in default_app.template("Dev/Network")["Outputs"] if not name.startswith("ExportsOutput")}
