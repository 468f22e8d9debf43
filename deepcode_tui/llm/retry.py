"""Exponential backoff with jitter; the sleep is injectable so tests never wait."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Sleep = Callable[[float], Awaitable[None]]


@dataclass
class RetryPolicy:
    """``max_retries`` retries after the first attempt; delays grow as base * 2**n, capped,
    with full jitter in [delay/2, delay]. A server's Retry-After wins when it is longer."""

    max_retries: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    sleep: Sleep = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2**retry))
        wait = ceiling / 2 + self.rng.random() * ceiling / 2
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_delay * 2))
        return wait

    async def wait(self, retry: int, retry_after: float | None = None) -> float:
        seconds = self.delay(retry, retry_after)
        await self.sleep(seconds)
        return seconds
