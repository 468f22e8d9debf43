#!/usr/bin/env python
"""Bug-injection benchmark for the verification phase (no model involved).

Takes a real multi-file pure-Python project with its own tests, written by
nobody here (sqlparse's sdist, downloaded with pip at run time into a temp
dir, never committed), injects bugs of each class one at a time, runs the
static pass and the sandboxed test suite, and prints per class and per stage
the share of bugs detected and the share located at the injected file and
line. Also prints the per-run overhead of each sandbox backend.

    .venv/bin/python scripts/bench_verify.py [--per-class 5] [--seed 7] [--backend auto]

Classes: misspelt name, missing import, wrong arity across files (an extra
argument, or the last one dropped, in a call of another module's function), undeclared
dependency, wrong CLI flag (declaration side and use side), syntax error,
off-by-one caught by a test. The static stage includes CodeMem's consistency
check run on the mutated repository; the sandbox stage includes the
suspect-line stage (spectrum-based ranking of the whole test selection, then
mutation analysis re-running the failing tests against boundary mutants of
the best-ranked lines); what the spectrum alone locates, with and without its
tie-breaking prior, is printed alongside.
Mutants of the classes that only a test can
reveal (arity, CLI flag, off-by-one) are kept only if the project's own
tests fail on them; the others are kept whatever the tests do. The number of
discarded mutants is printed.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepcode_tui.verify.execution import PYTEST_ARGV, SandboxSession, VerifyCommand  # noqa: E402
from deepcode_tui.findings import Finding  # noqa: E402
from deepcode_tui.verify.localise import suspects as rank_suspects  # noqa: E402
from deepcode_tui.verify.sandbox import Limits, choose_backend, make_backend  # noqa: E402
from deepcode_tui.verify.sandbox.base import BASE_ENV  # noqa: E402
from deepcode_tui.verify.sandbox.process import run_process  # noqa: E402
from deepcode_tui.verify.static import run_static_checks  # noqa: E402

PROJECT = "sqlparse==0.5.3"
PKG = "sqlparse"
THIRD_PARTY = ["yaml", "requests", "attr", "dateutil", "tabulate", "numpy"]
CLASSES = ["misspelt_name", "missing_import", "wrong_arity", "undeclared_dependency", "wrong_cli_flag",
           "syntax_error", "off_by_one"]
NEEDS_TEST = {"wrong_arity", "wrong_cli_flag", "off_by_one"}


@dataclass
class Mutant:
    cls: str
    file: str
    text: str  # the whole mutated file
    expected: set[int]  # lines where a finding counts as located
    what: str
    extra: dict = field(default_factory=dict)


# -- the project -------------------------------------------------------------------------------
def fetch_project(work: Path) -> Path:
    dl = work / "sdist"
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
                           "--disable-pip-version-check", "-q", PROJECT, "-d", str(dl)],
                          capture_output=True, text=True, timeout=300)
    archives = list(dl.glob("*.tar.gz"))
    if proc.returncode != 0 or not archives:
        sys.exit(f"could not download {PROJECT}: {proc.stderr.strip()[-300:]}")
    with tarfile.open(archives[0]) as tf:
        tf.extractall(dl, filter="data")
    src = next(p for p in dl.iterdir() if p.is_dir())
    base = work / "base"
    base.mkdir()
    for name in (PKG, "tests", "pyproject.toml"):
        (shutil.copytree if (src / name).is_dir() else shutil.copy)(src / name, base / name)
    return base


def sources(base: Path) -> dict[str, str]:
    return {p.relative_to(base).as_posix(): p.read_text() for p in sorted((base / PKG).rglob("*.py"))}


def _swap(name: str, rng: random.Random) -> str | None:
    inner = [i for i in range(1, len(name) - 2) if name[i] != name[i + 1] and name[i].isalpha()
             and name[i + 1].isalpha()]
    if not inner:
        return None
    i = rng.choice(inner)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def _replace_at(text: str, line: int, col: int, old: str, new: str) -> str | None:
    lines = text.splitlines(keepends=True)
    row = lines[line - 1]
    if row[col : col + len(old)] != old:
        return None
    lines[line - 1] = row[:col] + new + row[col + len(old) :]
    return "".join(lines)


# -- mutant generators -------------------------------------------------------------------------
def gen_misspelt(rel, text, tree, rng):
    defined = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | set(dir(__builtins__))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and len(node.id) >= 5:
            new = _swap(node.id, rng)
            if new and new not in defined and new not in text:
                mutated = _replace_at(text, node.lineno, node.col_offset, node.id, new)
                if mutated:
                    yield Mutant("misspelt_name", rel, mutated, {node.lineno}, f"{node.id} -> {new}")


def _global_loads(tree: ast.AST, name: str) -> list[int]:
    """Lines loading ``name`` as a module-level name: not where a function's own
    parameter or assignment shadows it."""
    out: list[int] = []

    def local_names(func) -> set[str]:
        a = func.args
        names = {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, *filter(None, [a.vararg, a.kwarg])]}
        body = func.body if isinstance(func.body, list) else [func.body]
        for stmt in body:
            for n in ast.walk(stmt):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                    names.add(n.id)
        return names

    def visit(node, shadowed: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            shadowed = shadowed or name in local_names(node)
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load) and not shadowed:
            out.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, shadowed)

    visit(tree, False)
    return sorted(set(out))


def gen_missing_import(rel, text, tree, rng):
    lines = text.splitlines()
    for node in tree.body:
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or node.lineno != node.end_lineno:
            continue
        if len(node.names) != 1 or node.names[0].name == "*":
            continue
        alias = node.names[0]
        bound = alias.asname or alias.name.split(".")[0]
        uses = _global_loads(tree, bound)
        if not uses:
            continue
        mutated = lines[:]
        mutated[node.lineno - 1] = "# import removed by the benchmark"
        yield Mutant("missing_import", rel, "\n".join(mutated) + "\n", {node.lineno, *uses},
                     f"removed `{lines[node.lineno - 1].strip()}`")


def gen_arity(rel, text, tree, rng, defs):
    """Calls of a function defined in another module of the package (no defaults, no
    ``*args``), through ``from m import f`` or a module alias (``from pkg import m``):
    one mutant passes an extra argument, one drops the last."""
    imported: dict[str, str] = {}  # name -> module defining it
    modules: dict[str, str] = {}  # alias -> module
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                imported[a.asname or a.name] = node.module
                modules[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    modules[a.asname] = a.name
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.lineno == node.end_lineno):
            continue
        if isinstance(node.func, ast.Name):
            mod, name = imported.get(node.func.id), node.func.id
        elif isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            mod, name = modules.get(node.func.value.id), node.func.attr
        else:
            continue
        if not mod or (mod.replace(".", "/") + ".py") == rel:
            continue
        if (mod, name) not in defs or node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            continue
        row = text.splitlines()[node.lineno - 1]
        end = node.end_col_offset - 1
        if row[end] != ")":
            continue
        insert = ", None" if node.args else "None"
        mutated = _replace_at(text, node.lineno, end, ")", insert + ")")
        if mutated:
            yield Mutant("wrong_arity", rel, mutated, {node.lineno}, f"extra argument to {name}() defined in {mod}")
        if node.args:
            last = node.args[-1]
            cut_from = node.args[-2].end_col_offset if len(node.args) > 1 else last.col_offset
            old = row[cut_from : last.end_col_offset]
            mutated = _replace_at(text, node.lineno, cut_from, old, "")
            if mutated:
                yield Mutant("wrong_arity", rel, mutated, {node.lineno},
                             f"dropped the last argument to {name}() defined in {mod}")


def gen_undeclared(rel, text, tree, rng):
    last = max((n.end_lineno for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))), default=0)
    if not last:
        return
    lines = text.splitlines()
    for mod in rng.sample(THIRD_PARTY, len(THIRD_PARTY)):
        mutated = lines[:last] + [f"import {mod}"] + lines[last:]
        yield Mutant("undeclared_dependency", rel, "\n".join(mutated) + "\n", {last + 1}, f"import {mod}")


def gen_cli(base, rng):
    cli_rel = f"{PKG}/cli.py"
    text = (base / cli_rel).read_text()
    tests = {p.relative_to(base).as_posix(): p.read_text() for p in (base / "tests").glob("test_*.py")}
    used = {f for t in tests.values() for f in re.findall(r"""['"](--[a-z_]{4,})['"]""", t)}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
            for c in node.args:
                if isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value in used:
                    new = _swap(c.value[2:], rng)
                    if new:
                        mutated = _replace_at(text, c.lineno, c.col_offset + 1, c.value, "--" + new)
                        if mutated:
                            yield Mutant("wrong_cli_flag", cli_rel, mutated, {c.lineno},
                                         f"declared {c.value} as --{new}")
    for rel, t in tests.items():
        for i, row in enumerate(t.splitlines(), 1):
            for m in re.finditer(r"""(['"])(--[a-z_]{4,})\1""", row):
                new = _swap(m.group(2)[2:], rng)
                if new:
                    mutated = _replace_at(t, i, m.start(2), m.group(2), "--" + new)
                    if mutated:
                        yield Mutant("wrong_cli_flag", rel, mutated, {i}, f"test passes --{new}")


