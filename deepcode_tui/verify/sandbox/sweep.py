"""What the host does with a tree the sandboxed code could write, after every run.

The repo (and the env directory) are bind-mounted read-write, so whatever the
code leaves there is on the host afterwards. The sandbox uid maps to the
repo's owner, so a ``chmod 4755`` copy of a shell would be a setuid binary of
that owner on the host, and a symlink ``repo/x -> /etc`` would lead every
host-side reader out of the repo. :func:`sweep` runs after each command:

- setuid, setgid and sticky bits are cleared on every file and directory;
- in the repo, symlinks that are absolute or resolve outside it are removed,
  and so are FIFOs, sockets and device nodes (host readers would block on a
  FIFO); in-repo relative links are kept (readers never follow links anyway,
  see :mod:`deepcode_tui.safe_fs`);
- in other writable mounts (the env directory, where a venv's links to the
  rootfs's python are legitimate) links are kept but never followed, and
  special bits are cleared.

Each removal is reported, so the repairer and the user learn what happened.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pydantic import BaseModel, Field

SPECIAL_BITS = stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX


class SweepReport(BaseModel):
    """What :func:`sweep` changed, as repo-relative paths with a reason each."""

    removed: list[str] = Field(default_factory=list)
    stripped: list[str] = Field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.removed or self.stripped)


def _escapes(root: str, link: str) -> bool:
    target = os.readlink(link)
    if os.path.isabs(target):
        return True
    resolved = os.path.normpath(os.path.join(os.path.dirname(link), target))
    return not (resolved == root or resolved.startswith(root + "/"))


def sweep(root: Path, *, remove_links: bool = True, limit: int = 200_000) -> SweepReport:
    """Make ``root`` safe for host-side readers (see the module docstring).
    ``remove_links`` also removes escaping symlinks and special files (the repo);
    ``limit`` bounds the entries visited (a tree of millions of files is cut short,
    the disk guard stops such runs anyway)."""
    report = SweepReport()
    root_s = os.path.realpath(root)
    if not os.path.isdir(root_s):
        return report
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root_s, followlinks=False):
        for name in (*dirnames, *filenames):
            seen += 1
            if seen > limit:
                return report
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root_s)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            mode = st.st_mode
            if stat.S_ISLNK(mode):
                if remove_links and _escapes(root_s, full):
                    target = os.readlink(full)
                    _unlink(full)
                    report.removed.append(f"{rel} (a symlink to {target})")
                continue
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                if remove_links:
                    _unlink(full)
                    report.removed.append(f"{rel} ({_kind(mode)})")
                continue
            if mode & SPECIAL_BITS:
                try:
                    os.chmod(full, stat.S_IMODE(mode) & ~SPECIAL_BITS)
                    report.stripped.append(rel)
                except OSError:
                    pass
            if stat.S_ISDIR(mode) and not mode & stat.S_IXUSR:
                # A directory the owner cannot enter would hide files from the host's walks.
                try:
                    os.chmod(full, stat.S_IMODE(mode) | stat.S_IRWXU)
                except OSError:
                    pass
    return report


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device node"
    return "a special file"
