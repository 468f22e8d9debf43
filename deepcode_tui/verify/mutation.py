"""Mutation-based confirmation of suspect lines (after the spectrum ranking).

The spectrum (:mod:`.localise`) cannot tell apart lines that ran in exactly
the same tests; a wrong boundary (``<`` for ``<=``, ``n + 1`` for ``n``) sits
on one of them. For the best-ranked lines, small boundary mutants are built
(comparison ``<``/``<=`` and ``>``/``>=`` swaps, integer literals +-1, slice
bounds and ``range()`` arguments +-1) and the failing tests are re-run
against each, inside the sandbox. A mutant that makes every failing test
pass confirms its line (the technique is known as mutation-based fault
localisation, e.g. Metallaxis / MUSE) and also tells the repairer which
edit made the tests pass.

The repo is never changed: a pytest plugin (``-p deepcode_mutate``) swaps
the mutated source in at import time through a meta-path finder. One
sandbox run drives all mutants (one pytest process each, one deadline for
all, results written line by line so a cut-off run still reports what it
tried).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .findings import Finding, Kind

MAX_LINES = 20
MAX_PER_LINE = 6
MAX_MUTANTS = 50
MAX_TESTS = 5

_SWAPS = {ast.Lt: ("<", "<="), ast.LtE: ("<=", "<"), ast.Gt: (">", ">="), ast.GtE: (">=", ">")}


@dataclass(frozen=True)
class LineMutant:
    """Replace the characters ``start:end`` of ``line`` in ``file`` with ``new``."""

    file: str
    line: int
    start: int
    end: int
    old: str
    new: str

    @property
    def edit(self) -> str:
        return f"`{self.old}` -> `{self.new}`"

    def apply(self, source: str) -> str:
        lines = source.splitlines(keepends=True)
        row = lines[self.line - 1]
        lines[self.line - 1] = row[: self.start] + self.new + row[self.end :]
        return "".join(lines)


def _char_col(row: str, byte_col: int) -> int:
    # ast offsets are UTF-8 byte offsets; edits are made on str.
    return len(row.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))


@dataclass(frozen=True)
class SourceIndex:
    """A parsed file, indexed for :func:`line_mutants`: the nodes that start and end
    on one line (by line, in walk order), and the ids of the expressions that are a
    slice bound or one of ``range()``'s first two arguments (whatever their parent spans)."""

    by_line: dict[int, list[ast.AST]]
    bounds: frozenset[int]

    @classmethod
    def of(cls, source: str) -> SourceIndex | None:
        """None when ``source`` does not parse."""
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return None
        by_line: dict[int, list[ast.AST]] = {}
        bounds: set[int] = set()
        for node in ast.walk(tree):
            line = getattr(node, "lineno", None)
            if line is not None and getattr(node, "end_lineno", None) == line:
                by_line.setdefault(line, []).append(node)
            if isinstance(node, ast.Slice):
                bounds.update(id(b) for b in (node.lower, node.upper) if b is not None)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
                bounds.update(id(b) for b in node.args[:2])
        return cls(by_line, frozenset(bounds))


def line_mutants(file: str, source: str, line: int, index: SourceIndex | None = None) -> list[LineMutant]:
    """Boundary mutants of one line (expressions that start and end on it),
    de-duplicated, at most :data:`MAX_PER_LINE`; [] when the source does not parse.
    ``index``: the file's :class:`SourceIndex`, when the caller has one already."""
    rows = source.splitlines()
    if not 0 < line <= len(rows):
        return []
    index = index or SourceIndex.of(source)
    if index is None:
        return []
    nodes = index.by_line.get(line, [])
    row = rows[line - 1]
    on_line = {id(n) for n in nodes}
    out: list[LineMutant] = []

    def add(start_b: int, end_b: int, new: str) -> None:
        start, end = _char_col(row, start_b), _char_col(row, end_b)
        old = row[start:end]
        if old != new:
            out.append(LineMutant(file, line, start, end, old, new))

    def text_of(node: ast.AST) -> str:
        return row.encode("utf-8")[node.col_offset : node.end_col_offset].decode("utf-8", "replace")

    for node in nodes:
        if isinstance(node, ast.Compare):
            prev = node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                if type(op) in _SWAPS and id(prev) in on_line and id(right) in on_line:
                    old, new = _SWAPS[type(op)]
                    gap = row.encode("utf-8")[prev.end_col_offset : right.col_offset].decode("utf-8", "replace")
                    at = gap.find(old)
                    # "<" must not match the first half of "<=".
                    if at >= 0 and (old.endswith("=") or gap[at + 1 : at + 2] != "="):
                        pos = prev.end_col_offset + len(gap[:at].encode("utf-8"))
                        add(pos, pos + len(old), new)
                prev = right
        elif isinstance(node, ast.Constant) and type(node.value) is int and text_of(node).isdigit():
            add(node.col_offset, node.end_col_offset, str(node.value + 1))
            if node.value > 0:
                add(node.col_offset, node.end_col_offset, str(node.value - 1))
        if id(node) in index.bounds and not isinstance(node, ast.Constant):
            seg = text_of(node)
            add(node.col_offset, node.end_col_offset, f"({seg}) + 1")
            add(node.col_offset, node.end_col_offset, f"({seg}) - 1")
    unique = list(dict.fromkeys(out))
    return unique[:MAX_PER_LINE]


