"""Every key binding of the app, each with an id that ``ui.keys`` can remap.

Remap in ``deepcode.toml`` (values are Textual key names; several keys are
separated by commas)::

    [ui.keys]
    "run.stop" = "ctrl+x"
    "view.paper" = "f5,1"
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.binding import Binding

APP_BINDINGS: list[Binding] = [
    Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    Binding("f12", "screenshot", "Screenshot", id="app.screenshot", show=False),
    Binding("question_mark,f1", "help", "Help", id="app.help"),
]

START_BINDINGS: list[Binding] = [
    Binding("o", "focus_open", "Open document", id="start.open"),
    Binding("f5", "refresh", "Refresh", id="start.refresh"),
    # From the path box, Down goes to the recent runs (the table keeps Down for its cursor).
    Binding("down", "focus_runs", "Recent runs", id="start.runs", show=False),
]

# On the start screen's list of reference sources.
REF_LIST_BINDINGS: list[Binding] = [
    Binding("delete", "remove", "Remove source", id="start.remove_ref"),
]

MAIN_BINDINGS: list[Binding] = [
    Binding("1", "show_pane('paper')", "Paper", id="view.paper", show=False),
    Binding("2", "show_pane('blueprint')", "Blueprint", id="view.blueprint", show=False),
    Binding("3", "show_pane('generation')", "Code", id="view.generation", show=False),
    Binding("4", "show_pane('sandbox')", "Sandbox", id="view.sandbox", show=False),
    Binding("escape", "stop_run", "Stop", id="run.stop"),
    Binding("p", "toggle_pause", "Pause", id="run.pause"),
    Binding("ctrl+r", "resume_run", "Resume", id="run.resume"),
    Binding("i,enter", "edit_blueprint", "Edit", id="blueprint.edit"),
    Binding("a", "approve", "Approve", id="blueprint.approve"),
    Binding("e", "approve_edits", "Approve edits", id="blueprint.approve_edits"),
    Binding("r", "reject", "Reject", id="blueprint.reject"),
    Binding("m", "amend", "Amend", id="blueprint.amend"),
    Binding("left_square_bracket", "iteration(-1)", "Prev", id="sandbox.previous"),
    Binding("right_square_bracket", "iteration(1)", "Next", id="sandbox.next"),
    Binding("y", "patch('apply')", "Apply", id="sandbox.apply"),
    Binding("n", "patch('skip')", "Skip", id="sandbox.skip"),
    Binding("x", "edit_patch", "Edit patch", id="sandbox.edit"),
    Binding("s", "toggle_step", "Step", id="sandbox.step"),
    Binding("c", "copy_path('repo')", "Copy repo path", id="run.copy_repo"),
]

BINDING_IDS: tuple[str, ...] = tuple(
    b.id for b in (*APP_BINDINGS, *START_BINDINGS, *REF_LIST_BINDINGS, *MAIN_BINDINGS) if b.id is not None
)


def check_keymap(keys: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The usable part of ``ui.keys`` and one problem line per entry that is not.

    Unknown binding ids and empty keys are reported, not applied, so a typo in
    the config never takes a key away.
    """
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, key in keys.items():
        if binding_id not in BINDING_IDS:
            problems.append(f"ui.keys: unknown binding id {binding_id!r} (known: {', '.join(BINDING_IDS)})")
        elif not str(key).strip():
            problems.append(f"ui.keys: empty key for {binding_id!r}")
        else:
            keymap[binding_id] = ",".join(k.strip() for k in str(key).split(",") if k.strip())
    return keymap, problems
