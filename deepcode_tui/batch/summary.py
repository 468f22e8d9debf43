"""The batch summary: one row per run, and the mean score when graded."""

from __future__ import annotations

from rich.table import Table

from deepcode_tui.batch.models import BatchManifest

_COLOUR = {"passed": "green", "planned": "cyan", "running": "yellow", "queued": "dim", "stopped": "yellow",
           "budget": "yellow"}


def summary_table(m: BatchManifest) -> Table:
    table = Table(title=f"batch {m.batch_id}", show_header=True, header_style="bold")
    for col in ("document", "run", "status", "phase", "cost", "time", "tries"):
        table.add_column(col, overflow="fold")
    graded = bool(m.rubric_dir)
    if graded:
        table.add_column("score")
    for e in m.entries:
        colour = _COLOUR.get(e.status, "red")
        row = [e.stem, e.run_id or "-", f"[{colour}]{e.status}[/]", e.phase or "-", f"${e.cost_usd:.4f}",
               f"{e.seconds:.1f}s", str(e.attempts)]
        if graded:
            row.append(f"{e.score:.3f}" if e.score is not None else (e.grade_note[:40] or "-"))
        table.add_row(*row)
    return table


def summary_lines(m: BatchManifest) -> list[str]:
    lines = []
    for e in m.entries:
        if e.status not in ("passed", "planned") and e.message:
            lines.append(f"{e.stem}: {e.message}")
    if m.rubric_dir:
        if m.mean_score is None:
            notes = {e.grade_note for e in m.entries if e.grade_note}
            lines.append("mean score: none (" + ("; ".join(sorted(notes)) or "no run was graded") + ")")
        else:
            se = f" ± {m.score_stderr:.3f} (standard error)" if m.score_stderr is not None else ""
            n = sum(1 for e in m.entries if e.score is not None)
            lines.append(f"mean score: {m.mean_score:.3f}{se} over {n} run(s)")
    total = sum(e.cost_usd for e in m.entries)
    lines.append(f"batch {m.batch_id}: {m.status}, {len(m.entries)} document(s), ${total:.4f}, {m.wall_seconds:.1f}s wall")
    return lines
