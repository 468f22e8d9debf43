"""CodeMem benchmark: oracle replay on real code nobody here wrote.

Takes the source tree of installed packages (default: textual + rich, offline),
treats its modules as "generated" in import-dependency order, builds memory
entries as the generation loop would, and prints for N = 10, 30, 100, 300:

  (a) context tokens per step with CodeMem vs the naive full history (all
      prior files' code) and their ratio (target at N >= 100: < 10 %, growing
      sub-linearly);
  (b) interface extraction agreement with Python's ``ast`` on every public
      class, method, function (with signature), constant and ``__all__``
      (target >= 99 %);
  (c) dependency-edge agreement with ``ast`` imports (target >= 99 %), both
      the raw import statements and the edges resolved to project files;
  (d) throughput in files per second.

Run: .venv/bin/python scripts/bench_codemem.py [--packages textual rich] [--budget 12000]
"""

from __future__ import annotations

import argparse
import ast
import math
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from deepcode_tui.codegen import oracle
from deepcode_tui.codegen.context import DEFAULT_BUDGET_TOKENS, SYSTEM_PROMPT, assemble_context, spec_text
from deepcode_tui.codegen.memory import MemoryStore, extract_entry
from deepcode_tui.codegen.plan import CodegenPlan, PlannedFile
from deepcode_tui.codegen.resolve import ModuleIndex
from deepcode_tui.tokens import count_tokens

SIZES = (10, 30, 100, 300)


def site_packages() -> Path:
    import textual

    return Path(textual.__file__).resolve().parent.parent


def oracle_plan(root: Path, files: list[str], codes: dict[str, str]) -> CodegenPlan:
    """A plan as a blueprint would state it, derived from the real code with ``ast``."""
    planned: dict[str, PlannedFile] = {}
    deps: dict[str, list[str]] = {}
    for f in files:
        tree = ast.parse(codes[f])
        doc = (ast.get_docstring(tree) or "").strip().split("\n\n")[0].replace("\n", " ")
        purpose = doc.split(". ")[0][:200] or f"Module {f[:-3].replace('/', '.')}."
        public = [
            n.name
            for n in tree.body
            if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and not n.name.startswith("_")
        ]
        d: list[str] = []
        symbols: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    t = oracle.resolve_on_disk(root, f, 0, a.name, None)
                    if t and t != f and t not in d:
                        d.append(t)
            elif isinstance(node, ast.ImportFrom):
                for a in node.names:
                    t = oracle.resolve_on_disk(root, f, node.level, node.module or "", a.name)
                    if t and t != f and t not in d:
                        d.append(t)
                    if t and a.name != "*" and not t.endswith(f"/{a.name}.py"):
                        symbols.append(a.name)
        deps[f] = d
        spec = "Public API: " + ", ".join(public[:60]) if public else "Module-level code."
        planned[f] = PlannedFile(
            path=f, purpose=purpose, dependencies=d, spec=spec, symbols=list(dict.fromkeys(symbols))
        )
    users: dict[str, list[str]] = {f: [] for f in files}
    for f, ds in deps.items():
        for t in ds:
            if t in users:
                users[t].append(f)
    for f, pf in planned.items():
        pf.consumers = users[f]
    return CodegenPlan(
        summary="Replay of an existing Python code base: terminal UI framework and rich text "
        "rendering library, written module by module.",
        files=list(planned.values()),
    )


