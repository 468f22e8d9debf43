"""The default PDF engine: pdfium text -> layout -> headings -> elements."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from deepcode_tui.errors import InputError
from deepcode_tui.ingest.elements import Element
from deepcode_tui.ingest.isolate import IsolatedTimeout, run_isolated
from deepcode_tui.ingest.pdf.artifacts import drop_running_heads
from deepcode_tui.ingest.pdf.blocks import build_elements
from deepcode_tui.ingest.pdf.extract import ExtractTimeout, PdfText, extract_pdf
from deepcode_tui.ingest.pdf.floats import mark_footnotes
from deepcode_tui.ingest.pdf.front import mark_front_matter
from deepcode_tui.ingest.pdf.headings import HeadingFinder, body_size
from deepcode_tui.ingest.pdf.layout import (
    Line,
    assign_gaps,
    document_gutter,
    gutter_fits,
    page_lines,
    prepare_page,
)

ENGINE_NAME = "pdfium"
LONG_DOCUMENT_PAGES = 150


@dataclass
class PdfParse:
    elements: list[Element]
    title: str
    page_count: int
    notes: list[str] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)


def _title(lines: list[Line], body: float, meta_title: str) -> str:
    """The biggest text near the top of page 1 (joined over its lines), else the metadata title."""
    first = [ln for ln in lines if ln.page == 1 and ln.top < 0.45 * (ln.page_height or 792) and not ln.kind]
    if first:
        big = max(ln.size for ln in first)
        if big >= 1.2 * body:
            group = [ln for ln in first if abs(ln.size - big) < 0.3]
            group.sort(key=lambda ln: ln.top)
            picked = [group[0]]
            for ln in group[1:]:
                if ln.top - picked[-1].bottom < 1.2 * big:
                    picked.append(ln)
            title = " ".join(ln.text for ln in picked)
            title = " ".join(title.replace("\x02", "-").split())
            if 3 <= len(title) <= 300:
                return title
    meta = meta_title.strip()
    if meta and not re.match(
        r"^(?:microsoft word|untitled|document\d*|\S+\.(?:dvi|docx?|tex)$)", meta, re.IGNORECASE
    ):
        return meta
    return ""


def analyse(text: PdfText) -> PdfParse:
    """Everything after extraction; pure Python over the extracted spans."""
    t0 = time.perf_counter()
    preps = [prepare_page(p) for p in text.pages]
    doc_gutter = document_gutter(text.pages, preps)
    pages = []
    for p, prep in zip(text.pages, preps):
        if prep is None:
            pages.append([])
            continue
        gutter = prep.gutter
        if gutter is None and doc_gutter is not None and gutter_fits(p, prep, doc_gutter):
            gutter = doc_gutter
        pages.append(page_lines(p, prep, gutter))
    pages, dropped = drop_running_heads(pages)
    lines = [ln for p in pages for ln in p]
    mark_footnotes(pages, body_size([ln for ln in lines if not ln.kind]))
    mark_front_matter(lines)
    assign_gaps(lines)
    finder = HeadingFinder(lines, text.outline)
    headings = finder.find()
    elements = build_elements(lines, headings, finder.body, finder.line_gap)
    notes: list[str] = []
    empty = [p.number for p in text.pages if not p.spans]
    if empty and len(empty) < len(text.pages):
        shown = ", ".join(map(str, empty[:10])) + ("..." if len(empty) > 10 else "")
        notes.append(f"{len(empty)} page(s) have no text layer (scanned?) and were skipped: {shown}")
    if text.page_count >= LONG_DOCUMENT_PAGES:
        notes.append(
            f"long document ({text.page_count} pages): is this a thesis or book rather than a paper?"
        )
    return PdfParse(
        elements=elements,
        title=_title(lines, finder.body, text.title),
        page_count=text.page_count,
        notes=notes,
        stats={
            "lines": len(lines),
            "headings": len(headings),
            "running_heads_dropped": dropped,
            "analyse_s": time.perf_counter() - t0,
        },
    )


def _parse(path: Path, deadline: float | None) -> PdfParse:
    t0 = time.perf_counter()
    text = extract_pdf(path, deadline=deadline)
    t1 = time.perf_counter()
    if not any(p.spans for p in text.pages):
        if text.page_count == 0:
            raise InputError(f"{path.name} has no pages", "check that the PDF is complete")
        raise InputError(
            f"{path.name} has no text layer ({text.page_count} page(s) of images only: a scan?)",
            "run OCR first (e.g. `ocrmypdf in.pdf out.pdf`) or use --pdf-engine marker",
        )
    parsed = analyse(text)
    parsed.stats["extract_s"] = t1 - t0
    return parsed


def parse_pdf(
    path: Path, *, timeout_s: float = 120.0, isolate: bool = True, reported_timeout: float | None = None
) -> PdfParse:
    """Parse a PDF with the default engine within `timeout_s` seconds.

    Raises InputError for unreadable, encrypted or image-only PDFs and when
    the timeout passes (the child process doing the work is killed).
    """
    deadline = time.monotonic() + timeout_s
    try:
        if isolate:
            return run_isolated(_parse, path, deadline, timeout_s=timeout_s + 1.0)
        return _parse(path, deadline)
    except (IsolatedTimeout, ExtractTimeout) as e:
        done = f" ({e.done} of {e.total} pages read)" if isinstance(e, ExtractTimeout) else ""
        raise InputError(
            f"Parsing {path.name} took longer than {reported_timeout or timeout_s:g} s{done}",
            "raise the timeout, or split the document and index the part you need",
        ) from None
