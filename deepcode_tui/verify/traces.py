"""Turn what a sandboxed run printed into located findings.

Understood: Python tracebacks (the innermost frame inside the repo gives
file:line; outer repo frames are ``related``), faulthandler stack dumps
(written by the sandbox watchdog just before a deadline, so a timeout is
located at the looping line), pytest failure sections and summaries,
import and module errors, pip resolution errors (located at the manifest
line declaring the package), argparse/CLI usage errors (located where the
bad flag is used and where the closest flag is declared), timeouts and
kills. Paths printed inside the sandbox (``/work/...``) are mapped back to
repo-relative paths; frames in the standard library or vendored packages
are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .findings import Finding, Kind, dedupe
from .sandbox.base import SandboxResult
from .trace_context import TraceContext, classify_exception, is_test_file
from .trace_pytest import CHAIN_SEPARATORS, parse_pytest, syntax_end_findings
from .trace_tools import parse_argparse, parse_pip

__all__ = ["TraceContext", "parse_output", "findings_from_result", "classify_exception", "python_tracebacks"]

_TB_START = "Traceback (most recent call last):"
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?\s*$')
_FH_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+) in (?P<func>.+?)\s*$')
_EXC_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<msg>.*))?$")
_CANNOT_OPEN = re.compile(r"can't open file '(?P<path>[^']+)'")


def _chained_next(lines: list[str], i: int) -> bool:
    """Whether the traceback that ended before line ``i`` is followed by a chained one."""
    for follow in lines[i : i + 4]:
        if follow.strip() in CHAIN_SEPARATORS:
            return True
        if follow.strip():
            return False
    return False


def python_tracebacks(text: str, ctx: TraceContext) -> list[Finding]:
    """One finding per ``Traceback (most recent call last):`` block; a chain
    (raised while handling another, or ``raise ... from``) is one finding at the
    last exception, the earlier ones' frames kept as evidence."""
    lines = text.splitlines()
    out: list[Finding] = []
    earlier: list[tuple[str, int]] = []
    cause = ""
    i = 0
    while i < len(lines):
        if lines[i].strip() != _TB_START:
            i += 1
            continue
        indent = len(lines[i]) - len(lines[i].lstrip())
        i += 1
        frames: list[tuple[str, int]] = []
        exc_type, exc_msg = "", ""
        while i < len(lines):
            line = lines[i]
            m = _FRAME.match(line)
            if m:
                rel = ctx.to_repo_rel(m.group("path"))
                if rel:
                    frames.append((rel, int(m.group("line"))))
                i += 1
                continue
            stripped = line[indent:] if len(line) - len(line.lstrip()) >= indent else line.lstrip()
            if stripped and not stripped[0].isspace():
                em = _EXC_LINE.match(stripped.strip())
                if em and stripped.strip() != _TB_START:
                    exc_type, exc_msg = em.group("type"), (em.group("msg") or "").strip()
                    i += 1
                    break
            i += 1
        if not exc_type:
            continue
        message = f"{exc_type}: {exc_msg}" if exc_msg else exc_type
        if _chained_next(lines, i):
            earlier += frames
            where = f" at {frames[-1][0]}:{frames[-1][1]}" if frames else ""
            cause = f"{message[:160]}{where}"
            continue
        file, line_no = frames[-1] if frames else (None, None)
        all_frames = [*earlier, *frames]
        related = tuple(dict.fromkeys(f for f, _ in all_frames if f != file))
        kind = classify_exception(exc_type, exc_msg, ctx, in_test=is_test_file(file))
        if cause:
            message = f"{message}; raised while handling {cause}"
        out.append(Finding(file=file, line=line_no, kind=kind, message=message, stage="sandbox", related=related,
                           frames=tuple(all_frames)))
        earlier, cause = [], ""
    return out


def faulthandler_dumps(text: str, ctx: TraceContext) -> list[Finding]:
    """Stacks dumped by faulthandler (the watchdog's timeout dump or a fatal error)."""
    out: list[Finding] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        timeout = line.startswith("Timeout (") and line.rstrip().endswith("!")
        fatal = line.startswith("Fatal Python error:")
        if not (timeout or fatal):
            continue
        frames: list[tuple[str, int]] = []
        for follow in lines[i + 1 : i + 200]:
            m = _FH_FRAME.match(follow)
            if m:
                rel = ctx.to_repo_rel(m.group("path"))
                if rel:
                    frames.append((rel, int(m.group("line"))))
            elif follow.strip() and not follow.startswith(("Thread 0x", "Current thread", "  <")) \
                    and "most recent call first" not in follow:
                break
        # faulthandler prints the most recent call first.
        file, line_no = frames[0] if frames else (None, None)
        related = tuple(dict.fromkeys(f for f, _ in frames[1:] if f != file))
        if timeout:
            limit = f" {ctx.timeout_s:g} s" if ctx.timeout_s else ""
            msg = f"did not finish within its time limit{limit}; it was running this line when stopped"
            kind = Kind.TIMEOUT
        else:
            msg, kind = line.strip(), Kind.EXCEPTION
        out.append(Finding(file=file, line=line_no, kind=kind, message=msg, stage="sandbox", related=related))
    return out


