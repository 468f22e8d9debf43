"""Headless progress: a bus subscriber that renders a run with rich.

Phase lines as they start and end, a progress bar for long steps, warnings
and findings as they come, and a summary table at the end.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from deepcode_tui.events.models import Event
from deepcode_tui.pipeline.report import RunFacts


class HeadlessDisplay:
    def __init__(self, console: Console | None = None, *, verbose: bool = False) -> None:
        self.console = console or Console(stderr=True)
        self.verbose = verbose
        self._progress: Progress | None = None
        self._tasks: dict[str, Any] = {}
        self._phase_start: dict[str, float] = {}
        self.phase_times: dict[str, float] = {}
        self.tokens = 0
        self.cost = 0.0
        self.files_written: set[str] = set()
        self.findings = 0
        self.final: Event | None = None
        self.facts = RunFacts()

    def __call__(self, ev: Event) -> None:
        self.facts.observe(ev)
        handler = getattr(self, f"_on_{ev.type}", None)
        if handler:
            handler(ev)

    # -- progress bars ----------------------------------------------------------

    def _bar(self) -> Progress:
        if self._progress is None:
            self._progress = Progress(
                TextColumn("  {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
        return self._progress

    def _stop_bars(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress, self._tasks = None, {}

    def _on_progress(self, ev) -> None:
        if not self.console.is_terminal:
            return
        bar = self._bar()
        key = f"{ev.phase}:{ev.label.split(':')[0]}"
        if key not in self._tasks:
            self._tasks[key] = bar.add_task(ev.label, total=ev.total)
        bar.update(self._tasks[key], completed=ev.completed, total=ev.total, description=ev.label)

    # -- lines ------------------------------------------------------------------

    def _print(self, *args: Any) -> None:
        self.console.print(*args, highlight=False)

    def _on_run_created(self, ev) -> None:
        self._print(f"[bold]run[/] {ev.run_id}  [dim]{ev.input_path}[/]")

    def _on_run_resumed(self, ev) -> None:
        self._print(f"[bold]resuming[/] at phase [cyan]{ev.from_phase}[/]")

    def _on_phase_started(self, ev) -> None:
        self._phase_start[ev.phase] = time.monotonic()
        self._print(f"[cyan]▶ {ev.phase}[/]")

    def _on_phase_completed(self, ev) -> None:
        self._stop_bars()
        elapsed = time.monotonic() - self._phase_start.get(ev.phase, time.monotonic())
        self.phase_times[ev.phase] = elapsed
        detail = ", ".join(f"{k}={v}" for k, v in ev.summary.items() if not isinstance(v, (dict, list)))
        self._print(f"[green]✔ {ev.phase}[/] [dim]{elapsed:.1f}s {detail}[/]")

    def _on_phase_failed(self, ev) -> None:
        self._stop_bars()
        self._print(f"[red]✘ {ev.phase}[/]: {ev.error}")

    def _on_log(self, ev) -> None:
        if ev.level == "debug" and not self.verbose:
            return
        style = {"warning": "yellow", "error": "red"}.get(ev.level, "dim")
        self._print(f"  [{style}]{ev.message}[/]")

    def _on_gate_opened(self, ev) -> None:
        self._stop_bars()
        self._print(f"[magenta]? {ev.prompt}[/] [dim]{ev.artifact}[/]")

    def _on_gate_resolved(self, ev) -> None:
        self._print(f"  [magenta]{ev.gate}: {ev.decision}[/]{' — ' + ev.feedback if ev.feedback else ''}")

    def _on_cost_updated(self, ev) -> None:
        self.tokens, self.cost = ev.total_tokens, ev.total_cost_usd

    def _on_budget_stop(self, ev) -> None:
        self._print(f"[yellow]budget reached: {ev.kind} {ev.used:g} of {ev.limit:g}[/]")

    def _on_file_written(self, ev) -> None:
        self.files_written.add(ev.path)
        if not self.console.is_terminal or self.verbose:
            self._print(f"  [green]wrote[/] {ev.path} [dim]({ev.bytes} bytes)[/]")

    def _on_file_failed(self, ev) -> None:
        self._print(f"  [red]failed[/] {ev.path}: {ev.reason}")

    def _on_finding(self, ev) -> None:
        self.findings += 1
        if self.verbose:
            where = f"{ev.file}:{ev.line}" if ev.line else ev.file
            self._print(f"  [yellow]{ev.stage}/{ev.kind}[/] {where} {ev.message}")

    def _on_sandbox_ran(self, ev) -> None:
        outcome = "timed out" if ev.timed_out else f"exit {ev.exit_code}"
        self._print(f"  sandbox [bold]{ev.backend}[/]: {ev.command} → {outcome} [dim]{ev.duration_s:.1f}s[/]")

    def _on_iteration_finished(self, ev) -> None:
        verdict = "[green]passed[/]" if ev.passed else f"[red]failed[/] ({ev.findings} findings)"
        self._print(f"  iteration {ev.iteration}: {verdict} {ev.summary}")

    def _on_run_finished(self, ev) -> None:
        self._stop_bars()
        self.final = ev

    # -- summary ----------------------------------------------------------------

    def summary_table(self, run_id: str) -> Table:
        table = Table(title=f"run {run_id}", show_header=True, header_style="bold")
        table.add_column("what")
        table.add_column("value", overflow="fold")
        status = self.final.status if self.final else "stopped"
        colour = {"passed": "green", "planned": "cyan"}.get(status, "red")
        table.add_row("status", f"[{colour}]{status}[/]")
        if self.final and self.final.message:
            table.add_row("result", self.final.message)
        for phase, secs in self.phase_times.items():
            table.add_row(f"time: {phase}", f"{secs:.1f}s")
        table.add_row("files written", str(len(self.files_written)))
        table.add_row("findings reported", str(self.findings))
        table.add_row("tokens", f"{self.tokens:,}")
        table.add_row("cost", f"${self.cost:.4f}")
        if self.final and self.final.report_path:
            table.add_row("report", self.final.report_path)
        return table

    def ending(self, status: str) -> list[str]:
        """The last lines of a run on the embedded model that did not pass (else none):
        what ran, that the model is tiny, how to configure a real one."""
        return self.facts.ending(status)

    def close(self) -> None:
        self._stop_bars()
