"""Detectors for items agents look for: hyperparameters and bibliography entries."""

from __future__ import annotations

import re

from deepcode_tui.ingest.models import Hyperparameter, Reference

# ---- hyperparameters ------------------------------------------------------

_NUM = (
    r"(?:10\s*(?:\^|\*\*)?\s*\{?[−\-–]\d+\}?"
    r"|\d+(?:[.,]\d+)*(?:\s*[×x\*]\s*10\s*(?:\^|\*\*)?\s*\{?[−\-–]?\d+\}?)?)"
    r"(?:\s*[eE][−\-+]?\d+)?(?:\s?[kKMB](?![a-zA-Z]))?%?"
)
# Names written out in prose; each maps to a regex fragment.
_NAMES = [
    r"(?:peak |initial |base |max(?:imum)? )?learning[ -]rates?",
    r"\blr\b",
    r"(?:mini-?|micro-?)?batch[ -]sizes?",
    r"(?:number of )?(?:training )?epochs",
    r"(?:number of )?(?:training |update |optimi[sz]ation |gradient )?steps",
    r"warm-?up(?: steps)?",
    r"(?:attention |residual )?dropout(?: rate| probability)?",
    r"weight[ -]decay",
    r"momentum",
    r"label smoothing",
    r"gradient (?:clipping|norm)(?: threshold)?",
    r"(?:max(?:imum)? )?(?:sequence|context|input|output) length",
    r"(?:hidden|embedding|model|feed-?forward|inner)(?: layer)? (?:size|dim(?:ension(?:ality)?)?|width)",
    r"(?:number of )?(?:attention )?heads",
    r"(?:number of )?(?:hidden |transformer |encoder |decoder )?layers",
    r"beam (?:size|width)",
    r"length penalty",
    r"temperature",
    r"top-?[kp]",
    r"(?:random )?seed",
    r"kl (?:coefficient|penalty|weight)",
    r"discount(?: factor)?",
    r"kernel size",
    r"stride",
    r"rank",
    r"(?:number of )?(?:negative )?samples",
]
_NAME_RE = "|".join(f"(?:{n})" for n in _NAMES)
# "learning rate of 1e-4", "batch size = 32", "dropout rate Pdrop = 0.1", "dropout to 0.1"
_NAME_THEN_VALUE = re.compile(
    rf"(?P<name>{_NAME_RE})(?:\s+\(?[A-Za-zα-ωΑ-Ω][\w]{{0,10}}\)?(?=\s*:?=))?\s*"
    rf"(?:(?:of|=|:|is|was|were|set to|to|equal to|:=|≈)\s*)?(?:value\s+)?"
    rf"(?:[A-Za-zα-ωϵ][\w]{{0,8}}\s*=\s*)?(?P<value>{_NUM})",
    re.IGNORECASE,
)
# "100K steps", "6 layers", "8 heads", "4000 warmup steps", "a batch size of" handled above
_VALUE_THEN_NAME = re.compile(
    rf"(?<![\w.])(?P<value>{_NUM})\s+(?P<name>(?:training |warm-?up |update )?(?:steps|epochs|layers|heads|"
    rf"attention heads|iterations|hidden units|tokens per batch|GPUs))\b",
    re.IGNORECASE,
)
# Symbolic assignments: "β1 = 0.9", "d_model = 512", "ϵ = 10−9", "warmup_steps = 4000"
_SYMBOL_EQ = re.compile(
    rf"(?<![\w=<>])(?P<name>[A-Za-zα-ωΑ-Ωϵ][\w\-]{{0,15}})\s*=\s*(?P<value>{_NUM})(?![\w.]*\s*[=×x+\-*/]\s*\w)",
)
# Symbols that are not hyperparameters (loop indices, equation numbers, sizes of data).
_SYMBOL_STOP = {"i", "j", "n", "t", "x", "y", "k", "p", "page", "eq", "fig", "table", "figure", "year", "f1"}
_ANY_DIGIT = re.compile(r"\d")
# Cheap pre-check: a sentence without any of these words cannot match the named patterns.
_KEYWORDS = (
    "learning",
    "lr",
    "batch",
    "epoch",
    "step",
    "warm",
    "dropout",
    "decay",
    "momentum",
    "smoothing",
    "clip",
    "gradient",
    "length",
    "size",
    "dim",
    "width",
    "head",
    "layer",
    "beam",
    "penalty",
    "temperature",
    "top",
    "seed",
    "kl ",
    "discount",
    "kernel",
    "stride",
    "rank",
    "sample",
    "iteration",
    "unit",
    "token",
    "gpu",
)
_SENT_SPLIT = re.compile(r"(?<=[.;])\s+(?=[A-Z(])")


def _norm_value(v: str) -> str:
    v = v.strip().replace("−", "-").replace("–", "-")
    return re.sub(r"\s+", " ", v)


def find_hyperparameters(text: str, *, section_id: str = "", page: int | None = None) -> list[Hyperparameter]:
    """Hyperparameter mentions in prose or a table row, with the sentence they came from."""
    out: list[Hyperparameter] = []
    seen: set[tuple[str, str]] = set()

    def add(name: str, value: str, ctx: str) -> None:
        name = " ".join(name.split())
        value = _norm_value(value)
        if not value or not re.search(r"\d", value):
            return
        key = (name.lower(), value)
        if key in seen:
            return
        seen.add(key)
        out.append(
            Hyperparameter(name=name, value=value, section_id=section_id, page=page, context=ctx[:300])
        )

    if not _ANY_DIGIT.search(text):
        return out
    for sent in _SENT_SPLIT.split(text):
        s = " ".join(sent.split())
        if not s or len(s) > 2000 or not _ANY_DIGIT.search(s):
            continue
        low = s.lower()
        if any(k in low for k in _KEYWORDS):
            for m in _NAME_THEN_VALUE.finditer(s):
                add(m.group("name"), m.group("value"), s)
            for m in _VALUE_THEN_NAME.finditer(s):
                add(m.group("name"), m.group("value"), s)
        if "=" not in s:
            continue
        for m in _SYMBOL_EQ.finditer(s):
            name = m.group("name")
            if name.lower() in _SYMBOL_STOP or name.isdigit():
                continue
            # "(3)" equation numbers and "Table 2 = ..." are not assignments of a setting.
            add(name, m.group("value"), s)
    return out


def hyperparameters_from_table(
    rows: list[list[str]], *, section_id: str = "", page: int | None = None
) -> list[Hyperparameter]:
    """Two-column "name | value" rows of a hyperparameter table."""
    out = []
    for cells in rows:
        cells = [c.strip() for c in cells if c.strip()]
        if len(cells) != 2:
            continue
        name, value = cells
        if (
            re.fullmatch(r"[A-Za-zα-ωΑ-Ω][\w \-/().αβγδϵεηλτ]{0,40}", name)
            and re.search(r"\d", value)
            and len(value) < 40
        ):
            out.append(
                Hyperparameter(
                    name=name,
                    value=_norm_value(value),
                    section_id=section_id,
                    page=page,
                    context=" | ".join(cells),
                )
            )
    return out


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
