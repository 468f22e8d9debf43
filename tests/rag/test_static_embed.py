"""The default embedding model: wordllama's packaged static table, run in numpy."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from deepcode_tui.rag.embeddings import load_default_embedder
from deepcode_tui.rag.static_embed import StaticEmbedder, load_static_embedder, wordllama_files, words_of

pytestmark = pytest.mark.skipif(wordllama_files() is None, reason="wordllama (a core dependency) not installed")


@pytest.fixture(scope="module")
def static() -> StaticEmbedder:
    e = load_static_embedder()
    assert e is not None
    return e


def test_identifiers_become_words():
    assert words_of("def get_cellWidth(HTTPServer2): ...") == ["def", "get", "cell", "Width", "HTTP", "Server", "2"]
    assert words_of("") == []


def test_default_embedder_is_the_static_model():
    e = load_default_embedder()
    assert isinstance(e, StaticEmbedder) and e.name == "wordllama-l2-supercat-256"
    with pytest.raises(ValueError, match="unknown embedding model"):
        load_default_embedder("bert-large")


def test_loads_offline_without_torch_or_network():
    # A fresh interpreter with sockets disabled: the model must come from the package alone,
    # and neither torch nor wordllama's own loader (which downloads its tokenizer) may load.
    code = textwrap.dedent("""
        import socket, sys
        def refuse(*a, **k):
            raise OSError("network disabled in this test")
        socket.socket.connect = refuse
        socket.getaddrinfo = refuse
        socket.create_connection = refuse
        from deepcode_tui.rag.embeddings import load_default_embedder
        v = load_default_embedder().encode(["parse an HTTP header", "def parse_header(line): ..."])
        assert v.shape == (2, 256), v.shape
        assert "torch" not in sys.modules and "wordllama" not in sys.modules, sorted(sys.modules)
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_vectors_are_unit_length_and_rank_by_meaning(static):
    vecs = static.encode([
        "learning rate warmup followed by inverse square root decay",
        "def warmup_inverse_sqrt(step, d_model, warmup_steps=4000): scale the optimizer step size",
        "def merge_most_frequent_pair(words): byte pair encoding vocabulary merge",
    ])
    assert vecs.shape == (3, 256) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]


def test_a_text_gets_the_same_vector_alone_or_in_a_batch(static):
    texts = ["retry a request with exponential backoff", "", "___", "HTTPServer"]
    batch = static.encode(texts)
    for t, row in zip(texts, batch, strict=True):
        assert np.allclose(static.encode([t])[0], row, atol=1e-6)
    assert not batch[1].any() and not batch[2].any()  # nothing to embed: a zero vector, not NaN
    assert static.encode([]).shape == (0, 256)


def test_long_texts_are_cut_to_their_opening(static):
    opening = "compute the checksum of a file " * 60  # well over MAX_TOKENS
    tail = "unrelated network socket teardown " * 200
    long, start = static.encode([opening + tail, opening])
    assert long @ start > 0.99


def test_default_index_is_hybrid_with_the_static_model(tmp_path, ref_repo):
    from deepcode_tui.rag.index import CodeIndex
    from deepcode_tui.rag.sources import resolve_sources

    resolved, _ = resolve_sources([str(ref_repo)])
    idx = CodeIndex(tmp_path / "idx")  # "auto": what the pipeline gets by default
    stats = idx.update(resolved)
    assert stats.embeddings and idx.has_embeddings
    hits = idx.search("decoding that keeps only the highest scoring partial sequences", k=3)
    assert hits[0].mode == "hybrid"
    assert "beamSearch" in [h.chunk.symbol for h in hits]
    # Reopened from disk with the same model: the vectors are reused, not recomputed.
    again = CodeIndex(tmp_path / "idx")
    assert again.has_embeddings and again.update(resolved).files_changed == 0


async def test_the_default_configuration_gives_the_pipeline_hybrid_retrieval(tmp_path, ref_repo):
    from deepcode_tui.config.settings import RagConfig
    from deepcode_tui.rag.coderag import prepare_coderag
    from deepcode_tui.rag.events import IndexBuilt

    cfg = RagConfig()
    assert cfg.embeddings and cfg.embedding_model == "auto"
    events = []

    async def emit(e):
        events.append(e)

    # What pipeline/phase_codegen.py passes for the default configuration.
    rag = await prepare_coderag([str(ref_repo)], cache_dir=tmp_path, emit=emit,
                                embedder=cfg.embedding_model if cfg.embeddings else None)
    built = [e for e in events if isinstance(e, IndexBuilt)]
    assert built and built[0].embeddings and rag.index is not None and rag.index.has_embeddings


def test_the_word_cache_is_bounded_and_starting_over_changes_no_vector(monkeypatch):
    import deepcode_tui.rag.static_embed as static_embed

    e = load_static_embedder()
    first = e.encode(["parse an http header line", "compute the file checksum"])
    monkeypatch.setattr(static_embed, "MAX_CACHED_WORDS", 6)
    again = e.encode(["alpha beta gamma delta epsilon zeta eta", "parse an http header line"])
    assert len(e._word_row) <= 7 + 4
    assert np.allclose(again[1], first[0], atol=1e-6)
    assert np.allclose(e.encode(["compute the file checksum"])[0], first[1], atol=1e-6)


def test_encode_in_slices_matches_encoding_each_text_alone(monkeypatch):
    """The counts-matrix sum is sliced for big calls; slicing must not change any vector."""
    from deepcode_tui.rag import static_embed

    emb = static_embed.load_static_embedder()
    if emb is None:
        pytest.skip("wordllama is not installed")
    texts = [f"def parse_header_{i}(value): split the header value into key and value pairs {i}"
             for i in range(7)] + ["", "return self"]
    monkeypatch.setattr(static_embed, "_SLICE", 3)
    together = emb.encode(texts)
    alone = np.vstack([emb.encode([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
    assert not together[-2].any() and not together[-1].any()  # nothing left after stopwords
