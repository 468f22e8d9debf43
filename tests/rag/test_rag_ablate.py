"""scripts/rag_ablate.py: one constant switched per row, restored afterwards, counts per set."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from deepcode_tui.rag import index as ix
from deepcode_tui.rag import rerank as rr
from deepcode_tui.rag.index import CodeIndex
from deepcode_tui.rag.sources import resolve_sources

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _load():
    sys.path.insert(0, str(SCRIPTS))
    spec = importlib.util.spec_from_file_location("rag_ablate", SCRIPTS / "rag_ablate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def test_table_scores_each_variant_and_restores_the_constants(tmp_path, ref_repo):
    ab = _load()
    resolved, _ = resolve_sources([str(ref_repo)])
    index = CodeIndex(tmp_path / "index", embedder=None)
    index.update(resolved)
    queries = [
        {"query": "Learning rate warm up then decay with the inverse square root of the step",
         "file": "train/schedule.py", "symbol": "warmup_inverse_sqrt"},
        {"query": "Merge the most frequent adjacent pair of symbols", "file": "text/bpe.py",
         "symbol": "merge_most_frequent_pair"},
        {"query": "Merge the most frequent adjacent pair of symbols", "file": "text/bpe.py", "symbol": "nothing"},
    ]
    paths = {c.path for c in index.chunks}
    assert {"train/schedule.py", "text/bpe.py"} <= paths  # the labels name real files of the fixture
    prepared = ab.prepare(index, queries)
    assert all(emb == [] for _, _, emb in prepared)  # no embedder: BM25 candidates only
    kind, weight = rr.KIND_FACTOR, ix.BM25_WEIGHT
    rows = ab.table({"ref": (index, prepared)},
                    [("no kind penalty", rr, "KIND_FACTOR", 1.0), ("bm25 weight", ix, "BM25_WEIGHT", 0.5)])
    assert [label for label, _ in rows] == ["served", "no kind penalty", "bm25 weight"]
    assert rows[0][1]["ref"] == (2, 2)  # two labels found first, the wrong label never
    assert rr.KIND_FACTOR == kind and ix.BM25_WEIGHT == weight
