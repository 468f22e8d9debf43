"""Which files of a reference source get indexed, and their content hashes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from deepcode_tui.treesitter import language_for_path

# Build output, dependencies and tool caches: other people's code or nobody's.
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", "env", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist", "site-packages", ".eggs",
    "bower_components", "coverage", ".next", ".cache",
})
MAX_FILE_BYTES = 512 * 1024
MAX_FILES_PER_SOURCE = 20_000


def iter_source_files(root: Path) -> Iterator[tuple[str, Path]]:
    """``(relative posix path, absolute path)`` of each indexable file under ``root``, sorted.

    ``root`` may be a single file. Hidden and build directories, minified bundles,
    files over 512 KiB and languages without a grammar are skipped; symlinked
    directories are not followed (no loops); at most 20,000 files per source.
    """
    if root.is_file():
        if language_for_path(root) and _size_ok(root):
            yield root.name, root
        return
    count = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for fn in sorted(filenames):
            if language_for_path(fn) is None or fn.endswith((".min.js", ".d.ts")) or fn.startswith("."):
                continue
            p = Path(dirpath) / fn
            if not _size_ok(p):
                continue
            yield p.relative_to(root).as_posix(), p
            count += 1
            if count >= MAX_FILES_PER_SOURCE:
                return


def _size_ok(p: Path) -> bool:
    try:
        return p.is_file() and p.stat().st_size <= MAX_FILE_BYTES
    except OSError:
        return False


def content_hash(data: bytes) -> str:
    """The hash an index keys a file's content by."""
    return hashlib.sha256(data).hexdigest()
