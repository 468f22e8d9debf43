"""CodeMem's cross-file consistency check, run on the repository as it is now.

The code-generation phase checks consistency once, over the memory it built
while writing; after the repair loop patches files those findings are stale.
Here memory entries are extracted afresh from the current files (tree-sitter,
deterministic, no model) and :func:`deepcode_tui.codegen.consistency.check_consistency`
runs over them, so each static pass reports imports that no longer resolve,
symbols that do not exist and calls whose arity does not fit the callee.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from deepcode_tui import safe_fs
from deepcode_tui.treesitter import language_for_path

from .findings import Finding, Kind

if TYPE_CHECKING:
    from deepcode_tui.codegen.memory import MemoryEntry

# The kinds check_consistency emits (all located at the using file and line).
CONSISTENCY_KINDS = frozenset({"unresolved_import", "missing_file", "missing_symbol", "missing_member",
                               "arity_mismatch"})
_DEFINER = re.compile(r"(?:defined in|from) (?P<file>\S+?)(?:\)|,|$)")


def repo_memory_entries(repo: Path, files: Sequence[Path], *, project_files: Iterable[str] = ()) -> list[MemoryEntry]:
    """Fresh memory entries for ``files`` (absolute paths inside ``repo``).

    ``project_files`` (e.g. the blueprint's paths) join the files on disk in the
    module index, so an import of a planned but missing file resolves to it.
    A file that does not parse gets an entry that claims every name and no
    signature: its syntax error is reported by the syntax check, and a
    half-parsed interface must not make its importers look wrong.
    """
    from deepcode_tui.codegen.interface import Interface
    from deepcode_tui.codegen.memory import MemoryEntry, extract_entry
    from deepcode_tui.codegen.resolve import ModuleIndex

    rels = [p.relative_to(repo).as_posix() for p in files]
    index = ModuleIndex(dict.fromkeys([*rels, *(PurePosixPath(f).as_posix() for f in project_files)]))
    entries: list[MemoryEntry] = []
    for rel, path in zip(rels, files, strict=True):
        try:
            code = safe_fs.read_text(repo, rel)
        except OSError:
            continue
        entry = extract_entry(rel, code, project_files=index, origin="existing")
        if entry.parse_error:
            entry = MemoryEntry(path=rel, language=entry.language, interface=Interface(dynamic=True),
                                content_hash=entry.content_hash, origin="existing", parse_error=True)
        entries.append(entry)
    return entries


def _with_definer(f: Finding, known: set[str]) -> Finding:
    """The file defining (or expected to define) the symbol goes into ``related``:
    the wrong side of a mismatch may be the definition rather than the use."""
    m = _DEFINER.search(f.message)
    if m and m.group("file") in known and m.group("file") != f.file:
        return f.model_copy(update={"related": (*f.related, m.group("file"))})
    return f


def check_repo_consistency(
    repo: Path, files: Sequence[Path] | None = None, *, expected_files: Iterable[str] = ()
) -> list[Finding]:
    """Consistency findings (stage "static") for the Python/JS/TS files of ``repo``
    as they are on disk now. ``files`` defaults to every source file the static
    pass checks. Never raises for repo content: an internal failure of the
    extractor becomes one warning finding."""
    from deepcode_tui.codegen.consistency import check_consistency

    from .static import source_files

    repo = Path(repo)
    files = [p for p in (files if files is not None else source_files(repo)) if language_for_path(p)]
    expected = list(expected_files)
    try:
        entries = repo_memory_entries(repo, files, project_files=expected)
        found = check_consistency(entries, project_files=[*(e.path for e in entries), *expected])
    except Exception as exc:  # noqa: BLE001 (an extractor bug must not stop verification)
        return [Finding(kind=Kind.CONSISTENCY, stage="static", severity="warning",
                        message=f"consistency check skipped: {type(exc).__name__}: {exc}")]
    known = {e.path for e in entries}
    return [_with_definer(f.model_copy(update={"stage": "static"}), known) for f in found]
