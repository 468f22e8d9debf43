"""Python imports and project-symbol uses, read with tree-sitter queries.

Imports: every import statement anywhere in the file, resolved through
:class:`ModuleIndex`. Uses: calls and attribute accesses through names bound by
project imports (``f(...)``, ``mod.f(...)``, ``mod.CONST``, ``obj.method(...)``
for ``obj = ImportedClass(...)`` assigned once); a name rebound anywhere in the
file, or imported from two places, is not followed (no false alarms from
shadowing).
"""

from __future__ import annotations

import functools

from tree_sitter import Node, Query, QueryCursor

from deepcode_tui.codegen.interface import CallShape, ImportEdge, SymbolUse
from deepcode_tui.codegen.resolve import ModuleIndex, python_package_kind
from deepcode_tui.codegen.ts_text import flat_text as _flat
from deepcode_tui.codegen.ts_text import node_text as _text
from deepcode_tui.treesitter import get_language

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


# --- imports -----------------------------------------------------------------


def import_statements(root: Node, path: str, index: ModuleIndex) -> dict[int, list[ImportEdge]]:
    """Import edges of every import statement in the tree, keyed by the statement's start byte."""
    out: dict[int, list[ImportEdge]] = {}
    for node in sorted(_captures("imports", root).get("imp", []), key=lambda n: n.start_byte):
        out[node.start_byte] = import_edges(node, path, index)
    return out


def import_edges(node: Node, path: str, index: ModuleIndex) -> list[ImportEdge]:
    line = node.start_point[0] + 1
    out: list[ImportEdge] = []
    if node.type == "future_import_statement":
        for n in node.children_by_field_name("name"):
            name, alias = _name_alias(n)
            out.append(
                ImportEdge(
                    module="__future__",
                    name=name,
                    alias=alias,
                    line=line,
                    kind="stdlib",
                    package="__future__",
                )
            )
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
        return ImportEdge(
            module=module, name=name, alias=alias, line=line, kind="project", file=f, symbol=sym
        )
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


def project_uses(root: Node, imports: list[ImportEdge]) -> list[SymbolUse]:
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
    # a name imported from two places (say in two functions) is ambiguous file-wide
    targets: dict[str, set[str]] = {}
    for e in imports:
        if e.local_name:
            targets.setdefault(e.local_name, set()).add(f"{e.file or e.module}:{e.symbol or ''}:{e.name}")
    shadowed = {r for r in roots if r in bound or len(targets.get(r, ())) > 1}

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
