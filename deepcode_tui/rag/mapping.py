"""Relationship mapping: how retrieved reference code relates to a blueprint file.

Each :class:`Relation` is the tuple (source file, target file, relation type,
confidence, actionable context), the context being a snippet and usage notes a coder
can act on. Relations are stored per target file in ``<run>/rag/relations.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError
from rapidfuzz import fuzz

from deepcode_tui.store.atomic import write_text_atomic as atomic_write_text
from deepcode_tui.rag.chunker import Chunk
from deepcode_tui.rag.decide import FileNeed, defined_names, named_apis
from deepcode_tui.rag.index import SearchHit
from deepcode_tui.rag.tokenize import split_identifier

RelationType = Literal["implements-similar", "uses-api", "pattern"]
RELATIONS_FILE = Path("rag") / "relations.json"
SNIPPET_LINES = 30
SNIPPET_CHARS = 1500
# A name followed by "(" that is not being defined ("def f(", "class C(", "function f(").
_CALL_RE = re.compile(r"(?<!def )(?<!class )(?<!function )\b([A-Za-z_][A-Za-z0-9_.]*)\s*\(")
_NOT_CALLS = frozenset({"if", "for", "while", "return", "print", "len", "isinstance", "super", "range", "str",
                        "int", "dict", "list", "set", "tuple", "float", "bool", "getattr", "setattr",
                        "hasattr", "def", "class", "function", "elif", "not", "and", "or", "in", "with"})


class ActionableContext(BaseModel):
    snippet: str
    usage_notes: list[str] = Field(default_factory=list)


class Relation(BaseModel):
    """One (source file, target file, relation type, confidence, actionable context) tuple."""

    source_file: str  # "<source name>:<path in source>"
    source_symbol: str
    target_file: str  # the blueprint file's path
    target_symbol: str | None = None
    relation: RelationType
    confidence: float
    context: ActionableContext

    def as_tuple(self) -> tuple[str, str, str, float, ActionableContext]:
        return (self.source_file, self.target_file, self.relation, self.confidence, self.context)


def _words(name: str) -> str:
    return " ".join(split_identifier(name.rsplit(".", 1)[-1]))


def _best_symbol(chunk: Chunk, symbols: list[str]) -> tuple[str | None, float]:
    """The target symbol most like the chunk's symbol, with a 0..1 similarity."""
    best, score = None, 0.0
    cw = _words(chunk.symbol)
    for s in symbols:
        r = fuzz.token_sort_ratio(cw, _words(s)) / 100.0
        if r > score:
            best, score = s, r
    return best, score


def _api_lines(chunk: Chunk, apis: list[str]) -> tuple[list[str], list[str]]:
    """APIs (of those named) this chunk calls, imports or defines, and lines showing it."""
    used, lines = [], []
    for api in apis:
        last = api.rsplit(".", 1)[-1]
        if not last:
            continue
        pat = re.compile(rf"\b{re.escape(last)}\b")
        defines = chunk.symbol.rsplit(".", 1)[-1] == last
        hits = [ln.strip() for ln in chunk.text.splitlines() if pat.search(ln) and not ln.strip().startswith("#")]
        if defines or hits:
            used.append(api)
            if defines:
                lines.append(f"defines `{api}`: {chunk.signature or chunk.symbol}")
            call = next((h for h in hits if re.search(rf"\b{re.escape(last)}\s*\(", h)), None)
            if call and not defines:
                lines.append(f"shows how `{api}` is called: `{call[:160]}`")
            elif hits and not defines:
                lines.append(f"refers to `{api}`: `{hits[0][:160]}`")
    return used, lines


def _snippet(chunk: Chunk) -> str:
    lines = chunk.text.splitlines()
    text = "\n".join(lines[:SNIPPET_LINES]) + (f"\n… ({len(lines) - SNIPPET_LINES} more lines)"
                                                if len(lines) > SNIPPET_LINES else "")
    return text[:SNIPPET_CHARS]


def _calls(chunk: Chunk, limit: int = 8) -> list[str]:
    seen: dict[str, None] = {}
    for m in _CALL_RE.finditer(chunk.text):
        name = m.group(1)
        if name.split(".")[-1] in _NOT_CALLS or name == chunk.symbol.rsplit(".", 1)[-1]:
            continue
        seen.setdefault(name, None)
    return list(seen)[:limit]


def relate(file: FileNeed, hits: list[SearchHit]) -> list[Relation]:
    """Relations between ``file`` and each hit, best-confidence first.

    Type: "uses-api" when the chunk calls, imports or defines an API the file's spec
    names; "implements-similar" when it is a function/class/method whose name matches
    one of the file's symbols (similarity >= 0.6) or it is a top-3 hit; else "pattern".
    Confidence mixes rank, name similarity and API match, in [0, 1].
    """
    apis = named_apis(file, {h.chunk.source.replace("-", "_") for h in hits})
    # Without declared or spec'd names, the file's stem is the best guess at what it implements.
    own = defined_names(file) or [file.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]]
    n = max(1, len(hits))
    out: list[Relation] = []
    for i, h in enumerate(hits):
        c = h.chunk
        rank_score = 1.0 - i / n
        target_symbol, sim = _best_symbol(c, own) if c.kind != "module" else (None, 0.0)
        used, api_notes = _api_lines(c, apis)
        if used:
            kind: RelationType = "uses-api"
        elif c.kind != "module" and (sim >= 0.6 or i < 3):
            kind = "implements-similar"
        else:
            kind = "pattern"
        confidence = round(min(1.0, 0.45 * rank_score + 0.35 * sim + (0.2 if used else 0.0)), 3)
        notes: list[str] = []
        if c.signature:
            notes.append(f"signature: {' '.join(c.signature.split())[:200]}")
        if c.docstring:
            notes.append(f"does: {' '.join(c.docstring.split('.')[0].split())[:200]}")
        notes.extend(api_notes)
        if kind == "implements-similar" and target_symbol and sim >= 0.6:
            notes.append(f"closest to this file's `{target_symbol}`: compare inputs, outputs and edge cases")
        elif kind == "pattern":
            notes.append("structure to follow (module layout, imports, class shape), not code to copy")
        calls = _calls(c)
        if calls:
            notes.append("calls: " + ", ".join(calls))
        out.append(Relation(
            source_file=f"{c.source}:{c.path}", source_symbol=c.symbol, target_file=file.path,
            target_symbol=target_symbol if sim >= 0.6 else None, relation=kind, confidence=confidence,
            context=ActionableContext(snippet=_snippet(c), usage_notes=notes),
        ))
    out.sort(key=lambda r: -r.confidence)
    return out


class RelationMap(BaseModel):
    version: int = 1
    files: dict[str, list[Relation]] = Field(default_factory=dict)


def load_relations(run_dir: Path) -> RelationMap:
    """The run's relation map; empty when absent (a damaged file reads as empty too)."""
    p = Path(run_dir) / RELATIONS_FILE
    try:
        return RelationMap.model_validate_json(p.read_text(encoding="utf-8"))
    except (OSError, ValueError, ValidationError):
        return RelationMap()


def save_relations(run_dir: Path, target_file: str, relations: list[Relation]) -> Path:
    """Replace ``target_file``'s relations in ``<run>/rag/relations.json`` (atomic write)."""
    rel_map = load_relations(run_dir)
    rel_map.files[target_file] = relations
    p = Path(run_dir) / RELATIONS_FILE
    atomic_write_text(p, json.dumps(rel_map.model_dump(mode="json"), indent=1))
    return p
