"""Deterministic extraction of a Python module's interface, imports and symbol uses (tree-sitter).

Rules (mirrored by the benchmark's ``ast`` reference):
- module level means the module body plus the bodies of top-level ``if``/
  ``try``/``with`` statements; a later definition of a name replaces an earlier
  one, except that ``@x.setter``/``@x.deleter`` methods are not recorded;
- public: no leading underscore; methods also keep dunders (``__init__``);
- constants: module-level names in UPPER_CASE;
- imports: every import statement anywhere in the file (lazy imports too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from deepcode_tui.codegen.interface import (
    ClassInfo,
    ConstantInfo,
    FunctionSig,
    ImportEdge,
    Interface,
    Param,
    SymbolUse,
)
from deepcode_tui.codegen.py_refs import import_statements, project_uses
from deepcode_tui.codegen.resolve import ModuleIndex
from deepcode_tui.codegen.ts_text import flat_text as _flat
from deepcode_tui.codegen.ts_text import node_text as _text
from deepcode_tui.treesitter import get_parser

_CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")
_WS = re.compile(r"\s+")
_PROPERTY_DECORATORS = {"property", "cached_property", "functools.cached_property"}


@dataclass
class PythonExtraction:
    interface: Interface
    imports: list[ImportEdge]
    uses: list[SymbolUse]
    has_error: bool


@dataclass
class _Module:
    functions: dict[str, FunctionSig] = field(default_factory=dict)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    constants: dict[str, ConstantInfo] = field(default_factory=dict)
    defined: dict[str, None] = field(default_factory=dict)
    all_names: list[str] | None = None
    star_from: list[str] = field(default_factory=list)
    dynamic: bool = False


def extract_python(path: str, code: str, index: ModuleIndex) -> PythonExtraction:
    """Interface, import edges and project-symbol uses of one Python file."""
    tree = get_parser("python").parse(code.encode("utf-8"))
    root = tree.root_node
    edges_by_stmt = import_statements(root, path, index)
    imports = [e for es in edges_by_stmt.values() for e in es]
    mod = _Module()
    for stmt in _module_statements(root):
        _module_statement(stmt, mod, edges_by_stmt)
    public_fns = [f for n, f in mod.functions.items() if not n.startswith("_")]
    iface = Interface(
        classes=[c for n, c in mod.classes.items() if not n.startswith("_")],
        functions=public_fns,
        constants=list(mod.constants.values()),
        all_names=mod.all_names,
        defined_names=list(mod.defined),
        star_from=mod.star_from,
        # module __getattr__, or globals() rewritten at run time: any name may exist
        dynamic=mod.dynamic or "__getattr__" in mod.functions or "globals()" in code,
    )
    uses = project_uses(root, imports)
    return PythonExtraction(iface, imports, uses, root.has_error)


# --- module structure -------------------------------------------------------


def _module_statements(node: Node):
    for child in node.named_children:
        if child.type in ("if_statement", "try_statement", "with_statement"):
            for sub in child.named_children:
                if sub.type == "block":
                    yield from _module_statements(sub)
                elif sub.type in (
                    "elif_clause",
                    "else_clause",
                    "except_clause",
                    "except_group_clause",
                    "finally_clause",
                ):
                    for b in sub.named_children:
                        if b.type == "block":
                            yield from _module_statements(b)
        else:
            yield child


def _module_statement(stmt: Node, mod: _Module, edges_by_stmt: dict[int, list[ImportEdge]]) -> None:
    t = stmt.type
    decorators: list[str] = []
    if t == "decorated_definition":
        decorators = _decorators(stmt)
        stmt = stmt.child_by_field_name("definition") or stmt
        t = stmt.type
    if t == "function_definition":
        f = _function(stmt, decorators, in_class=False)
        if f is not None:
            mod.functions[f.name] = f
            mod.classes.pop(f.name, None)
            mod.defined[f.name] = None
    elif t == "class_definition":
        c = _class(stmt, decorators)
        mod.classes[c.name] = c
        mod.functions.pop(c.name, None)
        mod.defined[c.name] = None
    elif t == "expression_statement":
        for child in stmt.named_children:
            if child.type == "assignment":
                _assignment(child, mod)
            elif child.type == "augmented_assignment":
                left = child.child_by_field_name("left")
                if _text(left) == "__all__" and _text(child.child_by_field_name("operator")) == "+=":
                    mod.all_names = (mod.all_names or []) + _string_items(child.child_by_field_name("right"))
            elif child.type == "call":
                fn = _text(child.child_by_field_name("function"))
                if fn in ("__all__.extend", "__all__.append"):
                    args = child.child_by_field_name("arguments")
                    items: list[str] = []
                    for a in args.named_children if args is not None else []:
                        items += _string_items(a) if fn.endswith("extend") else _string_items(a, single=True)
                    mod.all_names = (mod.all_names or []) + items
    elif t in ("import_statement", "import_from_statement", "future_import_statement"):
        for e in edges_by_stmt.get(stmt.start_byte, []):
            if e.name == "*":
                mod.star_from.append(e.file or e.module)
            elif e.local_name:
                mod.defined[e.local_name] = None
    elif t == "type_alias_statement":
        left = stmt.named_children[0] if stmt.named_children else None
        if left is not None:
            mod.defined[_text(left).split("[")[0]] = None


def _assignment(node: Node, mod: _Module) -> None:
    targets: list[Node] = []
    cur: Node | None = node
    value: Node | None = None
    annotation: Node | None = None
    while cur is not None and cur.type == "assignment":
        targets.append(cur.child_by_field_name("left"))
        annotation = annotation or cur.child_by_field_name("type")
        value = cur.child_by_field_name("right")
        cur = value if value is not None and value.type == "assignment" else None
    for left in targets:
        if left is None:
            continue
        if left.type == "identifier":
            name = _text(left)
            mod.defined[name] = None
            mod.functions.pop(name, None)
            mod.classes.pop(name, None)
            if name == "__all__":
                mod.all_names = _string_items(value)
            elif _CONSTANT.match(name):
                mod.constants[name] = ConstantInfo(
                    name=name,
                    annotation=_flat(annotation) or None,
                    value=_short_value(value),
                )
        elif left.type in ("pattern_list", "tuple_pattern", "list_pattern"):
            for n in left.named_children:
                if n.type == "identifier":
                    mod.defined[_text(n)] = None


def _short_value(node: Node | None) -> str | None:
    if node is None:
        return None
    v = _flat(node)
    return v if len(v) <= 40 else v[:37] + "..."


def _string_items(node: Node | None, *, single: bool = False) -> list[str]:
    if node is None:
        return []
    nodes = [node] if single or node.type == "string" else node.named_children
    out: list[str] = []
    for n in nodes:
        if n.type == "string":
            parts = [c for c in n.named_children if c.type == "string_content"]
            if len(parts) == 1 and not any(c.type == "interpolation" for c in n.named_children):
                out.append(_text(parts[0]))
    return out


def _decorators(node: Node) -> list[str]:
    out = []
    for c in node.named_children:
        if c.type == "decorator":
            expr = next((x for x in c.named_children if x.type != "comment"), None)
            out.append(_flat(expr))
    return out


def _annotation(node: Node | None) -> str | None:
    """Annotation text on one line, without wrapping parentheses or trailing commas in subscripts."""
    text = _flat_code(node)
    if not text:
        return None
    text = re.sub(r"([\[(])\s+", r"\1", re.sub(r",?\s*([\])])", r"\1", text))
    while text.startswith("(") and text.endswith(")") and _wraps(text):
        text = text[1:-1].strip()
    return text


def _flat_code(node: Node | None) -> str:
    """Like :func:`_flat` but without the comments inside the node."""
    if node is None:
        return ""
    data = node.text or b""
    if b"#" in data:
        cuts: list[tuple[int, int]] = []
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "comment":
                cuts.append((n.start_byte - node.start_byte, n.end_byte - node.start_byte))
            else:
                stack.extend(n.children)
        for a, b in sorted(cuts, reverse=True):
            data = data[:a] + data[b:]
    return _WS.sub(" ", data.decode("utf-8", "replace")).strip()


def _wraps(text: str) -> bool:
    """True when the opening parenthesis at 0 closes at the very end."""
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0:
            return i == len(text) - 1
    return False


def _function(node: Node, decorators: list[str], *, in_class: bool) -> FunctionSig | None:
    name = _text(node.child_by_field_name("name"))
    kind = "method" if in_class else "function"
    for d in decorators:
        bare = d.split("(")[0]
        if in_class and bare in ("staticmethod",):
            kind = "staticmethod"
        elif in_class and bare == "classmethod":
            kind = "classmethod"
        elif in_class and bare in _PROPERTY_DECORATORS:
            kind = "property"
        elif in_class and bare.endswith((".setter", ".deleter")):
            return None
    returns = node.child_by_field_name("return_type")
    return FunctionSig(
        name=name,
        params=_params(node.child_by_field_name("parameters")),
        returns=_annotation(returns),
        is_async=any(c.type == "async" for c in node.children),
        kind=kind,
        decorators=decorators,
        line=node.start_point[0] + 1,
    )


def _params(node: Node | None) -> list[Param]:
    out: list[Param] = []
    if node is None:
        return out
    kw_only = False
    for p in node.named_children:
        t = p.type
        if t == "positional_separator":
            for q in out:
                if q.kind == "positional":
                    q.kind = "positional_only"
            continue
        if t == "keyword_separator":
            kw_only = True
            continue
        if t == "comment":
            continue
        name_node: Node | None = p
        annotation = default = None
        if t in ("default_parameter", "typed_default_parameter"):
            name_node = p.child_by_field_name("name")
            default = _flat(p.child_by_field_name("value"))
            annotation = p.child_by_field_name("type")
        elif t == "typed_parameter":
            annotation = p.child_by_field_name("type")
            name_node = next((c for c in p.named_children if c.type != "type"), None)
        kind = "keyword_only" if kw_only else "positional"
        if name_node is not None and name_node.type == "list_splat_pattern":
            kind, kw_only = "var_positional", True
            name_node = name_node.named_children[0] if name_node.named_children else None
        elif name_node is not None and name_node.type == "dictionary_splat_pattern":
            kind = "var_keyword"
            name_node = name_node.named_children[0] if name_node.named_children else None
        out.append(
            Param(name=_text(name_node), kind=kind, annotation=_annotation(annotation), default=default)
        )
    return out


def _class(node: Node, decorators: list[str]) -> ClassInfo:
    bases: list[str] = []
    sup = node.child_by_field_name("superclasses")
    if sup is not None:
        bases = [
            _annotation(b) or "" for b in sup.named_children if b.type not in ("keyword_argument", "comment")
        ]
    methods: dict[str, FunctionSig] = {}
    fields: dict[str, Param] = {}
    body = node.child_by_field_name("body")
    for stmt in body.named_children if body is not None else []:
        decs: list[str] = []
        s = stmt
        if s.type == "decorated_definition":
            decs = _decorators(s)
            s = s.child_by_field_name("definition") or s
        if s.type == "function_definition":
            name = _text(s.child_by_field_name("name"))
            if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
                continue
            f = _function(s, decs, in_class=True)
            if f is not None:
                methods[name] = f
        elif s.type == "expression_statement" and s.named_children:
            a = s.named_children[0]
            if a.type == "assignment" and a.child_by_field_name("type") is not None:
                left = a.child_by_field_name("left")
                ann = _flat(a.child_by_field_name("type"))
                if (
                    left is not None
                    and left.type == "identifier"
                    and not ann.startswith(("ClassVar", "typing.ClassVar"))
                ):
                    right = a.child_by_field_name("right")
                    fields[_text(left)] = Param(
                        name=_text(left), annotation=ann, default=_flat(right) if right is not None else None
                    )
    return ClassInfo(
        name=_text(node.child_by_field_name("name")),
        bases=bases,
        decorators=decorators,
        methods=list(methods.values()),
        fields=list(fields.values()),
        line=node.start_point[0] + 1,
    )
