"""The batch manifest (``batch.json``) and the options a batch runs with."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

# queued: not started yet; running: a Ray task holds it; the rest are the run's own
# outcomes (passed, failed, stopped, budget, planned, error) as `runs` shows them.
EntryStatus = Literal["queued", "running", "passed", "failed", "stopped", "budget", "planned", "error"]
FINISHED = ("passed", "failed", "error", "planned")


class RateLimit(BaseModel):
    """Requests and tokens per window (a minute) for one provider; None = unlimited."""

    requests: int | None = Field(None, ge=1)
    tokens: int | None = Field(None, ge=1)


class BatchLimits(BaseModel):
    """Shared by every run of the batch."""

    rates: dict[str, RateLimit] = Field(default_factory=dict)  # provider -> limit; "*" = every provider
    window_s: float = Field(60.0, gt=0)  # the CLI's limits are per minute
    max_cost_usd: float | None = Field(None, gt=0)
    max_tokens: int | None = Field(None, ge=1)


class BatchEntry(BaseModel):
    doc: str  # the document's absolute path
    stem: str
    run_id: str = ""
    status: EntryStatus = "queued"
    phase: str = ""
    message: str = ""
    cost_usd: float = 0.0
    seconds: float = 0.0  # wall time of the run's tasks, summed over attempts
    attempts: int = 0  # Ray task starts (a retried worker counts again)
    replay: str = ""  # the cassette this run replays, when --replay-root was given
    score: float | None = None
    grade_note: str = ""


class BatchManifest(BaseModel):
    batch_id: str
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    cwd: str  # project config is looked up from here, on every node
    ray_address: str = ""  # "" = a local Ray started by the command
    auto_approve: bool = False
    overrides: dict[str, Any] = Field(default_factory=dict)  # CLI settings overrides (no secrets)
    no_cache: bool = False
    cache_dir: str = ""
    replay_root: str = ""
    rubric_dir: str = ""
    workers: int | None = None
    cpus_per_run: float = 1.0
    memory_mb_per_run: int = 1024
    max_retries: int = 3
    limits: BatchLimits = Field(default_factory=BatchLimits)
    worker_setup: str = ""  # "module:function" called in each worker before its run (embedding, tests)
    ray_logs: str = ""
    entries: list[BatchEntry] = Field(default_factory=list)
    wall_seconds: float = 0.0
    mean_score: float | None = None
    score_stderr: float | None = None
    status: Literal["running", "finished", "stopped"] = "running"

    def runs_dir(self, batch_dir: Path) -> Path:
        return Path(batch_dir) / "runs"