def replay(plan: CodegenPlan, order: list[PlannedFile], codes: dict[str, str], budget: int) -> dict:
    """Generate ``order`` as the loop would (the code comes from disk instead of a model)."""
    sub = CodegenPlan(
        summary=plan.summary,
        files=[
            pf.model_copy(
                update={
                    "dependencies": [d for d in pf.dependencies if d in {o.path for o in order}],
                    "consumers": [c for c in pf.consumers if c in {o.path for o in order}],
                }
            )
            for pf in order
        ],
    )
    files = sub.paths()
    index = ModuleIndex(files)
    base_instr = count_tokens(SYSTEM_PROMPT)
    summary_t = count_tokens(sub.summary)
    codemem, naive, uncapped, dropped_steps = [], [], [], 0
    prior_code = 0
    with tempfile.TemporaryDirectory() as run_dir:
        store = MemoryStore(Path(run_dir))
        elapsed = 0.0
        for pf in sub.order():
            t0 = time.perf_counter()
            ctx = assemble_context(pf, sub, store, budget_tokens=budget)
            code = codes[pf.path]
            entry = extract_entry(
                pf.path, code, project_files=index, purpose=pf.purpose, consumers=sub.consumers_of(pf.path)
            )
            store.append(entry)
            elapsed += time.perf_counter() - t0  # the loop's own work per file, minus the model call
            codemem.append(ctx.meter.total)
            dropped_steps += bool(ctx.meter.dropped or ctx.meter.truncated)
            base = base_instr + summary_t + count_tokens(spec_text(pf))
            naive.append(base + prior_code)
            uncapped.append(assemble_context(pf, sub, store, budget_tokens=10**9).meter.total)
            prior_code += count_tokens(code)
    return {
        "codemem": codemem,
        "naive": naive,
        "uncapped": uncapped,
        "dropped": dropped_steps,
        "elapsed": elapsed,
        "deps": mean([len(pf.dependencies) for pf in sub.files]),
    }


def closed_subset(order: list[PlannedFile], n: int) -> list[PlannedFile]:
    """About ``n`` files closed under imports, grown from the highest-level modules down.

    A prefix of the topological order is mostly leaves (few imports); a closed
    subset around top-level modules looks more like a real N-file project.
    """
    by_path = {pf.path: pf for pf in order}

    def closure(p: str) -> set[str]:
        seen, stack = set(), [p]
        while stack:
            x = stack.pop()
            if x in seen or x not in by_path:
                continue
            seen.add(x)
            stack.extend(by_path[x].dependencies)
        return seen

    chosen: set[str] = set()
    for pf in reversed(order):
        if pf.path in chosen:
            continue
        grown = chosen | closure(pf.path)
        if len(grown) <= n:
            chosen = grown
        if len(chosen) == n:
            break
    for pf in order:  # top up with files whose imports are all in already (stays closed)
        if len(chosen) >= n:
            break
        if pf.path not in chosen and all(d in chosen for d in pf.dependencies if d in by_path):
            chosen.add(pf.path)
    for pf in order:  # import cycles can block the above: then fill in dependency order
        if len(chosen) >= n:
            break
        chosen.add(pf.path)
    return [pf for pf in order if pf.path in chosen]


