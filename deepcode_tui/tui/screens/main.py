"""The run screen: header, the four panes as tabs, footer; keys and their availability."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.app import ComposeResult
from textual.content import Content
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import Static, TabbedContent, TabPane, Tabs

from deepcode_tui.tui.frame_timer import PacedScreen
from deepcode_tui.tui.keys import MAIN_BINDINGS
from deepcode_tui.tui.screens.dialogs import FeedbackDialog, PatchEditDialog
from deepcode_tui.tui.widgets.blueprint import BlueprintPane
from deepcode_tui.tui.widgets.generation import GenerationPane
from deepcode_tui.tui.widgets.header import RunHeader
from deepcode_tui.tui.widgets.key_bar import KeyBar
from deepcode_tui.tui.widgets.paper import PaperPane
from deepcode_tui.tui.widgets.sandbox import SandboxPane

if TYPE_CHECKING:
    from deepcode_tui.tui.app import DeepcodeApp

PANES = ("paper", "blueprint", "generation", "sandbox")
WIDE_COLUMNS = 140


class MainScreen(PacedScreen):
    """Shows one run; actions are routed to the app, which owns the run."""

    BINDINGS = MAIN_BINDINGS

    app: DeepcodeApp  # type: ignore[assignment]

    def compose(self) -> ComposeResult:
        app = self.app
        yield RunHeader(app.state, app.clock, id="header")
        yield Static("", id="run-result", markup=False)
        with TabbedContent(initial="paper", id="panes"):
            with TabPane("1 Paper", id="paper"):
                yield PaperPane(app.state, id="paper-pane")
            # The hidden panes are mounted by mount_hidden_panes, one per frame.
            for pane_id, title in (("blueprint", "2 Blueprint"), ("generation", "3 Generation"),
                                   ("sandbox", "4 Sandbox")):  # fmt: skip
                with TabPane(title, id=pane_id):
                    pass
        yield KeyBar()

    _panes_ready = False  # set once mount_hidden_panes has mounted all four

    def _hidden_panes(self) -> list[tuple[str, Callable[[], Widget]]]:
        app = self.app
        settings = app.settings
        return [
            ("blueprint", lambda: BlueprintPane(app.state, id="blueprint-pane")),
            ("generation", lambda: GenerationPane(
                app.state, budget_tokens=settings.codegen.context_budget_tokens, id="generation-pane")),
            ("sandbox", lambda: SandboxPane(
                app.state, log_lines=settings.ui.log_lines, step=settings.verify.step, id="sandbox-pane")),
        ]  # fmt: skip

    async def mount_hidden_panes(self) -> None:
        """Mount the three hidden panes, each after a frame has been drawn.

        Mounting all four panes (~110 widgets) before the screen's first frame froze the
        app for 250-300 ms when a document opened; one pane per frame keeps every gap to
        one pane's share. The app awaits this before anything reaches the panes (the run's
        worker starts after it), so no event or query ever finds a pane missing."""
        for pane_id, make in self._hidden_panes():
            await self._next_frame()
            if not self.is_attached:
                return
            tab = self.query_one(f"#{pane_id}", TabPane)
            if not tab.children:
                await tab.mount(make())
        self._panes_ready = True
        self.update_bindings()

    async def _next_frame(self, timeout: float = 0.25) -> None:
        # After the next refresh; bounded, so a screen that is not being drawn (suspended
        # under a dialog, say) still gets its panes.
        done = asyncio.get_running_loop().create_future()
        self.call_after_refresh(lambda: done.done() or done.set_result(None))
        try:
            await asyncio.wait_for(done, timeout)
        except TimeoutError:
            pass

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width >= WIDE_COLUMNS, "-wide")

    _resumed = False

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Screen's own handler (most-derived first), which restyles every node
        # when ``refresh_styles`` is set. On the first resume this screen was styled node by
        # node as it mounted a moment ago, so that pass repeats all of it (~110 widgets,
        # about a third of the frame in which a document opens). Later resumes (after a
        # dialog, the help screen, a theme change) still restyle.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    # -- panes --------------------------------------------------------------------

    @property
    def header(self) -> RunHeader:
        return self.query_one(RunHeader)

    @property
    def paper(self) -> PaperPane:
        return self.query_one(PaperPane)

    @property
    def blueprint(self) -> BlueprintPane:
        return self.query_one(BlueprintPane)

    @property
    def generation(self) -> GenerationPane:
        return self.query_one(GenerationPane)

    @property
    def sandbox(self) -> SandboxPane:
        return self.query_one(SandboxPane)

    @property
    def active_pane(self) -> str:
        return self.query_one("#panes", TabbedContent).active

    def show(self, pane: str) -> None:
        """Bring ``pane`` to the front; focus moves into it unless it is there already."""
        if pane not in PANES:
            return
        self.query_one("#panes", TabbedContent).active = pane
        self._focus_into(pane)
        self.update_bindings()

    def _focus_into(self, pane: str) -> None:
        target = self.query_one(f"#{pane}", TabPane)
        focused = self.focused
        on_pane_tabs = focused is not None and focused.parent is self.query_one("#panes", TabbedContent)
        if not on_pane_tabs and (focused is None or target not in focused.ancestors):
            # Keys like y / n / a must reach the screen, not an editor hidden in another pane.
            default = {"paper": "#paper-tree", "blueprint": "#bp-tabs Tabs", "generation": "#gen-files",
                       "sandbox": "#sb-tabs Tabs"}[pane]  # fmt: skip
            try:
                widget = self.query_one(default)  # query_one: cached, and this is every pane key
            except NoMatches:  # the pane is still being mounted (just after opening): the tabs hold focus
                widget = self.query_one("#panes", TabbedContent).query_children(Tabs).first()
            widget.focus()

    def load_run(self, run_dir: Any, repo_dir: Any) -> None:
        """Point every pane at a run directory and read its artifacts."""
        self.paper.load(run_dir)
        self.blueprint.load(run_dir)
        self.generation.load(run_dir, repo_dir)
        self.sandbox.load(run_dir)
        self.header.refresh()
        self.refresh_result()

    def refresh_result(self) -> None:
        """Once the run has ended: where its repository and report are, and the key that copies them."""
        box = self.query_one("#run-result", Static)
        paths = self.app.result_paths()
        ended = self.app.state.status in ("passed", "failed", "stopped", "planned")
        box.display = ended and paths is not None
        if not box.display or paths is None:
            return
        repo, report = paths
        parts: list[Content | str] = [
            Content.styled("repository ", "$text-muted"), Content.styled(self._short(repo), "bold"),
        ]
        if report is not None:
            parts += [Content.styled("  report ", "$text-muted"), Content.styled(self._short(report), "bold")]
        parts.insert(0, Content.styled("c copies · ", "$text-muted"))
        box.update(Content.assemble(*parts))

    def _short(self, path: Any) -> str:
        """``path`` relative to the working directory when under it, else with ~ for home
        (the copy key copies it whole)."""
        from pathlib import Path

        path = Path(path)
        for base, prefix in ((Path(self.app.cwd or Path.cwd()), ""), (Path.home(), "~/")):
            try:
                return prefix + str(path.relative_to(base))
            except ValueError:
                continue
        return str(path)

    def route(self, ev: Any) -> None:
        """Hand one event (already folded into the state) to the panes that show it."""
        t = ev.type
        if t not in ("token_streamed", "sandbox_output"):
            self.header.refresh()
        if t in ("document_indexed", "section_read"):
            self.paper.on_run_event(ev)
        if t in (
            "blueprint_saved",
            "gate_opened",
            "gate_resolved",
            "phase_started",
            "phase_completed",
            "run_finished",
        ):
            self.blueprint.on_run_event(ev)
        if t in (
            "file_started", "file_written", "file_failed", "human_edit", "memory_entry_added",
            "retrieval_decision", "run_finished", "blueprint_saved", "phase_completed",
        ):  # fmt: skip
            self.generation.on_run_event(ev)
        if t in (
            "sandbox_output", "sandbox_ran", "log", "iteration_started", "patch_decision", "finding",
            "patch_proposed", "iteration_finished", "run_finished",
        ):  # fmt: skip
            self.sandbox.on_run_event(ev)
        if t in ("gate_opened", "gate_resolved", "run_finished", "phase_started", "patch_decision"):
            self.update_bindings()
        if t in ("run_finished", "run_resumed", "phase_started"):
            self.refresh_result()

    @on(TabbedContent.TabActivated, "#panes")
    def _tab_changed(self, event: TabbedContent.TabActivated) -> None:
        event.stop()
        if self.active_pane in PANES:
            self.call_after_refresh(self._focus_into, self.active_pane)
        self.update_bindings()

    # -- which keys apply now -----------------------------------------------------

    _ACTIONS = ("stop_run", "toggle_pause", "resume_run", "edit_blueprint", "approve", "approve_edits",
                "reject", "amend", "iteration", "toggle_step", "patch", "edit_patch", "copy_path")  # fmt: skip

    def update_bindings(self) -> None:
        """Refresh the footer only when the set of usable keys changed (it rebuilds itself each time)."""
        signature = tuple(self.available(a, pane_scoped=True) for a in self._ACTIONS)
        if signature != getattr(self, "_bindings_signature", None):
            self._bindings_signature = signature
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.available(action, pane_scoped=True)

    def available(self, action: str, *, pane_scoped: bool) -> bool:
        """Whether ``action`` applies now; keys are scoped to their pane, palette commands are not."""
        app = self.app
        state = app.state
        if action in self._ACTIONS and not self._panes_ready:
            # Between the first frame and the last hidden pane's mount (no run has started
            # yet): the keys and commands that act on a pane wait for it.
            return False

        def on(pane: str) -> bool:
            return not pane_scoped or self.active_pane == pane

        if action == "stop_run":
            return app.is_running_run
        if action == "toggle_pause":
            return app.is_running_run and state.phase == "codegen"
        if action == "resume_run":
            return app.can_resume_current
        if action == "edit_blueprint":
            return on("blueprint") and not self.blueprint.editor.editing
        if action == "copy_path":
            return not state.is_live and app.result_paths() is not None
        if action in ("approve", "approve_edits", "reject"):
            return on("blueprint") and state.gate is not None
        if action == "amend":
            return on("blueprint") and app.is_running_run and state.phase == "codegen"
        if action in ("iteration", "toggle_step"):
            return on("sandbox")
        if action in ("patch", "edit_patch"):
            return on("sandbox") and self.sandbox.pending_iteration is not None
        return True

    # -- actions (bound keys, buttons and palette commands end here) --------------

    def action_show_pane(self, pane: str) -> None:
        self.show(pane)

    def action_stop_run(self) -> None:
        self.app.stop_run()

    def action_toggle_pause(self) -> None:
        self.app.toggle_pause()

    def action_resume_run(self) -> None:
        self.app.resume_current()

    def action_edit_blueprint(self) -> None:
        self.show("blueprint")
        self.blueprint.edit()

    def action_show_questions(self) -> None:
        self.show("blueprint")
        self.blueprint.show_questions()

    def action_accept_question_proposals(self) -> None:
        self.show("blueprint")
        self.blueprint.show_questions()
        self.blueprint.questions.accept_all()

    def action_copy_path(self, which: str = "repo") -> None:
        self.app.copy_path(which)

    def action_approve(self) -> None:
        self.show("blueprint")
        self.blueprint.approve()

    def action_approve_edits(self) -> None:
        self.show("blueprint")
        self.blueprint.approve_edits()

    def action_reject(self) -> None:
        self.show("blueprint")

        def send(feedback: str | None) -> None:
            if feedback:
                self.blueprint.reject(feedback)

        self.app.push_screen(FeedbackDialog(), send)

    def action_amend(self) -> None:
        self.show("blueprint")
        self.blueprint.amend()

    def action_iteration(self, delta: int) -> None:
        self.show("sandbox")
        self.sandbox.step(int(delta))

    def action_patch(self, decision: str) -> None:
        self.app.answer_patch(decision)  # type: ignore[arg-type]

    def action_edit_patch(self) -> None:
        self.app.answer_patch("edit")

    def action_toggle_step(self) -> None:
        self.show("sandbox")
        self.sandbox.set_step(not self.app.stepper_enabled)

    # -- messages from the panes --------------------------------------------------

    @on(BlueprintPane.GateAnswer)
    def _gate_answer(self, message: BlueprintPane.GateAnswer) -> None:
        self.app.answer_gate(message.decision, message.text, message.feedback, answers=message.answers)

    @on(BlueprintPane.EditingChanged)
    def _editing(self, message: BlueprintPane.EditingChanged) -> None:
        self.app.blueprint_editing(message.editing)

    @on(BlueprintPane.AmendmentApproved)
    def _amendment(self, message: BlueprintPane.AmendmentApproved) -> None:
        self.app.submit_amendment(message.text, message.based_on)

    @on(SandboxPane.PatchAnswer)
    def _patch_answer(self, message: SandboxPane.PatchAnswer) -> None:
        self.app.answer_patch(message.decision)

    @on(SandboxPane.StepToggled)
    def _step_toggled(self, message: SandboxPane.StepToggled) -> None:
        self.app.set_stepping(message.enabled)

    def edit_patch(self, iteration: int, text: str, check: Any, done: Any) -> None:
        self.app.push_screen(PatchEditDialog(iteration, text, check), done)
