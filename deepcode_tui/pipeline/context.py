"""What every phase receives: the run, the bus, the settings and the gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepcode_tui.config.settings import Settings
from deepcode_tui.events.bus import EventBus
from deepcode_tui.events.models import Event, LogMessage
from deepcode_tui.gates import GateDecision, GateRequest
from deepcode_tui.pipeline.gate import ApprovalGate
from deepcode_tui.store.run import RunStore


@dataclass
class RunContext:
    store: RunStore
    bus: EventBus
    settings: Settings
    gate: ApprovalGate
    # Long-lived helpers created by phases and shared with later ones (the model
    # gateway, the loaded document index ...), keyed by name.
    services: dict[str, Any] = field(default_factory=dict)

    @property
    def run_dir(self) -> Path:
        return self.store.root

    async def emit(self, event: Event) -> Event:
        return await self.bus.publish(event)

    async def ask(self, req: GateRequest) -> GateDecision:
        """Ask the run's gate (with its events around it): the interface phase packages use,
        so none of them imports the pipeline."""
        from deepcode_tui.pipeline.gate import ask

        return await ask(self, req)

    async def log(self, message: str, *, level: str = "info", phase: str = "") -> None:
        await self.emit(LogMessage(message=message, level=level, phase=phase))  # type: ignore[arg-type]
