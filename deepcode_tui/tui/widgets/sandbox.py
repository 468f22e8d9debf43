"""Pane 4, the sandbox: backend, live log, findings and patch per repair iteration, step controls."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Checkbox, DataTable, Label, TabbedContent, TabPane

from deepcode_tui.tui import adapters
from deepcode_tui.tui.state import RunState
from deepcode_tui.tui.widgets.diff_view import DiffView
from deepcode_tui.tui.widgets.live_log import LiveLog
from deepcode_tui.tui.widgets.tables import fill_table

_STREAM_STYLE = {"stdout": "", "stderr": "red"}
_LEVEL_STYLE = {"debug": "dim", "info": "dim", "warning": "yellow", "error": "bold red"}


class SandboxPane(Vertical):
    """Browses iterations; answers a waiting patch through :class:`PatchAnswer`."""

    class PatchAnswer(Message):
        def __init__(self, decision: Literal["apply", "skip", "edit"]) -> None:
            super().__init__()
            self.decision = decision

    class StepToggled(Message):
        def __init__(self, enabled: bool) -> None:
            super().__init__()
            self.enabled = enabled

    def __init__(
        self, state: RunState, *, log_lines: int = 5000, step: bool = False, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.state = state
        self.log_lines = log_lines
        self.step_initial = step
        self.run_dir: Path | None = None
        self.viewing: int | None = None  # the iteration shown; None follows the newest
        self.pending_iteration: int | None = None  # the iteration whose patch awaits a decision
        self.pending_diff = ""  # what that patch would change

    def compose(self) -> ComposeResult:
        yield Label("No sandbox run yet.", id="sb-info")
        with Horizontal(id="sb-controls"):
            yield Button("◀", id="sb-prev", compact=True)
            yield Label("iteration –", id="sb-iteration")
            yield Button("▶", id="sb-next", compact=True)
            yield Checkbox("pause before applying", value=self.step_initial, id="sb-step", compact=True)
            yield Button("Apply", id="sb-apply", variant="success", compact=True)
            yield Button("Skip", id="sb-skip", variant="error", compact=True)
            yield Button("Edit…", id="sb-edit", variant="primary", compact=True)
        with TabbedContent(id="sb-tabs"):
            with TabPane("Log", id="sb-log-tab"):
                yield LiveLog(self.log_lines, id="sb-log")
            with TabPane("Findings", id="sb-findings-tab"):
                yield DataTable(id="sb-findings", cursor_type="row", zebra_stripes=True)
            with TabPane("Patch", id="sb-patch-tab"):
                yield DiffView("No patch for this iteration.", id="sb-patch")

    def on_mount(self) -> None:
        self.query_one("#sb-findings", DataTable).add_columns("where", "kind", "message")
        self.refresh_view()

    def load(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.refresh_view()

    @property
    def live_log(self) -> LiveLog:
        return self.query_one("#sb-log", LiveLog)

    # -- iteration browsing -------------------------------------------------------

    def shown_iteration(self) -> int | None:
        numbers = sorted(self.state.iterations)
        if not numbers:
            return None
        return self.viewing if self.viewing in self.state.iterations else numbers[-1]

    def step(self, delta: int) -> bool:
        """Show the previous (-1) or next (+1) iteration; False at either end."""
        numbers = sorted(self.state.iterations)
        current = self.shown_iteration()
        if current is None:
            return False
        pos = numbers.index(current) + delta
        if not 0 <= pos < len(numbers):
            return False
        self.viewing = None if pos == len(numbers) - 1 else numbers[pos]
        self.refresh_view()
        return True

    def refresh_view(self) -> None:
        numbers = sorted(self.state.iterations)
        shown = self.shown_iteration()
        self._refresh_info()
        label = "iteration –"
        if shown is not None:
            label = f"iteration {shown}/{numbers[-1]}" if numbers[-1] else "static checks"
        self.query_one("#sb-iteration", Label).update(label)
        self.query_one("#sb-prev", Button).disabled = shown is None or numbers.index(shown) == 0
        self.query_one("#sb-next", Button).disabled = shown is None or shown == numbers[-1]
        waiting = self.pending_iteration is not None
        for button_id in ("#sb-apply", "#sb-skip", "#sb-edit"):
            button = self.query_one(button_id, Button)
            button.display = waiting
            button.disabled = not waiting or shown != self.pending_iteration
        self._fill_findings(shown)
        self._show_patch(shown)

    def _refresh_info(self) -> None:
        shown = self.shown_iteration()
        viewed = self.state.iterations.get(shown) if shown is not None else None
        runs = (
            viewed.runs
            if viewed is not None and viewed.runs
            else [r for it in self.state.iterations.values() for r in it.runs]
        )
        if not runs:
            text = (
                f"backend {self.state.sandbox_backend}"
                if self.state.sandbox_backend
                else "No sandbox run yet."
            )
        else:
            last = runs[-1]
            outcome = "timed out" if last.timed_out else f"exit {last.exit_code}"
            text = f"{last.backend}: {last.command} → {outcome} in {last.duration_s:.1f}s"
            if last.notice:
                text += f" ({last.notice})"
        self.query_one("#sb-info", Label).update(text, layout=False)

    def _fill_findings(self, number: int | None) -> None:
        table = self.query_one("#sb-findings", DataTable)
        it = self.state.iterations.get(number) if number is not None else None
        rows: list[tuple[str, str, str]] = []
        if it is not None and it.findings:
            for f in it.findings:
                where = f"{f.file}:{f.line}" if f.file and f.line else (f.file or "-")
                rows.append((where, f"{f.stage}/{f.kind}", f.message))
        elif number is not None and self.run_dir is not None:
            for d in adapters.read_iteration(self.run_dir, number).findings:
                where = f"{d.get('file') or '-'}" + (f":{d['line']}" if d.get("line") else "")
                rows.append((where, f"{d.get('stage', '')}/{d.get('kind', '')}", str(d.get("message", ""))))
        fill_table(table, rows)
        tabs = self.query_one("#sb-tabs", TabbedContent)
        tabs.get_tab("sb-findings-tab").label = f"Findings ({len(rows)})"

    def _show_patch(self, number: int | None) -> None:
        view = self.query_one("#sb-patch", DiffView)
        it = self.state.iterations.get(number) if number is not None else None
        diff = it.patch if it is not None else ""
        if number is not None and number == self.pending_iteration and self.pending_diff:
            diff = self.pending_diff
        if not diff and number is not None and self.run_dir is not None:
            diff = adapters.read_iteration(self.run_dir, number).patch
        verdict = ""
        if it is not None and it.decision:
            word = {"apply": "applied", "skip": "skipped", "edit": "edited"}.get(it.decision, it.decision)
            if it.decision == "edit" and it.applied:
                word += ", applied"
            elif it.decision == "apply" and not it.applied:
                word = "not applied"
            verdict = f" ({word})"
        elif number is not None and number == self.pending_iteration:
            verdict = " (waiting for you)"
        if view.diff != diff:
            view.show(diff)
        tabs = self.query_one("#sb-tabs", TabbedContent)
        tabs.get_tab("sb-patch-tab").label = f"Patch{verdict}"

    # -- controls -----------------------------------------------------------------

    def set_pending(self, iteration: int | None, diff: str = "") -> None:
        """Mark ``iteration`` as waiting for apply / skip / edit of ``diff`` (None: nothing waits)."""
        self.pending_iteration, self.pending_diff = iteration, diff
        if iteration is not None:
            self.viewing = iteration
            self.query_one("#sb-tabs", TabbedContent).active = "sb-patch-tab"
        self.refresh_view()
        update = getattr(self.screen, "update_bindings", None)
        if update is not None:
            update()

    @on(Button.Pressed, "#sb-prev")
    def _prev(self) -> None:
        self.step(-1)

    @on(Button.Pressed, "#sb-next")
    def _next(self) -> None:
        self.step(1)

    @on(Button.Pressed, "#sb-apply")
    def _apply(self) -> None:
        self.post_message(self.PatchAnswer("apply"))

    @on(Button.Pressed, "#sb-skip")
    def _skip(self) -> None:
        self.post_message(self.PatchAnswer("skip"))

    @on(Button.Pressed, "#sb-edit")
    def _edit(self) -> None:
        self.post_message(self.PatchAnswer("edit"))

    @on(Checkbox.Changed, "#sb-step")
    def _step_toggled(self, event: Checkbox.Changed) -> None:
        self.post_message(self.StepToggled(event.value))

    def set_step(self, enabled: bool) -> None:
        self.query_one("#sb-step", Checkbox).value = enabled

    def replay(self, events: list[Any]) -> None:
        """Put a reopened run's log back: its persisted lines, and each iteration's command
        output from ``iterations/NNN/trace.txt`` (live output lines are not persisted)."""
        trace = ""  # the current iteration's trace: it holds the commands with their output
        for ev in events:
            t = ev.type
            if t == "iteration_started" and self.run_dir is not None:
                trace = adapters.read_iteration(self.run_dir, ev.iteration).trace.strip()
            if t == "sandbox_ran" and trace:
                continue
            if t == "iteration_finished" and trace:
                for line in trace.splitlines():
                    self.live_log.push(line, "bold" if line.startswith("$ ") else "")
                trace = ""
            if t in ("log", "sandbox_ran", "iteration_started", "iteration_finished"):
                self._log_line(ev)
        self.refresh_view()

    def _log_line(self, ev: Any) -> None:
        log = self.live_log
        t = ev.type
        if t == "sandbox_output":
            log.push(ev.line, _STREAM_STYLE.get(ev.stream, ""))
        elif t == "sandbox_ran":
            outcome = "timed out" if ev.timed_out else f"exit {ev.exit_code}"
            log.push(f"$ {ev.command}  [{ev.backend}] → {outcome} in {ev.duration_s:.1f}s", "bold")
        elif t == "log":
            log.push(f"[{ev.phase or 'run'}] {ev.message}", _LEVEL_STYLE.get(ev.level, ""))
        elif t == "iteration_started":
            log.push(f"── iteration {ev.iteration} ──", "bold")
        elif t == "iteration_finished":
            verdict = "passed" if ev.passed else f"failed ({ev.findings} findings)"
            summary = "" if ev.summary in ("passed", "failed") else ev.summary  # said once is enough
            log.push(f"iteration {ev.iteration}: {verdict} {summary}".rstrip(), "bold")

    # -- events -------------------------------------------------------------------

    def on_run_event(self, ev: Any) -> None:
        t = ev.type
        self._log_line(ev)
        if t == "sandbox_output" or t == "log":
            return
        if t == "sandbox_ran":
            self._refresh_info()
            return
        if t == "iteration_started" and (self.viewing is None or self.pending_iteration is None):
            self.viewing = None  # follow the newest iteration unless a patch is being decided
        if t == "patch_decision" and self.pending_iteration == ev.iteration or t == "run_finished":
            self.pending_iteration, self.pending_diff = None, ""
        self.refresh_view()
