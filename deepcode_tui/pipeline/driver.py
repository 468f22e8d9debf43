"""Drive one run: wire the bus, the store and the observers, run the phases.

Used by the headless CLI (``run``, ``plan``, ``resume``) and by the TUI, so
both behave identically; only the observers and the gate differ.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from deepcode_tui.config.settings import Settings
from deepcode_tui.errors import BudgetExceeded, Cancelled, DeepcodeError
from deepcode_tui.events.bus import EventBus
from deepcode_tui.events.models import Event, RunCreated, RunFinished
from deepcode_tui.pipeline.context import RunContext
from deepcode_tui.pipeline.gate import ApprovalGate
from deepcode_tui.pipeline.phases import build_pipeline
from deepcode_tui.pipeline.roles import ensure_gateway
from deepcode_tui.store.run import RunStore


class RunOutcome:
    def __init__(self, status: str, message: str = "", error: DeepcodeError | None = None) -> None:
        self.status = status  # passed, failed, planned, stopped, budget, error
        self.message = message
        self.error = error

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return self.error.exit_code
        return {"passed": 0, "planned": 0, "failed": 1}.get(self.status, 1)


async def drive(
    store: RunStore,
    settings: Settings,
    gate: ApprovalGate,
    *,
    observers: list[Callable[[Event], Any]] = (),  # type: ignore[assignment]
    stop_after: str | None = None,
    services: dict[str, Any] | None = None,
    new_run: bool = False,
) -> RunOutcome:
    """Run (or resume) ``store``'s run to its end or to ``stop_after``."""
    bus = EventBus()
    bus.subscribe(store.append, critical=True)
    for observer in observers:
        bus.subscribe(observer)
    ctx = RunContext(store=store, bus=bus, settings=settings, gate=gate, services=dict(services or {}))
    if new_run:
        m = store.manifest
        await ctx.emit(RunCreated(run_id=m.run_id, input_path=m.input_path, input_format=m.input_format))
    pipeline = build_pipeline()
    try:
        # One gateway for the whole run (it carries the record/replay/budget flags);
        # creating it is cheap: litellm is imported on the first call.
        await ensure_gateway(ctx)
        await pipeline.run(ctx, stop_after=stop_after)
    except BudgetExceeded as exc:
        await ctx.emit(RunFinished(status="stopped", message=exc.one_line()))
        return RunOutcome("budget", exc.one_line(), exc)
    except (Cancelled, asyncio.CancelledError, KeyboardInterrupt) as exc:
        message = "stopped by the user; resume with: deepcode-tui resume " + store.run_id
        await asyncio.shield(ctx.emit(RunFinished(status="stopped", message=message)))
        err = exc if isinstance(exc, Cancelled) else Cancelled(message)
        return RunOutcome("stopped", message, err)
    except DeepcodeError as exc:
        await ctx.emit(RunFinished(status="failed", message=exc.one_line()))
        return RunOutcome("error", exc.one_line(), exc)
    except Exception as exc:
        # A bug, not a user error: record it so `runs` shows the run as failed, then
        # let the caller report it (with the traceback under --debug).
        await ctx.emit(RunFinished(status="failed", message=f"internal error: {type(exc).__name__}: {exc}"))
        raise
    finally:
        await _close_services(ctx)
    if stop_after is not None and stop_after != "report":
        await ctx.emit(RunFinished(status="planned", message=f"stopped after {stop_after} as asked"))
        return RunOutcome("planned", f"stopped after {stop_after}")
    verdict = ctx.services.get("verdict", {"passed": False, "message": "verification did not run"})
    status = "passed" if verdict.get("passed") else "failed"
    await ctx.emit(
        RunFinished(status=status, message=verdict.get("message", ""), report_path=str(store.path("report.md")))
    )
    return RunOutcome(status, verdict.get("message", ""))


async def _close_services(ctx: RunContext) -> None:
    for service in ctx.services.values():
        close = getattr(service, "aclose", None)
        if close is not None:
            try:
                await close()
            except Exception:  # closing is best effort; the run's outcome is already decided
                pass