def _bare_syntax_errors(text: str, ctx: TraceContext) -> list[Finding]:
    """``python x.py`` with a syntax error in x.py prints the frame without a
    ``Traceback`` header."""
    out: list[Finding] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        em = re.match(r"^(?P<type>SyntaxError|IndentationError|TabError): (?P<msg>.*)$", line)
        if not em:
            continue
        for back in range(i - 1, max(-1, i - 6), -1):
            m = _FRAME.match(lines[back])
            if m:
                rel = ctx.to_repo_rel(m.group("path"))
                out.append(Finding(file=rel, line=int(m.group("line")) if rel else None, kind=Kind.SYNTAX_ERROR,
                                   stage="sandbox", message=f"{em.group('type')}: {em.group('msg')}"))
                break
    return out


def _module_not_run(text: str, ctx: TraceContext) -> list[Finding]:
    """Interpreter errors before any code ran: ``No module named x`` for ``-m``,
    ``can't open file`` for a missing script."""
    out: list[Finding] = []
    for line in text.splitlines():
        if _TB_START in line or line.startswith(("E ", "ModuleNotFoundError", "ImportError")):
            continue
        m = _CANNOT_OPEN.search(line)
        if m:
            rel = m.group("path")
            for root in ctx.inside_roots:
                if rel.startswith(root.rstrip("/") + "/"):
                    rel = rel[len(root.rstrip("/")) + 1 :]
            out.append(Finding(file=rel, line=None, kind=Kind.MISSING_FILE, stage="sandbox",
                               message=f"the command runs {rel}, which does not exist"))
            continue
        m = re.search(r"^\S*python[\d.]*: No module named (?P<mod>[\w.]+)", line)
        if m:
            out.append(Finding(kind=Kind.IMPORT_ERROR, stage="sandbox",
                               message=f"the command runs module {m.group('mod')}, which cannot be found"))
    return out


_CALL_ERR = re.compile(r"(?P<func>[A-Za-z_]\w*)\(\) (?:takes|missing|got an unexpected|got multiple)")


def _with_callee(f: Finding, ctx: TraceContext) -> Finding:
    """For a call-signature TypeError, add the file defining the callee to ``related``
    (the wrong side may be the call or the definition)."""
    m = _CALL_ERR.search(f.message)
    if not m or ctx.repo is None:
        return f
    pattern = re.compile(rf"^\s*(?:async\s+)?def {re.escape(m.group('func'))}\s*\(")
    defs = [rel for rel, _i, _t in ctx.grep(pattern, {".py"})]
    extra = [d for d in dict.fromkeys(defs) if d != f.file and d not in f.related]
    return f.model_copy(update={"related": (*f.related, *extra)}) if extra else f


def parse_output(
    text: str,
    ctx: TraceContext,
    *,
    exit_code: int | None = None,
    timed_out: bool = False,
    killed_reason: str | None = None,
) -> list[Finding]:
    """Findings for one command's output; a failing run always yields at least one."""
    findings: list[Finding] = []
    pytest_findings = parse_pytest(text, ctx)
    findings += pytest_findings
    # pytest reprints tracebacks in its own format; plain ones only outside its sections.
    tb = python_tracebacks(text, ctx)
    covered = {(f.file, f.line) for f in pytest_findings}
    findings += [f for f in tb if (f.file, f.line) not in covered]
    findings += faulthandler_dumps(text, ctx)
    findings += [f for f in _bare_syntax_errors(text, ctx) if (f.file, f.line) not in covered]
    findings += parse_pip(text, ctx)
    findings += parse_argparse(text, ctx)
    findings += _module_not_run(text, ctx)
    findings += [end for f in list(findings) for end in syntax_end_findings(f, ctx)]
    cmd = " ".join(ctx.command) or "the command"
    if timed_out and not any(f.kind == Kind.TIMEOUT for f in findings):
        limit = f" {ctx.timeout_s:g} s" if ctx.timeout_s else " its time limit"
        findings.append(Finding(kind=Kind.TIMEOUT, stage="sandbox",
                                message=f"`{cmd}` did not finish within{limit} and was killed"))
    elif killed_reason and not timed_out:
        located = next((f for f in findings if "MemoryError" in f.message), None)
        findings.append(Finding(file=located.file if located else None, line=located.line if located else None,
                                kind=Kind.KILLED, stage="sandbox", message=f"`{cmd}` {killed_reason}"))
    failed = timed_out or bool(killed_reason) or (exit_code not in (None, 0))
    if failed and not [f for f in findings if f.severity == "error"]:
        tail = "\n".join(text.strip().splitlines()[-5:]) or "no output"
        findings.append(Finding(kind=Kind.COMMAND_FAILED, stage="sandbox",
                                message=f"`{cmd}` exited with status {exit_code}: {tail}"))
    return dedupe(_with_callee(f, ctx) for f in findings)


def findings_from_result(result: SandboxResult, ctx: TraceContext) -> list[Finding]:
    """:func:`parse_output` on a :class:`SandboxResult` (command taken from it if unset)."""
    if not ctx.command:
        ctx.command = result.command
    return parse_output(
        result.combined_output(), ctx, exit_code=result.exit_code, timed_out=result.timed_out,
        killed_reason=result.killed_reason,
    )


def excerpt(text: str, findings: Sequence[Finding], max_lines: int = 80) -> str:
    """The part of a long output worth showing a repairer: the tail, where errors end up."""
    lines = text.splitlines()
    if len(lines) <= max_lines:
        return text
    return "\n".join(["[... earlier output omitted ...]", *lines[-max_lines:]])
