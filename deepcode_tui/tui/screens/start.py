"""The start screen: open a document (with reference code for CodeRAG), resume a recent run, check models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Label, Static

from deepcode_tui.errors import DeepcodeError
from deepcode_tui.tui import adapters
from deepcode_tui.tui.keys import START_BINDINGS
from deepcode_tui.tui.widgets.key_bar import KeyBar
from deepcode_tui.tui.widgets.path_input import PathInput
from deepcode_tui.tui.widgets.reference_sources import ReferenceSources
from deepcode_tui.tui.widgets.tables import fill_table

EMBEDDED_HELP = (
    "Only the embedded tiny model (SmolLM2-135M) is configured: fine for a trial, but it writes poor code.\n"
    "For real work: deepcode-tui config set models.default anthropic/claude-sonnet-4-5\n"
    "and export ANTHROPIC_API_KEY=… (any litellm model string and its provider's key work)."
)


class StartScreen(Screen):
    """Shown when the app opens without a document."""

    BINDINGS = START_BINDINGS

    class OpenDocument(Message):
        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    class OpenRun(Message):
        def __init__(self, run_id: str, resume: bool) -> None:
            super().__init__()
            self.run_id = run_id
            self.resume = resume

    def __init__(self, loaded: Any, *, cwd: Path | None = None) -> None:
        super().__init__()
        self.loaded = loaded
        self.cwd = cwd
        self.runs: dict[str, tuple[Any, bool]] = {}  # run id -> (summary, resumable)

    def compose(self) -> ComposeResult:
        with Vertical(id="start-body"):
            yield Static(
                Content.assemble(
                    ("deepcode-tui", "bold $primary"),
                    "  turn a paper or a requirement into a working repository",
                ),
                id="start-banner",
            )
            with Vertical(id="start-open"):
                yield Label(
                    "Open a document (PDF, Markdown, LaTeX or text); Tab completes the path",
                    classes="section",
                )
                with Horizontal(id="start-open-row"):
                    yield PathInput(placeholder="path/to/paper.pdf", id="start-path", cwd=self.cwd)
                    yield Button("Open", id="start-open-button", variant="primary", compact=True)
                yield Label("", id="start-error")
            yield ReferenceSources(self.loaded, cwd=self.cwd, id="start-refs")
            with Horizontal(id="start-lower"):
                with Vertical(id="start-runs-box"):
                    yield Label("Recent runs (Enter resumes or views)", classes="section")
                    yield DataTable(id="start-runs", cursor_type="row", zebra_stripes=True)
                    yield Label("", id="start-runs-note")
                with Vertical(id="start-models-box"):
                    yield Label("Models", classes="section")
                    yield Static("", id="start-models")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#start-runs", DataTable)
        table.add_columns("run", "phase", "status", "cost", "age", "input")
        path = self.query_one("#start-path", PathInput)
        path.cursor_blink = getattr(self.app, "blink", True)
        self.query_one("#start-models", Static).update(self._models_content())
        self.action_refresh()
        path.focus()

    # -- models -------------------------------------------------------------------

    def _models_content(self) -> Content:
        rows = adapters.model_check(self.loaded)
        lines: list[Content] = []
        same = len({(r.model, r.real, r.source) for r in rows}) == 1 and not any(r.problem for r in rows)
        shown = [rows[0].model_copy(update={"role": "all roles"})] if same and rows else rows
        for r in shown:
            mark, style = ("✓", "$success") if r.real else ("!", "$warning")
            note = r.problem or (r.source.split(":", 1)[0] if r.source else "")
            lines.append(
                Content.assemble(
                    (f"{mark} ", style),
                    (f"{r.role:<10}", "bold"),
                    f" {r.model}",
                    (f"  ({note})" if note else "", "$error" if r.problem else "$text-muted"),
                )
            )
        if rows and not any(r.real for r in rows):
            lines.append(Content.styled(EMBEDDED_HELP, "$warning"))
        return Content("\n").join(lines)

    # -- runs ---------------------------------------------------------------------

    def action_refresh(self) -> None:
        self._list_runs(Path(self.loaded.settings.runs_dir))

    def action_focus_open(self) -> None:
        self.query_one("#start-path", PathInput).focus()

    def action_focus_runs(self) -> None:
        self.query_one("#start-runs", DataTable).focus()

    @work(thread=True, exclusive=True, group="start-runs")
    def _list_runs(self, runs_dir: Path) -> None:
        from deepcode_tui.store.catalog import list_runs

        try:
            summaries, problems = list_runs(runs_dir)
            flags = [adapters.resumable(runs_dir / s.run_id, s.status) for s in summaries]
            from deepcode_tui.grade.latest import latest_score

            self._scores = {s.run_id: latest_score(runs_dir / s.run_id) for s in summaries}
        except DeepcodeError as exc:
            summaries, problems, flags = [], [exc.one_line()], []
        self.app.call_from_thread(self._show_runs, summaries, flags, problems)

    def _show_runs(self, summaries: list[Any], flags: list[bool], problems: list[str]) -> None:
        table = self.query_one("#start-runs", DataTable)
        self.runs.clear()
        now = self.app.clock.now() if hasattr(self.app, "clock") else None
        rows = []
        for summary, can_resume in zip(summaries, flags, strict=True):
            self.runs[summary.run_id] = (summary, can_resume)
            status = summary.status + (" ↻" if can_resume else "")
            score = getattr(self, "_scores", {}).get(summary.run_id)
            status += f" · {score}" if score else ""  # the newest PaperBench grade
            rows.append((summary.run_id, summary.phase, status, f"${summary.cost_usd:.4f}", summary.age(now),
                         Path(summary.input_path).name))  # fmt: skip
        fill_table(table, rows, keys=[s.run_id for s in summaries])
        note = "↻ resumable.  " if any(flags) else ""
        if not summaries:
            note = "No runs yet: open a document above."
        if problems:
            note += f"{len(problems)} unreadable: " + "; ".join(problems[:2])
        self.query_one("#start-runs-note", Label).update(note)

    @on(DataTable.RowSelected, "#start-runs")
    def _run_chosen(self, event: DataTable.RowSelected) -> None:
        run_id = event.row_key.value
        if run_id in self.runs:
            _, can_resume = self.runs[run_id]
            self.post_message(self.OpenRun(run_id, resume=can_resume))

    # -- opening a document -------------------------------------------------------

    @on(PathInput.Submitted, "#start-path")
    @on(Button.Pressed, "#start-open-button")
    def _open(self) -> None:
        from deepcode_tui.pipeline.inputs import check_input

        raw = self.query_one("#start-path", PathInput).value.strip()
        error = self.query_one("#start-error", Label)
        if not raw:
            error.update("Type the path of a document first.")
            return
        path = Path(raw).expanduser()
        if not path.is_absolute() and self.cwd is not None:
            path = self.cwd / path
        try:
            resolved = check_input(path)
        except DeepcodeError as exc:
            error.update(Content.styled(exc.one_line(), "$error"))
            return
        error.update("")
        self.post_message(self.OpenDocument(resolved))

    def show_error(self, message: str) -> None:
        self.query_one("#start-error", Label).update(Content.styled(message, "$error"))
