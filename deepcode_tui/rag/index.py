"""CodeIndex: chunks of the reference sources, searchable by BM25, embeddings or both.

The index lives in a directory (see :mod:`deepcode_tui.rag.store`) and updates
incrementally: a file whose content hash is unchanged keeps its chunks, summary and
embedding rows; only new or changed files are parsed, summarised and embedded.
BM25 (bm25s, code-aware tokens) is rebuilt from the chunks on every change because
that takes well under a second even for thousands of chunks.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

from deepcode_tui.errors import BudgetExceeded, Cancelled
from deepcode_tui.rag.chunker import Chunk, chunk_source
from deepcode_tui.rag.embeddings import Embedder, load_default_embedder
from deepcode_tui.rag.events import Emit, IndexBuilt, Summarize, emit_safely
from deepcode_tui.rag.files import content_hash, iter_source_files
from deepcode_tui.rag.rerank import rerank
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
from deepcode_tui.rag.tokenize import (
    chunk_prose_text,
    chunk_search_text,
    name_pieces,
    name_vocabulary,
    tokenize,
    tokenizer_id,
)

SearchMode = Literal["bm25", "embeddings", "hybrid"]
# Hybrid = BM25_WEIGHT * bm25 / best bm25 + (1 - BM25_WEIGHT) * cosine scaled to [0, 1]
# over the candidates. Measured on the rich query set with the static model: reciprocal
# rank fusion (k=60) gave recall@5 0.754 (no better than BM25 alone); this fusion 0.826.
BM25_WEIGHT = 0.7
HYBRID_DEPTH = 100
EMBED_TEXT_CHARS = 1200
# Texts per encode call: bounds the memory of one batch, and a cancelled update waits
# for at most one batch.
EMBED_BATCH = 256
# Bumped when what the model sees per chunk changes, so stored vectors are recomputed.
EMBED_FORMAT = "code+prose-v3"


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


@dataclass(frozen=True)
class _State:
    """Everything a search reads, swapped in one assignment so a concurrent search
    (the TUI querying while an update runs in a thread) never mixes two versions."""

    chunks: list[Chunk] = field(default_factory=list)
    files: dict[str, FileEntry] = field(default_factory=dict)
    sources: dict[str, SourceEntry] = field(default_factory=dict)
    emb: np.ndarray | None = None
    bm25: Any = None


class CodeIndex:
    """A persistent, incrementally updated code index in ``directory``.

    ``embedder``: "auto" (or "static") uses the packaged static model, "minilm" the
    ``[embeddings]`` extra's MiniLM, None disables embeddings, or pass any :class:`Embedder`. Searching is
    safe while an update runs in another thread; two updates at once are not.
    """

    def __init__(self, directory: Path, *, embedder: Embedder | str | None = "auto") -> None:
        self.directory = Path(directory)
        self.embedder: Embedder | None = (load_default_embedder(embedder) if isinstance(embedder, str)
                                          else embedder)
        self.summaries = SummaryCache(self.directory / "summaries.json")
        self._tokenizer = tokenizer_id()
        self._state = self._load()

    # ------------------------------------------------------------------ state
    def _load(self) -> _State:
        gen = read_generation(self.directory)
        if gen is None:
            return _State()
        files = gen.manifest.files
        emb = gen.embeddings if self.embedder is not None and gen.manifest.embedder == self._embedder_id else None
        bm25 = load_bm25(gen.directory) if gen.manifest.tokenizer == self._tokenizer else None
        if bm25 is None:
            bm25 = self._build_bm25(gen.chunks, files)
        return _State(gen.chunks, files, gen.manifest.sources, emb, bm25)

    @property
    def chunks(self) -> list[Chunk]:
        """All chunks, in index order (do not mutate)."""
        return self._state.chunks

    @property
    def files(self) -> dict[str, FileEntry]:
        """Indexed files by ``source:path``."""
        return self._state.files

    @property
    def sources(self) -> dict[str, SourceEntry]:
        """Indexed sources by name."""
        return self._state.sources

    @property
    def _embedder_id(self) -> str | None:
        return f"{self.embedder.name}|{EMBED_FORMAT}" if self.embedder is not None else None

    @staticmethod
    def _has_emb(st: _State, embedder: Embedder | None) -> bool:
        return embedder is not None and st.emb is not None and len(st.emb) == len(st.chunks)

    @property
    def has_embeddings(self) -> bool:
        """True when embedding search is possible (model present and vectors current)."""
        return self._has_emb(self._state, self.embedder)

    def summary_for(self, source: str, path: str) -> str:
        entry = self._state.files.get(f"{source}:{path}")
        return entry.summary if entry else ""

    @staticmethod
    def _summary(files: dict[str, FileEntry], c: Chunk) -> str:
        entry = files.get(f"{c.source}:{c.path}")
        return entry.summary if entry else ""

    def _build_bm25(self, chunks: list[Chunk], files: dict[str, FileEntry]):
        if not chunks:
            return None
        import bm25s

        bm25 = bm25s.BM25()
        vocabulary = name_vocabulary(chunks)
        bm25.index([tokenize(chunk_search_text(c, self._summary(files, c), name_pieces(c.symbol, vocabulary)))
                    for c in chunks], show_progress=False)  # fmt: skip
        return bm25

    # ----------------------------------------------------------------- update
    def _scan(self, sources: list[ResolvedSource]) -> _Plan:
        st = self._state
        plan = _Plan(sources={
            s.name: SourceEntry(spec=s.source.spec, kind=s.source.kind, root=str(s.root), revision=s.revision)
            for s in sources})
        old_chunks: dict[str, list[Chunk]] = {}
        for c in st.chunks:
            old_chunks.setdefault(f"{c.source}:{c.path}", []).append(c)
        for src in sources:
            for rel, abs_path in iter_source_files(src.root):
                key = f"{src.name}:{rel}"
                try:
                    data = abs_path.read_bytes()
                except OSError:
                    continue  # unreadable file: index the rest of the source
                digest = content_hash(data)
                old = st.files.get(key)
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
        plan.removed = len(set(st.files) - set(plan.files))
        return plan

    def _finish(self, plan: _Plan, t0: float) -> IndexStats:
        old = self._state
        chunks = [c for key in plan.files for c in plan.chunks[key]]
        dirty = bool(plan.changed or plan.removed or plan.sources != old.sources
                     or (self.embedder is not None and not self._has_emb(old, self.embedder))
                     or not (self.directory / "CURRENT").is_file())
        if dirty:
            emb = self._embed(chunks, plan.files, plan.changed, old)
            new = _State(chunks, plan.files, plan.sources, emb, self._build_bm25(chunks, plan.files))
            manifest = Manifest(tokenizer=self._tokenizer, embedder=self._embedder_id if emb is not None else None,
                                sources=new.sources, files=new.files, chunks=len(chunks))
            write_generation(self.directory, manifest, chunks, emb, new.bm25)
            self._state = new
            for entry in new.files.values():
                if self.summaries.get(entry.sha256) is None or entry.summary_by == "model":
                    self.summaries.put(entry.sha256, entry.summary, entry.summary_by)
            self.summaries.prune({e.sha256 for e in new.files.values()})
            self.summaries.save()
        return IndexStats(files=len(plan.files), files_changed=len(plan.changed), files_removed=plan.removed,
                          chunks=len(chunks), embeddings=self.has_embeddings,
                          seconds=round(time.perf_counter() - t0, 3))

    def _embed_texts(self, files: dict[str, FileEntry], c: Chunk) -> tuple[str, str]:
        return c.text[:EMBED_TEXT_CHARS], chunk_prose_text(c, self._summary(files, c))

    def _embed(self, chunks: list[Chunk], files: dict[str, FileEntry], changed: set[str],
               old: _State) -> np.ndarray | None:
        """One vector per chunk: the mean of its code's and its description's vectors.

        Vectors are cached by the hash of the texts the model sees, so an edited file
        re-embeds only its chunks that changed, and identical chunks (vendored copies,
        generated code) are embedded once.
        """
        if self.embedder is None or not chunks:
            return None
        cache: dict[str, np.ndarray] = {}
        if self._has_emb(old, self.embedder):
            for c, row in zip(old.chunks, old.emb, strict=True):  # type: ignore[arg-type]
                cache.setdefault(_text_key(self._embed_texts(old.files, c)), row)
        texts = [self._embed_texts(files, c) for c in chunks]
        keys = [_text_key(t) for t in texts]
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in cache}
        items = list(todo.items())
        for start in range(0, len(items), EMBED_BATCH):
            batch = items[start : start + EMBED_BATCH]
            vecs = self.embedder.encode([t for _, pair in batch for t in pair])
            for j, (key, _) in enumerate(batch):
                cache[key] = ((vecs[2 * j] + vecs[2 * j + 1]) / 2).astype(np.float32)
        return np.vstack([cache[k] for k in keys]).astype(np.float32, copy=False)

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
                except Exception:  # noqa: BLE001, S112 - a failed summary costs quality, not the index
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
    def _rank_bm25(self, st: _State, query: str, depth: int) -> list[tuple[int, float]]:
        tokens = tokenize(query)
        if st.bm25 is None or not tokens:
            return []
        scores = np.asarray(st.bm25.get_scores(tokens), dtype=np.float32)
        return _top(scores, depth, positive_only=True)

    def _rank_embeddings(self, st: _State, query: str, depth: int) -> list[tuple[int, float]]:
        if not self._has_emb(st, self.embedder) or not query.strip():
            return []
        q = self.embedder.encode([query[:EMBED_TEXT_CHARS]])[0]  # type: ignore[union-attr]
        return _top(st.emb @ q, depth, positive_only=False)  # type: ignore[operator]

    def search(self, query: str, k: int = 10, mode: SearchMode = "hybrid") -> list[SearchHit]:
        """The ``k`` best chunks for ``query``.

        "hybrid" fuses BM25 and embedding scores (see ``BM25_WEIGHT``) and then orders
        members against their classes (:mod:`deepcode_tui.rag.rerank`); without
        embeddings, "hybrid" is BM25 with the same reordering and "embeddings" returns
        nothing. "bm25" and "embeddings" are the raw single-method rankings.
        """
        st = self._state
        if k <= 0 or not st.chunks:
            return []
        with_emb = self._has_emb(st, self.embedder)
        if mode == "bm25":
            ranked, used = self._rank_bm25(st, query, k), "bm25"
        elif mode == "embeddings":
            ranked, used = self._rank_embeddings(st, query, k), "embeddings"
        else:
            bm25 = self._rank_bm25(st, query, HYBRID_DEPTH)
            emb = self._rank_embeddings(st, query, HYBRID_DEPTH) if with_emb else []
            ranked = rerank(st.chunks, _fuse(bm25, emb), query)[:k]
            used = "hybrid" if with_emb else "bm25"
        return [SearchHit(chunk=st.chunks[i], score=float(s), rank=r + 1, mode=used)  # type: ignore[arg-type]
                for r, (i, s) in enumerate(ranked[:k])]


def _fuse(bm25: list[tuple[int, float]], emb: list[tuple[int, float]]) -> dict[int, float]:
    """Convex combination of BM25 (scaled by its best score) and cosine (min-max over the candidates)."""
    fused: dict[int, float] = {}
    w_bm25 = BM25_WEIGHT if emb else 1.0
    if bm25:
        top = bm25[0][1] or 1.0
        for i, s in bm25:
            fused[i] = w_bm25 * s / top
    if emb:
        hi, lo = emb[0][1], emb[-1][1]
        span = (hi - lo) or 1.0
        for i, s in emb:
            fused[i] = fused.get(i, 0.0) + (1.0 - w_bm25) * (s - lo) / span
    return fused


def _text_key(texts: tuple[str, ...]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for t in texts:
        h.update(t.encode("utf-8", "replace") + b"\0")
    return h.hexdigest()


def _top(scores: np.ndarray, k: int, *, positive_only: bool) -> list[tuple[int, float]]:
    if scores.size == 0:
        return []
    k = min(k, scores.size)
    idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.lexsort((idx, -scores[idx]))]
    return [(int(i), float(scores[i])) for i in idx if not positive_only or scores[i] > 0]
