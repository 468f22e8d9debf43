"""What a failure's traceback says about where the fault is: evidence, not the answer.

A wrong value (a lookahead index, an entry of a module-level table, a counter
increment) often makes the code raise somewhere else: the innermost frame is
the ``raise`` line of a helper, and the fault sits on a line that computed a
value the raising code then tested. So the frames' lines are candidates, and
so are the lines the data came from, followed back from each raising line:

* the raising statement and the condition guarding it (the ``if`` it sits in),
* the lines in the same function that assign a name those two use (nearest
  first; ``pos += 1`` after the line counts too: loops come round),
* module-level values they use (tables, constants; a table's element lines
  are candidates one by one), in the same module or imported from another
  module of the repo, and class attributes (``self.TABLE``, ``cls.X``,
  ``Klass.X``: the class body's assignment, in the class or a base class of
  the same module),
* values evaluated elsewhere: the default of a parameter they use (evaluated
  once, at definition), and the lines of the class's other methods that set
  an instance attribute they read (``self.total`` set in ``__init__``), with
  the defaults of the parameters those lines use,
* the outer frames (call sites), with less weight the further out.

The same look-up of values is applied to the spectrum's best lines, since
module-level and class-level code and parameter defaults run at import,
before any test, and so never show in a per-test spectrum. :func:`combine` adds these weights to the Ochiai scores;
mutation analysis then tries the lines in that order.

A traceback is the answer, not evidence, when it names the fault itself: an
undefined name, a failed import, a syntax error, a call with the wrong
arguments (:func:`is_exact`). Those are not localised further.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import PurePosixPath

from .findings import Finding, Kind
from .trace_context import is_test_file

Reader = Callable[[str], str | None]

# SystemExit: a CLI's exit, which the argparse analysis locates.
_EXACT_TYPES = ("NameError", "UnboundLocalError", "ImportError", "ModuleNotFoundError", "SyntaxError",
                "IndentationError", "TabError", "SystemExit")
# A call with the wrong arguments, or a name missing from a module: the line is the fault.
_CALL_SIGNATURE = re.compile(r"\w+\(\) (?:takes|missing|got an unexpected|got multiple)"
                             r"|module '[\w.]+' has no attribute")
MAX_TABLE_LINES = 40
MAX_ASSIGNS_PER_NAME = 3

# Weights added to a line's spectrum score (which is in [0, 1]).
W_RAISE = 1.0
W_GUARD = 0.9
W_ASSIGN = 0.8
W_MODULE = 0.7
W_CALLER = 0.6


def _exc_type(message: str) -> str:
    # "tests/test_x.py::test_y: ValueError: ..." or "ValueError: ..."
    for part in message.split(": "):
        word = part.strip().rsplit(".", 1)[-1]
        if re.fullmatch(r"[A-Z]\w*(?:Error|Exception|Warning|Exit|Interrupt|Iteration)", word):
            return word
    return ""


def is_exact(f: Finding) -> bool:
    """Whether the finding's own location is the fault (nothing to localise)."""
    if f.kind in (Kind.SYNTAX_ERROR, Kind.IMPORT_ERROR, Kind.MISSING_DEPENDENCY, Kind.CLI_USAGE, Kind.TIMEOUT,
                  Kind.KILLED, Kind.PIP_ERROR, Kind.MISSING_FILE):
        return True
    if f.kind == Kind.TEST_FAILURE:
        return False
    if _exc_type(f.message) in _EXACT_TYPES or bool(_CALL_SIGNATURE.search(f.message)):
        return True
    # A handled undefined name or failed import behind the failure (code that wraps
    # every error in its own exception): that line is the fault, nothing to rank.
    handled = f.message.split("; raised while handling ", 1)
    return len(handled) == 2 and (_exc_type(handled[1]) in _EXACT_TYPES or bool(_CALL_SIGNATURE.search(handled[1])))


def localisable(findings: Iterable[Finding]) -> list[Finding]:
    """The failures whose location is evidence to weigh: test failures, and
    exceptions that are not :func:`is_exact`."""
    return [f for f in findings
            if f.severity == "error" and f.kind in (Kind.TEST_FAILURE, Kind.EXCEPTION) and not is_exact(f)]


