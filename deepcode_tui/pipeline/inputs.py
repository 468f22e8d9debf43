"""Checks on the input document before a run directory is created for it."""

from __future__ import annotations

import os
from pathlib import Path

from deepcode_tui.errors import InputError

from deepcode_tui.safe_fs import MAX_DOCUMENT_BYTES as MAX_FILE_BYTES
from deepcode_tui.safe_fs import UnsafePath, open_regular_file


def check_input(path: Path) -> Path:
    """The resolved path of a readable, non-empty file; InputError otherwise."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InputError(f"{path} does not exist", "check the path (relative paths are from the current directory)")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not a document", "give a PDF, Markdown, LaTeX or text file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path} is not readable", f"check its permissions (chmod u+r {path})")
    try:
        # Refused before any read: a device would be read forever, a FIFO blocks the open.
        fd = open_regular_file(path)
    except UnsafePath as exc:
        raise InputError(f"{exc}, not a document", "give a regular PDF, Markdown, LaTeX or text file") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", "check the file and its permissions") from None
    try:
        size = os.fstat(fd).st_size
        head = os.read(fd, 1)
    finally:
        os.close(fd)
    if size > MAX_FILE_BYTES:
        raise InputError(f"{path} is {size // 1_000_000} MB, over the {MAX_FILE_BYTES // 1_000_000} MB limit",
                         "pass a single paper, not an archive")
    if not head:
        raise InputError(f"{path} is empty", "give a document with some content")
    return path.resolve()


def check_out_dir(out: Path | None) -> Path | None:
    """``--out`` must be new or empty: a run never writes over existing files."""
    if out is None:
        return None
    out = Path(out).expanduser().resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(
            f"output directory {out} already exists and is not empty",
            "choose a new or empty directory for --out",
        )
    return out
