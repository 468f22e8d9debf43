"""Floats and notes on a page, from the drawing under the text: figures, ruled tables, footnotes.

The text layer alone cannot tell a plot's tick labels from a table, or a
footnote from a paragraph; the page's graphics can. Figures are images,
embedded forms and clusters of drawn paths (`extract._page_graphics`); text
drawn inside one is the figure's own (labels, legends, ticks) and leaves the
reading flow as one ``kind="figure"`` line kept with the figure. Tables are
recognised from their rules (two or more thin horizontal lines of the same
extent, as booktabs draws them); their rows are never split into columns.
Footnotes are the small-type lines at the foot of a column, under a short
rule or starting with a note mark.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

from deepcode_tui.ingest.pdf.extract import Box, PageText

_CAPTION_START = re.compile(
    r"^(?:fig(?:ure)?|table|tab|algorithm|alg|listing)\.?\s*(?:[A-Z]\.?)?\d{1,3}[a-z]?\s*[:.|]", re.IGNORECASE
)
_TABLE_OR_ALG = re.compile(r"^(?:table|tab|algorithm|alg|listing)\.?\s*(?:[A-Z]\.?)?\d{1,3}", re.IGNORECASE)
_NOTE_MARK = re.compile(r"^(?:[*∗†‡§¶]+|\d{1,2}|[a-z])$")
_FRONT_NOTE = re.compile(
    r"@|\b(?:universit|institut|department|laborator|school of|college|correspond|equal contribution|"
    r"contributed equally|proceedings|conference|copyright|preprint|work (?:done|performed)|"
    r"arxiv|licen[cs]e|http|affiliat|faculty|inc\.|corporation|google|microsoft|meta)",
    re.IGNORECASE,
)
MAX_TABLE_HEIGHT = 420.0  # points between the first and last rule of one table


def table_regions(page: PageText) -> list[Box]:
    """Boxes spanned by groups of two or more rules with the same horizontal extent."""
    rules = [r for r in page.rules if r[2] - r[0] >= 0.2 * page.width]
    rules.sort(key=lambda r: r[1])
    used = [False] * len(rules)
    out: list[Box] = []
    for i, r in enumerate(rules):
        if used[i]:
            continue
        group = [r]
        for j in range(i + 1, len(rules)):
            s = rules[j]
            if used[j] or abs(s[0] - r[0]) > 4 or abs(s[2] - r[2]) > 4:
                continue
            if s[1] - group[-1][1] > MAX_TABLE_HEIGHT or s[1] - group[-1][1] < 1.0:
                if s[1] - group[-1][1] < 1.0:
                    used[j] = True  # a doubled rule
                continue
            group.append(s)
            used[j] = True
        for part in _split_at_breaks(page, group):
            if len(part) >= 2:
                out.append((min(g[0] for g in part), part[0][1], max(g[2] for g in part), part[-1][3]))
    return out


_HEADING_LINE = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*|[A-Z](?:\.\d{1,2})+)\.?\s+[A-Z]")


def _split_at_breaks(page: PageText, group: list[Box]) -> list[list[Box]]:
    """Rules of one extent on a page may belong to two floats (two stacked tables, a table and a
    ruled algorithm): a caption or a bold numbered heading between two rules starts a new one."""
    if len(group) < 3 or not page.spans:
        return [group]
    parts, cur = [], [group[0]]
    for a, b in itertools.pairwise(group):
        rows: dict[int, list] = {}
        for sp in page.spans:
            mid = (sp.top + sp.bottom) / 2
            if a[3] < mid < b[1] and sp.x1 > a[0] and sp.x0 < a[2]:
                rows.setdefault(round(sp.base), []).append(sp)
        brk = False
        for row in rows.values():
            row.sort(key=lambda sp: sp.x0)
            text = " ".join(sp.text.strip() for sp in row).strip()
            if _CAPTION_START.match(text) or (row[0].bold and _HEADING_LINE.match(text)):
                brk = True
                break
        if brk:
            parts.append(cur)
            cur = []
        cur.append(b)
    parts.append(cur)
    return parts


_TABLE_CAPTION = re.compile(r"^(?:table|tab)\.?\s*(?:[A-Z]\.?)?\d{1,3}[a-z]?\s*[:.|]", re.IGNORECASE)


def _captioned_table(lines: list, b: Box) -> bool:
    """A "Table N." caption just above the box's first rule or just below its last."""
    return any(
        _TABLE_CAPTION.match(ln.text.strip())
        and ln.x1 > b[0]
        and ln.x0 < b[2]
        and (0 <= b[1] - ln.bottom <= 36 or 0 <= ln.top - b[3] <= 36)
        for ln in lines
    )


def unmark_prose_boxes(lines: list, tables: list[Box]) -> None:
    """A ruled box of sentences (an example, a definition) is not a table: its lines stay text.
    Unless a "Table N" caption sits at its edge: a table of generated text (prompts and
    continuations) is sentences in cells, and still a table."""
    for b in tables:
        if _captioned_table(lines, b):
            continue
        inside = [
            ln
            for ln in lines
            if ln.kind == "table" and in_box((ln.x0 + ln.x1) / 2, (ln.top + ln.bottom) / 2, b, 2.0)
        ]
        if inside and sum(prose_like(ln.text) for ln in inside) > 0.4 * len(inside):
            for ln in inside:
                ln.kind = ""


