"""The run screen's widget CSS is parsed at start-up (tui/css_warm.py), so opening a
document re-parses nothing in the frame the user waits for."""

from __future__ import annotations

from deepcode_tui.tui.app import DeepcodeApp
from tests.tui.waiting import wait_for


async def test_opening_a_document_adds_no_css_source_after_start_up(tmp_path):
    from deepcode_tui.config.loader import load_settings
    from tests.e2e.scripted_run import CASSETTE, EXAMPLE

    loaded = load_settings({"runs_dir": str(tmp_path / "runs")}, cwd=tmp_path)
    app = DeepcodeApp(loaded, doc=None, blink=False, cwd=tmp_path, services={"llm_flags": {"replay": CASSETTE}})
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        before = set(app.stylesheet.source)
        assert any(name == "YamlEditor.DEFAULT_CSS" for _, name in before)  # warmed, not yet mounted
        assert await app.open_document(EXAMPLE)
        await wait_for(pilot, lambda: app.state.gate is not None or app.state.status != "running", timeout=60)
        added = sorted(name for _, name in set(app.stylesheet.source) - before)
        assert added == [], f"widget CSS first parsed when a document opened: {added} (add them to css_warm)"
        app.stop_run()


async def test_run_screen_styles_match_a_full_restyle_though_its_first_resume_skips_it(tmp_path):
    """MainScreen skips Textual's restyle of every node when it first comes to the front (its
    nodes were styled as they mounted); the styles it shows must be those a restyle gives."""
    from deepcode_tui.config.loader import load_settings
    from tests.e2e.scripted_run import CASSETTE, EXAMPLE

    loaded = load_settings({"runs_dir": str(tmp_path / "runs")}, cwd=tmp_path)
    app = DeepcodeApp(loaded, doc=None, blink=False, cwd=tmp_path, services={"llm_flags": {"replay": CASSETTE}})
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert await app.open_document(EXAMPLE)
        await pilot.pause()
        main = app.main
        assert main is not None

        def styles() -> dict[str, tuple[list[str], list[str]]]:
            return {f"{n!r}@{i}": (n._css_styles.css_lines, sorted(n.classes))
                    for i, n in enumerate(main.walk_children(with_self=True))}  # fmt: skip

        shown = styles()
        main.update_node_styles(animate=False)
        assert styles() == shown
        # Let the run end before the app tears down (its end updates the panes).
        await wait_for(pilot, lambda: app.state.gate is not None or app.state.status != "running", timeout=60)
        app.stop_run()
        await wait_for(pilot, lambda: not app.is_running_run, timeout=30)
