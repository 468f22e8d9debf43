#!/usr/bin/env python
"""CodeRAG retrieval benchmark on a real repository nobody here wrote.

Indexes the installed source of a package (default: rich, read from site-packages)
and runs a labelled query set (scripts/rag_queries/<package>.jsonl: spec-like
descriptions written from the package's docs and docstrings; answer = file + symbol).
Prints recall@1 / recall@5 for BM25, embeddings and hybrid, index throughput and
query latency p50. Embedding rows need the [embeddings] extra; without it they say so.

    .venv/bin/python scripts/bench_rag.py [--package rich] [--no-embeddings]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepcode_tui.rag.embeddings import load_default_embedder
from deepcode_tui.rag.index import CodeIndex, SearchMode
from deepcode_tui.rag.sources import resolve_sources

QUERY_DIR = Path(__file__).resolve().parent / "rag_queries"


def load_queries(package: str) -> list[dict]:
    path = QUERY_DIR / f"{package}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for r in rows:
        assert {"query", "file", "symbol"} <= r.keys(), r
    return rows


def evaluate(index: CodeIndex, queries: list[dict], mode: SearchMode) -> dict[str, float]:
    r1 = r5 = 0
    lat: list[float] = []
    misses: list[str] = []
    for q in queries:
        t = time.perf_counter()
        hits = index.search(q["query"], k=5, mode=mode)
        lat.append(time.perf_counter() - t)
        ranks = [i for i, h in enumerate(hits) if h.chunk.path == q["file"] and h.chunk.symbol == q["symbol"]]
        if ranks and ranks[0] == 0:
            r1 += 1
        if ranks:
            r5 += 1
        else:
            misses.append(f"{q['file']}::{q['symbol']} (top: {hits[0].chunk.location if hits else '-'})")
    n = len(queries)
    return {"r1": r1 / n, "r5": r5 / n, "p50_ms": statistics.median(lat) * 1000, "misses": misses}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--package", default="rich")
    ap.add_argument("--no-embeddings", action="store_true")
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args()

    queries = load_queries(args.package)
    resolved, skipped = resolve_sources([f"pkg:{args.package}"])
    if skipped:
        print(f"cannot index {args.package}: {skipped[0].reason} ({skipped[0].fix})")
        return 2
    src = resolved[0]
    embedder = None if args.no_embeddings else load_default_embedder()

    with tempfile.TemporaryDirectory(prefix="bench-rag-") as tmp:
        # BM25-only build: parsing + chunking + tokenising + bm25s + persisting.
        t = time.perf_counter()
        bm25_index = CodeIndex(Path(tmp) / "bm25", embedder=None)
        stats = bm25_index.update(resolved)
        bm25_s = time.perf_counter() - t
        t = time.perf_counter()
        again = CodeIndex(Path(tmp) / "bm25", embedder=None).update(resolved)
        noop_s = time.perf_counter() - t

        print(f"repository: {args.package} {src.revision or ''} at {src.root}")
        print(f"queries: {len(queries)} (scripts/rag_queries/{args.package}.jsonl)")
        print(f"indexed: {stats.files} files, {stats.chunks} chunks")
        print(f"index throughput (bm25): {stats.files / bm25_s:.1f} files/s ({bm25_s:.2f} s)")
        print(f"incremental re-update, nothing changed: {noop_s * 1000:.0f} ms "
              f"({again.files_changed} files re-parsed)")

        results: dict[str, dict] = {"bm25": evaluate(bm25_index, queries, "bm25")}
        if embedder is not None:
            t = time.perf_counter()
            embedder.encode(["warm up"])  # model load, reported apart from indexing
            load_s = time.perf_counter() - t
            t = time.perf_counter()
            full = CodeIndex(Path(tmp) / "full", embedder=embedder)
            fstats = full.update(resolved)
            full_s = time.perf_counter() - t
            print(f"embedding model: {embedder.name}, load {load_s:.1f} s")
            print(f"index throughput (bm25 + embeddings): {fstats.files / full_s:.1f} files/s ({full_s:.1f} s)")
            results["embeddings"] = evaluate(full, queries, "embeddings")
            results["hybrid"] = evaluate(full, queries, "hybrid")
        else:
            print("embeddings: not measured ([embeddings] extra not installed or --no-embeddings); "
                  "hybrid falls back to BM25")

    print(f"\n{'mode':<11}{'recall@1':>10}{'recall@5':>10}{'p50 ms':>9}")
    for mode, r in results.items():
        print(f"{mode:<11}{r['r1']:>10.3f}{r['r5']:>10.3f}{r['p50_ms']:>9.1f}")
    for mode in ("embeddings", "hybrid"):
        if mode not in results:
            print(f"{mode:<11}{'n/a':>10}{'n/a':>10}{'n/a':>9}")
    if "hybrid" in results:
        ok = results["hybrid"]["r5"] >= 0.8
        print(f"\nhybrid recall@5 target >= 0.8: {'met' if ok else 'NOT met'}")
    if args.show_misses:
        for mode, r in results.items():
            for m in r["misses"]:
                print(f"miss[{mode}]: {m}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
