"""Turning a model reply into a file on disk, safely.

- :func:`extract_code` picks this file's code out of a reply: fenced blocks
  (any number, ``` or ~~~, language tags, ``path=``/``lang:path``/a filename
  on the line before or a ``# file:`` first line) or an unfenced reply with
  leading prose; a block labelled with a path outside the repo is rejected
  with a finding.
- :func:`code_problem` says why code is unusable: empty, or cut off (an
  unclosed fence, a syntax error running into the end of the file, an
  unbalanced bracket at EOF). The loop retries such replies.
- :func:`confine_path` normalises a proposed path and rejects absolute paths,
  ``..``, ``.git/`` and symlinks leading out of the repo.
- :func:`atomic_write_text` and :func:`unified_diff` write and describe it.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field

from deepcode_tui.codegen.findings import Finding
from deepcode_tui.diffs import unified_diff  # noqa: F401  (re-exported for codegen callers)
from deepcode_tui.repo_paths import PathRefused, confine
from deepcode_tui.store.atomic import write_text_atomic
from deepcode_tui.treesitter import get_parser, language_for_path

_FENCE = re.compile(r"^(?P<indent>[ \t]{0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_PATHLIKE = re.compile(
    r"^[\w@.~/\\-]*[\w-]\.[A-Za-z0-9]{1,8}$|^[\w.-]+/[\w./-]+$|^(Makefile|Dockerfile|LICENSE)$"
)
_LABEL_LINE = re.compile(
    r"[`*#\s]*(?:(?:file(?:name)?|path)\s*[:=]\s*)?[`*\"']*(?P<p>[\w@.~/\\-]+)[`*\"']*\s*:?\s*$",
    re.IGNORECASE,
)
_FIRST_LINE_LABEL = re.compile(
    r"^\s*(?:#|//|<!--)\s*(?:file(?:name)?|path)\s*:\s*(?P<p>\S+?)\s*(?:-->)?\s*$", re.IGNORECASE
)
_INFO_KV = re.compile(r"(?:path|file|filename|title)\s*=\s*[\"']?(?P<p>[^\s\"']+)", re.IGNORECASE)
_LANG_ALIASES = {
    "python": {"python", "py", "python3", "py3"},
    "javascript": {"javascript", "js", "jsx", "mjs", "cjs", "node"},
    "typescript": {"typescript", "ts"},
    "tsx": {"tsx", "typescript", "ts"},
}
_KNOWN_LANGS = set().union(*_LANG_ALIASES.values()) | {
    "bash",
    "sh",
    "shell",
    "console",
    "zsh",
    "powershell",
    "json",
    "yaml",
    "yml",
    "toml",
    "ini",
    "text",
    "txt",
    "markdown",
    "md",
    "html",
    "css",
    "sql",
    "diff",
    "c",
    "cpp",
    "java",
    "go",
    "rust",
    "dockerfile",
}
_CODE_START = {
    "python": re.compile(
        r"^(from\s|import\s|def\s|async\s+def\s|class\s|@|#!|\"\"\"|'''|#|if\s|try:|[A-Za-z_]\w*\s*(:|=))"
    ),
    "javascript": re.compile(
        r"^(import\s|export\s|const\s|let\s|var\s|function\s|async\s|class\s|['\"]use |//|/\*|#!|module\.)"
    ),
}
_PROSE = re.compile(r"^[A-Z][a-z']+(\s+\S+){2,}[.!:]?$")


class PathRejected(PathRefused):
    """A proposed path breaks the confinement rules (see :mod:`deepcode_tui.repo_paths`)."""


class CodeBlock(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    language: str | None = None
    label: str | None = None  # the path the reply attaches to this block
    closed: bool = True


class Extraction(BaseModel):
    """This file's code from one reply, or why there is none."""

    model_config = ConfigDict(extra="forbid")

    code: str | None = None
    problem: str | None = None  # set when ``code`` is unusable: empty, truncated, no block for this file
    findings: list[Finding] = Field(default_factory=list)


