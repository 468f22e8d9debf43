"""Segmented reading: the only way an agent sees the paper.

An :class:`IndexReader` serves one agent: the outline, a section by name or
number, a search within a token budget, and lists of the detected items
(equations, algorithm blocks, hyperparameters, tables). Everything it serves
counts against the agent's reading budget, so no conversation can grow past
a set share of the paper. Every section served emits ``SectionRead`` (the
paper-index pane shows which agent read what).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

from deepcode_tui.events.models import SectionRead
from deepcode_tui.llm.types import ToolSpec
from deepcode_tui.tokens import count_tokens, truncate_to_tokens

Emit = Callable[[Any], Awaitable[Any]]


class OutlineArgs(BaseModel):
    pass


class ReadSectionArgs(BaseModel):
    name: str = Field(description='section number or heading, e.g. "3.2" or "Scaled Dot-Product Attention"')


class SearchArgs(BaseModel):
    query: str = Field(description="words to look for")
    budget_tokens: int = Field(800, ge=50, le=4000, description="most tokens of text to return")


class ListItemsArgs(BaseModel):
    kind: Literal["equations", "algorithms", "hyperparameters", "tables"]


class IndexReader:
    """One agent's reading of a DocumentIndex, within ``budget_tokens`` in total."""

    def __init__(
        self,
        index: Any,
        *,
        agent: str,
        budget_tokens: int,
        emit: Emit | None = None,
        max_read_tokens: int = 3000,
    ) -> None:
        self.index = index
        self.agent = agent
        self.budget = max(0, budget_tokens)
        self.used = 0
        self.emit = emit
        self.max_read_tokens = max_read_tokens
        self.sections_read: list[str] = []  # section ids, in reading order
        self.missing: list[str] = []  # names asked for that match no section
        self._full_reads: set[str] = set()

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.used)

    def _exhausted(self) -> str:
        return (
            f"Reading budget used up ({self.used} of {self.budget} tokens). "
            "Answer now from what you have read."
        )

    def _charge(self, text: str) -> str:
        """Fit ``text`` into what is left of the budget and count it."""
        if count_tokens(text) > self.remaining:
            text = truncate_to_tokens(text, self.remaining) + "\n[truncated: reading budget reached]"
        self.used += count_tokens(text)
        return text

    async def record(self, section_id: str, title: str, tokens: int) -> None:
        """Note that this agent was served ``section_id`` and emit ``SectionRead``."""
        self.sections_read.append(section_id)
        if self.emit is not None:
            await self.emit(SectionRead(agent=self.agent, section_id=section_id, title=title, tokens=tokens))

    # -- tool handlers ----------------------------------------------------------

    async def outline(self, _: OutlineArgs | None = None) -> str:
        if self.remaining <= 0:
            return self._exhausted()
        return self._charge(self.index.outline())

    async def read_section(self, args: ReadSectionArgs) -> str:
        if self.remaining <= 0:
            return self._exhausted()
        section = self.index.section(args.name)
        if section is None:
            self.missing.append(args.name)
            tops = "; ".join(s.heading for s in self.index.sections[:25])
            return self._charge(
                f"No section matches {args.name!r}. Use a number or heading from the outline. "
                f"Top-level sections: {tops}"
            )
        if section.id in self._full_reads:
            return f"{section.heading} was already returned earlier in this conversation; it is not repeated."
        body = section.full_text()
        cap = min(self.max_read_tokens, self.remaining)
        if count_tokens(body) > cap:
            subs = ", ".join(c.heading for c in section.children)
            note = f"\n[truncated at {cap} tokens" + (
                f"; read subsections for the rest: {subs}]" if subs else "]"
            )
            body = truncate_to_tokens(body, cap - count_tokens(note)) + note
        text = self._charge(body)
        self._full_reads.add(section.id)
        await self.record(section.id, section.heading, count_tokens(text))
        return text

    async def search(self, args: SearchArgs) -> str:
        if self.remaining <= 0:
            return self._exhausted()
        budget = min(args.budget_tokens, self.remaining)
        chunks = self.index.search(args.query, budget)
        if not chunks:
            return self._charge(f"Nothing in the paper matches {args.query!r}.")
        parts = [f"[{c.heading}]\n{c.text}" for c in chunks]
        text = self._charge("\n\n".join(parts))
        titles = {s.id: s.heading for s in self.index.all_sections()}
        for c in chunks:
            await self.record(
                c.section_id, titles.get(c.section_id, c.heading), c.token_count or count_tokens(c.text)
            )
        return text

    async def list_items(self, args: ListItemsArgs) -> str:
        if self.remaining <= 0:
            return self._exhausted()
        titles = {s.id: s.heading for s in self.index.all_sections()}
        lines: list[str] = []
        if args.kind == "equations":
            for e in self.index.equations:
                lines.append(
                    f"{e.label or e.id} [{titles.get(e.section_id, '')}]: {' '.join(e.text.split())}"
                )
        elif args.kind == "algorithms":
            for a in self.index.algorithms:
                lines.append(f"{a.title} [{titles.get(a.section_id, '')}]:\n{a.text}")
        elif args.kind == "hyperparameters":
            for h in self.index.hyperparameters:
                # The unit and a table origin tell the agent what the number is ("4000 steps").
                unit = f" {h.unit}" if getattr(h, "unit", "") and h.unit.lower() not in h.name.lower() else ""
                origin = " (table)" if getattr(h, "source", "") == "table" else ""
                lines.append(f"{h.name} = {h.value}{unit} [{titles.get(h.section_id, '')}]{origin}")
        else:
            for t in self.index.tables:
                lines.append(f"{t.caption or t.id} [{titles.get(t.section_id, '')}]:\n{t.text}")
        if not lines:
            return self._charge(f"No {args.kind} were detected in the paper.")
        return self._charge("\n".join(lines))

    def tools(
        self, kinds: tuple[str, ...] = ("outline", "read_section", "search", "list_items")
    ) -> list[ToolSpec]:
        """The reading tools, for :meth:`Gateway.with_tools`."""
        specs = {
            "outline": ToolSpec(
                name="outline",
                description="The paper's section tree: numbers, headings and token counts.",
                args=OutlineArgs,
                handler=self.outline,
            ),
            "read_section": ToolSpec(
                name="read_section",
                description="Read one section (with its subsections) by number or heading.",
                args=ReadSectionArgs,
                handler=self.read_section,
            ),
            "search": ToolSpec(
                name="search",
                description="Search the paper; returns the best matching passages within budget_tokens.",
                args=SearchArgs,
                handler=self.search,
            ),
            "list_items": ToolSpec(
                name="list_items",
                description="Items detected in the paper: equations, algorithms, hyperparameters or tables.",
                args=ListItemsArgs,
                handler=self.list_items,
            ),
        }
        return [specs[k] for k in kinds]
