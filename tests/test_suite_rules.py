"""Rules the test suite keeps itself: a loop that asserts first asserts that it has something to check, so a
check cannot pass by finding nothing (no maintained linter knows this rule; it is a short AST walk)."""

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
    }


def unguarded_loops(source: str) -> list[int]:
    """Line numbers of `for` loops with an assert inside and no earlier assert (same block) on the iterable's names."""
    found = []

    def visit(block: list[ast.stmt]) -> None:
        for index, statement in enumerate(block):
            literal = isinstance(statement, ast.For) and isinstance(statement.iter, (ast.List, ast.Tuple)) and statement.iter.elts
            if isinstance(statement, ast.For) and not literal and any(
                isinstance(n, ast.Assert) for s in statement.body for n in ast.walk(s)
            ):
                wanted = _names(statement.iter)
                guards = [s for s in block[:index] if isinstance(s, ast.Assert) and _names(s.test) & wanted]
                if not guards:
                    found.append(statement.lineno)
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(statement, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    visit(inner)

    for function in (n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)):
        visit(function.body)
    return found


def test_every_asserting_loop_first_asserts_it_has_something_to_check():
    files = sorted(TESTS.glob("*.py"))
    assert len(files) > 20
    offenders = {f.name: lines for f in files if (lines := unguarded_loops(f.read_text()))}
    assert offenders == {}


def test_the_rule_catches_an_unguarded_loop_and_accepts_a_guarded_one():
    unguarded = "def test_x(items):\n    for item in items:\n        assert item\n"
    guarded = "def test_x(items):\n    assert items\n    for item in items:\n        assert item\n"
    assert unguarded_loops(unguarded) == [2]
    assert unguarded_loops(guarded) == []
