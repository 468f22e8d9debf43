"""How a run reaches the screen: the worker that drives it and the messages it sends.

A mixin of :class:`deepcode_tui.tui.app.DeepcodeApp`. Handlers are named
``on_<message>`` (not ``@on``) because Textual collects decorated handlers
only from message-pump classes, and this mixin is a plain class.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work

from deepcode_tui.errors import DeepcodeError
from deepcode_tui.events.models import Event
from deepcode_tui.tui.messages import (
    CoderPaused,
    EventArrived,
    GateWaiting,
    PatchAwaiting,
    RunEnded,
    TokensArrived,
)
from deepcode_tui.tui.session import RunSession
from deepcode_tui.tui.state import GateState

if TYPE_CHECKING:
    from deepcode_tui.tui.screens.main import MainScreen


TURN_TOAST_S = 6


def gate_notice(gate: str, prompt: str) -> str:
    """What a gate asks, phrased for the app (the pipeline's prompt speaks to a terminal user
    and names files to edit; here the editor is the Blueprint pane)."""
    if gate in ("blueprint", "approval"):
        version = re.search(r"\bblueprint (v\d+)", prompt)
        which = f"Blueprint {version.group(1)}" if version else "The blueprint"
        return f"{which} waits for you on the Blueprint pane: a approves, i edits, r rejects."
    if gate == "amendment":
        return "The repairer proposes a blueprint amendment (Blueprint pane): a approves, r rejects."
    first = next((line for line in prompt.splitlines() if line.strip()), "")
    return first or f"The {gate} waits for your decision."


class RunEventsMixin:
    """Starts the run worker and turns its events into screen updates and notifications."""

    state: Any
    session: RunSession | None
    settings: Any
    main: MainScreen | None
    _run_driver: Any
    _token_batch: list[Event] | None

    # -- driving ------------------------------------------------------------------

    def _start_worker(self, *, new_run: bool) -> None:
        assert self.session is not None and self.session.store is not None
        self.session.worker = self._drive(self.session, new_run)

    @work(exclusive=True, group="run", exit_on_error=False)
    async def _drive(self, session: RunSession, new_run: bool) -> None:
        driver = self._run_driver
        if driver is None:
            # The imports a run starts with (the pipeline's phases, the gateway and its CLI
            # pieces: ~0.2 s, more while the start-up preload thread holds their import locks)
            # are done in a thread: on the loop they froze the screen for a frame or two.
            driver = await asyncio.to_thread(load_run_modules)
        status, message = "error", ""
        try:
            outcome = await driver(
                session.store,
                session.settings or self.settings,
                session.gate,
                observers=[self._observe],
                stop_after=None,
                services=session.services(),
                new_run=new_run,
            )
            status, message = outcome.status, outcome.message
        except DeepcodeError as exc:
            message = exc.one_line()
        except Exception as exc:  # noqa: BLE001 - an internal error ends the run, never the app
            message = f"internal error: {type(exc).__name__}: {exc}"
        finally:
            session.close_store()
        self.post_message(RunEnded(status, message))

    def _observe(self, ev: Event) -> None:
        """Bus observer: events cross into the UI through its message queue, in order.

        Consecutive tokens share one TokensArrived message (its list keeps growing
        until the message is handled or another event arrives), so order is kept.
        """
        if ev.type == "token_streamed":
            if self._token_batch is None:
                self._token_batch = [ev]
                self.post_message(TokensArrived(self._token_batch))
            else:
                self._token_batch.append(ev)
            return
        self._token_batch = None
        self.post_message(EventArrived(ev))

    def on_tokens_arrived(self, message: TokensArrived) -> None:
        if self._token_batch is message.batch:
            self._token_batch = None  # later tokens start a new message
        for ev in message.batch:
            self.state.apply(ev)

    def on_event_arrived(self, message: EventArrived) -> None:
        ev = message.event
        self.state.apply(ev)
        main = self.main
        if ev.type in ("blueprint_saved", "gate_resolved") and self.session is not None:
            self._refresh_plan_off_loop(self.session.run_dir)
        if main is not None:
            if ev.type == "file_started":
                main.header.paused = False
            main.route(ev)
        self._notify_for(ev, main)

    def _notify_for(self, ev: Event, main: MainScreen | None) -> None:
        t = ev.type
        if t == "gate_opened":
            self.bell()
            self._your_turn(gate_notice(ev.gate, ev.prompt))
            if main is not None and ev.gate in ("blueprint", "approval"):
                main.show("blueprint")
        elif t in ("gate_resolved", "patch_decision", "run_finished"):
            self.turn_over()
        elif t == "phase_failed":
            self.notify(
                f"{ev.phase}: {ev.error}" + (f"\nfix: {ev.fix}" if ev.fix else ""),
                severity="error",
                timeout=15,
            )
        elif t == "budget_stop":
            self.notify(
                f"budget reached: {ev.kind} {ev.used:g} of {ev.limit:g}", severity="warning", timeout=15
            )
        elif t == "log" and ev.level in ("warning", "error"):
            self.notify(ev.message, severity="warning" if ev.level == "warning" else "error")

    def on_run_ended(self, message: RunEnded) -> None:
        if self.state.status in ("idle", "running", "waiting"):
            # The driver ended without recording an outcome (an internal error).
            self.state.status, self.state.failure, self.state.gate = "failed", message.message, None
        main = self.main
        if main is not None:
            main.update_bindings()
            main.header.paused = False
            main.header.refresh()
        severity = {"passed": "information", "planned": "information", "stopped": "warning"}.get(
            message.status, "error"
        )
        text = message.message or message.status
        if message.status == "stopped":
            text = "Run stopped; everything up to the last checkpoint is kept. ctrl+r resumes."
        self.turn_over()
        if main is not None:
            main.refresh_result()
        self.notify(text, title=f"Run {message.status}", severity=severity, timeout=8, markup=False)  # type: ignore[arg-type]

    def on_gate_waiting(self, message: GateWaiting) -> None:
        """A gate asked without a GateOpened event (e.g. verify's amendment gate) still reaches the human."""
        known = self.state.gate is not None and self.state.gate.gate == message.gate
        self.state.gate, self.state.status = (
            GateState(message.gate, message.prompt, message.artifact),
            "waiting",
        )
        main = self.main
        if main is not None:
            if message.gate == "amendment" and message.artifact:
                main.blueprint.show_artifact(Path(message.artifact), "proposed amendment")
            main.blueprint.refresh_gate()
            main.header.refresh()
            main.update_bindings()
        if not known:
            self.bell()
            self._your_turn(gate_notice(message.gate, message.prompt))
            if main is not None:
                main.show("blueprint")

    def on_coder_paused(self, message: CoderPaused) -> None:
        if self.main is not None:
            self.main.header.paused = True
            self.main.header.refresh()
        where = f" before {message.next_path}" if message.next_path else ""
        self.notify(f"The coder is paused{where}.", title="Paused")

    def on_patch_awaiting(self, message: PatchAwaiting) -> None:
        self.bell()
        if self.main is not None:
            self.main.sandbox.set_pending(message.pending.iteration, message.pending.diff)
            self.main.show("sandbox")
            self.main.update_bindings()
        self._your_turn(f"The patch of iteration {message.pending.iteration} waits: apply (y), skip (n) or edit (x).")

    # -- "your turn" notices ------------------------------------------------------

    def _your_turn(self, text: str) -> None:
        """A short notice (the pane's own status line keeps saying it): at 80x24 a toast covers
        the pane's buttons, so it goes once the human answers, or after TURN_TOAST_S."""
        self.turn_over()
        self.notify(text, title="Your turn", timeout=TURN_TOAST_S, markup=False)

    def turn_over(self) -> None:
        """Remove the "Your turn" notices: what they asked for was answered (or the run ended)."""
        for notification in list(self._notifications):
            if notification.title == "Your turn":
                self._unnotify(notification)


def load_run_modules():
    """Import what starting a run imports (blocking: call it in a thread, never on the UI
    loop); returns the real driver's entry point. The app's start-up preload calls it too."""
    from deepcode_tui.llm import cli  # noqa: F401 - ensure_gateway imports it on the run's first step
    from deepcode_tui.pipeline.driver import drive
    from deepcode_tui.pipeline.phases import build_pipeline

    build_pipeline()  # its phase modules import lazily inside it
    return drive
