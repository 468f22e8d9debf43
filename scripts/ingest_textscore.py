"""Scoring helpers for `bench_ingest.py --text`: reading order, captions, rubric-named values.

Reading order, two ways. *Strict*: the prose of each numbered section (paragraph elements only; tables,
captions, equations and images left out on both sides) is reduced to its words of
three or more letters, and compared with the reference section's words by the
longest common subsequence: ``order = 2 * LCS / (len(ours) + len(ref))``. A column
read in the wrong order, a footnote spliced into a paragraph or a paragraph lost
all pull it down; the reference (MinerU Markdown, GROBID/s2orc JSON) has errors of
its own, so a perfect parser does not reach 1.0 on every section.

*Paragraph-aligned* (the headline figure): the reference's own errors are mostly whole
paragraphs in the wrong place (a column's paragraph placed after the next section's heading,
a float's text between two paragraphs), which the strict score charges to the parser. Here
every paragraph of either side is aligned to the stretch of the *other* side's whole text
where it reads best (anchored on shared word trigrams, then the LCS against that stretch with
a quarter of the paragraph's length as slack), and a section scores
``(matched words of its reference paragraphs + matched words of our paragraphs) / (all
their words)``. Words out of order *inside* a paragraph (columns interleaved line by line,
a footnote spliced mid-sentence), text lost, and text that is not in the reference (table
cells or figure labels read as prose) still cost; a paragraph that either side put in another
place or section does not. Section boundaries are scored by heading F1 (bench_ingest.py).

Values: rubric leaves state values with a name ("a learning rate of 0.001",
"$\\lambda = 0.4$", "batch size 128"); `rubric_values` pulls those pairs out, and
`value_found` says whether the index's hyperparameters hold the value (numerically
equal) with a name sharing a word or symbol with the rubric's name. Words are compared
after the usual abbreviations are written out (max -> maximum, eps -> epsilon, dim ->
dimension, ...: a table's "MaxStepPerEpisode | 4500" names the rubric's "maximum of 4500
steps") and the irregular plural "momenta" made singular.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from rapidfuzz.distance import LCSseq

from deepcode_tui.ingest.hyper import _GREEK as _ALL_GREEK

WORD = re.compile(r"[a-z]{3,}")

# The ingest's own table of Greek letter names (lower-case ones: scores compare lower-cased words).
_GREEK = {k: v for k, v in _ALL_GREEK.items() if k.islower()}
_TO_NAME = {v: k for k, v in _GREEK.items()} | {"ε": "epsilon", "ϕ": "phi", "φ": "phi"}


# ---- reading order -------------------------------------------------------------


_MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\[a-zA-Z]+", re.DOTALL)


def words(text: str) -> list[str]:
    """Words of three or more letters; LaTeX math of a Markdown reference left out (a PDF's
    text layer has the glyphs, not the commands)."""
    return WORD.findall(_MATH.sub(" ", text).lower())


def section_prose(elements) -> dict[str, list[str]]:
    """Numbered heading -> the words of its paragraphs, from an element stream."""
    out: dict[str, list[str]] = {}
    cur = None
    for e in elements:
        if e.kind == "heading":
            cur = e.number or None
            if cur is not None:
                out.setdefault(cur, [])
            continue
        if cur is not None and e.kind == "para":
            out[cur].extend(words(e.text))
    return out


def section_paras(elements) -> list[tuple[str | None, list[str]]]:
    """(numbered section or None, words) per paragraph element, in document order."""
    out: list[tuple[str | None, list[str]]] = []
    cur = None
    for e in elements:
        if e.kind == "heading":
            cur = e.number or None
        elif e.kind == "para":
            w = words(e.text)
            if w:
                out.append((cur, w))
    return out


def _trigram_index(doc: list[str]) -> dict[tuple[str, str, str], list[int]]:
    idx: dict[tuple[str, str, str], list[int]] = {}
    for i in range(len(doc) - 2):
        idx.setdefault((doc[i], doc[i + 1], doc[i + 2]), []).append(i)
    return idx


def _best_match(para: list[str], doc: list[str], idx: dict) -> int:
    """Words of `para` matched, in order, by the stretch of `doc` where it reads best."""
    if len(para) < 3:
        return 0
    votes: dict[int, int] = {}
    for k in range(len(para) - 2):
        for pos in idx.get((para[k], para[k + 1], para[k + 2]), ())[:50]:
            b = (pos - k) // 8
            votes[b] = votes.get(b, 0) + 1
    best = 0
    slack = max(4, len(para) // 4)
    for b, _ in sorted(votes.items(), key=lambda kv: -kv[1])[:3]:
        start = max(0, b * 8 - slack)
        window = doc[start : b * 8 + len(para) + slack]
        best = max(best, LCSseq.similarity(para, window))
    return best


def aligned_order(
    ours: list[tuple[str | None, list[str]]], ref: list[tuple[str | None, list[str]]]
) -> dict[str, float]:
    """Numbered section -> paragraph-aligned order score (see the module's docstring)."""
    ours_doc = [w for _, p in ours for w in p]
    ref_doc = [w for _, p in ref for w in p]
    ours_idx, ref_idx = _trigram_index(ours_doc), _trigram_index(ref_doc)
    matched: dict[str, int] = {}
    total: dict[str, int] = {}
    for num, p in ref:
        if num is None:
            continue
        matched[num] = matched.get(num, 0) + _best_match(p, ours_doc, ours_idx)
        total[num] = total.get(num, 0) + len(p)
    for num, p in ours:
        if num is None or num not in total:
            continue  # (a section the reference lacks says nothing about order)
        matched[num] += _best_match(p, ref_doc, ref_idx)
        total[num] += len(p)
    return {n: matched[n] / total[n] if total[n] else 1.0 for n in total}


def order_score(ours: list[str], ref: list[str]) -> float:
    if not ours and not ref:
        return 1.0
    return 2 * LCSseq.similarity(ours, ref) / (len(ours) + len(ref))


def grobid_paras(path: Path) -> list[tuple[str | None, list[str]]]:
    """(numbered section or None, words) per `body_text` paragraph of an s2orc/GROBID JSON."""
    data = json.loads(path.read_text())
    body = data.get("pdf_parse", data).get("body_text", [])
    return [((p.get("sec_num") or "").rstrip(".") or None, words(p.get("text", ""))) for p in body]


def grobid_prose(path: Path) -> dict[str, list[str]]:
    """Numbered section -> words, from an s2orc/GROBID JSON (`body_text` paragraphs)."""
    data = json.loads(path.read_text())
    body = data.get("pdf_parse", data).get("body_text", [])
    out: dict[str, list[str]] = {}
    for p in body:
        num = (p.get("sec_num") or "").rstrip(".")
        if not num:
            continue
        out.setdefault(num, []).extend(words(p.get("text", "")))
    return out


# ---- captions --------------------------------------------------------------------

CAPTION_START = re.compile(r"^\s*\**\s*((?:Table|Figure|Fig\.)\s*[A-Z]?\d{1,3})\s*\**\s*[:.|]", re.IGNORECASE)


def _cap_key(label: str) -> str:
    label = label.lower().replace("fig.", "figure")
    return re.sub(r"\s+", "", label)


def captions_in_lines(lines) -> set[str]:
    return {_cap_key(m.group(1)) for ln in lines if (m := CAPTION_START.match(ln))}


def captions_in_index(index) -> set[str]:
    found = set()
    for f in index.figures:
        found.add(_cap_key(f.label))
    for t in index.tables:
        m = CAPTION_START.match(t.caption or "")
        if m:
            found.add(_cap_key(m.group(1)))
        elif t.caption:
            lm = re.match(r"(table\s*[A-Z]?\d{1,3})", t.caption, re.IGNORECASE)
            if lm:
                found.add(_cap_key(lm.group(1)))
    for c in index.chunks:  # captions kept with a figure element or as a caption chunk
        if c.kind in ("caption", "table"):
            for ln in c.text.splitlines():
                m = CAPTION_START.match(ln)
                if m:
                    found.add(_cap_key(m.group(1)))
    return found


# ---- rubric-named values ------------------------------------------------------------

_NUMV = (
    r"(?:10\^\{?[-−]?\d+\}?|\d+(?:\.\d+)?(?:\s*[eE]\s*[-−+]?\d+)?(?:\s*(?:×|x|·)\s*10\^\{?[-−]?\d+\}?)?)"
    r"(?:\s*/\s*\d+)?"
)
_STOP = {
    "a",
    "an",
    "the",
    "with",
    "and",
    "of",
    "to",
    "is",
    "are",
    "was",
    "were",
    "set",
    "has",
    "have",
    "been",
    "be",
    "uses",
    "use",
    "using",
    "used",
    "for",
    "in",
    "on",
    "at",
    "its",
    "their",
    "that",
    "which",
    "where",
    "each",
    "all",
    "total",
    "value",
    "as",
    "by",
    "it",
    "from",
    "size",
    "into",
    "implemented",
    "defined",
    "run",
    "added",
    "computed",
    "code",
    "model",
    "models",
}
_NAME_WORDS = r"(?:[A-Za-z][\w\-']*|\\[a-zA-Z]+(?:_\{?[\w\\]+\}?)?|[α-ωϵ][\w]*)"
_R_LINK = re.compile(
    rf"(?<![\w\-])(?P<name>(?:{_NAME_WORDS}\s+){{0,3}}{_NAME_WORDS}|\"[^\"]{{2,30}}\")\s*"
    rf"(?:\((?:[^()]{{1,30}})\)\s*)?(?:hyperparameter\s+|argument\s+)?"
    rf"(?:is\s+|was\s+|are\s+|were\s+)?(?:set\s+to|of|=|equal\s+to|fixed\s+to|:)\s*(?P<value>{_NUMV})(?!\w|\.\d)"
)
_R_BARE = re.compile(
    rf"\b(?P<name>batch size|learning rate|minibatch size|mini-batch size|hidden dimension|"
    rf"embedding dimension|temperature|momentum|weight decay|dropout)\s+(?P<value>{_NUMV})(?!\w|\.\d)",
    re.IGNORECASE,
)
# Results and data sizes are not settings: a rubric's "accuracy of 73.8%" is not a value to extract.
_RESULT = re.compile(
    r"\b(?:accuracy|error|score|reward|performance|success|successes|auc|f1|cider|improvement|mse|"
    r"correlation|sequence of|split|out|total|average|mean|equation|section|table|figure|step \d)\b",
    re.IGNORECASE,
)
_LEADING = re.compile(
    r"^(?:(?:a|an|the|with|and|uses?|using|of|has|have|for|in|its|their|all|is|are|to|that|such|"
    r"when|where|been|set|use)\s+)+",
    re.IGNORECASE,
)


def _delatex(t: str) -> str:
    t = t.replace("$", " ")
    t = re.sub(r"\\(?:text|mathrm|mathit|operatorname|mathbf|textbf|textit)\{([^}]*)\}", r"\1", t)
    t = re.sub(r"\\times", "×", t)
    t = re.sub(r"\\cdot", "·", t)
    t = re.sub(r"\\(?:,|;|!|quad)", " ", t)
    t = re.sub(r"10\s*\^\s*\{\s*([-−]?\d+)\s*\}", r"10^\1", t)
    return t


def to_float(v: str) -> float | None:
    s = v.strip().replace("−", "-").replace("–", "-").replace(",", "")
    s = re.sub(r"\s+", "", s)
    s = s.rstrip("%")
    m = re.fullmatch(r"(\d+)/(\d+)", s)
    if m:
        return int(m.group(1)) / int(m.group(2)) if int(m.group(2)) else None
    m = re.fullmatch(r"(-?\d+(?:\.\d+)?)?(?:×|x|\*|·)?10\^\{?(-?\d+)\}?", s)
    if m:
        exp = int(m.group(2))
        return None if abs(exp) > 300 else (float(m.group(1)) if m.group(1) else 1.0) * 10.0**exp
    m = re.fullmatch(r"(-?\d+(?:\.\d+)?)([eE](-?\+?\d+))?([kKMB])?", s)
    if not m:
        return None
    x = float(m.group(1))
    if m.group(3):
        exp = int(m.group(3))
        if abs(exp) > 300:
            return None
        x *= 10.0**exp
    x *= {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9}.get(m.group(4) or "", 1)
    return x


def _split_compound(name: str) -> str:
    """Code-style and flattened names into words: "MiniBatch" -> "Mini Batch", "adam_eps" ->
    "adam eps", "σmax" (a PDF's flattened subscript) -> "σ max"; else a right name written that
    way ("σmax = 15" for the rubric's "$\\sigma_{max}$") never shares a word with the rubric's."""
    name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    name = re.sub(r"(?<=[α-ωΑ-Ωϵ])(?=[A-Za-z])", " ", name)
    return name.replace("_", " ")


# Abbreviations papers and their code tables use for words a rubric writes out.
_ABBREV = {
    "max": "maximum",
    "min": "minimum",
    "eps": "epsilon",
    "num": "number",
    "dim": "dimension",
    "freq": "frequency",
    "prob": "probability",
    "momenta": "momentum",
}


def name_tokens(name: str) -> set[str]:
    name = _split_compound(_delatex(name))
    toks = set()
    for w in re.findall(r"\\?[A-Za-zα-ωΑ-Ωϵ]+", name):
        w = w.lstrip("\\")
        low = w.lower()
        low = _TO_NAME.get(low, low)
        low = _ABBREV.get(low, low)
        if low in _STOP or (len(low) < 3 and low not in _GREEK and not re.fullmatch(r"[A-Z]", w)):
            continue  # (lower-case single letters are indices and variables: i, j, t, f)
        if len(low) > 3 and low.endswith("s"):
            low = low[:-1]
        toks.add(low)
    return toks


def rubric_values(rubric: dict) -> list[tuple[str, str, str]]:
    """(name, value, requirement) triples stated in the rubric's leaves."""
    out: list[tuple[str, str, str]] = []
    seen: set[tuple[str, float]] = set()

    def walk(n: dict) -> None:
        subs = n.get("sub_tasks") or []
        if not subs:
            req = n.get("requirements", "")
            text = _delatex(req)
            for rx in (_R_LINK, _R_BARE):
                for m in rx.finditer(text):
                    name = _LEADING.sub("", m.group("name").strip('"')).strip()
                    val = to_float(m.group("value"))
                    toks = name_tokens(name)
                    if val is None or not toks or _RESULT.search(name) or "\\sum" in name:
                        continue
                    key = (" ".join(sorted(toks)), val)
                    if key not in seen:
                        seen.add(key)
                        out.append((name, m.group("value"), req))
        for c in subs:
            walk(c)

    walk(rubric)
    return out


def value_in_text(value: str, text_numbers: set[float]) -> bool:
    v = to_float(value)
    return v is not None and any(abs(v - x) <= 1e-9 * max(1.0, abs(v)) for x in text_numbers)


NUM_IN_TEXT = re.compile(
    r"\d+(?:\.\d+)?(?:\s*[eE]\s*[-−]?\d+)?(?:\s*(?:×|\\times)\s*10\s*\^?\s*\{?\s*[-−]?\d+\s*\}?)?"
    r"|10\s*\^\s*\{?\s*[-−]?\d+\s*\}?|10[−-]\d+"
)


def numbers_of(text: str) -> set[float]:
    out = set()
    for m in NUM_IN_TEXT.finditer(text):
        s = m.group(0).replace("\\times", "×").replace(" ", "")
        s = re.sub(r"^10[−-](\d+)$", r"10^-\1", s)
        v = to_float(s)
        if v is not None:
            out.add(v)
    return out


def value_found(index, name: str, value: str) -> tuple[bool, bool]:
    """(found with a matching name, found by value alone) among index.hyperparameters."""
    v = to_float(value)
    want = name_tokens(name)
    by_value = by_name = False
    for h in index.hyperparameters:
        hv = to_float(h.value)
        if hv is None or v is None or abs(hv - v) > 1e-9 * max(1.0, abs(v)):
            continue
        by_value = True
        if want & name_tokens(h.name):
            by_name = True
            break
    return by_name, by_value
