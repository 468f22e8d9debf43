"""What the plan dropped: index items (hyperparameters, equations, algorithm
blocks) that the blueprint does not mention.

Deterministic text matching, no model: the same index and blueprint always
give the same report, so a human can trust that an item listed here really
has no counterpart in the blueprint's text.

Matching rules (documented because a human reads the result):

- a hyperparameter is covered when one blueprint string holds both its value
  (compared as a number: ``1e-4`` = ``0.0001``, ``100K`` = ``100000``) and its
  name (normalised: Greek letters spelt out, ``_``/``-``/spaces ignored, a
  few common abbreviations such as ``lr`` for learning rate);
- an equation is covered when the blueprint cites its number ("Eq. (3)",
  "equation 3", or "(3)" in a component's equations) or contains its text
  (letters and digits compared, so spacing and PDF extraction noise do not
  matter);
- an algorithm block is covered when the blueprint cites it ("Algorithm 1")
  or its pseudocode holds most of the block's words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from deepcode_tui.blueprint.questions import unanswered
from deepcode_tui.blueprint.models import Blueprint

ItemKind = Literal["hyperparameter", "equation", "algorithm"]
# Unnumbered "equations" shorter than this (letters and digits) are extraction fragments.
FRAGMENT_CHARS = 6

_GREEK = {
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "δ": "delta",
    "ε": "epsilon",
    "ϵ": "epsilon",
    "η": "eta",
    "θ": "theta",
    "λ": "lambda",
    "μ": "mu",
    "ν": "nu",
    "ρ": "rho",
    "σ": "sigma",
    "τ": "tau",
    "ϕ": "phi",
    "φ": "phi",
    "ω": "omega",
    "κ": "kappa",
    "ξ": "xi",
    "π": "pi",
    "ζ": "zeta",
    "χ": "chi",
    "ψ": "psi",
}
# Short forms a plan (or code) commonly uses for a name the paper spells out.
_SYNONYMS = {
    "learningrate": ("lr",),
    "epsilon": ("eps",),
    "dropout": ("pdrop", "dropoutrate", "dropoutp"),
    "batchsize": ("bsz", "batch"),
    "warmupsteps": ("warmup",),
    "numberoflayers": ("nlayers", "numlayers", "layers"),
    "numberofheads": ("nheads", "numheads", "heads", "h"),
    "labelsmoothing": ("smoothing", "epsilonls", "els"),
    "weightdecay": ("wd",),
    "beamsize": ("beam",),
}
_NUMBER = re.compile(
    r"(?<![\w.])(\d+(?:,\d{3})*(?:\.\d+)?)(?:\s*(?:[eE]\s*([+\-−]?\d+)|[×x\*]\s*10\s*(?:\^|\*\*)?\s*\{?([+\-−]?\d+)\}?))?"
    r"(?:\s?([kKMB])(?![a-zA-Z]))?"
)
_POWER = re.compile(r"(?<![\w.])10\s*(?:\^|\*\*)\s*\{?([+\-−]?\d+)\}?|(?<![\w.\d])10\s?([−\-–]\d+)(?!\d)")
_SCALE = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9}


def _norm_name(text: str) -> str:
    out = "".join(_GREEK.get(ch, ch) for ch in text.lower())
    return re.sub(r"[^a-z0-9]+", "", out)


def _alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", "".join(_GREEK.get(ch, ch) for ch in text.lower()))


def numbers_in(text: str) -> set[float]:
    """Every number written in ``text`` (plain, scientific, ``×10^-9``, ``10−9``, ``100K``)."""
    found: set[float] = set()
    for m in _POWER.finditer(text):
        exp = (m.group(1) or m.group(2)).replace("−", "-").replace("–", "-")
        try:
            found.add(10.0 ** int(exp))
        except ValueError:
            pass
    # The digits of "10−9" are one number, not a 10 and a 9.
    rest = _POWER.sub(lambda m: " " * len(m.group(0)), text)
    for m in _NUMBER.finditer(rest):
        try:
            value = float(m.group(1).replace(",", ""))
        except ValueError:
            continue
        exp = m.group(2) or m.group(3)
        if exp:
            value *= 10.0 ** int(exp.replace("−", "-"))
        if m.group(4):
            value *= _SCALE[m.group(4)]
        found.add(value)
        if m.group(4) or exp:
            found.add(float(m.group(1).replace(",", "")))  # "100K" also reads as 100 in "100K steps"
    return found


def _value_of(value: str) -> float | None:
    nums = numbers_in(value)
    if not nums:
        return None
    return max(nums)  # "100K" -> 100000 rather than the bare 100


def _has_number(nums: set[float], want: float) -> bool:
    return any(math.isclose(n, want, rel_tol=1e-6, abs_tol=1e-15) for n in nums)


class CoverageItem(BaseModel):
    kind: ItemKind
    id: str  # index id (equations, algorithms) or "name=value" (hyperparameters)
    text: str  # what a human reads: the hyperparameter, equation or algorithm title
    section: str = ""  # heading of the section it appears in
    covered: bool
    matched_in: str = ""  # dotted blueprint location that covers it


class CoverageReport(BaseModel):
    """Items found in the index and whether the blueprint mentions each one."""

    items: list[CoverageItem] = Field(default_factory=list)
    ignored_fragments: int = 0  # unnumbered equation fragments too short to check
    # Open questions of the blueprint: how many there are and how many are still unanswered.
    questions: int = 0
    questions_open: int = 0

    def missing(self, kind: ItemKind | None = None) -> list[CoverageItem]:
        return [i for i in self.items if not i.covered and (kind is None or i.kind == kind)]

    def counts(self) -> dict[str, dict[str, int]]:
        """{kind: {"found": n, "covered": m}} for every kind."""
        out: dict[str, dict[str, int]] = {}
        for kind in ("hyperparameter", "equation", "algorithm"):
            of_kind = [i for i in self.items if i.kind == kind]
            out[kind] = {"found": len(of_kind), "covered": sum(i.covered for i in of_kind)}
        return out

    @property
    def complete(self) -> bool:
        return not self.missing()

    def render(self, *, limit: int = 50) -> str:
        """Plain-text report: one summary line, then each missing item."""
        c = self.counts()
        head = "Coverage: " + ", ".join(f"{v['covered']}/{v['found']} {k}s" for k, v in c.items())
        if self.ignored_fragments:
            head += f" ({self.ignored_fragments} equation fragments under {FRAGMENT_CHARS} characters not checked)"
        if self.questions:
            head += f"; {self.questions_open}/{self.questions} open questions unanswered"
        lines = [head]
        missing = self.missing()
        if not missing:
            lines.append("Nothing found in the paper index is missing from the blueprint.")
            return "\n".join(lines)
        lines.append(f"Found in the paper but absent from the blueprint ({len(missing)}):")
        for item in missing[:limit]:
            where = f"  [{item.section}]" if item.section else ""
            lines.append(f"  - {item.kind}: {item.text}{where}")
        if len(missing) > limit:
            lines.append(f"  ... and {len(missing) - limit} more")
        return "\n".join(lines)


def _strings(value: Any, loc: tuple[Any, ...] = ()) -> Iterator[tuple[str, str]]:
    """(dotted location, text) of every string in the blueprint."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, loc + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, loc + (i,))
    elif isinstance(value, str) and value.strip():
        yield ".".join(map(str, loc)), value


