"""The generation pane's code view and frame pacing: same pixels as TextArea, less work, live while keys move."""

from __future__ import annotations

import asyncio

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.geometry import Region
from textual.widgets import OptionList, TextArea

from deepcode_tui.tui.frame_timer import SlotTimer, next_slot
from deepcode_tui.tui.widgets.code_view import MARGIN_ROWS, CodeView
from tests.tui.scripted import CODE, Script
from tests.tui.waiting import wait_for

VIEW = {"read_only": True, "soft_wrap": False, "show_line_numbers": True, "show_cursor": False}


def module(functions: int) -> str:
    """Python with a multi-line docstring, strings and numbers: highlights that span rows."""
    out = ['"""A module.\n\nIts docstring spans\nseveral rows."""\n\nimport math\n\n']
    for i in range(functions):
        out.append(
            f"def f{i}(x: float, y: float = {i}.0) -> float:\n"
            f'    """Function {i}:\n    two rows."""\n'
            f"    return math.sqrt(x * x + y) / {i + 1}  # note\n\n"
        )
    return "".join(out)


class SideBySide(App):
    """A CodeView and a plain TextArea of the same size, fed the same edits."""

    AUTO_FOCUS = None  # neither has focus: their borders look the same

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield CodeView(id="view", language="python", **VIEW)
            yield TextArea(id="reference", language="python", **VIEW)

    def both(self) -> tuple[CodeView, TextArea]:
        return self.query_one("#view", CodeView), self.query_one("#reference", TextArea)


def drawn(area: TextArea) -> list[list[tuple[str, object]]]:
    """What the widget draws: every visible line's segments (text and style)."""
    strips = area.render_lines(Region(0, 0, area.size.width, area.size.height))
    return [[(segment.text, segment.style) for segment in strip] for strip in strips]


def append(area: TextArea, text: str) -> None:
    area.insert(text, area.document.end, maintain_selection_offset=False)
    area.scroll_end(animate=False, immediate=True)


async def test_code_view_draws_what_text_area_draws_while_code_streams_in():
    app = SideBySide()
    text = module(30)
    async with app.run_test(size=(160, 30)) as pilot:
        view, reference = app.both()
        for start in range(0, len(text), 131):  # chunks that end mid-token and mid-docstring
            for area in (view, reference):
                append(area, text[start : start + 131])
            await pilot.pause()
            assert view.scroll_offset == reference.scroll_offset
            assert drawn(view) == drawn(reference), f"differs after {start + 131} characters"
        assert view.document.line_count > view.size.height + 2 * MARGIN_ROWS
        first, last = view.highlighted_rows
        assert last - first <= view.size.height + 2 * MARGIN_ROWS  # only rows near the screen
        # Scrolling far up moves the highlighted window with the view.
        for area in (view, reference):
            area.scroll_to(y=5, animate=False, immediate=True)
        await pilot.pause()
        assert drawn(view) == drawn(reference)
        assert view.highlighted_rows[0] <= 5 < view.highlighted_rows[1]


async def test_appending_a_line_redraws_only_the_lines_that_changed():
    app = SideBySide()
    async with app.run_test(size=(160, 30)) as pilot:
        view, _ = app.both()
        append(view, module(40))
        await pilot.pause()
        drawn(view)
        rendered: list[int] = []
        original = view._render_line
        view._render_line = lambda y: rendered.append(y) or original(y)  # type: ignore[method-assign]
        append(view, "x = 1\n")
        await pilot.pause()
        drawn(view)
        # The view scrolled by one row: the old last line, the new one and the blank
        # row after it are drawn again; the rest comes from the line cache.
        assert 0 < len(rendered) <= 4 < view.size.height


async def test_a_long_file_is_highlighted_where_it_is_shown():
    app = SideBySide()
    text = module(1000)  # ~5,000 rows
    async with app.run_test(size=(160, 30)) as pilot:
        view, reference = app.both()
        for area in (view, reference):
            area.replace(text, (0, 0), area.document.end, maintain_selection_offset=False)
        await pilot.pause()
        assert drawn(view) == drawn(reference)
        assert view.highlighted_rows[1] <= view.size.height + MARGIN_ROWS
        for area in (view, reference):
            area.scroll_to(y=2500, animate=False, immediate=True)
        await pilot.pause()
        assert drawn(view) == drawn(reference)
        assert view.highlighted_rows[0] <= 2500 < view.highlighted_rows[1]


def test_a_late_tick_is_followed_by_the_next_slot_not_the_one_after():
    # Ticks every 10 s from 0; tick 1 (due at 10) ran until 27: the next is due at 30.
    assert next_slot(0.0, 10.0, 1, 27.0, skip=True) == (2, 30.0)
    # On time: simply the next tick.
    assert next_slot(0.0, 10.0, 1, 12.0, skip=True) == (1, 20.0)
    # Paused for long, resumed at 1003: the next slot, 1010.
    assert next_slot(0.0, 10.0, 4, 1003.0, skip=True) == (100, 1010.0)
    # Without skipping, every missed tick is still due.
    assert next_slot(0.0, 10.0, 1, 27.0, skip=False) == (1, 20.0)


@pytest.mark.timeout(60)
async def test_streaming_stays_live_while_keys_move_through_the_file_list(make_app, paper):
    # ~40 s of streaming at this rate: the test ends long before the file does.
    script = Script(token_delay_s=0.002, chunk_chars=4, code={**CODE, "ema/cli.py": module(600)})
    app, _ = make_app(doc=paper, script=script)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        await pilot.press("a")
        await wait_for(pilot, lambda: app.state.current_file == "ema/cli.py", what="streaming")
        main = app.main
        main.show("generation")
        assert isinstance(main._update_timer, SlotTimer)
        gen = main.generation
        files = gen.query_one("#gen-files", OptionList)
        code = gen.query_one("#gen-code", CodeView)
        files.focus()
        await pilot.pause(0.1)

        def last_line_shown() -> int:
            return code.line_number_start + code.document.line_count

        shown_before = last_line_shown()
        streamed_before = len(app.state.files["ema/cli.py"].text)
        for i in range(20):  # a key every ~30 ms, never a quiet moment; ends back on cli.py
            key = "up" if i % 2 else "down"
            app.post_message(events.Key(key, None))
            await asyncio.sleep(0.03)
        await wait_for(pilot, lambda: files.highlighted == files.get_option_index("ema/cli.py"), what="keys")
        assert app.state.current_file == "ema/cli.py", "the file finished too soon for this test"
        assert len(app.state.files["ema/cli.py"].text) > streamed_before
        assert last_line_shown() > shown_before, "the code view stood still while keys were pressed"
        # Resting on a finished file shows it; back on the file being written, the stream again.
        files.highlighted = files.get_option_index("ema/detector.py")
        await wait_for(pilot, lambda: "class EmaDetector" in code.text, what="the preview")
        files.highlighted = files.get_option_index("ema/cli.py")
        await wait_for(pilot, lambda: "def f" in code.text, what="the stream again")
        app.exit()
