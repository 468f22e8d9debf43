"""Lines + headings -> elements: paragraphs, equations, tables, algorithms, captions, references."""

from __future__ import annotations

import itertools
import re

from deepcode_tui.ingest.elements import Element
from deepcode_tui.ingest.items import REFERENCES_TITLE
from deepcode_tui.ingest.pdf.extract import SOFT_HYPHEN
from deepcode_tui.ingest.pdf.floats import prose_like
from deepcode_tui.ingest.pdf.headings import Heading
from deepcode_tui.ingest.pdf.layout import Line

_CAPTION = re.compile(
    r"^(?P<label>(?P<kind>fig(?:ure)?|table|tab|algorithm|alg|listing)\.?\s*(?:[A-Z]\.?)?\d{1,3}[a-z]?)\s*[:.|]\s*",
    re.IGNORECASE,
)
_EQNUM = re.compile(r"^\((?:\d{1,3}(?:\.\d{1,3})?[a-z]?|[A-Z]\.\d{1,3})\)$")
_ALG_LINE = re.compile(
    r"^(?:\d{1,3}:|(?:input|output|require|ensure|initiali[sz]e|for|while|if|else|end|return|repeat|until|"
    r"procedure|function|do|parameters?)\b)",
    re.IGNORECASE,
)
_ASSIGN = re.compile(r"←|:=")  # an assignment: a step of pseudo-code
_CONTROL = re.compile(r"(?:for|while|if|else|end|return|repeat|until|do)\b", re.IGNORECASE)
_ALG_START = re.compile(r"^(?:algorithm|procedure)\s+\d{1,3}\b", re.IGNORECASE)
_REF_LABEL = re.compile(r"^\s*(?:\[[\w+\-. ]{1,20}\]|\d{1,3}\.\s)")
_HYPHENATED = re.compile(r"\b([A-Za-z]{2,})-([A-Za-z]{2,})\b")
_WORD = re.compile(r"[A-Za-z]{3,}")
_OPEN_END = re.compile(r"\b(?:in|see|of|and|or|the|from|with|to|by|as|on|than|per)\s*$", re.IGNORECASE)


def _after_float_rows(prev: Line, text: str) -> bool:
    """ "Table 6: Accuracy of ..." right under rows of labels and numbers (an unruled table, a tree
    drawn in text) with no gap: a caption, as long as the line above is no sentence that runs on
    into it ("as shown in / Table 6.")."""
    return ":" in text[:14] and not prose_like(prev.text) and not _OPEN_END.search(prev.text)


_SENT_END = (".", "!", "?", ":", ".”", '."', ".)")


class _Vocab:
    """Words the document itself uses, to decide whether a line-end hyphen is part of the word."""

    def __init__(self, lines: list[Line]) -> None:
        self.hyphenated: set[str] = set()
        self.plain: set[str] = set()
        for ln in lines:
            t = ln.text.rstrip(SOFT_HYPHEN + "-")
            for a, b in _HYPHENATED.findall(t):
                self.hyphenated.add(f"{a}-{b}".lower())
            self.plain.update(w.lower() for w in _WORD.findall(t.replace("-", " ")))

    def join(self, left: str, right: str) -> str:
        """Concatenate two consecutive lines of a paragraph, resolving a line-end hyphen."""
        left = left.rstrip()
        right = right.lstrip()
        if not left:
            return right
        if not right:
            return left
        if left.endswith((SOFT_HYPHEN, "-")) and len(left) >= 2 and left[-2].isalpha():
            body = left[:-1]
            m1 = re.search(r"([A-Za-z]+)$", body)
            m2 = re.match(r"([A-Za-z]+)", right)
            if m1 and m2 and right[0].islower():
                a, b = m1.group(1), m2.group(1)
                if f"{a}-{b}".lower() in self.hyphenated and (a + b).lower() not in self.plain:
                    return f"{body}-{right}"
                return body + right
            if (
                m1
                and m2
                and m1.group(1).isupper()
                and m2.group(1).isupper()
                and (m1.group(1) + m2.group(1)).lower() in self.plain
            ):
                return body + right  # "REALTOXICI-" + "TYPROMPTS" where the paper also writes it whole
            return f"{body}-{right}"
        return f"{left} {right}"


