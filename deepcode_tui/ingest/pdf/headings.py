"""Which lines are section headings, with their numbers and levels.

Numbered headings: every line whose text starts like "3.1 Title" and is set
apart from body text (bold, larger, capitals, the PDF outline) becomes a
candidate; then the heaviest chain of candidates whose numbers form a valid
sequence (1, 2, 2.1, 2.2, 3, ..., A, A.1, B) wins. A numbered list item or a
table row may look like a heading on its own, but it cannot continue the
numbering of the headings around it, so the chain leaves it out.
Unnumbered headings (Abstract, References, appendix titles) are then taken
when they look like the numbered top-level headings.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from rapidfuzz import fuzz

from deepcode_tui.ingest.pdf.extract import SOFT_HYPHEN, OutlineEntry
from deepcode_tui.ingest.pdf.layout import Line
from deepcode_tui.ingest.pdf.sequence import Num as _Num
from deepcode_tui.ingest.pdf.sequence import best_chain, parse_number

_CONTACT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|https?://")
_NUMBERED = re.compile(
    r"^(?:(?P<word>appendix|section|chapter)\s+)?"
    r"(?P<num>\d{1,2}(?:\.\d{1,2}){0,4}|[A-Z](?:\.\d{1,2}){0,4}|[IVX]{1,4})"
    r"(?P<punct>[.:)]?)(?:\s+|(?<=[.:])\s*(?=[A-Z]))(?P<title>\S.*)$",
    re.IGNORECASE,
)
_KNOWN_UNNUMBERED = re.compile(
    r"^(?:abstract|acknowledge?ments?|references|bibliography|appendix|appendices|"
    r"supplementary materials?|"
    r"limitations|ethics statement|ethical considerations|broader impacts?|impact statement|author contributions|"
    r"reproducibility statement|funding|data availability|conflicts? of interest|contents|"
    r"introduction|conclusions?|related work|discussion|background|methods?|results|experiments|"
    r"references and notes|literature cited)\.?$",
    re.IGNORECASE,
)
_CAPTION = re.compile(r"^(?:fig(?:ure)?|table|algorithm|listing|tab)\.?\s*[A-Z]?\d", re.IGNORECASE)


@dataclass(slots=True)
class Heading:
    line: int  # index of the first line
    n_lines: int
    number: str
    title: str
    level: int
    score: float = 0.0


@dataclass(slots=True)
class _Cand:
    line: int
    n_lines: int
    number: str
    num: _Num
    title: str
    score: float
    runin: bool
    appendix: bool = False  # written "Appendix A": a top-level appendix even in roman-numbered papers


def body_size(lines: list[Line]) -> float:
    c: Counter[float] = Counter()
    for ln in lines:
        if ln.kind:
            continue
        c[round(ln.size * 2) / 2] += len(ln.text)
    return c.most_common(1)[0][0] if c else 10.0


def _clean(text: str) -> str:
    return " ".join(text.replace(SOFT_HYPHEN, "-").split())


_MARK = re.compile(r"^(?:\d{1,2}|[*∗†‡§¶]+|[a-z])$")


def _drop_footnote_mark(title: str, last: Line) -> str:
    """ "WITH asmeconf.bst³": a raised footnote mark glued to a heading is not part of its title."""
    if last.spans:
        tail = last.spans[-1]
        t = tail.text.strip()
        if _MARK.match(t) and tail.size < 0.8 * last.size and title.endswith(t):
            return title[: -len(t)].rstrip()
    return title


def _title_ok(title: str) -> bool:
    letters = sum(ch.isalpha() for ch in title)
    if letters < 2 or len(title) > 160:
        return False
    if len(title.split()) > 22:
        return False
    digits = sum(ch.isdigit() for ch in title)
    if digits > 0.3 * (letters + digits):
        return False
    first = title[0]
    return first.isalpha() or first in "“\"'(" or (first.isdigit() and any(c.isalpha() for c in title[:4]))


class HeadingFinder:
    def __init__(self, lines: list[Line], outline: list[OutlineEntry] | None = None) -> None:
        self.last_chain_score = 0.0
        self.lines = lines
        self.outline = [o for o in (outline or []) if o.title]
        self.body = body_size(lines)
        gaps = [
            ln.gap_above
            for ln in lines
            if 0 < ln.gap_above < 3 * self.body and abs(ln.size - self.body) < 0.6
        ]
        gaps.sort()
        self.line_gap = gaps[len(gaps) // 2] if gaps else 0.3 * self.body

    # ---- style -------------------------------------------------------------
    def _style(self, ln: Line, title: str) -> float:
        ratio = ln.size / self.body if self.body else 1.0
        s = 0.0
        if ln.bold_frac >= 0.75:
            s += 2.0
        elif ln.italic_frac >= 0.9 and ratio >= 0.95:
            s += 0.8
        if ratio >= 1.12:
            s += 2.0 + min(2.0, (ratio - 1.12) * 6)
        elif ratio >= 1.04:
            s += 0.8
        letters = [c for c in title if c.isalpha()]
        if len(letters) >= 3 and all(c.isupper() for c in letters):
            s += 1.0
        # Centred and set apart by space (REVTeX/IEEE minor heads are plain text, centred).
        centre, col_centre = (ln.x0 + ln.x1) / 2, (ln.col_x0 + ln.col_x1) / 2
        if (
            abs(centre - col_centre) < ln.size
            and ln.x0 > ln.col_x0 + 3 * ln.size
            and ln.gap_above > 2.5 * self.line_gap + 0.5 * ln.size
        ):
            s += 1.0
        return s

    def _outline_match(self, ln: Line, title: str) -> bool:
        if not self.outline:
            return False
        t = title.lower()
        for o in self.outline:
            if o.page is not None and abs(o.page - ln.page) > 1:
                continue
            ot = o.title.lower()
            m = _NUMBERED.match(o.title)
            if m:
                ot = m.group("title").lower()
            if fuzz.ratio(t, ot) >= 88:
                return True
        return False

    def _continuation(self, i: int) -> int:
        """How many following lines continue a heading that wraps."""
        ln = self.lines[i]
        n = 0
        j = i + 1
        while j < len(self.lines) and n < 2:
            nx = self.lines[j]
            if (
                nx.page != ln.page
                or nx.col != ln.col
                or nx.band != ln.band
                or nx.gap_above > max(0.6 * ln.size, 1.6 * self.line_gap)
                or abs(nx.size - ln.size) > 0.35
                or (ln.bold_frac >= 0.75) != (nx.bold_frac >= 0.75)
                or _NUMBERED.match(_clean(nx.text))
                or _CAPTION.match(nx.text)
                or (
                    nx.x0 > ln.x0 + 4 * ln.size
                    and abs((nx.x0 + nx.x1) / 2 - (ln.x0 + ln.x1) / 2) > 2 * ln.size
                )
            ):
                break  # (a centred heading wraps onto a centred second line)
            if ln.bold_frac < 0.75 and ln.size / self.body < 1.12:
                break  # only styled headings wrap recognisably
            n += 1
            j += 1
        return n

    def _candidates(self, roman_ok: bool) -> list[_Cand]:
        out: list[_Cand] = []
        lines = self.lines
        for i, ln in enumerate(lines):
            if ln.kind:  # figure labels, table cells and footnotes are not headings
                continue
            text = _clean(ln.text)
            if not text or text[0] in "([{•·-–—":
                continue
            if _CONTACT.search(text):
                continue  # "1 CELCT, Trento, Italy (forner@celct.it)": an affiliation, never a heading
            runin = False
            m = _NUMBERED.match(text)
            lead = _clean(ln.lead_bold)
            if m and lead and ln.bold_frac < 0.75:
                # "3.2 Title. Body text..." set as a run-in: the bold lead is the heading.
                lm = _NUMBERED.match(lead)
                if lm and len(lead) >= 4:
                    m, runin = lm, True
            if not m:
                continue
            num = parse_number(m.group("num"), roman_ok)
            if num is None:
                continue
            title = m.group("title").strip()
            cont = 0 if runin else self._continuation(i)
            if cont:
                title = title + " " + " ".join(_clean(lines[i + k].text) for k in range(1, cont + 1))
            title = _drop_footnote_mark(title, lines[i + cont])
            title = title.strip().rstrip(".:").strip()
            if runin:
                title = title.rstrip(".:;—- ").strip()
            if not _title_ok(title):
                continue
            # "A Case Study of X" is usually a sentence or a title: a bare letter needs strong style.
            if (
                num.kind == "alpha"
                and len(num.parts) == 1
                and not m.group("punct")
                and not m.group("word")
                and self._style(ln, title) < 2.0
            ):
                continue
            style = self._style(ln, title) if not runin else 1.2
            outline = self._outline_match(ln, title)
            if style <= 0 and not outline:
                continue
            score = style
            ratio = ln.size / self.body if self.body else 1.0
            if outline:
                score += 3.0
            if ln.gap_above > 1.8 * self.line_gap + 0.25 * self.body or ln.gap_above >= 1e8:
                score += 1.0
            if ln.x1 < ln.col_x1 - 2 * ln.size or cont:
                score += 0.5
            if ratio < 0.9:
                score -= 2.0
            words = len(title.split())
            if words > 12:
                score -= 1.0
            if title.endswith(".") and words > 6:
                score -= 1.0
            if title[0].islower():
                score -= 1.0
            if ln.top < 0.07 * (ln.page_height or 792) or ln.bottom > 0.93 * (ln.page_height or 792):
                score -= 1.0
            if num.kind == "arabic" and num.parts[0] > 20:
                score -= 1.5
            if score <= 0.5:
                continue
            number = m.group("num").rstrip(".")
            word = (m.group("word") or "").lower()
            out.append(_Cand(i, 1 + cont, number, num, title, score, runin, word == "appendix"))
        return out

    def _chain(self, cands: list[_Cand]) -> list[_Cand]:
        chain, self.last_chain_score = best_chain(cands, [c.num for c in cands], [c.score for c in cands])
        return chain

    # ---- unnumbered -------------------------------------------------------------
    def _unnumbered(self, chain: list[_Cand], taken: set[int]) -> list[Heading]:
        out: list[Heading] = []
        top = [c for c in chain if len(c.num.parts) == 1 and not c.runin]
        top_styles = Counter(
            (round(self.lines[c.line].size * 2) / 2, self.lines[c.line].bold_frac >= 0.75) for c in top
        )
        style = top_styles.most_common(1)[0][0] if top_styles else None
        first_numbered = chain[0].line if chain else len(self.lines)
        # Real headings get the space numbered top-level headings get; figure labels in the same font don't.
        top_gaps = sorted(self.lines[c.line].gap_above for c in top if self.lines[c.line].gap_above < 1e8)
        min_gap = 0.6 * top_gaps[len(top_gaps) // 2] if top_gaps else 0.0
        for i, ln in enumerate(self.lines):
            if i in taken or ln.kind:
                continue
            text = _clean(ln.text).rstrip(".:")
            if not text or len(text) > 80 or _CAPTION.match(text):
                continue
            known = bool(_KNOWN_UNNUMBERED.match(text))
            styled = ln.bold_frac >= 0.75 or ln.size / self.body >= 1.12
            if not styled:
                continue
            same_style = (
                style is not None
                and abs(round(ln.size * 2) / 2 - style[0]) < 0.3
                and (ln.bold_frac >= 0.75) == style[1]
            )
            standalone = ln.gap_above > 1.2 * self.line_gap and ln.x1 < ln.col_x1 - ln.size
            # "References", "Acknowledgements": named like a section and set like a heading.
            named = known and (same_style or ln.size / self.body >= 1.04 or standalone)
            # An unnumbered appendix title ("Attention Visualizations") set like "7 Conclusion".
            styled_like_top = (
                same_style
                and i > first_numbered
                and standalone
                and ln.gap_above >= min_gap
                and len(text.split()) <= 8
                and text[0].isupper()
                and not text.endswith((",", ";"))
                and not any(ch.isdigit() for ch in text[:3])
            )
            if named or styled_like_top:
                out.append(Heading(i, 1, "", text, 1))
        return out

    # ---- styled fallback (no numbering at all) -----------------------------------
    def _by_style(self) -> list[Heading]:
        cands = []
        for i, ln in enumerate(self.lines):
            if ln.kind:
                continue
            text = _clean(ln.text).rstrip(".:")
            if not text or len(text) > 90 or len(text.split()) > 12 or _CAPTION.match(text):
                continue
            if not text[0].isalpha() or sum(c.isalpha() for c in text) < 3:
                continue
            ratio = ln.size / self.body
            styled = ln.bold_frac >= 0.75 or ratio >= 1.12
            standalone = ln.gap_above > 1.5 * self.line_gap and ln.x1 < ln.col_x1 - 2 * ln.size
            if styled and standalone and ratio >= 0.95:
                cands.append((i, round(ln.size * 2) / 2, ln.bold_frac >= 0.75, text))
        if not cands:
            return []
        styles = sorted({(s, b) for _, s, b, _ in cands}, key=lambda x: (-x[0], not x[1]))
        # The biggest style on page 1 alone is the paper title, not a heading level.
        first = cands[0]
        if (
            self.lines[first[0]].page == 1
            and sum(1 for c in cands if (c[1], c[2]) == (first[1], first[2])) == 1
        ):
            styles = [s for s in styles if s != (first[1], first[2])]
            cands = cands[1:]
        level_of = {st: k + 1 for k, st in enumerate(styles[:3])}
        return [Heading(i, 1, "", t, level_of[(s, b)]) for i, s, b, t in cands if (s, b) in level_of]

    def find(self) -> list[Heading]:
        all_cands = self._candidates(True)
        # Arabic reading: roman numerals other than single letters are dropped; "I", "V", "X" may be
        # appendix letters.
        arabic = []
        for c in all_cands:
            if c.num.kind != "roman":
                arabic.append(c)
            elif len(c.number) == 1:
                arabic.append(
                    _Cand(
                        c.line,
                        c.n_lines,
                        c.number,
                        _Num("alpha", (ord(c.number.upper()) - 64,)),
                        c.title,
                        c.score,
                        c.runin,
                        c.appendix,
                    )
                )
        chain = self._chain(arabic)
        romans = {c.num.parts for c in all_cands if c.num.kind == "roman"}
        if len(romans) >= 2:
            # Roman reading (IEEE/APS: I, II with A, B and 1, 2 below): keep it if it explains more.
            arabic_score = self.last_chain_score if chain else 0.0
            roman_chain = self._chain(self._roman_children(all_cands))
            if roman_chain and self.last_chain_score > arabic_score:
                chain = roman_chain
        headings: list[Heading] = []
        if len(chain) >= 2:
            for c in chain:
                # Depth comes from the number's parts ("II.A" was rewritten as (2, 1) above).
                headings.append(Heading(c.line, c.n_lines, c.number, c.title, len(c.num.parts), c.score))
            taken = {c.line + k for c in chain for k in range(c.n_lines)}
            headings.extend(self._unnumbered(chain, taken))
        else:
            headings = self._by_style()
            if chain:
                taken = {h.line for h in headings}
                headings.extend(
                    Heading(c.line, c.n_lines, c.number, c.title, len(c.num.parts), c.score)
                    for c in chain
                    if c.line not in taken
                )
        headings.sort(key=lambda h: h.line)
        return headings

    @staticmethod
    def _roman_children(cands: list[_Cand]) -> list[_Cand]:
        """IEEE style: "II. METHOD" then "A. Data": letters number the subsections of a roman section."""
        out = []
        current = letter = appendix = None
        for c in cands:
            if c.num.kind == "roman":
                current, letter = c.num.parts[0], None
                out.append(c)
            elif c.num.kind == "alpha" and c.appendix and len(c.num.parts) == 1:
                appendix, current, letter = c.num.parts[0], None, None
                out.append(c)
            elif (
                c.num.kind == "arabic" and len(c.num.parts) == 1 and appendix is not None and current is None
            ):
                # "1. A subsection in an appendix" under "Appendix B".
                out.append(
                    _Cand(
                        c.line,
                        c.n_lines,
                        c.number,
                        _Num("alpha", (appendix, c.num.parts[0])),
                        c.title,
                        c.score,
                        c.runin,
                        c.appendix,
                    )
                )
            elif c.num.kind == "alpha" and current is not None and len(c.num.parts) == 1 and not c.appendix:
                letter = c.num.parts[0]
                out.append(
                    _Cand(
                        c.line,
                        c.n_lines,
                        c.number,
                        _Num("roman", (current, letter)),
                        c.title,
                        c.score,
                        c.runin,
                    )
                )
            elif (
                c.num.kind == "arabic"
                and len(c.num.parts) == 1
                and current is not None
                and letter is not None
            ):
                # Third level ("1. Wide text") under "II.A".
                out.append(
                    _Cand(
                        c.line,
                        c.n_lines,
                        c.number,
                        _Num("roman", (current, letter, c.num.parts[0])),
                        c.title,
                        c.score,
                        c.runin,
                    )
                )
            else:
                out.append(c)
        return out


def find_headings(lines: list[Line], outline: list[OutlineEntry] | None = None) -> list[Heading]:
    """Headings among `lines` (in reading order), sorted by position."""
    return HeadingFinder(lines, outline).find()
