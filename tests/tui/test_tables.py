"""A table filled outside its own handlers draws its cells whole on the first frame."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from deepcode_tui.tui.widgets.tables import fill_table
from tests.tui.screen_text import screen_text


class _TableApp(App):
    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("run", "status", "note")


async def test_cells_are_drawn_whole_before_the_table_ever_idles():
    app = _TableApp()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(DataTable)
        await pilot.pause()
        # A frame drawn with the label widths is what the start screen showed ("stoppe").
        fill_table(table, [("20261202-abcdef", "stopped ↻", "[b]bold[/] 1.50"), ("x", 2.0, "")], keys=["a", "b"])
        assert [c.get_render_width(table) - 2 * table.cell_padding for c in table.ordered_columns] == [15, 9, 9]
        await pilot.pause()
        text = screen_text(app)
        assert "20261202-abcdef" in text and "stopped ↻" in text and "bold 1.50" in text and "2.00" in text
        assert table.get_row("a")[1] == "stopped ↻"  # the keys are kept
        fill_table(table, [("y", "passed", "")])  # a refill drops the old rows and narrows the columns
        assert table.row_count == 1 and table.ordered_columns[0].width == 3
