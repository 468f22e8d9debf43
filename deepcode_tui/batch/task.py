"""One document of a batch, run inside a Ray worker.

The task opens the run directory the driver created (under the batch's
shared path) and drives it like `deepcode-tui run`/`resume` would: a first
attempt starts the run, a retried attempt (its worker was killed, its node
lost) resumes it from the last checkpoint. Completed model calls come from
the reply cache on a retry, so none is paid twice. It returns a small dict;
everything else is in the run directory.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import signal
import socket
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from deepcode_tui.batch.store import stop_requested

STOP_POLL_S = 0.5
_GPU = re.compile(r"\b(gpus?|cuda)\b", re.IGNORECASE)
_CPU_ENOUGH = re.compile(r"cpu[- ]only|cpu (is )?(enough|suffices|sufficient)|no gpu|without (a )?gpu", re.IGNORECASE)


def needs_gpu(hardware: str) -> bool:
    """Whether a blueprint's ``environment.hardware`` asks for a GPU to verify on."""
    return bool(_GPU.search(hardware or "")) and not _CPU_ENOUGH.search(hardware or "")


def blueprint_needs_gpu(run_dir: Path) -> bool:
    from ruamel.yaml import YAML

    try:
        data = YAML(typ="safe").load((Path(run_dir) / "blueprint" / "approved.yaml").read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - no readable plan: nothing asks for a GPU
        return False
    env = (data or {}).get("environment") or {}
    return needs_gpu(str(env.get("hardware") or "")) if isinstance(env, dict) else False


def _result(run_id: str, status: str, message: str, started: float, **extra: Any) -> dict[str, Any]:
    return {"run_id": run_id, "status": status, "message": message,
            "seconds": round(time.monotonic() - started, 3), "node": socket.gethostname(), **extra}


def _note_attempt(run_dir: Path) -> None:
    # One line per task start: a retried worker shows as a second line.
    with open(run_dir / "batch-attempts.log", "a", encoding="utf-8") as fh:
        fh.write(f"{time.time():.3f} pid={os.getpid()} node={socket.gethostname()}\n")


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _setup_hook(spec: str) -> None:
    module, _, func = spec.partition(":")
    getattr(importlib.import_module(module), func or "setup")()


async def _drive_until_stopped(batch_dir: Path, coro_factory) -> Any:
    """Run the drive coroutine; cancel it (it then stops cleanly) once STOP appears."""
    task = asyncio.ensure_future(coro_factory())
    while not task.done():
        if stop_requested(batch_dir):
            task.cancel()
            break
        await asyncio.wait({task}, timeout=STOP_POLL_S)
    return await task


def run_document(job: dict[str, Any], coordinator: Any = None) -> dict[str, Any]:
    """The Ray task body. ``job``: batch_dir, run_id, stop_after (None or "codegen")."""
    started = time.monotonic()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    batch_dir, run_id = Path(job["batch_dir"]), job["run_id"]
    if not (batch_dir / "batch.json").is_file():
        return _result(run_id, "error", f"the batch directory {batch_dir} is not visible on node "
                       f"{socket.gethostname()} (fix: put --batch-dir on a filesystem every node mounts "
                       "at the same path)", started)
    from deepcode_tui.batch.store import load_manifest

    manifest = load_manifest(batch_dir)
    entry = next(e for e in manifest.entries if e.run_id == run_id)
    run_dir = manifest.runs_dir(batch_dir) / run_id
    try:
        _note_attempt(run_dir)
        if manifest.worker_setup:
            _setup_hook(manifest.worker_setup)
        return _run(manifest, entry, batch_dir, run_dir, job, coordinator, started)
    except Exception as exc:  # noqa: BLE001 - one document's failure ends its run, never the batch
        from deepcode_tui.errors import DeepcodeError

        if isinstance(exc, DeepcodeError):
            return _result(run_id, "error", exc.one_line(), started)
        (run_dir / "batch-error.txt").write_text(traceback.format_exc(), encoding="utf-8")
        return _result(run_id, "error", f"internal error: {type(exc).__name__}: {exc} "
                       f"(traceback in {run_dir / 'batch-error.txt'})", started)


def _run(manifest, entry, batch_dir: Path, run_dir: Path, job, coordinator, started: float) -> dict[str, Any]:
    from deepcode_tui.batch.approvals import QueueGate
    from deepcode_tui.batch.gateway import batch_gateway_factory
    from deepcode_tui.config import load_settings
    from deepcode_tui.llm.accounting import Ledger
    from deepcode_tui.pipeline.driver import drive
    from deepcode_tui.pipeline.gate import AutoApproveGate
    from deepcode_tui.store.catalog import summarize_run
    from deepcode_tui.store.run import RunStore

    runs_dir = manifest.runs_dir(batch_dir)
    before = summarize_run(run_dir)
    if not before.resumable and before.status in ("passed", "failed"):
        # Finished before the batch lost track of it (its driver died): report, do not re-run.
        return _result(entry.run_id, before.status, "already finished", started, phase=before.phase,
                       cost_usd=Ledger(run_dir).totals().total_cost_usd)
    loaded = load_settings({**manifest.overrides, "runs_dir": str(runs_dir)}, cwd=Path(manifest.cwd))
    store = RunStore.open(runs_dir, entry.run_id)
    try:
        new_run = not store.read_events().events
        gate = AutoApproveGate() if manifest.auto_approve else QueueGate(batch_dir, entry.run_id)
        services: dict[str, Any] = {
            "llm_flags": {
                "replay": Path(entry.replay) if entry.replay else None,
                "no_cache": manifest.no_cache,
                "cache_dir": Path(manifest.cache_dir) if manifest.cache_dir else None,
            },
            "provenance": loaded.provenance,
        }
        if coordinator is not None:
            services["gateway_factory"] = batch_gateway_factory(coordinator, manifest.batch_id)
        # A terminal's Ctrl-C reaches the whole process group, Ray's workers too: the batch
        # stops its runs through STOP (each records its stop), not by interrupting them mid-write.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
        try:
            outcome = asyncio.run(_drive_until_stopped(batch_dir, lambda: drive(
                store, loaded.settings, gate, stop_after=job.get("stop_after"), services=services, new_run=new_run,
            )))
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
    finally:
        store.close()
    summary = summarize_run(run_dir)
    totals = Ledger(run_dir).totals()
    status = outcome.status
    if status == "planned" and job.get("stop_after"):
        status = "built"  # the first of two stages; the driver schedules verification next
    return _result(entry.run_id, status, outcome.message, started, phase=summary.phase,
                   cost_usd=totals.total_cost_usd, gpu=blueprint_needs_gpu(run_dir) if status == "built" else False)
