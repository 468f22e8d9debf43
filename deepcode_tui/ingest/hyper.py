"""Stated values: hyperparameters with name, value, unit and context, from prose, tables and algorithms.

Prose: a parameter-like noun phrase ("learning rate", "discount factor γ",
"number of epochs", "KL coefficient") linked to a number ("of", "=", "is set
to", ":"), a count before its noun ("100K steps", "3 hidden layers", "256
units"), a closed set written without a link ("batch size 128"), quoted or
code-style names ("IntCoef" set to 1.0, warmup_steps = 4000) and symbol
assignments (β1 = 0.9, λ = 0.4, N (=128)). A noun phrase counts only when its
head is a parameter word (rate, size, coefficient, factor, steps, ...);
single lower-case letters (i, m, x) are loop or equation variables and never
count. LaTeX math (Markdown, LaTeX input) is read as the PDF text would show it
(``$\\beta_1 = 0.9$`` -> ``β1 = 0.9``, ``10^{-4}`` -> ``1e-4``).

Tables: a row whose first cell names a parameter gives one value per numeric
cell (the column header is the context), a header row of parameter names over a
row of numbers gives one value per column.
"""

from __future__ import annotations

import itertools
import re

from deepcode_tui.ingest.models import Hyperparameter

_GREEK = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ϵ",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "theta": "θ",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "xi": "ξ",
    "rho": "ρ",
    "sigma": "σ",
    "tau": "τ",
    "phi": "φ",
    "varphi": "ϕ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Lambda": "Λ",
    "Sigma": "Σ",
    "Omega": "Ω",
}
GREEK_LETTERS = "α-ωΑ-Ωϵϑϕϱς"  # a regex character-class body


def is_greek(ch: str) -> bool:
    return "α" <= ch <= "ω" or "Α" <= ch <= "Ω" or ch in "ϵϑϕϱς"


# ---- numbers -------------------------------------------------------------------

_NUM = (
    r"(?:10\s*(?:\^|\*\*)\s*\{?\s*[−\-–+]?\s*\d+\s*\}?"  # 10^-4, 10**6
    r"|10[−\-–]\d{1,2}(?!\d|\.\d)"  # "10−4" from a PDF (superscript lost)
    r"|\d+(?:,\d{3})+(?:\.\d+)?"  # 1,000,000
    r"|\d*\.\d+|\d+(?:\.\d+)?)"
    r"(?:\s*[×x\*·]\s*10\s*(?:\^|\*\*)?\s*\{?\s*[−\-–+]?\s*\d+\s*\}?"  # 3 × 10^-4, 2.5 · 10−4
    r"|\s*[eE]\s*[−\-+]?\s*\d+)?"  # 1e-4
    r"(?:\s?[kKMB](?![a-zA-Z]))?"
    r"(?:\s*/\s*\d+(?![\d.]))?"  # 2/255
    r"%?"
)
NUM_RE = re.compile(_NUM)

# ---- names -------------------------------------------------------------------------

# Head words of parameter names: the last word of "initial learning rate", "KL coefficient", ...
_HEADS = (
    "rate|rates|lr|size|sizes|dimension|dimensions|dimensionality|dim|dims|width|depth|length|lengths|"
    "coefficient|coefficients|coef|factor|factors|decay|momentum|temperature|epochs?|steps?|iterations?|"
    "updates?|layers?|heads?|units?|neurons?|channels?|filters?|blocks?|tokens?|samples?|seeds?|"
    "episodes?|rollouts?|trajectories|environments?|envs|actors?|workers?|threshold|thresholds|"
    "weight|weights|penalty|probability|prob|ratio|noise|scale|scaling|clipping|clip|norm|epsilon|"
    "alpha|beta|gamma|lambda|tau|sigma|horizon|interval|frequency|period|capacity|budget|"
    "patience|warm-?up|dropout|smoothing|margin|radius|bins|tiles|patches|experts|clusters|"
    "centers|centres|components|particles|chains|rank|stride|kernel|span|window|buffer|"
    "count|number|levels|hidden|embedding|embeddings|batch|minibatch|mini-batch|lag|delay|"
    "gap|bandwidth|precision|tolerance|strength|magnitude|budget"
)
_HEAD_RE = re.compile(rf"^(?:{_HEADS})$", re.IGNORECASE)


def _is_head(word: str) -> bool:
    """A parameter head word, singular or plural ("budget", "budgets", "thresholds")."""
    w = word.lower().strip("-")
    return bool(_HEAD_RE.match(w) or (len(w) > 4 and w.endswith("s") and _HEAD_RE.match(w[:-1])))


