"""pytest output -> findings: failure and error sections (long, short and
native traceback styles; chained exceptions: the last one failed the test),
collection errors, and the short summary lines as a fallback when sections
are missing (``--tb=no``). An assertion failure's message carries what it
expected and what it got (:mod:`.trace_assertions`)."""

from __future__ import annotations

import re

from .findings import Finding, Kind
from .syntax_hints import closer_finding
from .trace_assertions import comparison
from .trace_context import TraceContext, classify_exception, is_test_file

_SECTION_BAR = re.compile(r"^={3,} ?(?P<title>.*?) ?={3,}$")
_HEADER = re.compile(r"^_{2,} (?P<name>.+?) _{2,}$")
_FRAME = re.compile(r"^(?P<path>[^\s:<>][^:]*?\.py):(?P<line>\d+):(?: (?P<rest>.*))?$")
_E_FILE = re.compile(r'^E\s+File "(?P<path>[^"]+)", line (?P<line>\d+)')
_E_TYPE = re.compile(
    r"^(?P<type>(?:[A-Za-z_][\w.]*)?(?:Error|Exception|Exit|Warning|Interrupt|Failed|Failure|Iteration))\b:?\s*"
    r"(?P<msg>.*)$"
)
_SUMMARY = re.compile(r"^(?P<status>FAILED|ERROR) (?P<path>[^\s:]+)(?:::(?P<test>\S+))?(?: - (?P<msg>.*))?$")


def _looks_like_pytest(text: str) -> bool:
    return bool(re.search(r"^=+ (FAILURES|ERRORS|short test summary info|.*(passed|failed|error).*) =+$", text, re.M))


def _test_def_line(ctx: TraceContext, rel: str, test: str | None) -> int | None:
    if not test:
        return None
    func = re.sub(r"\[.*\]$", "", test).split("::")[-1]
    for i, line in enumerate(ctx.read(rel).splitlines(), 1):
        if re.match(rf"\s*(async\s+)?def {re.escape(func)}\s*\(", line):
            return i
    return None


CHAIN_SEPARATORS = ("During handling of the above exception, another exception occurred:",
                    "The above exception was the direct cause of the following exception:")


def _segments(body: list[str]) -> list[list[str]]:
    """A section's body cut at chained-exception separators: the handled or
    causing exceptions first, the one that failed the test last."""
    out: list[list[str]] = [[]]
    for line in body:
        if line.startswith("----") and "Captured" in line:
            break  # captured output follows; its tracebacks are parsed separately
        if line.strip() in CHAIN_SEPARATORS:
            out.append([])
        else:
            out[-1].append(line)
    return [seg for seg in out if any(x.strip() for x in seg)] or [[]]


def _parse_segment(seg: list[str], ctx: TraceContext) -> tuple[list[tuple[str, int]], str, str, list[str]]:
    """(repo frames, exception type, message, E lines) of one exception of a chain."""
    frames: list[tuple[str, int]] = []
    trailer_type = ""
    e_lines: list[str] = []
    for line in seg:
        m = _E_FILE.match(line)
        if m:
            rel = ctx.to_repo_rel(m.group("path"))
            if rel:
                frames.append((rel, int(m.group("line"))))
            continue
        if line.startswith("E ") or line == "E":
            e_lines.append(line[1:].strip())
            continue
        m = _FRAME.match(line)
        if m:
            rel = ctx.to_repo_rel(m.group("path"))
            if rel:
                frames.append((rel, int(m.group("line"))))
            rest = (m.group("rest") or "").strip()
            if rest and not rest.startswith("in "):
                trailer_type = rest
    exc_type, message = "", ""
    for e in e_lines:
        tm = _E_TYPE.match(e)
        if tm:
            exc_type, message = tm.group("type"), e
            break
    if not exc_type:
        exc_type = trailer_type or ("AssertionError" if any(e.startswith("assert") for e in e_lines) else "")
        message = next((e for e in e_lines if e), exc_type)
    return frames, exc_type, message, e_lines


def _source_line(ctx: TraceContext, frame: tuple[str, int] | None) -> str | None:
    if frame is None:
        return None
    rows = ctx.read(frame[0]).splitlines()
    return rows[frame[1] - 1] if 0 < frame[1] <= len(rows) else None


