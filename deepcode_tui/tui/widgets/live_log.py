"""A live log whose memory stays bounded however many lines arrive."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.widgets import RichLog

FLUSH_INTERVAL_S = 0.1


class LiveLog(RichLog):
    """RichLog with ``max_lines`` that also bounds lines waiting to be drawn.

    Lines are queued by :meth:`push` (cheap, any rate) and drawn in batches on
    a timer. RichLog keeps writes made before it has a size (a hidden tab) in
    an unbounded queue; here they wait in a deque capped at ``max_lines``, so
    10,000 lines into a hidden pane cost the same as ``max_lines``.
    """

    def __init__(self, max_lines: int, *, id: str | None = None) -> None:
        super().__init__(
            max_lines=max_lines, wrap=False, highlight=False, markup=False, auto_scroll=True, id=id
        )
        self._pending: deque[tuple[str, str]] = deque(maxlen=max(1, max_lines))
        self.total_lines = 0  # every line ever pushed, drawn or dropped

    def on_mount(self) -> None:
        self.set_interval(FLUSH_INTERVAL_S, self.flush)

    def push(self, line: str, style: str = "") -> None:
        self._pending.append((line.rstrip("\n"), style))
        self.total_lines += 1

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        """Draw the queued lines (once the widget has a size)."""
        # Not held back while keys are pressed: that froze the log (and left the screen
        # without frames) for as long as a key was held; a batch costs one redraw.
        if not self._pending or not self._size_known:
            return
        batch = Text()
        last = len(self._pending) - 1
        for i, (line, style) in enumerate(self._pending):
            batch.append(line, style=style or None)
            if i != last:
                batch.append("\n")
        self._pending.clear()
        self.write(batch)

    def clear(self) -> LiveLog:
        self._pending.clear()
        super().clear()
        return self
