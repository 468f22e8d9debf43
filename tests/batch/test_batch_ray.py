"""Batches on a real local Ray (two CPUs): parallel replayed runs, a killed worker, a bad document.

The batch runs in this process (Ray started once by the `local_ray` fixture);
the Ctrl-C test drives the real command in a subprocess (tests/batch/test_batch_cli.py).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from deepcode_tui.batch.api import execute, new_batch
from deepcode_tui.batch.approvals import answer, pending_gates
from deepcode_tui.batch.models import BatchLimits, RateLimit
from deepcode_tui.pipeline.gate import GateDecision
from deepcode_tui.store.catalog import summarize_run
from deepcode_tui.store.eventlog import read_log
from deepcode_tui.store.run import lock_holder
from tests.batch.scripted_setup import MODELS
from tests.conftest import REPO_ROOT
from tests.e2e.scripted_run import EMA, TODO
from tests.e2e.test_replay_run import _sandbox_or_skip

pytestmark = [pytest.mark.slow, pytest.mark.sandbox, pytest.mark.timeout(1200)]


def _repo(run_dir: Path) -> dict[str, str]:
    from tests.e2e.scripted_run import repo_files

    return repo_files(run_dir / "repo")


def _max_in_window(times: list[float], window: float) -> int:
    times, best, lo = sorted(times), 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_two_examples_in_parallel_pass_a_bad_document_fails_alone_and_one_limiter_paces_both(
    local_ray, tmp_path: Path
) -> None:
    _sandbox_or_skip()
    cassettes = tmp_path / "cassettes"
    cassettes.mkdir()
    for name in ("ema-anomaly", "todo-service"):
        (cassettes / name).symlink_to(REPO_ROOT / "tests" / "cassettes" / name)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage, no xref, no pages\n")
    (cassettes / "broken").symlink_to(REPO_ROOT / "tests" / "cassettes" / "ema-anomaly")
    limits = BatchLimits(rates={"*": RateLimit(requests=4)}, window_s=1.0)  # 4 requests a second, all runs
    batch_dir, _ = new_batch([EMA.example, TODO.example, broken], batches_dir=tmp_path / "batches",
                             auto_approve=True, replay_root=cassettes, limits=limits)
    manifest = execute(batch_dir)

    by_stem = {e.stem: e for e in manifest.entries}
    assert by_stem["ema-anomaly"].status == "passed", by_stem["ema-anomaly"].message
    assert by_stem["todo-service"].status == "passed", by_stem["todo-service"].message
    assert by_stem["broken"].status in ("failed", "error") and by_stem["broken"].message
    runs = batch_dir / "runs"
    # The repositories sequential runs give (tests/e2e/test_replay_run.py checks those).
    assert _repo(runs / by_stem["ema-anomaly"].run_id) == EMA.files()
    assert _repo(runs / by_stem["todo-service"].run_id) == TODO.files()
    # The two good runs overlapped in time: they ran in parallel, not one after the other.
    spans = []
    for stem in ("ema-anomaly", "todo-service"):
        events = read_log(runs / by_stem[stem].run_id / "events.jsonl").events
        spans.append((events[0].ts, events[-1].ts))
    assert spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1]
    # One limiter for the batch: every call of every run went through it, at most 4 a second.
    report = json.loads((batch_dir / "limiter.json").read_text())
    admitted = [t for p in report["providers"].values() for t in p["admitted_s"]]
    ledgers = [runs / e.run_id / "llm" / "calls.jsonl" for e in manifest.entries]
    calls = [json.loads(line) for p in ledgers if p.exists() for line in p.read_text().splitlines() if line]
    assert len(admitted) >= 20 and len(admitted) == sum(1 for c in calls if not c["cached"])
    assert _max_in_window(admitted, 1.0) <= 4
    saved = json.loads((batch_dir / "batch.json").read_text())
    assert saved["status"] == "finished" and len(saved["entries"]) == 3


def test_a_worker_killed_mid_codegen_is_retried_and_pays_no_completed_call_twice(
    local_ray, tmp_path: Path
) -> None:
    _sandbox_or_skip()
    batch_dir, manifest = new_batch(
        [TODO.example], batches_dir=tmp_path / "batches", overrides={"models": MODELS}, auto_approve=False,
        worker_setup="tests.batch.scripted_setup:setup", cache_dir=tmp_path / "cache",
    )
    run_dir = batch_dir / "runs" / manifest.entries[0].run_id
    results: list = []
    driver = threading.Thread(target=lambda: results.append(execute(batch_dir)), daemon=True)
    driver.start()
    approved = killed = False
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline and not killed:
        if not approved and pending_gates(batch_dir):
            answer(batch_dir, manifest.entries[0].run_id, GateDecision(decision="approve"))  # the queue
            approved = True
        events = read_log(run_dir / "events.jsonl").events
        if sum(1 for e in events if e.type == "file_written") >= 2:
            pid = int(lock_holder(run_dir))
            assert pid != os.getpid()  # the run is driven by a Ray worker, not by this process
            os.kill(pid, signal.SIGKILL)
            killed = True
        assert driver.is_alive(), "the batch ended before the kill"
        time.sleep(0.05)
    assert approved and killed, "the moment to strike never came"
    driver.join(timeout=500)
    assert not driver.is_alive() and results
    (entry,) = results[0].entries
    assert entry.status == "passed", entry.message
    assert entry.attempts == 2  # Ray retried the task after its worker died
    assert _repo(run_dir) == TODO.files()
    calls = [json.loads(line) for line in (run_dir / "llm" / "calls.jsonl").read_text().splitlines() if line]
    paid = Counter(c["request_key"] for c in calls if not c["cached"] and not c["error"])
    assert not {k: n for k, n in paid.items() if n > 1}, "a completed call was paid for twice"
    assert any(c["cached"] for c in calls) or len(calls) == len(paid)
    phases = [e.phase for e in read_log(run_dir / "events.jsonl").events if e.type == "phase_completed"]
    assert phases == ["ingest", "blueprint", "approval", "codegen", "verify", "report"]


def test_the_batch_budget_stops_every_run_resumably(local_ray, tmp_path: Path) -> None:
    # Two copies of the requirement: scripted replies are billed (unlike a replay), so tokens count.
    docs = []
    for name in ("todo-a.txt", "todo-b.txt"):
        docs.append(tmp_path / name)
        docs[-1].write_text(TODO.example.read_text())
    batch_dir, _ = new_batch(
        docs, batches_dir=tmp_path / "batches", overrides={"models": MODELS}, auto_approve=True,
        worker_setup="tests.batch.scripted_setup:setup", cache_dir=tmp_path / "cache",
        limits=BatchLimits(max_tokens=1),
    )
    manifest = execute(batch_dir)
    for entry in manifest.entries:
        assert entry.status == "budget", (entry.status, entry.message)
        assert "batch's tokens budget is spent" in entry.message and "--batch-max-tokens" in entry.message
        ledger = batch_dir / "runs" / entry.run_id / "llm" / "calls.jsonl"
        calls = ledger.read_text().splitlines() if ledger.exists() else []  # a run may stop before its first call
        assert len(calls) <= 2  # stopped at its next call once the shared books said so
        assert summarize_run(batch_dir / "runs" / entry.run_id).resumable
