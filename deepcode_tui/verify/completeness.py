"""Never "passed" on an incomplete repository: planned components that are placeholders.

Missing and empty planned files are found by :func:`static.check_structure`;
this module finds the planned classes, functions and methods (the blueprint's
components) whose bodies are placeholders: ``pass``, ``...``, ``raise
NotImplementedError``, or a TODO/FIXME note with nothing (or only ``return
None``) to do. A file the blueprint plans without naming its components is
incomplete when every function in it is a placeholder. Each is an error
finding, so the iteration cannot pass and the repairer receives it.

Python only (``ast``: the file is parsed, never imported). An abstract method
(``@abstractmethod``) or a ``Protocol``'s is a declaration, not a placeholder.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from .findings import Finding

PLACEHOLDER = "placeholder"  # the finding kind
_NOTE = re.compile(r"#.*\b(?:TODO|FIXME|XXX)\b|\b(?:TODO|FIXME)\b", re.IGNORECASE)
_Def = ast.FunctionDef | ast.AsyncFunctionDef


def _body(node: _Def) -> list[ast.stmt]:
    body = list(node.body)
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]  # the docstring
    return body


def _is_not_implemented(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.Raise) or stmt.exc is None:
        return False
    exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def _trivial(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Pass):
        return True
    return (
        isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and stmt.value.value is Ellipsis
    )


def placeholder_reason(node: _Def, source_lines: Sequence[str]) -> str | None:
    """Why ``node``'s body is a placeholder (``pass``, ``...``, ...), or None when it does something."""
    if any(_decorator_name(d) == "abstractmethod" for d in node.decorator_list):
        return None
    body = _body(node)
    text = "\n".join(source_lines[node.lineno - 1 : (node.end_lineno or node.lineno)])
    if not body:
        return "only a docstring"
    if len(body) == 1 and _is_not_implemented(body[0]):
        return "raise NotImplementedError"
    if all(_trivial(s) for s in body):
        return (
            "a TODO note and pass"
            if _NOTE.search(text)
            else ("pass" if isinstance(body[0], ast.Pass) else "...")
        )
    returns_nothing = (
        len(body) == 1
        and isinstance(body[0], ast.Return)
        and (body[0].value is None or isinstance(body[0].value, ast.Constant) and body[0].value.value is None)
    )
    if returns_nothing and _NOTE.search(text):
        return "a TODO note and return None"
    return None


def _decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    return (
        target.attr
        if isinstance(target, ast.Attribute)
        else target.id
        if isinstance(target, ast.Name)
        else ""
    )


def _definitions(tree: ast.Module) -> dict[str, tuple[ast.AST, ast.ClassDef | None]]:
    """Qualified name ("f", "C", "C.m") -> (node, enclosing class) for top-level defs and methods."""
    out: dict[str, tuple[ast.AST, ast.ClassDef | None]] = {}
    for node in tree.body:
        if isinstance(node, _Def):
            out[node.name] = (node, None)
        elif isinstance(node, ast.ClassDef):
            out[node.name] = (node, None)
            for item in node.body:
                if isinstance(item, _Def):
                    out[f"{node.name}.{item.name}"] = (item, node)
    return out


def _is_protocol(cls: ast.ClassDef | None) -> bool:
    if cls is None:
        return False
    names = {b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in cls.bases}
    return bool(names & {"Protocol", "ABC"})


def check_file(rel: str, source: str, planned: Sequence[str]) -> list[Finding]:
    """Placeholder findings for one Python file; ``planned`` names its planned components."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []  # the syntax check reports it
    lines = source.splitlines()
    defs = _definitions(tree)
    out: list[Finding] = []

    def report(name: str, node: ast.AST, why: str) -> None:
        out.append(Finding(file=rel, line=getattr(node, "lineno", None), kind=PLACEHOLDER, stage="static",
                           message=f"{name} in {rel} is a placeholder ({why}); the blueprint plans it: implement it"))  # fmt: skip

    if planned:
        for name in dict.fromkeys(planned):
            found = defs.get(name)
            if found is None:
                continue  # a planned name that is missing altogether is CodeMem consistency's to report
            node, cls = found
            if isinstance(node, ast.ClassDef):
                methods = [i for i in node.body if isinstance(i, _Def)]
                reasons = [placeholder_reason(m, lines) for m in methods]
                if methods and all(reasons) and not _is_protocol(node):
                    report(name, node, f"every method: {reasons[0]}")
            elif not _is_protocol(cls) and (why := placeholder_reason(node, lines)) is not None:  # type: ignore[arg-type]
                report(name, node, why)
        return out
    functions = [
        (n, node, cls) for n, (node, cls) in defs.items() if isinstance(node, _Def) and not _is_protocol(cls)
    ]
    reasons = [placeholder_reason(node, lines) for _, node, _ in functions]  # type: ignore[arg-type]
    if functions and all(reasons):
        name, node, _ = functions[0]
        out.append(Finding(file=rel, line=getattr(node, "lineno", None), kind=PLACEHOLDER, stage="static",
                           message=f"every function in {rel} is a placeholder ({reasons[0]} in {name}, ...); "
                           "the blueprint plans this file: implement it"))  # fmt: skip
    return out


def check_completeness(
    repo: Path, expected_files: Iterable[str], components: Mapping[str, Sequence[str]] | None = None
) -> list[Finding]:
    """Placeholder findings over the planned Python files that exist in ``repo``.

    ``components`` maps a planned file to its planned names ("f", "C", "C.m")."""
    components = components or {}
    out: list[Finding] = []
    for rel in dict.fromkeys(expected_files):
        path = Path(repo) / rel
        if not rel.endswith(".py") or not path.is_file() or path.is_symlink():
            continue
        try:
            source = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        out += check_file(rel, source, components.get(rel, ()))
    return out


def planned_components(blueprint: object) -> dict[str, list[str]]:
    """The planned names per file of a :class:`~deepcode_tui.blueprint.models.Blueprint`."""
    out: dict[str, list[str]] = {}
    for comp in getattr(blueprint, "components", None) or []:
        names = out.setdefault(comp.file, [])
        names += [f.name for f in comp.functions]
        for cls in comp.classes:
            names.append(cls.name)
            names += [f"{cls.name}.{m.name}" for m in cls.methods]
    return out
