"""Spans -> lines in reading order: rows, columns, bands.

Running heads and line numbers are removed by :mod:`.artifacts`. Two-column
pages are recognised by a vertical strip near the middle that prose lines
never cross; lines crossing it (titles, wide floats) cut the page into bands,
and each band is read left column first, then right column.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from deepcode_tui.ingest.pdf.artifacts import strip_line_numbers
from deepcode_tui.ingest.pdf.extract import SOFT_HYPHEN, PageText, Span

FRAG_GAP_EM = 0.9  # a horizontal gap wider than this (in font sizes) separates cells / columns
TABLE_GAP_EM = 0.5  # inside a ruled table, cells sit closer


@dataclass(slots=True)
class Line:
    """One line of text within one column (or across the page), with style facts."""

    page: int
    text: str
    cells: list[str]
    x0: float
    x1: float
    top: float
    bottom: float
    base: float
    size: float  # size of most characters
    bold_frac: float  # share of letters set in bold
    italic_frac: float
    math_frac: float
    mono_frac: float
    lead_bold: str  # text of the leading bold spans ("Encoder:" in "Encoder: The encoder ...")
    col: int  # -1 across the page, 0 left/single column, 1 right column
    col_x0: float = 0.0
    col_x1: float = 0.0
    band: int = 0
    gap_above: float = 1e9
    page_width: float = 0.0
    page_height: float = 0.0
    kind: str = ""  # "" text, "figure" (text drawn inside a figure), "table" (inside ruled table), "footnote"
    ruled: bool = False  # right under a short rule low on the page (a footnote separator)
    spans: list[Span] = field(default_factory=list, repr=False)

    @property
    def width(self) -> float:
        return self.x1 - self.x0


def _join_spans(spans: list[Span]) -> str:
    out: list[str] = []
    prev: Span | None = None
    for s in spans:
        t = s.text
        if prev is not None:
            gap = s.x0 - prev.x1
            need = s.space_before or gap > 0.18 * min(s.size, prev.size)
            # Sub/superscripts hug their base: "GPT2" + "DPO" stays one word.
            if gap < 0.08 * prev.size and (s.size < 0.85 * prev.size or prev.size < 0.85 * s.size):
                need = False
            if need and out and not out[-1].endswith((" ", SOFT_HYPHEN)) and not t.startswith(" "):
                out.append(" ")
        out.append(t)
        prev = s
    return "".join(out).strip()


def _style(spans: list[Span]) -> tuple[float, float, float, float, float, str]:
    by_size: dict[float, int] = {}
    bold = italic = mth = mono = total = 0
    for s in spans:
        t = s.text
        n = len(t) - t.count(" ") or 1
        total += n
        key = round(s.size, 1)
        by_size[key] = by_size.get(key, 0) + n
        if s.bold:
            bold += n
        if s.italic:
            italic += n
        if s.math:
            mth += n
        if s.mono:
            mono += n
    # Inline math in a heading is set in math fonts, rarely bold: the heading's weight is its words'.
    plain = total - sum(len(s.text) - s.text.count(" ") for s in spans if s.math and not s.bold)
    total = total or 1
    if plain > 0 and bold:
        bold = bold * total / plain if plain < total else bold
    size = max(by_size.items(), key=lambda kv: kv[1])[0] if by_size else 0.0
    lead_text = ""
    if spans[0].bold and not all(s.bold for s in spans):
        lead = []
        for s in spans:
            if not s.bold:
                break
            lead.append(s)
        lead_text = _join_spans(lead)
    return size, min(1.0, bold / total), italic / total, mth / total, mono / total, lead_text


def _make_line(page: PageText, spans: list[Span], cells: list[list[Span]], col: int) -> Line:
    size, b, i, m, mono, lead = _style(spans)
    texts = [_join_spans(c) for c in cells] if len(cells) > 1 else [_join_spans(spans)]
    s0 = spans[0]
    x0, x1, top, bottom = s0.x0, s0.x1, s0.top, s0.bottom
    for s in spans:
        x0 = min(x0, s.x0)
        x1 = max(x1, s.x1)
        top = min(top, s.top)
        bottom = max(bottom, s.bottom)
    bases = sorted(s.base for s in spans)
    return Line(
        page=page.number,
        text=" ".join(t for t in texts if t),
        cells=texts,
        x0=x0,
        x1=x1,
        top=top,
        bottom=bottom,
        base=bases[len(bases) // 2],
        size=size,
        bold_frac=b,
        italic_frac=i,
        math_frac=m,
        mono_frac=mono,
        lead_bold=lead,
        col=col,
        page_width=page.width,
        page_height=page.height,
        spans=spans,
    )


def _rows(spans: list[Span]) -> list[list[Span]]:
    """Group spans sharing a baseline (sub/superscripts are re-attached per column later)."""
    spans = sorted(spans, key=lambda s: (s.base, s.x0))
    rows: list[list[Span]] = []
    row_base = row_size = 0.0
    for s in spans:
        if rows and abs(s.base - row_base) <= 0.22 * max(s.size, row_size):
            rows[-1].append(s)
            row_size = max(row_size, s.size)
            continue
        rows.append([s])
        row_base, row_size = s.base, s.size
    for row in rows:
        row.sort(key=lambda s: s.x0)
    return rows


def _attach_scripts(page: PageText, lines: list[Line], gutter: float | None) -> list[Line]:
    """Fold lines of small raised/lowered text (indices, exponents) into the line they belong to."""
    by_col: dict[int, list[Line]] = {}
    for ln in lines:
        by_col.setdefault(ln.col, []).append(ln)
    out: list[Line] = []
    for col, group in by_col.items():
        group.sort(key=lambda ln: ln.top)
        absorbed: set[int] = set()
        extra: dict[int, list[Span]] = {}
        for i, ln in enumerate(group):
            if i in absorbed:
                continue
            # Scripts are short tokens (indices, exponents, limits); a real line of text is not.
            if any(len(s.text.strip()) > 10 for s in ln.spans):
                continue
            centre = (ln.top + ln.bottom) / 2
            best = None
            for j in (i - 1, i + 1, i - 2, i + 2):
                if j < 0 or j >= len(group) or j == i or j in absorbed:
                    continue
                other = group[j]
                if ln.size >= 0.88 * other.size or not other.top - 1.5 <= centre <= other.bottom + 1.5:
                    continue
                if ln.x0 < other.x0 - 2 * other.size or ln.x1 > other.x1 + 2 * other.size:
                    continue
                best = j
                break
            if best is not None:
                absorbed.add(i)
                extra.setdefault(best, []).extend(ln.spans)
        for i, ln in enumerate(group):
            if i in absorbed:
                continue
            if i in extra:
                spans = sorted(ln.spans + extra[i], key=lambda s: s.x0)
                merged = _make_line(page, spans, _fragments(spans), col)
                merged.kind = ln.kind
                merged.base = ln.base
                merged.size = ln.size
                out.append(merged)
            else:
                out.append(ln)
    return out


def _fragments(row: list[Span], gap_em: float = FRAG_GAP_EM) -> list[list[Span]]:
    frags: list[list[Span]] = []
    right = 0.0  # the current fragment's right edge
    for s in row:
        if frags:
            prev = frags[-1][-1]
            if s.x0 - right <= gap_em * (max(prev.size, s.size)):
                frags[-1].append(s)
                right = max(right, s.x1)
                continue
        frags.append([s])
        right = s.x1
    return frags


def find_gutter(page: PageText, frags: list[list[Span]]) -> float | None:
    """x of the gap between two text columns, or None for a single-column page."""
    w = page.width
    if w <= 0:
        return None
    # Only column-wide prose counts: page-wide lines (titles, abstracts) say nothing about columns.
    prose = []
    for f in frags:
        if sum(len(s.text) for s in f) < 25:
            continue
        x0, x1 = min(s.x0 for s in f), max(s.x1 for s in f)
        # Centred lines (title block, centred captions) cross the middle without being columns.
        if x1 - x0 < 0.55 * w and abs((x0 + x1) / 2 - w / 2) > 0.06 * w:
            prose.append((x0, x1))
    if len(prose) < 10:
        return None
    bins = 120
    step = w / bins
    delta = [0] * (bins + 1)
    for x0, x1 in prose:
        delta[max(0, int(x0 / step))] += 1
        delta[min(bins - 1, int(x1 / step)) + 1] -= 1
    cover, run = [0] * bins, 0
    for k in range(bins):
        run += delta[k]
        cover[k] = run
    lo, hi = int(bins * 0.3), int(bins * 0.7)
    # Wide floats (tables, captions) cross the gutter too, so compare the dip with the
    # columns' own level rather than demanding an empty strip.
    left_level = sorted(cover[int(bins * 0.12) : int(bins * 0.38)])
    right_level = sorted(cover[int(bins * 0.62) : int(bins * 0.88)])
    if not left_level or not right_level:
        return None
    side = min(left_level[len(left_level) // 2], right_level[len(right_level) // 2])
    if side < 4:
        return None
    thr = 0.45 * side
    best = None
    k = lo
    while k < hi:
        if cover[k] <= thr:
            j = k
            while j < hi and cover[j] <= thr:
                j += 1
            if best is None or (j - k) > (best[1] - best[0]):
                best = (k, j)
            k = j
        else:
            k += 1
    if best is None:
        return None
    g = (best[0] + best[1]) / 2 * step
    left = sorted(x1 for x0, x1 in prose if x1 <= g + 3 * step)
    right = sorted(x0 for x0, x1 in prose if x0 >= g - 3 * step)
    if len(left) < 4 or len(right) < 4:
        return None
    # The histogram is coarse (a bin is ~5 pt): centre the gutter between the columns' own edges,
    # or a left column that reaches past the bin's middle crosses it.
    l_edge = left[min(len(left) - 1, int(0.95 * len(left)))]
    r_edge = right[int(0.05 * len(right))]
    if l_edge < r_edge:
        g = (l_edge + r_edge) / 2
    return g


@dataclass(slots=True)
class PagePrep:
    """Rows and fragments of a page, and the column gutter its own text shows (None: one column)."""

    rows: list[list[Span]]
    row_frags: list[list[list[Span]]]
    gutter: float | None
    figure_spans: list[list[Span]] = field(default_factory=list)  # per page.figures box


def _split_figure_spans(page: PageText, spans: list[Span]) -> tuple[list[Span], list[list[Span]]]:
    """Spans drawn inside a figure box, apart from the rest. Text set larger than most of the
    page (a heading the box happens to reach) stays with the page."""
    if not page.figures:
        return spans, []
    # The page's body size by characters (a plot's many short labels must not pull it down).
    by_size: Counter[float] = Counter()
    for s in spans:
        by_size[round(s.size, 1)] += len(s.text)
    big = 1.15 * by_size.most_common(1)[0][0]
    boxes = page.figures
    inside: list[list[Span]] = [[] for _ in boxes]
    rest: list[Span] = []
    for s in spans:
        cx, cy = (s.x0 + s.x1) / 2, (s.top + s.bottom) / 2
        for k, b in enumerate(boxes):
            if b[0] - 1 <= cx <= b[2] + 1 and b[1] - 1 <= cy <= b[3] + 1 and s.size < big:
                inside[k].append(s)
                break
        else:
            rest.append(s)
    return rest, inside


def prepare_page(page: PageText) -> PagePrep | None:
    spans = [s for s in page.spans if s.text.strip() and s.size >= 2.0]
    if not spans:
        return None
    spans, figure_spans = _split_figure_spans(page, spans)
    rows = strip_line_numbers(_rows(spans)) if spans else []
    row_frags = [_fragments(r) for r in rows]
    gutter = find_gutter(page, [f for fr in row_frags for f in fr])
    return PagePrep(rows, row_frags, gutter, figure_spans)


def document_gutter(pages: list[PageText], preps: list[PagePrep | None]) -> float | None:
    """The gutter most two-column pages share (to 2 pt), when most pages that show one agree."""
    found = [round(p.gutter / 2) * 2 for p in preps if p is not None and p.gutter is not None]
    if len(found) < 2:
        return None
    g = Counter(found).most_common(1)[0][0]
    near = sum(1 for x in found if abs(x - g) <= 6)
    return float(g) if near >= 0.6 * len(found) else None


def gutter_fits(page: PageText, prep: PagePrep, g: float) -> bool:
    """A page whose own text was too sparse to show a gutter (a big float, a short last page) still
    has the document's columns if its prose lines keep to either side of it."""
    left = right = cross = 0
    for frags in prep.row_frags:
        for f in frags:
            if sum(len(s.text) for s in f) < 25:
                continue
            x0, x1 = f[0].x0, max(s.x1 for s in f)
            if x1 <= g + 2:
                left += 1
            elif x0 >= g - 2:
                right += 1
            elif x1 - x0 < 0.75 * page.width:
                cross += 1
    return left >= 2 and right >= 2 and cross <= 0.1 * (left + right)


