"""SIGKILL a run during code generation and during repair; `resume` finishes it.

The resumed run must end with the same repository a clean run gives, and no
model call that had completed before the kill is paid for again (it comes
from the run's reply cache instead).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from deepcode_tui.store.eventlog import read_log
from tests.conftest import REPO_ROOT
from tests.e2e.scripted_run import project_files, repo_files
from tests.e2e.test_replay_run import _sandbox_or_skip

CHILD = [sys.executable, "-m", "tests.e2e.scripted_child"]


def _events(run_dir: Path) -> list:
    return read_log(run_dir / "events.jsonl").events


def _start_and_kill(runs: Path, cache: Path, strike) -> Path:
    env = {**os.environ, "DEEPCODE_TEST_REPLY_DELAY": "0.4"}
    proc = subprocess.Popen([*CHILD, "start", str(runs), str(cache)], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_dir = None
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            dirs = [p for p in runs.iterdir() if (p / "events.jsonl").exists()]
            if dirs:
                run_dir = dirs[0]
                if strike(_events(run_dir)):
                    proc.send_signal(signal.SIGKILL)
                    break
            if proc.poll() is not None:
                pytest.fail(f"the run ended before the kill: {proc.communicate()[1][-2000:]}")
            time.sleep(0.05)
        else:
            pytest.fail("the moment to strike never came")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
    assert run_dir is not None
    assert _events(run_dir)[-1].type != "run_finished"  # it really died mid-run
    return run_dir


def _resume(runs: Path, cache: Path, run_dir: Path) -> None:
    proc = subprocess.run([*CHILD, "resume", str(runs), str(cache), run_dir.name], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "outcome passed" in proc.stdout


def _assert_same_as_clean_and_nothing_paid_twice(run_dir: Path) -> None:
    repo = run_dir / "repo"
    assert repo_files(repo) == project_files()
    calls = [json.loads(line) for line in (run_dir / "llm" / "calls.jsonl").read_text().splitlines() if line]
    paid = Counter(c["request_key"] for c in calls if not c.get("cached") and not c.get("error"))
    twice = {key: n for key, n in paid.items() if n > 1}
    assert not twice, f"completed calls paid for again after resume: {twice}"
    phases = [e.phase for e in _events(run_dir) if e.type == "phase_completed"]
    assert phases == ["ingest", "blueprint", "approval", "codegen", "verify", "report"]


@pytest.mark.slow
def test_kill_during_codegen_then_resume(tmp_path: Path) -> None:
    _sandbox_or_skip()
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    runs.mkdir()

    def during_codegen(events) -> bool:
        return sum(1 for e in events if e.type == "file_written") >= 2

    run_dir = _start_and_kill(runs, cache, during_codegen)
    written_before = sum(1 for e in _events(run_dir) if e.type == "file_written")
    assert 2 <= written_before < len(project_files())
    _resume(runs, cache, run_dir)
    _assert_same_as_clean_and_nothing_paid_twice(run_dir)


@pytest.mark.slow
def test_kill_during_repair_then_resume(tmp_path: Path) -> None:
    _sandbox_or_skip()
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    runs.mkdir()

    def during_repair(events) -> bool:
        return any(e.type == "iteration_finished" and e.iteration == 1 for e in events)

    run_dir = _start_and_kill(runs, cache, during_repair)
    _resume(runs, cache, run_dir)
    _assert_same_as_clean_and_nothing_paid_twice(run_dir)
    # The repair history survived the kill: iteration 1 is the original record,
    # and the resumed loop went on numbering from it.
    from deepcode_tui.verify.history import IterationStore

    store = IterationStore(run_dir)
    assert store.numbers() == [1, 2, 3]
    assert "+import math" in store.load(1).diff
    assert "self.t > self.warmup" in store.load(2).diff
    assert store.load_result(3).passed
