"""A run's gateway inside a batch: the run's own rules plus the batch's shared ones.

Before a call goes to a provider (not when the reply cache answers) it asks
the batch coordinator for a slot under the provider's requests/tokens per
minute and waits for it; afterwards it reports what the call used, which
also feeds the batch budget. The batch budget is checked where the run's
own budget is, at every call.
"""

from __future__ import annotations

import asyncio
from typing import Any

from deepcode_tui.errors import BudgetExceeded
from deepcode_tui.events.models import BudgetStop
from deepcode_tui.llm.accounting import cost_usd
from deepcode_tui.llm.cli import build_gateway
from deepcode_tui.llm.gateway import Gateway
from deepcode_tui.tokens import count_tokens


class BatchGateway(Gateway):
    coordinator: Any = None
    batch_id: str = ""

    async def ensure_budget(self) -> None:
        await super().ensure_budget()
        if self.coordinator is None:
            return
        reached = await self.coordinator.budget_exceeded.remote()
        if reached is None:
            return
        kind, limit, used = reached
        await self._emit(BudgetStop(kind=kind, limit=limit, used=used))  # type: ignore[arg-type]
        flag = "--batch-max-cost" if kind == "cost" else "--batch-max-tokens"
        spent = f"${used:.4f} of {limit:g}" if kind == "cost" else f"{int(used)} of {int(limit)} tokens"
        raise BudgetExceeded(
            f"the batch's {kind} budget is spent: {spent}",
            f"resume with a higher budget: deepcode-tui batch --resume {self.batch_id} {flag} {limit * 2:g}",
        )

    async def _with_retries(self, call_id, role, resolved, name, key, started, kwargs, stream):  # type: ignore[override]
        if self.coordinator is None:
            return await super()._with_retries(call_id, role, resolved, name, key, started, kwargs, stream)
        provider = resolved.provider
        estimate = sum(count_tokens(str(m.get("content") or "")) for m in kwargs.get("messages", []))
        slot, wait = await self.coordinator.reserve.remote(provider, estimate)
        if wait > 0:
            await asyncio.sleep(wait)
        stored, attempts, wasted, reduced = await super()._with_retries(
            call_id, role, resolved, name, key, started, kwargs, stream
        )
        # Tokens of failed or unusable attempts count against the batch's limits too.
        used = (stored.usage.total_tokens or estimate + count_tokens(stored.text)) + wasted.total_tokens
        billed = not resolved.replay
        cost = (
            cost_usd(
                resolved.model,
                stored.usage.prompt_tokens + wasted.prompt_tokens,
                stored.usage.completion_tokens + wasted.completion_tokens,
            )
            if billed
            else 0.0
        )
        await self.coordinator.settle.remote(provider, slot, used, cost, billed)
        return stored, attempts, wasted, reduced


def batch_gateway_factory(coordinator, batch_id: str):
    """A ``gateway_factory`` service for ``pipeline.roles.ensure_gateway``."""

    def factory(settings, **kwargs: Any) -> Gateway:
        gateway = build_gateway(settings, **kwargs)
        # build_gateway owns the flag rules (cache, record, replay): keep them in one place
        # and give its gateway the batch's two extra rules.
        gateway.__class__ = BatchGateway
        gateway.coordinator = coordinator
        gateway.batch_id = batch_id
        return gateway

    return factory
