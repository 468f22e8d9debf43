"""Filling a DataTable so that its columns fit what was added, on the first frame."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable


def _cell_width(value: object) -> int:
    # The same text DataTable draws: strings are markup, floats show two decimals.
    if isinstance(value, Text):
        text = value
    elif isinstance(value, str):
        text = Text.from_markup(value)
    elif isinstance(value, float):
        text = Text(f"{value:.2f}")
    else:
        text = Text(str(value))
    return max((line.cell_len for line in text.split()), default=0)


def fill_table(table: DataTable, rows: Sequence[Sequence[object]], keys: Sequence[str] | None = None) -> None:
    """Replace ``table``'s rows with ``rows`` and size its columns to them.

    DataTable measures auto-width columns on its next Idle event but caches
    the rows it rendered before that: a table filled from a thread or from
    another widget's handler could keep the widths of its column labels
    ("stopped" showed as "stoppe" on the start screen until a key was pressed).
    Fixing each column's width before the rows go in draws them right at once.
    """
    table.clear()
    for index, column in enumerate(table.ordered_columns):
        cells = [_cell_width(row[index]) for row in rows if index < len(row)]
        column.width = max([column.label.cell_len, *cells])
        column.auto_width = False
    for n, row in enumerate(rows):
        table.add_row(*row, key=keys[n] if keys is not None else None)
