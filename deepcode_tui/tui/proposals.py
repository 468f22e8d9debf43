"""Repair proposals as a human sees and edits them.

A ``verify.repair.RepairProposal`` holds search/replace edits, whole-file
rewrites and smoke tests. :func:`preview` shows it as the unified diff it
would make to the repository; :func:`to_text` / :func:`from_text` turn it
into an editable text and back::

    === EDIT ema/detector.py
    <<<<<<< SEARCH
    old lines
    =======
    new lines
    >>>>>>> REPLACE
    === REWRITE ema/cli.py
    (the whole new file, up to the next === line)
    === SMOKE tests/test_smoke.py
    (the whole test file)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepcode_tui.tui.adapters import read_repo_file

_HELP = (
    "# Edit the proposed repair, then save with ctrl+s. Blocks: '=== EDIT path' with\n"
    "# <<<<<<< SEARCH / ======= / >>>>>>> REPLACE, '=== REWRITE path' or '=== SMOKE path'\n"
    "# followed by the whole file. The line break just before a marker is not part of the text\n"
    "# (an empty line there means the text ends with a line break). '#' lines up here are ignored.\n"
)


def preview(repo_dir: Path | None, proposal: Any) -> str:
    """The unified diff ``proposal`` would apply (edits of one file are applied in order)."""
    from deepcode_tui.verify.patches import unified_diff

    files: dict[str, tuple[str, str]] = {}  # path -> (before, after)
    notes: list[str] = []

    def current(path: str) -> str:
        if path not in files:
            before = (read_repo_file(repo_dir, path) if repo_dir is not None else None) or ""
            files[path] = (before, before)
        return files[path][1]

    for edit in proposal.edits:
        text = current(edit.path)
        if not edit.search:
            files[edit.path] = (files[edit.path][0], edit.replace)
        elif edit.search in text:
            files[edit.path] = (files[edit.path][0], text.replace(edit.search, edit.replace, 1))
        else:
            notes.append(
                f"# {edit.path}: the text to replace is not in the file as written; the loop may reject it\n"
            )
    for rewrite in proposal.rewrites:
        current(rewrite.path)
        files[rewrite.path] = (files[rewrite.path][0], rewrite.content)
    for path, content in proposal.smoke_tests.items():
        current(path)
        files[path] = (files[path][0], content)
    diff = "".join(unified_diff(path, before, after) for path, (before, after) in files.items())
    if proposal.blueprint_amendment:
        notes.append("# the repairer proposes a blueprint amendment (it needs your approval):\n")
        notes.extend(f"# {line}\n" for line in proposal.blueprint_amendment.splitlines())
    return "".join(notes) + diff


def to_text(proposal: Any) -> str:
    """The editable form of ``proposal`` (see the module docstring)."""
    out = [_HELP]
    for e in proposal.edits:
        out.append(
            f"=== EDIT {e.path}\n<<<<<<< SEARCH\n{_nl(e.search)}=======\n{_nl(e.replace)}>>>>>>> REPLACE\n"
        )
    for r in proposal.rewrites:
        out.append(f"=== REWRITE {r.path}\n{_nl(r.content)}")
    for path, content in proposal.smoke_tests.items():
        out.append(f"=== SMOKE {path}\n{_nl(content)}")
    return "".join(out)


def _nl(text: str) -> str:
    # Every text is followed by one separator line break, so any text round-trips exactly.
    return text + "\n"


def _text(lines: list[str]) -> str:
    joined = "".join(lines)
    return joined.removesuffix("\n")


def from_text(text: str, original: Any) -> Any:
    """Parse an edited proposal; ValueError naming the line when it is malformed.

    Fields the text does not carry (rationale, tokens, cost, amendment) are
    kept from ``original``.
    """
    from deepcode_tui.verify.patches import Edit, FileRewrite

    edits: list[Edit] = []
    rewrites: list[FileRewrite] = []
    smoke: dict[str, str] = {}
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines) and not lines[i].startswith("=== "):
        if lines[i].strip() and not lines[i].startswith("#"):
            raise ValueError(f"line {i + 1}: text before the first '=== EDIT/REWRITE/SMOKE path' block")
        i += 1
    while i < len(lines):
        head = lines[i].rstrip("\n")
        kind, _, path = head[4:].partition(" ")
        path = path.strip()
        if kind not in ("EDIT", "REWRITE", "SMOKE") or not path:
            raise ValueError(
                f"line {i + 1}: expected '=== EDIT path', '=== REWRITE path' or '=== SMOKE path'"
            )
        start = i + 1
        end = start
        while end < len(lines) and not lines[end].startswith("=== "):
            end += 1
        body = lines[start:end]
        if kind == "EDIT":
            search, replace = _edit_block(body, start)
            edits.append(Edit(path=path, search=search, replace=replace))
        elif kind == "REWRITE":
            rewrites.append(FileRewrite(path=path, content=_text(body)))
        else:
            smoke[path] = _text(body)
        i = end
    if not (edits or rewrites or smoke or original.blueprint_amendment):
        raise ValueError("the edited proposal changes nothing; use Skip instead")
    return original.model_copy(update={"edits": edits, "rewrites": rewrites, "smoke_tests": smoke})


def _edit_block(body: list[str], first: int) -> tuple[str, str]:
    marks = [
        n
        for n, line in enumerate(body)
        if line.rstrip("\n") in ("<<<<<<< SEARCH", "=======", ">>>>>>> REPLACE")
    ]
    names = [body[n].rstrip("\n") for n in marks]
    if names != ["<<<<<<< SEARCH", "=======", ">>>>>>> REPLACE"]:
        raise ValueError(
            f"line {first + 1}: an EDIT block needs '<<<<<<< SEARCH', '=======' and '>>>>>>> REPLACE', in that order"
        )
    a, b, c = marks
    if any(line.strip() for line in body[:a] + body[c + 1 :]):
        raise ValueError(f"line {first + 1}: text outside the SEARCH/REPLACE markers of an EDIT block")
    return _text(body[a + 1 : b]), _text(body[b + 1 : c])