def gen_syntax(rel, text, tree, rng):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.body:
            line = node.lineno
            row = text.splitlines()[line - 1]
            if row.rstrip().endswith(":") and node.body[0].lineno > line:
                yield Mutant("syntax_error", rel, _replace_at(text, line, len(row.rstrip()) - 1, ":", ""),
                             {line}, f"dropped ':' of def {node.name}")
        elif isinstance(node, ast.Call) and node.lineno == node.end_lineno and node.args:
            row = text.splitlines()[node.lineno - 1]
            if row[node.end_col_offset - 1] == ")":
                mutated = _replace_at(text, node.lineno, node.end_col_offset - 1, ")", "")
                if mutated:
                    yield Mutant("syntax_error", rel, mutated, {node.lineno}, "dropped a closing parenthesis")


def gen_off_by_one(rel, text, tree, rng):
    swaps = {ast.Lt: ("<", "<="), ast.LtE: ("<=", "<"), ast.Gt: (">", ">="), ast.GtE: (">=", ">")}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in (0, 1) and type(node.value) is int:
            mutated = _replace_at(text, node.lineno, node.col_offset, str(node.value), str(node.value + 1))
            if mutated:
                yield Mutant("off_by_one", rel, mutated, {node.lineno}, f"{node.value} -> {node.value + 1}")
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in swaps:
            old, new = swaps[type(node.ops[0])]
            row = text.splitlines()[node.lineno - 1]
            if node.lineno != node.left.end_lineno:
                continue
            seg_start = node.left.end_col_offset
            idx = row.find(old, seg_start)
            if idx >= 0 and row[idx : idx + 2] in (old, old + " ", old + "=") and (old == "<=" or row[idx + 1] != "="):
                mutated = _replace_at(text, node.lineno, idx, old, new)
                if mutated:
                    yield Mutant("off_by_one", rel, mutated, {node.lineno}, f"{old} -> {new}")


