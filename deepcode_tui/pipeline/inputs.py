"""Checks on the input document before a run directory is created for it."""

from __future__ import annotations

import os
from pathlib import Path

from deepcode_tui.errors import InputError


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
        with open(path, "rb") as fh:
            head = fh.read(1)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", "check the file and its permissions") from None
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
