"""Pilot tests: the app drives a scripted run end to end through the real driver and store."""

from __future__ import annotations

import asyncio
import json

from textual.widgets import DataTable, Input, TextArea

from deepcode_tui.store.eventlog import read_log
from deepcode_tui.tui.screens.dialogs import FeedbackDialog, PatchEditDialog
from deepcode_tui.tui.screens.start import StartScreen
from tests.tui.screen_text import screen_text
from tests.tui.scripted import REPORT_ENTRY, Script
from tests.tui.waiting import wait_for

SIZE = (100, 32)


def _events(app, type_: str) -> list:
    return [ev for ev in read_log(app.session.run_dir / "events.jsonl").events if ev.type == type_]


async def test_open_approve_amend_mid_run_and_step_two_iterations(make_app, paper):
    hold = asyncio.Event()
    app, script = make_app(doc=paper, script=Script(iterations=2, hold_before={"ema/cli.py": hold}),
                           verify={"step": True})  # fmt: skip
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the blueprint gate")
        main = app.main
        assert main.active_pane == "blueprint"  # the app brings the waiting gate forward
        await wait_for(pilot, lambda: "waiting for you" in screen_text(app), what="waiting for you")
        # The notice points at the built-in editor, not at a file to edit elsewhere.
        notices = [n.message for n in app._notifications if n.title == "Your turn"]
        assert notices == ["Blueprint v1 waits for you on the Blueprint pane: a approves, i edits, r rejects."]
        assert "ema/detector.py" in main.blueprint.editor.text
        assert "Coverage (blueprint v1)" in str(main.blueprint.query_one("#bp-coverage").render())

        await pilot.press("a")
        await wait_for(pilot, lambda: app.state.files["ema/detector.py"].status == "done", what="detector.py")
        assert _events(app, "gate_resolved")[0].decision == "approve"
        assert (app.session.run_dir / "blueprint" / "approved.yaml").is_file()

        # The coder is held before ema/cli.py; the human edits the blueprint: it pauses at the boundary.
        main.show("blueprint")
        editor = main.blueprint.editor
        editor.focus()
        row = editor.text.splitlines().index("  - path: tests/test_detector.py")
        editor.insert(REPORT_ENTRY, (row, 0))
        await wait_for(pilot, lambda: app.session.steering.pause_requested, what="a pause request")
        hold.set()
        await wait_for(pilot, lambda: app.session.steering.holding, what="the coder at the file boundary")
        assert script.paused_at == ["ema/cli.py"]
        assert app.state.files["ema/cli.py"].status == "pending"
        await wait_for(pilot, lambda: not main.blueprint.query_one("#bp-amend").disabled, what="valid edit")
        await wait_for(pilot, lambda: "paused at file boundary" in screen_text(app), what="paused at file boundary")

        await pilot.click("#bp-amend")
        await wait_for(pilot, lambda: app.state.files.get("ema/report.py") and
                       app.state.files["ema/report.py"].status == "done", what="the amended file")  # fmt: skip
        assert "ema/report.py" in script.amendments[0].paths()
        assert "ema/report.py" in (app.session.run_dir / "blueprint" / "v2.yaml").read_text()
        assert (
            json.loads((app.session.run_dir / "blueprint" / "approved.json").read_text())["version"] == "v2"
        )
        assert (app.session.repo_dir / "ema" / "report.py").is_file()

        # Repair iteration 1: edit the patch in the dialog, then iteration 2: skip it.
        await wait_for(pilot, lambda: main.sandbox.pending_iteration == 1, what="patch 1")
        assert main.active_pane == "sandbox"
        assert (
            "+        return abs(x - self.mean) / math.sqrt(self.var + 1e-8)"
            in main.sandbox.query_one("#sb-patch").diff
        )
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, PatchEditDialog), what="the patch editor")
        area = app.screen.query_one(TextArea)
        assert "=== EDIT ema/detector.py" in area.text
        area.load_text(area.text.replace(">>>>>>> REPLACE", ""))
        await pilot.press("ctrl+s")  # malformed: refused with the reason, the dialog stays
        assert isinstance(app.screen, PatchEditDialog)
        assert "REPLACE" in str(app.screen.query_one("#patch-error").render())
        area.load_text(app.screen.text.replace("1e-8)", "1e-6)"))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: main.sandbox.pending_iteration == 2, what="patch 2")
        await pilot.press("n")
        await wait_for(pilot, lambda: app.state.status == "passed", what="the run to pass")

        assert [d.action for d in script.decisions] == ["edit", "skip"]
        assert script.decisions[0].edited_proposal.edits[0].replace == "1e-6)"
        assert "1e-6" in (app.session.repo_dir / "ema" / "detector.py").read_text()
        assert [(e.iteration, e.decision) for e in _events(app, "patch_decision")] == [
            (1, "edit"),
            (2, "skip"),
        ]

        # Browse back to iteration 1: its finding and its patch decision are shown.
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert main.sandbox.shown_iteration() == 1
        table = main.sandbox.query_one("#sb-findings", DataTable)
        assert table.row_count == 1 and "iteration 1" in str(table.get_row_at(0)[2])
        await wait_for(pilot, lambda: "Patch (edited, applied)" in screen_text(app), what="Patch (edited, applied)")
        await pilot.press("right_square_bracket")
        assert main.sandbox.shown_iteration() == 2


