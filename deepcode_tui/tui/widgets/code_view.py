"""A read-only code view whose highlighting costs what the screen shows, not what the file holds."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from textual.document._document import EditResult
from textual.document._edit import Edit
from textual.geometry import Region
from textual.strip import Strip

from deepcode_tui.tui.widgets.fixed_text_area import FixedTextArea

# Rows highlighted above and below the visible ones: scrolling or streaming by
# fewer rows than this reuses the highlights (and the cached lines) already built.
MARGIN_ROWS = 40
# TextArea's line-cache key is (size, scroll_x, absolute_y, ...): the row is at this index.
_CACHE_KEY_ROW = 2


class CodeView(FixedTextArea):
    """FixedTextArea that highlights only the rows on screen and redraws only changed lines.

    TextArea re-runs its tree-sitter highlight query over the whole document
    after every edit and throws away every rendered line: ~7 ms per streamed
    chunk for a 240-line window, ~125 ms to show a 4,000-line file, and every
    visible line re-rendered each time. Here an edit only marks the highlights
    stale from the edited row on; they are rebuilt when lines are drawn, for
    the visible rows plus :data:`MARGIN_ROWS` on each side, and only lines
    whose text, position or highlights changed are rendered again. Nodes that
    start above the window (a long docstring) are still found: the query
    returns every node that intersects it.

    Rows are document lines only without soft wrap; with ``soft_wrap`` on, the
    whole document is highlighted and every edit redraws every line, as
    TextArea does. (Relies on TextArea's ``_highlights``, ``_line_cache`` and
    ``_highlight_query``; textual is pinned <9.)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._highlight_rows: tuple[int, int] | None = None  # [start, end) rows in _highlights
        self._stale_from: int | None = None  # rows from here on changed since the last build
        self._editing_from: int | None = None
        super().__init__(*args, **kwargs)

    @property
    def highlighted_rows(self) -> tuple[int, int] | None:
        """The document rows ``[start, end)`` whose highlights are built (None: none yet)."""
        return self._highlight_rows

    def edit(self, edit: Edit) -> EditResult:
        gutter, width = self.gutter_width, self.virtual_size.width
        self._editing_from = edit.top[0]
        try:
            result = super().edit(edit)
        finally:
            self._editing_from = None
        if self.gutter_width != gutter or self.virtual_size.width != width:
            self._forget_highlights()  # every line's width changed
        return result

    def _build_highlight_map(self) -> None:
        # TextArea calls this after every edit, document swap and language change.
        if self._editing_from is None or self._highlight_rows is None or self.soft_wrap:
            self._forget_highlights()
            return
        stale = self._stale_from
        self._stale_from = self._editing_from if stale is None else min(stale, self._editing_from)

    def _forget_highlights(self) -> None:
        self._line_cache.clear()
        self._highlights = defaultdict(list)
        self._highlight_rows = None
        self._stale_from = None

    def render_lines(self, crop: Region) -> list[Strip]:
        self._ensure_highlights()
        return super().render_lines(crop)

    def _ensure_highlights(self) -> None:
        if self._highlight_query is None:
            self._stale_from = None
            return
        if self.soft_wrap:
            if self._highlight_rows is None:
                self._highlights = self._query_highlights(0, self.document.line_count)
                self._highlight_rows = (0, self.document.line_count)
            return
        top = int(self.scroll_offset.y)
        bottom = top + self.size.height
        rows = self._highlight_rows
        covered = rows is not None and rows[0] <= top and bottom <= rows[1]
        if covered and self._stale_from is None:
            return
        old, stale = self._highlights, self._stale_from
        if covered and rows is not None and stale is not None:
            # Same window: captures come back in the same order, so unchanged rows compare equal.
            start, end = rows
            new = self._query_highlights(start, end)
            self._forget_lines(old, new, stale)
        else:
            start, end = max(0, top - MARGIN_ROWS), bottom + MARGIN_ROWS
            new = self._query_highlights(start, end)
            self._line_cache.clear()  # the window moved: lines drawn before may lack highlights
        self._highlights, self._highlight_rows, self._stale_from = new, (start, end), None

    def _forget_lines(self, old: dict[int, list[Any]], new: dict[int, list[Any]], stale: int) -> None:
        """Drop cached lines at or after ``stale`` and those whose highlights changed."""
        cache = self._line_cache
        for key in list(cache.keys()):
            row = key[_CACHE_KEY_ROW] if isinstance(key, tuple) and len(key) > _CACHE_KEY_ROW else None
            if not isinstance(row, int) or row >= stale or old.get(row, []) != new.get(row, []):
                cache.discard(key)

    def _query_highlights(self, start: int, end: int) -> defaultdict[int, list[Any]]:
        """Highlights of rows ``[start, end)``, exactly as TextArea computes them for those rows."""
        highlights: defaultdict[int, list[Any]] = defaultdict(list)
        assert self._highlight_query is not None
        captures = self.document.query_syntax_tree(
            self._highlight_query, start_point=(start, 0), end_point=(end, 0)
        )
        for name, nodes in captures.items():
            # Sorted: tree-sitter returns a name's nodes in no fixed order, and rows are
            # compared between builds (same-name highlights share a style: order is free).
            for node in sorted(nodes, key=_node_span):
                start_row, start_column = node.start_point
                end_row, end_column = node.end_point
                if start_row == end_row:
                    if start <= start_row < end:
                        highlights[start_row].append((start_column, end_column, name))
                    continue
                if start_row >= start:
                    highlights[start_row].append((start_column, None, name))
                for row in range(max(start_row + 1, start), min(end_row, end)):
                    highlights[row].append((0, None, name))
                if end_row < end:
                    highlights[end_row].append((0, end_column, name))
        return highlights


def _node_span(node: Any) -> tuple[int, int]:
    return node.start_byte, node.end_byte