def _figure_lines(page: PageText, spans: list[Span], gutter: float | None) -> list[Line]:
    out = []
    for row in _rows(spans):
        frags = _fragments(row)
        ln = _make_line(page, row, frags, 0)
        if gutter is not None:
            ln.col = 1 if ln.x0 >= gutter - 2 else 0 if ln.x1 <= gutter + 2 else -1
        out.append(ln)
    return out


_CAPTION_START = re.compile(r"^(?:fig(?:ure)?|table|tab)\.?\s*[A-Z]?\d{1,3}[a-z]?\s*[:.|]", re.IGNORECASE)


def _widen_float_captions(lines: list[Line]) -> None:
    """A short caption set flush left over (or under) a page-wide table or figure is that float's,
    not the left column's: it goes where the float goes in the reading order."""
    floats = [ln for ln in lines if ln.col == -1 and ln.kind in ("table", "figure")]
    if not floats:
        return
    for ln in lines:
        if ln.col != 0 or not _CAPTION_START.match(ln.text):
            continue
        for fl in floats:
            above = 0 <= fl.top - ln.bottom < 2.5 * ln.size
            below = 0 <= ln.top - fl.bottom < 2.5 * ln.size
            if (above or below) and ln.x0 <= fl.x0 + 3 * ln.size:
                ln.col = -1
                break


