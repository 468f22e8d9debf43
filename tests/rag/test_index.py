"""CodeIndex: build, search, persistence and incremental updates by file hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepcode_tui.errors import Cancelled
from deepcode_tui.rag.events import IndexBuilt
from deepcode_tui.rag.index import CodeIndex
from deepcode_tui.rag.sources import resolve_sources


def _index(tmp_path: Path, repo: Path, embedder=None) -> tuple[CodeIndex, list]:
    resolved, skipped = resolve_sources([str(repo)])
    assert not skipped
    idx = CodeIndex(tmp_path / "index", embedder=embedder)
    return idx, resolved


def test_build_and_bm25_search_finds_the_implementation(tmp_path, ref_repo):
    idx, resolved = _index(tmp_path, ref_repo)
    stats = idx.update(resolved)
    assert stats.files == 4  # README and node_modules are not indexed
    assert stats.files_changed == 4 and stats.chunks == len(idx.chunks)
    top = idx.search("learning rate warm up then decay with inverse square root", k=3, mode="bm25")
    assert top[0].chunk.symbol == "warmup_inverse_sqrt" and top[0].rank == 1
    top = idx.search("merge the most frequent adjacent pair of symbols", k=3, mode="bm25")
    assert top[0].chunk.symbol == "merge_most_frequent_pair"
    top = idx.search("beam search decoding keeping the best sequences", k=3, mode="bm25")
    assert top[0].chunk.path == "web/beam.js"
    assert idx.search("", k=3) == [] and idx.search("the of and", k=3) == []
    assert idx.search("attention", k=0) == []


def test_hybrid_without_embeddings_is_bm25(tmp_path, ref_repo):
    idx, resolved = _index(tmp_path, ref_repo)
    idx.update(resolved)
    assert not idx.has_embeddings
    hits = idx.search("scaled dot product attention softmax", k=2, mode="hybrid")
    assert hits and all(h.mode == "bm25" for h in hits)
    assert idx.search("anything", k=2, mode="embeddings") == []


def test_persisted_index_reopens_and_skips_unchanged_files(tmp_path, ref_repo):
    idx, resolved = _index(tmp_path, ref_repo)
    idx.update(resolved)
    before = [h.chunk.id for h in idx.search("multi head attention heads", k=5)]
    reopened = CodeIndex(tmp_path / "index", embedder=None)
    assert len(reopened.chunks) == len(idx.chunks)
    assert [h.chunk.id for h in reopened.search("multi head attention heads", k=5)] == before
    stats = reopened.update(resolved)
    assert stats.files_changed == 0 and stats.files_removed == 0


def test_incremental_update_by_file_hash(tmp_path, ref_repo):
    idx, resolved = _index(tmp_path, ref_repo)
    idx.update(resolved)
    sched = ref_repo / "train" / "schedule.py"
    sched.write_text(sched.read_text() + '\n\ndef cosine_decay(step, total):\n    """Cosine annealing."""\n'
                     "    return 0.5\n")
    (ref_repo / "text" / "bpe.py").unlink()
    (ref_repo / "text" / "extra.py").write_text("def sentencepiece_unigram():\n    return 1\n")
    stats = idx.update(resolved)
    assert stats.files_changed == 2  # schedule.py (changed) and extra.py (new)
    assert stats.files_removed == 1  # bpe.py
    symbols = {c.symbol for c in idx.chunks}
    assert "cosine_decay" in symbols and "merge_most_frequent_pair" not in symbols
    # Reopening sees the update; touching nothing re-parses nothing.
    again = CodeIndex(tmp_path / "index", embedder=None)
    assert {c.symbol for c in again.chunks} == symbols
    assert again.update(resolved).files_changed == 0


def test_removed_source_drops_its_files(tmp_path, ref_repo):
    other = tmp_path / "other"
    other.mkdir()
    (other / "graph.py").write_text("def dijkstra(graph, start):\n    return {}\n")
    resolved, _ = resolve_sources([str(ref_repo), str(other)])
    idx = CodeIndex(tmp_path / "index", embedder=None)
    idx.update(resolved)
    assert any(c.symbol == "dijkstra" for c in idx.chunks)
    idx.update(resolved[:1])
    assert not any(c.symbol == "dijkstra" for c in idx.chunks)


def test_damaged_index_is_rebuilt_not_fatal(tmp_path, ref_repo):
    idx, resolved = _index(tmp_path, ref_repo)
    idx.update(resolved)
    gen = (tmp_path / "index" / (tmp_path / "index" / "CURRENT").read_text().strip())
    (gen / "chunks.jsonl").write_text("{broken\n")
    damaged = CodeIndex(tmp_path / "index", embedder=None)
    assert damaged.chunks == []
    stats = damaged.update(resolved)
    assert stats.files_changed == 4
    assert damaged.search("inverse square root", k=1)[0].chunk.symbol == "warmup_inverse_sqrt"
    # Only the live generation and the one before it are kept.
    assert len(list((tmp_path / "index").glob("gen-*"))) <= 2


def test_embeddings_are_reused_for_unchanged_files(tmp_path, ref_repo, hash_embedder):
    idx, resolved = _index(tmp_path, ref_repo, embedder=hash_embedder)
    idx.update(resolved)
    assert idx.has_embeddings
    first = hash_embedder.texts
    assert first == 2 * len(idx.chunks)  # each chunk: its full text and its description
    hits = idx.search("softmax of query key dot products", k=3, mode="embeddings")
    assert hits and hits[0].mode == "embeddings"
    hybrid = idx.search("softmax of query key dot products", k=3, mode="hybrid")
    assert hybrid[0].mode == "hybrid" and hybrid[0].chunk.path == "model/attention.py"
    # Change one file: only its chunks whose text changed are embedded again (the new
    # function and the module header, whose "defines" line lists it), also after a reopen.
    first = hash_embedder.texts  # (the two searches encoded their queries)
    bpe = ref_repo / "text" / "bpe.py"
    bpe.write_text(bpe.read_text() + "\n\ndef count_pairs(words):\n    return {}\n")
    reopened = CodeIndex(tmp_path / "index", embedder=hash_embedder)
    assert reopened.has_embeddings
    reopened.update(resolved)
    assert hash_embedder.texts - first == 2 * 2
    assert {c.symbol for c in reopened.chunks if c.path == "text/bpe.py"} >= {"count_pairs", "_merge"}
    # A different embedder invalidates stored vectors.
    class Other(type(hash_embedder)):
        name = "other-model"
    other = Other()
    fresh = CodeIndex(tmp_path / "index", embedder=other)
    assert not fresh.has_embeddings
    fresh.update(resolved)
    assert fresh.has_embeddings and other.texts == 2 * len(fresh.chunks)


async def test_model_summaries_are_cached_by_hash(tmp_path, ref_repo):
    calls: list[str] = []

    async def summarize(prompt: str) -> str:
        calls.append(prompt)
        return "  Summary of " + prompt.split("File: ")[1].split("\n")[0] + "  "

    events = []

    async def emit(e):
        events.append(e)

    idx, resolved = _index(tmp_path, ref_repo)
    stats = await idx.update_async(resolved, summarize=summarize, emit=emit)
    assert len(calls) == 4
    assert idx.summary_for(resolved[0].name, "train/schedule.py") == "Summary of train/schedule.py"
    assert [type(e) for e in events] == [IndexBuilt]
    assert events[0].files == stats.files == 4
    # A new index over the same directory reuses the cached summaries: no model calls.
    idx2 = CodeIndex(tmp_path / "index", embedder=None)
    await idx2.update_async(resolved, summarize=summarize)
    assert len(calls) == 4
    assert idx2.summary_for(resolved[0].name, "text/bpe.py") == "Summary of text/bpe.py"


async def test_failed_model_summary_keeps_derived_one(tmp_path, ref_repo):
    async def broken(prompt: str) -> str:
        raise RuntimeError("provider down")

    idx, resolved = _index(tmp_path, ref_repo)
    await idx.update_async(resolved, summarize=broken)
    s = idx.summary_for(resolved[0].name, "model/attention.py")
    assert s.startswith("Attention layers for sequence models.")
    assert "scaled_dot_product_attention" in s and "MultiHeadAttention" in s


async def test_cancel_during_summaries_propagates(tmp_path, ref_repo):
    async def cancelled(prompt: str) -> str:
        raise Cancelled("stopped by user")

    idx, resolved = _index(tmp_path, ref_repo)
    with pytest.raises(Cancelled):
        await idx.update_async(resolved, summarize=cancelled)
    assert not (tmp_path / "index" / "CURRENT").exists()  # nothing half-written
