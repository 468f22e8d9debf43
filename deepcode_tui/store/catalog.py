"""Listing runs: a summary per run derived from its manifest and event log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from deepcode_tui.errors import RunStoreError
from deepcode_tui.store.eventlog import read_log
from deepcode_tui.store.run import is_locked, load_manifest


class RunSummary(BaseModel):
    run_id: str
    input_path: str
    phase: str  # the phase the run is in or ended in
    status: str  # running, passed, failed, stopped, planned, budget, interrupted, damaged
    cost_usd: float
    created_at: datetime
    resumable: bool
    next_phase: str = ""

    def age(self, now: datetime | None = None) -> str:
        secs = int(((now or datetime.now(UTC)) - self.created_at).total_seconds())
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if secs >= size:
                return f"{secs // size}{unit}"
        return f"{secs}s"


def summarize_run(root: Path) -> RunSummary:
    manifest = load_manifest(root)
    log = read_log(root / "events.jsonl")
    phase, status, cost = "", "interrupted", 0.0
    completed: set[str] = set()
    for ev in log.events:
        if ev.type == "phase_started":
            phase, status = ev.phase, "interrupted"
        elif ev.type == "phase_failed":
            phase, status = ev.phase, "failed"
        elif ev.type == "budget_stop":
            status = "budget"
        elif ev.type == "cost_updated":
            cost = ev.total_cost_usd
        elif ev.type == "phase_completed":
            completed.add(ev.phase)
        elif ev.type == "run_finished":
            status = ev.status
    if log.corrupt_lines:
        status = "damaged"
    elif is_locked(root):
        status = "running"
    # Anything short of a finished report can go on: a stopped, failed or planned
    # run resumes at its first phase without a checkpoint.
    resumable = "report" not in completed and status not in ("damaged", "running")
    return RunSummary(
        run_id=manifest.run_id,
        input_path=manifest.input_path,
        phase=phase or "created",
        status=status,
        cost_usd=cost,
        created_at=manifest.created_at,
        resumable=resumable,
    )


def list_runs(runs_dir: Path) -> tuple[list[RunSummary], list[str]]:
    """All runs, newest first, and one problem line per directory that could not be read."""
    runs_dir = Path(runs_dir).expanduser()
    if not runs_dir.is_dir():
        return [], []
    summaries: list[RunSummary] = []
    problems: list[str] = []
    for root in sorted(runs_dir.iterdir()):
        if not (root / "run.json").exists():
            continue
        try:
            summaries.append(summarize_run(root))
        except RunStoreError as exc:
            problems.append(f"{root.name}: {exc.one_line()}")
    summaries.sort(key=lambda s: s.created_at, reverse=True)
    return summaries, problems
