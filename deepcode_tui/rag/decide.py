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
               "pars", "graph", "search", "encod", "decod", "concurren", "async", "cache", "protocol",
               "matrix", "tensor", "probabilit", "recurs", "dynamic programming", "backprop", "embedding",
               "convolution", "transform", "distribut", "regulari")
_DOTTED_RE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)\b")
_SIGNATURE_RE = re.compile(
    # "name(args) -> T" / "name(args): T" with no space before "(" (prose says "softmax (eq. 3): ...")
    r"\bdef\s+\w+\s*\(|\bclass\s+\w+\s*[(:]|\bfunction\s+\w+\s*\(|\w+\([^()\n]*\)\s*(->|:)\s*[\w\[\]., |]+"
)
# Steps, loops and assignments; not prose words like "return the result" or "until done".
_PSEUDO_RE = re.compile(
    r"```|^\s*(?:\d+[.)]|step\s+\d+)\s+\w|\bfor each\b|\bfor\s+\w+\s+in\b|\bwhile\b.+:"
    r"|\bif\b.+\bthen\b|←|:=", re.IGNORECASE | re.MULTILINE)
_FILE_EXT_RE = re.compile(r"\.(py|js|ts|tsx|json|yaml|yml|toml|md|txt|csv)$")


class FileNeed(BaseModel):
    """What CodeRAG needs to know about one blueprint file (adapt a PlannedFile with :meth:`of`).

    ``symbols`` are names this file defines (when empty they are read from the
    signatures in ``spec``); ``uses`` are names it uses from other project files
    (``PlannedFile.symbols``); ``libraries`` are third-party libraries it must use.
    """

    path: str
    purpose: str = ""
    spec: str = ""
    symbols: list[str] = Field(default_factory=list)
    uses: list[str] = Field(default_factory=list)
    libraries: list[str] = Field(default_factory=list)
    dependencies: list[str] = Field(default_factory=list)
    language: str | None = None
    request: str | None = None  # the coder's own ask ("show me how X is used"); forces retrieval

    @classmethod
    def of(cls, planned: Any, *, request: str | None = None, libraries: list[str] | None = None) -> FileNeed:
        """From a FileNeed, a dict, or an object shaped like ``codegen.plan.PlannedFile``
        (``path``, ``purpose``, ``spec``, ``symbols`` = names used from elsewhere,
        ``dependencies``, ``language``; optional ``defines`` = names it defines)."""
        if isinstance(planned, FileNeed):
            return planned.model_copy(update={k: v for k, v in
                                              {"request": request, "libraries": libraries}.items() if v})
        get = (lambda k, d=None: planned.get(k, d)) if isinstance(planned, dict) else (
            lambda k, d=None: getattr(planned, k, d))
        return cls(
            path=str(get("path")), purpose=str(get("purpose", "") or ""), spec=str(get("spec", "") or ""),
            symbols=[str(s) for s in (get("defines") or [])], uses=[str(s) for s in (get("symbols") or [])],
            libraries=list(libraries or get("libraries") or []),
            dependencies=[str(d) for d in (get("dependencies") or [])], language=get("language"),
            request=request or get("request"),
        )


_DEFINED_RE = re.compile(
    r"\b(?:def|class|function|interface)\s+([A-Za-z_]\w*)"
    r"|^\s*([A-Za-z_][\w.]*)\s*\([^()\n]*\)\s*(?:->|:)\s*\S", re.MULTILINE)


def defined_names(file: FileNeed) -> list[str]:
    """Names the file defines: ``symbols`` when given, else those its spec writes signatures for."""
    if file.symbols:
        return list(file.symbols)
    out: dict[str, None] = {}
    for m in _DEFINED_RE.finditer(file.spec):
        out.setdefault(m.group(1) or m.group(2), None)
    return list(out)


class RetrievalDecision(BaseModel):
    """Whether to retrieve for ``path``; ``need`` in [0, 1]; ``reason`` is for the event log."""

    path: str
    retrieve: bool
    reason: str
    need: float
    signals: dict[str, float | int | bool | str] = Field(default_factory=dict)


