"""Keys before garbage collection: full collections run when the human is not typing.

CPython's full (generation 2) collection scans every tracked object; with a
Textual screen, pydantic models and a stream of events that takes 50-130 ms
on this class of machine, and it lands whenever the allocation counters say,
often in the middle of a key press. While the app runs, automatic full
collections are held back (a high generation-2 threshold), the long-lived
objects built at start-up are frozen out of the scans, and a timer runs the
full collection when no key was pressed for a moment. Young generations are
collected as usual, so memory stays bounded.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

FULL_COLLECT_EVERY_S = 5.0
QUIET_BEFORE_COLLECT_S = 1.0
HELD_THRESHOLD2 = 1000  # generation-1 collections between automatic full ones (CPython default: 10)


class GcPolicy:
    """Install with :meth:`start`, undo with :meth:`stop` (restores the process's settings)."""

    def __init__(self, input_recent: Callable[[float], bool]) -> None:
        self._input_recent = input_recent
        self._saved: tuple[int, int, int] | None = None

    def start(self) -> None:
        if self._saved is not None:
            return
        self._saved = gc.get_threshold()
        t0, t1, _ = self._saved
        gc.set_threshold(t0, t1, HELD_THRESHOLD2)
        self.freeze()

    def freeze(self, *, collect: bool = True) -> None:
        """Collect, then keep everything alive now out of later full scans (start-up, a run opened).

        ``collect=False`` freezes without the full collection first (a run being opened: the
        collection took up to a second there, with litellm being imported in a thread; what
        little garbage is frozen with it is left for good)."""
        if collect:
            gc.collect()
        gc.freeze()

    def tick(self) -> bool:
        """Run a full collection unless the human pressed a key just now; True when it ran."""
        if self._saved is None or self._input_recent(QUIET_BEFORE_COLLECT_S):
            return False
        gc.collect()
        return True

    def stop(self) -> None:
        if self._saved is None:
            return
        gc.unfreeze()
        gc.set_threshold(*self._saved)
        self._saved = None
