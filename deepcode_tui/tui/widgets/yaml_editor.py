"""A YAML code editor whose gutter marks the lines that have validation errors.

The editor is entered explicitly and left with Esc: Tab and shift+Tab cycling
through a pane pass over it (inside it, Tab indents, so cycling focus through
it typed spaces into the blueprint). It is entered by ``focus()`` (the
pane's ``i`` / Enter key, a palette command) or a click.
"""

from __future__ import annotations

from rich.segment import Segment
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widgets import TextArea

from deepcode_tui.tui.widgets.fixed_text_area import FixedTextArea


class YamlEditor(FixedTextArea):
    """TextArea (YAML highlighting, line numbers) with error lines marked in the gutter."""

    COMPONENT_CLASSES = TextArea.COMPONENT_CLASSES | {"yaml-editor--error-line"}

    DEFAULT_CSS = """
    YamlEditor > .yaml-editor--error-line {
        background: $error 60%;
        color: $text;
        text-style: bold;
    }
    """

    class Left(Message):
        """The human left the editor with Esc (the pane puts focus back on its tabs)."""

    def __init__(self, text: str = "", *, id: str | None = None, read_only: bool = False) -> None:
        super().__init__(
            text,
            language="yaml",
            soft_wrap=False,
            tab_behavior="indent",
            show_line_numbers=True,
            read_only=read_only,
            id=id,
        )
        self.indent_width = 2
        self._error_lines: frozenset[int] = frozenset()  # 0-based
        self.editing = False  # entered explicitly; only then in the focus chain

    # -- entering and leaving ---------------------------------------------------------

    def allow_focus(self) -> bool:
        return self.editing and super().allow_focus()

    def focus(self, scroll_visible: bool = True) -> YamlEditor:
        """Enter the editor (an explicit request: a key, a command, a click)."""
        self.editing = True
        return super().focus(scroll_visible)

    def leave(self) -> None:
        self.editing = False
        self.post_message(self.Left())

    # Textual calls each class's handler along the MRO: these run before TextArea's, no super().

    def _on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            # TextArea's own Esc moves to the next widget in the chain; here it leaves.
            event.stop()
            event.prevent_default()  # TextArea's handler does not run
            self.leave()

    def _on_mouse_down(self, event: events.MouseDown) -> None:
        if not self.editing:
            self.focus()

    def _on_blur(self, event: events.Blur) -> None:
        # Focus went elsewhere (a click on a button, a pane switch): out of the chain again.
        self.editing = False

    def on_mount(self) -> None:
        self.theme = getattr(self.app, "code_theme", "css")

    def set_error_lines(self, lines: set[int] | frozenset[int]) -> None:
        """Mark these 1-based line numbers (an empty set clears the marks)."""
        marked = frozenset(n - 1 for n in lines if n >= 1)
        if marked != self._error_lines:
            self._error_lines = marked
            self._line_cache.clear()
            self.refresh()

    @property
    def error_lines(self) -> frozenset[int]:
        """The marked lines, 1-based."""
        return frozenset(n + 1 for n in self._error_lines)

    def _render_line(self, y: int) -> Strip:
        strip = super()._render_line(y)
        if not self._error_lines or not self.show_line_numbers:
            return strip
        info = self.wrapped_document._offset_to_line_info
        offset = y + self.scroll_offset.y
        if offset >= len(info):
            return strip
        line_index, section = info[offset]
        if line_index not in self._error_lines or section != 0:
            return strip
        gutter = self.gutter_width
        style = self.get_component_rich_style("yaml-editor--error-line")
        number = str(line_index + self.line_number_start)
        marker = Strip([Segment(f"!{number:>{gutter - 3}}  "[:gutter], style)], gutter)
        return Strip.join([marker, strip.crop(gutter, strip.cell_length)])
