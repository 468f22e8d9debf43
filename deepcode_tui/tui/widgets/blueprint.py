"""Pane 2, the blueprint: YAML editor with live validation, coverage, history and the gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, Label, OptionList, Static, TabbedContent, TabPane, TextArea
from textual.widgets.option_list import Option

from deepcode_tui.errors import DeepcodeError
from deepcode_tui.tui import adapters
from deepcode_tui.tui.state import RunState
from deepcode_tui.tui.widgets.diff_view import DiffView
from deepcode_tui.tui.widgets.questions import QuestionsView
from deepcode_tui.tui.widgets.yaml_editor import YamlEditor

VALIDATE_DELAY_S = 0.25


class BlueprintPane(Vertical):
    """Edits the newest blueprint version; posts the human's answers as messages."""

    class GateAnswer(Message):
        """Approve (``text`` None), approve with edits (``text``), or reject (``feedback``)."""

        def __init__(
            self, decision: Literal["approve", "edit", "reject"], text: str | None, feedback: str = "",
            answers: dict[str, str] | None = None,
        ) -> None:
            super().__init__()
            self.decision = decision
            self.text = text
            self.feedback = feedback
            self.answers = dict(answers or {})  # open question id -> answer ("" accepts the proposal)

    class EditingChanged(Message):
        """The editor's text started (``editing``) or stopped differing from the saved version."""

        def __init__(self, editing: bool) -> None:
            super().__init__()
            self.editing = editing

    class AmendmentApproved(Message):
        def __init__(self, text: str, based_on: str) -> None:
            super().__init__()
            self.text = text
            self.based_on = based_on

    def __init__(self, state: RunState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state
        self.run_dir: Path | None = None
        self.base_version = ""
        self.base_text = ""
        self.problems: list[adapters.YamlProblem] = []  # errors: they block approval
        self.warnings: list[adapters.YamlProblem] = []
        self.versions: list[adapters.BlueprintVersion] = []
        self._editing = False
        self._validate_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with TabbedContent(id="bp-tabs"):
            with TabPane("Editor", id="bp-editor-tab"):
                yield YamlEditor(id="bp-editor")
                yield Static("", id="bp-problems", markup=False)
                with Horizontal(id="bp-gate"):
                    yield Label("No blueprint yet.", id="bp-status")
                    yield Button("Approve", id="bp-approve", variant="success", compact=True)
                    yield Button("Approve edits", id="bp-approve-edits", variant="primary", compact=True)
                    yield Button("Reject…", id="bp-reject", variant="error", compact=True)
                    yield Button("Amend", id="bp-amend", variant="warning", compact=True)
                    yield Button("Revert", id="bp-revert", compact=True)
            with TabPane("Questions", id="bp-questions-tab"):
                yield QuestionsView(id="bp-questions")
            with TabPane("Coverage", id="bp-coverage-tab"):
                yield Static("No coverage report yet.", id="bp-coverage", markup=False)
            with TabPane("History", id="bp-history-tab"), Horizontal():
                yield OptionList(id="bp-versions")
                yield DiffView("Select a version to see what changed.", id="bp-diff")

    def on_mount(self) -> None:
        editor = self.query_one(YamlEditor)
        editor.placeholder = "The blueprint appears here once the planner has written it."
        editor.cursor_blink = getattr(self.app, "blink", True)
        self.refresh_gate()

    # -- loading ------------------------------------------------------------------

    @property
    def editor(self) -> YamlEditor:
        return self.query_one("#bp-editor", YamlEditor)

    @property
    def questions(self) -> QuestionsView:
        return self.query_one("#bp-questions", QuestionsView)

    def show_questions(self) -> None:
        self.query_one("#bp-tabs", TabbedContent).active = "bp-questions-tab"
        self.questions.query_one("#q-table").focus()

    @work(thread=True, exclusive=True, group="bp-questions")
    def _load_questions(self, text: str) -> None:
        """Parse the saved version's open questions off the UI loop."""
        questions = adapters.open_questions(text)
        self.app.call_from_thread(self.questions.set_questions, questions)

    @property
    def dirty(self) -> bool:
        return self.editor.text != self.base_text

    def load(self, run_dir: Path) -> None:
        """Show the newest saved version (keeping unsaved edits) and refresh coverage and history."""
        self.run_dir = run_dir
        self.versions = adapters.list_blueprint_versions(run_dir)
        self._fill_versions()
        self.query_one("#bp-coverage", Static).update(
            adapters.coverage_text(run_dir) or "No coverage report yet (written with each blueprint version)."
        )
        if not self.versions:
            self.refresh_gate()
            return
        newest = self.versions[-1]
        if newest.name == self.base_version and not self.dirty:
            self.refresh_gate()
            return
        try:
            text = adapters.read_text(newest.path)
        except DeepcodeError as exc:
            self.app.notify(exc.one_line(), severity="error")
            return
        if text == self.editor.text:
            self.base_version, self.base_text = newest.name, text
        elif self.dirty and self.base_text:
            self.app.notify(
                f"blueprint {newest.name} was saved; your unsaved edits are kept (Revert to see it)",
                severity="warning",
            )
            self.base_version, self.base_text = newest.name, text
        else:
            self.base_version, self.base_text = newest.name, text
            self.editor.load_text(text)
        self._load_questions(text)
        self.refresh_gate()

    def show_artifact(self, path: Path, label: str) -> None:
        """Show a file the pipeline asks about (e.g. the repairer's proposed amendment) in the editor."""
        try:
            text = adapters.read_text(path)
        except DeepcodeError as exc:
            self.app.notify(exc.one_line(), severity="error")
            return
        self.base_version, self.base_text = label, text
        self.editor.load_text(text)
        self.refresh_gate()

    def _fill_versions(self) -> None:
        versions = self.query_one("#bp-versions", OptionList)
        versions.clear_options()
        versions.add_options(Option(v.label or v.name, id=v.name) for v in self.versions)
        if self.versions:
            versions.highlighted = len(self.versions) - 1

    @on(OptionList.OptionHighlighted, "#bp-versions")
    def _show_version_diff(self, event: OptionList.OptionHighlighted) -> None:
        index = event.option_index
        if not (0 <= index < len(self.versions)):
            return
        new = self.versions[index]
        diff_view = self.query_one("#bp-diff", DiffView)
        if index == 0:
            text = adapters.read_text(new.path)
            diff_view.show("".join(f"+{line}\n" for line in text.splitlines()), "empty version")
            return
        old = self.versions[index - 1]
        diff_view.show(adapters.diff_versions(old, new), f"{new.name} is identical to {old.name}")

    # -- validation ---------------------------------------------------------------

    @on(TextArea.Changed, "#bp-editor")
    def _edited(self, _event: TextArea.Changed) -> None:
        if self._validate_timer is not None:
            self._validate_timer.stop()
        self._validate_timer = self.set_timer(VALIDATE_DELAY_S, self.validate_now)
        editing = self.dirty and bool(self.base_text)
        if editing != self._editing:
            self._editing = editing
            self.post_message(self.EditingChanged(editing))
        self.refresh_gate()

    # -- entering and leaving the editor ------------------------------------------

    def edit(self) -> None:
        """Enter the editor (its tab comes to the front); Esc leaves it."""
        self.query_one("#bp-tabs", TabbedContent).active = "bp-editor-tab"
        self.editor.focus()
        self.refresh_gate()

    def on_descendant_focus(self, _event: events.DescendantFocus) -> None:
        # The status line says how to enter or leave the editor; after the editor's own handler.
        self.call_after_refresh(self.refresh_gate)

    def on_descendant_blur(self, _event: events.DescendantBlur) -> None:
        self.call_after_refresh(self.refresh_gate)

    @on(YamlEditor.Left)
    def _left_editor(self, event: YamlEditor.Left) -> None:
        event.stop()
        self.query_one("#bp-tabs Tabs").focus()
        self.refresh_gate()

    def validate_now(self) -> None:
        """Validate the editor's text now (off the UI loop) and mark the error lines."""
        self._validate(self.editor.text)

    @work(thread=True, exclusive=True, group="bp-validate")
    def _validate(self, text: str) -> None:
        problems = adapters.validate_blueprint(text) if text.strip() else []
        self.app.call_from_thread(self._show_problems, text, problems)

    def _show_problems(self, text: str, problems: list[adapters.YamlProblem]) -> None:
        if text != self.editor.text:
            return  # stale: a newer validation is coming
        self.problems = [p for p in problems if p.severity == "error"]
        self.warnings = [p for p in problems if p.severity != "error"]
        self.editor.set_error_lines({p.line for p in self.problems})
        box = self.query_one("#bp-problems", Static)
        shown = (self.problems + self.warnings)[:6]
        box.update(
            Content("\n").join(
                Content.styled(
                    f"line {p.line}:{p.column}  {p.message}",
                    "$error" if p.severity == "error" else "$warning",
                )
                for p in shown
            )
        )
        box.set_class(bool(shown), "-has-problems")
        self.refresh_gate()

    # -- the gate -----------------------------------------------------------------

    def refresh_gate(self) -> None:
        gate = self.state.gate
        waiting = gate is not None and gate.gate in ("blueprint", "approval", "amendment")
        coding = self.state.phase == "codegen" and self.state.is_live
        valid = not self.problems and bool(self.editor.text.strip())
        dirty = self.dirty and bool(self.base_text)
        # (shown, enabled) per button: only what applies now takes room in an 80-column bar.
        for button_id, shown, enabled in (
            ("#bp-approve", waiting, waiting),
            ("#bp-approve-edits", waiting, waiting and dirty and valid),
            ("#bp-reject", waiting, waiting),
            ("#bp-amend", coding, coding and dirty and valid),
            ("#bp-revert", dirty, dirty),
        ):
            button = self.query_one(button_id, Button)
            button.display, button.disabled = shown, not enabled
        editing = self.editor.editing
        if waiting:
            status = f"Waiting for you: approve {self.base_version or 'the blueprint'}?"
            status += " (Esc leaves the editor)" if editing else " (i edits it here)"
        elif coding and dirty:
            status = "Coder pauses at the next file; Amend applies your edit."
        elif coding:
            status = "Generating code; i edits the blueprint to amend the remaining files."
        elif self.base_version:
            status = f"Showing {self.base_version}."
        else:
            status = "No blueprint yet."
        if dirty and not valid:
            status = f"{len(self.problems)} error(s) to fix."
        self.query_one("#bp-status", Label).update(status)

    def approve(self) -> bool:
        if self.dirty:
            self.app.notify(
                "Your edits are not part of a plain approve; use Approve edits.", severity="warning"
            )
            return False
        self.post_message(self.GateAnswer("approve", None, answers=self.questions.answers))
        return True

    def approve_edits(self) -> bool:
        if self.problems or not self.editor.text.strip():
            self.app.notify("Fix the blueprint's problems before approving it.", severity="error")
            return False
        self.post_message(self.GateAnswer("edit", self.editor.text, answers=self.questions.answers))
        return True

    def reject(self, feedback: str) -> None:
        self.post_message(self.GateAnswer("reject", None, feedback, answers=self.questions.answers))

    def amend(self) -> bool:
        if self.problems or not self.dirty:
            self.app.notify(
                "Nothing valid to amend: edit the blueprint and fix its problems.", severity="error"
            )
            return False
        text = self.editor.text
        self.post_message(self.AmendmentApproved(text, self.base_version))
        self.base_text = text
        self._editing = False
        self.refresh_gate()
        return True

    def revert(self) -> None:
        self.editor.load_text(self.base_text)

    @on(Button.Pressed, "#bp-approve")
    def _on_approve(self) -> None:
        self.approve()

    @on(Button.Pressed, "#bp-approve-edits")
    def _on_approve_edits(self) -> None:
        self.approve_edits()

    @on(Button.Pressed, "#bp-reject")
    def _on_reject(self) -> None:
        self.screen.run_action("reject")

    @on(Button.Pressed, "#bp-amend")
    def _on_amend(self) -> None:
        self.amend()

    @on(Button.Pressed, "#bp-revert")
    def _on_revert(self) -> None:
        self.revert()

    # -- events -------------------------------------------------------------------

    def on_run_event(self, ev: Any) -> None:
        if ev.type == "blueprint_saved" and self.run_dir is not None:
            self.load(self.run_dir)
        elif ev.type in ("gate_opened", "gate_resolved", "phase_started", "run_finished", "phase_completed"):
            if ev.type in ("gate_resolved", "phase_completed") and self.run_dir is not None:
                self.load(self.run_dir)
            else:
                self.refresh_gate()
