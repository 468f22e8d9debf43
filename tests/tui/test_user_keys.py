"""Pilot tests of the keys a new user presses: Tab on every pane, the palette during a run,
help, resuming a run started with other models."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable

from deepcode_tui.events.models import SandboxOutput
from deepcode_tui.tui.app import DeepcodeApp
from deepcode_tui.tui.screens.dialogs import ResumeChoiceDialog
from deepcode_tui.tui.screens.help import HelpScreen
from deepcode_tui.tui.screens.start import StartScreen
from tests.e2e.scripted_run import CASSETTE
from tests.tui.screen_text import screen_text
from tests.tui.scripted import Script, scripted_driver
from tests.tui.waiting import wait_for

SIZE = (100, 32)


async def test_tab_on_every_pane_never_types_into_the_blueprint(make_app, paper):
    app, _ = make_app(doc=paper)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        main = app.main
        editor = main.blueprint.editor
        draft = app.session.run_dir / "blueprint" / "v1.yaml"
        on_disk, in_editor = draft.read_text(), editor.text
        for pane in ("1", "2", "3", "4", "2"):
            await pilot.press(pane)
            for key in ["tab"] * 12 + ["shift+tab"] * 12:
                await pilot.press(key)
                assert app.focused is not editor, f"{key} on pane {pane} entered the editor"
        assert editor.text == in_editor and draft.read_text() == on_disk
        assert not main.blueprint.dirty and main.blueprint.query_one("#bp-revert").display is False


async def test_the_editor_is_entered_with_i_and_left_with_escape(make_app, paper):
    app, _ = make_app(doc=paper)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        main = app.main
        editor = main.blueprint.editor
        await pilot.press("i")
        await wait_for(pilot, lambda: app.focused is editor, what="the editor")
        await pilot.press("tab")  # inside the editor Tab indents: the human asked to edit
        assert main.blueprint.dirty
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.focused is not editor, what="leaving the editor")
        assert app.is_running_run  # Esc left the editor; it did not stop the run
        assert not editor.editing
        await pilot.press("tab", "tab", "tab", "tab")
        assert app.focused is not editor
        main.blueprint.revert()
        await pilot.pause()
        assert not main.blueprint.dirty


def _palette_hits(app) -> list[str]:
    results = app.screen.query_one(CommandList)
    return [str(results.get_option_at_index(i).prompt) for i in range(results.option_count)]


async def test_the_palette_offers_the_run_commands_and_events_reach_the_panes_under_it(make_app, paper):
    app, _ = make_app(doc=paper)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        for query, wanted in (("run:", "run: stop"), ("sandbox", "sandbox: next iteration"),
                              ("step", "sandbox: toggle pause before applying"), ("view", "view: sandbox"),
                              ("blueprint", "blueprint: approve"), ("help", "app: help")):  # fmt: skip
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
            await pilot.press(*query)
            await wait_for(pilot, lambda w=wanted: any(w in h for h in _palette_hits(app)), what=wanted)
            if query == "run:":
                assert any("run: open document" in h for h in _palette_hits(app))
                # Lines the sandbox prints while the palette is open reach the log underneath.
                for k in range(5):
                    app._observe(SandboxOutput(line=f"while the palette was open {k}"))
                await wait_for(pilot, lambda: app.main.sandbox.live_log.total_lines == 5, what="the lines")
            await pilot.press("escape")
            await wait_for(
                pilot, lambda: not isinstance(app.screen, CommandPalette), what="the palette closed"
            )
        await pilot.press("ctrl+p")
        await pilot.press(*"view: sandbox")
        await wait_for(pilot, lambda: any("view: sandbox" in h for h in _palette_hits(app)), what="the hit")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.main.active_pane == "sandbox", what="the sandbox pane")
        await wait_for(pilot, lambda: "while the palette was open 4" in screen_text(app), what="the lines")


async def test_help_names_the_keys_of_the_pane_on_screen(make_app, paper):
    app, _ = make_app(doc=paper, ui={"keys": {"blueprint.approve": "ctrl+a"}})
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        text = screen_text(app)
        assert "Help: 2 Blueprint" in text and "leave the editor" in text
        assert "^a" in text  # the remapped key, not the default
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen), what="help closed")
        await pilot.press("4", "f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        assert "Help: 4 Sandbox" in screen_text(app) and "apply the waiting patch" in screen_text(app)
        await pilot.press("f1")  # the same key closes it
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen), what="help closed")
        assert app.state.gate is not None  # help answered nothing


async def _stopped_run(tmp_path: Path, make_loaded, paper, **settings) -> str:
    """A run started with a replay cassette and a coder model, stopped before its third file."""
    never = asyncio.Event()
    script = Script(hold_before={"ema/cli.py": never})
    app = DeepcodeApp(make_loaded(**settings), doc=paper, driver=scripted_driver(script), blink=False,
                      cwd=tmp_path, services={"llm_flags": {"replay": CASSETTE}})  # fmt: skip
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        await pilot.press("a")
        await wait_for(pilot, lambda: app.state.files["ema/detector.py"].status == "done", what="a file")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.session.store is None, what="the stop")
        return app.state.run_id


async def _resume_from_start(pilot, app) -> ResumeChoiceDialog:
    table = app.screen.query_one("#start-runs", DataTable)
    await wait_for(pilot, lambda: "stopped ↻" in screen_text(app), what="the run on screen", timeout=30)
    await pilot.press("down")
    assert app.focused is table
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ResumeChoiceDialog), what="the question", timeout=30)
    return app.screen


async def test_resume_asks_and_continues_with_the_recorded_models(make_app, make_loaded, paper, tmp_path):
    run_id = await _stopped_run(tmp_path, make_loaded, paper, models={"coder": "openai/gpt-4o"})
    app, script = make_app()  # plain `deepcode-tui`: no cassette, other models
    async with app.run_test(size=SIZE) as pilot:
        await _resume_from_start(pilot, app)
        text = screen_text(app)
        assert "--replay" in text and str(CASSETTE) in text
        assert "models.coder" in text and "openai/gpt-4o" in text
        assert app.session is None or not app.is_running_run  # nothing runs before the answer
        await pilot.press("enter")  # the default: the run's own configuration
        await wait_for(pilot, lambda: app.state.status == "passed", what="the resumed run", timeout=90)
        assert app.state.run_id == run_id
    settings, services = script.driven_with[0]
    assert settings.models.coder == "openai/gpt-4o"
    assert services["llm_flags"]["replay"] == str(CASSETTE)


async def test_resume_with_todays_models_when_the_human_says_so(make_app, make_loaded, paper, tmp_path):
    await _stopped_run(tmp_path, make_loaded, paper)
    app, script = make_app()
    async with app.run_test(size=SIZE) as pilot:
        dialog = await _resume_from_start(pilot, app)
        await pilot.click("#current")
        await wait_for(pilot, lambda: app.state.status == "passed", what="the resumed run", timeout=90)
        assert not isinstance(app.screen, type(dialog))
    _, services = script.driven_with[0]
    assert not (services.get("llm_flags") or {}).get("replay")


async def test_cancelling_the_question_resumes_nothing(make_app, make_loaded, paper, tmp_path):
    await _stopped_run(tmp_path, make_loaded, paper)
    app, script = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _resume_from_start(pilot, app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, StartScreen), what="the start screen")
        await pilot.pause(0.2)
        assert script.driven_with == [] and app.session is None


async def test_a_finished_run_shows_its_repository_and_report_and_c_copies_the_path(make_app, paper):
    app, _ = make_app(doc=paper, script=Script(iterations=1))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        await pilot.press("a")
        await wait_for(pilot, lambda: app.state.status == "passed", what="the run")
        repo, report = app.session.repo_dir, app.session.run_dir / "report.md"
        await wait_for(pilot, lambda: "repository " in screen_text(app), what="the paths")
        shown = str(app.main.query_one("#run-result").render())
        assert str(repo.relative_to(app.cwd)) in shown and str(report.relative_to(app.cwd)) in shown
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await pilot.press("c")
        assert copied == [str(repo)]
        assert not [n for n in app._notifications if n.title == "Your turn"]  # nothing waits any more
