"""A token budget stops the run cleanly at a checkpoint; raising it resumes the run."""

from __future__ import annotations

from pathlib import Path

from deepcode_tui.config.settings import BudgetConfig, Settings
from deepcode_tui.errors import BudgetExceeded
from deepcode_tui.pipeline.driver import drive
from deepcode_tui.pipeline.gate import AutoApproveGate
from deepcode_tui.store.catalog import summarize_run
from deepcode_tui.store.run import RunStore
from tests.e2e.scripted_run import EMA, register_models, repo_files
from tests.e2e.test_replay_run import _sandbox_or_skip


async def test_budget_stop_then_resume_with_a_higher_budget(tmp_path: Path) -> None:
    _sandbox_or_skip()
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    models = register_models(EMA)
    services = {"llm_flags": {"cache_dir": cache}, "watch_repo": False}
    tight = Settings(runs_dir=runs, models=models, budget=BudgetConfig(max_tokens=12_000))
    store = RunStore.create(runs, EMA.example)
    outcome = await drive(store, tight, AutoApproveGate(), services=dict(services), new_run=True)
    store.close()
    assert outcome.status == "budget" and isinstance(outcome.error, BudgetExceeded)
    assert "--max-tokens" in outcome.error.fix or "--max-cost" in outcome.error.fix
    summary = summarize_run(store.root)
    assert summary.resumable and summary.status in ("budget", "stopped")
    events = RunStore.open(runs, store.run_id)
    stopped_at = [e.phase for e in events.read_events().events if e.type == "phase_completed"]
    events.close()
    assert "report" not in stopped_at and any(e == "ingest" for e in stopped_at)

    roomy = Settings(runs_dir=runs, models=models, budget=BudgetConfig(max_tokens=200_000))
    store = RunStore.open(runs, store.run_id)
    outcome = await drive(store, roomy, AutoApproveGate(), services=dict(services))
    phases = [e.phase for e in store.read_events().events if e.type == "phase_completed"]
    store.close()
    assert outcome.status == "passed", outcome.message
    assert phases == ["ingest", "blueprint", "approval", "codegen", "verify", "report"]
    repo = store.repo_dir
    assert repo_files(repo) == EMA.files()