def _clean_inline(text: str) -> str:
    return text.replace(SOFT_HYPHEN, "-")


def _is_equation(ln: Line, body: float) -> tuple[bool, str]:
    label = ""
    if ln.kind:
        return False, ""
    if len(ln.cells) >= 2 and _EQNUM.match(ln.cells[-1].strip()):
        label = ln.cells[-1].strip()
    if ln.math_frac >= 0.45 and len(ln.text) < 300:
        return True, label
    if (
        label
        and (ln.math_frac >= 0.12 or "=" in ln.text)
        and ln.x1 - ln.x0 < 0.98 * (ln.col_x1 - ln.col_x0 + 1)
    ):
        return True, label
    return False, ""


_NUM_TOKEN = re.compile(r"^[(\[]?[-−+±]?\d[\d.,]*[%)\]*†‡]*$|^[-–—]$")


def _numeric_line(ln: Line) -> bool:
    """A row of numbers: "SIF (2017) 78.4 81.4 79.4 89.4": four or more, most of the tokens."""
    toks = ln.text.split()
    nums = sum(1 for t in toks if _NUM_TOKEN.match(t))
    return nums >= 4 and nums >= 0.5 * len(toks)


def _row_cells(ln: Line) -> list[str]:
    """Cells of a table row; a row set without wide gaps ("LEARNING RATE 1E-6", "GPT2 0.45 21.7")
    is split into its leading label and the numbers after it."""
    cells = [c.strip() for c in ln.cells if c.strip()]
    if len(cells) != 1:
        out = []
        for c in cells:  # "0.208 23.34 0.195" set closer than the cell gap: three cells
            toks = c.split()
            out.extend(toks if len(toks) >= 2 and all(_NUM_TOKEN.match(t) for t in toks) else [c])
        return out
    toks = cells[0].split()
    k = len(toks)
    while k > 0 and (
        _NUM_TOKEN.match(toks[k - 1]) or re.fullmatch(r"\d+(?:\.\d+)?[eE][-−+]?\d+", toks[k - 1])
    ):
        k -= 1
    if 0 < k < len(toks):
        return [" ".join(toks[:k]), *toks[k:]]
    return cells


def _numeric_rows(group: list[Line]) -> bool:
    """Aligned numeric columns: most rows have the same number of cells and most cells hold numbers."""
    counts = [len([c for c in g.cells if c.strip()]) for g in group]
    common = max(set(counts), key=counts.count)
    cells = [c for g in group for c in g.cells if c.strip()]
    numeric = sum(1 for c in cells if sum(ch.isdigit() for ch in c) >= 0.3 * max(1, len(c.replace(" ", ""))))
    return common >= 2 and counts.count(common) >= 0.6 * len(group) and numeric >= 0.4 * len(cells)


_TICK = re.compile(r"[-−+]?\d+(?:[.,]\d+)?%?")


def _even(values: list[float]) -> bool:
    """One value repeated (the same tick of plots side by side), or three or more evenly spaced."""
    if len(set(values)) == 1:
        return True
    if len(values) < 3:
        return False
    steps = [b - a for a, b in itertools.pairwise(values)]
    return steps[0] != 0 and all(abs(d - steps[0]) <= 1e-6 * max(1.0, abs(steps[0])) for d in steps)


def _axis_ticks(group: list[Line]) -> bool:
    """Rows of numbers that are a plot's axes, not a table: every row and every column evenly
    spaced or constant ("0 1 2 3 4 5"; "20000 | 20000", "15000 | 15000", ...), with at most two
    short lines of words (the axis titles). A table's measured values are not evenly spaced."""
    numeric: list[list[float]] = []
    titles = 0
    for g in group:
        cells = [tok for cell in _row_cells(g) for tok in cell.split()]
        if cells and all(_TICK.fullmatch(c) for c in cells):
            numeric.append([float(c.replace("−", "-").replace(",", ".").rstrip("%")) for c in cells])
        elif len(g.text) <= 40 and not any(ch.isdigit() for ch in g.text):
            titles += 1
        else:
            return False
    if len(numeric) < 2 or titles > 2 or not all(_even(r) for r in numeric):
        return False
    widths = {len(r) for r in numeric}
    if len(widths) == 1 and len(numeric) >= 3:
        return all(_even([r[k] for r in numeric]) for k in range(len(numeric[0])))
    return True


