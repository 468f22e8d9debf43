"""Pilot test: reference sources for CodeRAG listed, added and removed on the start screen."""

from __future__ import annotations

import json

from textual.widgets import OptionList

from deepcode_tui.config.loader import load_settings
from deepcode_tui.tui.screens.start import StartScreen
from tests.tui.screen_text import screen_text
from tests.tui.waiting import wait_for

SIZE = (100, 32)


async def test_reference_sources_are_added_removed_saved_and_used_by_the_next_run(make_app, paper, tmp_path):
    (tmp_path / "refs" / "lib").mkdir(parents=True)
    (tmp_path / "refs" / "lib" / "ema.py").write_text("def ema(x, a):\n    return x * a\n", encoding="utf-8")
    config = tmp_path / "deepcode.toml"
    config.write_text('# my project settings\n[ui]\ntheme = "deepcode-dark"\n', encoding="utf-8")
    library = str((tmp_path / "refs" / "lib").resolve())

    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StartScreen)
        refs = screen.query_one("#refs-list", OptionList)
        box = screen.query_one("#refs-path")
        await wait_for(pilot, lambda: "None: code is generated from the paper alone." in screen_text(app), what="None: code is generated from the paper alone.")

        async def add(spec: str) -> None:
            box.value = spec
            box.focus()
            await pilot.press("enter")
            await pilot.pause()

        # Mistakes are named and nothing is written.
        await add("pkg:")
        await wait_for(pilot, lambda: "does not name a package" in screen_text(app), what="does not name a package")
        await add("refs/missing")
        await wait_for(pilot, lambda: "no such directory or file" in screen_text(app), what="no such directory or file")
        assert "rag" not in config.read_text(encoding="utf-8")

        # A relative directory is stored absolute; a package spec as typed (the Add button works too).
        await add("refs/lib")
        box.value = "pkg:numpy"
        await pilot.click("#refs-add")
        await pilot.pause()
        assert [refs.get_option_at_index(i).id for i in range(refs.option_count)] == [library, "pkg:numpy"]
        assert app.settings.rag.sources == [library, "pkg:numpy"]
        text = config.read_text(encoding="utf-8")
        assert text.startswith("# my project settings") and 'theme = "deepcode-dark"' in text
        saved = load_settings({"runs_dir": str(tmp_path / "runs")}, cwd=tmp_path).settings.rag.sources
        assert saved == [library, "pkg:numpy"]  # as `deepcode-tui config set rag.sources` would leave it
        await add("pkg:numpy")
        await wait_for(pilot, lambda: "listed already" in screen_text(app), what="listed already")
        assert refs.option_count == 2

        # Delete in the list removes the highlighted source, from the screen and the file.
        refs.focus()
        refs.highlighted = 0
        await pilot.press("delete")
        await pilot.pause()
        assert refs.option_count == 1 and app.settings.rag.sources == ["pkg:numpy"]
        assert load_settings({}, cwd=tmp_path).settings.rag.sources == ["pkg:numpy"]
        await wait_for(pilot, lambda: f"Removed {library}" in screen_text(app), what=f"Removed {library}")

        # The run started next records (and drives with) the listed sources.
        screen.query_one("#start-path").value = str(paper)
        await pilot.click("#start-open-button")
        await wait_for(pilot, lambda: app.session is not None and app.state.gate is not None, what="the run")
        manifest = json.loads((app.session.run_dir / "run.json").read_text(encoding="utf-8"))
        assert manifest["config"]["rag"]["sources"] == ["pkg:numpy"]
        app.stop_run()
        await wait_for(pilot, lambda: not app.is_running_run, what="the stop")