def all_mutants(base: Path, rng: random.Random) -> dict[str, list[Mutant]]:
    srcs = sources(base)
    trees = {rel: ast.parse(t) for rel, t in srcs.items()}
    defs = set()
    for rel, tree in trees.items():
        mod = rel[:-3].replace("/", ".").removesuffix(".__init__")
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.args.vararg and not node.args.defaults:
                defs.add((mod, node.name))
    out: dict[str, list[Mutant]] = {c: [] for c in CLASSES}
    for rel, text in srcs.items():
        tree = trees[rel]
        out["misspelt_name"] += gen_misspelt(rel, text, tree, rng)
        out["missing_import"] += gen_missing_import(rel, text, tree, rng)
        out["wrong_arity"] += gen_arity(rel, text, tree, rng, defs)
        out["undeclared_dependency"] += list(gen_undeclared(rel, text, tree, rng))[:1]
        out["syntax_error"] += gen_syntax(rel, text, tree, rng)
        out["off_by_one"] += gen_off_by_one(rel, text, tree, rng)
    out["wrong_cli_flag"] += gen_cli(base, rng)
    # One shuffle stream per class, so a change to one class's generator leaves the
    # other classes' samples as they were.
    seeds = {c: rng.getrandbits(64) for c in CLASSES}
    for c, items in out.items():
        random.Random(seeds[c]).shuffle(items)
    return out


