"""JavaScript/TypeScript imports and project-symbol uses, read with tree-sitter queries.

Imports: ES ``import``/``export ... from``, ``require("x")`` (with the binding it
creates) and ``import("x")``, resolved through :class:`ModuleIndex`. Uses: calls,
``new`` expressions and member accesses through names bound by project
imports, plus ``obj.method(...)`` for ``const obj = new Imported(...)``; a name
rebound anywhere in the file is not followed.
"""

from __future__ import annotations

import functools

from tree_sitter import Node, Query, QueryCursor, QueryError

from deepcode_tui.codegen.interface import CallShape, ImportEdge, SymbolUse
from deepcode_tui.codegen.resolve import ModuleIndex, js_package_kind
from deepcode_tui.codegen.ts_text import flat_text as _flat
from deepcode_tui.codegen.ts_text import node_text as _text
from deepcode_tui.treesitter import get_language

_IMPORTS_Q = """
(import_statement) @imp
(export_statement source: (_)) @imp
(call_expression function: (identifier) @fn arguments: (arguments . (string) @src .)) @req
(call_expression function: (import) arguments: (arguments . (string) @src)) @dyn
"""
_BINDINGS_Q = """
(variable_declarator name: (identifier) @b)
(formal_parameters (identifier) @b)
(formal_parameters (required_parameter pattern: (identifier) @b))
(formal_parameters (optional_parameter pattern: (identifier) @b))
(formal_parameters (assignment_pattern left: (identifier) @b))
(arrow_function parameter: (identifier) @b)
(function_declaration name: (identifier) @b)
(class_declaration name: (_) @b)
(for_in_statement left: (identifier) @b)
(catch_clause parameter: (identifier) @b)
(assignment_expression left: (identifier) @b)
"""
_CALLS_Q = """
(call_expression function: [(identifier) (member_expression)] @fn arguments: (arguments) @args)
(new_expression constructor: [(identifier) (member_expression)] @new arguments: (arguments) @args)
"""
_MEMBERS_Q = "(member_expression object: (identifier) @obj property: (property_identifier) @prop) @node"
_INSTANCES_Q = """(variable_declarator name: (identifier) @var
  value: (new_expression constructor: [(identifier) (member_expression)] @ctor))"""


@functools.cache
def _queries(lang: str) -> dict[str, Query]:
    language = get_language(lang)
    # the JS and TS grammars differ in parameter nodes: keep the patterns this grammar has
    kept = []
    for line in _BINDINGS_Q.strip().splitlines():
        try:
            Query(language, line)
        except QueryError:
            continue
        kept.append(line)
    bindings = "\n".join(kept)
    return {
        "imports": Query(language, _IMPORTS_Q),
        "bindings": Query(language, bindings),
        "calls": Query(language, _CALLS_Q),
        "members": Query(language, _MEMBERS_Q),
        "instances": Query(language, _INSTANCES_Q),
    }


def string_value(node: Node | None) -> str | None:
    if node is None or node.type not in ("string", "template_string"):
        return None
    frags = [c for c in node.named_children if c.type == "string_fragment"]
    if node.type == "template_string" and any(c.type == "template_substitution" for c in node.named_children):
        return None
    return "".join(_text(f) for f in frags)


# --- imports -----------------------------------------------------------------


def import_edges(root: Node, path: str, index: ModuleIndex, language: str) -> list[ImportEdge]:
    out: list[ImportEdge] = []
    for _, caps in QueryCursor(_queries(language)["imports"]).matches(root):
        if "imp" in caps:
            out += _static_import(caps["imp"][0], path, index)
        elif "req" in caps:
            if _text(caps["fn"][0]) != "require":
                continue
            call = caps["req"][0]
            spec = string_value(caps["src"][0])
            if spec is None:
                continue
            line = call.start_point[0] + 1
            parent = call.parent
            target = (
                parent.child_by_field_name("name")
                if parent is not None and parent.type == "variable_declarator"
                else None
            )
            if target is not None and target.type == "object_pattern":
                for p in target.named_children:
                    if p.type == "shorthand_property_identifier_pattern":
                        out.append(_edge(path, index, spec, _text(p), None, line))
                    elif p.type == "pair_pattern":
                        out.append(
                            _edge(
                                path,
                                index,
                                spec,
                                _text(p.child_by_field_name("key")),
                                _text(p.child_by_field_name("value")),
                                line,
                            )
                        )
            else:
                alias = _text(target) if target is not None and target.type == "identifier" else None
                out.append(_edge(path, index, spec, None, alias, line))
        elif "dyn" in caps:
            spec = string_value(caps["src"][0])
            if spec is not None:
                out.append(_edge(path, index, spec, None, None, caps["dyn"][0].start_point[0] + 1))
    out.sort(key=lambda e: e.line)
    return out


