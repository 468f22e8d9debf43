"""Unified diffs of one file, as events, iteration records and panes show them."""

from __future__ import annotations

import difflib


def unified_diff(path: str, before: str, after: str) -> str:
    """A ``git diff``-style diff of ``path`` (``/dev/null`` for a new file; empty when unchanged)."""
    if before == after:
        return ""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{path}" if before else "/dev/null",
        tofile=f"b/{path}",
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
