"""Opening a document draws the run screen before its hidden panes mount (one per frame),
and the run's worker starts only once every pane is there, so no event finds one missing."""

from __future__ import annotations

from textual._compositor import CompositorUpdate

from deepcode_tui.tui.app import DeepcodeApp
from deepcode_tui.tui.screens.main import MainScreen
from deepcode_tui.tui.widgets.blueprint import BlueprintPane
from deepcode_tui.tui.widgets.generation import GenerationPane
from deepcode_tui.tui.widgets.paper import PaperPane
from deepcode_tui.tui.widgets.sandbox import SandboxPane
from tests.tui.waiting import wait_for


async def test_run_screen_is_drawn_before_the_hidden_panes_and_the_run_starts_after_them(tmp_path, monkeypatch):
    from deepcode_tui.config.loader import load_settings
    from tests.e2e.scripted_run import CASSETTE, EXAMPLE

    loaded = load_settings({"runs_dir": str(tmp_path / "runs")}, cwd=tmp_path)
    app = DeepcodeApp(loaded, doc=None, blink=False, cwd=tmp_path, services={"llm_flags": {"replay": CASSETTE}})
    frames_of_main: list[int] = []  # how many frames the run screen had drawn, per pane mount
    drawn = {"main": 0}
    mounted_when_started: list[bool] = []

    async with app.run_test(size=(120, 36)) as pilot:
        original = app._display

        def display(screen, renderable):
            if isinstance(screen, MainScreen) and isinstance(renderable, CompositorUpdate):
                drawn["main"] += 1
            return original(screen, renderable)

        app._display = display  # type: ignore[method-assign]
        for pane in (BlueprintPane, GenerationPane, SandboxPane):
            monkeypatch.setattr(pane, "on_mount", _recording(pane, frames_of_main, drawn), raising=False)
        start = app._start_worker

        def start_worker(*, new_run: bool) -> None:
            main = app.main
            mounted_when_started.append(all(main.query(kind) for kind in
                                            (PaperPane, BlueprintPane, GenerationPane, SandboxPane)))  # fmt: skip
            start(new_run=new_run)

        app._start_worker = start_worker  # type: ignore[method-assign]
        await pilot.pause()
        assert await app.open_document(EXAMPLE)
        # Every hidden pane mounted after the run screen's first frame, and a frame that was
        # wanted was drawn before the next pane mounted.
        assert len(frames_of_main) == 3
        assert frames_of_main[0] >= 1
        assert frames_of_main == sorted(frames_of_main) and len(set(frames_of_main)) == 3
        assert mounted_when_started == [True]
        await wait_for(pilot, lambda: app.state.gate is not None or app.state.status not in ("idle", "running"),
                       timeout=60)  # fmt: skip
        assert app.state.gate is not None, app.state.failure
        # The blueprint reached its pane as before: the draft is in the editor.
        assert "title:" in app.main.blueprint.query_one("#bp-editor").text
        app.stop_run()


def _recording(pane, out: list[int], drawn: dict):
    previous = pane.__dict__.get("on_mount")

    def on_mount(self):  # the panes' own on_mount take no event
        out.append(drawn["main"])
        # While panes are still missing, no pane key or command is offered (none may reach one).
        screen = self.screen
        assert not any(screen.available(a, pane_scoped=False) for a in screen._ACTIONS)
        screen.query_one("#paper-tree").focus()  # as after opening: focus inside the Paper pane
        screen.show("sandbox")  # a pane key pressed meanwhile (focus moves, the footer asks check_action)
        screen.update_bindings()
        screen.show("paper")
        # Something wants a frame now (as the header's clock would): the next pane must
        # wait for that frame to be drawn rather than mount in the same stretch of work.
        self.screen.query_one("#header").refresh()
        return previous(self) if previous is not None else None

    return on_mount


async def test_app_main_is_none_until_the_run_screen_has_composed_and_once_the_app_stops(tmp_path):
    # A timer (the header's clock, the bench's frame pulse) can fire between the run screen's
    # push and its compose; app.main then handing out the screen made `main.header` raise NoMatches.
    from deepcode_tui.config.loader import load_settings

    loaded = load_settings({"runs_dir": str(tmp_path / "runs")}, cwd=tmp_path)
    app = DeepcodeApp(loaded, doc=None, blink=False, cwd=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        screen = MainScreen()
        waiting = app.push_screen(screen)
        assert screen in app.screen_stack and not screen.is_mounted
        assert app.main is None
        await waiting
        assert app.main is screen
        assert app.main.header is not None
        app.exit()
    assert app.main is None
