"""Drive the app through a scripted run and save the SVG screenshots used by docs/walkthrough.md.

    .venv/bin/python scripts/make_screenshots.py [OUT_DIR]   (default: docs/screenshots)

The run is the scripted one the tests use (no model, no network); each
screenshot is saved by the app itself (``App.save_screenshot``).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from deepcode_tui.config.loader import load_settings
from deepcode_tui.tui.app import DeepcodeApp
from tests.tui.screen_text import screen_text as _text
from tests.tui.scripted import CODE, PAPER_MD, REPORT_ENTRY, Script, scripted_driver
from tests.tui.waiting import wait_for

SIZE = (110, 32)


def _app(tmp: Path, doc: Path | None, script: Script, **overrides) -> DeepcodeApp:
    loaded = load_settings({"runs_dir": str(tmp / "runs"), **overrides}, cwd=tmp)
    return DeepcodeApp(loaded, doc=doc, driver=scripted_driver(script), blink=False, cwd=tmp)


async def _shoot(app: DeepcodeApp, pilot, out: Path, name: str, settle: float = 0.3) -> None:
    await pilot.pause(settle)
    app.clear_notifications()
    await pilot.pause(0.1)
    path = app.save_screenshot(f"{name}.svg", path=str(out))
    print(f"saved {path}")


async def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="deepcode-shots-"))
    doc = tmp / "ema-anomaly.md"
    doc.write_text(PAPER_MD, encoding="utf-8")

    hold_cli, hold_report = asyncio.Event(), asyncio.Event()
    # A long ema/report.py, so the screenshot catches it streaming in.
    report_py = CODE["ema/report.py"] + "".join(
        f"\n\ndef window_{i}(flags: list[bool], size: int = {i + 2}) -> float:\n"
        f'    """Share of anomalies in the last {i + 2} values."""\n'
        f"    tail = flags[-size:]\n    return sum(tail) / max(1, len(tail))\n"
        for i in range(40)
    )
    script = Script(
        iterations=2,
        token_delay_s=0.004,
        chunk_chars=6,
        hold_before={"ema/cli.py": hold_cli, "tests/test_detector.py": hold_report},
        code={"ema/report.py": report_py},
    )
    app = _app(tmp, doc, script, verify={"step": True})
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        main_screen = app.main
        main_screen.show("paper")
        tree = main_screen.paper.query_one("#paper-tree")
        tree.move_cursor(tree.get_node_at_line(2))
        await _shoot(app, pilot, out, "paper")
        main_screen.show("blueprint")
        await _shoot(app, pilot, out, "blueprint-gate")
        main_screen.blueprint.query_one("#bp-tabs").active = "bp-coverage-tab"
        await _shoot(app, pilot, out, "blueprint-coverage")
        main_screen.blueprint.query_one("#bp-tabs").active = "bp-editor-tab"
        await pilot.press("a")
        await wait_for(pilot, lambda: app.session.steering is not None and app.state.files.get("ema/detector.py")
                       and app.state.files["ema/detector.py"].status == "done", what="the first files")  # fmt: skip
        # Edit mid-run: the coder pauses at the next file boundary.
        main_screen.show("blueprint")
        editor = main_screen.blueprint.editor
        editor.focus()
        row = editor.text.splitlines().index("  - path: tests/test_detector.py")
        editor.insert(REPORT_ENTRY, (row, 0))
        editor.insert("    colour: blue\n", (row + 1, 0))
        await wait_for(pilot, lambda: bool(main_screen.blueprint.problems), what="validation")
        editor.move_cursor((row + 1, 0), center=True)
        await _shoot(app, pilot, out, "blueprint-error")
        editor.load_text(editor.text.replace("    colour: blue\n", ""))
        hold_cli.set()
        await wait_for(pilot, lambda: app.session.steering.holding, what="the pause")
        await wait_for(pilot, lambda: not main_screen.blueprint.query_one("#bp-amend").disabled, what="valid")
        await _shoot(app, pilot, out, "blueprint-amend")
        await pilot.click("#bp-amend")
        await wait_for(pilot, lambda: "ema/report.py" in app.state.files, what="the amendment")
        main_screen.show("generation")
        await wait_for(pilot, lambda: app.state.files["ema/cli.py"].status == "done", what="cli.py")
        hold_report.set()
        await wait_for(pilot, lambda: app.state.current_file == "ema/report.py" and
                       len(app.state.files["ema/report.py"].text) > 1500, what="streaming")  # fmt: skip
        await _shoot(app, pilot, out, "generation", settle=0.15)
        await wait_for(pilot, lambda: main_screen.sandbox.pending_iteration == 1, what="patch 1")
        await _shoot(app, pilot, out, "sandbox-step")
        await pilot.press("y")
        await wait_for(pilot, lambda: main_screen.sandbox.pending_iteration == 2, what="patch 2")
        main_screen.sandbox.query_one("#sb-tabs").active = "sb-log-tab"
        await _shoot(app, pilot, out, "sandbox-log")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.state.status == "passed", what="the end")
        main_screen.show("sandbox")
        await wait_for(pilot, lambda: main_screen.query_one("#run-result").display, what="the paths")
        await _shoot(app, pilot, out, "finished")
        main_screen.show("blueprint")
        await pilot.press("question_mark")
        await _shoot(app, pilot, out, "help")
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"theme")
        await _shoot(app, pilot, out, "palette")
        await pilot.press("escape")
        await pilot.resize_terminal(160, 44)  # a large terminal: the generation pane splits wider
        main_screen.show("generation")
        main_screen.generation.select("ema/detector.py")
        await _shoot(app, pilot, out, "generation-wide")
        await pilot.resize_terminal(*SIZE)
        app.theme = "deepcode-light"
        main_screen.show("generation")
        main_screen.generation.select("ema/detector.py")
        await _shoot(app, pilot, out, "generation-light")

    # A run started on a replayed cassette and stopped; resumed from a plain start it asks first.
    from tests.e2e.scripted_run import CASSETTE

    never = asyncio.Event()
    loaded = load_settings({"runs_dir": str(tmp / "runs"), "models": {"default": "anthropic/claude-sonnet-4-5"}},
                           cwd=tmp)  # fmt: skip
    replayed = DeepcodeApp(loaded, doc=doc, driver=scripted_driver(Script(hold_before={"ema/cli.py": never})),
                           blink=False, cwd=tmp, services={"llm_flags": {"replay": CASSETTE}})  # fmt: skip
    async with replayed.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: replayed.state.gate is not None, what="the gate")
        await pilot.press("a")
        await wait_for(pilot, lambda: replayed.state.files["ema/detector.py"].status == "done", what="a file")
        await pilot.press("escape")
        await wait_for(pilot, lambda: replayed.session.store is None, what="the stop")
    asking = _app(tmp, None, Script())
    async with asking.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "stopped ↻" in _text(asking), what="the stopped run")
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: type(asking.screen).__name__ == "ResumeChoiceDialog", what="the question")
        await _shoot(asking, pilot, out, "resume-models")

    # A restart: the start screen lists the run; the model check explains the embedded model.
    app2 = _app(tmp, None, Script())
    async with app2.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        await _shoot(app2, pilot, out, "start")
    small = _app(tmp, None, Script())
    async with small.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
        await _shoot(small, pilot, out, "start-80x24")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    asyncio.run(main(target))
