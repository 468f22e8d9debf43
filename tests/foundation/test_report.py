"""The run report renders from events and a verdict."""

from __future__ import annotations

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
