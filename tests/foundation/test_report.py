"""The run report renders from events and a verdict."""

from __future__ import annotations

import io
from pathlib import Path

from deepcode_tui.events.models import (
    FileFailed,
    FileWritten,
    IterationFinished,
    LLMCallFinished,
    PhaseCompleted,
    PhaseStarted,
    SandboxRan,
)
from deepcode_tui.pipeline.report import build_report, render_markdown


def test_a_failed_run_is_reported_as_such_with_its_findings_and_costs(tmp_path: Path) -> None:
    events = [
        PhaseStarted(phase="codegen"),
        LLMCallFinished(call_id="c1", role="coder", model="m", prompt_tokens=100, completion_tokens=50, cost_usd=0.01),
        FileWritten(path="a.py", bytes=10),
        FileFailed(path="b.py", reason="no usable reply"),
        PhaseCompleted(phase="codegen"),
        PhaseStarted(phase="verify"),
        SandboxRan(backend="podman", command="python -m pytest -q", exit_code=1, duration_s=0.5),
        IterationFinished(iteration=1, passed=False, findings=2, summary="patched"),
        PhaseCompleted(phase="verify"),
    ]
    verdict = {
        "passed": False,
        "message": "verification did not pass",
        "findings_left": [{"file": None, "line": None, "kind": "no_verification", "message": "nothing ran"}],
        "tests_passed": 1,
        "tests_failed": 2,
    }
    report = build_report(events, run_id="r1", repo_dir=tmp_path, verdict=verdict, coverage_missing=["eq (3)"])
    assert report.status == "failed" and report.files_written == ["a.py"] and report.files_failed == {"b.py": "no usable reply"}
    assert report.roles["coder"].tokens == 150 and report.phases["codegen"].cost_usd == 0.01
    md = render_markdown(report)
    assert "DID NOT PASS" in md and "PASSED:" not in md
    assert "1 passed, 2 failed" in md and "eq (3)" in md and "`b.py`: FAILED" in md
    assert "None" not in md  # missing locations render empty


# --- the ending of a run on the embedded model ------------------------------------------


def _embedded_run_events() -> list:
    from deepcode_tui.events.models import BlueprintSaved, LLMCallStarted
    from deepcode_tui.llm.resolve import EMBEDDED_MODEL

    return [
        PhaseStarted(phase="blueprint"),
        LLMCallStarted(call_id="c1", role="planner", model=EMBEDDED_MODEL, name="planning agent"),
        BlueprintSaved(version="v1", path="blueprint/v1.yaml", files=2),
        PhaseCompleted(phase="blueprint"),
        FileWritten(path="ema.py", bytes=10),
        FileWritten(path="test_ema.py", bytes=10),
        PhaseCompleted(phase="codegen"),
        SandboxRan(backend="podman", command="python -m pytest -q", exit_code=1, duration_s=0.5),
        IterationFinished(iteration=1, passed=False, findings=2, summary="patched"),
        SandboxRan(backend="podman", command="python -m pytest -q", exit_code=1, duration_s=0.5),
        IterationFinished(iteration=2, passed=False, findings=2, summary="no progress"),
        PhaseCompleted(phase="verify"),
    ]


def test_a_failed_embedded_run_says_what_ran_that_the_model_is_tiny_and_how_to_configure_one(tmp_path):
    report = build_report(_embedded_run_events(), run_id="r1", repo_dir=tmp_path, verdict={"passed": False})
    text = " ".join(report.ending)
    assert "it planned 2 file(s), wrote 2 and ran the generated code 2 time(s) in the podman sandbox" in text
    assert "embedded SmolLM2-135M" in text and "tiny" in text
    assert "models.default" in text and "ANTHROPIC_API_KEY" in text and "models.api_base" in text
    assert "edit" not in text.lower()  # nobody asked to edit anything
    assert text in render_markdown(report)


def test_no_ending_when_the_run_passed_or_used_a_real_model(tmp_path):
    events = _embedded_run_events()
    assert build_report(events, run_id="r1", repo_dir=tmp_path, verdict={"passed": True}).ending == []
    real = [e for e in events if e.type != "llm_call_started"] + [
        LLMCallFinished(call_id="c2", role="coder", model="anthropic/claude-sonnet-4-5")
    ]
    assert build_report(real, run_id="r1", repo_dir=tmp_path, verdict={"passed": False}).ending == []


def test_the_terminal_ending_follows_the_live_events():
    from rich.console import Console

    from deepcode_tui.headless import HeadlessDisplay

    display = HeadlessDisplay(Console(file=io.StringIO()))
    for ev in _embedded_run_events()[:3]:  # stopped in the blueprint phase
        display(ev)
    lines = display.ending("error")
    assert "stopped before verification (last completed step: nothing)" in lines[0]
    assert display.ending("stopped") == [] and display.ending("passed") == []


def test_the_ending_says_when_no_iteration_reached_the_sandbox(tmp_path):
    events = [e for e in _embedded_run_events() if e.type != "sandbox_ran"]
    report = build_report(events, run_id="r1", repo_dir=tmp_path, verdict={"passed": False})
    text = report.ending[0]
    assert "wrote 2 and went through 2 repair iteration(s) without the code reaching the sandbox" in text


def test_the_smoke_test_step_is_not_counted_as_a_repair_iteration(tmp_path):
    """Iteration 0 writes smoke tests before the first run; the verdict counts the repair
    iterations from 1, and the ending must say the same number (it said one more)."""
    events = _embedded_run_events()
    events.insert(6, IterationFinished(iteration=0, passed=False, findings=0, summary="smoke_tests"))
    report = build_report(events, run_id="r1", repo_dir=tmp_path, verdict={"passed": False})
    assert "over 2 repair iteration(s)" in report.ending[0]
    no_sandbox = [e for e in events if e.type != "sandbox_ran"]
    report = build_report(no_sandbox, run_id="r1", repo_dir=tmp_path, verdict={"passed": False})
    assert "went through 2 repair iteration(s)" in report.ending[0]