class _BlueprintText:
    """Precomputed views of a blueprint's strings for the matchers."""

    def __init__(self, bp: Blueprint) -> None:
        data = bp.model_dump(mode="json")
        self.strings = list(_strings(data))
        # Each hyperparameter spec reads as one string, so name and value are seen together.
        for ci, c in enumerate(bp.components):
            for hi, h in enumerate(c.hyperparameters):
                self.strings.append((f"components.{ci}.hyperparameters.{hi}", f"{h.name} = {h.value}"))
        self.numbers = [
            (loc, "".join(_GREEK.get(ch, ch) for ch in s.lower()), numbers_in(s), _norm_name(s))
            for loc, s in self.strings
        ]
        self.equation_strings = [
            (loc, s)
            for loc, s in self.strings
            if ".equations." in f".{loc}."
            or loc.endswith("pseudocode")
            or ".implements." in f".{loc}."
            or ".paper_sections." in f".{loc}."
        ]
        self.pseudocode = [(loc, s) for loc, s in self.strings if loc.endswith(("pseudocode", "notes"))]


def _name_keys(name: str) -> list[str]:
    n = _norm_name(name)
    keys = [n] if n else []
    stem = n.rstrip("0123456789")
    if stem and stem != n and len(stem) >= 3:
        keys.append(stem)  # "β1" -> "beta" matches "betas=(0.9, 0.98)"
    for long, shorts in _SYNONYMS.items():
        if long in n or n in shorts:
            keys.extend(shorts + (long,))
    return [k for k in dict.fromkeys(keys) if k]


