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

import functools
import re
from dataclasses import dataclass, field

from tree_sitter import Node, Query, QueryCursor

from deepcode_tui.codegen.interface import (
    CallShape,
    ClassInfo,
    ConstantInfo,
    FunctionSig,
    ImportEdge,
    Interface,
    Param,
    SymbolUse,
)
from deepcode_tui.codegen.resolve import ModuleIndex, python_package_kind
from deepcode_tui.treesitter import get_language, get_parser

_CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")
_WS = re.compile(r"\s+")
_PROPERTY_DECORATORS = {"property", "cached_property", "functools.cached_property"}

_IMPORTS_Q = "(import_statement) @imp (import_from_statement) @imp (future_import_statement) @imp"
_BINDINGS_Q = """
(parameters (identifier) @b)
(parameters (typed_parameter (identifier) @b))
(parameters (typed_parameter (list_splat_pattern (identifier) @b)))
(parameters (typed_parameter (dictionary_splat_pattern (identifier) @b)))
(parameters (list_splat_pattern (identifier) @b))
(parameters (dictionary_splat_pattern (identifier) @b))
(parameters (default_parameter name: (identifier) @b))
(parameters (typed_default_parameter name: (identifier) @b))
(lambda_parameters (identifier) @b)
(lambda_parameters (default_parameter name: (identifier) @b))
(assignment left: (identifier) @b)
(assignment left: (pattern_list (identifier) @b))
(assignment left: (tuple_pattern (identifier) @b))
(augmented_assignment left: (identifier) @b)
(for_statement left: (identifier) @b)
(for_statement left: (pattern_list (identifier) @b))
(for_in_clause left: (identifier) @b)
(for_in_clause left: (pattern_list (identifier) @b))
(as_pattern alias: (as_pattern_target (identifier) @b))
(named_expression name: (identifier) @b)
(function_definition name: (identifier) @b)
(class_definition name: (identifier) @b)
(global_statement (identifier) @b)
"""
_CALLS_Q = "(call function: [(identifier) (attribute)] @fn arguments: (_) @args)"
_ATTRS_Q = "(attribute object: [(identifier) (attribute)] @obj attribute: (identifier) @attr) @node"
_INSTANCES_Q = "(assignment left: (identifier) @var right: (call function: [(identifier) (attribute)] @ctor))"


@functools.cache
def _queries() -> dict[str, Query]:
    lang = get_language("python")
    return {
        "imports": Query(lang, _IMPORTS_Q),
        "bindings": Query(lang, _BINDINGS_Q),
        "calls": Query(lang, _CALLS_Q),
        "attrs": Query(lang, _ATTRS_Q),
        "instances": Query(lang, _INSTANCES_Q),
    }


def _captures(name: str, node: Node) -> dict[str, list[Node]]:
    return QueryCursor(_queries()[name]).captures(node)


def _text(node: Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""


def _flat(node: Node | None) -> str:
    return _WS.sub(" ", _text(node)).strip()


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
    edges_by_stmt: dict[int, list[ImportEdge]] = {}
    imports: list[ImportEdge] = []
    for node in sorted(_captures("imports", root).get("imp", []), key=lambda n: n.start_byte):
        es = _import_edges(node, path, index)
        edges_by_stmt[node.start_byte] = es
        imports.extend(es)
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
        dynamic=mod.dynamic or "__getattr__" in mod.functions,
    )
    uses = _uses(root, imports)
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
    return [_flat(c)[1:].strip() for c in node.named_children if c.type == "decorator"]


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
        elif in_class and (bare.endswith(".setter") or bare.endswith(".deleter")):
            return None
    returns = node.child_by_field_name("return_type")
    return FunctionSig(
        name=name,
        params=_params(node.child_by_field_name("parameters")),
        returns=_flat(returns) or None,
        is_async=any(c.type == "async" for c in node.children),
        kind=kind,
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
            Param(name=_text(name_node), kind=kind, annotation=_flat(annotation) or None, default=default)
        )
    return out


def _class(node: Node, decorators: list[str]) -> ClassInfo:
    bases: list[str] = []
    sup = node.child_by_field_name("superclasses")
    if sup is not None:
        bases = [_flat(b) for b in sup.named_children if b.type not in ("keyword_argument", "comment")]
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
                if left is not None and left.type == "identifier" and not ann.startswith(("ClassVar", "typing.ClassVar")):
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


# --- imports -----------------------------------------------------------------


def _import_edges(node: Node, path: str, index: ModuleIndex) -> list[ImportEdge]:
    line = node.start_point[0] + 1
    out: list[ImportEdge] = []
    if node.type == "future_import_statement":
        for n in node.children_by_field_name("name"):
            name, alias = _name_alias(n)
            out.append(ImportEdge(module="__future__", name=name, alias=alias, line=line, kind="stdlib",
                                  package="__future__"))
        return out
    if node.type == "import_statement":
        for n in node.children_by_field_name("name"):
            module, alias = _name_alias(n)
            f, is_proj = index.python_module(path, module)
            out.append(_edge(module, None, alias, line, f, None, is_proj))
        return out
    mod_node = node.child_by_field_name("module_name")
    level, module = 0, _flat(mod_node)
    if mod_node is not None and mod_node.type == "relative_import":
        prefix = next((c for c in mod_node.named_children if c.type == "import_prefix"), None)
        level = len(_text(prefix).strip())
        dotted = next((c for c in mod_node.named_children if c.type == "dotted_name"), None)
        module = _flat(dotted)
    written = "." * level + module
    names = [_name_alias(n) for n in node.children_by_field_name("name")]
    if any(c.type == "wildcard_import" for c in node.named_children):
        names.append(("*", None))
    for name, alias in names:
        f, sym, is_proj = index.python_from(path, module, level, name)
        out.append(_edge(written, name, alias, line, f, sym, is_proj or level > 0))
    return out


