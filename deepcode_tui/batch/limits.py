"""The batch's shared books: provider rate limits and the batch budget.

Plain classes (testable without Ray); :mod:`deepcode_tui.batch.coordinator`
puts one instance of each behind a Ray actor that every run's gateway asks.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field

from deepcode_tui.batch.models import BatchLimits, RateLimit

# A slot leaves the window this long after the window itself: admissions k slots apart are
# then more than a window apart by a margin far above limiter.json's microsecond rounding,
# which otherwise read a gap of 1.0000001 s as 1.000000 (or 0.999999) and five calls "in"
# one second of four (a batch test failed on that now and then).
SLOT_MARGIN_S = 1e-4


@dataclass
class _Slot:
    at: float
    tokens: int


@dataclass
class ProviderWindow:
    """A sliding window of admitted requests for one provider.

    ``reserve`` answers with the earliest time a request fits (never earlier
    than one already reserved, so callers are served in order) and books it
    there, so concurrent callers on many nodes cannot all take the same gap.
    """

    limit: RateLimit
    window_s: float
    slots: deque[_Slot] = field(default_factory=deque)
    admitted: list[float] = field(default_factory=list)  # admission times, for limiter.json

    @property
    def _span(self) -> float:
        return self.window_s + SLOT_MARGIN_S

    def _prune(self, now: float) -> None:
        while self.slots and self.slots[0].at <= now - self._span:
            self.slots.popleft()

    def _inside(self, at: float) -> list[_Slot]:
        return [s for s in self.slots if at - self._span < s.at <= at]

    def _fits(self, at: float, tokens: int) -> bool:
        inside = self._inside(at)
        if self.limit.requests is not None and len(inside) + 1 > self.limit.requests:
            return False
        # A single request larger than the whole window's allowance still goes, alone.
        return not (self.limit.tokens is not None and inside and sum(s.tokens for s in inside) + tokens > self.limit.tokens)

    def reserve(self, now: float, tokens: int) -> float:
        self._prune(now)
        at = max(now, self.slots[-1].at if self.slots else now)
        while not self._fits(at, tokens):
            # The next moment the window changes: the oldest slot inside it leaves.
            at = self._inside(at)[0].at + self._span + 1e-6
        self.slots.append(_Slot(at, tokens))
        bisect.insort(self.admitted, at)
        return at

    def settle(self, at: float, tokens: int) -> None:
        """Replace a reservation's estimated tokens with what the call really used."""
        for slot in self.slots:
            if slot.at == at:
                slot.tokens = tokens
                return


class RateBook:
    """Every provider's window; a provider without a limit is never delayed."""

    def __init__(self, limits: BatchLimits) -> None:
        self.limits = limits
        self.windows: dict[str, ProviderWindow] = {}

    def _limit(self, provider: str) -> RateLimit | None:
        return self.limits.rates.get(provider) or self.limits.rates.get("*")

    def reserve(self, provider: str, tokens: int, now: float) -> float:
        """The time (on ``now``'s clock) at which the call may start."""
        limit = self._limit(provider)
        if limit is None or (limit.requests is None and limit.tokens is None):
            return now
        window = self.windows.get(provider)
        if window is None:
            window = self.windows[provider] = ProviderWindow(limit, self.limits.window_s)
        return window.reserve(now, max(0, tokens))

    def settle(self, provider: str, at: float, tokens: int) -> None:
        window = self.windows.get(provider)
        if window is not None:
            window.settle(at, tokens)

    def report(self, origin: float) -> dict[str, dict]:
        return {
            provider: {
                "requests_per_window": w.limit.requests,
                "tokens_per_window": w.limit.tokens,
                "window_s": w.window_s,
                "admitted_s": [round(t - origin, 6) for t in w.admitted],  # to the µs (see SLOT_MARGIN_S)
            }
            for provider, w in self.windows.items()
        }


class BatchBudget:
    """What the whole batch has spent (billed calls only, like a run's own budget)."""

    def __init__(self, limits: BatchLimits, spent_usd: float = 0.0, spent_tokens: int = 0) -> None:
        self.max_cost_usd = limits.max_cost_usd
        self.max_tokens = limits.max_tokens
        self.cost_usd = spent_usd
        self.tokens = spent_tokens

    def add(self, cost_usd: float, tokens: int) -> None:
        self.cost_usd += max(0.0, cost_usd)
        self.tokens += max(0, tokens)

    def exceeded(self) -> tuple[str, float, float] | None:
        """(kind, limit, used) of the first batch budget reached, or None."""
        if self.max_cost_usd is not None and self.cost_usd >= self.max_cost_usd:
            return ("cost", self.max_cost_usd, self.cost_usd)
        if self.max_tokens is not None and self.tokens >= self.max_tokens:
            return ("tokens", float(self.max_tokens), float(self.tokens))
        return None