# Words a name never starts with (they belong to the sentence, not the name).
_LEAD_STOP = {
    "a",
    "an",
    "the",
    "we",
    "our",
    "their",
    "its",
    "this",
    "that",
    "these",
    "those",
    "with",
    "and",
    "or",
    "of",
    "for",
    "to",
    "in",
    "on",
    "at",
    "by",
    "from",
    "use",
    "uses",
    "used",
    "using",
    "set",
    "sets",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "has",
    "have",
    "had",
    "all",
    "each",
    "every",
    "both",
    "which",
    "where",
    "while",
    "as",
    "then",
    "also",
    "only",
    "here",
    "there",
    "it",
    "they",
    "such",
    "total",
    "same",
    "default",
    "fixed",
    "chosen",
    "selected",
    "trained",
    "train",
    "training",
    "run",
    "runs",
    "ran",
    "onto",
    "into",
    "over",
    "under",
    "across",
    "through",
    "per",
    "via",
    "than",
    "between",
    "within",
    "without",
    "after",
    "before",
    "about",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "several",
    "many",
    "few",
    "different",
    "distinct",
    "various",
    # degree words: "relatively small batch sizes ≈ 100" describes a regime, it names nothing
    "relatively",
    "very",
    "much",
    "small",
    "smaller",
    "large",
    "larger",
    "varying",
    # verbs a sentence puts before the name ("we consider simulation budgets of ...")
    "consider",
    "considered",
    "employ",
    "employed",
    "adopt",
    "adopted",
    "choose",
    "select",
    "apply",
    "applied",
    "utilize",
    "utilise",
    "vary",
    "sweep",
    "tune",
    "report",
    "reported",
    "obtain",
}
# Phrases that state results or data, not settings.
_RESULT = re.compile(
    r"\b(?:accuracy|accuracies|error|errors|score|scores|reward|rewards|return|returns|performance|"
    r"success|auc|f1|bleu|rouge|cider|perplexity|ppl|loss|improvement|gain|speed-?up|correlation|"
    r"mse|mae|rmse|p-value|percentile|year|page|section|table|figure|equation|eq|appendix|"
    r"citations?|parameters? count|million|billion)\b",
    re.IGNORECASE,
)
_LINK = (
    # a symbol or abbreviation in parentheses ("(γ)", "(WD)"), or an aside ("peak LR (attained at
    # 7% of training) of 1e-5": the value after the aside is still the name's)
    r"(?:\s*\(\s*(?P<sym>[A-Za-z"
    + GREEK_LETTERS
    + r"][\w'"
    + GREEK_LETTERS
    + r"]{0,6})\s*\)|\s*\([^()]{8,80}\))?"
    r"(?:\s+(?P<sym2>[" + GREEK_LETTERS + r"][\w]{0,4}|[A-Z][a-z]?_?\w{0,3}|[A-Z]))?"
    r"\s*(?:(?:is|was|are|were|being)\s+)?(?:(?:set|fixed|chosen|initiali[sz]ed|equal|kept|tuned)\s+(?:to|at|as)\s+|"
    r"(?:of|=|:|:=|≈|to|at)\s*|as\s+|(?<=is |as |re )|(?<=being )|\(\s*[A-Za-z"
    + GREEK_LETTERS
    + r"]\w{0,3}\s*=\s*)"
    r"(?:(?:a|an|approximately|about|around|roughly)\s+)?"
    r"(?:[A-Za-z" + GREEK_LETTERS + r"][\w]{0,6}\s*=\s*)?"
)
_WORD = r"[A-Za-z][A-Za-z\-']*"
_NAME_LINK_VALUE = re.compile(
    rf"(?<![\w\-])(?P<name>(?:{_WORD}\s+){{0,4}}{_WORD})\b{_LINK}(?P<value>{_NUM})(?![\w.]*\s*[×x]\s*\d)"
)
# "100K steps", "3 hidden layers", "256 hidden units", "4 attention heads", "10 random seeds"
_VALUE_NAME = re.compile(
    rf"(?<![\w.,/−\-])(?P<value>{_NUM})\s+(?P<name>(?:(?:training|warm-?up|update|gradient|optimi[sz]ation|"
    rf"hidden|attention|transformer|encoder|decoder|convolutional|residual|random|parallel|fully[- ]connected|"
    rf"mlp|lstm|gru|dense|linear|total)\s+){{0,2}}"
    rf"(?:steps|epochs|iterations|layers|heads|hidden units|units|neurons|channels|filters|"
    rf"seeds|rollouts|episodes|environments|envs|workers|actors|GPUs|TPUs|experts|tokens per batch|"
    rf"warm-?up steps|gradient steps|updates|blocks|bins|tiles|clusters|particles))\b",
    re.IGNORECASE,
)
# Names often written without a link: "batch size 128", "temperature 1.0", "exponential decay 0.99".
_BARE_HEADS = (
    r"size|rate|temperature|momentum|decay|dropout|coefficient|coef|factor|epsilon|length|dimension|"
    r"penalty|threshold|weight|ratio|scale|norm"
)
_BARE = re.compile(
    rf"(?<![\w\-])(?P<name>(?:{_WORD}\s+){{0,3}}(?:{_BARE_HEADS}))\s+(?P<value>{_NUM})(?!\w|\.\d|\s*[×x%]|\s*[-–]\s*\d)",
    re.IGNORECASE,
)
# "with 0.01 being the initial learning rate", "0.1 as the dropout rate"
_VALUE_BEING = re.compile(
    rf"(?<![\w.])(?P<value>{_NUM})\s+(?:being|as|is|was)\s+(?:the|our)\s+(?P<name>(?:{_WORD}\s+){{0,3}}{_WORD})",
    re.IGNORECASE,
)
# Code or quoted names: "IntCoef" set to 1.0, warmup_steps = 4000, learned_sinusoidal_dim=32
_CODE = re.compile(
    rf"[\"“'`]?(?P<name>[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+|[A-Z][a-z]+(?:[A-Z][a-z0-9]+)+|"
    rf"[a-z]+(?:[A-Z][a-z0-9]+)+)[\"”'`]?\s*(?:hyper-?parameter|argument|parameter|flag|option)?\s*"
    rf"(?:(?:is|was)\s+)?(?:=|:|set\s+to|of)\s*(?P<value>{_NUM})(?!\w|\.\d)"
)
# Symbols: "β1 = 0.9", "λ = 0.4", "N (=128)", "d_model = 512", "T = 3", "σmin = 0.01"
_SYMBOL = re.compile(
    rf"(?<![\w=<>≤≥+\-*/^])(?P<name>[{GREEK_LETTERS}][\w{GREEK_LETTERS}]{{0,5}}|[A-Za-z](?:_\{{?\w{{1,8}}\}}?|\d)?|"
    rf"[A-Za-z][a-z]?_[a-z]{{1,8}}|[a-z]{{2,8}}\d?|[A-Z][a-z]{{1,6}}\d?)\s*\(?\s*=\s*(?P<value>{_NUM})\)?(?![\w.]*\s*[=×x+\-*/^]\s*[\w(])"
)
_SYMBOL_STOP = {"e", "eq", "fig", "p", "q", "r", "s"}
# Bulleted settings: "• Dim (channels): 256 • Attention Heads: 4", "- warmup: 500". The bullet and
# the colon are the evidence, so the name needs no parameter head word ("Resnet block groups").
_BULLET = r"(?:^|(?<=\s))[•▪◦●‣∙*\-–]\s*"
_LISTED = re.compile(
    rf"{_BULLET}(?P<name>[A-Za-z][A-Za-z0-9'\-/]*(?:\s+[A-Za-z0-9(][A-Za-z0-9'()\-/]*){{0,5}})\s*:\s*"
    rf"(?P<value>{_NUM})(?=\s*(?:$|[•▪◦●‣∙;,]|\s[*\-–]\s))"
)


