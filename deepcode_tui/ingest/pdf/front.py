"""Page 1's author and affiliation lines, tagged as notes so they become front matter.

An author line ("Raymond J. Mooney", "Pamela Forner1, Anselmo Peñas2, ...") is set
like a heading (bold, alone on its line) and, in a two-column title block, is read
after the first section's opening: left untagged it becomes a heading or body text.
The evidence is general, not a paper's names: a line of capitalised name words only
(initials, connectors, footnote marks), in the title block's part of page 1, with an
affiliation or contact line ("Department of ...", an e-mail) a few lines away. The
affiliation lines themselves are tagged too. Tagged lines get ``kind="footnote"``: the
builder keeps page-1 notes as front matter (metadata), out of the text the agents read.
"""

from __future__ import annotations

import re

_AFFIL = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.]+|\b(?:department|departamento|university|universit[éyà]|institute|"
    r"institut|laborator(?:y|ies)|lab|labs|school of|college|faculty|research center|"
    r"research centre)\b",
    re.IGNORECASE,
)
_MARKS = re.compile(r"[\d,;*∗†‡§¶&]+|\band\b")
_NAME_WORD = re.compile(r"^(?:[A-ZÀ-ÖØ-Þ][\w'’.\-]*|[A-ZÀ-ÖØ-Þ]\.|(?:de|da|di|van|von|der|del|la|le))$")
TOP_SHARE = 0.45  # the title block lies in the top part of page 1
NEAR = 6  # lines between an author line and its affiliation


def _names(text: str) -> bool:
    words = _MARKS.sub(" ", text).split()
    if not 2 <= len(words) <= 24 or any(c in text for c in ":?!()"):
        return False
    caps = sum(1 for w in words if w[0].isupper())
    return caps >= 2 and all(_NAME_WORD.match(w) for w in words)


def _affiliation(text: str) -> bool:
    return bool(_AFFIL.search(text)) and len(text.split()) <= 16 and not text.rstrip().endswith(".")


def mark_front_matter(lines: list) -> int:
    """Tag page 1's author and affiliation lines (``kind="footnote"``); returns how many."""
    page1 = [ln for ln in lines if ln.page == 1 and ln.kind == ""]
    if not page1:
        return 0
    h = page1[0].page_height or 792.0
    # No text in the top zone (a cover page set low, say): no title block, nothing to tag.
    title_size = max((ln.size for ln in page1 if ln.top < TOP_SHARE * h), default=0.0)
    cand = [ln for ln in page1 if ln.size < title_size - 0.3]  # never the title itself
    affil = {k for k, ln in enumerate(cand) if _affiliation(ln.text)}
    names = {k for k, ln in enumerate(cand) if _names(ln.text)}
    # Grow the title block from its top zone: a block of authors in the right column (or a
    # third row of authors) continues within a few lines of one already taken.
    taken: set[int] = set()
    for _ in range(4):
        before = len(taken)
        for k, ln in enumerate(cand):
            if k in taken:
                continue
            anchored = ln.top < TOP_SHARE * h or any(0 < k - t <= NEAR for t in taken)
            if not anchored:
                continue
            if k in affil or (k in names and any(0 < a - k <= NEAR for a in affil)):
                taken.add(k)
        if len(taken) == before:
            break
    for k in taken:
        cand[k].kind = "footnote"
    return len(taken)
