"""A path input that completes file and directory names as you type (Tab or → accepts)."""

from __future__ import annotations

import os
from pathlib import Path

from textual.binding import Binding
from textual.suggester import Suggester
from textual.widgets import Input

DOCUMENT_SUFFIXES = (".pdf", ".md", ".markdown", ".tex", ".txt", ".rst")
MAX_ENTRIES = 2000  # a huge directory is listed only this far


def complete_path(value: str, cwd: Path | None = None) -> str | None:
    """``value`` extended to the first matching entry (directories end in ``/``), or None.

    Documents and directories are preferred over other files; hidden entries only
    match when the typed name starts with a dot.
    """
    if not value:
        return None
    expanded = os.path.expanduser(value)
    folder, prefix = os.path.split(expanded)
    base = Path(folder) if folder else (cwd or Path.cwd())
    if not os.path.isabs(folder) and folder:
        base = (cwd or Path.cwd()) / folder
    try:
        with os.scandir(base) as it:
            names = []
            for i, entry in enumerate(it):
                if i >= MAX_ENTRIES:
                    break
                if entry.name.startswith(prefix) and (
                    prefix.startswith(".") or not entry.name.startswith(".")
                ):
                    names.append((entry.name, entry.is_dir()))
    except OSError:
        return None
    if not names:
        return None

    def rank(item: tuple[str, bool]) -> tuple[int, str]:
        name, is_dir = item
        return (0 if name.lower().endswith(DOCUMENT_SUFFIXES) else 1 if is_dir else 2, name)

    name, is_dir = min(names, key=rank)
    completed = name + ("/" if is_dir else "")
    if completed == prefix:
        return None
    return value + completed[len(prefix) :]


class PathSuggester(Suggester):
    def __init__(self, cwd: Path | None = None) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.cwd = cwd

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value, self.cwd)


class PathInput(Input):
    """Input with path completion; Tab accepts the suggestion when there is one."""

    BINDINGS = [Binding("tab", "complete", "Complete", show=False, id="input.complete")]

    def __init__(
        self, *, cwd: Path | None = None, placeholder: str = "", id: str | None = None, compact: bool = False
    ) -> None:
        super().__init__(placeholder=placeholder, suggester=PathSuggester(cwd), id=id, compact=compact)

    def action_complete(self) -> None:
        if self._suggestion and self._suggestion != self.value:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
        else:
            self.screen.focus_next()
