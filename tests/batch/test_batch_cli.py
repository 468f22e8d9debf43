"""`deepcode-tui batch` as a user runs it: its own local Ray, Ctrl-C, `batch --resume`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deepcode_tui.store.catalog import summarize_run
from deepcode_tui.store.eventlog import read_log
from tests.conftest import REPO_ROOT
from tests.e2e.scripted_run import repo_files, TODO
from tests.e2e.test_replay_run import _sandbox_or_skip

pytestmark = [pytest.mark.slow, pytest.mark.sandbox, pytest.mark.timeout(1200)]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEEPCODE_") and not k.endswith("_API_KEY")}
    env.update({"DEEPCODE_RUNS_DIR": str(tmp_path / "plain-runs"), "COLUMNS": "160",
                "PYTHONPATH": str(REPO_ROOT)})
    return env


def _batch_dir(batches: Path) -> Path | None:
    found = [p for p in batches.glob("batch-*") if (p / "batch.json").is_file()] if batches.is_dir() else []
    return found[0] if found else None


@pytest.fixture
def batches():
    # A short path, so the local Ray keeps its sockets and logs inside the batch directory.
    path = Path(f"/tmp/dct-b{os.getpid()}")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_ctrl_c_stops_every_run_resumably_and_resume_finishes_them(tmp_path: Path, batches: Path) -> None:
    pytest.importorskip("ray")
    _sandbox_or_skip()
    # Two copies of the requirement (the cheapest whole run), each replaying its cassette.
    cassettes = tmp_path / "cassettes"
    cassettes.mkdir()
    docs = []
    for stem in ("todo-a", "todo-b"):
        (cassettes / stem).symlink_to(TODO.cassette)
        docs.append(tmp_path / f"{stem}.txt")
        docs[-1].write_text(TODO.example.read_text())
    cmd = [sys.executable, "-m", "deepcode_tui", "batch", *map(str, docs), "--yes",
           "--replay-root", str(cassettes), "--batch-dir", str(batches), "--local-cpus", "2"]
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        batch_dir = None
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            batch_dir = batch_dir or _batch_dir(batches)
            if batch_dir is not None:
                runs = [p for p in (batch_dir / "runs").iterdir() if (p / "events.jsonl").is_file()]
                logs = [read_log(p / "events.jsonl").events for p in runs]
                # Strike once both runs are under way (past ingest) and neither has finished.
                if len(logs) == 2 and all(
                    any(e.type == "phase_completed" and e.phase == "ingest" for e in ev)
                    and not any(e.type == "run_finished" for e in ev) for ev in logs
                ):
                    break
            time.sleep(0.1)
        else:
            pytest.fail("the runs never got under way")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err[-3000:]
    assert "batch --resume" in err and "Traceback" not in err
    manifest = json.loads((batch_dir / "batch.json").read_text())
    assert manifest["status"] == "stopped"
    for entry in manifest["entries"]:
        summary = summarize_run(batch_dir / "runs" / entry["run_id"])
        assert entry["status"] == "stopped" and summary.status == "stopped" and summary.resumable, entry

    resumed = subprocess.run(
        [sys.executable, "-m", "deepcode_tui", "batch", "--resume", manifest["batch_id"], "--batch-dir", str(batches),
         "--local-cpus", "2"], cwd=REPO_ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=600,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    final = json.loads((batch_dir / "batch.json").read_text())
    assert final["status"] == "finished"
    assert {e["stem"]: e["status"] for e in final["entries"]} == {"todo-a": "passed", "todo-b": "passed"}
    for entry in final["entries"]:
        repo = batch_dir / "runs" / entry["run_id"] / "repo"
        assert repo_files(repo) == TODO.files()
    assert "todo-a" in resumed.stderr and "passed" in resumed.stderr  # the summary table
