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
sandbox run drives all mutants (one pytest run each, forked from a driver
that imported pytest once; one deadline for all, results written line by
line so a cut-off run still reports what it tried).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .findings import Finding, Kind

MAX_LINES = 40
# Lines are tried in bands of this many: a band's boundary mutants, then its other operators.
BAND = 20
MAX_PER_LINE = 10
MAX_MUTANTS = 160
MAX_TESTS = 5
MAX_GUARDS = 100
# A fix checked against fewer other tests than this is weak evidence: the driver tries
# up to LOOK_ON more mutants for another line whose change also fixes the failure.
STRONG_GUARDS = 5
LOOK_ON = 30

_SWAPS = {ast.Lt: ("<", "<="), ast.LtE: ("<=", "<"), ast.Gt: (">", ">="), ast.GtE: (">=", ">")}
# Swapped comparison operators: the token as written, its replacement.
_FLIPS = {ast.Lt: ("<", ">"), ast.LtE: ("<=", ">="), ast.Gt: (">", "<"), ast.GtE: (">=", "<="),
          ast.Eq: ("==", "!="), ast.NotEq: ("!=", "=="), ast.In: ("in", "not in"), ast.NotIn: ("not in", "in"),
          ast.Is: ("is", "is not"), ast.IsNot: ("is not", "is")}


@dataclass(frozen=True)
class LineMutant:
    """Replace the characters ``start:end`` of ``line`` in ``file`` with ``new``.
    ``tier`` 0: a boundary change (the commonest wrong value), tried first on
    every planned line; 1: the other operators, tried after."""

    file: str
    line: int
    start: int
    end: int
    old: str
    new: str
    tier: int = 0

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
    on one line (by line, in walk order), the ids of the expressions that are a
    slice bound or one of ``range()``'s first two arguments (whatever their parent
    spans), of non-literal subscript indexes, and for constants that are elements
    of a literal table (list, tuple, set, dict values) the source of their
    neighbours of the same type; ``tables``: for a line holding an element of a
    literal table that spans several lines, the table's first line."""

    by_line: dict[int, list[ast.AST]]
    bounds: frozenset[int]
    indexes: frozenset[int]
    neighbours: dict[int, tuple[str, ...]]
    tables: dict[int, int]

    @classmethod
    def of(cls, source: str) -> SourceIndex | None:
        """None when ``source`` does not parse."""
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError):
            return None
        rows = source.splitlines()
        by_line: dict[int, list[ast.AST]] = {}
        bounds: set[int] = set()
        indexes: set[int] = set()
        neighbours: dict[int, tuple[str, ...]] = {}
        tables: dict[int, int] = {}
        for node in ast.walk(tree):
            line = getattr(node, "lineno", None)
            if line is not None and getattr(node, "end_lineno", None) == line:
                by_line.setdefault(line, []).append(node)
            if isinstance(node, ast.Slice):
                bounds.update(id(b) for b in (node.lower, node.upper) if b is not None)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
                bounds.update(id(b) for b in node.args[:2])
            elif isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice | ast.Constant | ast.Tuple):
                indexes.add(id(node.slice))
            elif isinstance(node, ast.List | ast.Tuple | ast.Set | ast.Dict):
                elts = node.values if isinstance(node, ast.Dict) else node.elts
                _table_neighbours(elts, rows, neighbours)
                if (node.end_lineno or node.lineno) > node.lineno:
                    for e in elts:
                        if e is not None and e.lineno > node.lineno:
                            tables.setdefault(e.lineno, node.lineno)
        return cls(by_line, frozenset(bounds), frozenset(indexes), neighbours, tables)


def _segment(rows: list[str], node: ast.AST) -> str | None:
    if getattr(node, "end_lineno", None) != node.lineno or not 0 < node.lineno <= len(rows):
        return None
    raw = rows[node.lineno - 1].encode("utf-8")
    return raw[node.col_offset : node.end_col_offset].decode("utf-8", "replace")


def _table_neighbours(elts: Sequence[ast.AST | None], rows: list[str], out: dict[int, tuple[str, ...]]) -> None:
    """A table entry may hold its neighbour's value (a shifted table): for each
    constant element, the source of the previous and next elements of the same type."""
    consts = [e if isinstance(e, ast.Constant) and type(e.value) in (int, str, float) else None for e in elts]
    for i, e in enumerate(consts):
        if e is None:
            continue
        near = []
        for j in (i - 1, i + 1):
            other = consts[j] if 0 <= j < len(consts) else None
            if other is not None and type(other.value) is type(e.value) and other.value != e.value:
                text = _segment(rows, other)
                if text is not None:
                    near.append(text)
        if near:
            out[id(e)] = tuple(near)


