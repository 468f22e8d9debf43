"""Where a syntax error's fault is, when it is not where Python points.

An unclosed bracket is reported at the line that opened it ("'(' was never
closed"), or as "invalid syntax" at the next statement, but the closer was
dropped where the bracketed expression ends: in a call spanning lines, the
last line before the code goes back to the opener's indentation (or ends).
:func:`missing_closer_line` finds that line, so a finding can name both.
"""

from __future__ import annotations

import io
import re
import tokenize

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


def open_bracket_before(source: str, line: int) -> int | None:
    """The line of the innermost bracket still open when ``line`` starts, or None."""
    stack: list[int] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.start[0] >= line:
                break
            if tok.type == tokenize.OP and tok.string in "([{":
                stack.append(tok.start[0])
            elif tok.type == tokenize.OP and tok.string in ")]}" and stack:
                stack.pop()
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return stack[-1] if stack else None


def missing_closer_line(source: str, message: str, line: int) -> int | None:
    """For a syntax error reported at ``line``, the line where a dropped closing
    bracket belongs, when that is another line: the bracket "never closed" opened
    on ``line``, or one opened before ``line`` and still open there."""
    if NEVER_CLOSED.search(message):
        return unclosed_bracket_end(source, line)
    opened = open_bracket_before(source, line)
    if opened is None:
        return None
    end = unclosed_bracket_end(source, opened)
    end = end if end is not None else opened
    return end if end != line else None
