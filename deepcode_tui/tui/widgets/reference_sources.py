"""The start screen's reference sources for CodeRAG: list, add, remove; kept in ``rag.sources``.

A source is what ``--ref`` takes on the command line: a local directory (or
file), a git URL or ``pkg:NAME``. Changes are saved to the project's
``deepcode.toml`` exactly as ``deepcode-tui config set rag.sources [...]``
would (comments kept, validated, written atomically), and applied to the
settings the app starts its next run with, so the run about to start, its
recorded config and later runs and resumes all use them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Label, OptionList
from textual.widgets.option_list import Option

from deepcode_tui.config.loader import find_project_config, set_config_value
from deepcode_tui.config.settings import PROJECT_FILE
from deepcode_tui.errors import DeepcodeError, InputError
from deepcode_tui.tui.keys import REF_LIST_BINDINGS
from deepcode_tui.tui.widgets.path_input import PathInput

KEY = "rag.sources"


def checked_spec(raw: str, cwd: Path | None) -> str:
    """The spec to store for what the user typed; raises a DeepcodeError naming the problem.

    A local path must exist and is stored absolute (a relative one would be read
    against whatever directory a later run starts in); URLs and ``pkg:`` stay as typed.
    """
    from deepcode_tui.rag.sources import parse_source

    source = parse_source(raw)
    if source.kind != "local":
        return source.spec
    path = Path(source.location).expanduser()
    if not path.is_absolute():
        path = (cwd or Path.cwd()) / path
    if not path.exists():
        raise InputError(f"no such directory or file: {path}", "check the path (Tab completes it)")
    return str(path.resolve())


def config_file(cwd: Path | None) -> Path:
    """The file ``config set`` writes by default: the nearest deepcode.toml, else one in ``cwd``."""
    return find_project_config(cwd) or (cwd or Path.cwd()) / PROJECT_FILE


class ReferenceSources(Vertical):
    """The list of ``rag.sources`` with a path box to add one and Delete to remove the highlighted one."""

    def __init__(self, loaded: Any, *, cwd: Path | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.loaded = loaded
        self.cwd = cwd

    @property
    def sources(self) -> list[str]:
        """The reference sources the next run will use."""
        return list(self.loaded.settings.rag.sources)

    def compose(self) -> ComposeResult:
        yield Label("Reference code for CodeRAG (directory, git URL or pkg:NAME)", classes="section")
        yield RefList(id="refs-list")
        with Horizontal(id="refs-row"):
            # One line, not three: the start screen must leave the recent runs room at 80x24.
            yield PathInput(placeholder="path/to/repo, https://github.com/o/r or pkg:numpy", id="refs-path",
                            cwd=self.cwd, compact=True)  # fmt: skip
            yield Button("Add", id="refs-add", compact=True)
        yield Label("", id="refs-note")

    def on_mount(self) -> None:
        self.query_one("#refs-path", PathInput).cursor_blink = getattr(self.app, "blink", True)
        self._show_list()
        if not self.sources:
            self._note("None: code is generated from the paper alone.")
        origin = self.loaded.provenance.get(KEY, "")
        if origin.startswith(("env", "cli")):
            self._note(f"rag.sources comes from {origin}: changes here apply to runs started now "
                       f"but {origin} wins again at the next start", "$warning")  # fmt: skip

    def _show_list(self, highlight: int | None = None) -> None:
        refs = self.query_one("#refs-list", OptionList)
        refs.clear_options()
        sources = self.sources
        refs.add_options(Option(spec, id=spec) for spec in sources)
        refs.display = bool(sources)
        if sources and highlight is not None:
            refs.highlighted = min(highlight, len(sources) - 1)

    def _note(self, text: str, style: str = "$text-muted") -> None:
        self.query_one("#refs-note", Label).update(Content.styled(text, style))

    @on(PathInput.Submitted, "#refs-path")
    @on(Button.Pressed, "#refs-add")
    def _add(self, event: Any) -> None:
        event.stop()  # the start screen's own Submitted handler opens documents
        box = self.query_one("#refs-path", PathInput)
        raw = box.value.strip()
        if not raw:
            self._note("Type a directory, a git URL or pkg:NAME first.", "$error")
            return
        try:
            spec = checked_spec(raw, self.cwd)
        except DeepcodeError as exc:
            self._note(exc.one_line(), "$error")
            return
        if spec in self.sources:
            self._note(f"{spec} is listed already.")
            return
        if self._save([*self.sources, spec]):
            box.value = ""
            self._show_list(highlight=len(self.sources) - 1)

    def remove_highlighted(self) -> None:
        """Remove the highlighted source (Delete in the list)."""
        refs = self.query_one("#refs-list", OptionList)
        index = refs.highlighted
        sources = self.sources
        if index is None or not 0 <= index < len(sources):
            return
        removed = sources.pop(index)
        if self._save(sources, removed=removed):
            self._show_list(highlight=index)
            if not sources:
                self.query_one("#refs-path", PathInput).focus()

    def _save(self, sources: list[str], *, removed: str | None = None) -> bool:
        """Write ``rag.sources`` to the config file, then use it for the next run; False (shown) on failure."""
        path = config_file(self.cwd)
        try:
            set_config_value(path, KEY, sources)
        except DeepcodeError as exc:
            self._note(exc.one_line(), "$error")
            return False
        self.loaded.settings.rag.sources = list(sources)
        self.loaded.provenance[KEY] = f"project ({path})"
        what = f"Removed {removed}. " if removed else ""
        self._note(f"{what}Saved to {path}: new runs use {len(sources)} reference source(s).")
        return True


class RefList(OptionList):
    """The sources; Delete removes the highlighted one."""

    BINDINGS = REF_LIST_BINDINGS

    def action_remove(self) -> None:
        parent = next((a for a in self.ancestors if isinstance(a, ReferenceSources)), None)
        if parent is not None:
            parent.remove_highlighted()
