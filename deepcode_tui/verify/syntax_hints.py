"""Where a syntax error's fault is, when it is not where Python points.

An unclosed bracket is reported at the line that opened it ("'(' was never
closed"), but the closer was dropped where the bracketed expression ends: in a
call spanning lines, the last line before the code goes back to the opener's
indentation (or ends). :func:`unclosed_bracket_end` finds that line, so a
finding can name both.
"""

from __future__ import annotations

import re

NEVER_CLOSED = re.compile(r"""['"]?([(\[{])['"]? was never closed""")
_BLOCK_START = re.compile(r"(?:def|class|if|elif|else|for|while|try|except|finally|with|return|raise|import|from|"
                          r"@|async\s|yield|pass|break|continue|del|assert|global|nonlocal)\b")


def _indent(row: str) -> int:
    return len(row) - len(row.lstrip(" \t"))


def unclosed_bracket_end(source: str, open_line: int) -> int | None:
    """The line where the bracket opened on ``open_line`` should have been closed:
    the last non-blank line of its continuation (lines indented deeper than the
    opener's statement that do not start a new statement). None when that is
    ``open_line`` itself or the line is out of range."""
    rows = source.splitlines()
    if not 0 < open_line <= len(rows):
        return None
    base = _indent(rows[open_line - 1])
    last = open_line
    for n in range(open_line + 1, len(rows) + 1):
        row = rows[n - 1]
        text = row.strip()
        if not text or text.startswith("#"):
            continue
        if _indent(row) <= base or _BLOCK_START.match(text):
            break
        last = n
    return last if last != open_line else None