async def test_reject_with_feedback_then_approve_edits(make_app, paper):
    app, _ = make_app(doc=paper)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, FeedbackDialog), what="the feedback dialog")
        await pilot.press("enter")  # empty feedback is refused, the dialog stays
        assert isinstance(app.screen, FeedbackDialog)
        app.screen.query_one(Input).value = "use numpy for the maths"
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: "v2" in app.state.blueprint_versions and app.state.gate is not None, what="v2"
        )
        assert _events(app, "gate_resolved")[0].feedback == "use numpy for the maths"
        main = app.main
        await wait_for(pilot, lambda: main.blueprint.base_version == "v2", what="v2 in the editor")
        assert "use numpy" in main.blueprint.editor.text

        # An invalid edit is marked at its line and cannot be approved.
        editor = main.blueprint.editor
        editor.focus()
        row = editor.text.splitlines().index("  - path: ema/cli.py")
        editor.insert("    colour: blue\n", (row + 1, 0))
        await wait_for(pilot, lambda: bool(main.blueprint.problems), what="validation")
        assert editor.error_lines == {row + 2}  # 1-based: the line just inserted
        assert "colour" in main.blueprint.problems[0].message
        assert main.blueprint.query_one("#bp-approve-edits").disabled
        await wait_for(pilot, lambda: f"line {row + 2}:" in screen_text(app), what="the error line")
        assert "1 error(s) to fix" in screen_text(app)

        editor.load_text("# reviewed by a human\n" + editor.text.replace("    colour: blue\n", ""))
        await wait_for(pilot, lambda: not main.blueprint.problems and
                       not main.blueprint.query_one("#bp-approve-edits").disabled, what="valid again")  # fmt: skip
        assert editor.error_lines == frozenset()
        await pilot.click("#bp-approve-edits")
        await wait_for(pilot, lambda: app.state.phase in ("codegen", "verify", "report"), what="codegen")
        approved = (app.session.run_dir / "blueprint" / "approved.yaml").read_text()
        assert approved.startswith("# reviewed by a human")
        assert [e.decision for e in _events(app, "gate_resolved")] == ["reject", "edit"]
        assert (
            json.loads((app.session.run_dir / "blueprint" / "approved.json").read_text())["version"] == "v3"
        )
        await wait_for(pilot, lambda: app.state.status == "passed", what="the run to pass")


