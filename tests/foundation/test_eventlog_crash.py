"""Crash safety of the event log and of resume, under SIGKILL at random moments."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from deepcode_tui.events.models import LogMessage
from deepcode_tui.store.eventlog import EventLog, read_log
from deepcode_tui.store.run import RunStore
from tests.conftest import REPO_ROOT
from tests.foundation.fake_phases import NAMES, run_fake_pipeline

CHILD = [sys.executable, "-m", "tests.foundation.crash_child"]


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*CHILD, *args], cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _kill_after(proc: subprocess.Popen, delay: float) -> list[str]:
    # The clock starts once the child is working (its first line), so a slow
    # start on a loaded machine does not turn the trial into a kill before start.
    first = proc.stdout.readline()
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    return [first.rstrip("\n"), *out.splitlines()]


def test_sigkilled_appender_loses_no_reported_event(tmp_path: Path) -> None:
    rng = random.Random(1234)
    runs = tmp_path / "runs"
    run_id = None
    reported: set[int] = set()
    for trial in range(12):
        # Large payloads on some trials make a kill mid-write (a torn line) likely.
        payload = rng.choice([10, 5_000, 200_000])
        proc = _spawn("append", str(runs), run_id or "-", str(payload))
        lines = _kill_after(proc, rng.uniform(0.0, 0.5))
        for line in lines:
            if line.startswith("run "):
                run_id = line.split()[1]
            elif line.startswith("seq "):
                reported.add(int(line.split()[1]))
        assert run_id, f"child produced no run id; stdout={lines!r}"
        result = read_log(runs / run_id / "events.jsonl")
        assert result.corrupt_lines == [], f"trial {trial}: corrupt lines {result.corrupt_lines}"
        seqs = [e.seq for e in result.events]
        assert seqs == list(range(1, len(seqs) + 1)), "sequence numbers must be gapless and ordered"
        missing = reported - set(seqs)
        assert not missing, f"trial {trial}: events reported as written are missing: {sorted(missing)[:5]}"
    assert len(reported) > 50  # the trials really appended


def test_torn_tail_is_set_aside_and_appending_continues(tmp_path: Path) -> None:
    log_path = tmp_path / "events.jsonl"
    log = EventLog(log_path)
    log.append(LogMessage(message="one"))
    log.append(LogMessage(message="two"))
    log.close()
    with open(log_path, "ab") as fh:
        fh.write(b'{"type": "log", "mess')  # a crash mid-write
    assert [e.message for e in read_log(log_path).events] == ["one", "two"]
    log = EventLog(log_path)
    ev = log.append(LogMessage(message="three"))
    log.close()
    assert ev.seq == 3
    result = read_log(log_path)
    assert [e.message for e in result.events] == ["one", "two", "three"]
    assert result.torn_tail == b"" and result.corrupt_lines == []
    assert b'"mess' in (tmp_path / "events.torn").read_bytes()  # kept, not deleted


def test_resume_after_sigkill_continues_from_the_right_step(tmp_path: Path) -> None:
    rng = random.Random(99)
    runs = tmp_path / "runs"
    for trial in range(6):
        store = RunStore.create(runs, Path(__file__))
        run_id = store.run_id
        store.close()
        proc = _spawn("phases", str(runs), run_id)
        lines = _kill_after(proc, rng.uniform(0.0, 0.6))
        done_before = [ln.split()[1] for ln in lines if ln.startswith("done ")]
        store = RunStore.open(runs, run_id)
        completed = store.completed_phases()
        # Everything the child reported done is checkpointed, in order.
        assert completed[: len(done_before)] == done_before
        assert completed == list(NAMES[: len(completed)])
        ran = asyncio.run(run_fake_pipeline(store))
        assert ran == list(NAMES[len(completed) :]), f"trial {trial}: resume ran {ran} after {completed}"
        assert store.completed_phases() == list(NAMES)
        for name in completed:  # a checkpointed phase never runs again
            assert (store.path(f"ran-{name}")).read_text().count("x") == 1
        for name in NAMES:
            assert store.path(f"artifact-{name}.txt").read_text() == name
        store.close()
