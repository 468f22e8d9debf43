"""Snapshots (pytest-textual-snapshot) of the start screen and each pane at 80x24.

The run shown is a finished scripted run with fixed ids and times
(tests/tui/finished_run.py); the clock is frozen and cursors do not blink,
so the screens are the same on every machine. Update after an intended
change with: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, OptionList, Tree

from deepcode_tui.config.loader import load_settings
from deepcode_tui.tui.app import DeepcodeApp
from deepcode_tui.tui.clock import FrozenClock
from tests.tui.finished_run import NOW, RUN_ID, make_finished_run
from tests.tui.waiting import wait_for

SIZE = (80, 24)


@pytest.fixture(scope="module")
def run_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("snap")
    make_finished_run(root)
    return root


def _app(root, **overrides) -> DeepcodeApp:
    loaded = load_settings({"runs_dir": str(root / "runs"), **overrides}, cwd=root)
    return DeepcodeApp(loaded, blink=False, clock=FrozenClock(NOW), cwd=root, warm_up=False)


async def _settle(pilot, delay: float = 0.15) -> None:
    busy = ("run",)
    await pilot.app.workers.wait_for_complete([w for w in pilot.app.workers if w.group not in busy])
    await pilot.pause(delay)  # validation is debounced (0.25 s); the preview of a picked file 0.06 s
    await pilot.app.workers.wait_for_complete([w for w in pilot.app.workers if w.group not in busy])
    await pilot.pause()
    pilot.app.clear_notifications()
    await pilot.pause()


def _open(pane: str, then=None):
    async def run_before(pilot) -> None:
        app = pilot.app
        assert await app.open_run(RUN_ID, resume=False)
        await _settle(pilot, 0.4 if pane == "blueprint" else 0.15)
        app.main.show(pane)
        if then is not None:
            await then(pilot)
        await _settle(pilot)

    return run_before


def test_start_screen(snap_compare, run_root):
    async def run_before(pilot) -> None:
        table = pilot.app.screen.query_one("#start-runs", DataTable)
        await wait_for(pilot, lambda: table.row_count == 1, what="the run list")
        await _settle(pilot)

    assert snap_compare(_app(run_root), terminal_size=SIZE, run_before=run_before)


def test_paper_pane(snap_compare, run_root):
    async def pick_section(pilot) -> None:
        tree = pilot.app.main.paper.query_one("#paper-tree", Tree)
        tree.move_cursor(tree.get_node_at_line(2))  # 2.1 Exponential moving average

    assert snap_compare(_app(run_root), terminal_size=SIZE, run_before=_open("paper", pick_section))


def test_blueprint_pane(snap_compare, run_root):
    assert snap_compare(_app(run_root), terminal_size=SIZE, run_before=_open("blueprint"))


def test_blueprint_history(snap_compare, run_root):
    async def history(pilot) -> None:
        pilot.app.main.blueprint.query_one("#bp-tabs").active = "bp-history-tab"

    assert snap_compare(_app(run_root), terminal_size=SIZE, run_before=_open("blueprint", history))


def test_generation_pane(snap_compare, run_root):
    async def pick_file(pilot) -> None:
        files = pilot.app.main.generation.query_one("#gen-files", OptionList)
        files.focus()
        files.highlighted = files.get_option_index("ema/detector.py")

    assert snap_compare(_app(run_root), terminal_size=SIZE, run_before=_open("generation", pick_file))


def test_sandbox_pane(snap_compare, run_root):
    assert snap_compare(_app(run_root), terminal_size=SIZE, run_before=_open("sandbox"))


def test_sandbox_patch_of_first_iteration(snap_compare, run_root):
    async def first_patch(pilot) -> None:
        await pilot.press("left_square_bracket", "left_square_bracket")
        pilot.app.main.sandbox.query_one("#sb-tabs").active = "sb-patch-tab"

    assert snap_compare(_app(run_root), terminal_size=SIZE, run_before=_open("sandbox", first_patch))


def test_generation_pane_light_theme(snap_compare, run_root):
    async def pick_file(pilot) -> None:
        files = pilot.app.main.generation.query_one("#gen-files", OptionList)
        files.highlighted = files.get_option_index("ema/cli.py")

    app = _app(run_root, ui={"theme": "deepcode-light"})
    assert snap_compare(app, terminal_size=SIZE, run_before=_open("generation", pick_file))