def in_box(x: float, y: float, b: Box, pad: float = 1.0) -> bool:
    return b[0] - pad <= x <= b[2] + pad and b[1] - pad <= y <= b[3] + pad


def _words(text: str) -> int:
    return len(re.findall(r"[A-Za-z]{2,}", text))


def prose_like(text: str, min_words: int = 7) -> bool:
    """A sentence, not a row of labels: enough words, mostly lower case, few repeated."""
    words = re.findall(r"[A-Za-z]{2,}", text)
    if len(words) < min_words:
        return False
    lower = sum(1 for w in words if w[0].islower())
    return lower >= 0.5 * len(words) and len({w.lower() for w in words}) >= 0.7 * len(words)


def collapse_figure(page: PageText, box: Box, inside: list, lines: list, gutter: float | None) -> list:
    """Add the lines drawn inside figure `box` to `lines`: its own text as one ``kind="figure"``
    line, and back as ordinary lines what is not the figure's own: caption lines and their
    continuation, prose (a framed box of text is not a figure); the whole box when a table or
    algorithm caption sits in or next to it (shaded tables and algorithm frames are drawn with
    paths too)."""
    if not inside:
        return lines
    near = [ln for ln in lines if ln.x1 > box[0] and ln.x0 < box[2] and box[1] - 40 <= ln.top <= box[3] + 40]
    if any(_TABLE_OR_ALG.match(ln.text.strip()) for ln in near + inside):
        return lines + inside
    text_w = (gutter if gutter is not None else page.width * 0.8) or 1.0
    inside = sorted(inside, key=lambda ln: ln.top)
    keep: list = []
    fig: list = []
    caption = None
    for ln in inside:
        text = ln.text.strip()
        if _CAPTION_START.match(text):
            caption = ln
            keep.append(ln)
            continue
        if (
            caption is not None
            and ln.col == caption.col
            and ln.top - caption.bottom < 0.9 * max(ln.size, 1.0)
            and ln.x0 >= caption.x0 - ln.size
        ):
            caption = ln
            keep.append(ln)
            continue
        caption = None
        if prose_like(text) and ln.x1 - ln.x0 >= 0.6 * text_w:
            keep.append(ln)
        else:
            fig.append(ln)
    chars = sum(len(ln.text) for ln in inside) or 1
    captioned = any(_CAPTION_START.match(ln.text.strip()) for ln in keep)
    if not fig or (sum(len(ln.text) for ln in keep) > 0.6 * chars and not captioned):
        return lines + inside
    spans_gutter = gutter is not None and box[0] < gutter - 10 and box[2] > gutter + 10
    if gutter is None:
        col = 0
    elif spans_gutter:
        col = -1
    else:
        col = 1 if (box[0] + box[2]) / 2 > gutter else 0
    first = fig[0]
    text = " ".join(ln.text for ln in sorted(fig, key=lambda ln: (round(ln.top), ln.x0)))
    figure_line = replace(
        first,
        text=text,
        cells=[text],
        x0=box[0],
        x1=box[2],
        top=min(ln.top for ln in fig),
        bottom=max(ln.bottom for ln in fig),
        col=col,
        kind="figure",
        lead_bold="",
        bold_frac=0.0,
    )
    return [*lines, *keep, figure_line]


def mark_footnotes(pages: list[list], body: float) -> None:
    """Tag footnote lines (``kind="footnote"``): small type at the foot of a column, under a
    short rule or opening with a note mark, set apart from the text above."""
    for lines in pages:
        if not lines:
            continue
        h = lines[0].page_height or 792.0
        by_col: dict[int, list] = {}
        for ln in lines:
            if ln.kind == "" and ln.bottom > 0.55 * h:
                by_col.setdefault(ln.col, []).append(ln)
        for group in by_col.values():
            group.sort(key=lambda ln: ln.top)
            # The run of small lines reaching the column's foot.
            k = len(group)
            while k > 0 and group[k - 1].size < 0.92 * body and group[k - 1].size > 0:
                k -= 1
            run = group[k:]
            if not run:
                continue
            first = run[0]
            above = group[k - 1] if k > 0 else None
            apart = above is None or first.top - above.bottom > 0.3 * body
            marked = _starts_with_mark(first) or bool(_FRONT_NOTE.search(first.text))
            if apart and (marked or first.ruled):
                for ln in run:
                    ln.kind = "footnote"


def _starts_with_mark(ln) -> bool:
    if not ln.spans:
        return False
    s0 = ln.spans[0]
    t = s0.text.strip()
    if t[:1] in "*∗†‡§¶":
        return True
    return bool(_NOTE_MARK.match(t)) and s0.size < 0.8 * ln.size and len(ln.spans) > 1


def note_rules(page: PageText, lines: list) -> None:
    """Flag lines sitting right under a short rule in the lower half (a footnote separator)."""
    h = page.height or 792.0
    for r in page.rules:
        if r[1] < 0.5 * h or r[2] - r[0] > 0.45 * page.width:
            continue
        below = [ln for ln in lines if 0 <= ln.top - r[3] < 14 and ln.x0 >= r[0] - 6 and ln.x0 <= r[2]]
        for ln in below:
            ln.ruled = True