def _keywordless_name(words: list[str]) -> str:
    """The parameter name ending `words`: its head checked, then the words before it taken back
    to the first sentence word ("GSM use a batch size" -> "batch size")."""
    while words and words[-1].lower() in {
        "being",
        "is",
        "was",
        "were",
        "are",
        "then",
        "also",
        "initially",
        "set",
        "as",
    }:
        words = words[:-1]
    if not words:
        return ""
    low = [w.lower() for w in words]
    if "number" in low[:-1] and low[low.index("number") + 1 : low.index("number") + 2] == ["of"]:
        k = low.index("number")  # "number of beams", "number of negative samples"
        return " ".join(words[k:]) if low[-1] not in _LEAD_STOP else ""
    head = low[-1].strip("-")
    if head == "number" or not _is_head(head):
        return ""
    k = len(words) - 1
    while k > 0 and len(words) - k < 4 and low[k - 1] not in _LEAD_STOP:
        k -= 1
    return " ".join(words[k:])


# ---- LaTeX math as text ---------------------------------------------------------------

_TEX_CMD = re.compile(
    r"\\(?:text|mathrm|mathit|operatorname|mathbf|textbf|textit|mathcal|boldsymbol|rm)\s*\{((?:[^{}]|\{[^{}]*\})*)\}"
)
_TEX_GREEK = re.compile(r"\\(" + "|".join(sorted(_GREEK, key=len, reverse=True)) + r")(?![A-Za-z])")
_TEX_POW = re.compile(r"10\s*\^\s*\{\s*([−\-–+]?\s*\d+)\s*\}|10\s*\^\s*([−\-–+]?\d+)")


def _tex_cmd_text(m: re.Match) -> str:
    """``\\mathrm { D o F }`` -> "DoF": converters space out the letters of upright math text."""
    g = m.group(1).replace("{", " ").replace("}", " ")  # "\\mathrm { { e } - 3 }" -> "e - 3"
    return re.sub(r"\s+", "", g) if re.fullmatch(r"\s*(?:\w\s+)+\w\s*", g) else g


_MATH_SPAN = re.compile(r"\$\$?([^$]{1,400})\$\$?")
_SPACED_DIGITS = re.compile(r"(?<=\d)\s+(?=\d)|(?<=\d)\s+(?=\.\s*\d)|(?<=\d\.)\s+(?=\d)")


def detex(text: str) -> str:
    """Inline LaTeX math as a PDF's text layer would read it."""
    if "$" not in text and "\\" not in text and "^" not in text:
        return text
    # Converters space out math digits ("$B = 1 0 0$", "$0 . 0 2$"): inside math, digits are one number.
    t = _MATH_SPAN.sub(lambda m: " " + _SPACED_DIGITS.sub("", _SPACED_DIGITS.sub("", m.group(1))) + " ", text)
    t = t.replace("$", " ")
    for _ in range(2):
        t = _TEX_CMD.sub(_tex_cmd_text, t)
    t = _TEX_GREEK.sub(lambda m: _GREEK[m.group(1)], t)
    t = re.sub(r"\\(?:times)", "×", t)
    t = re.sub(r"\\(?:cdot)", "·", t)
    t = re.sub(r"\\(?:approx|sim)", "≈", t)
    t = re.sub(r"\\(?:leq|le)\b", "≤", t)
    t = re.sub(r"\\(?:geq|ge)\b", "≥", t)
    t = re.sub(r"\\[,;!: ]|\\quad|~", " ", t)
    t = _TEX_POW.sub(lambda m: "10^" + (m.group(1) or m.group(2)).replace(" ", ""), t)
    t = re.sub(r"\s*_\s*\{\s*([^{}]{1,12})\s*\}", lambda m: m.group(1).replace(" ", ""), t)  # β_{1} -> β1
    t = re.sub(r"(?<=[\w" + GREEK_LETTERS + r"])_(?=\w)", "", t) if "_" in t else t
    t = re.sub(r"\s*([=,])\s*", r" \1 ", t)
    return re.sub(r"[ \t]+", " ", t.replace("{", "").replace("}", ""))


# ---- values --------------------------------------------------------------------------------

_UNITS = re.compile(
    r"\s*(?P<unit>%|steps|epochs|iterations|tokens|samples|frames|episodes|seconds|secs?|s|ms|minutes|min|"
    r"hours|h|days|GB|MB|px|pixels|dB|Hz|kHz|updates)\b",
    re.IGNORECASE,
)


def norm_value(v: str) -> str:
    v = v.strip().replace("−", "-").replace("–", "-")
    v = re.sub(r"\s+", " ", v)
    v = re.sub(r"(?<=\d)\s*([eE])\s*([-+]?)\s*(?=\d)", r"\1\2", v)  # "5 e - 6" (a converter's spacing)
    m = re.fullmatch(r"10\s*(?:\^|\*\*)\s*([+-]?\d+)", v.replace(" ", ""))
    if m:
        return f"1e{int(m.group(1))}"
    return v


def _unit_after(text: str, end: int) -> str:
    m = _UNITS.match(text, end)
    return m.group("unit") if m else ""


# ---- prose --------------------------------------------------------------------------------

