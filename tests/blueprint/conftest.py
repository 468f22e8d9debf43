"""Fixtures for blueprint tests: scripted models, a run context, a recording gate."""

from __future__ import annotations

import itertools
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from deepcode_tui.config.settings import Settings
from deepcode_tui.events.bus import EventBus
from deepcode_tui.llm import Gateway, register_script
from deepcode_tui.llm.scripted import get_script, unregister_script
from deepcode_tui.pipeline.context import RunContext
from deepcode_tui.pipeline.gate import ApprovalGate, GateDecision, GateRequest
from deepcode_tui.store.run import RunStore

_ids = itertools.count()


class RecordingGate(ApprovalGate):
    """Answers gate requests from a list of decisions and keeps every request."""

    def __init__(self, decisions: list[GateDecision]) -> None:
        self.decisions = list(decisions)
        self.requests: list[GateRequest] = []

    async def request(self, req: GateRequest) -> GateDecision:
        self.requests.append(req)
        if not self.decisions:
            raise AssertionError(f"the gate was asked more often than scripted: {req.prompt[:200]}")
        return self.decisions.pop(0)


@pytest.fixture
def script():
    """register(responder) -> model string; the script is removed after the test."""
    names: list[str] = []

    def register(responder, **kw) -> str:
        model = register_script(f"bp-test-{next(_ids)}", responder, **kw)
        names.append(model)
        return model

    register.requests = lambda model: get_script(model).requests  # type: ignore[attr-defined]
    yield register
    for name in names:
        unregister_script(name)


@asynccontextmanager
async def run_context(tmp_path: Path, model: str, index, gate: ApprovalGate, *, cache_dir: Path | None = None):
    """A real run: store, bus (events persisted), gateway on ``model`` (with a response cache
    at ``cache_dir`` when given), the index as a service."""
    doc = tmp_path / "paper.md"
    doc.write_text("# paper\n")
    settings = Settings(models={"default": model}, runs_dir=tmp_path / "runs")
    store = RunStore.create(settings.runs_dir, doc)
    bus = EventBus()
    bus.subscribe(store.append, critical=True)
    seen: list = []
    bus.subscribe(seen.append)
    gateway = Gateway(settings, emit=bus.publish, run_dir=store.root, cache_dir=cache_dir)
    ctx = RunContext(
        store=store, bus=bus, settings=settings, gate=gate, services={"gateway": gateway, "index": index}
    )
    ctx.seen = seen  # type: ignore[attr-defined]
    try:
        yield ctx
    finally:
        await gateway.aclose()
        store.close()