# --- fenced and unfenced replies ---------------------------------------------


def parse_blocks(reply: str) -> list[CodeBlock]:
    """Every fenced block of ``reply`` in order (an unclosed last fence gives ``closed=False``)."""
    lines = reply.splitlines()
    blocks: list[CodeBlock] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.group("fence"), m.group("info").strip()
        language, label = _parse_info(info)
        if label is None:
            label = _label_before(lines, i)
        body: list[str] = []
        j = i + 1
        closed = False
        while j < len(lines):
            c = lines[j].strip()
            if c and c[0] == fence[0] and set(c) == {fence[0]} and len(c) >= len(fence):
                closed = True
                break
            body.append(lines[j])
            j += 1
        code = "\n".join(body) + ("\n" if body else "")
        if label is None and body:
            fm = _FIRST_LINE_LABEL.match(body[0])
            label = fm.group("p") if fm else None
        blocks.append(CodeBlock(code=code, language=language, label=label, closed=closed))
        i = j + 1
    return blocks


def _parse_info(info: str) -> tuple[str | None, str | None]:
    if not info:
        return None, None
    kv = _INFO_KV.search(info)
    tokens = info.split()
    first = tokens[0] if tokens else ""
    language: str | None = None
    label = kv.group("p") if kv else None
    if ":" in first and not first.startswith(("http", "{")):  # ```python:src/model.py
        lang, _, path = first.partition(":")
        language, label = lang.lower() or None, label or path or None
    elif first.lower() in _KNOWN_LANGS or not _PATHLIKE.match(first):
        language = first.lower() if "=" not in first else None
    else:
        label = label or first
    if label is None:
        for t in tokens[1:]:
            if "=" not in t and _PATHLIKE.match(t):
                label = t
                break
    return language, label


def _label_before(lines: list[str], i: int) -> str | None:
    for k in range(i - 1, max(-1, i - 3), -1):
        text = lines[k].strip()
        if not text:
            continue
        if len(text) > 120 or _FENCE.match(lines[k]):
            return None
        m = _LABEL_LINE.fullmatch(text)
        if m and _PATHLIKE.match(m.group("p")):
            return m.group("p")
        tail = re.findall(r"`([^`\s]+)`", text)  # "Here is `src/model.py`:"
        if text.endswith(":") and tail and _PATHLIKE.match(tail[-1]):
            return tail[-1]
        return None
    return None


def _label_matches(label: str, target: str) -> bool:
    norm = posixpath.normpath(label.strip().replace("\\", "/")).lstrip("./") if label else ""
    return bool(norm) and (norm == target or target.endswith("/" + norm))


_SHELL_LANGS = frozenset({"bash", "sh", "shell", "zsh"})


def _lang_fits(block_lang: str | None, target_lang: str | None) -> bool:
    if block_lang is None or block_lang not in _KNOWN_LANGS:
        return True
    if target_lang is None:
        return block_lang not in ("bash", "sh", "shell", "console", "zsh", "powershell", "diff")
    return block_lang in _LANG_ALIASES.get(target_lang, {target_lang})


def _strip_prose(reply: str, language: str | None) -> str:
    """An unfenced reply's code: leading prose dropped, trailing prose trimmed while it breaks the parse."""
    text = reply.strip("\n")
    start_re = _CODE_START.get("javascript" if language in ("typescript", "tsx") else language or "")
    if start_re is None:
        return text.strip() + "\n" if text.strip() else ""
    lines = text.splitlines()
    start = next((k for k, line in enumerate(lines) if start_re.match(line)), 0)
    lines = lines[start:]
    while lines and language and _parse_has_error("\n".join(lines) + "\n", language):
        last = lines[-1].strip()
        if last and not _PROSE.match(last):
            break
        lines.pop()
    return "\n".join(lines).rstrip() + "\n" if lines else ""


