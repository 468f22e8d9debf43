"""Frame pacing: after a frame that overran its slot, the next frame may start at the next slot.

Textual's interval timer (8.x) recomputes its tick count after a late tick as
``int(elapsed / interval + 1)`` and then waits for ``count + 1``: one slot too
many. A screen's update timer runs at 60 Hz, so every frame that takes
longer than its 16.7 ms slot (a layout after a pane switch, the footer
rebuilding itself) made the next frame wait 17-33 ms instead of 0-17 ms,
even when a key press was waiting to be drawn. :class:`SlotTimer` waits for
the next slot; :class:`PacedScreen` draws with it. (Relies on Timer._run
and Screen._update_timer, like the rest of the app's textual internals;
textual is pinned <9.)
"""

from __future__ import annotations

from textual import _time
from textual.screen import UPDATE_PERIOD, Screen
from textual.timer import EventTargetGone, Timer


def next_slot(start: float, interval: float, count: int, now: float, *, skip: bool) -> tuple[int, float]:
    """``(count, due)``: the tick after ``count`` ticks, or with ``skip`` and that tick
    already past, the first slot after ``now`` (never one later)."""
    due = start + (count + 1) * interval
    if skip and due < now:
        count = int((now - start) / interval)  # the slot ``now`` falls in; the next one is due
        due = start + (count + 1) * interval
    return count, due


class SlotTimer(Timer):
    """Timer whose catch-up after a late tick waits for the next slot (see the module doc)."""

    async def _run(self) -> None:
        count = 0
        repeat, interval = self._repeat, self._interval
        self._active  # noqa: B018 - create the event in this task's thread, as Timer does
        await self._active.wait()
        start = _time.get_time()
        while repeat is None or count <= repeat:
            count, due = next_slot(start, interval, count, _time.get_time(), skip=self._skip)
            await _time.sleep(max(0.0, due - _time.get_time()))
            count += 1
            await self._active.wait()
            if self._reset:
                start, count, self._reset = _time.get_time(), 0, False
                continue
            try:
                await self._tick(next_timer=due, count=count)
            except EventTargetGone:
                break


class PacedScreen(Screen):
    """Screen whose frames are paced by a :class:`SlotTimer`."""

    _slot_timer: SlotTimer | None = None

    @property
    def _update_timer(self) -> Timer:  # type: ignore[override]
        if self._slot_timer is None:
            # As Screen._update_timer, with the timer class swapped.
            timer = SlotTimer(
                self, UPDATE_PERIOD, name="screen_update", callback=self._on_timer_update, pause=True
            )
            timer._start()
            self._timers.add(timer)
            self._slot_timer = timer
        return self._slot_timer
