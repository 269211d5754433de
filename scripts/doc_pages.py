"""The docs as the tests and `make compat` read them: README.md and every page of docs/, their code blocks, the
command lines of their `sh` blocks and the output a page shows after a command.

A command line ends in one of two marks when the test suite does not run it: ``# needs AWS`` (it calls AWS or runs
on the bastion) or ``# .ci/run runs this``. Every other command line is run by a test as written: the test gets the
line with ``command(...)``, which records it, and ``tests/test_docs.py`` fails on a line that no test asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEEDS_AWS = "# needs AWS"
RUN_BY_CI = "# .ci/run runs this"
#: a shell variable set for the lines below it (REGION=eu-west-1): part of those commands, not one of its own
ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=\S*$")

#: the command lines tests asked for with command(), in the order they asked
REQUESTED: list[str] = []


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass(frozen=True)
class Block:
    page: Path
    language: str
    text: str


@dataclass(frozen=True)
class CommandLine:
    page: Path
    #: as written, with its comment (continuation lines joined with their backslash-newline kept)
    line: str

    @property
    def command(self) -> str:
        """The line without its trailing comment (a # after a space, outside quotes, starts it, as in the shell)."""
        quote = ""
        for index, char in enumerate(self.line):
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "#" and index and self.line[index - 1].isspace():
                return self.line[:index].strip()
        return self.line.strip()

    @property
    def mark(self) -> str:
        """NEEDS_AWS, RUN_BY_CI or "" (the suite runs it)."""
        return next((mark for mark in (NEEDS_AWS, RUN_BY_CI) if mark in self.line), "")


#: a fenced code block: its language and its text
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)


@lru_cache(maxsize=None)
def _page_blocks(page: Path) -> tuple[Block, ...]:
    """Read once per process: the tests ask for lines at import, one at a time."""
    return tuple(Block(page, language, text) for language, text in FENCE.findall(page.read_text()))


def blocks(page: Path | None = None) -> list[Block]:
    """The fenced code blocks of one page, or of every page, in order."""
    return [block for path in ([page] if page else pages()) for block in _page_blocks(path)]


def prose(page: Path) -> str:
    """The page without its code blocks."""
    return FENCE.sub("", page.read_text())


def _commands(block: Block) -> list[CommandLine]:
    """The command lines of one `sh` block: comment lines and variable assignments left out, continuations joined."""
    lines, pending = [], ""
    for raw in block.text.splitlines():
        pending += raw
        if raw.endswith("\\"):
            pending += "\n"
            continue
        if pending.strip() and not pending.lstrip().startswith("#") and not ASSIGNMENT.match(pending.strip()):
            lines.append(CommandLine(block.page, pending.strip()))
        pending = ""
    return lines


def command_lines(page: Path | None = None) -> list[CommandLine]:
    return [line for block in blocks(page) if block.language == "sh" for line in _commands(block)]


def command(text: str) -> str:
    """The documented command line whose command (without its comment) is `text`, as a test runs it; recorded as run
    by the suite. Fails when no page shows it, or shows it only with a mark that says the suite does not run it."""
    shown = [c for c in command_lines() if c.command == text]
    if not shown:
        raise LookupError(f"no page of the docs shows the command {text!r}")
    if all(c.mark for c in shown):
        raise LookupError(f"the docs mark {text!r} as not run by the suite ({shown[0].mark})")
    REQUESTED.append(text)
    return text


def output_after(text: str) -> str:
    """The `text` block that follows the `sh` block holding the command `text` on its page: the output it shows."""
    for page in pages():
        page_blocks = blocks(page)
        for block, following in zip(page_blocks, page_blocks[1:]):
            if block.language == "sh" and following.language == "text" and text in (c.command for c in _commands(block)):
                return following.text.rstrip("\n")
    raise LookupError(f"no page shows output after {text!r}")


def configuration_example() -> dict:
    """The cdk.json context of docs/configuration.md's environments example (its one ```json block)."""
    import json

    (example,) = [b.text for b in blocks(ROOT / "docs" / "configuration.md") if b.language == "json"]
    return json.loads("{" + example + "}")["context"]


def python_examples() -> list[str]:
    """Every ```python block of README.md and docs/, in page order (`make compat` runs each as a user's app)."""
    return [block.text for block in blocks() if block.language == "python"]