def extract_code(reply: str, target_path: str, *, repo: Path | None = None) -> Extraction:
    """The code for ``target_path`` in ``reply``; ``problem`` says why there is none.

    Blocks labelled with another path are not used; a label escaping ``repo``
    (when given) becomes a ``path_escape`` finding.
    """
    language = language_for_path(target_path)
    # A shell block is usually a command to run, not file content; for a shell script it is the file.
    shell_target = PurePosixPath(target_path).suffix.lower() in (".sh", ".bash")
    findings: list[Finding] = []
    blocks = parse_blocks(reply or "")
    if not blocks:
        code = _strip_prose(reply or "", language)
        return Extraction(code=code, problem=code_problem(code, target_path), findings=findings)
    mine: list[CodeBlock] = []
    unlabelled: list[CodeBlock] = []
    for b in blocks:
        if b.label and _label_matches(b.label, target_path):
            mine.append(b)
            continue
        if b.label:
            if repo is not None:
                try:
                    confine_path(repo, b.label)
                except PathRejected as e:
                    findings.append(
                        Finding(
                            file=target_path,
                            kind="path_escape",
                            severity="error",
                            message=f"the reply proposed {b.label!r}: {e.message}; block ignored",
                        )
                    )
                    continue
            if not _PATHLIKE.match(b.label.strip()):
                unlabelled.append(b)  # an odd label, not a path: treat as unlabelled
            continue
        if _lang_fits(b.language, language) or (shell_target and b.language in _SHELL_LANGS):
            unlabelled.append(b)
    if mine:
        closed = [b for b in mine if b.closed]
        chosen = closed[-1] if closed else mine[-1]
    elif unlabelled:
        chosen = max(unlabelled, key=lambda b: (b.closed, len(b.code)))
    else:
        why = "its only code block was rejected" if findings else "no code block for this file"
        return Extraction(problem=why, findings=findings)
    if not chosen.closed:
        return Extraction(
            code=chosen.code, problem="truncated: the code block is never closed", findings=findings
        )
    return Extraction(code=chosen.code, problem=code_problem(chosen.code, target_path), findings=findings)


# --- empty / truncated --------------------------------------------------------


def _parse_has_error(code: str, language: str) -> bool:
    return get_parser(language).parse(code.encode("utf-8")).root_node.has_error


def code_problem(code: str | None, path: str) -> str | None:
    """Why ``code`` must not be written as ``path`` (empty or cut off), or None."""
    if code is None or not code.strip():
        return "empty: the reply holds no code"
    language = language_for_path(path)
    if language is not None:
        data = code.encode("utf-8")
        root = get_parser(language).parse(data).root_node
        if root.has_error:
            end = len(data.rstrip())
            err_end, err_line = _last_error(root)
            if err_end >= end:
                return (
                    f"truncated: the code breaks off at line {err_line} (syntax error running into the end)"
                )
    elif path.endswith(".json"):
        try:
            json.loads(code)
        except json.JSONDecodeError as e:
            if e.pos >= len(code.rstrip()) - 1:
                return "truncated: the JSON ends before it is complete"
    return None


def _last_error(root) -> tuple[int, int]:
    """(end byte, 1-based line) of the last ERROR or MISSING node."""
    best = (-1, 0)
    stack = [root]
    while stack:
        n = stack.pop()
        if (n.is_error or n.is_missing) and n.end_byte > best[0]:
            best = (n.end_byte, n.start_point[0] + 1)
        if n.has_error:
            stack.extend(n.children)
    return best


# --- paths and writes ---------------------------------------------------------


def confine_path(repo: Path, proposed: str) -> str:
    """``proposed`` as a normalised repo-relative POSIX path, or :class:`PathRejected`
    (the rules are :mod:`deepcode_tui.repo_paths`'s, shared by every writer). Quotes
    and backticks a model wraps a label in are dropped first."""
    raw = (proposed or "").strip().strip("`\"'")
    try:
        return confine(repo, raw)
    except PathRefused as exc:
        raise PathRejected(exc.message, exc.fix) from None


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` all or nothing (temp file + ``os.replace``), keeping the file's mode."""
    write_text_atomic(path, text)


