"""A TextArea whose growing text does not re-lay out the whole screen."""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import TextArea


class FixedTextArea(TextArea):
    """TextArea for a box whose size CSS fixes (``1fr``, never ``auto``).

    Textual marks ``virtual_size`` as a layout reactive, so every edit that
    changes the document's size (each streamed line) re-lays out the whole
    screen. A fixed-size box does not change the layout when its content
    grows: here only its scrollbars and its own lines are refreshed. (Relies
    on TextArea._refresh_size and Widget._scroll_update; textual is pinned <9.)
    """

    def _refresh_size(self) -> None:
        if self.soft_wrap:
            size = Size(0, self.wrapped_document.height)
        else:
            # +1 width so the cursor can rest after the last character, as TextArea does.
            width, height = self.document.get_size(self.indent_width)
            size = Size(width + self.gutter_width + 1, height)
        if size == self.virtual_size:
            return
        shown = (self.show_horizontal_scrollbar, self.show_vertical_scrollbar)
        self.set_reactive(Widget.virtual_size, size)
        self._scroll_update(size)
        if (self.show_horizontal_scrollbar, self.show_vertical_scrollbar) != shown:
            self.refresh(layout=True)  # a scrollbar appeared or went: the content region changes
        else:
            self.refresh()
