"""Gates in a batch: a queue of files the human works through while other runs go on.

A run at a gate writes ``approvals/<run_id>.json`` (what it waits for) and
polls for ``approvals/<run_id>.decision.json``, which `deepcode-tui batch
approve` (or the app's batch screen) writes atomically. Files, not an actor:
the queue outlives the batch process (a stopped batch keeps its pending
gates, a decision given meanwhile is used on resume) and works from any
machine that mounts the batch directory.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from deepcode_tui.errors import DeepcodeError
from deepcode_tui.pipeline.gate import ApprovalGate, GateDecision, GateRequest
from deepcode_tui.store.atomic import write_json_atomic

POLL_S = 0.5


class PendingGate(BaseModel):
    run_id: str
    gate: str
    prompt: str
    artifact: str = ""
    asked_at: datetime


class QueuedDecision(BaseModel):
    gate: str
    artifact: str = ""
    decision: GateDecision


def _dir(batch_dir: Path) -> Path:
    return Path(batch_dir) / "approvals"


class QueueGate(ApprovalGate):
    """The gate of one run of a batch."""

    def __init__(self, batch_dir: Path, run_id: str, *, poll_s: float = POLL_S) -> None:
        self.dir = _dir(batch_dir)
        self.run_id = run_id
        self.poll_s = poll_s

    @property
    def pending_path(self) -> Path:
        return self.dir / f"{self.run_id}.json"

    @property
    def decision_path(self) -> Path:
        return self.dir / f"{self.run_id}.decision.json"

    async def request(self, req: GateRequest) -> GateDecision:
        pending = PendingGate(run_id=self.run_id, gate=req.gate, prompt=req.prompt, artifact=req.artifact,
                              asked_at=datetime.now(UTC))
        write_json_atomic(self.pending_path, pending)
        while True:
            decision = self._take(req)
            if decision is not None:
                return decision
            await asyncio.sleep(self.poll_s)

    def _take(self, req: GateRequest) -> GateDecision | None:
        try:
            queued = QueuedDecision.model_validate_json(self.decision_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        if queued.gate != req.gate or (queued.artifact and queued.artifact != req.artifact):
            return None  # an answer to an earlier question (e.g. the previous blueprint version)
        done = self.dir / "done"
        done.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        os.replace(self.decision_path, done / f"{self.run_id}-{stamp}.json")
        try:
            self.pending_path.unlink()
        except FileNotFoundError:
            pass
        return queued.decision


def pending_gates(batch_dir: Path) -> list[PendingGate]:
    """Every gate waiting for a human, oldest first."""
    found: list[PendingGate] = []
    folder = _dir(batch_dir)
    if not folder.is_dir():
        return found
    for path in folder.glob("*.json"):
        if path.name.endswith(".decision.json"):
            continue
        try:
            found.append(PendingGate.model_validate_json(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return sorted(found, key=lambda p: p.asked_at)


def answer(batch_dir: Path, run_id: str, decision: GateDecision) -> PendingGate:
    """Answer the gate ``run_id`` waits at (a unique prefix of the run id is enough)."""
    waiting = [p for p in pending_gates(batch_dir) if p.run_id.startswith(run_id)]
    if not waiting:
        raise DeepcodeError(
            f"no run matching {run_id!r} is waiting for approval in this batch",
            "list the waiting runs with `deepcode-tui batch approve BATCH_ID`",
        )
    if len(waiting) > 1:
        raise DeepcodeError(f"{run_id!r} matches {len(waiting)} waiting runs", "give more of the run id")
    gate = waiting[0]
    if decision.decision == "edit" and decision.edited_text is None:
        if not gate.artifact:
            raise DeepcodeError(f"the {gate.gate} gate of {gate.run_id} has no file to edit", "approve or reject it")
        decision = decision.model_copy(update={"edited_text": Path(gate.artifact).read_text(encoding="utf-8")})
    queued = QueuedDecision(gate=gate.gate, artifact=gate.artifact, decision=decision)
    write_json_atomic(_dir(batch_dir) / f"{gate.run_id}.decision.json", json.loads(queued.model_dump_json()))
    return gate
