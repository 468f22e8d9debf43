"""Live edits: telling the app's own writes from a human's, and keeping memory current.

:class:`WriteLedger` remembers the content hash of every file the app wrote;
a file whose current hash differs was changed by someone else. The
:class:`RepoWatcher` (watchfiles) re-extracts the memory entry of such a file
and emits :class:`HumanEditDetected`; :meth:`RepoWatcher.scan` does the same by
polling (stat first, hash only on change) for callers that cannot wait for
file-system events.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Self

from deepcode_tui.codegen.events import HumanEditDetected, MemoryEntryAdded
from deepcode_tui.codegen.memory import MemoryEntry, MemoryStore, content_hash, extract_entry
from deepcode_tui.codegen.plan import CodegenPlan
from deepcode_tui.codegen.writer import unified_diff
from deepcode_tui.treesitter import language_for_path

Emit = Callable[[object], Awaitable[None]]
_IGNORED_DIRS = {
    "__pycache__",
    "node_modules",
    ".git",
    ".venv",
    "venv",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
}


class WriteLedger:
    """What the app itself last wrote to each path (hash, text, stat), seeded from memory."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        self._hash: dict[str, str] = {}
        self._text: dict[str, str] = {}
        self._stat: dict[str, tuple[int, int]] = {}
        for e in store or ():
            if e.written_hash:
                self._hash[e.path] = e.written_hash

    def expect(self, path: str, text: str) -> str:
        """Record that the app is about to write ``text`` to ``path``; returns its hash."""
        h = content_hash(text)
        self._hash[path] = h
        self._text[path] = text
        return h

    def settled(self, path: str, full: Path) -> None:
        """Remember the file's stat after a write so polling skips it until it changes."""
        with contextlib.suppress(OSError):
            st = full.stat()
            self._stat[path] = (st.st_mtime_ns, st.st_size)

    def remember(self, path: str, text: str, full: Path | None = None) -> None:
        """Track the latest known content of ``path`` (for diffs of later human edits)."""
        self._text[path] = text
        if full is not None:
            self.settled(path, full)

    def written_hash(self, path: str) -> str | None:
        return self._hash.get(path)

    def last_text(self, path: str) -> str | None:
        return self._text.get(path)

    def unchanged_since_seen(self, path: str, full: Path) -> bool:
        try:
            st = full.stat()
        except OSError:
            return False
        return self._stat.get(path) == (st.st_mtime_ns, st.st_size)


def relevant(rel: str) -> bool:
    """Whether a repo-relative path is a source file the memory tracks."""
    parts = rel.split("/")
    if any(p in _IGNORED_DIRS or p.startswith(".") for p in parts[:-1]):
        return False
    name = parts[-1]
    # Dot-files include the temp files of atomic writes (store.atomic names them so).
    return not name.startswith(".") and language_for_path(name) is not None


def read_text(full: Path) -> str | None:
    try:
        return full.read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return None