_SENT_SPLIT = re.compile(r"(?<=[.;])\s+(?=[A-Z(\[])|\n+")
_ANY_DIGIT = re.compile(r"\d")


class _Collector:
    def __init__(self, section_id: str, page: int | None, source: str) -> None:
        self.out: list[Hyperparameter] = []
        self.seen: set[tuple[str, str]] = set()
        self.section_id, self.page, self.source = section_id, page, source

    def add(self, name: str, value: str, ctx: str, unit: str = "") -> None:
        name = " ".join(name.split()).strip(" ,;:-\"'“”`")
        value = norm_value(value)
        if not name or not value or not _ANY_DIGIT.search(value) or len(name) > 60:
            return
        key = (name.lower(), value)
        if key in self.seen:
            return
        self.seen.add(key)
        self.out.append(
            Hyperparameter(
                name=name,
                value=value,
                unit=unit,
                section_id=self.section_id,
                page=self.page,
                context=ctx[:300],
                source=self.source,  # type: ignore[arg-type]
            )
        )


def _value_ok(text: str, m: re.Match) -> bool:
    """Not a year, a citation, a section/figure number or a range's first half."""
    v = m.group("value")
    end = m.end("value")
    after = text[end : end + 3]
    before = text[max(0, m.start("value") - 2) : m.start("value")]
    if re.fullmatch(r"(?:19|20)\d\d", v.strip()) and not _COUNTED.match(text, end):
        return False  # a year, unless it counts something ("a length of 2000 timesteps")
    if re.match(r"\s*[–\-]\s*\d|\.\d|\s*\^", after):  # "1-3", "3.2.1", "2^l"
        return False
    if re.match(r"\s*\+\s*\d", text[end : end + 6]):  # "3 + 10 + 8 = 21": a sum, not a value
        return False
    if re.search(r"\d\s*,\s*$", text[max(0, m.start("value") - 6) : m.start("value")]) and re.fullmatch(
        r"\d{3}", v
    ):
        return False  # the "000" of "10 , 000"
    if text[max(0, m.start("value") - 10) : m.start("value")].rstrip(" ,").endswith(("…", "...", "ldots")):
        return False  # "n = 1, ..., 5 layers" is a range
    return not before.endswith(("[", "(", "§"))


_COUNTED = re.compile(
    r"\s*(?:time-?steps|steps|epochs|iterations|samples|episodes|updates|frames|tokens|examples|"
    r"trajectories|transitions|simulations|games)\b",
    re.IGNORECASE,
)
# "10 , 000" / "6 , 000": a converter's spaced thousands separator, one number, not a list of two.
_SPACED_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3})\s?,\s(000)(?:\s?,\s(000))?(?![\d.])")
# A count read as a point in time ("after 100K steps the model ..."): a description, not a setting.
_TIME_POINT = re.compile(
    r"(?:\b(?:after|until|before|than|beyond|at(?:\s+(?:around|about|least))?)|[<>≤≥≈~])\s*$", re.IGNORECASE
)
# "varying skew (s = 0.2, 1.0, 1.8)", "normal tails (t = 1)": a noun with its symbol assigned in
# parentheses names the setting, whatever the noun (no parameter head word needed).
_PAREN_ASSIGN = re.compile(
    rf"(?<![\w\-])(?P<name>(?:{_WORD}\s+){{0,2}}{_WORD})\s*\(\s*(?P<sym>[A-Za-z{GREEK_LETTERS}]\w{{0,3}})\s*=\s*"
    rf"(?P<values>{_NUM}(?:\s*,\s*{_NUM})*)\s*\)"
)
_GRID_VERBS = {
    "is",
    "are",
    "was",
    "were",
    "selected",
    "chosen",
    "searched",
    "tuned",
    "swept",
    "varied",
    "sampled",
    "picked",
}
# Degrees of freedom of a robot or body: "the 24-DoF Shadow Hand", "a Kuka arm (7 dof)".
_DOF = r"(?:-?\s*DoF|\s*dof|\s+degrees\s+of\s+freedom)"
_DOF_BEFORE = re.compile(
    rf"(?<![\w.])(?P<value>\d{{1,3}}){_DOF}\s+(?P<name>(?:[A-Z][\w\-]*\s+){{0,2}}[A-Za-z][\w\-]*)"
)
_DOF_AFTER = re.compile(
    rf"(?P<name>(?:[A-Z][\w\-]*\s+)?[A-Za-z][\w\-]*)\s*\(\s*(?P<value>\d{{1,3}}){_DOF}\s*\)|"
    rf"(?P<name2>(?:[A-Z][\w\-]*\s+)?[A-Za-z][\w\-]*)\s+(?:of|with)\s+(?P<value2>\d{{1,3}}){_DOF}\b"
)


# "Adam (0.9, 0.999)", "AdamW(β1=0.9, β2=0.95)": the two numbers after Adam are its betas by
# convention (PyTorch's ``betas=(0.9, 0.999)``).
_ADAM_BETAS = re.compile(
    r"\b(?P<opt>Adam[Ww]?|ADAM[Ww]?)\s*\(\s*(?:(?:β|beta)\s*_?1\s*=\s*)?(?P<b1>0?\.\d+)\s*,\s*"
    r"(?:(?:β|beta)\s*_?2\s*=\s*)?(?P<b2>0?\.\d+)\s*\)"
)


def adam_betas(s: str, c: _Collector) -> None:
    for m in _ADAM_BETAS.finditer(s):
        c.add(f"β1 ({m.group('opt')})", m.group("b1"), s)
        c.add(f"β2 ({m.group('opt')})", m.group("b2"), s)


# "take the state as the goal with a 0.2 chance", "a random action with probability 0.05": the
# probability of the thing before "with".
_WITH_PROB = re.compile(
    rf"(?<![\w\-])(?P<name>(?:{_WORD}\s+){{0,3}}{_WORD})\s+with\s+(?:a\s+)?"
    rf"(?:probability\s+(?:of\s+)?(?P<v1>0?\.\d+)|(?P<v2>0?\.\d+)\s+(?:chance|probability))(?!\w|\.\d)"
)