def failing_test_file(f: Finding) -> str | None:
    """The test file a failure happened in: its outermost test frame, else its file."""
    return next((file for file, _ in f.frames if is_test_file(file)), f.file if is_test_file(f.file) else None)


# -- following the data back ---------------------------------------------------------------------
class _Module:
    """One parsed file: statements by line, enclosing functions, module-level assignments."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.parents: dict[int, ast.AST] = {}
        self.stmts: list[ast.stmt] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.stmt):
                self.stmts.append(node)
            for child in ast.iter_child_nodes(node):
                self.parents[id(child)] = node
        self.module_assigns: dict[str, ast.stmt] = {}
        self.imports: dict[str, tuple[str | None, int, str]] = {}  # name -> (module, level, original name)
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            self.module_assigns[n.id] = stmt
            elif isinstance(stmt, ast.ImportFrom):
                for a in stmt.names:
                    self.imports[a.asname or a.name] = (stmt.module, stmt.level, a.name)
        self.classes: dict[str, ast.ClassDef] = {
            n.name: n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}

    def statement_at(self, line: int) -> ast.stmt | None:
        """The innermost statement spanning ``line``."""
        spanning = [n for n in self.stmts if n.lineno <= line <= (n.end_lineno or n.lineno)]
        return min(spanning, key=lambda n: (n.end_lineno or n.lineno) - n.lineno, default=None)

    def class_of(self, node: ast.AST) -> ast.ClassDef | None:
        """The class whose body (or method) ``node`` is in."""
        cur = self.parents.get(id(node))
        while cur is not None and not isinstance(cur, ast.ClassDef):
            cur = self.parents.get(id(cur))
        return cur

    def class_chain(self, cls: ast.ClassDef) -> list[ast.ClassDef]:
        """``cls`` and its base classes defined in this module (nearest first)."""
        chain: list[ast.ClassDef] = []
        todo = [cls]
        while todo and len(chain) < 8:
            cur = todo.pop(0)
            if cur in chain:
                continue
            chain.append(cur)
            todo += [self.classes[b.id] for b in cur.bases if isinstance(b, ast.Name) and b.id in self.classes]
        return chain

    def class_attribute(self, cls: ast.ClassDef, attr: str) -> ast.stmt | None:
        """The class-body assignment of ``attr`` in ``cls`` or a base of this module."""
        for c in self.class_chain(cls):
            for stmt in c.body:
                if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                    if any(isinstance(t, ast.Name) and t.id == attr for t in targets):
                        return stmt
        return None

    def function_of(self, node: ast.AST) -> ast.AST:
        cur = self.parents.get(id(node))
        while cur is not None and not isinstance(cur, ast.FunctionDef | ast.AsyncFunctionDef):
            cur = self.parents.get(id(cur))
        return cur if cur is not None else self.tree

    def guards(self, stmt: ast.stmt, limit: int = 2) -> list[ast.expr]:
        """The conditions of the nearest ``if``/``while`` statements ``stmt`` sits in."""
        out: list[ast.expr] = []
        cur: ast.AST = stmt
        while len(out) < limit:
            parent = self.parents.get(id(cur))
            if parent is None or isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module):
                break
            if isinstance(parent, ast.If | ast.While) and cur is not parent.test:
                out.append(parent.test)
            cur = parent
        return out


def _header(stmt: ast.stmt) -> list[ast.AST]:
    """The parts of a statement evaluated on its own line(s), not its body."""
    if isinstance(stmt, ast.If | ast.While):
        return [stmt.test]
    if isinstance(stmt, ast.For | ast.AsyncFor):
        return [stmt.iter]
    if isinstance(stmt, ast.With | ast.AsyncWith):
        return [i.context_expr for i in stmt.items]
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Try):
        return []
    return [stmt]


def _loaded_names(nodes: Iterable[ast.AST]) -> list[str]:
    called = set()
    names: list[str] = []
    for node in nodes:
        for n in ast.walk(node):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name):
                called.add(id(n.func))
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in called:
                names.append(n.id)
            elif isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and isinstance(n.ctx, ast.Load):
                names.append(f"{n.value.id}.{n.attr}")  # self.x, cls.X, Klass.X, module.x
    return list(dict.fromkeys(names))


def _assign_lines(scope: ast.AST, name: str, near: int) -> list[int]:
    """Lines in ``scope`` (not nested functions) that bind ``name`` (or ``self.attr``), nearest to ``near`` first."""
    lines: list[int] = []

    def binds(target: ast.AST) -> bool:
        for n in ast.walk(target):
            if isinstance(n, ast.Name) and n.id == name:
                return True
            if (name.startswith("self.") and isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                    and n.value.id == "self" and n.attr == name[5:]):
                return True
        return False

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
                continue
            targets = child.targets if isinstance(child, ast.Assign) else [child.target] if isinstance(
                child, ast.AugAssign | ast.AnnAssign | ast.For | ast.AsyncFor | ast.NamedExpr) else []
            if any(binds(t) for t in targets):
                lines.append(child.lineno)
            visit(child)

    visit(scope)
    # Before the line first (the value that reached it), then after it (a loop's increment).
    return sorted(set(lines), key=lambda n: (n > near, abs(near - n)))[:MAX_ASSIGNS_PER_NAME]


Keys = dict[str, set | None]


def _constant_keys(nodes: Iterable[ast.AST]) -> Keys:
    """For each name (as :func:`_loaded_names` spells it) read only through constant
    subscripts (``T["star"]``, ``self.T[0]``), the keys read; None for a name also read
    another way (a computed key, the whole value)."""
    keys: Keys = {}
    subscripted: dict[int, object] = {}
    for node in nodes:
        for n in ast.walk(node):
            if (isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant)
                    and type(n.slice.value) in (str, int)):
                subscripted[id(n.value)] = n.slice.value
    for node in nodes:
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                name = n.id
            elif isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and isinstance(n.ctx, ast.Load):
                name = f"{n.value.id}.{n.attr}"
            else:
                continue
            if id(n) in subscripted and keys.get(name, set()) is not None:
                keys.setdefault(name, set()).add(subscripted[id(n)])
            elif id(n) not in subscripted:
                keys[name] = None
    return keys


def _value_lines(stmt: ast.stmt, keys: set | None = None) -> list[int]:
    """The lines of a module-level assignment's value worth mutating: each element
    line of a table (a literal list/tuple/dict/set), else the statement's first line.
    ``keys``: the only entries read (constant subscripts), when known: their lines."""
    value = getattr(stmt, "value", None)
    first = stmt.lineno
    if value is None or (stmt.end_lineno or first) == first:
        return [first]
    if keys:
        if isinstance(value, ast.Dict):
            picked = [v.lineno for k, v in zip(value.keys, value.values, strict=True)
                      if isinstance(k, ast.Constant) and k.value in keys]
        elif isinstance(value, ast.List | ast.Tuple):
            picked = [e.lineno for i, e in enumerate(value.elts) if i in keys or i - len(value.elts) in keys]
        else:
            picked = []
        if picked:
            return list(dict.fromkeys([first, *picked]))
    lines = sorted({n.lineno for n in ast.walk(value) if isinstance(n, ast.Constant | ast.Name | ast.Compare)
                    and getattr(n, "end_lineno", None) == n.lineno})
    return ([first] + [n for n in lines if n != first])[:MAX_TABLE_LINES]


class Evidence:
    """Candidate lines with weights, gathered across findings (the best weight per line kept)."""

    def __init__(self, read: Reader) -> None:
        self.read = read
        self.weights: dict[tuple[str, int], float] = {}
        self.reasons: dict[tuple[str, int], str] = {}
        # A value line -> the lines that use it (see :func:`combine`).
        self.users: dict[tuple[str, int], set[tuple[str, int]]] = {}
        self._user: tuple[str, int] | None = None
        self._parsed: dict[str, _Module | None] = {}

    def add(self, file: str, line: int, weight: float, reason: str) -> None:
        key = (file, line)
        if self._user is not None and key != self._user:
            self.users.setdefault(key, set()).add(self._user)
        if weight > self.weights.get(key, 0.0):
            self.weights[key] = weight
            self.reasons[key] = reason

    def values_used_by(self, file: str, line: int, stmt: ast.stmt, nodes: Sequence[ast.AST], weight: float,
                       why: str) -> None:
        """:meth:`values` of the names ``nodes`` read, remembering that ``file:line``
        uses what is found."""
        self._user = (file, line)
        try:
            self.values(file, stmt, _loaded_names(nodes), weight, why, _constant_keys(nodes))
        finally:
            self._user = None

    def module(self, file: str) -> _Module | None:
        if file not in self._parsed:
            text = self.read(file) if file.endswith(".py") else None
            try:
                self._parsed[file] = _Module(ast.parse(text)) if text else None
            except (SyntaxError, ValueError, RecursionError):
                self._parsed[file] = None
        return self._parsed[file]

    def _resolve_import(self, file: str, module: str | None, level: int) -> str | None:
        """The repo file a ``from module import x`` in ``file`` names (best effort)."""
        base = PurePosixPath(file).parent
        if level:
            for _ in range(level - 1):
                base = base.parent
            parts = (module or "").split(".") if module else []
        else:
            parts = (module or "").split(".")
            base = PurePosixPath(".")
        stem = base.joinpath(*parts) if parts else base
        for cand in (f"{stem}.py", f"{stem}/__init__.py", f"src/{stem}.py"):
            cand = str(PurePosixPath(cand))
            if self.read(cand) is not None:
                return cand
        return None

    def module_values(self, file: str, names: Iterable[str], weight: float, why: str,
                      keys: Keys | None = None) -> None:
        mod = self.module(file)
        if mod is None:
            return
        keys = keys or {}
        for name in names:
            if name in mod.module_assigns:
                for ln in _value_lines(mod.module_assigns[name], keys.get(name)):
                    self.add(file, ln, weight, f"module-level `{name}`, {why}")
            elif name in mod.imports:
                src_mod, level, orig = mod.imports[name]
                target = self._resolve_import(file, src_mod, level)
                other = self.module(target) if target else None
                if other is not None and orig in other.module_assigns:
                    for ln in _value_lines(other.module_assigns[orig], keys.get(name)):
                        self.add(target, ln, weight * 0.95, f"module-level `{orig}`, {why}")

    def class_values(self, file: str, stmt: ast.stmt, names: Iterable[str], weight: float, why: str,
                     keys: Keys | None = None) -> None:
        """Class attributes among ``names`` (``self.X``/``cls.X`` in a method of the
        class, ``Klass.X`` for a class of the module): the class body's value lines."""
        mod = self.module(file)
        if mod is None:
            return
        here = mod.class_of(stmt)
        for name in names:
            owner, _, attr = name.partition(".")
            cls = here if owner in ("self", "cls") else mod.classes.get(owner)
            found = mod.class_attribute(cls, attr) if cls is not None and attr else None
            if found is not None:
                for ln in _value_lines(found, (keys or {}).get(name)):
                    self.add(file, ln, weight, f"class attribute `{name}`, {why}")

    def defaults(self, file: str, scope: ast.AST, names: Iterable[str], weight: float, why: str) -> None:
        """The defaults of ``scope``'s parameters among ``names`` (evaluated once, at
        definition: never in a test's spectrum)."""
        if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            return
        a = scope.args
        positional = [*a.posonlyargs, *a.args]
        pairs = [*zip(positional[len(positional) - len(a.defaults):], a.defaults, strict=True),
                 *((k, d) for k, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None)]
        wanted = set(names)
        for arg, default in pairs:
            if arg.arg in wanted:
                self.add(file, default.lineno, weight, f"the default of parameter `{arg.arg}`, {why}")

    def instance_values(self, file: str, stmt: ast.stmt, names: Iterable[str], weight: float, why: str) -> None:
        """Lines of the class's other methods that set an instance attribute among
        ``names`` (``self.x`` read here, set in ``__init__``), and the defaults of
        the parameters those lines use."""
        mod = self.module(file)
        here = mod.class_of(stmt) if mod is not None else None
        scope = mod.function_of(stmt) if mod is not None else None
        if here is None:
            return
        attrs = [n for n in names if n.startswith("self.")]
        for c in mod.class_chain(here)[:2]:
            for method in c.body:
                if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef) or method is scope:
                    continue
                for name in attrs:
                    for ln in _assign_lines(method, name, method.lineno):
                        self.add(file, ln, weight * W_ASSIGN, f"sets `{name}`, {why}")
                        setter = mod.statement_at(ln)
                        if setter is not None:
                            self.defaults(file, method, _loaded_names(_header(setter)), weight * W_MODULE,
                                          f"used where `{name}` is set")

    def values(self, file: str, stmt: ast.stmt, names: Sequence[str], weight: float, why: str,
               keys: Keys | None = None) -> None:
        """Where the values ``names`` hold at ``stmt`` were computed outside the
        code that ran (module level, class body, parameter defaults, other methods)."""
        mod = self.module(file)
        if mod is None:
            return
        self.module_values(file, [n for n in names if "." not in n], weight * W_MODULE, why, keys)
        self.class_values(file, stmt, [n for n in names if "." in n], weight * W_MODULE, why, keys)
        self.defaults(file, mod.function_of(stmt), names, weight * W_MODULE, why)
        self.instance_values(file, stmt, names, weight, why)

    def follow(self, file: str, line: int, weight: float, what: str) -> None:
        """The line itself, its guard, the assignments of the names they use and
        the module-level values among those names."""
        self.add(file, line, weight, what)
        mod = self.module(file)
        if mod is None:
            return
        stmt = mod.statement_at(line)
        if stmt is None:
            return
        guards = mod.guards(stmt)
        for g in guards:
            self.add(file, g.lineno, weight * W_GUARD, f"the condition under which {what} runs")
        names = _loaded_names([*_header(stmt), *guards])
        scope = mod.function_of(stmt)
        for name in names:
            for ln in _assign_lines(scope, name, line):
                if ln != line:
                    self.add(file, ln, weight * W_ASSIGN, f"assigns `{name}`, which {what} uses")
        self.values_used_by(file, line, stmt, [*_header(stmt), *guards], weight, f"used where {what}")

    def from_finding(self, f: Finding) -> None:
        frames = list(f.frames)
        if not frames and f.file and f.line:
            frames = [(f.file, f.line)]
        # A frame followed by a test frame (or by nothing) is the innermost of one
        # exception of a chain: where that exception was raised.
        raising = [fr for i, fr in enumerate(frames) if not is_test_file(fr[0])
                   and (i + 1 == len(frames) or is_test_file(frames[i + 1][0]))]
        for fr in raising:
            self.follow(*fr, W_RAISE, "the line that raised")
        outer = [fr for fr in frames if not is_test_file(fr[0]) and fr not in raising]
        for depth, (file, line) in enumerate(reversed(outer[-4:])):
            self.follow(file, line, W_CALLER * (0.9 ** depth), "a call on the way to the raise")


