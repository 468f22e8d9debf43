"""One run as the app drives it: its store, gate, steering, stepper and services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.worker import Worker

from deepcode_tui.pipeline.gate import FutureGate, GateDecision, GateRequest
from deepcode_tui.store.run import RunStore
from deepcode_tui.tui.steering import Steering
from deepcode_tui.tui.stepper import PatchStepper

# The driver's signature: deepcode_tui.pipeline.driver.drive, or a test double with the same shape.
Driver = Callable[..., Awaitable[Any]]


class NotifyingGate(FutureGate):
    """A FutureGate that tells the UI about every request, also those sent without a GateOpened event."""

    def __init__(self, on_request: Callable[[GateRequest], None] | None = None) -> None:
        super().__init__()
        self._on_request = on_request

    async def request(self, req: GateRequest) -> GateDecision:
        if self._on_request is not None:
            self._on_request(req)
        return await super().request(req)


class RunSession:
    """What the app holds for the run on screen.

    ``store`` is None when a finished run is only being viewed (no lock taken).
    """

    def __init__(
        self,
        run_dir: Path,
        repo_dir: Path,
        run_id: str,
        *,
        store: RunStore | None,
        steering: Steering,
        stepper: PatchStepper,
        on_gate: Callable[[GateRequest], None] | None = None,
        extra_services: dict[str, Any] | None = None,
        settings: Any = None,
    ) -> None:
        """``settings`` (None: the app's) are the ones this run is driven with: a resume may
        continue with the run's recorded models instead of today's."""
        self.run_dir = run_dir
        self.repo_dir = repo_dir
        self.run_id = run_id
        self.store = store
        self.gate = NotifyingGate(on_gate)
        self.extra_services = dict(extra_services or {})
        self.settings = settings
        self.steering = steering
        self.stepper = stepper
        self.worker: Worker[Any] | None = None
        self.pause_reasons: set[str] = set()  # "edit" (blueprint being edited), "manual" (run: pause)

    def services(self) -> dict[str, Any]:
        """The services handed to the pipeline (see steering.py and stepper.py)."""
        return {
            **self.extra_services,
            "steering": self.steering,
            "amendment": self.steering.amendments,
            "step_hook": self.stepper,
        }

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.is_running

    def pause(self, reason: str) -> None:
        self.pause_reasons.add(reason)
        self.steering.request_pause()

    def unpause(self, reason: str) -> None:
        self.pause_reasons.discard(reason)
        if not self.pause_reasons:
            self.steering.resume()

    def close_store(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None
