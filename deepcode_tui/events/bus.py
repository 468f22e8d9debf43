"""The async event bus: one publisher (the pipeline), many observers.

Subscribers are called in subscription order. A subscriber marked
``critical`` (the run store) runs first and its failures propagate: an event
that could not be persisted must stop the run rather than be shown as if it
had happened. Failures in other subscribers (a display) are logged and
swallowed, so a broken view never kills a run.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from deepcode_tui.events.models import Event

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[Any] | Any]


class EventBus:
    def __init__(self) -> None:
        self._critical: list[Handler] = []
        self._observers: list[Handler] = []
        self._lock = asyncio.Lock()

    def subscribe(self, handler: Handler, *, critical: bool = False) -> Callable[[], None]:
        """Add ``handler``; returns a function that removes it again."""
        target = self._critical if critical else self._observers
        target.append(handler)

        def unsubscribe() -> None:
            if handler in target:
                target.remove(handler)

        return unsubscribe

    async def publish(self, event: Event) -> Event:
        """Deliver ``event``; returns it as the critical subscriber left it (with its seq)."""
        # Serialised so that seq order, file order and delivery order agree even
        # when several tasks (concurrent agents) publish at once.
        async with self._lock:
            for handler in self._critical:
                result = handler(event)
                if inspect.isawaitable(result):
                    result = await result
                if result is not None:
                    event = result
            for handler in list(self._observers):
                try:
                    result = handler(event)
                    if inspect.isawaitable(result):
                        await result
                except Exception:  # a broken observer must not stop the run
                    log.exception("event subscriber %r failed on %s", handler, event.type)
        return event