# -- measuring ---------------------------------------------------------------------------------
def _key(f: Finding) -> tuple:
    return (f.file, f.kind, re.sub(r"\d+", "#", f.message))


async def evaluate(base: Path, work: Path, backend, per_class: int, rng: random.Random) -> None:
    files = [p.relative_to(base).as_posix() for p in (base / PKG).rglob("*.py")]
    baseline = {_key(f) for f in run_static_checks(base, expected_files=files, declared_packages=None)
                if f.severity == "error"}
    cmd = VerifyCommand(name="tests", argv=[*PYTEST_ARGV, "-x", "tests"], timeout_s=120)
    env_dir = work / "sandbox"
    session = SandboxSession(backend, base, env_dir, wheelhouse_from_installed=True, limits=Limits(memory_mb=1024))
    setup = await session.prepare([cmd])
    if setup is not None and not setup.ok:
        sys.exit(f"sandbox setup failed: {setup.result.combined_output()[-500:]}")
    base_run = await session.run(cmd)
    if not base_run.ok:
        sys.exit("the unmodified project's tests fail in the sandbox:\n" + base_run.result.combined_output()[-800:])
    print(f"baseline: {len(baseline)} pre-existing static errors; tests pass in the sandbox "
          f"({base_run.result.duration_s:.1f} s)\n")
    mutants = all_mutants(base, rng)
    rows = []
    for cls in CLASSES:
        kept, discarded = [], 0
        for m in mutants[cls]:
            if len(kept) >= per_class:
                break
            repo = work / "mutant"
            shutil.rmtree(repo, ignore_errors=True)
            shutil.copytree(base, repo)
            (repo / m.file).write_text(m.text)
            static = [f for f in run_static_checks(repo, expected_files=files, declared_packages=None)
                      if f.severity == "error" and _key(f) not in baseline]
            s = SandboxSession(backend, repo, env_dir, wheelhouse_from_installed=True,
                               limits=Limits(memory_mb=1024))
            await s.prepare([cmd])
            outcome = await s.run(cmd)
            if cls in NEEDS_TEST and outcome.ok:
                discarded += 1
                continue
            sandbox = [f for f in outcome.findings if f.severity == "error"]
            suspects = await s.localise(outcome) if not outcome.ok else []
            # Ablations: the same spectra without mutation analysis, and also without the prior.
            sbfl_report = s.env_dir / "sbfl.json"
            traced = suspects and sbfl_report.is_file()
            report_text = sbfl_report.read_text() if traced else ""
            spectrum = rank_suspects(report_text, repo=repo) if traced else []
            plain = rank_suspects(report_text) if traced else []

            def hit(fs):
                return any(f.file == m.file and f.line in m.expected for f in fs)

            kept.append((m, bool(static), hit(static), not outcome.ok, hit(sandbox) or hit(suspects),
                         hit(suspects) and not hit(sandbox), hit(plain) and not hit(sandbox),
                         hit(spectrum) and not hit(sandbox)))
            flag = "ok " if (hit(static) or hit(sandbox) or hit(suspects)) else "MISS"
            where = ", ".join(sorted({f.location for f in static + sandbox + suspects})[:4]) or "nothing"
            print(f"  [{flag}] {cls:22s} {m.file}:{min(m.expected)}  {m.what[:48]:48s} -> {where}")
        rows.append((cls, kept, discarded))
    report(rows)


def pct(a: int, n: int) -> str:
    return f"{100 * a / n:5.1f}%" if n else "   - "


