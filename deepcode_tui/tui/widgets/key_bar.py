"""The footer: the keys that work now, drawn as one line.

Textual's Footer rebuilds a widget per key whenever the usable keys change:
a pane switch (it moves focus and changes the pane's keys) then mounted,
styled and laid out about fifteen widgets, the largest single cost of a
pane switch while code streams in. This bar is one widget whose line is
re-rendered instead (no mount, no layout). A click on a key presses it.
"""

from __future__ import annotations

from collections import defaultdict

from textual import events
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget


class KeyBar(Widget):
    """One line at the bottom of the screen: ``key description`` for each shown, usable binding."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        width: 1fr;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._spans: list[tuple[int, int, str]] = []  # (start, end, key) of each key drawn

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh()

    def render(self) -> Content:
        screen = self.screen
        active = screen.active_bindings
        groups: defaultdict[str, list] = defaultdict(list)
        for _node, binding, enabled, _tooltip in active.values():
            if binding.show:
                groups[binding.action].append((binding, enabled))
        parts: list[Content] = []
        spans: list[tuple[int, int, str]] = []
        x = 0
        for entries in groups.values():
            binding, enabled = entries[0]
            key = self.app.get_key_display(binding)
            style, text_style = (
                ("bold $footer-key-foreground", "") if enabled else ("$text-disabled", "$text-disabled")
            )
            part = Content.assemble((f" {key}", style), (f" {binding.description} ", text_style))
            spans.append((x, x + part.cell_length, binding.key.split(",")[0]))
            x += part.cell_length
            parts.append(part)
        palette = active.get(self.app.COMMAND_PALETTE_BINDING) if self.app.ENABLE_COMMAND_PALETTE else None
        line = Content.assemble(*parts)
        if palette is not None:
            tail = Content.assemble((f" {self.app.get_key_display(palette.binding)}", "bold $footer-key-foreground"),
                                    (" palette ", ""))  # fmt: skip
            room = self.size.width - tail.cell_length
            if line.cell_length > room:
                line = line.truncate(max(0, room), ellipsis=True)
            gap = max(0, room - line.cell_length)
            spans.append((room, room + tail.cell_length, palette.binding.key))
            line = Content.assemble(line, " " * gap, tail)
        self._spans = spans
        return line

    async def _on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                event.stop()
                await self.app.simulate_key(key)
                return
