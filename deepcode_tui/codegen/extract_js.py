"""Deterministic extraction of a JavaScript/TypeScript module's interface, imports and uses.

The interface is what the module exports (ES ``export`` forms and CommonJS
``module.exports``/``exports.x``), under the exported names; ``defined_names``
holds every importable name (``default`` included). Class members that are
``private``, ``#private`` or start with ``_`` are left out.
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
from deepcode_tui.codegen.resolve import ModuleIndex, js_package_kind
from deepcode_tui.treesitter import get_language, get_parser

_WS = re.compile(r"\s+")
_FUNC_DECL = {"function_declaration", "generator_function_declaration", "function_signature"}
_FUNC_EXPR = {"arrow_function", "function_expression", "function", "generator_function"}
_CLASS_DECL = {"class_declaration", "abstract_class_declaration", "class"}

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
    bindings = _BINDINGS_Q
    if lang == "javascript":  # TS-only node types do not exist in the JS grammar
        bindings = "\n".join(line for line in bindings.splitlines() if "_parameter pattern" not in line)
    return {
        "imports": Query(language, _IMPORTS_Q),
        "bindings": Query(language, bindings),
        "calls": Query(language, _CALLS_Q),
        "members": Query(language, _MEMBERS_Q),
        "instances": Query(language, _INSTANCES_Q),
    }


def _text(node: Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""


def _flat(node: Node | None) -> str:
    return _WS.sub(" ", _text(node)).strip()


def _string_value(node: Node | None) -> str | None:
    if node is None or node.type not in ("string", "template_string"):
        return None
    frags = [c for c in node.named_children if c.type == "string_fragment"]
    if node.type == "template_string" and any(c.type == "template_substitution" for c in node.named_children):
        return None
    return "".join(_text(f) for f in frags)


@dataclass
class JsExtraction:
    interface: Interface
    imports: list[ImportEdge]
    uses: list[SymbolUse]
    has_error: bool


@dataclass
class _Scope:
    items: dict[str, FunctionSig | ClassInfo | ConstantInfo] = field(default_factory=dict)
    exports: dict[str, str | None] = field(default_factory=dict)  # exported name -> local name (None: inline)
    inline: dict[str, FunctionSig | ClassInfo | ConstantInfo] = field(default_factory=dict)
    star_from: list[str] = field(default_factory=list)
    dynamic: bool = False


def extract_js(path: str, code: str, index: ModuleIndex, language: str) -> JsExtraction:
    """Interface, import edges and project-symbol uses of one JS/TS file (``language``: grammar name)."""
    tree = get_parser(language).parse(code.encode("utf-8"))
    root = tree.root_node
    imports = _imports(root, path, index, language)
    sc = _Scope()
    for stmt in root.named_children:
        _statement(stmt, sc, imports)
    classes: list[ClassInfo] = []
    functions: list[FunctionSig] = []
    constants: list[ConstantInfo] = []
    for exported, local in sc.exports.items():
        item = sc.inline.get(exported) if local is None else sc.items.get(local)
        if item is None:
            continue
        if exported != item.name and exported != "default":
            item = item.model_copy(update={"name": exported})
        if isinstance(item, ClassInfo):
            classes.append(item)
        elif isinstance(item, FunctionSig):
            functions.append(item)
        else:
            constants.append(item)
    iface = Interface(
        classes=classes,
        functions=functions,
        constants=constants,
        all_names=list(sc.exports),
        defined_names=list(sc.exports),
        star_from=sc.star_from,
        dynamic=sc.dynamic,
    )
    return JsExtraction(iface, imports, _uses(root, imports, language), root.has_error)


# --- declarations -----------------------------------------------------------


def _statement(stmt: Node, sc: _Scope, imports: list[ImportEdge]) -> None:
    t = stmt.type
    if t == "ambient_declaration":
        for c in stmt.named_children:
            _statement(c, sc, imports)
        return
    if t == "export_statement":
        _export(stmt, sc, imports)
        return
    for item in _declared(stmt):
        sc.items[item.name] = item
    if t == "expression_statement" and stmt.named_children:
        _commonjs(stmt.named_children[0], sc)


def _declared(node: Node) -> list[FunctionSig | ClassInfo | ConstantInfo]:
    t = node.type
    if t in _FUNC_DECL:
        return [_function(node, _text(node.child_by_field_name("name")))]
    if t in _CLASS_DECL:
        return [_class(node)]
    if t == "interface_declaration":
        return [_interface(node)]
    if t == "enum_declaration":
        body = node.child_by_field_name("body")
        fields = [
            Param(name=_text(c.named_children[0] if c.type == "enum_assignment" else c))
            for c in (body.named_children if body is not None else [])
            if c.type in ("property_identifier", "enum_assignment")
        ]
        return [ClassInfo(name=_text(node.child_by_field_name("name")), kind="enum", fields=fields,
                          line=node.start_point[0] + 1)]
    if t == "type_alias_declaration":
        return [ConstantInfo(name=_text(node.child_by_field_name("name")), annotation="type",
                             value=_short(_flat(node.child_by_field_name("value"))))]
    if t in ("lexical_declaration", "variable_declaration"):
        out: list[FunctionSig | ClassInfo | ConstantInfo] = []
        for d in node.named_children:
            if d.type != "variable_declarator":
                continue
            name_node, value = d.child_by_field_name("name"), d.child_by_field_name("value")
            if name_node is None or name_node.type != "identifier":
                continue
            out.append(_from_value(_text(name_node), value, d.child_by_field_name("type")))
        return out
    return []


def _from_value(name: str, value: Node | None, type_node: Node | None = None):
    if value is not None and value.type in _FUNC_EXPR:
        return _function(value, name)
    if value is not None and value.type in _CLASS_DECL:
        c = _class(value)
        return c.model_copy(update={"name": name})
    ann = _flat(type_node).lstrip(":").strip() if type_node is not None else None
    return ConstantInfo(name=name, annotation=ann or None, value=_short(_flat(value)) if value is not None else None)


def _short(v: str) -> str:
    return v if len(v) <= 40 else v[:37] + "..."


def _export(stmt: Node, sc: _Scope, imports: list[ImportEdge]) -> None:
    is_default = any(c.type == "default" for c in stmt.children)
    decl = stmt.child_by_field_name("declaration")
    value = stmt.child_by_field_name("value")
    source = stmt.child_by_field_name("source")
    if decl is not None:
        items = _declared(decl)
        for item in items:
            sc.items[item.name] = item
            sc.exports["default" if is_default else item.name] = item.name
        return
    if value is not None and is_default:
        if value.type == "identifier":
            sc.exports["default"] = _text(value)
        else:
            item = _declared(value)[0] if value.type in _CLASS_DECL else _from_value("default", value)
            sc.inline["default"] = item.model_copy(update={"name": "default"})
            sc.exports["default"] = None
        return
    clause = next((c for c in stmt.named_children if c.type == "export_clause"), None)
    if source is not None:
        spec = _string_value(source) or ""
        if clause is None:
            ns = next((c for c in stmt.named_children if c.type == "namespace_export"), None)
            if ns is not None:
                sc.exports[_flat(ns.named_children[-1])] = None
            else:
                edge = next((e for e in imports if e.module == spec and e.name == "*"), None)
                sc.star_from.append(edge.file if edge is not None and edge.file else spec)
            return
        for s in clause.named_children:
            if s.type == "export_specifier":
                name, alias = _text(s.child_by_field_name("name")), _text(s.child_by_field_name("alias"))
                sc.exports[alias or name] = None  # re-exported: its interface lives in the source module
        return
    if clause is not None:
        for s in clause.named_children:
            if s.type == "export_specifier":
                name, alias = _text(s.child_by_field_name("name")), _text(s.child_by_field_name("alias"))
                sc.exports[alias or name] = name


def _commonjs(expr: Node, sc: _Scope) -> None:
    if expr.type != "assignment_expression":
        return
    left, right = _flat(expr.child_by_field_name("left")), expr.child_by_field_name("right")
    if left == "module.exports":
        if right is not None and right.type == "object":
            for p in right.named_children:
                if p.type == "shorthand_property_identifier":
                    sc.exports[_text(p)] = _text(p)
                elif p.type in ("pair", "method_definition"):
                    key = _text(p.child_by_field_name("key") or p.child_by_field_name("name"))
                    val = p.child_by_field_name("value")
                    if val is not None and val.type == "identifier":
                        sc.exports[key] = _text(val)
                    else:
                        sc.inline[key] = _from_value(key, val) if p.type == "pair" else _function(p, key)
                        sc.exports[key] = None
        else:
            sc.dynamic = True  # module.exports = <something>: its members are unknown here
            sc.exports["default"] = _text(right) if right is not None and right.type == "identifier" else None
            if right is not None and right.type != "identifier":
                sc.inline["default"] = _from_value("default", right)
    elif left.startswith(("exports.", "module.exports.")) and left.count(".") == left.startswith("module.") + 1:
        key = left.rsplit(".", 1)[1]
        sc.inline[key] = _from_value(key, right)
        sc.exports[key] = None


def _function(node: Node, name: str) -> FunctionSig:
    params = node.child_by_field_name("parameters")
    plist = _params(params) if params is not None else []
    single = node.child_by_field_name("parameter")  # x => ...
    if params is None and single is not None:
        plist = [Param(name=_text(single))]
    ret = node.child_by_field_name("return_type")
    return FunctionSig(
        name=name or "default",
        params=plist,
        returns=_flat(ret).lstrip(":").strip() or None if ret is not None else None,
        is_async=any(c.type == "async" for c in node.children),
        line=node.start_point[0] + 1,
    )


def _params(node: Node) -> list[Param]:
    out: list[Param] = []
    for p in node.named_children:
        t = p.type
        if t == "comment":
            continue
        kind, optional, default, ann = "positional", t == "optional_parameter", None, None
        target = p
        if t in ("required_parameter", "optional_parameter"):
            target = p.child_by_field_name("pattern") or p
            v = p.child_by_field_name("value")
            default = _flat(v) if v is not None else None
            tn = p.child_by_field_name("type")
            ann = _flat(tn).lstrip(":").strip() if tn is not None else None
        if target.type == "assignment_pattern":
            default = _flat(target.child_by_field_name("right"))
            target = target.child_by_field_name("left") or target
        if target.type == "rest_pattern":
            kind = "var_positional"
            target = target.named_children[0] if target.named_children else target
        out.append(Param(name=_flat(target), kind=kind, annotation=ann or None, default=default, optional=optional))
    return out


def _member_visible(m: Node) -> str | None:
    name_node = m.child_by_field_name("name")
    if name_node is None or name_node.type == "private_property_identifier":
        return None
    if any(c.type == "accessibility_modifier" and _text(c) in ("private", "protected") for c in m.children):
        return None
    name = _text(name_node)
    return None if name.startswith("_") else name


def _class(node: Node) -> ClassInfo:
    bases: list[str] = []
    for h in node.named_children:
        if h.type == "class_heritage":
            for clause in h.named_children:
                if clause.type in ("extends_clause", "implements_clause"):
                    bases += [_flat(v) for v in clause.named_children if v.type != "type_arguments"]
                else:  # JS grammar: class_heritage holds the expression directly
                    bases.append(_flat(clause))
    methods: list[FunctionSig] = []
    fields: list[Param] = []
    body = node.child_by_field_name("body")
    for m in body.named_children if body is not None else []:
        name = _member_visible(m) if m.type != "comment" else None
        if name is None:
            continue
        if m.type in ("method_definition", "method_signature", "abstract_method_signature"):
            f = _function(m, name)
            static = any(c.type == "static" for c in m.children)
            getter = any(c.type in ("get", "set") for c in m.children)
            kind = "staticmethod" if static else "property" if getter else "function"
            if getter and any(c.type == "set" for c in m.children):
                continue
            methods.append(f.model_copy(update={"kind": kind}))
        elif m.type in ("public_field_definition", "field_definition"):
            tn = m.child_by_field_name("type")
            fields.append(Param(name=name, annotation=_flat(tn).lstrip(":").strip() if tn is not None else None))
    return ClassInfo(
        name=_text(node.child_by_field_name("name")) or "default",
        bases=bases,
        methods=methods,
        fields=fields,
        line=node.start_point[0] + 1,
    )


def _interface(node: Node) -> ClassInfo:
    bases: list[str] = []
    methods: list[FunctionSig] = []
    fields: list[Param] = []
    for c in node.named_children:
        if c.type == "extends_type_clause":
            bases += [_flat(v) for v in c.named_children]
    body = node.child_by_field_name("body")
    for m in body.named_children if body is not None else []:
        if m.type == "method_signature":
            methods.append(_function(m, _text(m.child_by_field_name("name"))))
        elif m.type == "property_signature":
            tn = m.child_by_field_name("type")
            fields.append(Param(name=_text(m.child_by_field_name("name")),
                                annotation=_flat(tn).lstrip(":").strip() if tn is not None else None,
                                optional=any(x.type == "?" for x in m.children)))
    return ClassInfo(name=_text(node.child_by_field_name("name")), kind="interface", bases=bases,
                     methods=methods, fields=fields, line=node.start_point[0] + 1)


# --- imports -----------------------------------------------------------------


def _imports(root: Node, path: str, index: ModuleIndex, language: str) -> list[ImportEdge]:
    out: list[ImportEdge] = []
    for _, caps in QueryCursor(_queries(language)["imports"]).matches(root):
        if "imp" in caps:
            out += _static_import(caps["imp"][0], path, index)
        elif "req" in caps:
            if _text(caps["fn"][0]) != "require":
                continue
            call = caps["req"][0]
            spec = _string_value(caps["src"][0])
            if spec is None:
                continue
            line = call.start_point[0] + 1
            parent = call.parent
            target = parent.child_by_field_name("name") if parent is not None and parent.type == "variable_declarator" else None
            if target is not None and target.type == "object_pattern":
                for p in target.named_children:
                    if p.type == "shorthand_property_identifier_pattern":
                        out.append(_edge(path, index, spec, _text(p), None, line))
                    elif p.type == "pair_pattern":
                        out.append(_edge(path, index, spec, _text(p.child_by_field_name("key")),
                                         _text(p.child_by_field_name("value")), line))
            else:
                alias = _text(target) if target is not None and target.type == "identifier" else None
                out.append(_edge(path, index, spec, None, alias, line))
        elif "dyn" in caps:
            spec = _string_value(caps["src"][0])
            if spec is not None:
                out.append(_edge(path, index, spec, None, None, caps["dyn"][0].start_point[0] + 1))
    out.sort(key=lambda e: e.line)
    return out


def _static_import(node: Node, path: str, index: ModuleIndex) -> list[ImportEdge]:
    spec = _string_value(node.child_by_field_name("source"))
    if spec is None:
        return []
    line = node.start_point[0] + 1
    out: list[ImportEdge] = []
    if node.type == "export_statement":
        clause = next((c for c in node.named_children if c.type == "export_clause"), None)
        if clause is None:
            ns = next((c for c in node.named_children if c.type == "namespace_export"), None)
            return [_edge(path, index, spec, "*", _flat(ns.named_children[-1]) if ns is not None else None, line)]
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


def _edge(path: str, index: ModuleIndex, spec: str, name: str | None, alias: str | None, line: int) -> ImportEdge:
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


def _uses(root: Node, imports: list[ImportEdge], language: str) -> list[SymbolUse]:
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
            uses.append(SymbolUse(file=target[0], symbol=target[1], line=line, call=shape, is_new="new" in caps))
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
                uses.append(SymbolUse(file=modules[name], symbol=_text(caps["prop"][0]), line=node.start_point[0] + 1))
    return uses
