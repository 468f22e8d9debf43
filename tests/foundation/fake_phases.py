"""Phases for pipeline tests: each records how often it ran and takes a little time."""

from __future__ import annotations

import asyncio
from pathlib import Path

from deepcode_tui.config.settings import Settings
from deepcode_tui.events.bus import EventBus
from deepcode_tui.events.models import LogMessage
from deepcode_tui.pipeline.context import RunContext
from deepcode_tui.pipeline.gate import AutoApproveGate
from deepcode_tui.pipeline.runner import Pipeline
from deepcode_tui.store.atomic import write_text_atomic

NAMES = ("ingest", "blueprint", "approval", "codegen", "verify", "report")


class CountingPhase:
    def __init__(self, name: str, report=None) -> None:
        self.name = name
        self.report = report

    async def run(self, ctx: RunContext) -> dict:
        marker = ctx.store.path(f"ran-{self.name}")
        with open(marker, "a") as fh:  # one line per attempt
            fh.write("x\n")
        for i in range(3):
            await ctx.emit(LogMessage(message=f"{self.name} step {i}"))
            await asyncio.sleep(0.01)
        write_text_atomic(ctx.store.path(f"artifact-{self.name}.txt"), self.name)
        return {"name": self.name}


async def run_fake_pipeline(store, report=None) -> list[str]:
    bus = EventBus()
    bus.subscribe(store.append, critical=True)

    def on_event(ev):
        if ev.type == "phase_completed" and report:
            report(ev.phase)

    bus.subscribe(on_event)
    ctx = RunContext(store=store, bus=bus, settings=Settings(runs_dir=Path(store.root).parent), gate=AutoApproveGate())
    return await Pipeline([CountingPhase(n) for n in NAMES]).run(ctx)
