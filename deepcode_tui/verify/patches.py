"""Apply a repairer's search/replace edits to a repo, safely and exactly.

Each edit's ``search`` text must occur exactly once in its file: first as an
exact substring; failing that, line by line ignoring indentation and
trailing whitespace (the replacement is then re-indented by the same
offset); otherwise the edit is rejected with the reason, as is an ambiguous
match. Paths must stay inside the repo: absolute paths, ``..`` and symlinks
leading out are rejected, as is anything under ``.git``. Files are written
atomically (temp file in the same directory, then ``os.replace``), and a
unified diff of everything applied is returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from deepcode_tui.diffs import unified_diff
from deepcode_tui.repo_paths import PathRefused, confine
from deepcode_tui.store.atomic import write_text_atomic


class Edit(BaseModel):
    """Replace the one occurrence of ``search`` in ``path`` (repo-relative) with ``replace``.
    An empty ``search`` creates ``path``, which must not exist yet."""

    path: str
    search: str
    replace: str


class FileRewrite(BaseModel):
    """The whole new content of ``path`` (only when a rewrite was asked for)."""

    path: str
    content: str


class EditResult(BaseModel):
    path: str
    applied: bool
    how: Literal["exact", "whitespace", "create", "rewrite", "rejected"]
    reason: str = ""


class PatchResult(BaseModel):
    """Per-edit outcomes, the combined unified diff, and the files changed."""

    results: list[EditResult] = Field(default_factory=list)
    diff: str = ""
    changed_files: list[str] = Field(default_factory=list)

    @property
    def applied(self) -> int:
        return sum(r.applied for r in self.results)

    @property
    def rejected(self) -> list[EditResult]:
        return [r for r in self.results if not r.applied]


class PathRejected(PathRefused):
    """A path that breaks the confinement rules (see :mod:`deepcode_tui.repo_paths`)."""


def resolve_in_repo(repo: Path, rel: str) -> Path:
    """The absolute path of ``rel`` inside ``repo``; raises :class:`PathRejected`
    for any path :func:`deepcode_tui.repo_paths.confine` refuses (absolute, ``..``,
    ``.git``, control characters, too long, through a symlink)."""
    try:
        norm = confine(repo, rel)
    except PathRefused as exc:
        raise PathRejected(exc.message, exc.fix) from None
    return repo.resolve() / norm


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` all or nothing, keeping the file's mode."""
    write_text_atomic(path, text)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _whitespace_match(text: str, search: str, replace: str) -> tuple[str | None, str]:
    """Apply the edit matching lines with indentation and trailing spaces ignored.
    Returns (new text, "") or (None, reason)."""
    file_lines = text.splitlines(keepends=True)
    want = [ln.strip() for ln in search.splitlines()]
    while want and not want[0]:
        want.pop(0)
    while want and not want[-1]:
        want.pop()
    if not want:
        return None, "search text is only whitespace"
    stripped = [ln.strip() for ln in file_lines]
    hits = [i for i in range(len(file_lines) - len(want) + 1) if stripped[i : i + len(want)] == want]
    if len(hits) > 1:
        return None, f"search text matches {len(hits)} places (ignoring whitespace); make it unique"
    if not hits:
        best = max(
            ((fuzz.ratio("\n".join(want), "\n".join(stripped[i : i + len(want)])), i)
             for i in range(max(1, len(file_lines) - len(want) + 1))),
            default=(0, 0),
        )
        hint = f"; closest text starts at line {best[1] + 1}" if best[0] >= 60 else ""
        return None, f"search text not found{hint}"
    start = hits[0]
    first_search = next(ln for ln in search.splitlines() if ln.strip())
    first_file = file_lines[start]
    have, had = _indent(first_file), _indent(first_search)
    new_lines = []
    for ln in replace.splitlines():
        if not ln.strip():
            new_lines.append("")
        elif ln.startswith(had):
            new_lines.append(have + ln[len(had):])
        else:
            new_lines.append(have + ln.lstrip())
    end = start + len(want)
    newline = "\r\n" if first_file.endswith("\r\n") else "\n"
    tail_nl = file_lines[end - 1].endswith(("\n", "\r\n"))
    block = newline.join(new_lines) + (newline if tail_nl and new_lines else "")
    return "".join(file_lines[:start]) + block + "".join(file_lines[end:]), ""


