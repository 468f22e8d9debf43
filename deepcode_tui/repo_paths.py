"""The one confinement rule for every path a model proposes.

The planner names the files of the blueprint, the coder labels its code
blocks, the repairer names the files it edits or rewrites. Each such path
goes through :func:`confine` before anything is created, read or written:

- relative, POSIX, normalised (``./a//b.py`` -> ``a/b.py``; backslashes are
  separators); never absolute, never ``~``, never a drive letter;
- never out of the repository (``..`` that climbs out) and never into
  ``.git``;
- no control characters (newline, tab, NUL, DEL, Unicode line separators):
  a file name with a newline in it breaks every log, diff and shell line;
- bounded: each component at most :data:`MAX_COMPONENT_BYTES` bytes of UTF-8
  (file systems stop at 255), the whole at most :data:`MAX_PATH_BYTES`, at
  most :data:`MAX_DEPTH` directories deep;
- with a repository given: no existing component is a symlink that leads out
  of the repository (the sandbox may have made one), and an existing target
  is not a FIFO, socket or device.

A refused path raises :class:`PathRefused` (a user-facing error with a fix);
callers turn it into a finding or a validation error, never a crash.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from pathlib import Path

from deepcode_tui.errors import DeepcodeError

MAX_COMPONENT_BYTES = 200
MAX_PATH_BYTES = 1000
MAX_DEPTH = 20
FIX = "use a short relative path inside the repository (letters, digits, '_', '-', '.', '/')"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")


class PathRefused(DeepcodeError):
    """A model-proposed path that breaks the confinement rules."""


def path_problem(proposed: str) -> str | None:
    """Why ``proposed`` is not an acceptable repo-relative path (None when it is);
    checks only the text, not the file system."""
    raw = proposed or ""
    if _CONTROL.search(raw):
        return f"path {raw[:80]!r} contains a control character (newline, tab, NUL ...)"
    s = raw.strip().replace("\\", "/")
    if not s:
        return "empty path"
    if s.startswith(("/", "~")) or re.match(r"^[A-Za-z]:/", s):
        return f"{s[:80]!r} is an absolute path"
    norm = posixpath.normpath(s)
    if norm in (".", "") or norm == ".." or norm.startswith("../"):
        return f"{s[:80]!r} leaves the repository"
    parts = norm.split("/")
    if ".git" in parts:
        return f"{s[:80]!r} is inside .git"
    if len(norm.encode()) > MAX_PATH_BYTES:
        return f"path of {len(norm.encode())} bytes is longer than {MAX_PATH_BYTES}"
    long = next((p for p in parts if len(p.encode()) > MAX_COMPONENT_BYTES), None)
    if long is not None:
        return f"path component {long[:40]!r}... is longer than {MAX_COMPONENT_BYTES} bytes"
    if len(parts) > MAX_DEPTH + 1:
        return f"path is {len(parts) - 1} directories deep (at most {MAX_DEPTH})"
    return None


def normalise(proposed: str) -> str:
    """``proposed`` normalised (no checks): strip, backslashes to '/', collapse ``./``."""
    s = (proposed or "").strip().replace("\\", "/")
    norm = posixpath.normpath(s) if s else ""
    return "" if norm == "." else norm


def confine(repo: Path | None, proposed: str) -> str:
    """``proposed`` as a normalised repo-relative POSIX path, or :class:`PathRefused`.
    With ``repo``, also refuses symlinked components and non-regular targets."""
    problem = path_problem(proposed)
    if problem:
        raise PathRefused(problem, FIX)
    norm = normalise(proposed)
    if repo is None:
        return norm
    root = os.path.realpath(repo)
    cur = root
    parts = norm.split("/")
    for i, part in enumerate(parts):
        cur = os.path.join(cur, part)
        try:
            st = os.lstat(cur)
        except (FileNotFoundError, NotADirectoryError):
            break  # the writer reports a file standing where a directory should be
        except OSError as exc:
            raise PathRefused(f"{norm!r} cannot be checked: {exc.strerror}", FIX) from None
        if stat.S_ISLNK(st.st_mode):
            dest = os.path.realpath(cur)
            if not (dest == root or dest.startswith(root.rstrip("/") + "/")):
                raise PathRefused(
                    f"{norm!r} goes through a symlink pointing outside the repository "
                    f"({'/'.join(parts[: i + 1])})", FIX)
            cur = dest
            try:
                st = os.stat(cur)
            except OSError:
                break
        if i == len(parts) - 1 and not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            raise PathRefused(f"{norm!r} exists and is not a regular file", FIX)
    return norm
