"""Steering code generation from the UI: pause at a file boundary, amend the blueprint.

The app puts one :class:`Steering` in the run's services::

    services["steering"]   the Steering object
    services["amendment"]  steering.amendments: an asyncio.Queue of approved
                           amendments (deepcode_tui.blueprint.amend.Amendment,
                           already validated, saved as vN and approved)

The codegen phase passes ``should_pause=services["steering"].should_pause``
to ``codegen.loop.run_codegen``: it is called at every file boundary, returns
at once unless the human asked for a pause (by editing the blueprint or with
"run: pause"), and otherwise waits until they resume or approve an
amendment. It returns the newest amendment's ``CodegenPlan`` (the remaining
files follow it) or None. A loop that only polls ``services["amendment"]``
also works, but never pauses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


class Steering:
    """The pause switch and amendment queue shared by the UI and the coder.

    Created and used on one event loop (the app's); the coder runs in a
    Textual worker on that loop.
    """

    def __init__(self, on_paused: Callable[[], None] | None = None) -> None:
        self.amendments: asyncio.Queue[Any] = asyncio.Queue()
        self._go = asyncio.Event()
        self._go.set()
        self._on_paused = on_paused
        self.holding = False  # True while the coder waits at a boundary

    @property
    def pause_requested(self) -> bool:
        return not self._go.is_set()

    def request_pause(self) -> None:
        """Ask the coder to stop at the next file boundary (the current file finishes first)."""
        self._go.clear()

    def resume(self) -> None:
        """Let a paused coder continue."""
        self._go.set()

    def submit(self, amendment: Any) -> None:
        """Queue an approved amendment (it reaches the coder at its next boundary)."""
        self.amendments.put_nowait(amendment)

    async def at_file_boundary(self) -> Any | None:
        """Wait while paused; then the newest queued amendment (older ones are superseded), or None."""
        if not self._go.is_set():
            self.holding = True
            if self._on_paused is not None:
                self._on_paused()
            try:
                await self._go.wait()
            finally:
                self.holding = False
        latest = None
        while not self.amendments.empty():
            latest = self.amendments.get_nowait()
        return latest

    async def should_pause(self) -> Any | None:
        """``codegen.loop.ShouldPause``: the approved amendment to follow from here on (its
        plan, and the written files it says to regenerate), or None."""
        return await self.at_file_boundary()
