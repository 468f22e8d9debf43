"""Starting and resuming batches from Python (the CLI is a thin layer over this)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from deepcode_tui.batch.cluster import ray_session
from deepcode_tui.batch.models import BatchLimits, BatchManifest
from deepcode_tui.batch.runner import BatchDriver, Say, create_runs, finish_scores
from deepcode_tui.batch.store import load_manifest, new_batch_dir, save_manifest


def new_batch(
    docs: list[Path],
    *,
    batches_dir: Path,
    overrides: dict[str, Any] | None = None,
    auto_approve: bool = False,
    replay_root: Path | None = None,
    rubric_dir: Path | None = None,
    ray_address: str | None = None,
    limits: BatchLimits | None = None,
    workers: int | None = None,
    cpus_per_run: float = 1.0,
    memory_mb_per_run: int = 1024,
    max_retries: int = 3,
    no_cache: bool = False,
    cache_dir: Path | None = None,
    worker_setup: str = "",
    cwd: Path | None = None,
) -> tuple[Path, BatchManifest]:
    """Create the batch directory and one run per document (nothing runs yet)."""
    from deepcode_tui.config import load_settings

    cwd = Path(cwd or os.getcwd()).resolve()
    overrides = dict(overrides or {})
    loaded = load_settings(overrides, cwd=cwd)  # a bad setting fails here, before any run exists
    batch_dir = new_batch_dir(batches_dir)
    manifest = BatchManifest(
        batch_id=batch_dir.name, cwd=str(cwd), ray_address=ray_address or "", auto_approve=auto_approve,
        overrides=overrides, no_cache=no_cache, cache_dir=str(cache_dir) if cache_dir else "",
        replay_root=str(Path(replay_root).resolve()) if replay_root else "",
        rubric_dir=str(Path(rubric_dir).resolve()) if rubric_dir else "", workers=workers,
        cpus_per_run=cpus_per_run, memory_mb_per_run=memory_mb_per_run, max_retries=max_retries,
        limits=limits or BatchLimits(), worker_setup=worker_setup,
    )
    create_runs(batch_dir, manifest, list(docs), snapshot=loaded.snapshot())
    return batch_dir, manifest


def execute(batch_dir: Path, *, say: Say = lambda line: None, local_cpus: int | None = None) -> BatchManifest:
    """Run (or continue) every unfinished run of the batch; returns the final manifest."""
    from deepcode_tui.batch.cluster import ray_temp_dir

    manifest = load_manifest(batch_dir)
    if not manifest.ray_address:
        manifest.ray_logs = str(ray_temp_dir(batch_dir))
    with ray_session(manifest.ray_address or None, batch_dir=batch_dir, num_cpus=local_cpus) as ray:
        manifest = BatchDriver(batch_dir, manifest, say=say).run(ray)
    finish_scores(manifest)
    save_manifest(batch_dir, manifest)
    return manifest
