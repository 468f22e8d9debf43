"""Where a syntax error's fault is, when it is not where Python points.

An unclosed bracket is reported at the line that opened it ("'(' was never
closed"), or as "invalid syntax" at the next statement, but the closer was
dropped where the bracketed expression ends: in a call spanning lines, the
last line before the code goes back to the opener's indentation (or ends).
When the bracket left open is an inner one (a call among the arguments of a
call spanning lines: ``int(x.f(),`` with its ``)`` dropped), Python pairs the
brackets greedily, so the inner bracket takes the outer one's closer and the
*outer* opener is the one "never closed"; the dropped closer then belongs on
the line that leaves a bracket open although the next line is not indented
under it. :func:`missing_closer_line` finds that line, so a finding can name both.
"""

from __future__ import annotations

import io
import re
import tokenize

from .findings import Finding, Kind

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


def _net_opened(source: str) -> dict[int, int]:
    """Per line, brackets opened minus closed on it (strings and comments ignored;
    tokens up to where the tokenizer gives up)."""
    net: dict[int, int] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.OP and tok.string in "([{":
                net[tok.start[0]] = net.get(tok.start[0], 0) + 1
            elif tok.type == tokenize.OP and tok.string in ")]}":
                net[tok.start[0]] = net.get(tok.start[0], 0) - 1
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # an unclosed bracket ends the stream at EOF: the lines before are counted
    return net


def left_open_line(source: str, first: int, last: int) -> int | None:
    """The first line in ``first..last`` that leaves a bracket open although the
    next non-blank line is not indented deeper and does not start with a closer:
    where code laid out by indentation shows a closer is missing. None if none."""
    rows = source.splitlines()
    net = _net_opened(source)
    for n in range(max(first, 1), min(last, len(rows)) + 1):
        if net.get(n, 0) <= 0:
            continue
        nxt = next((m for m in range(n + 1, len(rows) + 1)
                    if rows[m - 1].strip() and not rows[m - 1].lstrip().startswith("#")), None)
        if nxt is None:
            return n
        text = rows[nxt - 1].lstrip()
        if _indent(rows[nxt - 1]) <= _indent(rows[n - 1]) and not text.startswith((")", "]", "}")):
            return n
    return None


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
        opened = line
    else:
        opened = open_bracket_before(source, line)
        if opened is None:
            return None
    end = unclosed_bracket_end(source, opened)
    if end is None and opened == line:
        return None
    end = end if end is not None else opened
    # An inner bracket left open inside the expression (it took the outer closer) comes first.
    inner = left_open_line(source, opened + 1, end)
    found = inner if inner is not None else end
    return found if found != line else None


def closer_finding(f: Finding, source: str | None) -> Finding | None:
    """For a syntax-error finding caused by a bracket left open, a copy located
    where the closer belongs (:func:`missing_closer_line`), when that is another
    line; None otherwise. Shared by the static pass and trace analysis."""
    if f.kind != Kind.SYNTAX_ERROR or not source or not f.line or not (f.file or "").endswith(".py"):
        return None
    end = missing_closer_line(source, f.message, f.line)
    if end is None:
        return None
    return f.model_copy(update={"line": end, "message": "SyntaxError: a bracket left open is likely missing its "
                                                        f"closer on this line ({f.message[-120:]})"})
