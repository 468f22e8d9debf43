"""`deepcode-tui index DOC`: print a document's section tree with token counts, or its JSON.

DeepcodeError (InputError for bad documents) propagates to the main CLI, which prints it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from deepcode_tui.ingest.loader import PDF_ENGINES, load_document
from deepcode_tui.ingest.models import DocumentIndex, Section


def _pages(s: Section) -> str:
    if not s.pages:
        return ""
    return f" · p.{s.pages[0]}" if len(s.pages) == 1 else f" · p.{s.pages[0]}–{s.pages[-1]}"


def render_tree(index: DocumentIndex) -> Tree:
    """A rich Tree of the sections: number, title, own/subtree tokens and pages."""
    meta = [index.format]
    if index.page_count:
        meta.append(f"{index.page_count} pages")
    meta.append(f"{index.total_tokens:,} tokens")
    title = escape(index.title or Path(index.source_path).name)
    tree = Tree(f"[bold]{title}[/] [dim]({', '.join(meta)})[/]")

    def add(node: Tree, s: Section) -> None:
        own, total = s.token_count, s.subtree_tokens()
        toks = f"{own:,} tok" if own == total else f"{own:,}/{total:,} tok"
        num = f"[bold cyan]{escape(s.number)}[/] " if s.number else ""
        child = node.add(f"{num}{escape(s.title)} [dim]{toks}{_pages(s)}[/]")
        for c in s.children:
            add(child, c)

    for s in index.sections:
        add(tree, s)
    return tree


def _summary(index: DocumentIndex) -> str:
    parts = []
    for name, seq in (
        ("equations", index.equations),
        ("algorithms", index.algorithms),
        ("tables", index.tables),
        ("figures", index.figures),
        ("hyperparameters", index.hyperparameters),
        ("references", index.references),
        ("chunks", index.chunks),
    ):
        parts.append(f"{len(seq)} {name}")
    return ", ".join(parts)


@click.command("index")
@click.argument("doc", type=click.Path(path_type=Path, dir_okay=True))
@click.option("--json", "as_json", is_flag=True, help="Print the whole index as JSON instead of the tree.")
@click.option(
    "--pdf-engine",
    type=click.Choice(PDF_ENGINES),
    default="default",
    show_default=True,
    help="PDF parser; 'marker' needs deepcode-tui[marker] and its downloaded models.",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=1),
    default=120,
    show_default=True,
    help="Give up after this many seconds.",
)
@click.option(
    "--save",
    "save_to",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the index JSON to this file (atomically).",
)
def index_cmd(doc: Path, as_json: bool, pdf_engine: str, timeout_s: float, save_to: Path | None) -> None:
    """Index DOC (PDF, Markdown, LaTeX, text or a short requirement) and print its section tree."""
    index = load_document(doc, pdf_engine=pdf_engine, timeout_s=timeout_s)
    if save_to is not None:
        index.save(save_to)
    err = Console(stderr=True, highlight=False)
    for note in index.notes:
        err.print(f"[yellow]note:[/] {escape(note)}")
    if as_json:
        click.echo(index.to_json())
        return
    out = Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 120)
    out.print(render_tree(index))
    out.print(f"[dim]{_summary(index)}[/]")
