"""pytest output -> findings: failure and error sections (long, short and
native traceback styles), collection errors, and the short summary lines as a
fallback when sections are missing (``--tb=no``)."""

from __future__ import annotations

import re

from .findings import Finding, Kind
from .trace_context import TraceContext, classify_exception, is_test_file

_SECTION_BAR = re.compile(r"^={3,} ?(?P<title>.*?) ?={3,}$")
_HEADER = re.compile(r"^_{2,} (?P<name>.+?) _{2,}$")
_FRAME = re.compile(r"^(?P<path>[^\s:<>][^:]*?\.py):(?P<line>\d+):(?: (?P<rest>.*))?$")
_E_FILE = re.compile(r'^E\s+File "(?P<path>[^"]+)", line (?P<line>\d+)')
_E_TYPE = re.compile(
    r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Warning|Interrupt|Failed|Failure|Iteration))\b:?\s*(?P<msg>.*)$"
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


def _parse_section(name: str, body: list[str], ctx: TraceContext) -> Finding | None:
    frames: list[tuple[str, int]] = []
    trailer_type = ""
    e_lines: list[str] = []
    for line in body:
        if line.startswith("----") and "Captured" in line:
            break  # captured output follows; its tracebacks are parsed separately
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
    if not frames and not exc_type:
        return None
    file, line_no = frames[-1] if frames else (None, None)
    kind = classify_exception(exc_type or "Error", message, ctx, in_test=is_test_file(file))
    if name.startswith("ERROR collecting") and kind == Kind.EXCEPTION:
        kind = Kind.IMPORT_ERROR
    related = tuple(dict.fromkeys(f for f, _ in frames[:-1] if f != file))
    if message and exc_type and not message.startswith(exc_type) and kind != Kind.TEST_FAILURE:
        message = f"{exc_type}: {message}"
    return Finding(
        file=file, line=line_no, kind=kind, stage="sandbox", related=related,
        message=f"{name}: {message}" if message else name,
    )


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
            seen_tests.add(current.split("[")[0].split(".")[-1].replace("ERROR collecting ", ""))

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