def line_mutants(file: str, source: str, line: int, index: SourceIndex | None = None) -> list[LineMutant]:
    """Mutants of one line (expressions that start and end on it), de-duplicated,
    at most :data:`MAX_PER_LINE`; [] when the source does not parse.
    ``index``: the file's :class:`SourceIndex`, when the caller has one already.

    Tier 0 (boundaries): ``<``/``<=`` and ``>``/``>=``, integer literals +-1,
    slice and ``range()`` bounds +-1. Tier 1: swapped comparison (``<``/``>``,
    ``==``/``!=``, ``in``/``not in``, ``is``/``is not``), a non-literal index +-1,
    ``and``/``or``, a dropped ``not``, ``True``/``False``, a table entry replaced
    by its neighbour's value."""
    rows = source.splitlines()
    if not 0 < line <= len(rows):
        return []
    index = index or SourceIndex.of(source)
    if index is None:
        return []
    nodes = index.by_line.get(line, [])
    row = rows[line - 1]
    raw = row.encode("utf-8")
    on_line = {id(n) for n in nodes}
    out: list[LineMutant] = []

    def add(start_b: int, end_b: int, new: str, tier: int = 0) -> None:
        start, end = _char_col(row, start_b), _char_col(row, end_b)
        old = row[start:end]
        if old != new:
            out.append(LineMutant(file, line, start, end, old, new, tier))

    def text_of(node: ast.AST) -> str:
        return raw[node.col_offset : node.end_col_offset].decode("utf-8", "replace")

    def token_between(a: ast.AST, b: ast.AST, token: str) -> tuple[int, int] | None:
        """Byte offsets of operator ``token`` between two operands on the line
        (``<`` never matches the first half of ``<=``; ``in`` never the end of ``not in``)."""
        gap = raw[a.end_col_offset : b.col_offset].decode("utf-8", "replace")
        if token[0].isalpha():
            pattern = r"(?<![\w])" + r"\s+".join(map(re.escape, token.split())) + r"(?![\w])"
            if token in ("in", "is"):
                pattern = r"(?<!not )" + pattern + (r"(?! not\b)" if token == "is" else "")
        else:
            pattern = r"(?<![<>=!])" + re.escape(token) + r"(?![<>=])"
        m = re.search(pattern, gap)
        if m is None:
            return None
        start = a.end_col_offset + len(gap[: m.start()].encode("utf-8"))
        return start, start + len(m.group(0).encode("utf-8"))

    later: list[tuple[int, int, str]] = []
    for node in nodes:
        if isinstance(node, ast.Compare):
            prev = node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                if id(prev) in on_line and id(right) in on_line:
                    if type(op) in _SWAPS:
                        old, new = _SWAPS[type(op)]
                        span = token_between(prev, right, old)
                        if span is not None:
                            add(*span, new)
                    if type(op) in _FLIPS:
                        old, new = _FLIPS[type(op)]
                        span = token_between(prev, right, old)
                        if span is not None:
                            later.append((*span, new))
                prev = right
        elif isinstance(node, ast.Constant) and type(node.value) is int and text_of(node).isdigit():
            add(node.col_offset, node.end_col_offset, str(node.value + 1))
            if node.value > 0:
                add(node.col_offset, node.end_col_offset, str(node.value - 1))
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            later.append((node.col_offset, node.end_col_offset, str(not node.value)))
        elif isinstance(node, ast.BoolOp) and all(id(v) in on_line for v in node.values):
            old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
            for a, b in zip(node.values, node.values[1:], strict=False):
                span = token_between(a, b, old)
                if span is not None:
                    later.append((*span, new))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not) and id(node.operand) in on_line:
            later.append((node.col_offset, node.end_col_offset, text_of(node.operand)))
        if id(node) in index.bounds and not isinstance(node, ast.Constant):
            seg = text_of(node)
            add(node.col_offset, node.end_col_offset, f"({seg}) + 1")
            add(node.col_offset, node.end_col_offset, f"({seg}) - 1")
        elif id(node) in index.indexes and not isinstance(node, ast.Constant) and id(node) in on_line:
            seg = text_of(node)
            later.append((node.col_offset, node.end_col_offset, f"({seg}) + 1"))
            later.append((node.col_offset, node.end_col_offset, f"({seg}) - 1"))
        if id(node) in index.neighbours:
            for near in index.neighbours[id(node)]:
                later.append((node.col_offset, node.end_col_offset, near))
    for start_b, end_b, new in later:
        add(start_b, end_b, new, tier=1)
    unique = {(m.start, m.end, m.new): m for m in reversed(out)}  # the first (lowest tier) kept
    return sorted(unique.values(), key=out.index)[:MAX_PER_LINE]


