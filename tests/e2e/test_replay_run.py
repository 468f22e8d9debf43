"""A complete run replayed from the checked-in cassette, as a user would start it.

`deepcode-tui run examples/ema-anomaly.md --yes --replay tests/cassettes/ema-anomaly`
goes through every phase with the real code: ingest, the agents' tool loop,
the planner's structured output, the gate, CodeMem, the sandbox (podman or
bubblewrap) and three repair iterations, then the report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepcode_tui.codegen.memory import MemoryStore
from deepcode_tui.store.eventlog import read_log
from tests.conftest import REPO_ROOT
from tests.e2e.scripted_run import CASSETTE, EXAMPLE, project_files, repo_files

PHASES = ["ingest", "blueprint", "approval", "codegen", "verify", "report"]


def _sandbox_or_skip() -> None:
    from deepcode_tui.errors import SandboxError
    from deepcode_tui.verify.sandbox import choose_backend

    try:
        choose_backend("auto")
    except SandboxError as exc:
        pytest.skip(f"no sandbox backend here: {exc.one_line()}")


@pytest.fixture(scope="module")
def replayed_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    _sandbox_or_skip()
    runs = tmp_path_factory.mktemp("runs")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEEPCODE_") and not k.endswith("_API_KEY")}
    env.update({"DEEPCODE_RUNS_DIR": str(runs), "COLUMNS": "160"})
    proc = subprocess.run(
        [sys.executable, "-m", "deepcode_tui", "run", str(EXAMPLE), "--yes", "--replay", str(CASSETTE)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, env=env,
    )
    run_dirs = [p for p in runs.iterdir() if (p / "run.json").exists()]
    assert len(run_dirs) == 1, proc.stderr
    return proc, run_dirs[0]


def test_the_run_passes_and_says_so(replayed_run) -> None:
    proc, run_dir = replayed_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "passed" in proc.stdout and str(run_dir / "repo") in proc.stdout
    assert "Traceback" not in proc.stderr


def test_the_repository_is_the_one_the_scripted_coder_and_repairer_produce(replayed_run) -> None:
    _, run_dir = replayed_run
    repo = run_dir / "repo"
    written = repo_files(repo)
    assert written == project_files()


def test_events_tell_the_whole_story(replayed_run) -> None:
    _, run_dir = replayed_run
    log = read_log(run_dir / "events.jsonl")
    assert not log.corrupt_lines and not log.torn_tail
    events = log.events
    assert [e.phase for e in events if e.type == "phase_completed"] == PHASES
    assert sorted(e.path for e in events if e.type == "file_written") == sorted(project_files())
    iterations = [(e.iteration, e.passed) for e in events if e.type == "iteration_finished"]
    assert iterations == [(1, False), (2, False), (3, True)]
    assert [e.iteration for e in events if e.type == "patch_decision" and e.applied] == [1, 2]
    reads = {e.agent for e in events if e.type == "section_read"}
    assert {"concept", "algorithm"} <= reads  # segmented reading happened, by both agents
    assert events[-1].type == "run_finished" and events[-1].status == "passed"
    assert all(e.type != "llm_call_finished" or not e.error for e in events)


def test_memory_entries_hold_interfaces_not_code(replayed_run) -> None:
    _, run_dir = replayed_run
    entries = {e.path: e for e in MemoryStore(run_dir).entries()}
    assert set(entries) == set(project_files())
    detector = entries["emaz/detector.py"]
    rendered = detector.render()
    assert "EMAZDetector" in rendered and "update" in rendered and "def detect" in rendered
    assert "self.var = (1 - self.alpha)" not in rendered  # an interface, not the code
    run_entry = entries["run.py"]
    assert "emaz/detector.py" in json.dumps(run_entry.model_dump())  # dependency edge resolved


def test_the_report(replayed_run) -> None:
    _, run_dir = replayed_run
    report = (run_dir / "report.md").read_text()
    assert "PASSED" in report and "4 passed, 0 failed" in report
    for path in project_files():
        assert f"`{path}`" in report
    assert "| 3 | passed |" in report and "| 1 | failed |" in report
    for role in ("analyst", "planner", "coder", "repairer"):
        assert f"| {role} |" in report


def test_a_software_requirement_takes_the_same_road(tmp_path: Path) -> None:
    """examples/todo-service.txt: intent analysis -> the same Blueprint schema -> a passing repo."""
    from tests.e2e.scripted_run import TODO

    _sandbox_or_skip()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEEPCODE_") and not k.endswith("_API_KEY")}
    env["DEEPCODE_RUNS_DIR"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "deepcode_tui", "run", str(TODO.example), "--yes", "--replay", str(TODO.cassette)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run_dir,) = [p for p in tmp_path.iterdir() if (p / "run.json").exists()]
    repo = run_dir / "repo"
    assert repo_files(repo) == TODO.files()
    events = read_log(run_dir / "events.jsonl").events
    assert any(e.type == "section_read" and e.agent == "intent" for e in events)
    assert "source_kind: requirement" in (run_dir / "blueprint" / "approved.yaml").read_text()
    assert "PASSED" in (run_dir / "report.md").read_text()


GRADE_CASSETTE = REPO_ROOT / "tests" / "cassettes" / "grade-ema-anomaly"
RUBRIC = REPO_ROOT / "examples" / "ema-anomaly.rubric.json"


def _grade(run_dir: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEEPCODE_") and not k.endswith("_API_KEY")}
    env.update({"DEEPCODE_RUNS_DIR": str(run_dir.parent), "COLUMNS": "160"})
    return subprocess.run(
        [sys.executable, "-m", "deepcode_tui", "grade", run_dir.name, "--rubric", str(RUBRIC),
         "--replay", str(GRADE_CASSETTE), "--out", str(out), *extra],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


def test_the_repository_is_a_submission(replayed_run) -> None:
    _, run_dir = replayed_run
    repo = run_dir / "repo"
    for name in ("README.md", "reproduce.sh", "requirements.txt"):
        assert (repo / name).is_file()
    # The verify phase ran `bash reproduce.sh` in the sandbox with the quick setting.
    result = json.loads(sorted((run_dir / "iterations").glob("*/result.json"))[-1].read_text())
    ran = [c for c in result["commands"] if c["argv"][-2:] == ["bash", "reproduce.sh"]]
    assert ran and ran[0]["argv"][:2] == ["env", "REPRODUCE_QUICK=1"] and ran[0]["exit_code"] == 0
    assert (repo / "results" / "metrics.txt").read_text().startswith("precision=")


@pytest.mark.parametrize("mode", [[], ["--code-only"]], ids=["full", "code-dev"])
def test_grading_the_replayed_run_is_offline_exact_and_the_same_every_time(replayed_run, tmp_path, mode) -> None:
    """`deepcode-tui grade RUN --rubric examples/ema-anomaly.rubric.json --replay tests/cassettes/grade-ema-anomaly`."""
    _, run_dir = replayed_run
    first = _grade(run_dir, tmp_path / "one", *mode)
    assert first.returncode == 0, first.stderr[-2000:]
    second = _grade(run_dir, tmp_path / "two", *mode)
    assert second.returncode == 0, second.stderr[-2000:]
    text = (tmp_path / "one" / "grade.json").read_text()
    assert text == (tmp_path / "two" / "grade.json").read_text()
    out = json.loads(text)
    assert out["graded_at"] == json.loads((GRADE_CASSETTE / "grade-meta.json").read_text())["graded_at"]
    # Every judge call was the recorded request itself, not a by-name fallback.
    recorded = {c["key"] for c in json.loads((GRADE_CASSETTE / "index.json").read_text())["calls"]}
    calls = [json.loads(x) for x in (tmp_path / "one" / "llm" / "calls.jsonl").read_text().splitlines()]
    assert calls and all(c["request_key"] in recorded and c["replayed"] for c in calls)
    if mode:
        assert out["num_leaf_nodes"] == 13 and out["score"] == pytest.approx(26 / 27)
    else:  # the two results leaves are judged on reproduce.log, which the verify phase keeps
        assert out["num_leaf_nodes"] == 16 and out["score"] == pytest.approx(79 / 81)
    assert "error:" not in first.stderr and "grade:" in first.stdout and "root" in first.stdout
