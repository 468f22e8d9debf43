"""CodeRAG as the pipeline uses it: prepare the index once, then ask per blueprint file.

``rag = await prepare_coderag(specs, run_dir=..., emit=...)`` resolves the sources
(unusable ones are skipped with an event; the run continues), updates the persistent
index, and returns a :class:`CodeRAG`. ``await rag.context_for(planned_file, budget)``
decides, logs the decision, retrieves within the budget, and stores the relations.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from deepcode_tui.rag.decide import (
    FileNeed,
    RetrievalDecision,
    build_query,
    decide,
    format_context,
    gather_hits,
)
from deepcode_tui.rag.embeddings import Embedder
from deepcode_tui.rag.events import (
    Emit,
    RetrievalDecided,
    RetrievalDone,
    SourceSkipped,
    Summarize,
    emit_safely,
)
from deepcode_tui.rag.index import CodeIndex, IndexStats
from deepcode_tui.rag.mapping import Relation, relate, save_relations
from deepcode_tui.rag.select import Ask, reorder, select
from deepcode_tui.rag.sources import (
    DEFAULT_CLONE_TIMEOUT,
    ReferenceSource,
    SkippedSource,
    default_cache_dir,
    resolve_sources_async,
)
from deepcode_tui.tokens import count_tokens

DEFAULT_BUDGET_TOKENS = 2000


class RagContext(BaseModel):
    """What CodeRAG gives the coder for one file: the decision, the context and relations."""

    path: str
    decision: RetrievalDecision
    context: str = ""
    tokens: int = 0
    relations: list[Relation] = Field(default_factory=list)


class CodeRAG:
    """Per-file adaptive retrieval over one :class:`CodeIndex` (None: no references)."""

    def __init__(self, index: CodeIndex | None, *, run_dir: Path | None = None, emit: Emit | None = None,
                 budget_tokens: int = DEFAULT_BUDGET_TOKENS, skipped: list[SkippedSource] | None = None,
                 stats: IndexStats | None = None, ask: Ask | None = None) -> None:
        self.index = index
        self.ask = ask  # the model that picks among the candidates (rag.select_with_model), or None
        self.run_dir = Path(run_dir) if run_dir else None
        self.emit = emit
        self.budget_tokens = budget_tokens
        self.skipped = skipped or []
        self.stats = stats
        self._save_lock = asyncio.Lock()

    async def context_for(self, file: FileNeed | Any, budget_tokens: int | None = None, *,
                          request: str | None = None) -> RagContext:
        """Decide for ``file`` (a FileNeed, PlannedFile or dict), then retrieve when warranted.

        ``request`` is the coder's own ask and forces retrieval. The context is at most
        ``budget_tokens`` (default: this CodeRAG's budget). Emits RetrievalDecided, and
        RetrievalDone when it retrieved; saves relations when a run dir is set.
        """
        need = FileNeed.of(file, request=request)
        budget = self.budget_tokens if budget_tokens is None else budget_tokens
        decision = decide(need, self.index, references=self.index is not None)
        await emit_safely(self.emit, RetrievalDecided(path=need.path, retrieve=decision.retrieve,
                                                      reason=decision.reason, score=decision.need,
                                                      signals=decision.signals))
        if not decision.retrieve or self.index is None:
            return RagContext(path=need.path, decision=decision)
        index = self.index
        hits = await asyncio.to_thread(gather_hits, need, index)
        selection = ""
        if self.ask is not None and len(hits) > 1:
            chosen = await select(build_query(need), [h.chunk for h in hits], self.ask)
            hits = reorder(hits, chosen)
            selection = (f"the model put {len(chosen.order)} of {len(hits)} candidates first"
                         if chosen.usable else chosen.reason)
        text = format_context(hits, index, budget)
        relations = relate(need, hits)
        if self.run_dir is not None:
            async with self._save_lock:
                await asyncio.to_thread(save_relations, self.run_dir, need.path, relations)
        tokens = count_tokens(text)
        await emit_safely(self.emit, RetrievalDone(path=need.path, hits=len(hits), tokens=tokens,
                                                   budget_tokens=budget, relations=len(relations),
                                                   selection=selection))
        return RagContext(path=need.path, decision=decision, context=text, tokens=tokens, relations=relations)


def index_dir_for(specs: list[str], cache_dir: Path | None = None) -> Path:
    """The shared index directory for a set of sources (same set, same index, across runs)."""
    key = hashlib.sha256("\n".join(sorted(set(specs))).encode()).hexdigest()[:16]
    return (cache_dir or default_cache_dir()) / "index" / key


async def prepare_coderag(
    specs: list[str | ReferenceSource],
    *,
    run_dir: Path | None = None,
    emit: Emit | None = None,
    summarize: Summarize | None = None,
    index_dir: Path | None = None,
    cache_dir: Path | None = None,
    embedder: Embedder | None | str = "auto",
    budget_tokens: int = DEFAULT_BUDGET_TOKENS,
    clone_timeout: float = DEFAULT_CLONE_TIMEOUT,
    ask: Ask | None = None,
) -> CodeRAG:
    """Resolve ``specs``, update their index and return a ready :class:`CodeRAG`.

    Never fails for a bad source: each one is skipped with a SourceSkipped event and
    listed in ``CodeRAG.skipped``. With no usable source the CodeRAG decides "no
    retrieval" for every file. ``ask``: a model that picks among each file's candidates
    (:mod:`deepcode_tui.rag.select`).
    """
    resolved, skipped = await resolve_sources_async(specs, emit=emit, cache_dir=cache_dir,
                                                    clone_timeout=clone_timeout)
    if not resolved:
        return CodeRAG(None, run_dir=run_dir, emit=emit, budget_tokens=budget_tokens, skipped=skipped)
    directory = index_dir or index_dir_for([r.source.spec for r in resolved], cache_dir)
    index = await asyncio.to_thread(CodeIndex, directory, embedder=embedder)  # type: ignore[arg-type]
    stats = await index.update_async(resolved, summarize=summarize, emit=emit)
    with_files = {entry.source for entry in index.files.values()}
    for r in resolved:
        if r.name not in with_files:
            # Resolved but useless: say so, or the user wonders why nothing is ever retrieved.
            s = SkippedSource(spec=r.source.spec, reason=f"reference source {r.source.spec} has no Python, "
                              "JavaScript or TypeScript files to index",
                              fix="point it at the directory that holds the code")
            skipped.append(s)
            await emit_safely(emit, SourceSkipped(spec=s.spec, reason=s.reason, fix=s.fix))
    return CodeRAG(index if index.chunks else None, run_dir=run_dir, emit=emit, budget_tokens=budget_tokens,
                   skipped=skipped, stats=stats, ask=ask)