def plan_mutants(ranked: Sequence[tuple[str, int, float]], read: Callable[[str], str | None]) -> list[LineMutant]:
    """Mutants for the spectrum's best-ranked lines, in rank order: at most
    :data:`MAX_LINES` lines that have mutants and :data:`MAX_MUTANTS` mutants.
    ``read(file)`` returns a file's source or None.

    There is no score cut-off: a wrong boundary in a line that also runs in
    passing tests (it misbehaves only on some inputs) scores below lines that
    run only in failing tests, so it is often a few places down the ranking."""
    # Each file is read and parsed once, however many of its lines are ranked.
    indexed: dict[str, tuple[str, SourceIndex] | None] = {}
    out: list[LineMutant] = []
    lines = 0
    for file, line, score in ranked:
        if score <= 0 or lines >= MAX_LINES or len(out) >= MAX_MUTANTS:
            break
        if file not in indexed:
            source = read(file)
            index = SourceIndex.of(source) if source else None
            indexed[file] = (source, index) if index is not None else None
        if indexed[file] is None:
            continue
        source, index = indexed[file]
        found = line_mutants(file, source, line, index)
        if found:
            lines += 1
            out += found[: MAX_MUTANTS - len(out)]
    return out


def driver_spec(mutants: Sequence[LineMutant], tests: Sequence[str], *, python: str, root: str,
                per_mutant_timeout_s: float, budget_s: float, out: str) -> str:
    """The JSON the in-sandbox driver reads (paths as seen inside the sandbox)."""
    return json.dumps({
        "python": python, "root": root, "tests": list(tests)[:MAX_TESTS], "out": out,
        "per_mutant_timeout_s": per_mutant_timeout_s, "budget_s": budget_s,
        "mutants": [{"id": i, "file": m.file, "line": m.line, "start": m.start, "end": m.end, "new": m.new}
                    for i, m in enumerate(mutants)],
    })


def confirmed(mutants: Sequence[LineMutant], results_jsonl: str, failing: int) -> list[Finding]:
    """Findings for lines with a mutant that made every failing test pass (the
    driver's ``fixed``), in mutant order, one per line."""
    rerun = min(failing, MAX_TESTS)
    tests = (f"the {failing} failing test{'s' if failing != 1 else ''}" if rerun == failing
             else f"the {rerun} failing tests re-run (of {failing})")
    out: list[Finding] = []
    seen: set[tuple[str, int]] = set()
    for raw in results_jsonl.splitlines():
        try:
            rec = json.loads(raw)
            m = mutants[int(rec["id"])]
        except (ValueError, KeyError, IndexError, TypeError):
            continue  # a torn last line when the deadline cut the driver off
        if not rec.get("fixed") or (m.file, m.line) in seen:
            continue
        seen.add((m.file, m.line))
        out.append(Finding(file=m.file, line=m.line, kind=Kind.SUSPECT_LINE, stage="sandbox", severity="warning",
                           message=f"changing {m.edit} on this line makes {tests} pass "
                                   "(mutation analysis; other tests not re-run): the likely cause"))
    return out


# Written into the sandbox helpers directory; loaded with ``-p deepcode_mutate``.
PLUGIN_SOURCE = '''\
"""deepcode-tui: import one module of the repo with a single-line edit (mutation analysis)."""
import importlib.abc
import importlib.machinery
import json
import os
import sys

_SPEC = json.loads(os.environ.get("DEEPCODE_MUTANT") or "null")


class _Loader(importlib.machinery.SourceFileLoader):
    def get_code(self, fullname):
        # Never the cached bytecode: it is the unmutated file's.
        with open(self.path, encoding="utf-8") as fh:
            lines = fh.read().splitlines(keepends=True)
        row = lines[_SPEC["line"] - 1]
        lines[_SPEC["line"] - 1] = row[:_SPEC["start"]] + _SPEC["new"] + row[_SPEC["end"]:]
        return compile("".join(lines), self.path, "exec", dont_inherit=True)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.origin and os.path.realpath(spec.origin) == _TARGET:
            spec.loader = _Loader(name, spec.origin)
        return spec


if _SPEC:
    _TARGET = os.path.realpath(os.path.join(os.environ.get("DEEPCODE_MUTANT_ROOT", "."), _SPEC["file"]))
    sys.meta_path.insert(0, _Finder())
'''

# Run inside the sandbox: one pytest process per mutant, one deadline for all.
DRIVER_SOURCE = '''\
"""deepcode-tui: run the failing tests against each mutant; one JSON line per mutant."""
import json
import os
import subprocess
import sys
import time

spec = json.load(open(sys.argv[1]))
deadline = time.monotonic() + spec["budget_s"]
env = dict(os.environ, DEEPCODE_MUTANT_ROOT=spec["root"])
with open(spec["out"], "w") as out:
    for m in spec["mutants"]:
        left = deadline - time.monotonic()
        if left < 1:
            break
        env["DEEPCODE_MUTANT"] = json.dumps(m)
        argv = [spec["python"], "-m", "pytest", "-q", "-x", "--tb=no", "-p", "deepcode_mutate", *spec["tests"]]
        try:
            proc = subprocess.run(argv, env=env, cwd=spec["root"], capture_output=True,
                                  timeout=min(left, spec["per_mutant_timeout_s"]))
            fixed = proc.returncode == 0
        except subprocess.TimeoutExpired:
            fixed = False
        out.write(json.dumps({"id": m["id"], "fixed": fixed}) + "\\n")
        out.flush()
        if fixed:
            break
'''
