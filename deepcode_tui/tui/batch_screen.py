"""The batch screen: a batch's runs, live from ``batch.json``; runs waiting at a gate stand out.

``a`` approves the selected run's gate (through the batch's approval queue,
like `deepcode-tui batch approve`); Enter posts :class:`BatchScreen.OpenRun`
for the app to open that run's panes. `deepcode-tui batch watch BATCH_ID`
shows it in a small app of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from deepcode_tui.errors import DeepcodeError
from deepcode_tui.tui.widgets.tables import fill_table

REFRESH_S = 1.0


class BatchScreen(Screen):
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("a", "approve", "Approve gate"),
        Binding("enter", "open_run", "Open run"),
        Binding("q", "app.quit", "Quit"),
    ]

    class OpenRun(Message):
        def __init__(self, runs_dir: Path, run_id: str) -> None:
            super().__init__()
            self.runs_dir = runs_dir
            self.run_id = run_id

    def __init__(self, batch_dir: Path) -> None:
        super().__init__()
        self.batch_dir = Path(batch_dir)
        self.waiting: set[str] = set()
        self.row_runs: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static(f"batch {self.batch_dir.name}", id="batch-title")
        yield DataTable(id="batch-runs", cursor_type="row", zebra_stripes=True)
        yield Static("", id="batch-status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for col in ("document", "run", "status", "phase", "cost", "time"):
            table.add_column(col, key=col)
        self.refresh_rows()
        self.set_interval(REFRESH_S, self.refresh_rows)

    def refresh_rows(self) -> None:
        from deepcode_tui.batch.approvals import pending_gates
        from deepcode_tui.batch.store import load_manifest

        try:
            manifest = load_manifest(self.batch_dir)
        except DeepcodeError as exc:
            self.query_one("#batch-status", Static).update(exc.one_line())
            return
        gates = {g.run_id: g for g in pending_gates(self.batch_dir)}
        self.waiting = set(gates)
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        self.row_runs = []
        rows = []
        for e in manifest.entries:
            status = f"[b magenta]⏸ waiting: {gates[e.run_id].gate}[/]" if e.run_id in gates else e.status
            rows.append((e.stem, e.run_id or "-", status, e.phase or "-", f"${e.cost_usd:.4f}", f"{e.seconds:.0f}s"))
            self.row_runs.append(e.run_id)
        fill_table(table, rows)
        if self.row_runs:
            table.move_cursor(row=min(cursor, len(self.row_runs) - 1))
        counts: dict[str, int] = {}
        for e in manifest.entries:
            counts[e.status] = counts.get(e.status, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        waiting = f"; {len(gates)} waiting for you (a: approve)" if gates else ""
        self.query_one("#batch-status", Static).update(f"{manifest.status}: {summary}{waiting}")

    def _selected(self) -> str:
        table = self.query_one(DataTable)
        return self.row_runs[table.cursor_row] if 0 <= table.cursor_row < len(self.row_runs) else ""

    def action_approve(self) -> None:
        from deepcode_tui.batch.approvals import answer
        from deepcode_tui.pipeline.gate import GateDecision

        run_id = self._selected()
        if run_id not in self.waiting:
            self.notify("This run is not waiting at a gate.", severity="warning")
            return
        try:
            gate = answer(self.batch_dir, run_id, GateDecision(decision="approve"))
        except DeepcodeError as exc:
            self.notify(exc.one_line(), severity="error")
            return
        self.notify(f"{gate.run_id}: {gate.gate} approved")
        self.refresh_rows()

    def action_open_run(self) -> None:
        run_id = self._selected()
        if run_id:
            self.post_message(self.OpenRun(self.batch_dir / "runs", run_id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # The table takes Enter itself (row selection): that is the screen's "open".
        event.stop()
        self.action_open_run()


class BatchWatchApp(App[None]):
    """`deepcode-tui batch watch`: the batch screen on its own."""

    def __init__(self, batch_dir: Path) -> None:
        super().__init__()
        self.batch_dir = batch_dir

    def on_mount(self) -> None:
        self.push_screen(BatchScreen(self.batch_dir))

    def on_batch_screen_open_run(self, message: BatchScreen.OpenRun) -> None:
        self.notify(f"open it in the app: deepcode-tui open --runs-dir {message.runs_dir} (then pick {message.run_id})",
                    timeout=10)