def report(rows) -> None:
    print("\nclass                    n  | static det  loc | sandbox det  loc | any det   loc | discarded")
    tot = [0] * 10
    for cls, kept, discarded in rows:
        n = len(kept)
        sd, sl, xd, xl = (sum(k[i] for k in kept) for i in (1, 2, 3, 4))
        ad = sum(k[1] or k[3] for k in kept)
        al = sum(k[2] or k[4] for k in kept)
        for i, v in enumerate((n, sd, sl, xd, xl, ad, al, sum(k[5] for k in kept), sum(k[6] for k in kept),
                               sum(k[7] for k in kept))):
            tot[i] += v
        print(f"{cls:22s} {n:3d}  | {pct(sd, n)} {pct(sl, n)} | {pct(xd, n)} {pct(xl, n)} | "
              f"{pct(ad, n)} {pct(al, n)} | {discarded} (tests did not catch)" if cls in NEEDS_TEST else
              f"{cls:22s} {n:3d}  | {pct(sd, n)} {pct(sl, n)} | {pct(xd, n)} {pct(xl, n)} | "
              f"{pct(ad, n)} {pct(al, n)} |")
    n = tot[0]
    print(f"{'TOTAL':22s} {n:3d}  | {pct(tot[1], n)} {pct(tot[2], n)} | {pct(tot[3], n)} {pct(tot[4], n)} | "
          f"{pct(tot[5], n)} {pct(tot[6], n)} |")
    det, loc = (tot[5] / n if n else 0), (tot[6] / n if n else 0)
    print(f"(sandbox 'loc' includes {tot[7]} bug(s) located only by the suspect-line stage: a line confirmed by "
          f"mutation analysis, else up to 3 tied spectrum lines; the spectrum alone would locate {tot[9]}, "
          f"and {tot[8]} without its tie-breaking prior)")
    print(f"\ndetected {100 * det:.1f}% (target >= 95%: {'met' if det >= 0.95 else 'NOT met'}); "
          f"located {100 * loc:.1f}% (target >= 90%: {'met' if loc >= 0.90 else 'NOT met'})")


async def overhead(work: Path, runs: int) -> None:
    repo = work / "overhead"
    repo.mkdir(exist_ok=True)
    host = []
    for _ in range(runs):
        t = time.monotonic()
        await run_process(["python3", "-c", "pass"], timeout_s=30, env=BASE_ENV)
        host.append(time.monotonic() - t)
    h = statistics.median(host)
    print(f"\nper-run overhead (median of {runs} runs of `python3 -c pass`; host alone {1000 * h:.0f} ms):")
    for name in ("podman", "bwrap", "subprocess"):
        b = make_backend(name, allow_weak=True)
        ok, reason = b.available()
        if not ok:
            print(f"  {name:10s} unavailable: {reason}")
            continue
        times = []
        for _ in range(runs):
            r = await b.run(["python3", "-c", "pass"], repo=repo, timeout_s=60)
            if not r.ok:
                print(f"  {name:10s} failed: {r.failure_reason()} {r.stderr[-200:]}")
                break
            times.append(r.duration_s)
        if times:
            m = statistics.median(times)
            print(f"  {name:10s} {1000 * m:6.0f} ms per run, {1000 * (m - h):6.0f} ms over the host "
                  f"({b.isolation} isolation)")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-class", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--backend", default="auto", choices=["auto", "podman", "bwrap", "subprocess"])
    ap.add_argument("--overhead-runs", type=int, default=10)
    ap.add_argument("--skip-injection", action="store_true")
    args = ap.parse_args()
    backend, notice = choose_backend(args.backend, allow_weak=args.backend == "subprocess")
    print(notice)
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        work = Path(tmp)
        if not args.skip_injection:
            base = fetch_project(work)
            print(f"project: {PROJECT} ({len(sources(base))} modules, tests from its sdist)")
            await evaluate(base, work, backend, args.per_class, random.Random(args.seed))
        await overhead(work, args.overhead_runs)


if __name__ == "__main__":
    asyncio.run(main())
