"""CodeIndex: chunks of the reference sources, searchable by BM25, embeddings or both.

The index lives in a directory (see :mod:`deepcode_tui.rag.store`) and updates
incrementally: a file whose content hash is unchanged keeps its chunks, summary and
embedding rows; only new or changed files are parsed, summarised and embedded.
BM25 (bm25s, code-aware tokens) is rebuilt from the chunks on every change because
that takes well under a second even for thousands of chunks.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel

from deepcode_tui.errors import BudgetExceeded, Cancelled
from deepcode_tui.rag.chunker import Chunk, chunk_source
from deepcode_tui.rag.embeddings import Embedder, load_default_embedder
from deepcode_tui.rag.events import Emit, IndexBuilt, Summarize, emit_safely
from deepcode_tui.rag.files import content_hash, iter_source_files
from deepcode_tui.rag.sources import ResolvedSource
from deepcode_tui.rag.store import (
    FileEntry,
    Manifest,
    SourceEntry,
    load_bm25,
    read_generation,
    write_generation,
)
from deepcode_tui.rag.summary import SummaryCache, derived_summary, model_summary
from deepcode_tui.rag.tokenize import chunk_search_text, tokenize, tokenizer_id

SearchMode = Literal["bm25", "embeddings", "hybrid"]
RRF_K = 60
EMBED_TEXT_CHARS = 1200


class SearchHit(BaseModel):
    """One search result; ``rank`` is 1-based, ``score`` is comparable only within a mode."""

    chunk: Chunk
    score: float
    rank: int
    mode: SearchMode


class IndexStats(BaseModel):
    files: int
    files_changed: int
    files_removed: int
    chunks: int
    embeddings: bool
    seconds: float


@dataclass
class _Plan:
    """An update's scan result, before summaries, embeddings and BM25 are computed."""

    sources: dict[str, SourceEntry]
    files: dict[str, FileEntry] = field(default_factory=dict)
    chunks: dict[str, list[Chunk]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)  # changed files only, for summaries
    changed: set[str] = field(default_factory=set)
    removed: int = 0