def _static_import(node: Node, path: str, index: ModuleIndex) -> list[ImportEdge]:
    spec = string_value(node.child_by_field_name("source"))
    if spec is None:
        return []
    line = node.start_point[0] + 1
    out: list[ImportEdge] = []
    if node.type == "export_statement":
        clause = next((c for c in node.named_children if c.type == "export_clause"), None)
        if clause is None:
            ns = next((c for c in node.named_children if c.type == "namespace_export"), None)
            return [
                _edge(path, index, spec, "*", _flat(ns.named_children[-1]) if ns is not None else None, line)
            ]
        for s in clause.named_children:
            if s.type == "export_specifier":
                out.append(_edge(path, index, spec, _text(s.child_by_field_name("name")), None, line))
        return out
    clause = next((c for c in node.named_children if c.type == "import_clause"), None)
    if clause is None:
        return [_edge(path, index, spec, None, None, line)]
    for c in clause.named_children:
        if c.type == "identifier":
            out.append(_edge(path, index, spec, "default", _text(c), line))
        elif c.type == "namespace_import":
            out.append(_edge(path, index, spec, "*", _flat(c.named_children[-1]), line))
        elif c.type == "named_imports":
            for s in c.named_children:
                if s.type == "import_specifier":
                    name, alias = _text(s.child_by_field_name("name")), _text(s.child_by_field_name("alias"))
                    out.append(_edge(path, index, spec, name, alias or None, line))
    return out


def _edge(
    path: str, index: ModuleIndex, spec: str, name: str | None, alias: str | None, line: int
) -> ImportEdge:
    f, is_proj = index.js_module(path, spec)
    if f is not None:
        sym = None if name in (None, "*") else name
        return ImportEdge(module=spec, name=name, alias=alias, line=line, kind="project", file=f, symbol=sym)
    if is_proj:
        return ImportEdge(module=spec, name=name, alias=alias, line=line, kind="unresolved")
    kind, pkg = js_package_kind(spec)
    return ImportEdge(module=spec, name=name, alias=alias, line=line, kind=kind, package=pkg)


# --- uses --------------------------------------------------------------------


def _shape(args: Node) -> CallShape:
    shape = CallShape()
    for a in args.named_children:
        if a.type == "spread_element":
            shape.star = True
        elif a.type != "comment":
            shape.positional += 1
    return shape


def project_uses(root: Node, imports: list[ImportEdge], language: str) -> list[SymbolUse]:
    symbols: dict[str, tuple[str, str]] = {}
    modules: dict[str, str] = {}
    for e in imports:
        if e.kind != "project" or e.file is None or not e.alias and not e.name:
            continue
        if e.name in (None, "*"):
            if e.alias:
                modules[e.alias] = e.file
        else:
            symbols[e.alias or e.name] = (e.file, e.name)
    if not symbols and not modules:
        return []
    q = _queries(language)
    bound: dict[str, int] = {}
    for n in QueryCursor(q["bindings"]).captures(root).get("b", []):
        if _is_require_binding(n):
            continue  # ``const db = require("./db")`` is the import itself
        bound[_text(n)] = bound.get(_text(n), 0) + 1
    shadow = {n for n in set(symbols) | set(modules) if n in bound}

    def resolve(node: Node) -> tuple[str, str] | None:
        if node.type == "identifier":
            name = _text(node)
            return symbols[name] if name in symbols and name not in shadow else None
        obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
        if obj is not None and obj.type == "identifier" and prop is not None:
            name = _text(obj)
            if name in modules and name not in shadow:
                return modules[name], _text(prop)
        return None

    instances: dict[str, tuple[str, str]] = {}
    for _, caps in QueryCursor(q["instances"]).matches(root):
        var, target = _text(caps["var"][0]), resolve(caps["ctor"][0])
        if target is not None and bound.get(var) == 1:
            instances[var] = target
    uses: list[SymbolUse] = []
    seen_fn: set[tuple[int, int]] = set()
    for _, caps in QueryCursor(q["calls"]).matches(root):
        fn = (caps.get("fn") or caps.get("new"))[0]
        seen_fn.add((fn.start_byte, fn.end_byte))
        line = fn.start_point[0] + 1
        shape = _shape(caps["args"][0])
        target = resolve(fn)
        if target is not None:
            uses.append(
                SymbolUse(file=target[0], symbol=target[1], line=line, call=shape, is_new="new" in caps)
            )
            continue
        if fn.type == "member_expression":
            obj = fn.child_by_field_name("object")
            if obj is not None and obj.type == "identifier" and _text(obj) in instances:
                f, s = instances[_text(obj)]
                member = _text(fn.child_by_field_name("property"))
                uses.append(SymbolUse(file=f, symbol=s, member=member, line=line, call=shape))
    if modules:
        for _, caps in QueryCursor(q["members"]).matches(root):
            node = caps["node"][0]
            if (node.start_byte, node.end_byte) in seen_fn:
                continue
            name = _text(caps["obj"][0])
            if name in modules and name not in shadow:
                uses.append(
                    SymbolUse(file=modules[name], symbol=_text(caps["prop"][0]), line=node.start_point[0] + 1)
                )
    return uses


def _is_require_binding(name: Node) -> bool:
    decl = name.parent
    if decl is None or decl.type != "variable_declarator":
        return False
    value = decl.child_by_field_name("value")
    fn = (
        value.child_by_field_name("function")
        if value is not None and value.type == "call_expression"
        else None
    )
    return fn is not None and _text(fn) == "require"