def _numeric_frag(f: list[Span]) -> bool:
    t = "".join(s.text for s in f)
    return sum(ch.isdigit() for ch in t) >= max(1, 0.3 * sum(ch.isalnum() for ch in t))


def page_lines(page: PageText, prep: PagePrep | None = None, gutter: float | None = None) -> list[Line]:
    """Lines of one page in reading order, each tagged with its column and band.

    ``gutter`` overrides the page's own (the document's gutter for a sparse page)."""
    from deepcode_tui.ingest.pdf.floats import (
        collapse_figure,
        in_box,
        note_rules,
        table_regions,
        unmark_prose_boxes,
    )

    if prep is None:
        prep = prepare_page(page)
        if prep is None:
            return []
    if gutter is None:
        gutter = prep.gutter
    tables = table_regions(page)
    wide_tables = [b for b in tables if gutter is not None and b[0] < gutter - 10 and b[2] > gutter + 10]
    lines: list[Line] = []
    for row, frags in zip(prep.rows, prep.row_frags):
        mid = (row[0].top + row[0].bottom) / 2
        in_table = (
            [b for b in tables if in_box((row[0].x0 + row[-1].x1) / 2, mid, b, pad=2.0)] if tables else []
        )
        if gutter is None:
            if in_table:
                ln = _make_line(page, row, _fragments(row, TABLE_GAP_EM), 0)
                ln.kind = "table"
            else:
                ln = _make_line(page, row, frags, 0)
            lines.append(ln)
            continue
        if any(in_box(page.width / 2, mid, b, pad=2.0) for b in wide_tables):
            ln = _make_line(page, row, _fragments(row, TABLE_GAP_EM), -1)
            ln.kind = "table"
            lines.append(ln)
            continue
        tol = 2.0
        if len(frags) == 1 and len(row) > 0:
            f0 = frags[0]
            x0f, x1f = f0[0].x0, max(s.x1 for s in f0)
            if x1f <= gutter + tol or x0f >= gutter - tol:
                col = 0 if x1f <= gutter + tol else 1
                lines.append(_make_line(page, row, frags, col))
                if in_table and any(in_box((x0f + x1f) / 2, mid, b, pad=2.0) for b in in_table):
                    ln = _make_line(page, row, _fragments(row, TABLE_GAP_EM), col)
                    ln.kind = "table"
                    lines[-1] = ln
                continue
        left = [f for f in frags if max(s.x1 for s in f) <= gutter + tol]
        right = [f for f in frags if min(s.x0 for s in f) >= gutter - tol]
        crossing = len(left) + len(right) < len(frags)
        col_w = gutter
        # A page-wide table row: several short cells on both sides of the gutter, mostly numbers.
        # (Two prose columns side by side are short cells too, and one short line end on the left
        # beside equation pieces on the right is not a row either.)
        tabular = (
            len(left) >= 2
            and len(right) >= 2
            and sum(len(s.text.strip()) for s in row) >= 12
            and all(max(s.x1 for s in f) - min(s.x0 for s in f) < 0.3 * col_w for f in frags)
            and sum(_numeric_frag(f) for f in frags) >= 0.5 * len(frags)
        )
        if crossing or tabular:
            lines.append(_make_line(page, row, frags, -1))
            continue
        for col, group in ((0, left), (1, right)):
            if group:
                spans = [s for f in group for s in f]
                ln = _make_line(page, spans, group, col)
                cx = (ln.x0 + ln.x1) / 2
                if any(in_box(cx, mid, b, pad=2.0) for b in in_table):
                    ln = _make_line(page, spans, _fragments(spans, TABLE_GAP_EM), col)
                    ln.kind = "table"
                lines.append(ln)
    lines = _attach_scripts(page, lines, gutter)
    unmark_prose_boxes(lines, tables)
    for box, spans in zip(page.figures, prep.figure_spans):
        if spans:
            lines = collapse_figure(page, box, _figure_lines(page, spans, gutter), lines, gutter)
    if gutter is not None:
        _widen_float_captions(lines)
    note_rules(page, lines)
    # Column bounds from the lines themselves, for "short line" and indentation tests.
    text_lines = [ln for ln in lines if ln.kind != "figure"] or lines
    if gutter is None:
        xs0 = [ln.x0 for ln in text_lines]
        xs1 = [ln.x1 for ln in text_lines]
        b0, b1 = (min(xs0), max(xs1)) if lines else (0.0, page.width)
        for ln in lines:
            ln.col_x0, ln.col_x1 = b0, b1
    else:
        for col in (-1, 0, 1):
            group = [ln for ln in text_lines if ln.col == col]
            if not group:
                continue
            b0 = _mode_edge([ln.x0 for ln in group], min)
            b1 = _mode_edge([ln.x1 for ln in group], max)
            for ln in lines:
                if ln.col == col:
                    ln.col_x0, ln.col_x1 = b0, b1
    return _reading_order(lines)


