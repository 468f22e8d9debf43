"""A scrollable, coloured unified diff (colours follow the theme)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static


def diff_content(diff: str) -> Content:
    """Colour a unified diff line by line: additions, removals, hunk headers."""
    parts: list[tuple[str, str]] = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "$success"
        elif line.startswith("-"):
            style = "$error"
        elif line.startswith("@@"):
            style = "$accent"
        else:
            style = ""
        parts.append((line + "\n", style))
    return Content.assemble(*parts) if parts else Content("")


class DiffView(VerticalScroll):
    """Shows one diff, or a message when there is none."""

    def __init__(self, empty: str = "No changes.", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.empty = empty
        self.diff = ""

    def compose(self) -> ComposeResult:
        yield Static(self.empty, classes="diff-body", markup=False)

    def show(self, diff: str, empty: str | None = None) -> None:
        self.diff = diff
        body = self.query_one(".diff-body", Static)
        body.update(diff_content(diff) if diff.strip() else Content(empty or self.empty))
        self.scroll_home(animate=False)