# Import names (and their usual aliases) of third-party libraries whose APIs a spec may
# name. Standard-library and local attribute names (self.x, path.read_text) are not
# "library APIs" here: the coder knows the former and the latter are the file's own.
KNOWN_API_ROOTS = frozenset({
    "torch", "nn", "F", "tensorflow", "tf", "jax", "jnp", "flax", "optax", "keras", "numpy", "np", "scipy",
    "sklearn", "pandas", "pd", "transformers", "datasets", "networkx", "nx", "spacy", "nltk", "gensim",
    "xgboost", "xgb", "lightgbm", "lgb", "lightning", "pl", "torch_geometric", "dgl", "fairseq", "allennlp",
    "sentencepiece", "spm", "einops", "gymnasium", "gym", "transformer_lens", "cv2", "matplotlib", "plt",
    "tokenizers", "accelerate", "peft", "trl", "timm", "torchvision", "torchaudio", "pydantic", "fastapi",
    "flask", "django", "sqlalchemy", "requests", "httpx", "aiohttp", "react", "express", "d3", "three",
})


def named_apis(file: FileNeed, extra_roots: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Library APIs the spec names: the declared libraries, and dotted names rooted in a
    known third-party library, a declared library or ``extra_roots`` (e.g. indexed sources).
    """
    text = f"{file.purpose}\n{file.spec}"
    roots = KNOWN_API_ROOTS | set(extra_roots) | {lib.split(".")[0] for lib in file.libraries}
    out: dict[str, None] = {}
    for lib in file.libraries:
        out.setdefault(lib.strip(), None)
    for m in _DOTTED_RE.finditer(text):
        name = m.group(1)
        if name.split(".")[0] in roots and not _FILE_EXT_RE.search(name):
            out.setdefault(name, None)
    return [n for n in out if n]


def apis_without_usage(file: FileNeed, extra_roots: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Named APIs that the spec never shows being called.

    A dotted API counts as shown when its last part is called (``softmax(``); a bare
    library name when something of it is called (``np.mean(``).
    """
    text = file.spec
    missing = []
    for api in named_apis(file, extra_roots):
        if "." in api:
            shown = re.search(rf"\b{re.escape(api.rsplit('.', 1)[-1])}\s*\(", text)
        else:
            shown = re.search(rf"\b{re.escape(api)}(?:\.\w+)+\s*\(", text)
        if not shown:
            missing.append(api)
    return missing


def _signature_coverage(file: FileNeed) -> float:
    """Share of the file's own names whose signature the spec gives (1.0 when it gives
    signatures and no names were declared; 0.0 when it gives none)."""
    spec = file.spec
    if not file.symbols:
        return 1.0 if _SIGNATURE_RE.search(spec) else 0.0
    covered = sum(1 for s in file.symbols
                  if re.search(rf"\b{re.escape(s.rsplit('.', 1)[-1])}\s*\(", spec)
                  or re.search(rf"\bclass\s+{re.escape(s)}\b", spec))
    return covered / len(file.symbols)


def signals(file: FileNeed, extra_roots: frozenset[str] | set[str] = frozenset()
            ) -> dict[str, float | int | bool | str]:
    """The deterministic signals :func:`decide` weighs, by name (see :func:`named_apis` for roots)."""
    text = f"{file.purpose}\n{file.spec}".strip()
    spec_tokens = count_tokens(text)
    sig = _signature_coverage(file)
    pseudo = bool(_PSEUDO_RE.search(file.spec))
    detail = 0.4 * min(1.0, spec_tokens / FULL_SPEC_TOKENS) + 0.3 * sig + 0.3 * pseudo
    lowered = text.lower()
    algo = sorted({t for t in _ALGO_TERMS if t in lowered})
    own = defined_names(file)
    complexity = min(1.0, 0.12 * len(own) + 0.08 * len(file.dependencies) + 0.04 * len(file.uses)
                     + 0.15 * len(algo))
    missing = apis_without_usage(file, extra_roots)
    name = file.path.rsplit("/", 1)[-1]
    trivial = name in _TRIVIAL_NAMES and len(own) <= 1 and not missing
    return {
        "spec_tokens": spec_tokens, "signature_coverage": round(sig, 2), "pseudocode": pseudo,
        "detail": round(detail, 2), "complexity": round(complexity, 2), "algorithmic_terms": ", ".join(algo),
        "apis_without_usage": ", ".join(missing), "trivial": trivial,
        "coder_request": bool(file.request and file.request.strip()),
    }


def decide(file: FileNeed, index: CodeIndex | None = None, *, references: bool = True) -> RetrievalDecision:
    """Retrieve when the coder asks, when the spec is thin, when it names APIs without usage,
    or when the file is complex and has no pseudocode; never for trivial files.

    Never retrieves when ``references`` is False or ``index`` is given and empty.
    """
    s = signals(file, _source_roots(index))
    detail, complexity = float(s["detail"]), float(s["complexity"])
    missing = [a for a in str(s["apis_without_usage"]).split(", ") if a]
    need = round(min(1.0, 0.6 * (1 - detail) + 0.25 * min(1.0, len(missing) / 2) + 0.15 * complexity), 3)
    if not references or (index is not None and not index.chunks):
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


def _source_roots(index: CodeIndex | None) -> set[str]:
    """Indexed source names (``pkg:torch`` is source "torch"): their dotted names are APIs too."""
    return {n.replace("-", "_") for n in index.sources} if index is not None else set()


def build_query(file: FileNeed) -> str:
    """The search query for a file: the coder's ask first, then purpose, own names and spec."""
    names = defined_names(file) or [file.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]]
    symbols = " ".join(f"{s} {' '.join(split_identifier(s.rsplit('.', 1)[-1]))}" for s in names)
    parts = [file.request or "", file.purpose, symbols, truncate_to_tokens(file.spec, 200)]
    return "\n".join(p for p in parts if p and p.strip())


