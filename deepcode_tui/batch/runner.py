"""The batch driver: creates the runs, schedules them on Ray, watches them, stops them.

It holds no run state of its own beyond ``batch.json``: each run's state is
its run directory, so a batch stopped by Ctrl-C, a lost head or a budget
continues with ``batch --resume BATCH_ID`` exactly where its runs stand.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deepcode_tui.batch.approvals import pending_gates
from deepcode_tui.batch.models import FINISHED, BatchEntry, BatchManifest
from deepcode_tui.batch.store import clear_stop, load_manifest, request_stop, save_manifest
from deepcode_tui.batch.task import run_document
from deepcode_tui.errors import Cancelled, DeepcodeError

STOP_GRACE_S = 60.0
PHASE_REFRESH_S = 5.0
Say = Callable[[str], None]


def create_runs(batch_dir: Path, manifest: BatchManifest, docs: list[Path], *, snapshot: dict[str, Any]) -> None:
    """One run directory per readable document; unreadable ones are entries in error (they fail alone)."""
    from deepcode_tui.pipeline.inputs import check_input
    from deepcode_tui.store.run import RunStore

    for doc in docs:
        entry = BatchEntry(doc=str(Path(doc).expanduser().absolute()), stem=Path(doc).stem)
        manifest.entries.append(entry)
        try:
            path = check_input(Path(doc))
            if manifest.replay_root:
                cassette = Path(manifest.replay_root) / entry.stem
                if not (cassette / "index.json").is_file():
                    raise DeepcodeError(f"no cassette for {Path(doc).name} at {cassette}",
                                        "record one there, or drop the document from --replay-root batches")
                entry.replay = str(cassette.resolve())
            store = RunStore.create(manifest.runs_dir(batch_dir), path, command="batch", config=snapshot)
            entry.run_id = store.run_id
            store.close()
        except DeepcodeError as exc:
            entry.status, entry.message = "error", exc.one_line()
    save_manifest(batch_dir, manifest)


def _spent(batch_dir: Path, manifest: BatchManifest) -> tuple[float, int]:
    from deepcode_tui.llm.accounting import Ledger

    cost, tokens = 0.0, 0
    for entry in manifest.entries:
        run_dir = manifest.runs_dir(batch_dir) / entry.run_id
        if entry.run_id and run_dir.is_dir():
            totals = Ledger(run_dir).totals()
            cost, tokens = cost + totals.total_cost_usd, tokens + totals.total_tokens
    return cost, tokens


def _attempts(run_dir: Path) -> int:
    try:
        return len((run_dir / "batch-attempts.log").read_text(encoding="utf-8").splitlines())
    except FileNotFoundError:
        return 0


class BatchDriver:
    def __init__(self, batch_dir: Path, manifest: BatchManifest, *, say: Say, poll_s: float = 1.0) -> None:
        self.batch_dir = batch_dir
        self.m = manifest
        self.say = say
        self.poll_s = poll_s
        self._announced: set[tuple[str, str]] = set()
        self._phases_at = 0.0

    # -- scheduling ----------------------------------------------------------------

    def _submit(self, ray, remote, coordinator, entry: BatchEntry, *, stop_after: str | None, gpu: bool):
        opts: dict[str, Any] = {
            "num_cpus": self.m.cpus_per_run, "memory": self.m.memory_mb_per_run * 2**20,
            "max_retries": self.m.max_retries, "retry_exceptions": False, "name": f"deepcode-run:{entry.stem}",
        }
        if gpu:
            opts["num_gpus"] = 1
        job = {"batch_dir": str(self.batch_dir), "run_id": entry.run_id, "stop_after": stop_after}
        entry.status = "running"
        return remote.options(**opts).remote(job, coordinator)

    def run(self, ray) -> BatchManifest:
        from deepcode_tui.batch.coordinator import start_coordinator

        clear_stop(self.batch_dir)
        started = time.monotonic()
        spent = _spent(self.batch_dir, self.m)
        coordinator = start_coordinator(ray, self.m.limits, *spent)
        remote = ray.remote(run_document)
        # On a cluster with GPUs a run is two tasks: build (no GPU), then verify with one
        # when its blueprint asks. Without GPUs anywhere one task does it all.
        gpu_cluster = float(ray.cluster_resources().get("GPU", 0)) > 0
        todo = [e for e in self.m.entries if e.run_id and e.status not in FINISHED]
        workers = self.m.workers or max(1, int(float(ray.cluster_resources().get("CPU", 1)) // self.m.cpus_per_run))
        inflight: dict[Any, BatchEntry] = {}
        save_manifest(self.batch_dir, self.m)
        try:
            while todo or inflight:
                while todo and len(inflight) < workers:
                    entry = todo.pop(0)
                    ref = self._submit(ray, remote, coordinator, entry,
                                       stop_after="codegen" if gpu_cluster else None, gpu=False)
                    inflight[ref] = entry
                    self.say(f"▶ {entry.stem}: run {entry.run_id}")
                save_manifest(self.batch_dir, self.m)
                done, _ = ray.wait(list(inflight), num_returns=1, timeout=self.poll_s)
                for ref in done:
                    entry = inflight.pop(ref)
                    result = self._collect(ray, ref, entry)
                    if result.get("status") == "built":
                        ref2 = self._submit(ray, remote, coordinator, entry, stop_after=None, gpu=bool(result.get("gpu")))
                        inflight[ref2] = entry
                self._announce_gates()
                self._refresh_phases(inflight.values())
        except KeyboardInterrupt:
            self._stop(ray, inflight)
            raise Cancelled(
                f"batch {self.m.batch_id} stopped; every run keeps its last checkpoint",
                f"continue it with: deepcode-tui batch --resume {self.m.batch_id}",
            ) from None
        finally:
            self.m.wall_seconds = round(self.m.wall_seconds + time.monotonic() - started, 3)
            self._save_limiter(ray, coordinator)
            save_manifest(self.batch_dir, self.m)
        self.m.status = "finished"
        return self.m

    def _collect(self, ray, ref, entry: BatchEntry) -> dict[str, Any]:
        run_dir = self.m.runs_dir(self.batch_dir) / entry.run_id
        try:
            result = ray.get(ref)
        except Exception as exc:  # noqa: BLE001 - Ray gave up on the task (retries spent, node gone)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            result = {"status": "error", "message": f"the task failed on Ray: {type(exc).__name__}: {first[:300]}"}
        entry.attempts = _attempts(run_dir)
        entry.seconds = round(entry.seconds + float(result.get("seconds", 0.0)), 3)
        entry.message = result.get("message", "")
        entry.phase = result.get("phase", entry.phase)
        entry.cost_usd = float(result.get("cost_usd", entry.cost_usd))
        status = result.get("status", "error")
        if status == "built":
            return result
        entry.status = status if status in ("passed", "failed", "stopped", "budget", "planned", "error") else "error"
        if self.m.rubric_dir and entry.status in ("passed", "failed"):
            from deepcode_tui.batch.grading import grade

            entry.score, entry.grade_note = grade(run_dir, Path(self.m.rubric_dir), entry.stem)
        mark = {"passed": "✔", "stopped": "■", "budget": "$"}.get(entry.status, "✘")
        self.say(f"{mark} {entry.stem}: {entry.status}" + (f" — {entry.message}" if entry.message else ""))
        return result

    def _refresh_phases(self, running) -> None:
        """Keep batch.json's phases live (for `batch status` and the app), every few seconds."""
        from deepcode_tui.errors import RunStoreError
        from deepcode_tui.store.catalog import summarize_run

        now = time.monotonic()
        if now - self._phases_at < PHASE_REFRESH_S:
            return
        self._phases_at = now
        for entry in running:
            try:
                entry.phase = summarize_run(self.m.runs_dir(self.batch_dir) / entry.run_id).phase
            except RunStoreError:
                continue

    def _announce_gates(self) -> None:
        for gate in pending_gates(self.batch_dir):
            key = (gate.run_id, gate.artifact or gate.gate)
            if key in self._announced:
                continue
            self._announced.add(key)
            stem = next((e.stem for e in self.m.entries if e.run_id == gate.run_id), gate.run_id)
            self.say(f"? {stem} waits at the {gate.gate} gate ({gate.artifact or gate.prompt}): "
                     f"deepcode-tui batch approve {self.m.batch_id} {gate.run_id}")

    def _stop(self, ray, inflight: dict[Any, BatchEntry]) -> None:
        """Every run stops at once (each sees STOP, cancels its phase, records the stop); then Ray goes."""
        request_stop(self.batch_dir)
        self.say(f"stopping {len(inflight)} run(s)…")
        deadline = time.monotonic() + STOP_GRACE_S
        while inflight and time.monotonic() < deadline:
            try:
                done, _ = ray.wait(list(inflight), num_returns=1, timeout=0.5)
            except KeyboardInterrupt:
                break  # a second Ctrl-C: do not wait any longer
            for ref in done:
                self._collect(ray, ref, inflight.pop(ref))
        for ref, entry in inflight.items():
            ray.cancel(ref, force=True)
            entry.status, entry.message = "stopped", "stopped by the user (forced)"
        for entry in self.m.entries:
            if entry.status in ("running", "queued") and entry.run_id:
                entry.status = "stopped"
        self.m.status = "stopped"

    def _save_limiter(self, ray, coordinator) -> None:
        from deepcode_tui.store.atomic import write_json_atomic

        try:
            report = ray.get(coordinator.report.remote(), timeout=10)
        except Exception:  # noqa: BLE001 - the books are informative; the runs' results stand
            return
        write_json_atomic(self.batch_dir / "limiter.json", report)


def finish_scores(manifest: BatchManifest) -> None:
    from deepcode_tui.batch.grading import mean_and_stderr

    if manifest.rubric_dir:
        manifest.mean_score, manifest.score_stderr = mean_and_stderr(
            [e.score for e in manifest.entries if e.score is not None]
        )


def exit_code(manifest: BatchManifest) -> int:
    statuses = {e.status for e in manifest.entries}
    if statuses <= {"passed", "planned"}:
        return 0
    if "budget" in statuses and statuses <= {"passed", "planned", "budget"}:
        return 4
    return 1


def reload(batch_dir: Path) -> BatchManifest:
    return load_manifest(batch_dir)


def limiter_report(batch_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((Path(batch_dir) / "limiter.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