_CLAIM_VERBS = {
    "holds",
    "hold",
    "converges",
    "converge",
    "occurs",
    "occur",
    "happens",
    "fails",
    "succeeds",
    "true",
}


def _with_probability(s: str, c: _Collector) -> None:
    for m in _WITH_PROB.finditer(s):
        words = m.group("name").split()
        stops = [k for k, w in enumerate(words) if w.lower() in _LEAD_STOP]
        words = words[stops[-1] + 1 :] if stops else words
        # (a verb before "with" states a claim's probability: "the bound holds with probability 0.9")
        if words and words[-1].lower() not in _CLAIM_VERBS and not _RESULT.search(" ".join(words)):
            c.add(f"{' '.join(words)} probability", m.group("v1") or m.group("v2"), s)


def _dof(s: str, c: _Collector) -> None:
    for m in _DOF_BEFORE.finditer(s):
        words = m.group("name").split()
        if (
            len(words) > 1
            and words[-1].islower()
            and words[-1] in ("instead", "mounted", "which", "that", "is", "was", "and")
        ):
            words = words[:-1]  # "the 16-DoF Allegro Hand instead"
        if words[0].lower() not in _LEAD_STOP:
            c.add(f"{' '.join(words)} DoF", m.group("value"), s)
    for m in _DOF_AFTER.finditer(s):
        name = m.group("name") or m.group("name2")
        if name.split()[-1].lower() not in _LEAD_STOP:
            c.add(f"{name} DoF", m.group("value") or m.group("value2"), s)


_INDEX_NOUNS = {  # (and a figure's parts: "solid curves (B = 32)" describes a plot)
    "curves",
    "curve",
    "lines",
    "panel",
    "panels",
    "plot",
    "plots",
    "bars",
    "markers",
    "time",
    "step",
    "iteration",
    "index",
    "layer",
    "round",
    "epoch",
    "position",
    "case",
    "example",
}
# Search grids: "the learning rate is selected from {0.1, 0.01, 0.001}", "β swept over [0.1, 0.5]".
_GRID = re.compile(
    rf"(?<![\w\-])(?P<name>(?:{_WORD}\s+){{0,4}}{_WORD})\s+(?:(?:is|are|was|were)\s+)?"
    rf"(?:(?:selected|chosen|searched|tuned|swept|varied|sampled|picked)\s+)?(?:from|over|among|in|within)\s+"
    rf"(?:the\s+(?:set|range|grid)\s+(?:of\s+)?)?(?P<open>[{{\[])\s*(?P<values>{_NUM}(?:\s*,\s*{_NUM})+)\s*[}}\]]"
)


def _paren_assign(s: str, c: _Collector) -> None:
    for m in _PAREN_ASSIGN.finditer(s):
        words = m.group("name").split()
        stops = [
            k for k, w in enumerate(words) if w.lower() in _LEAD_STOP or w.lower() in ("but", "not", "nor")
        ]
        words = words[stops[-1] + 1 :] if stops else words  # the noun phrase after the sentence's words
        sym = m.group("sym")
        if not words or words[-1].lower() in _INDEX_NOUNS or _RESULT.search(" ".join(words)):
            continue
        # (a single letter is fine here, the noun before names it; e and p are Euler's and p-values)
        if sym in ("e", "p") or (len(sym) > 1 and not (is_greek(sym[0]) or _symbol_ok(sym))):
            continue
        for v in re.split(r"\s*,\s*", m.group("values")):
            c.add(f"{' '.join(words)} ({sym})", v, s, _unit_after(s, m.end("values")))


def _grid(s: str, c: _Collector) -> None:
    for m in _GRID.finditer(s):
        words = m.group("name").split()
        while words and words[-1].lower() in _GRID_VERBS:
            words = words[:-1]
        name = _keywordless_name(words)
        values = re.split(r"\s*,\s*", m.group("values"))
        # square brackets hold citations too ("as in [12, 13]"): a range of real numbers only
        if (
            not name
            or _RESULT.search(name)
            or (m.group("open") == "[" and not any("." in v or "e" in v for v in values))
        ):
            continue
        for v in values:
            c.add(name, v, s)


_LIST_MORE = re.compile(rf"\s*(?:,\s*(?:and\s+|or\s+)?|\s(?:and|or)\s+)(?P<value>{_NUM})(?!\w|\.\d)")


def _more_values(s: str, end: int) -> list[str]:
    """ "B = 2, 5, 10 and 20": the values listed after the first."""
    out = []
    while len(out) < 12:
        m = _LIST_MORE.match(s, end)
        if not m or re.match(r"\s*[A-Za-z]{3,}\s*=", s[m.end() : m.end() + 12]):
            break
        out.append(m.group("value"))
        end = m.end()
    return out


_ITEM = rf"(?:[{GREEK_LETTERS}]\w{{0,3}}|[A-Za-z][\w\-]*(?:\s+[a-z][\w\-]*){{0,3}})"
_RESPECTIVELY = re.compile(
    rf"(?P<names>{_ITEM}(?:\s*,\s*{_ITEM})*\s*,?\s+and\s+{_ITEM})\s+(?:are|were|is|was)?\s*"
    rf"(?:set\s+to|of|=|fixed\s+(?:to|at)|chosen\s+as)?\s*"
    rf"(?P<values>{_NUM}(?:\s*,\s*{_NUM})*\s*,?\s*and\s+{_NUM})\s*,?\s*respectively",
    re.IGNORECASE,
)


