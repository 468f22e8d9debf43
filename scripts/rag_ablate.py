#!/usr/bin/env python
"""Leave-one-rule-out table for CodeRAG's hybrid ranking over several tuning query sets.

Indexes each package once (BM25 + the default embedding model), keeps each query's
BM25 and embedding candidate lists, then re-runs only the fusion and the structural
reordering (:mod:`deepcode_tui.rag.rerank`) with one constant changed at a time.
Prints recall@1 / recall@5 counts per set and summed, so a change can be judged on
every set at once: keep it only if it helps the sum without costing any one set
more than a query or two (and check that what four sets suggest also helps the fifth).

    .venv/bin/python scripts/rag_ablate.py [--packages click,jinja2,requests,rich,packaging]

Run it on tuning sets only: a blind set (see each file's header) is measured once
with scripts/bench_rag.py after the ranking is frozen, and httpx is held out.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_rag import QUERY_DIR, _hit, load_queries

from deepcode_tui.rag import index as ix
from deepcode_tui.rag import rerank as rr
from deepcode_tui.rag.embeddings import load_default_embedder
from deepcode_tui.rag.sources import resolve_sources

TUNING_SETS = ("click", "jinja2", "requests", "rich", "packaging")
_NEVER = re.compile(r"(?!x)x")
# (label, module, attribute, value): one constant or rule switched off per row.
VARIANTS: list[tuple[str, object, str, object]] = [
    ("no kind penalty", rr, "KIND_FACTOR", 1.0),
    ("no exception penalty", rr, "EXCEPTION_FACTOR", 1.0),
    ("no private penalty", rr, "PRIVATE_FACTOR", 1.0),
    ("no dunder rule", rr, "DUNDER_FACTOR", 1.0),
    ("no member swap", rr, "MEMBER_RATIO", 1.01),
    ("no lead clause", rr, "_LEAD_CLAUSE", _NEVER),
    ("no label", rr, "_LABEL", _NEVER),
    ("bm25 weight 0.6", ix, "BM25_WEIGHT", 0.6),
    ("bm25 weight 0.8", ix, "BM25_WEIGHT", 0.8),
]

Prepared = list[tuple[dict, list[tuple[int, float]], list[tuple[int, float]]]]


def prepare(index: ix.CodeIndex, queries: list[dict]) -> Prepared:
    """Each query with its BM25 and embedding candidates (what fusion and rerank read)."""
    st = index._state
    with_emb = index.has_embeddings
    return [(q, index._rank_bm25(st, q["query"], ix.HYBRID_DEPTH),
             index._rank_embeddings(st, q["query"], ix.HYBRID_DEPTH) if with_emb else [])
            for q in queries]


def score(index: ix.CodeIndex, prepared: Prepared) -> tuple[int, int]:
    """(hits at rank 1, hits in the top 5) of the served ranking over ``prepared``."""
    chunks = index._state.chunks
    r1 = r5 = 0
    for q, bm25, emb in prepared:
        top = [chunks[i] for i, _ in rr.rerank(chunks, ix._fuse(bm25, emb), q["query"])[:5]]
        ranks = [n for n, c in enumerate(top) if _hit(c, q)]
        r1 += bool(ranks and ranks[0] == 0)
        r5 += bool(ranks)
    return r1, r5


@contextmanager
def patched(module: object, attr: str, value: object) -> Iterator[None]:
    old = getattr(module, attr)
    setattr(module, attr, value)
    try:
        yield
    finally:
        setattr(module, attr, old)


def table(sets: dict[str, tuple[ix.CodeIndex, Prepared]],
          variants: list[tuple[str, object, str, object]]) -> list[tuple[str, dict[str, tuple[int, int]]]]:
    """Rows of (label, {set: (r1, r5)}): the served ranking first, then each variant."""
    def row(label: str) -> tuple[str, dict[str, tuple[int, int]]]:
        return label, {name: score(index, prep) for name, (index, prep) in sets.items()}

    rows = [row("served")]
    for label, module, attr, value in variants:
        with patched(module, attr, value):
            rows.append(row(label))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packages", default=",".join(TUNING_SETS),
                    help="comma-separated installed packages with a query file in scripts/rag_queries")
    args = ap.parse_args()
    names = [p for p in args.packages.split(",") if p]
    embedder = load_default_embedder("static")
    if embedder is None:
        print("the default embedding model is not installed; install the project's default set-up first")
        return 2
    sets: dict[str, tuple[ix.CodeIndex, Prepared]] = {}
    with tempfile.TemporaryDirectory(prefix="rag-ablate-") as tmp:
        for name in names:
            qpath = QUERY_DIR / f"{name}.jsonl"
            resolved, skipped = resolve_sources([f"pkg:{name}"])
            if skipped or not qpath.is_file():
                why = skipped[0].reason if skipped else f"no query file {qpath}"
                print(f"cannot use {name}: {why}")
                return 2
            index = ix.CodeIndex(Path(tmp) / name, embedder=embedder)
            index.update(resolved)
            sets[name] = (index, prepare(index, load_queries(qpath)))
        sizes = {name: len(prep) for name, (_, prep) in sets.items()}
        print("r@1/r@5 hits per set (" + ", ".join(f"{n} of {k}" for n, k in sizes.items()) + ")")
        for label, res in table(sets, VARIANTS):
            cells = "  ".join(f"{n} {a}/{b}" for n, (a, b) in res.items())
            print(f"{label:22s} {cells}  | sum {sum(a for a, _ in res.values())}/{sum(b for _, b in res.values())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
