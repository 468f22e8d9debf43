"""Run directories: isolation, locking, listing, and damaged logs."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from deepcode_tui.errors import RunStoreError
from deepcode_tui.events.models import CostUpdated, LogMessage, PhaseCompleted, PhaseStarted, RunFinished
from deepcode_tui.store.catalog import list_runs, summarize_run
from deepcode_tui.store.run import RunStore, find_run


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    p = tmp_path / "paper.md"
    p.write_text("# A paper\n\ntext\n")
    return p


def test_two_runs_never_share_or_clobber(tmp_path: Path, doc: Path) -> None:
    runs = tmp_path / "runs"
    stores: list[RunStore] = []

    def make() -> None:
        stores.append(RunStore.create(runs, doc))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    roots = {s.root for s in stores}
    assert len(roots) == 8
    for i, s in enumerate(stores):
        s.append(LogMessage(message=f"run {i}"))
    for i, s in enumerate(stores):
        events = s.read_events().events
        assert [e.message for e in events] == [f"run {i}"]
        assert s.repo_dir == s.root / "repo"
        s.close()


def test_a_running_run_cannot_be_opened_twice(tmp_path: Path, doc: Path) -> None:
    store = RunStore.create(tmp_path / "runs", doc)
    with pytest.raises(RunStoreError, match="in use"):
        RunStore.open(tmp_path / "runs", store.run_id)
    store.close()
    RunStore.open(tmp_path / "runs", store.run_id).close()


def test_unknown_and_ambiguous_run_ids(tmp_path: Path, doc: Path) -> None:
    runs = tmp_path / "runs"
    with pytest.raises(RunStoreError, match="no run"):
        find_run(runs, "nope")
    with pytest.raises(RunStoreError, match="not a valid run id"):
        find_run(runs, "../etc")
    a, b = RunStore.create(runs, doc), RunStore.create(runs, doc)
    prefix = a.run_id[:8]
    with pytest.raises(RunStoreError, match="ambiguous"):
        find_run(runs, prefix)
    assert find_run(runs, a.run_id) == a.root
    a.close(), b.close()


def test_catalog_derives_phase_status_and_cost(tmp_path: Path, doc: Path) -> None:
    runs = tmp_path / "runs"
    store = RunStore.create(runs, doc)
    store.append(PhaseStarted(phase="ingest"))
    store.append(PhaseCompleted(phase="ingest"))
    store.append(PhaseStarted(phase="blueprint"))
    store.append(CostUpdated(total_cost_usd=0.25, total_tokens=1000))
    assert summarize_run(store.root).status == "running"  # we hold the lock
    store.close()
    s = summarize_run(store.root)
    assert (s.phase, s.status, s.cost_usd, s.resumable) == ("blueprint", "interrupted", 0.25, True)
    store = RunStore.open(runs, store.run_id)
    store.append(RunFinished(status="passed"))
    store.close()
    summaries, problems = list_runs(runs)
    assert [x.status for x in summaries] == ["passed"] and not problems


def test_damaged_log_is_reported_and_left_untouched(tmp_path: Path, doc: Path) -> None:
    runs = tmp_path / "runs"
    store = RunStore.create(runs, doc)
    store.append(PhaseStarted(phase="ingest"))
    store.close()
    log = store.root / "events.jsonl"
    original = log.read_bytes() + b"garbage line\n" + log.read_bytes()
    log.write_bytes(original)
    assert summarize_run(store.root).status == "damaged"
    with pytest.raises(RunStoreError, match="damaged lines"):
        RunStore.open(runs, store.run_id)
    assert log.read_bytes() == original  # nothing deleted or rewritten


def test_garbled_manifest_is_a_clear_problem_in_listing(tmp_path: Path, doc: Path) -> None:
    runs = tmp_path / "runs"
    store = RunStore.create(runs, doc)
    store.close()
    (store.root / "run.json").write_text("{not json")
    summaries, problems = list_runs(runs)
    assert summaries == [] and len(problems) == 1 and "damaged" in problems[0]