def _respectively(s: str, c: _Collector) -> list[tuple[int, int]]:
    """ "β1 and β2 set to 0.9 and 0.95 respectively", "learning rate and batch size of 1e-4 and 32";
    returns the spans it read, so the one-name patterns leave them alone."""
    spans = []
    for m in _RESPECTIVELY.finditer(s):
        spans.append(m.span())
        names = [n.strip() for n in re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+", m.group("names")) if n.strip()]
        values = [
            v.strip() for v in re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+", m.group("values")) if v.strip()
        ]
        if len(names) != len(values):
            continue
        for n, v in zip(names, values):
            words = n.split()
            name = n if len(words) == 1 and (is_greek(n[0]) or _symbol_ok(n)) else _keywordless_name(words)
            if name:
                c.add(name, v, s)
    return spans


def _prose(text: str, c: _Collector) -> None:
    for sent in _SENT_SPLIT.split(text):
        s = " ".join(sent.split())
        if not s or len(s) > 2000 or not _ANY_DIGIT.search(s):
            continue
        if "," in s:
            s = _SPACED_THOUSANDS.sub(lambda m: "".join(g for g in m.groups() if g), s)
        if "(" in s and "=" in s:
            _paren_assign(s, c)
        if "{" in s or "[" in s:
            _grid(s, c)
        if "chance" in s or "probability" in s:
            _with_probability(s, c)
        if "dam" in s or "DAM" in s:
            adam_betas(s, c)
        if "dof" in s.lower() or "degrees of freedom" in s:
            _dof(s, c)
        named_at: set[int] = set()  # value positions a written-out name already took
        taken = _respectively(s, c) if "respectively" in s else []
        for m in _NAME_LINK_VALUE.finditer(s):
            if not _value_ok(s, m) or any(a <= m.start("value") < b for a, b in taken):
                continue
            words = m.group("name").split()
            trailing_sym = ""
            if len(words) >= 2 and re.fullmatch(rf"[A-Z]|[{GREEK_LETTERS}]\w{{0,2}}", words[-1]):
                trailing_sym, words = words[-1], words[:-1]  # "batch size B = 64": B is its symbol
            name = _keywordless_name(words)
            if not name or _RESULT.search(name):
                continue
            if (
                "=" in s[m.end("name") : m.start("value")]
                and norm_value(m.group("value")) in ("0", "1")
                and not _more_values(s, m.end("value"))
            ):
                continue  # "the model sample of Xt = 1": a symbol's condition, as in _SYMBOL (a list is not)
            named_at.add(m.start("value"))
            unit = _unit_after(s, m.end("value"))
            values = [m.group("value"), *_more_values(s, m.end("value"))]
            for v in values:
                c.add(name, v, s, unit)
            sym = m.group("sym") or m.group("sym2") or trailing_sym
            if sym and is_greek(sym[0]):  # "discount factor γ = 0.99": γ is its name too
                for v in values:
                    c.add(sym, v, s, unit)
        for m in _VALUE_NAME.finditer(s):
            if not _value_ok(s, m) or "%" in m.group("value") or _TIME_POINT.search(s[: m.start("value")]):
                continue
            name = m.group("name")
            c.add(name, m.group("value"), s, name.split()[-1].lower() if "step" in name.lower() else "")
        for m in _BARE.finditer(s):
            if _value_ok(s, m) and m.start("value") not in named_at:
                name = _keywordless_name(m.group("name").split())
                if name and not _RESULT.search(name):
                    c.add(name, m.group("value"), s, _unit_after(s, m.end("value")))
        for m in _VALUE_BEING.finditer(s):
            name = _keywordless_name(m.group("name").split())
            if name and not _RESULT.search(name) and _value_ok(s, m):
                c.add(name, m.group("value"), s)
        if "=" in s or " set to " in s or ":" in s:
            for m in _CODE.finditer(s):
                code = m.group("name")
                if _value_ok(s, m) and (len(code) >= 4 if "_" in code else _param_name(code)):
                    c.add(m.group("name"), m.group("value"), s, _unit_after(s, m.end("value")))
        if ":" in s:
            for m in _LISTED.finditer(s):
                name = m.group("name")
                if not _RESULT.search(name) and name.split()[0].lower() not in _LEAD_STOP and _value_ok(s, m):
                    c.add(name, m.group("value"), s, _unit_after(s, m.end("value")))
        if "=" in s:
            for m in _SYMBOL.finditer(s):
                name = m.group("name")
                if m.start("value") in named_at and not (is_greek(name[0]) or name.isupper()):
                    continue  # "learning rate = 0.1": "rate" is the name's last word, not a symbol
                if _HEAD_RE.match(name) or name.lower() in _LEAD_STOP:
                    continue
                if not _symbol_ok(name) or not _value_ok(s, m) or norm_value(m.group("value")) in ("0", "1"):
                    continue  # "θ = 0", "τ = 1": conditions of a formula more often than settings
                for v in [m.group("value"), *_more_values(s, m.end("value"))]:
                    c.add(name, v, s, _unit_after(s, m.end("value")))


def _symbol_ok(name: str) -> bool:
    if name.lower() in _SYMBOL_STOP:
        return False
    if is_greek(name[0]) or name[0].upper() in "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ":
        return True
    # Lower-case single letters and their indexed forms (i, x, mi, xt) are variables of equations.
    if len(name) == 1:
        return name.isupper()
    if "_" in name:
        return len(name.split("_", 1)[1]) >= 2 or name[0].isupper()  # d_model, N_train; not m_i
    if len(name) == 2 and name[1].isdigit():
        return name[0].isupper()  # K1, not x1
    if name[0].islower():
        # A subscript flattened by the PDF: "dmodel", "dff", "dmlp" name settings; "mi", "xt" are
        # indexed variables.
        return len(name) >= 3
    return len(name) <= 3


def find_hyperparameters(
    text: str, *, section_id: str = "", page: int | None = None, source: str = "prose"
) -> list[Hyperparameter]:
    """Values stated in prose (or an algorithm's text), with the sentence they came from."""
    c = _Collector(section_id, page, source)
    if not _ANY_DIGIT.search(text):
        return c.out
    _prose(detex(text), c)
    return c.out


# ---- tables ---------------------------------------------------------------------------------

_PARAM_TABLE = re.compile(
    r"hyper-?param|training (?:details|settings|configuration)|implementation details|"
    r"(?:default|training|model|optimi[sz]ation|architecture) (?:settings|parameters|configuration)",
    re.IGNORECASE,
)


def _numeric_cell(cell: str) -> bool:
    m = NUM_RE.search(cell)
    if not m or re.search(r"[A-Za-z_]\s*[·*×]\s*\d|\d\s*[·*×]\s*[A-Za-z_]", cell):
        return False  # "num_envs·4" is an expression, not a value
    if re.search(r"[A-Za-z]-?$", cell[: m.start()]):
        return False  # "e-20", "v2", "fp16": the digits belong to a word
    rest = (cell[: m.start()] + cell[m.end() :]).strip()
    return len(rest) <= max(12, len(m.group(0)))  # "3e-4", "0.99 (fixed)"; not "Table 3 shows"


def _name_cell(cell: str) -> bool:
    cell = cell.strip()
    if not cell or len(cell) > 60 or not re.match(rf"[A-Za-z{GREEK_LETTERS}\\$]", cell):
        return False
    return not (_numeric_cell(cell) and not re.search(r"[A-Za-z]{3,}", cell))


def _param_name(cell: str) -> bool:
    """A cell that names a parameter: a parameter head word (also inside code names: IntCoef,
    clip_grad_norm), or a symbol (γ, T, β1). Model names (ResNet18) are not."""
    t = detex(cell).strip()
    words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", t)
    if any(_HEAD_RE.match(w.lower()) for w in words):
        return True
    return bool(re.fullmatch(rf"[{GREEK_LETTERS}]\w{{0,4}}|[A-Z]\d?|[A-Za-z]_\{{?\w+\}}?", t))


def _unpack(rows: list[list[str]]) -> list[list[str]]:
    """ "adam_beta1 adam_beta2 | 0.9 0.999": a converter packed several rows into one; unpack them
    when the names are code-style and the counts agree."""
    out = []
    for row in rows:
        if len(row) == 2:
            names, values = row[0].split(), row[1].split()
            if len(names) >= 2 and len(names) == len(values) and all("_" in n for n in names):
                out.extend([n, v] for n, v in zip(names, values))
                continue
        out.append(row)
    return out


def _split_names(cell: str, n: int) -> list[str] | None:
    """ "LoRA Dropout # Epochs Learning Rate Weight Decay": ``n`` parameter names a converter
    packed into one cell, split so that every name ends in a parameter head word and the names
    are as even in length as possible; None when no such split exists."""
    toks: list[str] = []
    for w in cell.split():
        if toks and w[0] in "/(":  # "Size /GPU", "Rate (γ)" belong to the word before
            toks[-1] += " " + w
        else:
            toks.append(w)
    if n < 2 or len(toks) < n or len(toks) > 8 * n:
        return None
    ends = [bool(_HEAD_RE.match(re.split(r"[\s/(]", t)[0].strip(".,:").lower())) for t in toks]
    mean = len(toks) / n
    # best[i][k]: (cost, cuts) for the first i tokens as k names
    best: dict[tuple[int, int], tuple[float, list[int]]] = {(0, 0): (0.0, [])}
    for i in range(1, len(toks) + 1):
        if not ends[i - 1]:
            continue
        for k in range(1, n + 1):
            cands = [
                (cost + (i - j - mean) ** 2, cuts + [i])
                for j in range(i)
                if (j, k - 1) in best
                for cost, cuts in [best[(j, k - 1)]]
            ]
            if cands:
                best[(i, k)] = min(cands)
    if (len(toks), n) not in best:
        return None
    cuts = [0, *best[(len(toks), n)][1]]
    return [" ".join(toks[a:b]) for a, b in itertools.pairwise(cuts)]


def _unpack_header(rows: list[list[str]]) -> list[list[str]]:
    """A header whose first names a converter packed into one cell after empty ones
    (" |  |  | LoRA Dropout # Epochs Learning Rate | Optimizer" over "0.1 | 3 | 2e-4 | Adam"):
    the packed names spread over the empty cells when the value rows have a number in each."""
    if len(rows) < 2:
        return rows
    head = rows[0]
    p = next((k for k, x in enumerate(head) if x), 0)
    if p < 1 or not all(len(r) > p and all(_numeric_cell(x) for x in r[: p + 1]) for r in rows[1:]):
        return rows
    names = _split_names(head[p], p + 1)
    return [names + head[p + 1 :], *rows[1:]] if names else rows


def _name_at(row: list[str]) -> int:
    """The column of a row's parameter name: the first, or, when the first cell is a group label
    ("COMMON", "SAC SPECIFIC" spanning several rows), the name cell just before the values."""
    first_value = next((k for k in range(1, len(row)) if _numeric_cell(row[k])), len(row))
    if first_value <= 1 or _param_name(row[0]):
        return 0
    for k in range(first_value - 1, 0, -1):
        if row[k] and _name_cell(row[k]):
            return k  # the label nearest the value names it, not the group
    return 0


_SYM = rf"(?:[{GREEK_LETTERS}]\w{{0,2}}|[A-Za-z](?:_?\w{{1,3}})?)"
_CAPTION_SYMBOLS = re.compile(
    rf"(?P<syms>{_SYM}(?:\s*,\s*{_SYM})*\s*,?\s*and\s+{_SYM})\s+(?:denote|represent|are|stand\s+for)\s+"
    rf"(?P<names>[^()]+?)\s*(?:,?\s*respectively|\)|$)"
)


def caption_symbols(caption: str) -> dict[str, str]:
    """ "(where b, α and γ denote batch size, initial learning rate and learning rate decay,
    respectively)": symbol -> name, when the counts agree."""
    m = _CAPTION_SYMBOLS.search(" ".join(detex(caption).split()))
    if not m:
        return {}
    split = r"\s*,\s*(?:and\s+)?|\s+and\s+"
    syms = [x for x in re.split(split, m.group("syms")) if x]
    names = [x.strip() for x in re.split(split, m.group("names")) if x.strip()]
    return dict(zip(syms, names)) if len(syms) == len(names) else {}


def _symbol_columns(rows: list[list[str]], caption: str, c: _Collector) -> None:
    """A table of entities (datasets, tasks) by the symbols its caption defines: one value per
    numeric cell under a defined symbol, the row's entity as context."""
    syms = caption_symbols(caption) if caption else {}
    if not syms:
        return
    for h, head in enumerate(rows[:2]):
        for k, cell in enumerate(head):
            name = syms.get(detex(cell).strip())
            if not name:
                continue
            for r in rows[h + 1 :]:
                if k < len(r) and _numeric_cell(r[k]):
                    m = NUM_RE.search(r[k])
                    c.add(f"{detex(cell).strip()} ({name})", m.group(0) if m else r[k], " | ".join(r))


def hyperparameters_from_table(
    rows: list[list[str]],
    *,
    section_id: str = "",
    page: int | None = None,
    caption: str = "",
    section_title: str = "",
) -> list[Hyperparameter]:
    """Values of a table whose rows (or header) name parameters.

    A table counts when its caption or section says it holds settings, or when most of its
    row names (or header cells) name parameters; a results table (methods by metrics) does not."""
    rows = _unpack_header(_unpack([r for r in ([c.strip() for c in r] for r in rows) if any(r)]))
    if len(rows) < 1:
        return []
    c = _Collector(section_id, page, "table")
    for r in rows:
        adam_betas(" | ".join(r), c)
    _symbol_columns(rows, caption, c)
    declared = bool(_PARAM_TABLE.search(caption) or _PARAM_TABLE.search(section_title))
    names = [_name_at(r) for r in rows]
    param_rows = [r for r, k in zip(rows, names) if _name_cell(r[k]) and _param_name(r[k])]
    # Settings tables give a value or a few per row; results tables give a row of numbers per method.
    numeric = [sum(_numeric_cell(x) for x in r[1:]) for r in rows]
    few = sum(numeric) <= 3 * max(1, sum(1 for n in numeric if n))
    # A declared settings table also lists settings that are words ("optimizer | Adam"): judge it
    # by the rows that carry a number.
    valued = sum(1 for n in numeric if n)
    by_rows = few and (
        (declared and len(param_rows) >= 0.4 * max(1, valued)) or len(param_rows) >= max(2, 0.6 * len(rows))
    )
    header = rows[0]
    if by_rows:
        has_header = len(header) >= 2 and not any(_numeric_cell(x) for x in header[1:])
        for r, at in zip(rows[1:], names[1:]) if has_header else zip(rows, names):
            if len(r) < 2 or not _name_cell(r[at]) or _RESULT.search(r[at]):
                continue
            if not declared and not _param_name(r[at]):
                continue
            name = detex(r[at]).strip()
            for k, cell in enumerate(r[at + 1 :], start=at + 1):
                if not _numeric_cell(cell):
                    continue
                col = header[k] if has_header and k < len(header) else ""
                ctx = (
                    " | ".join(r)
                    if not col or col.lower() in ("value", "values")
                    else f"{col}: {' | '.join(r)}"
                )
                m = NUM_RE.search(cell)
                c.add(name, m.group(0) if m else cell, ctx, _unit_after(cell, m.end()) if m else "")
        return c.out
    # Transposed: a header of parameter names over rows of numbers.
    # (Only when the rows are values alone: a first column of names makes rows entities, as in a
    # table of datasets by size.)
    entity_rows = sum(1 for r in rows[1:] if r and not _numeric_cell(r[0]))
    if (
        len(rows) >= 2
        and (declared or entity_rows == 0)
        and sum(_param_name(h) for h in header) >= max(2, 0.6 * len(header))
    ):
        for r in rows[1:]:
            for k, cell in enumerate(r):
                if k < len(header) and _param_name(header[k]) and _numeric_cell(cell):
                    m = NUM_RE.search(cell)
                    c.add(detex(header[k]).strip(), m.group(0) if m else cell, " | ".join(r))
    return c.out


# ---- symbols named in the text -------------------------------------------------------------

_DEFINES = re.compile(
    rf"(?<![\w\-])(?P<name>(?:{_WORD}\s+){{0,3}}{_WORD})\s+(?:of\s+)?\(?\s*(?P<sym>[A-Z]|[{GREEK_LETTERS}]\w?)\s*\)?"
    rf"(?=[\s,.;:)=])"
)


def symbol_names(texts: list[str]) -> dict[str, str]:
    """Symbols the paper names ("batch size B", "discount factor (γ)"), symbol -> name, when one
    name accounts for at least two thirds of the times the symbol is named."""
    seen: dict[str, list[str]] = {}
    for text in texts:
        t = detex(text)
        if not re.search(rf"\s\(?[A-Z{GREEK_LETTERS}]", t):
            continue
        for m in _DEFINES.finditer(t):
            name = _keywordless_name(m.group("name").split())
            if name and not _RESULT.search(name) and len(name) > 2:
                # "infinite batch size", "batch sizes": the name's last two words, singular.
                key = " ".join(name.lower().split()[-2:])
                seen.setdefault(m.group("sym"), []).append(
                    key[:-1] if key.endswith("s") and len(key) > 4 else key
                )
    out = {}
    for sym, names in seen.items():
        best = max(set(names), key=names.count)
        if names.count(best) >= 2 / 3 * len(names):
            out[sym] = best
    return out


def name_symbols(found: list[Hyperparameter], names: dict[str, str]) -> None:
    """ "B = 32" where the paper calls B the batch size: "B (batch size)"."""
    for h in found:
        alias = names.get(h.name)
        if alias:
            h.name = f"{h.name} ({alias})"
