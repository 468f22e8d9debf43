"""The help screen (``?`` / F1): what the pane on screen is for, and every key that works there.

Keys are listed from the same bindings the screens use, with ``ui.keys``
remaps applied, so the help never names a key that does something else.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from deepcode_tui.tui.keys import APP_BINDINGS, MAIN_BINDINGS, START_BINDINGS, check_keymap


@dataclass(frozen=True)
class PaneHelp:
    title: str
    about: str
    binding_ids: tuple[str, ...]  # this pane's own bindings, in the order shown
    extra: tuple[tuple[str, str], ...] = ()  # (keys, what) of widgets' own keys


_RUN_IDS = ("view.paper", "view.blueprint", "view.generation", "view.sandbox", "run.stop", "run.pause",
            "run.resume", "run.copy_repo")  # fmt: skip
_APP_KEYS = (
    ("ctrl+p", "command palette: every action, by name"),
    ("Tab / shift+Tab", "next / previous control"),
)

PANES: dict[str, PaneHelp] = {
    "start": PaneHelp(
        "Start",
        "Open a document (PDF, Markdown, LaTeX or text) to start a run, or pick a recent run: "
        "Enter resumes a run that can continue (↻) or shows a finished one. Reference sources "
        "are code CodeRAG may consult while writing files.",
        ("start.open", "start.refresh", "start.runs", "start.remove_ref"),
        (("Tab (in the path box)", "complete the path"), ("Enter", "open the document / the run")),
    ),
    "paper": PaneHelp(
        "1 Paper",
        "The document's section index. Each section shows which agents read it and how many tokens "
        "it holds; the agents read only the sections they ask for.",
        (),
        (
            ("↑ ↓", "move through the sections; the highlighted one is shown beside"),
            ("Enter / Space", "expand or collapse a section"),
        ),
    ),
    "blueprint": PaneHelp(
        "2 Blueprint",
        "The Implementation Blueprint the planner wrote, as YAML, validated as you type. At the gate, "
        "approve it as saved, approve your edits or reject it with feedback. While code is generated, "
        "an edit pauses the coder at the next file and Amend hands it the new version. Coverage lists "
        "what the plan dropped; History shows each version's changes.",
        (
            "blueprint.edit",
            "blueprint.approve",
            "blueprint.approve_edits",
            "blueprint.reject",
            "blueprint.amend",
        ),
        (
            ("Esc (in the editor)", "leave the editor; Tab passes over it until you enter it again"),
            ("Tab (in the editor)", "indent"),
            ("← →", "switch Editor / Coverage / History"),
        ),
    ),
    "generation": PaneHelp(
        "3 Generation",
        "The files of the plan in generation order (· pending, ✎ writing, ✓ done, ✗ failed, ✋ edited by you). "
        "The file being written streams in; pick another to read it. Below: the file's memory entry and "
        "what its context held (blueprint, memory, retrieved code) against the budget.",
        (),
        (
            ("↑ ↓", "pick a file (the view stops following the coder)"),
            ("↑ ↓ to the ✎ file", "follow the coder again"),
        ),
    ),
    "sandbox": PaneHelp(
        "4 Sandbox",
        "Each verification iteration: the commands run in the sandbox with their output, the findings, "
        "and the repair patch. With 'pause before applying' on, each patch waits for apply, skip or edit.",
        ("sandbox.previous", "sandbox.next", "sandbox.apply", "sandbox.skip", "sandbox.edit", "sandbox.step"),
        (("← → (on the tabs)", "switch Log / Findings / Patch"),),
    ),
}


# What a key does, in words (the footer's labels are kept short for 80 columns).
WHAT: dict[str, str] = {
    "start.open": "go to the path box", "start.refresh": "list the runs again",
    "start.runs": "from the path box to the recent runs", "start.remove_ref": "remove the reference source",
    "blueprint.edit": "enter the editor", "blueprint.approve": "approve the blueprint as saved",
    "blueprint.approve_edits": "approve it with your edits", "blueprint.reject": "reject it with feedback",
    "blueprint.amend": "hand your edit to the coder (while code is generated)",
    "sandbox.previous": "show the previous iteration", "sandbox.next": "show the next iteration",
    "sandbox.apply": "apply the waiting patch", "sandbox.skip": "skip the waiting patch",
    "sandbox.edit": "edit the waiting patch, then apply it",
    "sandbox.step": "pause before applying each patch (on / off)",
    "view.paper": "Paper pane", "view.blueprint": "Blueprint pane", "view.generation": "Generation pane",
    "view.sandbox": "Sandbox pane", "run.stop": "stop the run (resume later)",
    "run.pause": "pause the coder at the next file / continue", "run.resume": "resume a stopped run",
    "run.copy_repo": "copy the finished run's repository path", "app.quit": "quit (a running run stops)",
    "app.help": "this help",
}  # fmt: skip


def key_display(app, binding: Binding, keymap: dict[str, str]) -> str:
    keys = keymap.get(binding.id or "", binding.key)
    return " / ".join(app.get_key_display(Binding(k.strip(), binding.action)) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    """Help for ``pane`` ("start" or one of the run panes); any of Esc, ? or F1 closes it."""

    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, pane: str) -> None:
        super().__init__()
        self.pane = pane if pane in PANES else "start"

    def compose(self) -> ComposeResult:
        info = PANES[self.pane]
        with Vertical(classes="dialog dialog-large", id="help"):
            yield Label(f"Help: {info.title}  (Esc closes)", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(info.about, id="help-about")
                yield Static(self._keys(info), id="help-keys")

    def _keys(self, info: PaneHelp) -> Content:
        app = self.app
        keymap, _ = check_keymap(app.settings.ui.keys) if hasattr(app, "settings") else ({}, [])
        by_id = {b.id: b for b in (*APP_BINDINGS, *START_BINDINGS, *MAIN_BINDINGS) if b.id}
        rows: list[tuple[str, str]] = []
        for bid in info.binding_ids:
            if bid in by_id:
                rows.append((key_display(app, by_id[bid], keymap), WHAT.get(bid, by_id[bid].description)))
        rows += list(info.extra)
        sections = [("This pane", rows)]
        if self.pane != "start":
            sections.append(("Every pane", [(key_display(app, by_id[b], keymap), WHAT.get(b, by_id[b].description))
                                            for b in _RUN_IDS if b in by_id]))  # fmt: skip
        app_rows = [(key_display(app, b, keymap), WHAT.get(b.id or "", b.description))
                    for b in APP_BINDINGS if b.id != "app.screenshot"]  # fmt: skip
        sections.append(("Anywhere", [*app_rows, *_APP_KEYS]))
        width = max((len(k) for _, rs in sections for k, _ in rs), default=8) + 2
        lines: list[Content] = []
        for title, rs in sections:
            lines.append(Content.styled(f"\n{title}", "bold $accent"))
            lines += [Content.assemble((f"  {k:<{width}}", "bold"), what) for k, what in rs]
        return Content("\n").join(lines)
