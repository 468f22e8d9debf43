"""One Ray actor per batch holding the shared rate limits and the batch budget.

Every run's gateway asks it before a model call goes to a provider and tells
it what the call used afterwards. Its methods are quick and run one at a
time in the actor, so no lock is needed. Times are on the actor's clock, so
runs on different nodes share one timeline.
"""

from __future__ import annotations

import time

from deepcode_tui.batch.limits import BatchBudget, RateBook
from deepcode_tui.batch.models import BatchLimits


class Coordinator:
    def __init__(self, limits: dict, spent_usd: float = 0.0, spent_tokens: int = 0) -> None:
        parsed = BatchLimits.model_validate(limits)
        self.rates = RateBook(parsed)
        self.budget = BatchBudget(parsed, spent_usd, spent_tokens)
        self.origin = time.time()

    def reserve(self, provider: str, tokens: int) -> tuple[float, float]:
        """(slot, seconds to wait): start the call after waiting, then settle ``slot``."""
        now = time.time()
        at = self.rates.reserve(provider, tokens, now)
        return at, max(0.0, at - time.time())

    def settle(self, provider: str, slot: float, tokens: int, cost_usd: float, billed: bool) -> None:
        self.rates.settle(provider, slot, tokens)
        if billed:
            self.budget.add(cost_usd, tokens)

    def budget_exceeded(self) -> tuple[str, float, float] | None:
        return self.budget.exceeded()

    def spent(self) -> tuple[float, int]:
        return self.budget.cost_usd, self.budget.tokens

    def report(self) -> dict:
        return {"origin_unix": self.origin, "providers": self.rates.report(self.origin)}


def start_coordinator(ray, limits: BatchLimits, spent_usd: float, spent_tokens: int):
    """The actor handle (no CPU reserved: it only keeps books; restarted by Ray if its process dies)."""
    actor = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)(Coordinator)
    return actor.remote(limits.model_dump(), spent_usd, spent_tokens)
