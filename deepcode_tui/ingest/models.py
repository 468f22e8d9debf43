"""The paper index: a section tree, keyword-chunk pairs and detected items.

`DocumentIndex` is what every agent reads instead of the paper itself. It is
saved as JSON in the run directory (`save`, atomic) and read back with
`DocumentIndex.load`. The query methods (`section`, `search`, `outline`,
`all_sections`) are thin wrappers over :mod:`deepcode_tui.ingest.query`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from deepcode_tui.errors import RunStoreError

Format = Literal["pdf", "markdown", "latex", "text", "requirement"]
ChunkKind = Literal["text", "equation", "algorithm", "table", "caption", "code", "references"]

SCHEMA_VERSION = 1
INDEX_FILENAME = "document_index.json"  # the conventional name inside a run directory


class Section(BaseModel):
    """One heading and the text directly under it (children hold the rest)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    number: str = ""  # "3.2", "A", "A.1"; "" for unnumbered sections (Abstract, References)
    title: str
    level: int = 1  # 1 = top level
    path: list[str] = Field(default_factory=list)  # titles from the root down to this section
    text: str = ""  # this section's own text, without its children
    pages: list[int] = Field(default_factory=list)  # 1-based pages of its own text (PDF only)
    token_count: int = 0  # tokens of `text`
    children: list[Section] = Field(default_factory=list)

    @property
    def heading(self) -> str:
        """Number and title as printed, e.g. ``"3.2 Attention"``."""
        return f"{self.number} {self.title}".strip()

    def subtree_tokens(self) -> int:
        """Tokens of this section including all its descendants."""
        return self.token_count + sum(c.subtree_tokens() for c in self.children)

    def walk(self) -> Iterator[Section]:
        """This section, then its descendants depth-first in document order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def full_text(self) -> str:
        """Heading plus the text of this section and its descendants, in order."""
        parts = []
        for s in self.walk():
            parts.append(s.heading)
            if s.text:
                parts.append(s.text)
        return "\n\n".join(parts)


class Chunk(BaseModel):
    """A keyword-chunk pair: the heading path is the keyword, `text` the content."""

    id: str
    section_id: str
    heading: str  # e.g. "3.2.1 Scaled Dot-Product Attention"
    text: str
    kind: ChunkKind = "text"
    pages: list[int] = Field(default_factory=list)
    token_count: int = 0


class Equation(BaseModel):
    id: str
    text: str
    label: str = ""  # "(3)" when numbered
    section_id: str = ""
    page: int | None = None


class Algorithm(BaseModel):
    id: str
    title: str  # "Algorithm 1: Training loop" or the first line of the block
    text: str
    section_id: str = ""
    page: int | None = None


class Table(BaseModel):
    id: str
    caption: str = ""
    text: str = ""  # rows, cells separated by " | "
    section_id: str = ""
    page: int | None = None


class FigureCaption(BaseModel):
    id: str
    label: str  # "Figure 3"
    text: str
    section_id: str = ""
    page: int | None = None
    figure_text: str = ""  # text drawn inside the figure (axis labels, legends), kept out of the body


class Hyperparameter(BaseModel):
    name: str  # as written: "learning rate", "β1", "d_model"
    value: str  # as written: "1e-4", "0.9", "512", "100K"
    unit: str = ""  # "steps", "%", "epochs", "ms" when the text gives one
    section_id: str = ""
    page: int | None = None
    context: str = ""  # the sentence or table row it came from
    source: Literal["prose", "table", "algorithm", ""] = ""  # where it was read


class Reference(BaseModel):
    id: str  # "ref-12"
    text: str
    label: str = ""  # "[12]" or "12" when the bibliography is numbered
    year: int | None = None
    title: str = ""  # best guess; may be empty
    urls: list[str] = Field(default_factory=list)
    arxiv_id: str = ""
    doi: str = ""


class DocumentIndex(BaseModel):
    """A hierarchical, queryable index of one document."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = SCHEMA_VERSION
    source_path: str
    format: Format
    engine: str = ""  # which parser produced it: "pdfium", "marker", "markdown", "latex", "text"
    title: str = ""
    page_count: int | None = None
    sections: list[Section] = Field(default_factory=list)
    chunks: list[Chunk] = Field(default_factory=list)
    equations: list[Equation] = Field(default_factory=list)
    algorithms: list[Algorithm] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    figures: list[FigureCaption] = Field(default_factory=list)
    hyperparameters: list[Hyperparameter] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    front_matter: list[str] = Field(default_factory=list)  # page-1 notes: affiliations, venue, e-mail
    total_tokens: int = 0
    notes: list[str] = Field(default_factory=list)  # warnings for the user, e.g. an engine fallback

    _query: Any = PrivateAttr(default=None)

    # ---- persistence -------------------------------------------------
    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    def save(self, path: Path | str) -> Path:
        """Write the index as JSON atomically (never a half-written file). Returns the path."""
        # Imported here: the store package pulls in the run store and every event model, which
        # `deepcode-tui index` (and any reader of an index) does not need.
        from deepcode_tui.store.atomic import write_text_atomic

        path = Path(path)
        write_text_atomic(path, self.to_json())
        return path

    @classmethod
    def load(cls, path: Path | str) -> DocumentIndex:
        """Read an index saved by `save`; raises RunStoreError if missing or damaged."""
        path = Path(path)
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RunStoreError(f"No document index at {path}", "run the ingest step again") from None
        except OSError as e:
            raise RunStoreError(
                f"Cannot read document index {path}: {e.strerror}", "check permissions"
            ) from None
        try:
            data = json.loads(raw)
            if data.get("schema_version", SCHEMA_VERSION) > SCHEMA_VERSION:
                raise RunStoreError(
                    f"Document index {path} was written by a newer deepcode-tui",
                    "upgrade deepcode-tui or re-run the ingest step",
                )
            return cls.model_validate(data)
        except (json.JSONDecodeError, ValidationError, AttributeError) as e:
            raise RunStoreError(
                f"Document index {path} is damaged ({type(e).__name__})",
                "delete it and re-run the ingest step",
            ) from None

    # ---- query API (what agents call) ---------------------------------
    def _q(self):
        if self._query is None:
            from deepcode_tui.ingest.query import IndexQuery

            self._query = IndexQuery(self)
        return self._query

    def all_sections(self) -> list[Section]:
        """Every section, flattened depth-first in document order."""
        return [s for top in self.sections for s in top.walk()]

    def section(self, heading_query: str) -> Section | None:
        """The section best matching a heading or number ("3.2", "Attention", "sec 3.2"), or None."""
        return self._q().section(heading_query)

    def search(self, text: str, budget_tokens: int = 2000) -> list[Chunk]:
        """BM25-ranked chunks for `text`, best first, whose tokens together fit `budget_tokens`."""
        return self._q().search(text, budget_tokens)

    def outline(self, *, max_level: int | None = None) -> str:
        """A compact tree: one line per section with number, title and token count."""
        return self._q().outline(max_level=max_level)

    def numbered_headings(self) -> list[str]:
        """``"number title"`` of every numbered section, in document order."""
        return [s.heading for s in self.all_sections() if s.number]
