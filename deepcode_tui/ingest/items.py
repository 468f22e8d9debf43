"""Detectors for items agents look for: hyperparameters and bibliography entries."""

from __future__ import annotations

import re

from deepcode_tui.ingest.hyper import find_hyperparameters, hyperparameters_from_table
from deepcode_tui.ingest.models import Reference

__all__ = [
    "REFERENCES_TITLE",
    "find_hyperparameters",
    "hyperparameters_from_table",
    "parse_reference",
    "split_reference_text",
]

# ---- hyperparameters: see hyper.py (re-exported here for existing callers) ---------------

# ---- references -------------------------------------------------------------

REFERENCES_TITLE = re.compile(
    r"^(?:references?|bibliography|literature cited|works cited|cited literature|references and notes)$",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^\s*(?:\[(?P<b>[\w+\-. ]{1,20})\]|(?P<n>\d{1,3})\.(?=\s))\s*")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'{}|\\^`\]]+", re.IGNORECASE)
_GITHUB = re.compile(r"(?<![\w/.])(?:github\.com|gitlab\.com)/[\w.\-]+/[\w.\-]+", re.IGNORECASE)
_ARXIV = re.compile(r"(?:arXiv:\s*|arxiv\.org/(?:abs|pdf)/)(\d{4}\.\d{4,5})(?:v\d+)?", re.IGNORECASE)
_ARXIV_BARE = re.compile(r"\barXiv\b[^.]{0,40}?(\d{4}\.\d{4,5})", re.IGNORECASE)
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s,;]+)", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20[0-4]\d)(?!\d)")
# Sentence split for "Authors. Title. Venue." that keeps initials ("A. Vaswani") together.
_REF_SPLIT = re.compile(r"(?<!\b[A-Z])(?<!\bet al)(?<!\bvs)(?<!\bvol)(?<!\bpp)(?<!\bno)\.\s+(?=[A-Z0-9“\"'])")


def _clean_url(u: str) -> str:
    u = u.rstrip(".,;:)")
    if u.lower().startswith("www."):
        u = "https://" + u
    return u


_VENUE = re.compile(
    r"\b(?:proceedings|conference|journal|workshop|arxiv|preprint|url|https?|doi|pp\.|vol\.|"
    r"press|transactions|symposium|advances in|in:|editors?|eds\.)",
    re.IGNORECASE,
)
_INITIAL = re.compile(r"(?:^|[\s,])[A-Z]\.?(?=,|\s|$)")


def _guess_title(body: str, year: int | None) -> str:
    """The sentence of an entry most like a title: not the authors (initials, commas), not the venue."""
    parts = [p.strip(' .“”"') for p in re.split(r"\.\s+", body) if p.strip(' .“”"')]
    best, best_score = "", 0.0
    for k, p in enumerate(parts):
        p = re.sub(r"^\(?\d{4}[a-z]?\)?\.?\s*", "", p).strip()
        words = p.split()
        if len(words) < 2 or len(p) > 300:
            continue
        score = min(len(words), 12) / 12 + (0.3 if k in (1, 2, 3) else 0.0)
        score -= 0.4 * len(_INITIAL.findall(p)) + 0.25 * p.count(",")
        if re.search(r",? and [A-Z]", p) and "," in p:  # "A. Smith, B. Jones, and C. Lee"
            score -= 0.5
        if p.startswith("In ") or _VENUE.search(p):
            score -= 1.0
        if year is not None and str(year) in p:
            score -= 0.3
        if score > best_score:
            best, best_score = p, score
    return best


def parse_reference(text: str, n: int) -> Reference:
    """One bibliography entry: label, year, a title guess, URLs, arXiv id and DOI."""
    text = " ".join(text.split())
    label = ""
    m = _LABEL.match(text)
    body = text
    if m:
        label = m.group("b") or m.group("n") or ""
        body = text[m.end() :]
    # URLs broken across lines ("https://github.com/ foo/bar", "https: //x.org") were joined with a
    # space; rejoin them.
    joined = re.sub(r"\b(https?:)\s+//", r"\1//", body)
    for _ in range(6):  # a URL may be broken over several lines
        again = re.sub(r"((?:https?://|www\.)\S*[./\-_?=&#])\s+(?=[\w\-/])", r"\1", joined)
        if again == joined:
            break
        joined = again
    urls = [_clean_url(u) for u in _URL.findall(joined)]
    for g in _GITHUB.findall(joined):
        url = _clean_url("https://" + g)
        if not any(url.lower() in u.lower() for u in urls):
            urls.append(url)
    arxiv = _ARXIV.search(joined) or _ARXIV_BARE.search(joined)
    doi = _DOI.search(joined)
    years = [int(y) for y in _YEAR.findall(body)]
    year = years[0] if years else None
    return Reference(
        id=f"ref-{n}",
        text=text,
        label=label,
        year=year,
        title=_guess_title(body, year),
        urls=list(dict.fromkeys(urls)),
        arxiv_id=arxiv.group(1) if arxiv else "",
        doi=doi.group(1).rstrip(".") if doi else "",
    )


def split_reference_text(text: str) -> list[str]:
    """Split a bibliography given as text into entries (one per line/paragraph or label)."""
    paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    if len(paras) > 1:
        out = []
        for p in paras:
            out.extend(_split_labelled(p))
        return out
    return _split_labelled(text)


def _split_labelled(text: str) -> list[str]:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    starts = [bool(_LABEL.match(ln) or re.match(r"^[-*•]\s+", ln)) for ln in lines]
    if sum(starts) >= 2:
        out: list[str] = []
        for ln, st in zip(lines, starts):
            ln = re.sub(r"^[-*•]\s+", "", ln)
            if st or not out:
                out.append(ln)
            else:
                out[-1] += " " + ln
        return out
    # Inline labels in one paragraph: "[1] A. B. Title. [2] C. D. ..."
    pieces = re.split(r"\s(?=\[\d{1,4}\]\s)", " ".join(lines))
    return [p.strip() for p in pieces if p.strip()]
