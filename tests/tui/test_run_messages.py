"""What the app says about a run: command output in the sandbox log, the tokens in the header,
the log of a reopened run, the coverage label."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest

from deepcode_tui.events.models import CostUpdated, IterationFinished, LLMCallFinished
from deepcode_tui.pipeline import bridge
from deepcode_tui.tui.state import RunState
from tests.tui.finished_run import RUN_ID, make_finished_run
from tests.tui.screen_text import screen_text
from tests.tui.waiting import wait_for


def test_a_sandbox_run_emits_its_output_lines_after_the_command_line():
    seen: list = []

    async def emit(event):
        seen.append(event)

    ctx = SimpleNamespace(emit=emit)
    out = "\n".join(f"out {i}" for i in range(bridge.OUTPUT_LINES + 5))
    asyncio.run(bridge.verify_emitter(ctx)({
        "type": "sandbox_run", "iteration": 1, "argv": ["python", "-m", "pytest"], "backend": "podman",
        "exit_code": 1, "duration_s": 0.9, "stdout": out, "stderr": "E   assert 1 == 2\n",
    }))  # fmt: skip
    assert seen[0].type == "sandbox_ran" and seen[0].command == "python -m pytest"
    lines = [(e.stream, e.line) for e in seen[1:]]
    assert lines[0] == ("stdout", "[5 earlier lines of stdout in the iteration's trace.txt]")
    assert lines[1] == ("stdout", "out 5") and ("stdout", f"out {bridge.OUTPUT_LINES + 4}") in lines
    assert lines[-1] == ("stderr", "E   assert 1 == 2")


def test_the_header_counts_every_calls_tokens_as_the_report_does():
    state = RunState()
    for n in (1, 2):  # replayed calls: CostUpdated's paid total stays 0
        state.apply(
            LLMCallFinished(call_id=f"c{n}", role="coder", model="m", prompt_tokens=100, completion_tokens=20)
        )
        state.apply(CostUpdated(total_cost_usd=0.0, total_tokens=0))
    assert state.tokens == 240 and state.cost_usd == 0.0


@pytest.fixture
def finished(tmp_path):
    return make_finished_run(tmp_path)  # a sync fixture: it drives its own event loop


async def test_a_reopened_run_shows_each_iterations_output_and_one_verdict(finished, tmp_path, make_loaded):
    from deepcode_tui.tui.app import DeepcodeApp

    app = DeepcodeApp(make_loaded(), blink=False, cwd=tmp_path, warm_up=False)
    async with app.run_test(size=(100, 32)) as pilot:
        assert await app.open_run(RUN_ID, resume=False)
        app.main.show("sandbox")
        await wait_for(pilot, lambda: "iteration 3: passed" in screen_text(app), what="the log")
        text = screen_text(app)
        # trace.txt of each iteration (the scripted run writes "iteration N" there)
        for n in (1, 2, 3):
            assert f"── iteration {n} ──\niteration {n}\n" in "\n".join(
                ln.strip() for ln in text.splitlines()
            )
        assert "passed passed" not in text
        assert str(app.session.repo_dir.relative_to(tmp_path)) in text  # where the repository is


def test_iteration_verdict_is_said_once():
    from deepcode_tui.tui.widgets.sandbox import SandboxPane

    pushed: list[str] = []
    pane = SimpleNamespace(live_log=SimpleNamespace(push=lambda line, style="": pushed.append(line)))
    SandboxPane._log_line(pane, IterationFinished(iteration=3, passed=True, findings=0, summary="passed"))
    SandboxPane._log_line(
        pane, IterationFinished(iteration=2, passed=False, findings=1, summary="1 test failed")
    )
    assert pushed == ["iteration 3: passed", "iteration 2: failed (1 findings) 1 test failed"]


def test_coverage_says_which_version_it_measured(tmp_path):
    from deepcode_tui.blueprint.coverage import CoverageReport
    from deepcode_tui.tui import adapters

    folder = tmp_path / "blueprint"
    folder.mkdir()
    (folder / "v1.yaml").write_text("title: t\n")
    report = CoverageReport().model_dump(mode="json")
    (folder / "coverage.json").write_text(json.dumps({"version": "v1", **report}))
    assert "Coverage (blueprint v1)" in adapters.coverage_text(tmp_path)
    (folder / "v2.yaml").write_text("title: t2\n")  # the human's edit, approved: not measured
    assert "(of blueprint v1; v2 is newer and was not measured)" in adapters.coverage_text(tmp_path)


async def test_one_escape_closes_the_patch_editor(make_app, paper):
    from deepcode_tui.tui.screens.dialogs import PatchEditDialog
    from tests.tui.scripted import Script

    app, _ = make_app(doc=paper, script=Script(iterations=1), verify={"step": True})
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        await pilot.press("a")
        await wait_for(pilot, lambda: app.main.sandbox.pending_iteration == 1, what="the patch")
        assert not [n for n in app._notifications if "Blueprint v1 waits" in n.message]  # answered: gone
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, PatchEditDialog), what="the patch editor")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PatchEditDialog), what="one Esc to close it")
        assert app.main.sandbox.pending_iteration == 1  # cancelled: the patch still waits
        await pilot.press("n")
        await wait_for(pilot, lambda: app.state.status == "passed", what="the run")
        assert not [n for n in app._notifications if n.title == "Your turn"]
