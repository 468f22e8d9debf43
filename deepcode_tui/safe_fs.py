"""Host-side reads of trees that hostile code may have written.

The generated repository (and the sandbox's writable mounts) are written by
code we do not trust. Anything on the host that walks or reads them goes
through this module, which promises:

- no symlink is followed: walks list regular files only (``lstat``), and a
  read opens with ``O_NOFOLLOW`` after checking that no parent component is a
  symlink, so a link to ``/etc`` or ``~/.ssh`` is never read through;
- no special file is opened: FIFOs, sockets and devices are skipped, and a
  read opens non-blocking and checks ``S_ISREG`` on the open descriptor, so a
  FIFO named ``x.py`` cannot hang the host;
- every read is bounded: at most ``max_bytes`` (a larger file is refused or
  cut, as the caller asks).

It also holds the input-document checks (:func:`open_regular_file`): a user
may point us at a device or a FIFO by mistake, and those must be refused
before the first byte is read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

# Reading more than this from one repo file on the host is never needed (the
# static pass and trace analysis work on source files).
DEFAULT_MAX_BYTES = 4 * 1024 * 1024
# A document larger than this is an archive or a mistake, not a paper.
MAX_DOCUMENT_BYTES = 500_000_000


class UnsafePath(OSError):
    """A path that is a symlink, goes through one, leaves its root, or is not a regular file."""


def _within(root: str, path: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def check_components(root: Path, rel: str) -> Path:
    """``root/rel`` after checking that ``rel`` stays inside ``root`` and that no
    existing component of it (the last one included) is a symlink."""
    root_s = os.path.realpath(root)
    parts = [p for p in Path(rel).parts if p not in ("", ".")]
    if Path(rel).is_absolute() or ".." in parts:
        raise UnsafePath(f"{rel} is not a path inside {root}")
    cur = root_s
    for part in parts:
        cur = os.path.join(cur, part)
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            break
        if stat.S_ISLNK(st.st_mode):
            raise UnsafePath(f"{rel} goes through a symlink ({cur})")
    target = os.path.join(root_s, *parts)
    if not _within(root_s, os.path.normpath(target)):
        raise UnsafePath(f"{rel} leaves {root}")
    return Path(target)


def read_bytes(root: Path, rel: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, cut: bool = False) -> bytes:
    """The bytes of the regular file ``root/rel``, never through a symlink.

    Raises :class:`UnsafePath` for symlinks and special files, ``OSError`` for a
    missing file, and :class:`UnsafePath` for a file over ``max_bytes`` unless
    ``cut`` (then the first ``max_bytes`` are returned)."""
    rel = Path(rel)
    if rel.is_absolute():  # a path under root, as walk_files lists them
        try:
            rel = rel.relative_to(root)
        except ValueError:
            rel = rel.relative_to(os.path.realpath(root))
    path = check_components(root, str(rel))
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePath(f"{rel} is not a regular file")
        if st.st_size > max_bytes and not cut:
            raise UnsafePath(f"{rel} is larger than {max_bytes} bytes")
        return _read_upto(fd, max_bytes)
    finally:
        os.close(fd)


def _read_upto(fd: int, limit: int) -> bytes:
    """At most ``limit`` bytes from ``fd`` (a regular file: reads end at its end)."""
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_text(root: Path, rel: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, cut: bool = False) -> str:
    """:func:`read_bytes` decoded as UTF-8 (undecodable bytes replaced)."""
    return read_bytes(root, rel, max_bytes=max_bytes, cut=cut).decode("utf-8", errors="replace")


def read_text_or_empty(root: Path, rel: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """:func:`read_text`, or "" for anything missing, unsafe or too large."""
    try:
        return read_text(root, rel, max_bytes=max_bytes)
    except OSError:
        return ""


def is_regular_file(path: Path) -> bool:
    """True for a regular file that is not a symlink (``lstat``)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def walk_files(
    root: Path,
    *,
    skip_dir: Callable[[str], bool] = lambda name: False,
    max_size: int | None = None,
) -> Iterator[Path]:
    """Regular files under ``root`` in sorted order; symlinks (to files or
    directories) and special files are never listed or entered.
    ``skip_dir(name)`` prunes directories by name."""
    root = Path(root)
    try:
        if stat.S_ISLNK(os.lstat(root).st_mode):
            return
    except OSError:
        return
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        # os.walk lists symlinks to directories among dirnames but never enters them
        # with followlinks=False; drop them anyway so callers never see one.
        dirnames[:] = sorted(
            d for d in dirnames if not skip_dir(d) and not os.path.islink(os.path.join(dirpath, d))
        )
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            if max_size is not None and st.st_size >= max_size:
                continue
            yield Path(full)


def tree_size(root: Path) -> int:
    """Bytes allocated under ``root`` (lstat, symlinks not followed; hard links counted once)."""
    total = 0
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in (*filenames, *dirnames):
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if st.st_nlink > 1:
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    continue
                seen.add(key)
            total += st.st_blocks * 512
    return total


# -- input documents -------------------------------------------------------------------------


def describe_mode(mode: int) -> str:
    """What kind of file a mode says, in words ("a FIFO", "a character device", ...)."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def open_regular_file(path: Path) -> int:
    """A read-only descriptor on ``path`` after checking, on the descriptor
    itself, that it is a regular file. Opens non-blocking so a FIFO cannot
    hang the open; raises :class:`UnsafePath` naming what the file is."""
    st = os.stat(path)  # follows a symlink the *user* gave: documents may be links
    if not stat.S_ISREG(st.st_mode):
        raise UnsafePath(f"{path} is {describe_mode(st.st_mode)}")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped between the stat and the open
            raise UnsafePath(f"{path} is {describe_mode(st.st_mode)}")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_document(path: Path, *, max_bytes: int) -> bytes:
    """All bytes of the regular file ``path``; :class:`UnsafePath` for special
    files and for files over ``max_bytes`` (checked before reading)."""
    fd = open_regular_file(path)
    try:
        size = os.fstat(fd).st_size
        if size > max_bytes:
            raise UnsafePath(f"{path} is {size / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB limit for a document")
        data = _read_upto(fd, max_bytes + 1)
        if len(data) > max_bytes:  # grew while we read
            raise UnsafePath(f"{path} grew past the {max_bytes / 1e6:.0f} MB limit while being read")
        return data
    finally:
        os.close(fd)
