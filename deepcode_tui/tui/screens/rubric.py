"""The Rubric view of a run: its PaperBench grade as a tree, and grading from the app.

Each node shows its score and weight; a leaf shows ✓ (1), ✗ (0) or ⚑ (flagged:
no usable judge reply). The panel beside the tree shows the selected node's
requirement and explanation. ``f`` keeps only failed leaves (and the nodes
above them); ``g`` grades the run with the rubric in the path field, or
resumes the grading already there (graded leaves are never sent again).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static, Tree
from textual.widgets.tree import TreeNode

from deepcode_tui.grade.latest import gradings
from deepcode_tui.grade.rollup import GradedNode, graded_from_dict


def _mark(node: GradedNode) -> str:
    if node.sub_tasks:
        return ""
    if not node.valid_score:
        return "⚑ "
    return "✓ " if node.score >= 1 else "✗ "


def _failed(node: GradedNode) -> bool:
    if not node.sub_tasks:
        return node.score < 1 or not node.valid_score
    return any(_failed(c) for c in node.sub_tasks)


def node_label(node: GradedNode) -> str:
    text = " ".join(node.requirements.split())
    text = text if len(text) <= 90 else text[:89] + "…"
    return f"{_mark(node)}{node.score * 100:5.1f}%  w{node.weight:g}  {text}"


class RubricScreen(Screen):
    """The grade of one run (see the module docstring)."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("f", "toggle_failed", "Failed only"),
        Binding("g", "grade", "Grade / resume"),
    ]
    DEFAULT_CSS = """
    RubricScreen #rubric-body { height: 1fr; }
    RubricScreen #rubric-tree { width: 3fr; }
    RubricScreen #rubric-detail { width: 2fr; padding: 0 1; overflow-y: auto; }
    RubricScreen #rubric-title { padding: 0 1; text-style: bold; }
    RubricScreen #rubric-status { padding: 0 1; }
    """

    def __init__(self, run_dir: Path, repo_dir: Path, *, rubric: str = "", code_only: bool = False) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.repo_dir = Path(repo_dir)
        self.output: dict[str, Any] | None = None
        self.failed_only = False
        self.code_only = code_only
        self.grading = False
        self._rubric = rubric

    def compose(self) -> ComposeResult:
        yield Label("Rubric", id="rubric-title")
        with Horizontal(id="rubric-path-row"):
            yield Input(value=self._rubric, placeholder="path/to/rubric.json (PaperBench format); g grades",
                        id="rubric-path")  # fmt: skip
        yield Label("", id="rubric-status")
        with Horizontal(id="rubric-body"):
            yield Tree("rubric", id="rubric-tree")
            with Vertical(id="rubric-detail"):
                yield Static("", id="rubric-text")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#rubric-tree", Tree).focus()

    # -- loading -----------------------------------------------------------------

    def reload(self) -> None:
        found = gradings(self.run_dir)
        status = self.query_one("#rubric-status", Label)
        if not found:
            status.update("Not graded yet: give a rubric path above and press g.")
            self._show(None)
            return
        directory, summary = found[0]
        try:
            self.output = json.loads((directory / "grade.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            status.update(f"{directory / 'grade.json'} is unreadable ({type(exc).__name__}); grade again with g")
            return
        if not self.query_one("#rubric-path", Input).value and summary.rubric:
            self.query_one("#rubric-path", Input).value = summary.rubric
        self.code_only = summary.code_only
        status.update(
            f"{summary.num_leaf_nodes} leaves, {summary.num_invalid_leaf_nodes} invalid; graded {summary.graded_at}"
            f" ({directory.name})"
        )
        self._show(graded_from_dict(self.output["graded_task_tree"]))

    def _show(self, root: GradedNode | None) -> None:
        tree = self.query_one("#rubric-tree", Tree)
        tree.clear()
        title = self.query_one("#rubric-title", Label)
        if root is None:
            title.update("Rubric")
            tree.root.set_label("(no grade)")
            return
        mode = "PaperBench Code-Dev" if self.code_only else "PaperBench"
        title.update(f"{mode} grade: {root.score * 100:.1f}%" + ("   (failed leaves only)" if self.failed_only else ""))
        tree.root.set_label(node_label(root))
        tree.root.data = root
        self._add(tree.root, root)
        tree.root.expand_all() if self.failed_only else tree.root.expand()

    def _add(self, parent: TreeNode, node: GradedNode) -> None:
        for child in node.sub_tasks:
            if self.failed_only and not _failed(child):
                continue
            if child.sub_tasks:
                branch = parent.add(node_label(child), data=child)
                self._add(branch, child)
            else:
                parent.add_leaf(node_label(child), data=child)

    @on(Tree.NodeHighlighted, "#rubric-tree")
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        node = event.node.data
        if not isinstance(node, GradedNode):
            return
        head = f"[b]{_escape(node.id)}[/b]  score {node.score * 100:.1f}%  weight {node.weight:g}"
        head += f"  {_escape(node.task_category)}" if node.task_category else ""
        parts = [head, "", _escape(node.requirements), "", _escape(node.explanation)]
        meta = node.judge_metadata or {}
        if meta.get("files_read"):
            parts += ["", "Files read: " + _escape(", ".join(f["path"] for f in meta["files_read"]))]
        self.query_one("#rubric-text", Static).update("\n".join(parts))

    # -- actions -------------------------------------------------------------------

    def action_toggle_failed(self) -> None:
        self.failed_only = not self.failed_only
        if self.output is not None:
            self._show(graded_from_dict(self.output["graded_task_tree"]))

    def action_grade(self) -> None:
        if self.grading:
            self.notify("grading is already under way")
            return
        rubric = self.query_one("#rubric-path", Input).value.strip()
        if not rubric:
            self.notify("give the path of a rubric.json first", severity="warning")
            self.query_one("#rubric-path", Input).focus()
            return
        self.grading = True
        self._grade(Path(rubric).expanduser())

    @on(Input.Submitted, "#rubric-path")
    def _submitted(self) -> None:
        self.action_grade()

    @work(exclusive=True, group="grade")
    async def _grade(self, rubric_path: Path) -> None:
        from deepcode_tui.errors import DeepcodeError

        status = self.query_one("#rubric-status", Label)
        try:
            result = await grade_run(self.app, self.run_dir, self.repo_dir, rubric_path, code_only=self.code_only,
                                     on_leaf=lambda p: status.update(f"grading: {p.done}/{p.total} leaves"))  # fmt: skip
        except DeepcodeError as exc:
            status.update(f"error: {exc.one_line()}")
            return
        finally:
            self.grading = False
        self.reload()
        self.notify(f"graded: {result.output['score'] * 100:.1f}% ({result.graded_now} leaves graded now, "
                    f"{result.resumed} kept)")  # fmt: skip


def rubric_commands(app: Any) -> list[Any]:
    """Palette commands for the Rubric view of the app's current run (once it is not running)."""
    from deepcode_tui.tui.commands import Command

    session = getattr(app, "session", None)
    if session is None or app.is_running_run:
        return []

    def open_view(grade: bool = False) -> None:
        screen = RubricScreen(session.run_dir, session.repo_dir)
        app.push_screen(screen)
        if grade:
            screen.call_after_refresh(screen.action_grade)

    return [
        Command("rubric: view", "The run's PaperBench grade: the rubric tree with scores and explanations",
                open_view),
        Command("rubric: grade or resume", "Grade the run against a rubric, or resume its grading",
                lambda: open_view(grade=True)),
    ]  # fmt: skip


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


async def grade_run(app: Any, run_dir: Path, repo_dir: Path, rubric_path: Path, *, code_only: bool, on_leaf=None):
    """Grade (or resume grading) the run with the app's settings and model flags."""
    from deepcode_tui.grade.rubric import load_rubric
    from deepcode_tui.grade.runner import GradeOptions, grade_submission
    from deepcode_tui.grade.target import Target, cassette_graded_at, default_out, paper_text
    from deepcode_tui.llm.cli import build_gateway
    from deepcode_tui.store.run import load_manifest

    rubric = load_rubric(rubric_path)
    manifest = load_manifest(run_dir)
    paper_path = Path(manifest.input_path)
    target = Target(submission=repo_dir, run_dir=run_dir, paper=paper_path if paper_path.exists() else None)
    out = default_out(target, rubric_path, code_only=code_only)
    flags = dict((getattr(app, "extra_services", {}) or {}).get("llm_flags") or {})
    replay = flags.get("grade_replay") or None
    gateway = build_gateway(app.settings, run_dir=out, replay=replay, no_cache=bool(flags.get("no_cache")),
                            provenance=getattr(app.loaded, "provenance", None))  # fmt: skip
    try:
        return await grade_submission(
            gateway, repo_dir, rubric, paper=paper_text(target.paper, run_dir), addendum="", out_dir=out,
            options=GradeOptions(rubric_path=str(rubric_path), code_only=code_only,
                                 graded_at=cassette_graded_at(replay)),
            on_leaf=on_leaf,
        )  # fmt: skip
    finally:
        await gateway.aclose()