def gather(findings: Sequence[Finding], read: Reader) -> Evidence:
    ev = Evidence(read)
    for f in findings:
        ev.from_finding(f)
    return ev


def combine(ranked: Sequence[tuple[str, int, float]], evidence: Evidence, *,
            spectrum_lines: int = 5) -> list[tuple[str, int, float]]:
    """One ranking from the spectrum's and the traceback's: score = Ochiai +
    evidence weight. Module-level values used by the best ``spectrum_lines``
    lines, and the other values :meth:`Evidence.values` finds for them, are
    added first (weighted by their user's score). A value line no test ran
    scores ``W_MODULE`` times the best score (Ochiai + evidence) of a line using it.
    Order kept among equal scores (the spectrum's tie-breaking stays)."""
    for file, line, score in list(ranked[:spectrum_lines]):
        mod = evidence.module(file)
        if mod is None or score <= 0:
            continue
        stmt = mod.statement_at(line)
        if stmt is not None:
            evidence.values_used_by(file, line, stmt, _header(stmt), score, f"used by line {line}")
    spectrum = {(f, n): s for f, n, s in ranked}
    order = {(f, n): i for i, (f, n, _s) in enumerate(ranked)}
    keys = list(dict.fromkeys([*((f, n) for f, n, _ in ranked), *evidence.weights]))

    def score(key: tuple[str, int]) -> float:
        if key in spectrum:
            return spectrum[key] + evidence.weights.get(key, 0.0)
        # A value computed where no test's spectrum shows it (module or class level, a
        # default) is as suspect as the best line using it, a little less: without this
        # it ranks below every line the failing tests merely ran.
        used = max((spectrum.get(u, 0.0) + evidence.weights.get(u, 0.0) for u in evidence.users.get(key, ())),
                   default=0.0)
        return max(W_MODULE * used, evidence.weights.get(key, 0.0))

    scored = [(f, n, score((f, n))) for f, n in keys]
    scored.sort(key=lambda x: (-round(x[2], 9), order.get((x[0], x[1]), len(order))))
    return scored
