"""Adaptive retrieval: per blueprint file, decide from deterministic signals whether to retrieve.

Signals: how detailed the file's spec is (length, signatures of its symbols,
pseudocode), library APIs it names without showing their usage, and its complexity;
the coder may also ask for references itself. :func:`decide` returns the decision
with a human-readable reason; :func:`retrieve_for` returns the retrieved context,
never longer than its token budget.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from deepcode_tui.rag.index import CodeIndex, SearchHit
from deepcode_tui.rag.tokenize import split_identifier
from deepcode_tui.tokens import count_tokens, truncate_to_tokens

# Thresholds chosen so a one-paragraph purpose is "thin" and a spec with signatures
# and steps for its symbols is "full"; see tests/rag/test_decide.py for both ends.
FULL_SPEC_TOKENS = 200
THIN_DETAIL = 0.5
COMPLEX = 0.7
_TRIVIAL_NAMES = frozenset({"__init__.py", "__main__.py", "setup.py", "conftest.py", "constants.py",
                            "version.py", "_version.py", "index.js", "index.ts", "config.py", "settings.py"})
_ALGO_TERMS = ("algorithm", "optimi", "gradient", "attention", "train", "loss", "schedul", "sampl", "beam",
               "parse", "pars", "graph", "search", "encod", "decod", "concurren", "async", "cache", "protocol",
               "matrix", "tensor", "probabilit", "recurs", "dynamic programming", "backprop", "embedding",
               "convolution", "transform", "distribut", "regulari")
_DOTTED_RE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)\b")
_SIGNATURE_RE = re.compile(
    r"\bdef\s+\w+\s*\(|\bclass\s+\w+\s*[(:]|\bfunction\s+\w+\s*\(|\w+\s*\([^()\n]*\)\s*(->|:)\s*[\w\[\]., |]+"
)
_PSEUDO_RE = re.compile(
    r"```|^\s*(?:\d+[.)]|step\s+\d+)\s+\w|\bfor each\b|\bfor\s+\w+\s+in\b|\bwhile\b.+:|\buntil\b|\brepeat\b"
    r"|\bif\b.+\bthen\b|←|:=|\breturn\s+\w", re.IGNORECASE | re.MULTILINE)
_FILE_EXT_RE = re.compile(r"\.(py|js|ts|tsx|json|yaml|yml|toml|md|txt|csv)$")


class FileNeed(BaseModel):
    """What CodeRAG needs to know about one blueprint file (adapt a PlannedFile with :meth:`of`)."""

    path: str
    purpose: str = ""
    spec: str = ""
    symbols: list[str] = Field(default_factory=list)
    libraries: list[str] = Field(default_factory=list)
    dependencies: list[str] = Field(default_factory=list)
    language: str | None = None
    request: str | None = None  # the coder's own ask ("show me how X is used"); forces retrieval

    @classmethod
    def of(cls, planned: Any, *, request: str | None = None, libraries: list[str] | None = None) -> FileNeed:
        """From any object with ``path`` and optionally ``purpose``, ``spec``, ``symbols``,
        ``dependencies``, ``language`` (e.g. ``codegen.plan.PlannedFile``), or a FileNeed."""
        if isinstance(planned, FileNeed):
            return planned.model_copy(update={k: v for k, v in
                                              {"request": request, "libraries": libraries}.items() if v})
        get = (lambda k, d=None: planned.get(k, d)) if isinstance(planned, dict) else (
            lambda k, d=None: getattr(planned, k, d))
        return cls(
            path=str(get("path")), purpose=str(get("purpose", "") or ""), spec=str(get("spec", "") or ""),
            symbols=[str(s) for s in (get("symbols") or [])], libraries=list(libraries or get("libraries") or []),
            dependencies=[str(d) for d in (get("dependencies") or [])], language=get("language"),
            request=request or get("request"),
        )


class RetrievalDecision(BaseModel):
    """Whether to retrieve for ``path``; ``need`` in [0, 1]; ``reason`` is for the event log."""

    path: str
    retrieve: bool
    reason: str
    need: float
    signals: dict[str, float | int | bool | str] = Field(default_factory=dict)


def named_apis(file: FileNeed) -> list[str]:
    """Library APIs the spec names: dotted names (``torch.nn.Linear``) and declared libraries.

    File names (``model.py``) and the file's own symbols are not APIs.
    """
    text = f"{file.purpose}\n{file.spec}"
    own = set(file.symbols)
    out: dict[str, None] = {}
    for lib in file.libraries:
        out.setdefault(lib.strip(), None)
    for m in _DOTTED_RE.finditer(text):
        name = m.group(1)
        if _FILE_EXT_RE.search(name) or name.split(".")[0] in own or name[0].isdigit():
            continue
        if re.match(r"^(e\.g|i\.e|etc|vs|fig|eq|sec)\b", name, re.IGNORECASE):
            continue
        out.setdefault(name, None)
    return [n for n in out if n]


def apis_without_usage(file: FileNeed) -> list[str]:
    """Named APIs that the spec never shows being called (``name(`` with the last part)."""
    text = file.spec
    missing = []
    for api in named_apis(file):
        last = api.rsplit(".", 1)[-1]
        if not re.search(rf"\b{re.escape(last)}\s*\(", text):
            missing.append(api)
    return missing


def _signature_coverage(file: FileNeed) -> float:
    spec = file.spec
    if not file.symbols:
        return 1.0 if _SIGNATURE_RE.search(spec) else 0.0
    covered = sum(1 for s in file.symbols
                  if re.search(rf"\b{re.escape(s.rsplit('.', 1)[-1])}\s*\(", spec)
                  or re.search(rf"\bclass\s+{re.escape(s)}\b", spec))
    return covered / len(file.symbols)


def signals(file: FileNeed) -> dict[str, float | int | bool | str]:
    """The deterministic signals :func:`decide` weighs, by name."""
    text = f"{file.purpose}\n{file.spec}".strip()
    spec_tokens = count_tokens(text)
    sig = _signature_coverage(file)
    pseudo = bool(_PSEUDO_RE.search(file.spec))
    detail = 0.4 * min(1.0, spec_tokens / FULL_SPEC_TOKENS) + 0.3 * sig + 0.3 * pseudo
    lowered = text.lower()
    algo = sorted({t for t in _ALGO_TERMS if t in lowered})
    complexity = min(1.0, 0.12 * len(file.symbols) + 0.08 * len(file.dependencies) + 0.15 * len(algo))
    missing = apis_without_usage(file)
    name = file.path.rsplit("/", 1)[-1]
    trivial = name in _TRIVIAL_NAMES and len(file.symbols) <= 1 and not missing
    return {
        "spec_tokens": spec_tokens, "signature_coverage": round(sig, 2), "pseudocode": pseudo,
        "detail": round(detail, 2), "complexity": round(complexity, 2), "algorithmic_terms": ", ".join(algo),
        "apis_without_usage": ", ".join(missing), "trivial": trivial,
        "coder_request": bool(file.request and file.request.strip()),
    }


def decide(file: FileNeed, index: CodeIndex | None = None) -> RetrievalDecision:
    """Retrieve when the coder asks, when the spec is thin, when it names APIs without usage,
    or when the file is complex and has no pseudocode; never for trivial files or without an index."""
    s = signals(file)
    detail, complexity = float(s["detail"]), float(s["complexity"])
    missing = [a for a in str(s["apis_without_usage"]).split(", ") if a]
    need = round(min(1.0, 0.6 * (1 - detail) + 0.25 * min(1.0, len(missing) / 2) + 0.15 * complexity), 3)
    if index is not None and not index.chunks:
        return RetrievalDecision(path=file.path, retrieve=False, need=need, signals=s,
                                 reason="no reference code indexed (no usable reference sources)")
    if s["coder_request"]:
        return RetrievalDecision(path=file.path, retrieve=True, need=max(need, 1.0), signals=s,
                                 reason=f"the coder asked for references: {file.request!s:.120}")
    if s["trivial"]:
        return RetrievalDecision(path=file.path, retrieve=False, need=need, signals=s,
                                 reason=f"trivial file ({file.path.rsplit('/', 1)[-1]}), nothing to look up")
    why: list[str] = []
    if detail < THIN_DETAIL:
        why.append(f"spec is thin (detail {detail:.2f}: {s['spec_tokens']} tokens, "
                   f"{int(float(s['signature_coverage']) * 100)}% of symbols with signatures, "
                   f"{'with' if s['pseudocode'] else 'no'} pseudocode)")
    if missing:
        why.append(f"names library APIs without usage: {', '.join(missing[:5])}")
    if complexity >= COMPLEX and not s["pseudocode"]:
        why.append(f"complex file (complexity {complexity:.2f}) without pseudocode")
    if why:
        return RetrievalDecision(path=file.path, retrieve=True, need=need, signals=s, reason="; ".join(why))
    return RetrievalDecision(
        path=file.path, retrieve=False, need=need, signals=s,
        reason=f"spec is detailed enough (detail {detail:.2f}) and names no API without usage",
    )


def build_query(file: FileNeed) -> str:
    """The search query for a file: the coder's ask first, then purpose, symbols and spec."""
    symbols = " ".join(f"{s} {' '.join(split_identifier(s.rsplit('.', 1)[-1]))}" for s in file.symbols)
    parts = [file.request or "", file.purpose, symbols, truncate_to_tokens(file.spec, 200)]
    return "\n".join(p for p in parts if p and p.strip())


def gather_hits(file: FileNeed, index: CodeIndex, k: int = 8, per_file: int = 2) -> list[SearchHit]:
    """Search hits for a file: the main query plus one query per API named without usage.

    At most ``per_file`` chunks from the same reference file, so the context covers
    several places rather than one file's methods.
    """
    hits: list[SearchHit] = index.search(build_query(file), k=3 * k, mode="hybrid")
    for api in apis_without_usage(file)[:4]:
        words = " ".join(split_identifier(api.replace(".", "_")))
        hits.extend(index.search(f"{api} {words} {file.purpose}", k=3, mode="hybrid"))
    seen: set[str] = set()
    per: dict[str, int] = {}
    out: list[SearchHit] = []
    for h in hits:
        key = f"{h.chunk.source}:{h.chunk.path}"
        if h.chunk.id in seen or per.get(key, 0) >= per_file:
            continue
        seen.add(h.chunk.id)
        per[key] = per.get(key, 0) + 1
        out.append(h)
        if len(out) >= k:
            break
    return out


_CONTEXT_HEAD = "## Reference code (retrieved from reference sources; adapt it, do not copy blindly)\n"


def _block(hit: SearchHit, index: CodeIndex, code: str | None = None) -> str:
    c = hit.chunk
    summary = index.summary_for(c.source, c.path)
    lines = [f"### {c.location} (lines {c.start_line}-{c.end_line})"]
    if summary:
        lines.append(f"File: {summary}")
    lines.append(f"```{c.language}\n{(code if code is not None else c.text).rstrip()}\n```")
    return "\n".join(lines) + "\n"


def format_context(hits: list[SearchHit], index: CodeIndex, budget_tokens: int) -> str:
    """Hits as a markdown context of at most ``budget_tokens`` tokens (cl100k count).

    Blocks are added best first; the first block that does not fit is cut to the
    remaining room (with its fence closed) when at least ~80 tokens remain.
    """
    if budget_tokens <= 0 or not hits:
        return ""
    out = _CONTEXT_HEAD
    if count_tokens(out) >= budget_tokens:
        return ""
    for h in hits:
        block = _block(h, index)
        if count_tokens(out + block) <= budget_tokens:
            out += block
            continue
        room = budget_tokens - count_tokens(out + _block(h, index, code="")) - 4
        if room >= 80:
            cut = truncate_to_tokens(h.chunk.text, room).rstrip() + "\n…"
            block = _block(h, index, code=cut)
            while count_tokens(out + block) > budget_tokens and room > 0:
                room -= 8  # BPE merges across the join can add a token or two
                block = _block(h, index, code=truncate_to_tokens(h.chunk.text, room).rstrip() + "\n…")
            if room > 0:
                out += block
        break
    return out if out != _CONTEXT_HEAD else ""


def retrieve_for(file: FileNeed | Any, index: CodeIndex, budget_tokens: int) -> str:
    """Retrieved reference context for one file, at most ``budget_tokens`` tokens ("" if none).

    Retrieves unconditionally; call :func:`decide` first for the adaptive decision.
    """
    need = FileNeed.of(file)
    return format_context(gather_hits(need, index), index, budget_tokens)


def context_budget(prompt_budget_tokens: int, used_tokens: int, *, share: float = 0.25,
                   cap: int = 4000) -> int:
    """Room for retrieved context inside a codegen prompt budget: a share of what is left, capped."""
    return max(0, min(cap, int((prompt_budget_tokens - used_tokens) * share)))
