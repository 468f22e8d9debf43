"""The command palette's namespaced commands: ``run: pause``, ``blueprint: approve``, ``theme: …``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from deepcode_tui.tui.app import DeepcodeApp


@dataclass(frozen=True)
class Command:
    name: str  # "namespace: verb"
    help: str
    callback: Callable[[], object]


# (name, help, screen action, its arguments)
_SCREEN_COMMANDS: tuple[tuple[str, str, str, tuple[object, ...]], ...] = (
    ("run: stop", "Stop the run now; resume later from its last checkpoint", "stop_run", ()),
    ("run: pause", "Pause or continue the coder at the next file boundary", "toggle_pause", ()),
    ("run: resume", "Continue a stopped run from its last checkpoint", "resume_run", ()),
    ("run: copy repository path", "Copy the path of the run's repository to the clipboard", "copy_path", ("repo",)),
    ("run: copy report path", "Copy the path of the run's report to the clipboard", "copy_path", ("report",)),
    ("blueprint: edit", "Enter the blueprint editor (Esc leaves it)", "edit_blueprint", ()),
    ("blueprint: questions", "Answer the open questions the document leaves unspecified", "show_questions", ()),
    ("blueprint: accept all proposed answers", "Accept the proposal of every open question not yet answered",
     "accept_question_proposals", ()),
    ("blueprint: approve", "Approve the blueprint as saved", "approve", ()),
    ("blueprint: approve with edits", "Approve the blueprint as edited in the editor", "approve_edits", ()),
    ("blueprint: reject", "Reject the blueprint with feedback for the planner", "reject", ()),
    ("blueprint: amend", "Apply your edit to the files not yet written", "amend", ()),
    ("sandbox: apply patch", "Apply the proposed repair patch", "patch", ("apply",)),
    ("sandbox: skip patch", "Do not apply the proposed repair patch", "patch", ("skip",)),
    ("sandbox: edit patch", "Edit the proposed repair patch, then apply it", "edit_patch", ()),
    ("sandbox: previous iteration", "Show the previous repair iteration", "iteration", (-1,)),
    ("sandbox: next iteration", "Show the next repair iteration", "iteration", (1,)),
    (
        "sandbox: toggle pause before applying",
        "Stop before each patch for apply / skip / edit",
        "toggle_step",
        (),
    ),
    ("view: paper", "The paper index", "show_pane", ("paper",)),
    ("view: blueprint", "The blueprint editor", "show_pane", ("blueprint",)),
    ("view: generation", "The files being generated", "show_pane", ("generation",)),
    ("view: sandbox", "Sandbox runs, findings and patches", "show_pane", ("sandbox",)),
)


def available_commands(app: DeepcodeApp) -> list[Command]:
    """The commands that apply now, in palette order.

    The run screen is looked up under whatever is on top (the palette itself is the
    current screen while it asks): checking ``app.screen`` offered only the app's commands.
    """
    commands: list[Command] = []
    screen = app.main
    if screen is not None:
        for name, help_text, action, args in _SCREEN_COMMANDS:
            if screen.available(action, pane_scoped=False):
                call = f"{action}({', '.join(map(repr, args))})" if args else action
                # call_later: run_action is a coroutine; this keeps every callback a plain call.
                commands.append(Command(name, help_text, partial(screen.call_later, screen.run_action, call)))
    from deepcode_tui.tui.screens.rubric import rubric_commands

    commands += rubric_commands(app)  # rubric: view / grade (issue 16)
    commands.append(Command("run: open document", "Go to the start screen to open a document or a run",
                            app.action_go_start))  # fmt: skip
    for theme_name in sorted(app.theme_specs):
        current = " (current)" if theme_name == app.theme else ""
        commands.append(
            Command(
                f"theme: {theme_name}",
                f"Switch to the {theme_name} theme{current}",
                partial(setattr, app, "theme", theme_name),
            )
        )
    commands.append(Command("app: help", "What the pane on screen is for and every key that works there",
                            partial(app.call_later, app.action_help)))  # fmt: skip
    commands.append(
        Command("app: screenshot", "Save an SVG screenshot in the current directory", app.action_screenshot)
    )
    commands.append(Command("app: quit", "Quit (a running run is stopped and can be resumed)",
                            partial(app.call_later, app.action_quit)))  # fmt: skip
    return commands


class DeepcodeCommands(Provider):
    """Palette provider over :func:`available_commands`."""

    async def discover(self) -> Hits:
        for cmd in available_commands(self.app):  # type: ignore[arg-type]
            yield DiscoveryHit(cmd.name, cmd.callback, help=cmd.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for cmd in available_commands(self.app):  # type: ignore[arg-type]
            score = matcher.match(cmd.name)
            if score > 0:
                yield Hit(score, matcher.highlight(cmd.name), cmd.callback, help=cmd.help)