def plan_mutants(ranked: Sequence[tuple[str, int, float]], read: Callable[[str], str | None]) -> list[LineMutant]:
    """Mutants for the best-ranked lines: at most :data:`MAX_LINES` lines that have
    mutants and :data:`MAX_MUTANTS` mutants, in bands of :data:`BAND` lines: the
    boundary mutants (tier 0) of a band's lines in rank order first, then the other
    operators' in rank order, then the next band. The budget, not these caps, is
    meant to bound the time: when the spectrum ties many lines (code every test
    runs), the fault can sit far down the ranking.
    ``read(file)`` returns a file's source or None. The entry lines of one literal
    table count as one line: a table read with a computed key makes all its
    entries equally suspect, and one line each would crowd out everything ranked
    after the table's first few entries.

    There is no score cut-off: a wrong boundary in a line that also runs in
    passing tests (it misbehaves only on some inputs) scores below lines that
    run only in failing tests, so it is often a few places down the ranking."""
    # Each file is read and parsed once, however many of its lines are ranked.
    indexed: dict[str, tuple[str, SourceIndex] | None] = {}
    per_line: list[list[LineMutant]] = []
    slots: set[tuple[str, int]] = set()
    for file, line, score in ranked:
        if score <= 0:
            break
        if file not in indexed:
            if len(slots) >= MAX_LINES:
                continue  # only entries of a table already planned can still join
            source = read(file)
            index = SourceIndex.of(source) if source else None
            indexed[file] = (source, index) if index is not None else None
        if indexed[file] is None:
            continue
        source, index = indexed[file]
        slot = (file, -index.tables[line]) if line in index.tables else (file, line)
        if slot not in slots and len(slots) >= MAX_LINES:
            continue
        found = line_mutants(file, source, line, index)
        if found:
            slots.add(slot)
            per_line.append(found)
    bands = [per_line[i : i + BAND] for i in range(0, len(per_line), BAND)]
    ordered = [m for band in bands for tier in (0, 1) for found in band for m in found if m.tier == tier]
    return ordered[:MAX_MUTANTS]


def driver_spec(mutants: Sequence[LineMutant], tests: Sequence[str], *, python: str, root: str,
                per_mutant_timeout_s: float, budget_s: float, out: str,
                guards: Callable[[str, int], Sequence[str]] | None = None,
                guard_timeout_s: float | None = None, fork: bool = True) -> str:
    """The JSON the in-sandbox driver reads (paths as seen inside the sandbox).
    ``guards(file, line)``: passing tests that ran the line; a mutant that fixes
    the failing tests is also run against them (a fix that breaks them is weaker),
    within ``guard_timeout_s`` (default: the per-mutant timeout). The failing tests
    beyond the first :data:`MAX_TESTS` join the guards: a change that fixes the few
    re-run but not the rest compensates for the fault rather than removing it.
    ``fork``: the driver imports pytest once and forks a run per mutant (else one
    ``python -m pytest`` process each)."""
    rest = list(tests)[MAX_TESTS:][:MAX_GUARDS]
    return json.dumps({
        "python": python, "root": root, "tests": list(tests)[:MAX_TESTS], "out": out,
        "per_mutant_timeout_s": per_mutant_timeout_s, "budget_s": budget_s,
        "guard_timeout_s": guard_timeout_s or per_mutant_timeout_s,
        "strong_guards": STRONG_GUARDS, "look_on": LOOK_ON, "fork": fork,
        "mutants": [{"id": i, "file": m.file, "line": m.line, "start": m.start, "end": m.end, "new": m.new,
                     "guard": [*rest, *(list(guards(m.file, m.line))[:MAX_GUARDS] if guards else [])]}
                    for i, m in enumerate(mutants)],
    })


