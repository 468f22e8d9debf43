"""A reference for the tree-sitter Python extractor, built on the standard library's ``ast``.

Used by the benchmark and the tests to measure how often the tree-sitter
interface and import edges agree with ``ast`` on real code. It applies the
same rules as ``extract_python`` (module level, public names, later definition
wins, setters skipped) so that any difference is an extraction error.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from deepcode_tui.codegen.interface import FunctionSig
from deepcode_tui.codegen.memory import MemoryEntry

_CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")
_PROPERTY = {"property", "cached_property", "functools.cached_property"}

Sig = tuple  # normalised signature: ((name, kind, has_default, annotation), ...), returns, is_async


def norm(text: str | None) -> str:
    """Annotation text compared without whitespace and quote style."""
    return re.sub(r"\s+", "", text or "").replace('"', "'")


def _sig_ast(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> Sig:
    a = fn.args
    params = []
    positional = a.posonlyargs + a.args
    first_default = len(positional) - len(a.defaults)
    for i, p in enumerate(positional):
        kind = "positional_only" if i < len(a.posonlyargs) else "positional"
        params.append((p.arg, kind, i >= first_default, norm(_unparse(p.annotation))))
    if a.vararg:
        params.append((a.vararg.arg, "var_positional", False, norm(_unparse(a.vararg.annotation))))
    for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        params.append((p.arg, "keyword_only", d is not None, norm(_unparse(p.annotation))))
    if a.kwarg:
        params.append((a.kwarg.arg, "var_keyword", False, norm(_unparse(a.kwarg.annotation))))
    return tuple(params), norm(_unparse(fn.returns)), isinstance(fn, ast.AsyncFunctionDef)


def sig_of(f: FunctionSig) -> Sig:
    """The same normalised form for a tree-sitter signature."""
    params = tuple((p.name, p.kind, p.has_default, norm(p.annotation)) for p in f.params)
    return params, norm(f.returns), f.is_async


def _unparse(node: ast.AST | None) -> str:
    return ast.unparse(node) if node is not None else ""


def _module_body(body: list[ast.stmt]):
    for s in body:
        if isinstance(s, ast.If):
            yield from _module_body(s.body)
            yield from _module_body(s.orelse)
        elif isinstance(s, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            yield from _module_body(s.body)
            for h in s.handlers:
                yield from _module_body(h.body)
            yield from _module_body(s.orelse)
            yield from _module_body(s.finalbody)
        elif isinstance(s, (ast.With, ast.AsyncWith)):
            yield from _module_body(s.body)
        else:
            yield s


def _decorator_names(fn) -> list[str]:
    return [re.sub(r"\s+", " ", _unparse(d)).split("(")[0] for d in fn.decorator_list]


def ast_interface(code: str) -> dict:
    """{'classes': {name: (bases, {method: Sig})}, 'functions': {name: Sig}, 'constants': set, 'all': list|None}."""
    tree = ast.parse(code)
    functions: dict[str, Sig] = {}
    classes: dict[str, tuple] = {}
    constants: set[str] = set()
    all_names: list[str] | None = None
    for s in _module_body(tree.body):
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[s.name] = _sig_ast(s)
            classes.pop(s.name, None)
        elif isinstance(s, ast.ClassDef):
            methods: dict[str, Sig] = {}
            for m in s.body:
                if not isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                if m.name.startswith("_") and not (m.name.startswith("__") and m.name.endswith("__")):
                    continue
                if any(d.endswith((".setter", ".deleter")) for d in _decorator_names(m)):
                    continue
                methods[m.name] = _sig_ast(m)
            bases = tuple(norm(_unparse(b)) for b in s.bases)
            classes[s.name] = (bases, methods)
            functions.pop(s.name, None)
        elif isinstance(s, (ast.Assign, ast.AnnAssign)):
            targets = s.targets if isinstance(s, ast.Assign) else [s.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    functions.pop(t.id, None)
                    classes.pop(t.id, None)
                    if t.id == "__all__":
                        all_names = _strings(s.value)
                    elif _CONSTANT.match(t.id):
                        constants.add(t.id)
        elif isinstance(s, ast.AugAssign) and isinstance(s.target, ast.Name) and s.target.id == "__all__":
            all_names = (all_names or []) + _strings(s.value)
    return {
        "classes": {k: v for k, v in classes.items() if not k.startswith("_")},
        "functions": {k: v for k, v in functions.items() if not k.startswith("_")},
        "constants": constants,
        "all": all_names,
    }


def _strings(node: ast.AST | None) -> list[str]:
    if isinstance(node, (ast.List, ast.Tuple)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def entry_interface(entry: MemoryEntry) -> dict:
    """The tree-sitter interface of ``entry`` in :func:`ast_interface`'s form."""
    i = entry.interface
    return {
        "classes": {
            c.name: (tuple(norm(b) for b in c.bases), {m.name: sig_of(m) for m in c.methods})
            for c in i.classes
        },
        "functions": {f.name: sig_of(f) for f in i.functions},
        "constants": {k.name for k in i.constants},
        "all": i.all_names,
    }


def interface_items(iface: dict) -> dict[str, object]:
    """Flatten an interface into comparable items: one per class, method, function, constant."""
    items: dict[str, object] = {}
    for name, (bases, methods) in iface["classes"].items():
        items[f"class {name}"] = bases
        for m, sig in methods.items():
            items[f"method {name}.{m}"] = sig
    for name, sig in iface["functions"].items():
        items[f"def {name}"] = sig
    for name in iface["constants"]:
        items[f"const {name}"] = True
    if iface["all"] is not None:
        items["__all__"] = tuple(iface["all"])
    return items


def ast_imports(code: str) -> set[tuple[int, str, str | None]]:
    """Every import anywhere in the file as (level, module, name); name None for ``import x``."""
    out: set[tuple[int, str, str | None]] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            out |= {(0, a.name, None) for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            out |= {(node.level, node.module or "", a.name) for a in node.names}
    return out


def entry_imports(entry: MemoryEntry) -> set[tuple[int, str, str | None]]:
    out = set()
    for e in entry.imports:
        level = len(e.module) - len(e.module.lstrip("."))
        out.add((level, e.module[level:], e.name))
    return out


def agreement(a: dict | set, b: dict | set) -> tuple[int, int]:
    """(items equal in both, items in either) for two item dicts or two sets."""
    if isinstance(a, set):
        return len(a & b), len(a | b)
    keys = set(a) | set(b)
    return sum(1 for k in keys if k in a and k in b and a[k] == b[k]), len(keys)


def resolve_on_disk(root: Path, importer: str, level: int, module: str, name: str | None) -> str | None:
    """Where Python would find an import under ``root`` (an independent, filesystem-based resolver)."""
    if level:
        base = Path(importer).parent
        for _ in range(level - 1):
            base = base.parent
        parts = [*base.parts, *(module.split(".") if module else [])]
    else:
        parts = module.split(".")

    def find(ps: list[str]) -> str | None:
        if not ps:
            return None
        p = root.joinpath(*ps)
        for cand in (p.with_name(p.name + ".py"), p / "__init__.py"):
            if cand.is_file():
                return cand.relative_to(root).as_posix()
        return None

    if name and name != "*":
        sub = find([*parts, name])
        if sub is not None:
            return sub
    return find(parts)
