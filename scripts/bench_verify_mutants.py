"""Bug generators for scripts/bench_verify.py: each yields mutants of one class
(the whole mutated file, the lines where a finding counts as located)."""

from __future__ import annotations

import ast
import random
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

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


def _is_test(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py" or "/tests/" in f"/{rel}"


def sources(base: Path, pkg_dir: str) -> dict[str, str]:
    """The package's own modules (tests shipped inside the package left out)."""
    out = {}
    for p in sorted((base / pkg_dir).rglob("*.py")):
        rel = p.relative_to(base).as_posix()
        if not _is_test(rel):
            out[rel] = p.read_text(errors="replace")
    return out


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


def gen_arity(rel, text, tree, rng, defs, root: PurePosixPath | None = None):
    """Calls of a function defined in another module of the package (no defaults, no
    ``*args``), through ``from m import f`` or a module alias (``from pkg import m``):
    one mutant passes an extra argument, one drops the last."""
    imported: dict[str, str] = {}  # name -> module defining it
    modules: dict[str, str] = {}  # alias -> module
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or node.level):
            module = node.module or ""
            if node.level:  # ``from .recipes import x``: relative to this module's package
                here = PurePosixPath(rel).relative_to(root or PurePosixPath(".")).with_suffix("").parts[:-1]
                base = here[: len(here) - node.level + 1]
                module = ".".join([*base, *([module] if module else [])])
            for a in node.names:
                imported[a.asname or a.name] = module
                modules[a.asname or a.name] = f"{module}.{a.name}"
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
        if not mod or str((root or PurePosixPath(".")) / (mod.replace(".", "/") + ".py")) == rel:
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


def gen_cli(base, srcs, tests, rng):
    """Flags declared with argparse in the package and passed by its tests: the
    declaration misspelt, or the test's use of it (nothing when the package has no
    argparse CLI its tests drive)."""
    used = {f for t in tests.values() for f in re.findall(r"""['"](--[a-z_]{4,})['"]""", t)}
    declared = set()
    for cli_rel, text in srcs.items():
        if "add_argument" not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
                for c in node.args:
                    if isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value in used:
                        declared.add(c.value)
                        new = _swap(c.value[2:], rng)
                        if new:
                            mutated = _replace_at(text, c.lineno, c.col_offset + 1, c.value, "--" + new)
                            if mutated:
                                yield Mutant("wrong_cli_flag", cli_rel, mutated, {c.lineno},
                                             f"declared {c.value} as --{new}")
    for rel, t in tests.items():
        for i, row in enumerate(t.splitlines(), 1):
            for m in re.finditer(r"""(['"])(--[a-z_]{4,})\1""", row):
                if m.group(2) not in declared:
                    continue
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


def all_mutants(base: Path, pkg_dir: str, test_dir: str, rng: random.Random) -> dict[str, list[Mutant]]:
    srcs = sources(base, pkg_dir)
    tests = {p.relative_to(base).as_posix(): p.read_text(errors="replace")
             for p in sorted((base / test_dir).rglob("test*.py"))}
    trees = {rel: ast.parse(t) for rel, t in srcs.items()}
    defs = set()
    root = PurePosixPath(pkg_dir).parent
    for rel, tree in trees.items():
        mod = str(PurePosixPath(rel).relative_to(root))[:-3].replace("/", ".").removesuffix(".__init__")
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.args.vararg and not node.args.defaults:
                defs.add((mod, node.name))
    out: dict[str, list[Mutant]] = {c: [] for c in CLASSES}
    for rel, text in srcs.items():
        tree = trees[rel]
        out["misspelt_name"] += gen_misspelt(rel, text, tree, rng)
        out["missing_import"] += gen_missing_import(rel, text, tree, rng)
        out["wrong_arity"] += gen_arity(rel, text, tree, rng, defs, root)
        out["undeclared_dependency"] += list(gen_undeclared(rel, text, tree, rng))[:1]
        out["syntax_error"] += gen_syntax(rel, text, tree, rng)
        out["off_by_one"] += gen_off_by_one(rel, text, tree, rng)
    out["wrong_cli_flag"] += gen_cli(base, srcs, tests, rng)
    # One shuffle stream per class, so a change to one class's generator leaves the
    # other classes' samples as they were.
    seeds = {c: rng.getrandbits(64) for c in CLASSES}
    for c, items in out.items():
        random.Random(seeds[c]).shuffle(items)
    return out