def _mode_edge(values: list[float], pick) -> float:
    """The most common edge (rounded), falling back to the extreme: robust to a few stray lines."""
    c = Counter(round(v) for v in values)
    common = [v for v, n in c.most_common(3) if n >= 3]
    return float(pick(common)) if common else float(pick(values))


def _absorb_between_spanning(lines: list[Line]) -> None:
    """Bits of a wide table between two page-wide rows belong to that table, not to a column."""
    # Only text rows: a figure above and its caption below hold nothing of a table between them.
    spanning = [ln for ln in lines if ln.col == -1 and ln.kind in ("", "table")]
    if len(spanning) < 2:
        return
    spanning.sort(key=lambda ln: ln.top)
    for ln in lines:
        if ln.col == -1:
            continue
        above = below = None
        for sp in spanning:
            if sp.bottom <= ln.top + 2:
                above = sp
            elif sp.top >= ln.bottom - 2 and below is None:
                below = sp
        if above is not None and below is not None and below.top - above.bottom < 3.0 * max(ln.size, 1.0):
            ln.col = -1
            ln.col_x0, ln.col_x1 = above.col_x0, above.col_x1


def _reading_order(lines: list[Line]) -> list[Line]:
    _absorb_between_spanning(lines)
    lines.sort(key=lambda ln: (ln.top, ln.x0))
    out: list[Line] = []
    band = 0
    pending: list[Line] = []

    def flush() -> None:
        nonlocal band
        if pending:
            for col in (0, 1):
                for ln in sorted((p for p in pending if p.col == col), key=lambda p: (p.top, p.x0)):
                    ln.band = band
                    out.append(ln)
            band += 1
            pending.clear()

    for ln in lines:
        if ln.col == -1:
            flush()
            ln.band = band
            out.append(ln)
            band += 1
        else:
            pending.append(ln)
    flush()
    return out


def assign_gaps(lines: list[Line]) -> None:
    """Set `gap_above`: the vertical gap to the nearest line above in the same column and band.

    Lines that overlap vertically (figure labels drawn over a heading's row) are skipped, so a
    heading next to a figure still counts as set apart.
    """
    recent: list[Line] = []
    for ln in lines:
        ln.gap_above = 1e9
        if recent and (recent[-1].page != ln.page or recent[-1].band != ln.band or recent[-1].col != ln.col):
            last = recent[-1]
            recent = []
            if last.page == ln.page and last.col == -1 and ln.col == -1 and ln.band == last.band + 1:
                recent = [last]
        for prev in reversed(recent[-6:]):
            if prev.bottom <= ln.top + 0.3 * ln.size:
                ln.gap_above = ln.top - prev.bottom
                break
        recent.append(ln)