def confirmed(mutants: Sequence[LineMutant], results_jsonl: str, failing: int) -> list[Finding]:
    """Findings for lines with a mutant that made every failing test pass (the
    driver's ``fixed``), one per line: those whose guard tests (passing tests
    that ran the line) still passed first, in mutant order; a line whose fix
    broke its guards only when there is no other. The failing tests beyond the
    first :data:`MAX_TESTS` ran with the guards (see :func:`driver_spec`)."""
    rerun = min(failing, MAX_TESTS)
    tests = (f"the {failing} failing test{'s' if failing != 1 else ''}" if rerun == failing
             else f"the {rerun} failing tests re-run (of {failing})")
    checked_all = (f"the {failing} failing test{'s' if failing != 1 else ''}"
                   if failing <= MAX_TESTS + MAX_GUARDS else f"the {rerun + MAX_GUARDS} failing tests re-run (of {failing})")
    clean: list[Finding] = []
    broke: list[Finding] = []
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
        guard = rec.get("guard_ok")
        if guard is False:
            broke.append(Finding(file=m.file, line=m.line, kind=Kind.SUSPECT_LINE, stage="sandbox",
                                 severity="warning",
                                 message=f"changing {m.edit} on this line makes {tests} pass but breaks "
                                         "other tests (mutation analysis): a possible cause"))
            continue
        checked = "passing tests that run it still pass" if guard else "other tests not re-run"
        clean.append(Finding(file=m.file, line=m.line, kind=Kind.SUSPECT_LINE, stage="sandbox", severity="warning",
                             message=f"changing {m.edit} on this line makes {checked_all if guard else tests} pass "
                                     f"(mutation analysis; {checked}): the likely cause"))
    return clean or broke[:3]


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
FORK = bool(spec.get("fork")) and hasattr(os, "fork")
if FORK:
    # pytest is imported once and each run forks from here: a run then costs its
    # collection and tests, not an interpreter start and pytest's import. Nothing of
    # the repo is imported here, so each child imports the mutated module afresh.
    try:
        import pytest
    except Exception:
        FORK = False
    try:
        # The sandbox watchdog's armed faulthandler thread is not in a forked child, and
        # the child's pytest waits for it forever; the driver keeps its own deadlines.
        import faulthandler

        faulthandler.cancel_dump_traceback_later()
    except Exception:
        pass


def run_forked(args, left):
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            os.setpgid(0, 0)
            os.environ.clear()
            os.environ.update(env)
            os.chdir(spec["root"])
            sys.path.insert(0, spec["root"])  # as ``python -m pytest`` run in the root
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            code = int(pytest.main(args))
        except BaseException:
            pass
        finally:
            os._exit(code)
    end = time.monotonic() + left
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        if time.monotonic() >= end:
            for kill in (lambda: os.killpg(pid, 9), lambda: os.kill(pid, 9)):
                try:
                    kill()
                except OSError:
                    pass
            os.waitpid(pid, 0)
            return False
        time.sleep(0.01)


def run(args, left):
    if FORK:
        return run_forked(args, left)
    try:
        proc = subprocess.run([spec["python"], "-m", "pytest", *args], env=env, cwd=spec["root"],
                              capture_output=True, timeout=left)
        return proc.returncode == 0
    except subprocess.TimeoutExpired:
        return False


weak_fixes, look_on = 0, None
with open(spec["out"], "w") as out:
    for m in spec["mutants"]:
        left = deadline - time.monotonic()
        if left < 1:
            break
        env["DEEPCODE_MUTANT"] = json.dumps(m)
        base = ["-q", "-x", "--tb=no", "-p", "deepcode_mutate"]
        fixed = run([*base, *spec["tests"]], min(left, spec["per_mutant_timeout_s"]))
        guard_ok = None
        if fixed and m.get("guard"):
            # A fix that breaks the passing tests running the line is a weaker one: keep looking.
            # Many guards take longer than the failing tests: their own timeout.
            left = min(deadline - time.monotonic(), spec.get("guard_timeout_s", spec["per_mutant_timeout_s"]))
            guard_ok = left >= 1 and run([*base, *m["guard"]], left)
        out.write(json.dumps({"id": m["id"], "fixed": fixed, "guard_ok": guard_ok}) + "\\n")
        out.flush()
        if fixed and guard_ok is not False:
            if len(m.get("guard") or []) >= spec.get("strong_guards", 0) or weak_fixes:
                break
            # Few tests checked this fix: another line may fix the failure as well.
            weak_fixes, look_on = 1, spec.get("look_on", 0)
        elif look_on is not None:
            look_on -= 1
            if look_on <= 0:
                break
'''
