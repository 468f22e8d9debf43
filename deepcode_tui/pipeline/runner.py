"""Runs the phases in order, skipping those already completed (resume)."""

from __future__ import annotations

from typing import Any, Protocol

from deepcode_tui.errors import BudgetExceeded, Cancelled, DeepcodeError
from deepcode_tui.events.models import PhaseCompleted, PhaseFailed, PhaseStarted, RunResumed
from deepcode_tui.pipeline.context import RunContext


class Phase(Protocol):
    """One resumable step. ``run`` must leave its artifacts written (atomically)
    before returning; it may be re-run after a crash, so it must tolerate
    artifacts of a previous partial attempt."""

    name: str

    async def run(self, ctx: RunContext) -> dict[str, Any]: ...


class Pipeline:
    def __init__(self, phases: list[Phase]) -> None:
        self.phases = phases

    def remaining(self, ctx: RunContext) -> list[Phase]:
        done = set(ctx.store.completed_phases())
        return [p for p in self.phases if p.name not in done]

    async def run(self, ctx: RunContext, *, stop_after: str | None = None) -> list[str]:
        """Run every phase not yet completed; returns the names of those that ran."""
        todo = self.remaining(ctx)
        ran: list[str] = []
        if todo and len(todo) < len(self.phases):
            await ctx.emit(RunResumed(from_phase=todo[0].name))
        for phase in todo:
            await ctx.emit(PhaseStarted(phase=phase.name))
            try:
                summary = await phase.run(ctx)
            except (BudgetExceeded, Cancelled):
                raise  # not a failure of the phase: the run stops and can resume here
            except DeepcodeError as exc:
                await ctx.emit(PhaseFailed(phase=phase.name, error=exc.message, fix=exc.fix))
                raise
            await ctx.emit(PhaseCompleted(phase=phase.name, summary=summary or {}))
            ran.append(phase.name)
            if stop_after == phase.name:
                break
        return ran