def _display_math(group: list[Line]) -> bool:
    """Rows that are a multi-line display, not a table: set largely in math fonts, and numbered
    like an equation ("... (14)") or stating a relation. A table's numbers are set in text type."""
    math = sum(g.math_frac for g in group) / len(group)
    numbered = any(len(g.cells) >= 2 and _EQNUM.match(g.cells[-1].strip()) for g in group)
    return (numbered and math >= 0.15) or (math >= 0.35 and any(_RELATION.search(g.text) for g in group))


def _is_tabular(ln: Line) -> bool:
    cells = [c for c in ln.cells if c.strip()]
    if len(cells) >= 3:
        return True
    if len(cells) == 2:
        digits = sum(ch.isdigit() for ch in ln.text)
        letters = sum(ch.isalpha() for ch in ln.text)
        return digits >= 2 and digits >= 0.25 * (letters + digits)
    return False


class BlockBuilder:
    def __init__(self, lines: list[Line], headings: list[Heading], body: float, line_gap: float) -> None:
        self.lines = lines
        self.heads = {h.line: h for h in headings}
        self.consumed = {h.line + k for h in headings for k in range(1, h.n_lines)}
        self.body = body
        self.line_gap = line_gap
        self.vocab = _Vocab(lines)
        self.out: list[Element] = []
        self._ref_hanging = False
        self._figure_text: list[tuple[int, int, str]] = []  # (position in out, page, text)
        self._limits: set[int] = set()  # ids of the limits elements of displays read as prose
        self._eq_prefix = ""  # a formula piece (a sum's limits) waiting for the equation it opens
        self._col_edge: dict[tuple[int, int, int], float] = {}
        for ln in lines:  # the left edge of each column block, for hanging indents
            key = (ln.page, ln.col, ln.band)
            self._col_edge[key] = min(self._col_edge.get(key, ln.x0), ln.x0)

    # ---- helpers -----------------------------------------------------------
    def _para_break(self, prev: Line, ln: Line) -> bool:
        if prev.page != ln.page or prev.col != ln.col or prev.band != ln.band:
            # A paragraph flows on into the next column or page unless the sentence ended.
            return prev.text.rstrip().endswith(_SENT_END)
        if ln.gap_above > max(0.55 * ln.size, 1.8 * self.line_gap):
            return True
        if abs(ln.size - prev.size) > 0.15 * max(ln.size, prev.size):
            return True
        indent = ln.x0 - ln.col_x0
        if 0.7 * ln.size < indent < 4 * ln.size and prev.x0 - prev.col_x0 < 0.5 * ln.size:
            return True
        return prev.x1 < prev.col_x1 - 3 * prev.size and prev.text.rstrip().endswith(_SENT_END)

    def _emit_para(self, group: list[Line]) -> None:
        if not group:
            return
        text = ""
        for ln in group:
            text = self.vocab.join(text, ln.text) if text else ln.text
        text = _clean_inline(text).strip()
        if not text:
            return
        pages = sorted({ln.page for ln in group})
        self.out.append(Element("para", text, page=group[0].page, pages=pages))

    def _collect_while(self, i: int, ok, max_gap: float, limit: int = 80) -> int:
        """Index after the run of lines starting at i+1 that satisfy ok(line) within max_gap."""
        j = i + 1
        first = self.lines[i]
        while j < len(self.lines) and j - i < limit:
            ln = self.lines[j]
            if j in self.heads or ln.page != first.page or ln.gap_above > max_gap or not ok(ln):
                break
            j += 1
        return j

    # ---- main loop ------------------------------------------------------------
    def build(self) -> list[Element]:
        lines = self.lines
        para: list[Line] = []
        in_refs = False
        refs: list[list[Line]] = []
        i = 0
        n = len(lines)
        while i < n:
            ln = lines[i]
            if i in self.consumed:
                i += 1
                continue
            h = self.heads.get(i)
            if h is not None:
                self._emit_para(para)
                para = []
                self._emit_refs(refs)
                refs = []
                self.out.append(Element("heading", h.title, page=ln.page, level=h.level, number=h.number))
                in_refs = bool(REFERENCES_TITLE.match(h.title.strip(" .:")))
                rest = ""
                if ln.lead_bold and h.number and ln.bold_frac < 0.75:
                    rest = ln.text[len(ln.lead_bold) :].strip()
                if rest:
                    ln = _with_text(ln, rest)
                else:
                    i += 1
                    continue
            text = ln.text.strip()
            if ln.kind == "figure":
                self._figure_text.append((len(self.out), ln.page, ln.text))
                i += 1
                continue
            if ln.kind == "footnote":
                j = self._collect_while(i, lambda x: x.kind == "footnote", 1e9, limit=40)
                self._footnotes(lines[i:j])
                i = j
                continue
            if in_refs:
                self._ref_line(refs, ln)
                i += 1
                continue
            if ln.kind == "table" and not _CAPTION.match(text):
                j = self._collect_while(i, lambda x: x.kind == "table", 1e9, limit=150)
                self._emit_para(para)
                para = []
                self._table(lines[i:j], caption="", label="")
                i = j
                continue
            # Stray tiny fragments (an index that failed to attach, a figure tick label).
            if len(text) <= 3 and ln.size < 0.8 * self.body:
                i += 1
                continue
            cap = _CAPTION.match(text)
            if cap and (
                ln.gap_above > self.line_gap * 1.2
                or not para
                or ln.bold_frac > 0
                or ln.lead_bold
                or _after_float_rows(para[-1], text)
            ):
                self._emit_para(para)
                para = []
                i = self._caption(i, cap)
                continue
            if _ALG_START.match(text) and (ln.bold_frac >= 0.3 or ln.lead_bold):
                self._emit_para(para)
                para = []
                i = self._algorithm(i, text.split(":")[0].strip())
                continue
            is_eq, label = _is_equation(ln, self.body)
            if is_eq:
                self._emit_para(para)
                para = []
                i = self._equation(i, label)
                continue
            if _numeric_line(ln):
                j = self._collect_while(i, lambda x: _numeric_line(x) or len(x.text) < 40, 2.5 * ln.size)
                if sum(_numeric_line(x) for x in lines[i:j]) >= 3:
                    self._emit_para(para)
                    para = []
                    self._table(lines[i:j], caption="", label="")
                    i = j
                    continue
            if _is_tabular(ln):
                j = self._collect_while(i, lambda x: _is_tabular(x) or len(x.text) < 40, 2.5 * ln.size)
                # Without rules or a caption, a table must show aligned numeric columns.
                if j - i >= 3 and _numeric_rows(lines[i:j]):
                    self._emit_para(para)
                    para = []
                    self._table(lines[i:j], caption="", label="")
                    i = j
                    continue
            if _ALG_LINE.match(text) and text[:1].isdigit():
                j = self._collect_while(i, lambda x: bool(_ALG_LINE.match(x.text.strip())), 1.5 * ln.size)
                if j - i >= 3:
                    self._emit_para(para)
                    para = []
                    self.out.append(self._block("algorithm", lines[i:j], label=""))
                    i = j
                    continue
            if para and self._para_break(para[-1], ln):
                self._emit_para(para)
                para = []
            para.append(ln)
            i += 1
        self._emit_para(para)
        self._emit_refs(refs)
        self._attach_figure_text()
        elems, folded = _fold_limits(self._attach_table_captions(_merge_table_pieces(self.out)), self._limits)
        return _whole_equations(_rejoin_interrupted(elems, folded))

    def _footnotes(self, group: list[Line]) -> None:
        """One footnote element per note: a new one starts at a line opening with a note mark."""
        notes: list[list[Line]] = []
        for ln in group:
            starts = bool(ln.spans) and (
                ln.spans[0].text.strip()[:1] in "*∗†‡§¶"
                or (ln.spans[0].size < 0.8 * ln.size and ln.spans[0].text.strip()[:2].isdigit())
            )
            if not notes or starts or ln.page != notes[-1][-1].page:
                notes.append([ln])
            else:
                notes[-1].append(ln)
        for note in notes:
            text = ""
            for g in note:
                text = self.vocab.join(text, g.text) if text else g.text
            text = _clean_inline(text).strip()
            if text:
                self.out.append(Element("footnote", text, page=note[0].page))

    def _attach_figure_text(self) -> None:
        """Text drawn inside a figure goes with that figure's caption (same page, nearest)."""
        for pos, page, text in self._figure_text:
            best, dist = None, 1e9
            for k, e in enumerate(self.out):
                if e.kind == "caption" and e.page == page and e.label.lower().startswith("fig"):
                    d = abs(k - pos) - (0.5 if k >= pos else 0.0)  # captions mostly sit below
                    if d < dist:
                        best, dist = e, d
            if best is not None:
                best.inner = f"{best.inner} {text}".strip()

    def _block(self, kind: str, group: list[Line], label: str, caption: str = "") -> Element:
        text = "\n".join(_clean_inline(g.text) for g in group)
        return Element(
            kind,
            text,
            page=group[0].page,
            label=label,
            caption=caption,
            pages=sorted({g.page for g in group}),
        )

    def _equation(self, i: int, label: str) -> int:
        first = self.lines[i]

        def ok(x: Line) -> bool:
            eq, _ = _is_equation(x, self.body)
            return eq or (x.size < 0.85 * self.body and len(x.text) < 40)

        j = self._collect_while(i, ok, 1.2 * first.size, limit=12)
        group = self.lines[i:j]
        if not label:
            for g in group:
                if len(g.cells) >= 2 and _EQNUM.match(g.cells[-1].strip()):
                    label = g.cells[-1].strip()
                    break
        text = " ".join(_clean_inline(g.text) for g in group).replace("\ufffd", "").strip()
        if label and text.endswith(label):
            text = text[: -len(label)].rstrip(" ,")
        prev = self.out[-1] if self.out else None
        after_eq = prev is not None and prev.kind == "equation" and prev.page == first.page
        alnum = sum(ch.isalnum() for ch in text)
        if (
            not label
            and alnum >= 2  # "† † †" beside a table is not a formula's limits
            and len(text) <= 14
            and not after_eq
            and prev is not None
            and prev.kind == "para"
            and not self._eq_next(j)
            and self._under_line_above(i, group)
        ):
            # The limits of a max or sum ("Z∼h", "k=0,...,n/6") under a display that was read as
            # prose: they go with that paragraph once a paragraph cut by them is whole again.
            limits = Element("equation", text, page=first.page)
            self._limits.add(id(limits))
            self.out.append(limits)
            return j
        if not label and (alnum < 4 or (len(text) <= 14 and (after_eq or self._eq_next(j)))):
            # "1 n", "X", "Z∼h Z∼h", "k=0,...,n/6": a piece split off a formula (a sum's limits, a
            # fraction's denominator), not an equation of its own: it joins the formula it belongs to.
            if after_eq and text:
                prev.text = f"{prev.text} {text}"
            elif text and alnum >= 1 and self._eq_next(j):
                self._eq_prefix = f"{self._eq_prefix} {text}".strip()
            return j
        if self._eq_prefix:
            text, self._eq_prefix = f"{self._eq_prefix} {text}", ""
        self.out.append(
            Element("equation", text, page=first.page, label=label, pages=sorted({g.page for g in group}))
        )
        return j

    def _under_line_above(self, i: int, group: list[Line]) -> bool:
        """Lines i.. are set in script size just under line i - 1 and within its width, as TeX
        sets the limits under a max or sum of that line."""
        if i == 0:
            return False
        above, first = self.lines[i - 1], group[0]
        gap = first.top - above.bottom  # negative: limits hang just under the baseline
        return (
            above.page == first.page
            and all(g.size < 0.85 * self.body for g in group)
            and -0.5 * self.body <= gap < 0.6 * self.body
            and first.x0 >= above.x0 - 2
            and max(g.x1 for g in group) <= above.x1 + 2
        )

    def _eq_next(self, j: int) -> bool:
        """The line at j starts an equation (the fragment before it belongs to it)."""
        return j < len(self.lines) and _is_equation(self.lines[j], self.body)[0]

    def _caption(self, i: int, m: re.Match) -> int:
        first = self.lines[i]
        kind = m.group("kind").lower()
        label = " ".join(m.group("label").split())
        j = self._collect_while(
            i,
            lambda x: (
                not x.kind
                and not _CAPTION.match(x.text.strip())
                and abs(x.size - first.size) < 0.6
                and not _is_tabular(x)
            ),
            max(0.55 * first.size, 1.8 * self.line_gap),
            limit=15,
        )
        text = ""
        for g in self.lines[i:j]:
            text = self.vocab.join(text, g.text) if text else g.text
        text = _clean_inline(text).strip()
        if kind.startswith("alg"):
            return self._algorithm(i, label)
        if kind.startswith("tab"):
            k = self._table_body(j)
            if k > j:
                self._table(self.lines[j:k], caption=text, label=label)
                return k
            self.out.append(Element("caption", text, page=first.page, label=label))
        else:
            self.out.append(Element("caption", text, page=first.page, label=label))
        return j

    def _table_body(self, j: int) -> int:
        """End of the table rows that follow a caption at line j (j itself if none)."""
        if j < len(self.lines) and self.lines[j].kind == "table":
            k = j
            while k < len(self.lines) and self.lines[k].kind == "table" and k - j < 150:
                k += 1
            return k
        k = j
        while k < len(self.lines) and k - j < 120:
            ln = self.lines[k]
            if k in self.heads or _CAPTION.match(ln.text.strip()):
                break
            if k > j and (ln.page != self.lines[k - 1].page or ln.gap_above > 3 * max(ln.size, self.body)):
                break
            if ln.kind in ("figure", "footnote"):
                break
            if k == j and ln.gap_above > 4 * max(ln.size, self.body):
                break
            prose = len(ln.cells) == 1 and (
                (len(ln.text) >= 50 and ln.x1 >= ln.col_x1 - 2 * ln.size) or prose_like(ln.text, 5)
            )
            if prose:
                break
            k += 1
        return k

    def _algorithm(self, i: int, label: str) -> int:
        first = self.lines[i]
        near = 0.9 * first.size + self.line_gap
        j = i + 1
        while j < len(self.lines) and j - i < 70:
            ln = self.lines[j]
            if j in self.heads or ln.page != first.page or _CAPTION.match(ln.text.strip()):
                break
            # A tall formula in a step (a sum, a fraction) leaves a wider gap; inside the
            # algorithm's ruled frame (lines marked "table") or on a line that reads as a step
            # ("Z ← ...", "end for") the algorithm goes on.
            short = ln.x1 - ln.x0 < 0.85 * max(1.0, ln.col_x1 - ln.col_x0)  # prose fills the column
            step = (
                ln.kind == "table"
                or bool(_ASSIGN.search(ln.text))
                or (short and bool(_CONTROL.match(ln.text.strip())))
            )
            if ln.gap_above > (3 * self.body if step else near):
                break
            j += 1
        self.out.append(self._block("algorithm", self.lines[i:j], label=label))
        return j

    def _table(self, group: list[Line], caption: str, label: str) -> None:
        unproven = not caption and not any(g.kind == "table" for g in group)  # no caption, no rules
        if unproven and _axis_ticks(group):
            # A plot's tick labels (its drawing not recognised as a figure): figure text, not a table.
            text = " ".join(_clean_inline(g.text) for g in group)
            self._figure_text.append((len(self.out), group[0].page, text))
            return
        if unproven and _display_math(group):
            self._display_rows(group)
            return
        rows = [" | ".join(_row_cells(g)) for g in group]
        self.out.append(
            Element(
                "table",
                "\n".join(_clean_inline(r) for r in rows),
                page=group[0].page,
                label=label,
                caption=caption,
                pages=sorted({g.page for g in group}),
            )
        )

    def _display_rows(self, group: list[Line]) -> None:
        """A display whose fraction bars and aligned parts set it out as rows: one equation per
        equation number ("(2)", "(3)"), the rows after the last number joining that equation."""
        parts: list[str] = []
        last: Element | None = None
        pages = sorted({x.page for x in group})
        for g in group:
            cells = [c.strip() for c in g.cells if c.strip()]
            label = cells[-1] if len(cells) >= 2 and _EQNUM.match(cells[-1]) else ""
            text = _clean_inline(" ".join(cells[:-1] if label else cells)).replace("\ufffd", "").strip()
            if text.strip("\x00\x01\x02 "):
                parts.append(text)
            if label:
                last = Element("equation", " ".join(parts), page=group[0].page, label=label, pages=pages)
                self.out.append(last)
                parts = []
        if parts:
            if last is not None:
                last.text = f"{last.text} {' '.join(parts)}"
            else:
                self.out.append(Element("equation", " ".join(parts), page=group[0].page, pages=pages))

    @staticmethod
    def _attach_table_captions(elems: list[Element]) -> list[Element]:
        """Pair "Table N:" captions with the table block right before or after them."""
        out: list[Element] = []
        used: set[int] = set()
        for k, e in enumerate(elems):
            if k in used:
                continue
            if e.kind == "caption" and e.label.lower().startswith("tab"):
                target = None
                for d in (1, -1, 2):
                    t = k + d
                    if (
                        0 <= t < len(elems)
                        and elems[t].kind == "table"
                        and not elems[t].caption
                        and elems[t].page == e.page
                        and t not in used
                    ):
                        target = t
                        break
                if target is not None:
                    elems[target].caption = e.text
                    elems[target].label = e.label
                    if target < k:
                        continue  # already emitted; caption now lives on it
                    used.add(target)
                    out.append(elems[target])
                    continue
                out.append(Element("table", "", page=e.page, label=e.label, caption=e.text))
                continue
            out.append(e)
        return out

    # ---- references ------------------------------------------------------------
    def _ref_line(self, refs: list[list[Line]], ln: Line) -> None:
        """Split a bibliography into entries: labels, or a hanging indent, or extra space."""
        edge = self._col_edge.get((ln.page, ln.col, ln.band), ln.col_x0)
        indented = ln.x0 > edge + 0.6 * ln.size
        if indented:
            self._ref_hanging = True
        if not refs:
            refs.append([ln])
            return
        prev = refs[-1][-1]
        if _REF_LABEL.match(ln.text):
            start = True
        elif self._ref_hanging:
            start = not indented
        else:
            pitch = ln.base - prev.base if prev.page == ln.page and prev.col == ln.col else 0.0
            start = pitch > 1.35 * (ln.size + self.line_gap) or (
                prev.x1 < prev.col_x1 - 2 * prev.size and prev.text.rstrip().endswith(".")
            )
        if start:
            refs.append([ln])
        else:
            refs[-1].append(ln)

    def _emit_refs(self, refs: list[list[Line]]) -> None:
        for group in refs:
            text = ""
            for g in group:
                text = self.vocab.join(text, g.text) if text else g.text
            text = _clean_inline(text).strip()
            if text:
                self.out.append(
                    Element("reference", text, page=group[0].page, pages=sorted({g.page for g in group}))
                )
        refs.clear()


