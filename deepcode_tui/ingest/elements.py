"""The flat element stream every parser produces and the index builder consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ElementKind = Literal[
    "heading", "para", "equation", "algorithm", "table", "caption", "code", "reference", "footnote"
]


@dataclass(slots=True)
class Element:
    """One block of a document in reading order.

    Headings carry ``level`` (1 = top) and ``number``; equations, captions,
    tables and algorithms carry ``label`` ("(3)", "Figure 2", "Table 1",
    "Algorithm 1"); tables may carry their ``caption``. ``page`` is 1-based
    (None for formats without pages). Footnotes are kept apart from the flow:
    the builder keeps page-1 notes (affiliations, venue) as front matter.
    """

    kind: ElementKind
    text: str
    page: int | None = None
    level: int = 1
    number: str = ""
    label: str = ""
    caption: str = ""
    pages: list[int] = field(default_factory=list)  # every page the block touches (PDF)
    inner: str = ""  # a figure caption: the text drawn inside the figure (labels, legends, ticks)

    def all_pages(self) -> list[int]:
        if self.pages:
            return self.pages
        return [self.page] if self.page is not None else []