def _match_hyper(text: _BlueprintText, name: str, value: str) -> str:
    want = _value_of(value)
    if want is None:
        return ""
    keys = _name_keys(name)
    for loc, lower, nums, norm in text.numbers:
        if not _has_number(nums, want):
            continue
        # Long keys may sit inside identifiers ("d_model" in "self.d_model"); short ones
        # ("lr", "h") must stand alone or they would match inside any word.
        if any(k in norm if len(k) > 2 else re.search(rf"(?<![a-z0-9]){k}(?![a-z])", lower) for k in keys):
            return loc
    return ""


def _equation_refs(label: str) -> list[re.Pattern[str]]:
    m = re.search(r"\d+(?:\.\d+)?[a-z]?", label or "")
    if not m:
        return []
    n = re.escape(m.group(0))
    return [
        re.compile(rf"\beq(?:uation)?s?\.?\s*\(?\s*{n}\s*\)?(?![\d.])", re.IGNORECASE),
        re.compile(rf"(?<!\w)\(\s*{n}\s*\)"),
    ]


def _match_equation(text: _BlueprintText, label: str, eq_text: str, eq_id: str = "") -> str:
    if eq_id:  # the index id, as the agents see it for unnumbered equations ("eq-7")
        pat = re.compile(rf"(?<![\w-]){re.escape(eq_id)}(?![\w-])")
        for loc, s in text.equation_strings:
            if pat.search(s):
                return loc
    pats = _equation_refs(label)
    if pats:
        for loc, s in text.strings:
            if pats[0].search(s):
                return loc
        for loc, s in text.equation_strings:
            if pats[1].search(s):
                return loc
    target = _alnum(eq_text)
    if len(target) >= FRAGMENT_CHARS:
        for loc, s in text.equation_strings:
            cand = _alnum(s)
            if len(cand) >= len(target) * 0.5 and fuzz.partial_ratio(target, cand) >= 85:
                return loc
    return ""


def _match_algorithm(text: _BlueprintText, title: str, body: str) -> str:
    m = re.search(r"algorithm\s*(\d+)", title, re.IGNORECASE)
    if m:
        pat = re.compile(rf"\balgorithm\s*{m.group(1)}(?!\d)", re.IGNORECASE)
        for loc, s in text.strings:
            if pat.search(s):
                return loc
    words = " ".join(re.findall(r"[a-z]{3,}", body.lower()))
    if len(words) >= 20:
        for loc, s in text.pseudocode:
            cand = " ".join(re.findall(r"[a-z]{3,}", s.lower()))
            if cand and fuzz.token_set_ratio(words, cand) >= 75:
                return loc
    return ""


def coverage_report(index: Any, bp: Blueprint) -> CoverageReport:
    """Check every hyperparameter, equation and algorithm block of ``index`` (a DocumentIndex)
    against ``bp``; items keep the index's order."""
    text = _BlueprintText(bp)
    headings = {s.id: s.heading for s in index.all_sections()}
    items: list[CoverageItem] = []

    seen: set[tuple[str, float | None]] = set()
    for h in index.hyperparameters:
        key = (_norm_name(h.name), _value_of(h.value))
        if key in seen or key[1] is None:
            continue
        seen.add(key)
        loc = _match_hyper(text, h.name, h.value)
        items.append(
            CoverageItem(
                kind="hyperparameter",
                id=f"{h.name}={h.value}",
                text=f"{h.name} = {h.value}",
                section=headings.get(h.section_id, ""),
                covered=bool(loc),
                matched_in=loc,
            )
        )
    ignored = 0
    for e in index.equations:
        if not e.label and len(_alnum(e.text)) < FRAGMENT_CHARS:
            ignored += 1  # "√", "Pd": symbols a PDF parser split off an equation, not equations
            continue
        loc = _match_equation(text, e.label, e.text, e.id)
        shown = " ".join(e.text.split())
        shown = shown if len(shown) <= 120 else shown[:117] + "..."
        items.append(
            CoverageItem(
                kind="equation",
                id=e.id,
                text=f"{e.label} {shown}".strip(),
                section=headings.get(e.section_id, ""),
                covered=bool(loc),
                matched_in=loc,
            )
        )
    for a in index.algorithms:
        loc = _match_algorithm(text, a.title, a.text)
        items.append(
            CoverageItem(
                kind="algorithm",
                id=a.id,
                text=a.title,
                section=headings.get(a.section_id, ""),
                covered=bool(loc),
                matched_in=loc,
            )
        )
    return CoverageReport(items=items, ignored_fragments=ignored, questions=len(bp.open_questions),
                          questions_open=len(unanswered(bp.open_questions)))