def _merge_table_pieces(elems: list[Element]) -> list[Element]:
    """Consecutive table blocks of one page (rows split by a wider gap) are one table."""
    out: list[Element] = []
    for e in elems:
        prev = out[-1] if out else None
        if (
            prev is not None
            and e.kind == "table"
            and prev.kind == "table"
            and prev.page == e.page
            and not e.caption
            and prev.text
            and e.text
        ):
            prev.text = f"{prev.text}\n{e.text}"
            prev.pages = sorted(set(prev.all_pages()) | set(e.all_pages()))
            continue
        out.append(e)
    return out


def _rejoin_interrupted(elems: list[Element], folded: set[int] = frozenset()) -> list[Element]:
    """A paragraph cut by a footnote or float ("...behavior," [footnote] "our understanding...")
    is one paragraph: join its halves and keep the interruption after it. So is one cut by a
    display's limits, which joined its first half (``folded``: those halves' ids)."""
    out = list(elems)
    i = 0
    while i + 1 < len(out):
        a, b = out[i], out[i + 1]
        if (
            id(a) in folded
            and a.kind == b.kind == "para"
            and a.page == b.page
            and b.text[:1].islower()
            and not a.text.rstrip().endswith(_SENT_END)
        ):
            a.text = f"{a.text.rstrip()} {b.text.lstrip()}"
            del out[i + 1]
            continue
        i += 1
    i = 0
    while i + 2 < len(out):
        j = _continuation(out, i)
        if j is None:
            i += 1
            continue
        a, b = out[i], out[j]
        a.text = f"{a.text.rstrip()} {b.text.lstrip()}"
        a.pages = sorted(set(a.all_pages()) | set(b.all_pages()))
        del out[j]
    return out


