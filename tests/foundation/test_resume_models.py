"""Headless `deepcode-tui resume RUN` continues on the models and cassette the run was started with.

Before, it ignored the run's recorded `llm_flags`: a run started with `--replay`
went on with today's configuration (the embedded model, or whatever was set).
These go through the CLI's entry point; the run is a `plan` run killed right
after it was created, so the resume drives ingest and the blueprint phase.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deepcode_tui import cli
from deepcode_tui.llm.scripted import ScriptedReply, register_script, unregister_script
from deepcode_tui.store.run import RunStore
from tests.conftest import REPO_ROOT

CASSETTE = REPO_ROOT / "tests" / "cassettes" / "ema-anomaly"
PAPER = REPO_ROOT / "examples" / "ema-anomaly.md"


def _started_with_replay(runs: Path) -> str:
    """A `plan --replay CASSETTE` run stopped before its first event."""
    store = RunStore.create(runs, PAPER, command="plan", config={"models": {}}, llm_flags={"replay": CASSETTE})
    store.close()
    return store.run_id


def _calls(runs: Path, run_id: str) -> list[dict]:
    path = runs / run_id / "llm" / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _resume(*args: str) -> int:
    with pytest.raises(SystemExit) as done:
        cli.main(["resume", *args])
    return done.value.code


def test_resume_continues_with_the_recorded_cassette_and_says_so(tmp_path, capsys):
    runs = tmp_path / "runs"
    run_id = _started_with_replay(runs)
    code = _resume(run_id, "--runs-dir", str(runs))
    err = capsys.readouterr().err
    assert code == 0, err
    [line] = [x for x in err.splitlines() if "continuing with" in x]
    assert "the models it was started with" in line and f"--replay run: {CASSETTE}, now: (not set)" in line
    assert "--use-todays-models" in line
    calls = _calls(runs, run_id)
    assert calls and all(c["replayed"] for c in calls)  # every answer came from the run's cassette


@pytest.mark.parametrize("choice", [["--use-todays-models"], ["--model", "MODEL"]])
def test_todays_models_when_asked_for(tmp_path, capsys, monkeypatch, choice):
    # Today's model is a scripted one that refuses the key at once: the call shows who answered.
    model = register_script("resume-today", [ScriptedReply(error="auth")] * 8)
    try:
        monkeypatch.setenv("DEEPCODE_MODELS__DEFAULT", model)
        runs = tmp_path / "runs"
        run_id = _started_with_replay(runs)
        code = _resume(run_id, "--runs-dir", str(runs), *[model if a == "MODEL" else a for a in choice])
    finally:
        unregister_script("resume-today")
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    [line] = [x for x in err.splitlines() if "continuing with" in x]
    assert "today's models" in line and f"--replay run: {CASSETTE}, now: (not set)" in line
    calls = _calls(runs, run_id)
    assert calls and {c["model"] for c in calls} == {model} and not any(c["replayed"] for c in calls)
