"""The documented example: the example run graded offline from the checked-in cassette.

    deepcode-tui grade RUN --rubric examples/ema-anomaly.rubric.json --replay tests/cassettes/grade-ema-anomaly

The repository graded here is the one the replayed example run produces (the
end-to-end test checks that run's repository against the same files), so the
requests match the recording exactly, and grade.json is the same on every run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.e2e.scripted_run import EXAMPLE, project_files

CASSETTE = REPO_ROOT / "tests" / "cassettes" / "grade-ema-anomaly"
RUBRIC = REPO_ROOT / "examples" / "ema-anomaly.rubric.json"


def _repo(tmp_path):
    repo = tmp_path / "repo"
    for rel, text in project_files().items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    return repo


def _grade(repo, out, *extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEEPCODE_") and not k.endswith("_API_KEY")}
    env["COLUMNS"] = "160"
    return subprocess.run(
        [sys.executable, "-m", "deepcode_tui", "grade", str(repo), "--rubric", str(RUBRIC), "--paper", str(EXAMPLE),
         "--replay", str(CASSETTE), "--out", str(out), *extra],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


@pytest.mark.parametrize("mode", [[], ["--code-only"]], ids=["full", "code-dev"])
def test_the_example_grade_is_offline_exact_and_the_same_every_time(tmp_path, mode) -> None:
    repo = _repo(tmp_path)
    first = _grade(repo, tmp_path / "one", *mode)
    assert first.returncode == 0, first.stderr[-2000:]
    second = _grade(repo, tmp_path / "two", *mode)
    assert second.returncode == 0, second.stderr[-2000:]
    a = (tmp_path / "one" / "grade.json").read_text()
    assert a == (tmp_path / "two" / "grade.json").read_text()
    out = json.loads(a)
    meta = json.loads((CASSETTE / "grade-meta.json").read_text())
    assert out["graded_at"] == meta["graded_at"] and out["judge_type"] == "simple"
    # Every call was the recorded request itself, not a by-name fallback.
    recorded = {c["key"] for c in json.loads((CASSETTE / "index.json").read_text())["calls"]}
    calls = [json.loads(x) for x in (tmp_path / "one" / "llm" / "calls.jsonl").read_text().splitlines()]
    assert calls and all(c["request_key"] in recorded and c["replayed"] for c in calls)
    if mode:
        assert out["num_leaf_nodes"] == 13 and out["score"] == pytest.approx(26 / 27)
    else:
        assert out["num_leaf_nodes"] == 16 and out["score"] == pytest.approx(71 / 81)
        assert "error: reproduce.sh: reproduce.sh is missing" in first.stderr
    assert "grade:" in first.stdout and "root" in first.stdout and "Traceback" not in first.stderr
