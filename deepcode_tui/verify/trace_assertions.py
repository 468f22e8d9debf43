"""What a failed assertion compared: its expected and actual values.

pytest prints ``assert <left> == <right>`` (its assertion rewriting shows the
values, in source order); unittest prints ``<first> != <second>`` (with a
``Lists differ:``-style prefix for containers). The values are split out of
that line and matched to the assertion's source (the test line the failure
points at): the side that is a literal, a constant-like name (``EXPECTED``,
``expected``, ``want``) or an ``expected``-named variable is what the test
expected; the other side is what the code produced. When neither side says
so, the usual conventions decide (``assert actual == expected``,
``assertEqual(actual, expected)``).
"""

from __future__ import annotations

import ast
import re

from pydantic import BaseModel

_PREFIX = re.compile(r"^(?:AssertionError:\s*)?(?:assert\s+)?")
_DIFFER = re.compile(r"^(?:Lists|Tuples|Sets|Dicts|Sequences|Strings) differ:\s*")
_OPS = (" != ", " == ")
_EQUAL_CALLS = {"assertEqual", "assertEquals", "assertListEqual", "assertTupleEqual", "assertDictEqual",
                "assertSetEqual", "assertSequenceEqual", "assertMultiLineEqual", "assertCountEqual",
                "assertAlmostEqual", "assertNotEqual", "assert_equal", "assert_array_equal"}
_EXPECTED_NAME = re.compile(r"^(?:_*(?:expected|expect|exp|want|wanted|correct|reference|golden|answer)\w*"
                            r"|[A-Z][A-Z0-9_]+)$", re.I)


class Comparison(BaseModel):
    """``expected``/``actual``: the values as the failure printed them;
    ``actual_expr``: the source of the side that produced the actual value."""

    expected: str
    actual: str
    actual_expr: str = ""

    def describe(self) -> str:
        got = f"{self.actual} (from `{self.actual_expr}`)" if self.actual_expr else self.actual
        return f"expected {self.expected}, got {got}"


def split_values(line: str) -> tuple[str, str] | None:
    """(left, right) of an ``assert a == b`` / ``a != b`` failure line, in the
    order they were printed; None when it is not such a line."""
    text = _DIFFER.sub("", _PREFIX.sub("", line.strip(), count=1))
    try:
        node = ast.parse(text, mode="eval").body
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq | ast.NotEq):
            left = ast.get_source_segment(text, node.left)
            right = ast.get_source_segment(text, node.comparators[0])
            if left is not None and right is not None:
                return left, right
    except (SyntaxError, ValueError, RecursionError):
        pass
    at = _top_level_op(text)
    if at is None:
        return None
    return text[:at].strip(), text[at + 4 :].strip()


def _top_level_op(text: str) -> int | None:
    """Index of the first `` == `` or `` != `` outside brackets and quotes
    (reprs such as ``<Token 'x' at 0x7f>`` do not parse as Python)."""
    depth, quote, i = 0, "", 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c in "([{<":
            depth += 1
        elif c in ")]}>" and depth:
            depth -= 1
        elif depth == 0 and text[i : i + 4] in _OPS:
            return i
        i += 1
    return None


def _source_sides(source_line: str) -> tuple[ast.expr, ast.expr, str] | None:
    """The two compared expressions of an assertion statement (one line) and the
    statement's text: ``assert a == b`` or ``self.assertEqual(a, b)``."""
    text = source_line.strip()
    try:
        stmt = ast.parse(text).body[0]
    except (SyntaxError, ValueError, IndexError, RecursionError):
        try:  # an assertion whose arguments continue on the next lines
            stmt = ast.parse(text + ")").body[0]
        except (SyntaxError, ValueError, IndexError, RecursionError):
            return None
    if isinstance(stmt, ast.Assert) and isinstance(stmt.test, ast.Compare) and len(stmt.test.ops) == 1:
        return stmt.test.left, stmt.test.comparators[0], text
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        call = stmt.value
        name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        if name in _EQUAL_CALLS and len(call.args) >= 2:
            return call.args[0], call.args[1], text
    return None


def _looks_expected(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        pass
    if isinstance(node, ast.Name):
        return bool(_EXPECTED_NAME.match(node.id))
    if isinstance(node, ast.Attribute):
        return bool(_EXPECTED_NAME.match(node.attr))
    return False


def comparison(e_lines: list[str], source_line: str | None) -> Comparison | None:
    """The expected/actual values of a failed equality assertion from its ``E``
    lines and the failing test line's source (may be None)."""
    values = None
    for e in e_lines:
        if e.startswith(("AssertionError", "assert ")) or " != " in e:
            values = split_values(e)
            if values:
                break
    if values is None:
        return None
    left, right = values
    sides = _source_sides(source_line) if source_line else None
    if sides is None:
        return Comparison(expected=right, actual=left)
    lnode, rnode, text = sides
    swap = _looks_expected(lnode) and not _looks_expected(rnode)
    actual_node = rnode if swap else lnode
    expr = ast.get_source_segment(text, actual_node) or ""
    if swap:
        left, right = right, left
    return Comparison(expected=right, actual=left, actual_expr=expr if len(expr) <= 80 else "")
