"""Pane 1, the paper index: section tree with tokens and readers, section text, detected items."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Markdown, Static, TabbedContent, TabPane, Tree

from deepcode_tui.errors import DeepcodeError
from deepcode_tui.tui import adapters
from deepcode_tui.tui.state import RunState
from deepcode_tui.tui.widgets.tables import fill_table

_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_INLINE_MATH = re.compile(r"(?<![\\$])\$([^$\n]+?)\$")


def compact_tokens(n: int) -> str:
    """``950``, ``1.2k``, ``34k``: short enough for a tree label."""
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k"
    return f"{n // 1000}k"


def agent_badge(agents: list[str]) -> str:
    """``C A``: the initials of the agents that read a section."""
    return " ".join(a[:1].upper() for a in agents)


def section_markdown(section: Any, equations: list[Any], readers: list[str]) -> str:
    """A section as Markdown, with equations kept as literal text (code spans / blocks)."""
    text = section.text or ""
    text = _DISPLAY_MATH.sub(lambda m: f"\n```text\n{m.group(1).strip()}\n```\n", text)
    text = _INLINE_MATH.sub(lambda m: f"`{m.group(1)}`", text)
    for eq in equations:  # equations the index found outside $...$: keep them literal, with their label
        body = eq.text.strip()
        if not body or "\n" in body:
            continue
        label = f" {eq.label}" if eq.label else ""
        if f"`{body}`" in text:
            text = text.replace(f"`{body}`", f"`{body}`{label}", 1)
        elif body in text:
            text = text.replace(body, f"`{body}`{label}", 1)
    meta = [f"{section.token_count:,} tokens"]
    if section.pages:
        meta.append("pages " + ", ".join(map(str, section.pages)))
    meta.append("read by " + (", ".join(readers) if readers else "no agent yet"))
    heading = section.heading or section.title
    return f"## {heading}\n\n*{' · '.join(meta)}*\n\n{text or '(no text of its own; see its subsections)'}"


class PaperPane(Vertical):
    """Shows the run's DocumentIndex; refreshed from events and the saved index."""

    def __init__(self, state: RunState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state
        self.run_dir: Path | None = None
        self.index: Any | None = None
        self._tree_nodes: dict[str, Any] = {}
        self._sections: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="paper-body"):
            tree: Tree[str] = Tree("document", id="paper-tree")
            tree.show_root = False
            yield tree
            with TabbedContent(id="paper-tabs"):
                with TabPane("Text", id="paper-text-tab"):
                    with VerticalScroll(id="paper-text-scroll"):
                        yield Markdown("*No document indexed yet.*", id="paper-text")
                with TabPane("Hyperparameters", id="paper-params-tab"):
                    yield DataTable(id="paper-params", cursor_type="row", zebra_stripes=True)
                with TabPane("Algorithms", id="paper-algos-tab"), VerticalScroll():
                    yield Static("No algorithms detected yet.", id="paper-algos", markup=False)

    def on_mount(self) -> None:
        self.query_one("#paper-params", DataTable).add_columns("name", "value", "section")

    # -- loading ------------------------------------------------------------------

    def load(self, run_dir: Path) -> None:
        """Read ``<run>/document/index.json`` off the UI loop and show it."""
        self.run_dir = run_dir
        self._load_index(run_dir)

    @work(thread=True, exclusive=True, group="paper-load")
    def _load_index(self, run_dir: Path) -> None:
        try:
            index = adapters.load_index(run_dir)
        except DeepcodeError as exc:
            self.app.call_from_thread(self._show_problem, exc.one_line())
            return
        if index is not None:
            self.app.call_from_thread(self.show_index, index)

    def _show_problem(self, message: str) -> None:
        self.query_one("#paper-text", Markdown).update(
            f"**The document index could not be read.**\n\n{message}"
        )

    def show_index(self, index: Any) -> None:
        """Fill the tree and the detected-items tabs from ``index``."""
        self.index = index
        tree = self.query_one("#paper-tree", Tree)
        keep = (
            tree.cursor_node.data if tree.cursor_node is not None else None
        )  # a reload keeps the reader's place
        tree.clear()
        self._tree_nodes.clear()
        self._sections = {s.id: s for s in index.all_sections()}
        tree.root.data = ""
        for top in index.sections:
            self._add_section(tree.root, top)
        tree.root.expand_all()
        self._fill_params(index)
        self._fill_algorithms(index)
        title = index.title or Path(index.source_path).name
        total = f"{index.total_tokens:,} tokens in {len(self._tree_nodes)} sections"
        self.query_one("#paper-text", Markdown).update(
            f"## {title}\n\n*{total} · parsed by {index.engine or index.format}*\n\nSelect a section on the left."
        )
        if keep in self._tree_nodes:
            tree.move_cursor(self._tree_nodes[keep])
        elif self._tree_nodes:
            tree.move_cursor(next(iter(self._tree_nodes.values())))

    def _add_section(self, parent: Any, section: Any) -> None:
        node = parent.add(self._label(section), data=section.id, expand=True)
        self._tree_nodes[section.id] = node
        for child in section.children:
            self._add_section(node, child)
        if not section.children:
            node.allow_expand = False

    def _label(self, section: Any) -> Text:
        readers = self.state.sections_read.get(section.id, [])
        label = Text(section.heading or section.title, style="bold" if readers else "")
        label.append(f"  {compact_tokens(section.subtree_tokens())}", style="dim")
        if readers:
            label.append(f"  {agent_badge(readers)}", style="bold reverse")
        return label

    def _fill_params(self, index: Any) -> None:
        rows = [(hp.name, hp.value, self._section_heading(hp.section_id)) for hp in index.hyperparameters]
        fill_table(self.query_one("#paper-params", DataTable), rows)

    def _fill_algorithms(self, index: Any) -> None:
        if not index.algorithms:
            self.query_one("#paper-algos", Static).update("No algorithms detected.")
            return
        parts = []
        for algo in index.algorithms:
            where = self._section_heading(algo.section_id)
            parts.append(
                f"■ {algo.title}" + (f"   (section {where})" if where else "") + "\n" + algo.text.strip()
            )
        self.query_one("#paper-algos", Static).update("\n\n".join(parts))

    def _section_heading(self, section_id: str) -> str:
        section = self._sections.get(section_id)
        return (section.number or section.title) if section is not None else ""

    # -- events -------------------------------------------------------------------

    def on_run_event(self, ev: Any) -> None:
        if ev.type == "document_indexed" and self.run_dir is not None:
            self.load(self.run_dir)
        elif ev.type == "section_read" and self.index is not None:
            node = self._tree_nodes.get(ev.section_id)
            section = self._find(ev.section_id)
            if node is not None and section is not None:
                node.set_label(self._label(section))

    def _find(self, section_id: str) -> Any | None:
        return self._sections.get(section_id)

    @on(Tree.NodeHighlighted, "#paper-tree")
    def _show_section(self, event: Tree.NodeHighlighted) -> None:
        section = self._find(event.node.data or "")
        if section is None or self.index is None:
            return
        equations = [e for e in self.index.equations if e.section_id == section.id]
        readers = self.state.sections_read.get(section.id, [])
        self.query_one("#paper-text", Markdown).update(section_markdown(section, equations, readers))
        self.query_one("#paper-text-scroll", VerticalScroll).scroll_home(animate=False)