_INTERRUPTIONS = ("para", "caption", "table", "equation", "footnote")
_NOTE_PARA = re.compile(r"\d{1,2}\s?[A-Z]")  # "1The probability density ...": a footnote read as prose


def _continuation(out: list[Element], i: int) -> int | None:
    """Where the paragraph at i, cut mid-sentence, goes on: after one interruption of any kind,
    or after up to three footnotes in a row."""
    a = out[i]
    if a.kind != "para" or a.page is None or a.text.rstrip().endswith(_SENT_END):
        return None
    for j in range(i + 2, min(i + 5, len(out))):
        mids, b = out[i + 1 : j], out[j]
        if not all(m.kind in _INTERRUPTIONS for m in mids):
            return None
        if len(mids) > 1 and not all(m.kind == "footnote" or _NOTE_PARA.match(m.text) for m in mids):
            return None
        if b.kind == "para" and b.text[:1].islower() and b.page is not None and 0 <= b.page - a.page <= 1:
            return j
    return None


def _fold_limits(elems: list[Element], limits: set[int]) -> tuple[list[Element], set[int]]:
    """A display's limits (see BlockBuilder._equation) join the paragraph before them; returns
    the elements and the ids of the paragraphs that took some (the line after the limits may
    continue them)."""
    out: list[Element] = []
    folded: set[int] = set()
    for e in elems:
        if id(e) in limits and out and out[-1].kind == "para" and out[-1].page == e.page:
            out[-1].text = f"{out[-1].text} {e.text}"
            folded.add(id(out[-1]))
            continue
        out.append(e)
    return out, folded