def _parse_section(name: str, body: list[str], ctx: TraceContext) -> Finding | None:
    """One failed test's section. With chained exceptions (raised while handling
    another, or ``raise ... from``), the last one is what failed the test: a test
    that catches the expected exception and then fails an assertion on it is an
    assertion failure; the earlier exceptions' frames are kept as evidence."""
    parsed = [_parse_segment(seg, ctx) for seg in _segments(body)]
    frames, exc_type, message, e_lines = parsed[-1]
    if not frames and not exc_type:
        return None
    file, line_no = frames[-1] if frames else (None, None)
    kind = classify_exception(exc_type or "Error", message, ctx, in_test=is_test_file(file))
    if name.startswith("ERROR collecting") and kind == Kind.EXCEPTION:
        kind = Kind.IMPORT_ERROR
    all_frames = [f for p in parsed for f in p[0]]
    related = tuple(dict.fromkeys(f for f, _ in all_frames if f != file))
    if message and exc_type and not message.startswith(exc_type) and kind != Kind.TEST_FAILURE:
        message = f"{exc_type}: {message}"
    if kind == Kind.TEST_FAILURE:
        cmp = comparison(e_lines, _source_line(ctx, frames[-1] if frames else None))
        if cmp is not None:
            message = f"{message} ({cmp.describe()})"
    if len(parsed) > 1:
        earlier = [p for p in parsed[:-1] if p[1]]
        if earlier:
            c_frames, c_type, c_msg, _ = earlier[-1]
            c_msg = c_msg if c_msg.startswith(c_type) else f"{c_type}: {c_msg}"
            where = f" at {c_frames[-1][0]}:{c_frames[-1][1]}" if c_frames else ""
            message = f"{message}; raised while handling {c_msg[:160]}{where}"
    return Finding(
        file=file, line=line_no, kind=kind, stage="sandbox", related=related, frames=tuple(all_frames),
        message=f"{name}: {message}" if message else name,
    )


def syntax_end_findings(f: Finding, ctx: TraceContext) -> list[Finding]:
    """For a syntax error caused by a bracket left open, a finding at the line
    where it should have been closed (:func:`.syntax_hints.closer_finding`),
    when that is another line."""
    if f.kind != Kind.SYNTAX_ERROR or not f.file or not f.line or not f.file.endswith(".py"):
        return []
    end = closer_finding(f, ctx.read(f.file))
    return [end] if end is not None else []


def parse_pytest(text: str, ctx: TraceContext) -> list[Finding]:
    """Findings for each failed or erroring test in pytest's output (empty when
    the text is not pytest output)."""
    if not _looks_like_pytest(text):
        return []
    lines = text.splitlines()
    findings: list[Finding] = []
    in_sections = False
    current: str | None = None
    body: list[str] = []
    seen_tests: set[str] = set()

    def flush() -> None:
        if current is not None:
            f = _parse_section(current, body, ctx)
            if f is not None:
                findings.append(f)
            if current.startswith("ERROR collecting "):
                # The summary names the module as the section does: ``ERROR tests/test_x.py``.
                seen_tests.add(current.removeprefix("ERROR collecting ").strip())
            else:
                seen_tests.add(current.split("[")[0].split(".")[-1])

    for line in lines:
        bar = _SECTION_BAR.match(line)
        if bar:
            flush()
            current, body = None, []
            in_sections = bar.group("title") in ("FAILURES", "ERRORS")
            continue
        if not in_sections:
            continue
        h = _HEADER.match(line)
        if h:
            flush()
            current, body = h.group("name"), []
            continue
        if current is not None:
            body.append(line)
    flush()
    # Summary lines for tests whose sections were not printed (--tb=no, -q -rf).
    for line in lines:
        m = _SUMMARY.match(line)
        if not m:
            continue
        test = m.group("test")
        key = (test or m.group("path")).split("::")[-1].split("[")[0]
        if key in seen_tests or (not test and m.group("path") in seen_tests):
            continue
        rel = ctx.to_repo_rel(m.group("path"))
        msg = m.group("msg") or m.group("status")
        tm = _E_TYPE.match(msg)
        kind = classify_exception(tm.group("type"), msg, ctx, in_test=True) if tm else Kind.TEST_FAILURE
        if m.group("status") == "ERROR" and kind in (Kind.TEST_FAILURE, Kind.EXCEPTION) and not test:
            kind = Kind.IMPORT_ERROR
        findings.append(Finding(
            file=rel, line=_test_def_line(ctx, rel, test) if rel else None, kind=kind, stage="sandbox",
            message=f"{test or m.group('path')}: {msg}",
        ))
        seen_tests.add(key)
    return findings


def enclosing_test_frame(text: str, offset: int, ctx: TraceContext) -> tuple[str, int] | None:
    """For output at ``offset`` inside a pytest failure/error section (e.g. captured
    stderr), the innermost frame of that section that lies in a test file: where
    the failing test was when it failed. None outside sections or without one."""
    lines = text[:offset].splitlines()
    start = None
    for i in range(len(lines) - 1, -1, -1):
        if _SECTION_BAR.match(lines[i]):
            return None
        if _HEADER.match(lines[i]):
            start = i
            break
    if start is None:
        return None
    end = text.find("\n", offset)
    body = text[: end if end >= 0 else len(text)].splitlines()[start + 1 :]
    found = None
    for line in body:
        if _SECTION_BAR.match(line) or _HEADER.match(line):
            break
        m = _FRAME.match(line) or _E_FILE.match(line)
        if m:
            rel = ctx.to_repo_rel(m.group("path"))
            if rel and is_test_file(rel):
                found = (rel, int(m.group("line")))
    return found