def gather_hits(file: FileNeed, index: CodeIndex, k: int = 8, per_file: int = 3) -> list[SearchHit]:
    """Search hits for a file: the main query plus one query per API named without usage.

    The best hit for each such API is kept right after the best main hit, so usage
    examples are never crowded out. At most ``per_file`` chunks come from one
    reference file, and module headers only fill slots that code chunks leave free.
    """
    main = index.search(build_query(file), k=3 * k, mode="hybrid")
    api_hits: list[SearchHit] = []
    for api in apis_without_usage(file, _source_roots(index))[:4]:
        words = " ".join(split_identifier(api.replace(".", "_")))
        found = [h for h in index.search(f"{api} {words}", k=10, mode="hybrid") if h.chunk.kind != "module"]
        # Prefer code that calls the API over code that merely mentions its package.
        call = re.compile(rf"\b{re.escape(api.rsplit('.', 1)[-1])}\s*\(")
        api_hits.extend(([h for h in found if call.search(h.chunk.text)] or found)[:1])
    ordered = main[:1] + api_hits + main[1:]
    seen: set[str] = set()
    per: dict[str, int] = {}
    out: list[SearchHit] = []
    deferred: list[SearchHit] = []
    for h in ordered:
        key = f"{h.chunk.source}:{h.chunk.path}"
        if h.chunk.id in seen or per.get(key, 0) >= per_file:
            continue
        seen.add(h.chunk.id)
        if h.chunk.kind == "module":
            deferred.append(h)
            continue
        per[key] = per.get(key, 0) + 1
        out.append(h)
    for h in deferred:
        key = f"{h.chunk.source}:{h.chunk.path}"
        if per.get(key, 0) < per_file:
            per[key] = per.get(key, 0) + 1
            out.append(h)
    return out[:k]




def _block(hit: SearchHit, index: CodeIndex, code: str | None = None, with_summary: bool = True) -> str:
    c = hit.chunk
    summary = index.summary_for(c.source, c.path) if with_summary else ""
    lines = [f"### {c.location} (lines {c.start_line}-{c.end_line})"]
    if summary:
        lines.append(f"File: {summary}")
    lines.append(f"```{c.language}\n{(code if code is not None else c.text).rstrip()}\n```")
    return "\n".join(lines) + "\n"


def format_context(hits: list[SearchHit], index: CodeIndex, budget_tokens: int) -> str:
    """Hits as a markdown context of at most ``budget_tokens`` tokens (cl100k count).

    Blocks are added best first, each file's summary with its first block only; the
    first block that does not fit is cut to the remaining room (with its fence
    closed) when at least ~80 tokens remain.
    """
    if budget_tokens <= 0 or not hits:
        return ""
    # No heading of its own: the prompt assembler (codegen.context) frames this section.
    out = ""
    files_shown: set[str] = set()
    for h in hits:
        key = f"{h.chunk.source}:{h.chunk.path}"
        first = key not in files_shown
        block = _block(h, index, with_summary=first)
        if count_tokens(out + block) <= budget_tokens:
            out += block
            files_shown.add(key)
            continue
        room = budget_tokens - count_tokens(out + _block(h, index, code="", with_summary=first)) - 4
        if room >= 80:
            def cut(n: int, h: SearchHit = h, first: bool = first) -> str:
                return _block(h, index, code=truncate_to_tokens(h.chunk.text, n).rstrip() + "\n…",
                              with_summary=first)

            block = cut(room)
            while count_tokens(out + block) > budget_tokens and room > 0:
                room -= 8  # BPE merges across the join can add a token or two
                block = cut(room)
            if room > 0:
                out += block
        break
    return out


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