def _name_alias(n: Node) -> tuple[str, str | None]:
    if n.type == "aliased_import":
        return _flat(n.child_by_field_name("name")), _flat(n.child_by_field_name("alias")) or None
    return _flat(n), None


def _edge(
    module: str, name: str | None, alias: str | None, line: int, f: str | None, sym: str | None, is_proj: bool
) -> ImportEdge:
    if f is not None:
        return ImportEdge(module=module, name=name, alias=alias, line=line, kind="project", file=f, symbol=sym)
    if is_proj:
        return ImportEdge(module=module, name=name, alias=alias, line=line, kind="unresolved")
    kind, pkg = python_package_kind(module)
    return ImportEdge(module=module, name=name, alias=alias, line=line, kind=kind, package=pkg)


# --- uses of project symbols -------------------------------------------------


def _call_shape(args: Node) -> CallShape:
    if args.type != "argument_list":  # f(x for x in y)
        return CallShape(positional=1)
    shape = CallShape()
    for a in args.named_children:
        if a.type == "keyword_argument":
            shape.keywords.append(_text(a.child_by_field_name("name")))
        elif a.type == "list_splat":
            shape.star = True
        elif a.type == "dictionary_splat":
            shape.double_star = True
        elif a.type != "comment":
            shape.positional += 1
    return shape


def _dotted(node: Node) -> str | None:
    """``a.b.c`` for a chain of plain identifiers, else None."""
    if node.type == "identifier":
        return _text(node)
    if node.type == "attribute":
        obj = node.child_by_field_name("object")
        attr = node.child_by_field_name("attribute")
        base = _dotted(obj) if obj is not None else None
        return f"{base}.{_text(attr)}" if base is not None and attr is not None else None
    return None


def _uses(root: Node, imports: list[ImportEdge]) -> list[SymbolUse]:
    symbols: dict[str, tuple[str, str]] = {}  # local name -> (file, symbol)
    modules: dict[str, str] = {}  # dotted local name -> file
    for e in imports:
        if e.kind != "project" or e.file is None or e.name == "*":
            continue
        if e.name is None:  # import pkg.mod [as m]
            modules[e.alias or e.module] = e.file
        elif e.symbol is None:  # from pkg import submodule
            modules[e.alias or e.name] = e.file
        else:
            symbols[e.alias or e.name] = (e.file, e.symbol)
    if not symbols and not modules:
        return []
    roots = set(symbols) | {m.split(".")[0] for m in modules}
    bound: dict[str, int] = {}
    for n in _captures("bindings", root).get("b", []):
        t = _text(n)
        bound[t] = bound.get(t, 0) + 1
    shadowed = {r for r in roots if r in bound}

    def module_of(dotted: str) -> str | None:
        return None if dotted.split(".")[0] in shadowed else modules.get(dotted)

    instances: dict[str, tuple[str, str]] = {}
    for _, caps in QueryCursor(_queries()["instances"]).matches(root):
        var, ctor = caps["var"][0], caps["ctor"][0]
        name, target = _text(var), _resolve_symbol(_dotted(ctor), symbols, shadowed, module_of)
        if target is not None and bound.get(name) == 1 and name not in roots:
            instances[name] = target

    uses: list[SymbolUse] = []
    call_fns: set[int] = set()
    cm = QueryCursor(_queries()["calls"]).matches(root)
    for _, caps in cm:
        fn, args = caps["fn"][0], caps["args"][0]
        call_fns.add(fn.start_byte * 1_000_003 + fn.end_byte)
        dotted = _dotted(fn)
        if dotted is None:
            continue
        line = fn.start_point[0] + 1
        head, _, last = dotted.rpartition(".")
        if not head:
            if dotted in symbols and dotted not in shadowed:
                f, s = symbols[dotted]
                uses.append(SymbolUse(file=f, symbol=s, line=line, call=_call_shape(args)))
            continue
        mf = module_of(head)
        if mf is not None:
            uses.append(SymbolUse(file=mf, symbol=last, line=line, call=_call_shape(args)))
        elif head in instances:
            f, s = instances[head]
            uses.append(SymbolUse(file=f, symbol=s, member=last, line=line, call=_call_shape(args)))
    if modules:
        for _, caps in QueryCursor(_queries()["attrs"]).matches(root):
            node = caps["node"][0]
            if node.start_byte * 1_000_003 + node.end_byte in call_fns:
                continue
            obj = _dotted(caps["obj"][0])
            mf = module_of(obj) if obj is not None else None
            if mf is not None:
                uses.append(SymbolUse(file=mf, symbol=_text(caps["attr"][0]), line=node.start_point[0] + 1))
    return uses


def _resolve_symbol(dotted, symbols, shadowed, module_of) -> tuple[str, str] | None:
    if dotted is None:
        return None
    head, _, last = dotted.rpartition(".")
    if not head:
        return symbols[dotted] if dotted in symbols and dotted not in shadowed else None
    mf = module_of(head)
    return (mf, last) if mf is not None else None
