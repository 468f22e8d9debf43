"""Pilot tests: palette commands, themes, remapped keys, pausing, the bounded log."""

from __future__ import annotations

import asyncio

from deepcode_tui.events.models import SandboxOutput
from deepcode_tui.tui.commands import available_commands
from tests.tui.screen_text import screen_text
from tests.tui.scripted import Script
from tests.tui.waiting import wait_for

SIZE = (100, 32)


async def test_palette_commands_are_namespaced_and_follow_the_run(make_app, paper):
    app, _ = make_app(doc=paper)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        names = [c.name for c in available_commands(app)]
        for wanted in ("run: stop", "blueprint: approve", "blueprint: reject", "view: sandbox",
                       "theme: deepcode-dark", "theme: deepcode-light", "app: quit"):  # fmt: skip
            assert wanted in names
        assert all(": " in n for n in names)
        assert "sandbox: apply patch" not in names  # nothing waits for it
        theme = next(c for c in available_commands(app) if c.name == "theme: deepcode-light")
        theme.callback()
        await pilot.pause()
        assert app.theme == "deepcode-light" and app.current_theme.dark is False
        assert app.main.blueprint.editor.theme == "github_light"  # code follows the theme
        approve = next(c for c in available_commands(app) if c.name == "blueprint: approve")
        approve.callback()
        await wait_for(pilot, lambda: app.state.status == "passed", what="the run")
        assert "run: stop" not in [c.name for c in available_commands(app)]

        await pilot.press("ctrl+p")
        await pilot.press(*"theme: deepcode-d")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "deepcode-dark"


async def test_config_picks_the_theme_and_remaps_keys(make_app, paper):
    app, _ = make_app(
        doc=paper, ui={"theme": "deepcode-light", "keys": {"view.sandbox": "f4", "run.bogus": "x"}}
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        assert app.theme == "deepcode-light"
        assert any("run.bogus" in n.message for n in app._notifications)
        await pilot.press("f4")
        assert app.main.active_pane == "sandbox"
        await pilot.press("4")  # the default key was replaced
        await pilot.press("2")
        assert app.main.active_pane == "blueprint"


async def test_unknown_theme_falls_back_with_a_notice(make_app, paper):
    app, _ = make_app(doc=paper, ui={"theme": "no-such-theme"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "deepcode-dark"
        assert any("no-such-theme" in n.message for n in app._notifications)


async def test_run_pause_holds_the_coder_and_p_again_continues(make_app, paper):
    hold = asyncio.Event()
    app, script = make_app(doc=paper, script=Script(hold_before={"ema/__init__.py": hold}))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        await pilot.press("a")
        await wait_for(pilot, lambda: app.state.files["ema/detector.py"].status == "done", what="a file")
        await pilot.press("3", "p")
        assert app.session.steering.pause_requested
        hold.set()
        await wait_for(pilot, lambda: app.session.steering.holding, what="the pause")
        await wait_for(pilot, lambda: "paused at file boundary" in screen_text(app), what="paused at file boundary")
        assert app.state.files["ema/__init__.py"].status == "pending"
        await pilot.press("p")
        await wait_for(pilot, lambda: app.state.status == "passed", what="the run")
        assert script.paused_at == ["ema/__init__.py"]


async def test_escape_in_the_editor_leaves_it_without_stopping_the_run(make_app, paper):
    app, _ = make_app(doc=paper)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        app.main.blueprint.editor.focus()
        await pilot.press("escape")
        assert app.is_running_run and app.focused is not app.main.blueprint.editor
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.state.status == "stopped", what="the stop")


async def test_the_sandbox_log_is_bounded_by_ui_log_lines(make_app, paper):
    app, _ = make_app(doc=paper, ui={"log_lines": 200})
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        log = app.main.sandbox.live_log
        for k in range(3000):  # while the pane is hidden: lines wait, bounded
            app._observe(SandboxOutput(line=f"hidden {k}"))
        await wait_for(pilot, lambda: log.total_lines == 3000, what="the lines")
        assert log.pending_count <= 200
        app.main.show("sandbox")
        for k in range(3000):
            app._observe(SandboxOutput(stream="stderr", line=f"shown {k}"))
        await wait_for(pilot, lambda: log.pending_count == 0 and log.total_lines >= 6000, what="the drawing")
        assert len(log.lines) == 200
        await pilot.pause(0.2)  # the log scrolls to its end after the refresh
        await wait_for(pilot, lambda: "shown 2999" in screen_text(app), what="shown 2999")
        assert "hidden" not in screen_text(app)
