"""Assembling one generation step's context under an explicit token budget.

Priority when everything does not fit (highest first):
1. instructions (system prompt and reply format): always sent;
2. this file's spec (path, purpose, specification): always sent, cut only if
   it alone exceeds the budget;
3. declared dependencies' memory entries: full, else compact (signatures
   only), else dropped;
4. the global blueprint summary: truncated to what is left;
5. other memory (files defining symbols the spec names, consumers'
   expectations, planned consumers): full, else compact, else dropped;
6. retrieval snippets (CodeRAG): truncated to what is left.
The reading order of the message is different (summary first, task last) so
the request the model must act on comes at the end.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from deepcode_tui.codegen.events import ContextMeter
from deepcode_tui.codegen.memory import MemoryStore
from deepcode_tui.codegen.plan import CodegenPlan, PlannedFile
from deepcode_tui.codegen.select import Selected, select_with_reasons
from deepcode_tui.tokens import count_tokens, truncate_to_tokens

DEFAULT_BUDGET_TOKENS = 12_000
_HEADINGS_RESERVE = 80  # tokens for section headings and separators
_FENCE_LANG = {"python": "python", "javascript": "javascript", "typescript": "typescript", "tsx": "tsx"}

SYSTEM_PROMPT = """You write one file of a repository that is being built file by file from an \
implementation blueprint. You see the blueprint summary, this file's specification, and compact \
memory entries (purpose, public interface, imports) of related files already written; you do not \
see their code. Use their interfaces exactly as listed: same module paths, names, parameters and \
return types. Define everything the specification asks of this file. Do not write other files.

Reply with the complete content of the requested file in one fenced code block whose info string \
names the language and the path, for example ```python path=src/model.py. No placeholder code, no \
"rest unchanged" elisions."""


class AssembledContext(BaseModel):
    """Messages for the coder plus what went into them."""

    model_config = ConfigDict(extra="forbid")

    messages: list[dict[str, str]]
    meter: ContextMeter
    memory_paths: list[str] = Field(default_factory=list)


def spec_text(target: PlannedFile) -> str:
    lines = [f"Write `{target.path}` (stage {target.stage})."]
    if target.purpose:
        lines.append(f"Purpose: {target.purpose}")
    if target.dependencies:
        lines.append("Builds on: " + ", ".join(target.dependencies))
    if target.symbols:
        lines.append("Uses symbols: " + ", ".join(target.symbols))
    if target.spec.strip():
        lines += ["Specification:", target.spec.strip()]
    lang = _FENCE_LANG.get(target.language or "", "")
    lines.append(
        f"Reply with the whole file in one block: ```{lang} path={target.path}".replace("``` ", "```")
    )
    return "\n".join(lines)


def _planned_consumers(target: PlannedFile, plan: CodegenPlan, store: MemoryStore) -> str:
    rows = []
    for c in plan.consumers_of(target.path):
        if c in store:
            continue
        pf = plan.get(c)
        if pf is not None:
            rows.append(f"- {c}" + (f": {pf.purpose}" if pf.purpose else ""))
    return "Files planned to use this one:\n" + "\n".join(rows) if rows else ""


def assemble_context(
    target: PlannedFile,
    plan: CodegenPlan,
    store: MemoryStore,
    *,
    budget_tokens: int = DEFAULT_BUDGET_TOKENS,
    retrieval: str | None = None,
) -> AssembledContext:
    """The messages for generating ``target`` within ``budget_tokens`` (priority in the module doc)."""
    left = budget_tokens - _HEADINGS_RESERVE
    meter = ContextMeter(path=target.path, budget=budget_tokens)

    meter.instructions = count_tokens(SYSTEM_PROMPT)
    left -= meter.instructions

    spec = spec_text(target)
    meter.spec = count_tokens(spec)
    if meter.spec > max(left, 0):
        spec = truncate_to_tokens(spec, max(left, 0))
        meter.spec = count_tokens(spec)
        meter.truncated.append("spec")
    left -= meter.spec

    # tiers 3 and 5 come from one selection; dependencies are offered first
    candidates = select_with_reasons(target, plan, store, budget_tokens=None)
    deps = [s for s in candidates if s.reason == "dependency"]
    others = [s for s in candidates if s.reason != "dependency"]
    dep_parts, left = _fit(deps, store, left, meter)

    summary = plan.summary.strip()
    if summary:
        st = count_tokens(summary)
        if st > max(left, 0):
            summary = truncate_to_tokens(summary, max(left, 0))
            meter.truncated.append("summary")
            st = count_tokens(summary)
        meter.summary = st
        left -= st

    other_parts, left = _fit(others, store, left, meter)
    planned = _planned_consumers(target, plan, store)
    if planned:
        pt = count_tokens(planned)
        if pt <= left:
            other_parts.append(planned)
            meter.memory += pt
            left -= pt
        else:
            meter.dropped.append("planned consumers")

    rag = (retrieval or "").strip()
    if rag:
        rt = count_tokens(rag)
        if rt > max(left, 0):
            rag = truncate_to_tokens(rag, max(left, 0))
            meter.truncated.append("retrieval")
            rt = count_tokens(rag)
        meter.retrieval = rt
        left -= rt

    sections = []
    if summary:
        sections.append("# Project blueprint (summary)\n" + summary)
    if dep_parts:
        sections.append("# Files this file builds on (already written)\n" + "\n\n".join(dep_parts))
    if other_parts:
        sections.append("# Other related files\n" + "\n\n".join(other_parts))
    if rag:
        sections.append("# Reference code retrieved for this file (adapt, do not copy blindly)\n" + rag)
    sections.append("# Your task\n" + spec)
    user = "\n\n".join(sections)
    meter.total = meter.instructions + count_tokens(user)
    return AssembledContext(
        messages=[{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}],
        meter=meter,
        memory_paths=meter.memory_files,
    )


def _fit(items: list[Selected], store: MemoryStore, left: int, meter: ContextMeter) -> tuple[list[str], int]:
    parts: list[str] = []
    for s in items:
        text, tokens = s.text, s.tokens
        if tokens > left and s.reason != "consumer":
            text, tokens = store.rendered(s.entry, compact=True)
            if tokens <= left:
                meter.truncated.append(s.entry.path)
        if tokens > left:
            meter.dropped.append(s.entry.path)
            continue
        parts.append(text)
        meter.memory += tokens
        meter.memory_files.append(s.entry.path)
        left -= tokens
    return parts, left
