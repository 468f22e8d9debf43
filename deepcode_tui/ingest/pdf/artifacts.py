"""Page furniture that is not the paper's text: running heads, page numbers, line numbers."""

from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deepcode_tui.ingest.pdf.extract import Span
    from deepcode_tui.ingest.pdf.layout import Line

MARGIN_FRAC = 0.085  # running headers and footers live in this top/bottom fraction of the page
_PAGE_NUM = re.compile(
    r"^(?:page\s*)?[-–—(\[]?\s*(?:\d{1,4}|[ivxlcdm]{1,7})\s*[-–—)\]]?(?:\s*(?:of|/)\s*\d{1,4})?$",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_LINE_NO = re.compile(r"^\d{1,5}$")


def strip_line_numbers(rows: list[list[Span]]) -> list[list[Span]]:
    """Drop review-copy line numbers (lineno): a number at the start or end of most rows."""

    def num(s: Span) -> int | None:
        t = s.text.strip()
        return int(t) if _LINE_NO.match(t) else None

    def lead_of(row: list[Span]) -> Span | None:
        if len(row) >= 2 and num(row[0]) is not None and row[1].x0 - row[0].x1 >= 4:
            return row[0]
        return None

    def tail_of(row: list[Span]) -> Span | None:
        if len(row) >= 2 and num(row[-1]) is not None and row[-1].x0 - row[-2].x1 >= 4:
            return row[-1]
        return None

    def numbered(pick) -> bool:
        # Line numbers count up down the page; a few numbered list items do not look like that.
        vals = [num(sp) for sp in (pick(r) for r in rows) if sp is not None]
        if len(vals) < 3:
            return False
        rising = sum(1 for a, b in pairwise(vals) if 0 < b - a <= 3)
        # Numbering runs on across pages, so on later pages the numbers are large.
        median = sorted(vals)[len(vals) // 2]
        return rising >= 0.8 * (len(vals) - 1) and (len(vals) >= 0.2 * len(rows) or median >= 30)

    strip_lead, strip_tail = numbered(lead_of), numbered(tail_of)
    if not (strip_lead or strip_tail):
        return rows
    out = []
    for row in rows:
        drop = set()
        if strip_lead and lead_of(row) is not None:
            drop.add(id(row[0]))
        if strip_tail and tail_of(row) is not None:
            drop.add(id(row[-1]))
        row = [sp for sp in row if id(sp) not in drop]
        if row:
            out.append(row)
    return out


def _norm_repeat(text: str) -> str:
    return _DIGITS.sub("#", " ".join(text.lower().split()))


def drop_running_heads(pages: list[list[Line]]) -> tuple[list[list[Line]], int]:
    """Remove running headers/footers and page numbers; returns the pages and how many lines went."""
    n_pages = len(pages)
    counts: Counter[str] = Counter()
    for lines in pages:
        seen = set()
        for ln in lines:
            if _in_margin(ln):
                key = _norm_repeat(ln.text)
                if key not in seen:
                    seen.add(key)
                    counts[key] += 1
    need = max(2, int(0.3 * n_pages + 0.5)) if n_pages >= 3 else 2
    dropped = 0
    out = []
    for lines in pages:
        kept = []
        for ln in lines:
            if _in_margin(ln) and (_PAGE_NUM.match(ln.text.strip()) or counts[_norm_repeat(ln.text)] >= need):
                dropped += 1
                continue
            kept.append(ln)
        out.append(kept)
    return out, dropped


def _in_margin(ln: Line) -> bool:
    h = ln.page_height or 792.0
    return ln.top < MARGIN_FRAC * h or ln.bottom > (1 - MARGIN_FRAC) * h
