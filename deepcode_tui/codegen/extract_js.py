"""Deterministic extraction of a JavaScript/TypeScript module's interface, imports and uses.

The interface is what the module exports (ES ``export`` forms and CommonJS
``module.exports``/``exports.x``), under the exported names; ``defined_names``
holds every importable name (``default`` included). Class members that are
``private``, ``#private`` or start with ``_`` are left out.
"""

from __future__ import annotations

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
from deepcode_tui.codegen.js_refs import import_edges, project_uses, string_value
from deepcode_tui.codegen.resolve import ModuleIndex
from deepcode_tui.codegen.ts_text import flat_text as _flat
from deepcode_tui.codegen.ts_text import node_text as _text
from deepcode_tui.treesitter import get_parser

_FUNC_DECL = {"function_declaration", "generator_function_declaration", "function_signature"}
_FUNC_EXPR = {"arrow_function", "function_expression", "function", "generator_function"}
_CLASS_DECL = {"class_declaration", "abstract_class_declaration", "class"}


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
    imports = import_edges(root, path, index, language)
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
    return JsExtraction(iface, imports, project_uses(root, imports, language), root.has_error)


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
        return [
            ClassInfo(
                name=_text(node.child_by_field_name("name")),
                kind="enum",
                fields=fields,
                line=node.start_point[0] + 1,
            )
        ]
    if t == "type_alias_declaration":
        return [
            ConstantInfo(
                name=_text(node.child_by_field_name("name")),
                annotation="type",
                value=_short(_flat(node.child_by_field_name("value"))),
            )
        ]
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
    return ConstantInfo(
        name=name, annotation=ann or None, value=_short(_flat(value)) if value is not None else None
    )


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
        spec = string_value(source) or ""
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
    elif (
        left.startswith(("exports.", "module.exports.")) and left.count(".") == left.startswith("module.") + 1
    ):
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
        out.append(
            Param(name=_flat(target), kind=kind, annotation=ann or None, default=default, optional=optional)
        )
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
            fields.append(
                Param(name=name, annotation=_flat(tn).lstrip(":").strip() if tn is not None else None)
            )
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
            fields.append(
                Param(
                    name=_text(m.child_by_field_name("name")),
                    annotation=_flat(tn).lstrip(":").strip() if tn is not None else None,
                    optional=any(x.type == "?" for x in m.children),
                )
            )
    return ClassInfo(
        name=_text(node.child_by_field_name("name")),
        kind="interface",
        bases=bases,
        methods=methods,
        fields=fields,
        line=node.start_point[0] + 1,
    )
