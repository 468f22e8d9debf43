"""Which memory entries a file's generation step sees.

Three tiers, in this order, each only if already written:
1. ``dependency``: the files the plan says this file depends on (declared order);
2. ``symbol``: files defining a symbol the spec names (``PlannedFile.symbols``,
   plus distinctive identifiers in the spec text: CamelCase or snake_case,
   4+ characters, defined by at most two files);
3. ``consumer``: files predicted to use this one (plan consumers, files whose
   plan depends on it, written files importing it); they are shown as the
   expectations they have of this file.
Unrelated entries are never selected, so the selection never grows into the
whole memory; entries are added while they fit in the token budget.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

from deepcode_tui.codegen.memory import MemoryEntry, MemoryStore
from deepcode_tui.codegen.plan import CodegenPlan, PlannedFile
from deepcode_tui.tokens import count_tokens

Reason = Literal["dependency", "symbol", "consumer"]
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_DEFINERS = 2  # a name defined by more files than this says nothing about which one is meant


class Selected(NamedTuple):
    entry: MemoryEntry
    reason: Reason
    text: str  # what the coder sees for this entry
    tokens: int


def _distinctive(name: str) -> bool:
    if len(name) < 4:
        return False
    return "_" in name.strip("_") or (name[0].isupper() and any(c.islower() for c in name))


def spec_symbols(target: PlannedFile) -> list[str]:
    """Symbols the spec names: the declared list first, then distinctive identifiers of the spec text."""
    names = list(dict.fromkeys(s.split(".")[0] for s in target.symbols if s))
    for tok in _IDENT.findall(target.spec):
        if _distinctive(tok) and tok not in names:
            names.append(tok)
    return names


def consumer_text(entry: MemoryEntry, target: str) -> str:
    """A consumer shown as what it expects of ``target``."""
    exp = entry.expectations_for(target)
    head = f"## {entry.path}" + (f" — {entry.purpose}" if entry.purpose else "")
    if not exp:
        return head + f"\n  imports {target}"
    return head + "\n  uses from this file: " + "; ".join(exp)


def select_with_reasons(
    target: PlannedFile, plan: CodegenPlan, store: MemoryStore, *, budget_tokens: int | None = None
) -> list[Selected]:
    """The selection with why each entry is there and its rendered text (see module doc)."""
    chosen: dict[str, Selected] = {}
    used = 0

    def offer(entry: MemoryEntry | None, reason: Reason) -> None:
        nonlocal used
        if entry is None or entry.path == target.path or entry.path in chosen:
            return
        if reason == "consumer":
            text = consumer_text(entry, target.path)
            tokens = count_tokens(text)
        else:
            text, tokens = store.rendered(entry)
        if budget_tokens is not None and used + tokens > budget_tokens:
            if reason == "consumer":
                return
            text, tokens = store.rendered(entry, compact=True)
            if used + tokens > budget_tokens:
                return
        chosen[entry.path] = Selected(entry, reason, text, tokens)
        used += tokens

    for dep in target.dependencies:
        offer(store.get(dep), "dependency")
    for name in spec_symbols(target):
        definers = store.defining(name)
        if 0 < len(definers) <= _MAX_DEFINERS:
            for e in definers:
                offer(e, "symbol")
    consumers = list(dict.fromkeys([*target.consumers, *plan.consumers_of(target.path)]))
    for c in consumers:
        offer(store.get(c), "consumer")
    for e in store:
        if target.path in e.depends_on:
            offer(e, "consumer")
    return list(chosen.values())


def select_relevant_memory(
    target: PlannedFile, plan: CodegenPlan, store: MemoryStore, *, budget_tokens: int
) -> list[MemoryEntry]:
    """Memory entries relevant to ``target``, highest priority first, within ``budget_tokens``."""
    return [s.entry for s in select_with_reasons(target, plan, store, budget_tokens=budget_tokens)]