def mean(xs: list[int]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packages", nargs="+", default=["textual", "rich"])
    ap.add_argument("--budget", type=int, default=DEFAULT_BUDGET_TOKENS)
    args = ap.parse_args()

    root = site_packages()
    files, codes = [], {}
    for pkg in args.packages:
        for p in sorted((root / pkg).rglob("*.py")):
            rel = p.relative_to(root).as_posix()
            code = p.read_text(encoding="utf-8", errors="replace")
            try:
                ast.parse(code)
            except SyntaxError:
                continue
            files.append(rel)
            codes[rel] = code
    print(f"source tree: {root} packages={' '.join(args.packages)} files={len(files)}")
    code_tokens = {f: count_tokens(codes[f]) for f in files}
    print(f"code tokens: total={sum(code_tokens.values())} mean/file={mean(list(code_tokens.values())):.0f}")

    plan = oracle_plan(root, files, codes)
    order = plan.order()

    # (a) context tokens, (d) throughput
    print(f"\n(a) context tokens per step, CodeMem (budget {args.budget}) vs naive full history")
    print(
        "     (uncapped: the same selection with no budget; steps cut: steps where the budget dropped or "
        "shortened a part; files/s: whole replay step incl. select, context, extract, persist;\n"
        "      deps/file: project files each file imports, within the first N)"
    )
    print(
        f"{'N':>5} {'CodeMem mean':>13} {'uncapped':>9} {'naive mean':>11} {'ratio':>7} "
        f"{'last CodeMem':>13} {'last naive':>11} {'steps cut':>9} {'files/s':>8} {'deps/file':>9}"
    )
    rows = {}
    for n in SIZES:
        if n > len(order):
            print(f"{n:>5} (only {len(order)} files)")
            continue
        r = replay(plan, order[:n], codes, args.budget)
        ratio = sum(r["codemem"]) / sum(r["naive"])
        rows[n] = (mean(r["codemem"]), mean(r["naive"]), ratio)
        print(
            f"{n:>5} {mean(r['codemem']):>13.0f} {mean(r['uncapped']):>9.0f} {mean(r['naive']):>11.0f} "
            f"{ratio:>7.1%} {r['codemem'][-1]:>13} {r['naive'][-1]:>11} {r['dropped']:>9} "
            f"{n / r['elapsed']:>8.1f} {r['deps']:>9.2f}"
        )
    print(
        "\n    the same on subsets grown from top-level modules, closed under imports except across import cycles:"
    )
    closed_rows = {}
    for n in SIZES:
        subset = closed_subset(order, n)
        r = replay(plan, subset, codes, args.budget)
        ratio = sum(r["codemem"]) / sum(r["naive"])
        closed_rows[n] = (mean(r["codemem"]), mean(r["naive"]), ratio, len(subset))
        print(
            f"{len(subset):>5} {mean(r['codemem']):>13.0f} {mean(r['uncapped']):>9.0f} {mean(r['naive']):>11.0f} "
            f"{ratio:>7.1%} {r['codemem'][-1]:>13} {r['naive'][-1]:>11} {r['dropped']:>9} "
            f"{len(subset) / r['elapsed']:>8.1f} {r['deps']:>9.2f}"
        )
    ns = sorted(rows)
    if len(ns) >= 2:
        lo, hi = ns[0], ns[-1]
        slope_c = math.log(rows[hi][0] / rows[lo][0]) / math.log(hi / lo)
        slope_n = math.log(rows[hi][1] / rows[lo][1]) / math.log(hi / lo)
        print(
            f"growth exponent of mean tokens/step from N={lo} to N={hi}: CodeMem {slope_c:.2f}, "
            f"naive {slope_n:.2f} (1.0 = linear)"
        )
        big = [n for n in ns if n >= 100]
        slope_k = math.log(closed_rows[hi][0] / closed_rows[lo][0]) / math.log(
            closed_rows[hi][3] / closed_rows[lo][3]
        )
        print(f"  closed subsets: CodeMem {slope_k:.2f}")
        ok = all(rows[n][2] < 0.10 and closed_rows[n][2] < 0.10 for n in big) and max(slope_c, slope_k) < 1.0
        print(f"target ratio < 10% at N >= 100 and sub-linear growth: {'PASS' if ok else 'FAIL'}")

    # (b) interface and (c) edges agreement with ast, over the whole tree
    index = ModuleIndex(files)
    im = it = em = et = rm = rt = 0
    t0 = time.perf_counter()
    entries = {f: extract_entry(f, codes[f], project_files=index) for f in files}
    extract_rate = len(files) / (time.perf_counter() - t0)
    for f in files:
        e = entries[f]
        x, y = oracle.agreement(
            oracle.interface_items(oracle.ast_interface(codes[f])),
            oracle.interface_items(oracle.entry_interface(e)),
        )
        im, it = im + x, it + y
        x, y = oracle.agreement(oracle.ast_imports(codes[f]), oracle.entry_imports(e))
        em, et = em + x, et + y
        ref = {
            oracle.resolve_on_disk(root, f, lvl, mod, name) for lvl, mod, name in oracle.ast_imports(codes[f])
        }
        ref = {r for r in ref if r in entries and r != f}  # other installed packages are external here
        x, y = oracle.agreement(ref, set(e.depends_on))
        rm, rt = rm + x, rt + y
    print(
        f"\n(b) interface agreement with ast: {im}/{it} items = {im / it:.2%} "
        f"(classes+bases, methods, functions with signatures, constants, __all__) "
        f"{'PASS' if im / it >= 0.99 else 'FAIL'}"
    )
    print(
        f"(c) import agreement with ast: {em}/{et} import statements = {em / et:.2%} "
        f"{'PASS' if em / et >= 0.99 else 'FAIL'}; "
        f"resolved project edges vs a filesystem resolver: {rm}/{rt} = {rm / rt:.2%}"
    )
    print(
        f"(d) throughput: extraction alone {extract_rate:.0f} files/s; full replay step "
        f"(select + context + extract + persist) in the table above"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