class CodeIndex:
    """A persistent, incrementally updated code index in ``directory``.

    ``embedder``: "auto" uses the packaged MiniLM when the ``[embeddings]`` extra is
    installed, None disables embeddings, or pass any :class:`Embedder`.
    """

    def __init__(self, directory: Path, *, embedder: Embedder | None | Literal["auto"] = "auto") -> None:
        self.directory = Path(directory)
        self.embedder: Embedder | None = load_default_embedder() if embedder == "auto" else embedder
        self.summaries = SummaryCache(self.directory / "summaries.json")
        self.chunks: list[Chunk] = []
        self.files: dict[str, FileEntry] = {}
        self.sources: dict[str, SourceEntry] = {}
        self._emb: np.ndarray | None = None
        self._bm25 = None
        self._tokenizer = tokenizer_id()
        self._load()

    # ------------------------------------------------------------------ state
    def _load(self) -> None:
        gen = read_generation(self.directory)
        if gen is None:
            return
        self.chunks, self.files, self.sources = gen.chunks, gen.manifest.files, gen.manifest.sources
        if self.embedder is not None and gen.manifest.embedder == self.embedder.name:
            self._emb = gen.embeddings
        if gen.manifest.tokenizer == self._tokenizer:
            self._bm25 = load_bm25(gen.directory)
        if self._bm25 is None:
            self._bm25 = self._build_bm25()

    @property
    def has_embeddings(self) -> bool:
        """True when embedding search is possible (model present and vectors current)."""
        return self.embedder is not None and self._emb is not None and len(self._emb) == len(self.chunks)

    def summary_for(self, source: str, path: str) -> str:
        entry = self.files.get(f"{source}:{path}")
        return entry.summary if entry else ""

    def _search_text(self, c: Chunk) -> str:
        return chunk_search_text(c, self.summary_for(c.source, c.path))

    def _build_bm25(self):
        if not self.chunks:
            return None
        import bm25s

        bm25 = bm25s.BM25()
        bm25.index([tokenize(self._search_text(c)) for c in self.chunks], show_progress=False)
        return bm25

    # ----------------------------------------------------------------- update
    def _scan(self, sources: list[ResolvedSource]) -> _Plan:
        plan = _Plan(sources={
            s.name: SourceEntry(spec=s.source.spec, kind=s.source.kind, root=str(s.root), revision=s.revision)
            for s in sources})
        old_chunks: dict[str, list[Chunk]] = {}
        for c in self.chunks:
            old_chunks.setdefault(f"{c.source}:{c.path}", []).append(c)
        for src in sources:
            for rel, abs_path in iter_source_files(src.root):
                key = f"{src.name}:{rel}"
                try:
                    data = abs_path.read_bytes()
                except OSError:
                    continue  # unreadable file: index the rest of the source
                digest = content_hash(data)
                old = self.files.get(key)
                if old is not None and old.sha256 == digest and key in old_chunks:
                    plan.files[key] = old
                    plan.chunks[key] = old_chunks[key]
                    continue
                text = data.decode("utf-8", "replace")
                chunks = chunk_source(text, rel, src.name)
                cached = self.summaries.get(digest)
                summary, by = cached if cached else (derived_summary(rel, chunks), "derived")
                plan.files[key] = FileEntry(source=src.name, path=rel, sha256=digest, chunks=len(chunks),
                                            summary=summary, summary_by=by)
                plan.chunks[key] = chunks
                plan.texts[key] = text
                plan.changed.add(key)
        plan.removed = len(set(self.files) - set(plan.files))
        return plan

    def _finish(self, plan: _Plan, t0: float) -> IndexStats:
        old_rows = {c.id: i for i, c in enumerate(self.chunks)} if self.has_embeddings else {}
        chunks = [c for key in plan.files for c in plan.chunks[key]]
        embedder_stale = self.embedder is not None and not self.has_embeddings
        dirty = bool(plan.changed or plan.removed or embedder_stale or not self.directory.joinpath(
            "CURRENT").is_file() or plan.sources != self.sources)
        old_emb = self._emb
        self.files, self.sources, self.chunks = plan.files, plan.sources, chunks
        if dirty:
            self._emb = self._embed(chunks, plan.changed, old_rows, old_emb)
            self._bm25 = self._build_bm25()
            manifest = Manifest(tokenizer=self._tokenizer,
                                embedder=self.embedder.name if self._emb is not None and self.embedder else None,
                                sources=self.sources, files=self.files, chunks=len(chunks))
            write_generation(self.directory, manifest, chunks, self._emb, self._bm25)
            for entry in self.files.values():
                if self.summaries.get(entry.sha256) is None or entry.summary_by == "model":
                    self.summaries.put(entry.sha256, entry.summary, entry.summary_by)
            self.summaries.prune({e.sha256 for e in self.files.values()})
            self.summaries.save()
        return IndexStats(files=len(self.files), files_changed=len(plan.changed), files_removed=plan.removed,
                          chunks=len(chunks), embeddings=self.has_embeddings,
                          seconds=round(time.perf_counter() - t0, 3))

    def _embed(self, chunks: list[Chunk], changed: set[str], old_rows: dict[str, int],
               old_emb: np.ndarray | None) -> np.ndarray | None:
        if self.embedder is None or not chunks:
            return None
        rows: list[np.ndarray | None] = []
        todo: list[int] = []
        for i, c in enumerate(chunks):
            j = old_rows.get(c.id)
            if old_emb is not None and j is not None and f"{c.source}:{c.path}" not in changed:
                rows.append(old_emb[j])
            else:
                rows.append(None)
                todo.append(i)
        if todo:
            vecs = self.embedder.encode([self._search_text(chunks[i])[:EMBED_TEXT_CHARS] for i in todo])
            for i, v in zip(todo, vecs, strict=True):
                rows[i] = v
        return np.vstack([np.asarray(r, dtype=np.float32) for r in rows])

    def update(self, sources: list[ResolvedSource]) -> IndexStats:
        """Make the index hold exactly ``sources``' files; unchanged files are not redone.

        Summaries are derived (or taken from the cache). Persists a new generation
        only when something changed.
        """
        t0 = time.perf_counter()
        return self._finish(self._scan(sources), t0)

    async def update_async(
        self,
        sources: list[ResolvedSource],
        *,
        summarize: Summarize | None = None,
        emit: Emit | None = None,
        max_model_summaries: int = 200,
    ) -> IndexStats:
        """:meth:`update` off the event loop; with ``summarize``, changed files get model summaries.

        At most ``max_model_summaries`` model calls per update (cost cap); a file whose
        model summary fails keeps its derived one. Emits ``IndexBuilt`` when done.
        """
        t0 = time.perf_counter()
        plan = await asyncio.to_thread(self._scan, sources)
        if summarize is not None:
            calls = 0
            for key in sorted(plan.changed):
                entry = plan.files[key]
                if entry.summary_by == "model" or calls >= max_model_summaries:
                    continue
                calls += 1
                try:
                    text = await model_summary(entry.path, plan.texts[key], summarize)
                except (Cancelled, BudgetExceeded):
                    raise
                except Exception:  # a failed summary costs quality, not the index
                    continue
                if text:
                    plan.files[key] = entry.model_copy(update={"summary": text, "summary_by": "model"})
        stats = await asyncio.to_thread(self._finish, plan, t0)
        await emit_safely(emit, IndexBuilt(
            index_dir=str(self.directory), sources=sorted(plan.sources), files=stats.files,
            files_changed=stats.files_changed, files_removed=stats.files_removed, chunks=stats.chunks,
            embeddings=stats.embeddings, seconds=stats.seconds))
        return stats

    # ----------------------------------------------------------------- search
    def _rank_bm25(self, query: str, depth: int) -> list[tuple[int, float]]:
        tokens = tokenize(query)
        if self._bm25 is None or not tokens:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
        return _top(scores, depth, positive_only=True)

    def _rank_embeddings(self, query: str, depth: int) -> list[tuple[int, float]]:
        if not self.has_embeddings or not query.strip():
            return []
        q = self.embedder.encode([query[:EMBED_TEXT_CHARS]])[0]  # type: ignore[union-attr]
        return _top(self._emb @ q, depth, positive_only=False)  # type: ignore[operator]

    def search(self, query: str, k: int = 10, mode: SearchMode = "hybrid") -> list[SearchHit]:
        """The ``k`` best chunks for ``query``.

        "hybrid" fuses BM25 and embedding ranks by reciprocal rank fusion; without
        embeddings, "hybrid" is BM25 and "embeddings" returns nothing.
        """
        if k <= 0 or not self.chunks:
            return []
        if mode == "bm25" or (mode == "hybrid" and not self.has_embeddings):
            ranked = self._rank_bm25(query, k)
            used: SearchMode = "bm25"
        elif mode == "embeddings":
            ranked, used = self._rank_embeddings(query, k), "embeddings"
        else:
            depth = max(50, 5 * k)
            fused: dict[int, float] = {}
            for ranking in (self._rank_bm25(query, depth), self._rank_embeddings(query, depth)):
                for r, (i, _) in enumerate(ranking):
                    fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + r + 1)
            ranked = sorted(fused.items(), key=lambda t: (-t[1], t[0]))[:k]
            used = "hybrid"
        return [SearchHit(chunk=self.chunks[i], score=float(s), rank=r + 1, mode=used)
                for r, (i, s) in enumerate(ranked[:k])]


def _top(scores: np.ndarray, k: int, *, positive_only: bool) -> list[tuple[int, float]]:
    if scores.size == 0:
        return []
    k = min(k, scores.size)
    idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.lexsort((idx, -scores[idx]))]
    return [(int(i), float(scores[i])) for i in idx if not positive_only or scores[i] > 0]
