"""The human's decisions: stop, resume, pause, gate answers, amendments, patch steps.

A mixin of :class:`deepcode_tui.tui.app.DeepcodeApp`; every key, button and
palette command that changes the run ends in one of these methods.
"""

from __future__ import annotations

from typing import Any, Literal

from textual import work

from deepcode_tui.errors import DeepcodeError
from deepcode_tui.pipeline.gate import GateDecision
from deepcode_tui.tui import adapters, proposals
from deepcode_tui.tui.session import RunSession


class DecisionsMixin:
    """Answers the pipeline on the human's behalf (see steering.py and stepper.py)."""

    state: Any
    session: RunSession | None
    settings: Any
    stepper_enabled: bool

    # -- the human's decisions ----------------------------------------------------

    def stop_run(self) -> None:
        """Stop the run (the driver records it as stopped; resume continues it)."""
        if self.session is not None and self.session.worker is not None and self.session.running:
            self.session.worker.cancel()

    def resume_current(self) -> None:
        from deepcode_tui.store.run import RunStore

        if not self.can_resume_current or self.session is None:
            self.notify("Nothing to resume.", severity="warning")
            return
        try:
            store = RunStore.open(self.settings.runs_dir, self.session.run_id)
        except DeepcodeError as exc:
            self.notify(exc.one_line(), severity="error")
            return
        self.session.store = store
        self._start_worker(new_run=False)

    def toggle_pause(self) -> None:
        s = self.session
        if s is None or not s.running:
            return
        if "manual" in s.pause_reasons:
            s.unpause("manual")
            if self.main is not None:
                self.main.header.paused = False
            self.notify("The coder continues.")
        else:
            s.pause("manual")
            self.notify("The coder will pause at the next file boundary.")

    def answer_gate(
        self, decision: Literal["approve", "edit", "reject"], text: str | None, feedback: str,
        answers: dict[str, str] | None = None,
    ) -> bool:
        if self.session is None or self.state.gate is None:
            self.notify("Nothing is waiting for approval.", severity="warning")
            return False
        answer = GateDecision(decision=decision, edited_text=text, feedback=feedback, answers=answers or {})
        if not self.session.gate.resolve(answer):
            self.notify("Nothing is waiting for approval.", severity="warning")
            return False
        # Not every gate is followed by a GateResolved event: the UI stops waiting now.
        self.state.gate, self.state.status = None, "running"
        self.turn_over()
        if self.main is not None:
            self.main.blueprint.refresh_gate()
            self.main.header.refresh()
            self.main.update_bindings()
        return True

    def blueprint_editing(self, editing: bool) -> None:
        s = self.session
        if s is None or not s.running or self.state.phase != "codegen":
            return
        if editing:
            s.pause("edit")
            self.notify("The coder will pause at the next file while you edit the blueprint.")
        else:
            s.unpause("edit")

    def submit_amendment(self, text: str, based_on: str) -> bool:
        """Validate, save and approve the edited blueprint (off the UI loop), then hand it to the coder."""
        s = self.session
        if s is None or not s.running:
            self.notify("No run is generating code; nothing to amend.", severity="warning")
            return False
        written = [p for p, f in self.state.files.items() if f.status in ("done", "edited")]
        self._approve_amendment(s, text, written)
        return True

    @work(thread=True, exclusive=True, group="amendment")
    def _approve_amendment(self, session: RunSession, text: str, written: list[str]) -> None:
        try:
            amendment = adapters.approve_amendment(session.run_dir, text, written)
        except DeepcodeError as exc:
            self.call_from_thread(
                self.notify, exc.one_line(), title="Amendment refused", severity="error", timeout=15
            )
            return
        self.call_from_thread(self._amendment_approved, session, text, amendment)

    def _amendment_approved(self, session: RunSession, text: str, amendment: Any) -> None:
        session.steering.submit(amendment)
        session.unpause("edit")
        self.state.plan_files(adapters.planned_files(text))
        if self.main is not None:
            self.main.blueprint.load(session.run_dir)
            self.main.generation.rebuild_list()
        self.notify(amendment.render(), title=f"Amendment {amendment.version} approved", timeout=10)

    def answer_patch(self, decision: Literal["apply", "skip", "edit"]) -> bool:
        s = self.session
        pending = s.stepper.pending if s is not None else None
        if s is None or pending is None:
            self.notify("No patch is waiting.", severity="warning")
            return False
        if decision != "edit":
            if self.main is not None:
                self.main.sandbox.set_pending(None)
            self.turn_over()
            return s.stepper.decide(decision)
        if self.main is not None:

            def check(text: str) -> str | None:
                try:
                    proposals.from_text(text, pending.proposal)
                except ValueError as exc:
                    return str(exc)
                return None

            def done(edited: str | None) -> None:
                if edited is not None and s.stepper.pending is pending:
                    s.stepper.decide("edit", edited)
                    if self.main is not None:
                        self.main.sandbox.set_pending(None)

            self.main.edit_patch(pending.iteration, proposals.to_text(pending.proposal), check, done)
        return True

    def set_stepping(self, enabled: bool) -> None:
        self.stepper_enabled = enabled
        if self.session is not None:
            self.session.stepper.enabled = enabled