async def test_stop_with_escape_then_resume_after_restart(make_app, paper, tmp_path):
    never = asyncio.Event()
    app, _ = make_app(doc=paper, script=Script(hold_before={"ema/cli.py": never}))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        await pilot.press("a")
        await wait_for(pilot, lambda: app.state.files["ema/detector.py"].status == "done", what="two files")
        await pilot.press("3")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.state.status == "stopped", what="the stop")
        await wait_for(pilot, lambda: app.session.store is None, what="the run lock to be released")
        run_id = app.state.run_id
        await wait_for(pilot, lambda: "stopped" in screen_text(app), what="stopped")
        assert app.main.check_action("resume_run", ()) is True
    finished = [
        e for e in read_log(tmp_path / "runs" / run_id / "events.jsonl").events if e.type == "run_finished"
    ]
    assert finished[-1].status == "stopped"

    # A new app (as after a restart): the start screen lists the run; Enter resumes it.
    app2, script2 = make_app()
    async with app2.run_test(size=SIZE) as pilot:
        assert isinstance(app2.screen, StartScreen)
        table = app2.screen.query_one("#start-runs", DataTable)
        await wait_for(pilot, lambda: table.row_count == 1, what="the run list")
        # The row is in the table before it is on screen: wait for the frame that shows it.
        await wait_for(pilot, lambda: "stopped ↻" in screen_text(app2), what="the run on screen")
        await pilot.press("down")  # from the path box to the recent runs, by keyboard
        assert app2.focused is table
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: app2.main is not None and app2.state.run_id == run_id, what="the resumed run"
        )
        # Replayed history shows at once: the two files written before the stop.
        assert app2.state.files["ema/detector.py"].status == "done"
        await wait_for(pilot, lambda: app2.state.status == "passed", what="the resumed run to pass")
        started = [e.path for e in read_log(tmp_path / "runs" / run_id / "events.jsonl").events
                   if e.type == "file_started"]  # fmt: skip
        assert started.count("ema/__init__.py") == 1  # not generated again after the resume
        assert started.count("ema/cli.py") == 1
        assert script2.codegen_runs == 1 and len(_events(app2, "run_resumed")) == 1


async def test_open_error_is_one_line_and_the_app_stays(make_app, tmp_path):
    app, _ = make_app(doc=tmp_path / "missing.pdf")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "does not exist" in screen_text(app), what="the error")
        assert isinstance(app.screen, StartScreen)
        assert "fix:" in screen_text(app)
        field = app.screen.query_one("#start-path")
        field.value = str(tmp_path)
        await pilot.click("#start-open-button")
        await wait_for(pilot, lambda: "is a directory" in screen_text(app), what="is a directory")


async def test_internal_error_in_the_run_ends_the_run_not_the_app(tmp_path, make_loaded, paper):
    from deepcode_tui.tui.app import DeepcodeApp

    async def broken(store, settings, gate, **kwargs):
        raise RuntimeError("boom")

    app = DeepcodeApp(make_loaded(), doc=paper, driver=broken, blink=False, cwd=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.status == "failed", what="the failure")
        assert any("internal error: RuntimeError: boom" in n.message for n in app._notifications)
        assert app.is_running_run is False and app.session.store is None


async def test_streamed_tokens_reach_the_code_view(make_app, paper):
    hold = asyncio.Event()
    app, _ = make_app(doc=paper, script=Script(hold_before={"ema/cli.py": hold}))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        await pilot.press("a", "3")
        main = app.main
        await wait_for(pilot, lambda: app.state.files["ema/detector.py"].status == "done", what="detector.py")
        main.generation.select("ema/detector.py")
        await pilot.pause()
        code = main.generation.query_one("#gen-code", TextArea)
        assert "class EmaDetector" in code.text
        assert code.language == "python"
        assert "blueprint" in str(main.generation.query_one("#gen-meter").render())
        await wait_for(pilot, lambda: "EmaDetector" in main.generation.query_one("#gen-memory", TextArea).text,
                       what="the memory entry")  # fmt: skip
        lines = (app.session.run_dir / "memory" / "entries.jsonl").read_text().splitlines()
        assert "ema/detector.py" in [json.loads(line)["path"] for line in lines]
        hold.set()
        await wait_for(pilot, lambda: app.state.status == "passed", what="the run")