def apply_one(text: str, edit: Edit) -> tuple[str | None, str, str]:
    """(new text or None, how, reason) for one edit against ``text``."""
    if not edit.search:
        return None, "rejected", "empty search text (only allowed to create a new file)"
    count = text.count(edit.search)
    if count == 1:
        return text.replace(edit.search, edit.replace, 1), "exact", ""
    if count > 1:
        return None, "rejected", f"search text occurs {count} times; include more context to make it unique"
    new, reason = _whitespace_match(text, edit.search, edit.replace)
    return (new, "whitespace", "") if new is not None else (None, "rejected", reason)


def apply_edits(repo: Path, edits: Sequence[Edit], *, dry_run: bool = False) -> PatchResult:
    """Apply ``edits`` in order (several may target one file). A rejected edit
    leaves its file as the previous edits left it; nothing is written when
    ``dry_run``. Never raises for a bad edit: see ``PatchResult.results``."""
    repo = Path(repo)
    originals: dict[str, str | None] = {}
    current: dict[str, str] = {}
    paths: dict[str, Path] = {}
    results: list[EditResult] = []
    for edit in edits:
        try:
            path = resolve_in_repo(repo, edit.path)
        except PathRejected as exc:
            results.append(EditResult(path=edit.path, applied=False, how="rejected", reason=str(exc)))
            continue
        rel = path.relative_to(repo.resolve()).as_posix()
        if rel not in originals:
            if path.is_dir():
                results.append(EditResult(path=rel, applied=False, how="rejected", reason=f"{rel} is a directory"))
                continue
            try:
                originals[rel] = path.read_text(encoding="utf-8") if path.exists() else None
            except (OSError, UnicodeDecodeError) as exc:
                results.append(EditResult(path=rel, applied=False, how="rejected", reason=f"unreadable: {exc}"))
                continue
            paths[rel] = path
            if originals[rel] is not None:
                current[rel] = originals[rel]
        if rel not in current:
            if edit.search:
                results.append(EditResult(path=rel, applied=False, how="rejected",
                                          reason=f"{rel} does not exist (use an empty search to create it)"))
            else:
                current[rel] = edit.replace
                results.append(EditResult(path=rel, applied=True, how="create"))
            continue
        new, how, reason = apply_one(current[rel], edit)
        if new is None:
            results.append(EditResult(path=rel, applied=False, how="rejected", reason=reason))
        else:
            current[rel] = new
            results.append(EditResult(path=rel, applied=True, how=how))  # type: ignore[arg-type]
    return _finish(current, originals, paths, results, dry_run)


def apply_rewrites(repo: Path, rewrites: Sequence[FileRewrite], *, dry_run: bool = False) -> PatchResult:
    """Replace whole files (same confinement and atomicity as :func:`apply_edits`)."""
    repo = Path(repo)
    originals: dict[str, str | None] = {}
    current: dict[str, str] = {}
    paths: dict[str, Path] = {}
    results: list[EditResult] = []
    for rw in rewrites:
        try:
            path = resolve_in_repo(repo, rw.path)
        except PathRejected as exc:
            results.append(EditResult(path=rw.path, applied=False, how="rejected", reason=str(exc)))
            continue
        rel = path.relative_to(repo.resolve()).as_posix()
        if path.is_dir():
            results.append(EditResult(path=rel, applied=False, how="rejected", reason=f"{rel} is a directory"))
            continue
        if rel not in originals:
            try:
                originals[rel] = path.read_text(encoding="utf-8") if path.exists() else None
            except (OSError, UnicodeDecodeError):
                originals[rel] = None
        paths[rel] = path
        current[rel] = rw.content
        results.append(EditResult(path=rel, applied=True, how="rewrite"))
    return _finish(current, originals, paths, results, dry_run)


def _finish(current, originals, paths, results, dry_run) -> PatchResult:
    diffs, changed = [], []
    for rel, text in current.items():
        before = originals.get(rel) or ""
        if originals.get(rel) is not None and text == before:
            continue
        diffs.append(unified_diff(rel, before, text))
        changed.append(rel)
        if not dry_run:
            write_atomic(paths[rel], text)
    return PatchResult(results=results, diff="".join(diffs), changed_files=changed)