class RepoWatcher:
    """Watches ``repo``; a file changed by someone other than the app updates memory and emits events."""

    def __init__(
        self,
        repo: Path,
        store: MemoryStore,
        ledger: WriteLedger,
        *,
        plan: CodegenPlan | None = None,
        emit: Emit | None = None,
        debounce_ms: int = 50,
    ) -> None:
        self.repo = Path(repo)
        self.store = store
        self.ledger = ledger
        self.plan = plan  # the loop swaps this when the plan is amended
        self.emit = emit
        self.debounce_ms = debounce_ms
        self.edited: list[str] = []  # paths with human edits, in detection order
        self._task: asyncio.Task | None = None
        self._stop: asyncio.Event | None = None
        self._ready: asyncio.Event | None = None
        self._lock = asyncio.Lock()

    # --- lifecycle --------------------------------------------------------

    async def start(self) -> None:
        """Start watching (returns once the watcher is running)."""
        if self._task is not None:
            return
        self._stop, self._ready = asyncio.Event(), asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="codegen-repo-watcher")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task is None:
            return
        assert self._stop is not None
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, timeout=5)
        except (TimeoutError, asyncio.CancelledError):
            self._task.cancel()
        self._task = None

    @property
    def running(self) -> bool:
        """True while file-system events are being delivered (False before start or after a failure)."""
        return self._task is not None and not self._task.done()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def _run(self) -> None:
        from watchfiles import awatch

        assert self._stop is not None and self._ready is not None
        real = os.path.realpath(self.repo)
        gen = awatch(
            self.repo,
            stop_event=self._stop,
            debounce=self.debounce_ms,
            step=20,
            yield_on_timeout=True,
            rust_timeout=100,
        )
        try:
            async for changes in gen:
                self._ready.set()
                for _, p in sorted(changes, key=lambda c: c[1]):
                    rel = os.path.relpath(os.path.realpath(p), real).replace(os.sep, "/")
                    if not rel.startswith("..") and relevant(rel):
                        await self.reconcile(rel)
        finally:
            self._ready.set()

    # --- detection --------------------------------------------------------

    async def reconcile(self, rel: str) -> HumanEditDetected | None:
        """Bring memory in line with ``rel`` on disk; an event when someone else changed it."""
        async with self._lock:
            return await self._reconcile(rel)

    async def _reconcile(self, rel: str) -> HumanEditDetected | None:
        full = self.repo / rel
        entry = self.store.get(rel)
        text = read_text(full) if full.is_file() else None
        if text is None:
            if entry is None or full.exists():  # never known, or there but unreadable
                return None
            self.store.remove(rel)
            event = HumanEditDetected(
                path=rel, change="deleted", diff=unified_diff(rel, self.ledger.last_text(rel) or "", "")
            )
            await self._note(rel, event)
            return event
        h = content_hash(text)
        if (entry is not None and entry.content_hash == h) or self.ledger.written_hash(rel) == h:
            self.ledger.remember(rel, text, full)
            return None  # the app's own write, or nothing new
        before = self.ledger.last_text(rel)
        new = self.human_entry(rel, text, entry)
        self.store.append(new)
        self.ledger.remember(rel, text, full)
        event = HumanEditDetected(
            path=rel,
            change="added" if entry is None else "modified",
            diff=unified_diff(rel, before, text) if before is not None else "",
        )
        await self._note(rel, event)
        if self.emit is not None:
            await self.emit(
                MemoryEntryAdded(
                    path=rel,
                    purpose=new.purpose,
                    origin=new.origin,
                    symbols=new.interface.public_count(),
                    tokens=self.store.rendered(new)[1],
                )
            )
        return event

    def human_entry(self, rel: str, text: str, previous: MemoryEntry | None) -> MemoryEntry:
        """The memory entry of a human's version of ``rel`` (purpose kept from before or the plan)."""
        planned = self.plan.get(rel) if self.plan is not None else None
        files = set(self.plan.paths()) if self.plan is not None else set()
        files |= {e.path for e in self.store} | {rel}
        purpose = (previous.purpose if previous else "") or (planned.purpose if planned else "")
        consumers = previous.consumers if previous else (self.plan.consumers_of(rel) if self.plan else [])
        entry = extract_entry(
            rel, text, project_files=files, purpose=purpose, consumers=consumers, origin="human"
        )
        entry.written_hash = (previous.written_hash if previous else None) or self.ledger.written_hash(rel)
        return entry

    async def _note(self, rel: str, event: HumanEditDetected) -> None:
        self.edited.append(rel)
        if self.emit is not None:
            await self.emit(event)

    async def scan(self, paths: Iterable[str] | None = None) -> list[HumanEditDetected]:
        """Poll ``paths`` (default: every file in memory) and reconcile those that changed."""
        events: list[HumanEditDetected] = []
        for rel in list(paths if paths is not None else [e.path for e in self.store]):
            full = self.repo / rel
            if self.ledger.unchanged_since_seen(rel, full):
                continue
            ev = await self.reconcile(rel)
            if ev is not None:
                events.append(ev)
        return events
