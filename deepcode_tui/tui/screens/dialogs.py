"""Modal dialogs: feedback for a rejected blueprint, editing a repair patch, the models of a resume."""

from __future__ import annotations

from collections.abc import Callable

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea


class FeedbackDialog(ModalScreen[str | None]):
    """Ask why the blueprint is rejected; dismisses with the feedback or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, prompt: str = "What should the planner change?") -> None:
        super().__init__()
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.prompt, classes="dialog-title")
            yield Input(placeholder="e.g. use PyTorch, not TensorFlow; add a training script", id="feedback")
            yield Label("", id="feedback-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Reject with feedback", id="send", variant="error")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        field = self.query_one("#feedback", Input)
        field.cursor_blink = getattr(self.app, "blink", True)
        field.focus()

    @on(Input.Submitted, "#feedback")
    @on(Button.Pressed, "#send")
    def _send(self) -> None:
        text = self.query_one("#feedback", Input).value.strip()
        if not text:
            self.query_one("#feedback-error", Label).update(
                "Say what to change, so the planner can act on it."
            )
            return
        self.dismiss(text)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class _PatchText(TextArea):
    """The patch text: Tab indents, Esc cancels the dialog (TextArea's Esc only moved focus on,
    so the first Esc seemed to do nothing)."""

    def _on_key(self, event: events.Key) -> None:  # runs before TextArea's own handler
        if event.key == "escape":
            event.stop()
            event.prevent_default()
            self.screen.dismiss(None)


class PatchEditDialog(ModalScreen[str | None]):
    """Edit a repair proposal as text; dismisses with the text once ``check`` accepts it, or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("ctrl+s", "save", "Use this patch", id="dialog.save"),
    ]

    def __init__(self, iteration: int, text: str, check: Callable[[str], str | None]) -> None:
        super().__init__()
        self.iteration = iteration
        self.text = text
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-large"):
            yield Label(f"Edit the repair of iteration {self.iteration} (ctrl+s applies it, Esc cancels)",
                        classes="dialog-title")  # fmt: skip
            yield _PatchText(
                self.text, id="patch-text", soft_wrap=False, show_line_numbers=True, tab_behavior="indent"
            )
            yield Label("", id="patch-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply this", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        area = self.query_one("#patch-text", TextArea)
        area.cursor_blink = getattr(self.app, "blink", True)
        area.theme = getattr(self.app, "code_theme", "css")
        area.focus()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        text = self.query_one("#patch-text", TextArea).text
        problem = self.check(text)
        if problem:
            self.query_one("#patch-error", Label).update(problem)
            return
        self.dismiss(text)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ResumeChoiceDialog(ModalScreen[str | None]):
    """Ask which model configuration a resumed run continues with.

    Dismisses with "recorded" (the run's own, the default button), "current" or None (cancel).
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, run_id: str, differences: list) -> None:
        super().__init__()
        self.run_id = run_id
        self.differences = differences

    def compose(self) -> ComposeResult:
        width = max((len(d.setting) for d in self.differences), default=8) + 2
        rows = "\n".join(
            f"  {d.setting:<{width}} run: {d.recorded}\n  {'':<{width}} now: {d.current}" for d in self.differences
        )
        with Vertical(classes="dialog"):
            yield Static("This run was started with other models", classes="dialog-title")
            yield Static(f"Run {self.run_id}:\n{rows}", id="resume-differences", markup=False)
            yield Static("Continue it with the models it was started with, or with the ones configured now?",
                         id="resume-question")  # fmt: skip
            with Horizontal(classes="dialog-buttons"):
                yield Button("Use the run's", id="recorded", variant="primary")
                yield Button("Use today's", id="current", variant="warning")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#recorded", Button).focus()

    @on(Button.Pressed, "#recorded")
    def _recorded(self) -> None:
        self.dismiss("recorded")

    @on(Button.Pressed, "#current")
    def _current(self) -> None:
        self.dismiss("current")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
