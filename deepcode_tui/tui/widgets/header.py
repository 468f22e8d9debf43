"""The run header: run, phase, status, models per role, tokens, cost, elapsed time."""

from __future__ import annotations

from pathlib import Path

from textual.content import Content
from textual.widget import Widget

from deepcode_tui.tui.clock import Clock, format_elapsed
from deepcode_tui.tui.state import RunState

_STATUS = {
    "idle": ("○ idle", "$text-muted"),
    "running": ("● running", "$success"),
    "waiting": ("◆ waiting for you", "bold $warning"),
    "stopped": ("■ stopped", "$warning"),
    "passed": ("✓ passed", "bold $success"),
    "failed": ("✗ failed", "bold $error"),
    "planned": ("✓ planned", "$primary"),
}


def models_summary(models: dict[str, str]) -> str:
    """``coder: gpt-4o · planner: claude`` or ``smollm2 (all roles)`` when they agree."""
    if not models:
        return "models: (none yet)"
    short = {role: model.rsplit("/", 1)[-1] for role, model in models.items()}
    distinct = set(short.values())
    if len(distinct) == 1:
        return f"models: {distinct.pop()} (all roles)"
    return " · ".join(f"{role}: {model}" for role, model in short.items())


class RunHeader(Widget):
    """Two lines docked at the top; refreshed by the app when the state changes."""

    def __init__(self, state: RunState, clock: Clock, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state
        self.clock = clock
        self.paused = False  # the coder holds at a file boundary

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        if self.state.is_live:
            self.refresh()

    def _line(self, left: Content, right: Content) -> Content:
        width = max(1, self.size.width - 2)
        room = width - right.cell_length - 1
        left = left.truncate(max(0, room), ellipsis=True)
        gap = max(1, width - left.cell_length - right.cell_length)
        return Content.assemble(" ", left, " " * gap, right)

    def render(self) -> Content:
        s = self.state
        name = Path(s.input_path).name if s.input_path else ""
        status, style = _STATUS.get(s.status, (s.status, ""))
        if self.paused and s.status == "running":
            status, style = "‖ paused at file boundary", "bold $warning"
        left1 = Content.assemble(
            ("deepcode", "bold $primary"),
            (f"  run {s.run_id or '—'}", ""),
            (f"  {name}" if name else "", "$text-muted"),
        )
        right1 = Content.assemble(
            (f"{s.phase_position()}  " if s.phase else "", "$accent"),
            (status, style),
            (f"  {format_elapsed(s.elapsed_s(self.clock.now()))}", ""),
        )
        left2 = Content.styled(models_summary(s.models), "$text-muted")
        right2 = Content.styled(f"{s.tokens:,} tok  ${s.cost_usd:.4f}", "")
        return Content("\n").join([self._line(left1, right1), self._line(left2, right2)])