def _with_text(ln: Line, text: str) -> Line:
    from dataclasses import replace

    return replace(ln, text=text, cells=[text], lead_bold="")


def build_elements(lines: list[Line], headings: list[Heading], body: float, line_gap: float) -> list[Element]:
    """Elements in reading order for the index builder."""
    return BlockBuilder(lines, headings, body, line_gap).build()


_NOT_TEXT = str.maketrans("", "", "\ufffd\ufffe\uffff")
FRAGMENT_CHARS = 4  # letters and digits: "1 n", "X", "d1d2" are a piece of a formula, not one
_RELATION = re.compile(r"[=<>≤≥≈≡←→↦∈⊂⊆∼∝]")  # "Y = Θ + Γ + W" is short but whole: it states something


def _fragment(text: str) -> bool:
    return sum(ch.isalnum() for ch in text) <= FRAGMENT_CHARS and not _RELATION.search(text)


def _whole_equations(elems: list[Element]) -> list[Element]:
    """Equations as whole formulas: the replacement characters pdfium gives for glyphs it
    cannot map are dropped, and a fragment (a sub- or superscript line, a lone symbol, split off
    its display) is joined to the equation beside it on the page, or dropped when there is none:
    alone it says nothing and reads as noise to the agents."""
    out: list[Element] = []
    frag: set[int] = set()  # ids of fragments waiting for the display below them
    for e in elems:
        if e.kind != "equation":
            out.append(e)
            continue
        e.text = " ".join(e.text.translate(_NOT_TEXT).split())
        prev = out[-1] if out else None
        beside = prev is not None and prev.kind == "equation" and prev.page == e.page
        if not _fragment(e.text):
            if beside and id(prev) in frag:
                frag.discard(id(prev))
                e.text = f"{out.pop().text} {e.text}"
            out.append(e)
        elif beside and not e.label and id(prev) not in frag:
            prev.text = f"{prev.text} {e.text}".strip()
        elif e.text:
            frag.add(id(e))
            out.append(e)
    return [e for e in out if id(e) not in frag]
