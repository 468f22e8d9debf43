"""Tree-sitter chunks of a source file: module header, classes, functions and methods.

Python, JavaScript, TypeScript and TSX, through :mod:`deepcode_tui.treesitter`, so
CodeRAG parses exactly like CodeMem and the static checks. Each chunk carries its
symbol, signature, docstring (or leading JSDoc comment) and source text, capped so
one huge function cannot dominate an index or a prompt.
"""

from __future__ import annotations

import re
import textwrap
from typing import Literal

from pydantic import BaseModel
from tree_sitter import Node

from deepcode_tui.treesitter import get_parser, language_for_path

ChunkKind = Literal["module", "class", "function", "method"]
MAX_CHUNK_LINES = 160
MAX_CHUNK_CHARS = 8000
HEADER_LINES = 40
MODULE_SYMBOL = "<module>"


class Chunk(BaseModel):
    """One retrievable unit of code. ``id`` is unique within an index."""

    id: str
    source: str
    path: str
    language: str
    kind: ChunkKind
    symbol: str
    signature: str = ""
    docstring: str = ""
    start_line: int
    end_line: int
    text: str

    @property
    def location(self) -> str:
        """``source:path`` (``::symbol`` unless this is the module header)."""
        base = f"{self.source}:{self.path}"
        return base if self.kind == "module" else f"{base}::{self.symbol}"


def _cap(text: str) -> str:
    lines = text.splitlines()
    if len(lines) > MAX_CHUNK_LINES:
        text = "\n".join(lines[:MAX_CHUNK_LINES]) + f"\n… ({len(lines) - MAX_CHUNK_LINES} more lines)"
    if len(text) > MAX_CHUNK_CHARS:
        text = text[:MAX_CHUNK_CHARS] + "\n… (truncated)"
    return text


def _clean_docstring(raw: str) -> str:
    s = raw.strip()
    while s and s[0] in "rRbBuUfF":
        s = s[1:]
    for q in ('"""', "'''", '"', "'"):
        if s.startswith(q) and s.endswith(q) and len(s) >= 2 * len(q):
            s = s[len(q) : -len(q)]
            break
    lines = s.strip().splitlines()
    if len(lines) > 1:  # dedent the continuation lines like inspect.cleandoc
        rest = [ln for ln in lines[1:] if ln.strip()]
        indent = min((len(ln) - len(ln.lstrip()) for ln in rest), default=0)
        lines = [lines[0].strip()] + [ln[indent:] for ln in lines[1:]]
    return "\n".join(lines).strip()


def _clean_comment(raw: str) -> str:
    s = raw.strip()
    if s.startswith("/*"):
        s = s[2:].removesuffix("*/").lstrip("*")
    lines = []
    for ln in s.splitlines():
        ln = ln.strip()
        ln = ln.removeprefix("//") if ln.startswith("//") else ln.removeprefix("*")
        lines.append(ln.strip())
    return "\n".join(lines).strip()


class _Builder:
    def __init__(self, source: str, path: str, language: str, data: bytes) -> None:
        self.source, self.path, self.language, self.data = source, path, language, data
        self.chunks: list[Chunk] = []
        self.stubs: set[str] = set()  # ids of overload stubs (Python)

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def add(self, kind: ChunkKind, symbol: str, node: Node, signature: str, doc: str,
            text: str | None = None, start: Node | None = None) -> None:
        first = (start or node).start_point[0] + 1
        if text is None:
            # Methods start mid-line: pad to their column so dedent aligns the body with "def".
            col = (start or node).start_point[1]
            raw = self.data[(start or node).start_byte : node.end_byte].decode("utf-8", "replace")
            text = textwrap.dedent(" " * col + raw) if col else raw
        body = text
        self.chunks.append(Chunk(
            id=f"{self.source}:{self.path}::{symbol}#{first}", source=self.source, path=self.path,
            language=self.language, kind=kind, symbol=symbol, signature=signature.strip(),
            docstring=doc, start_line=first, end_line=node.end_point[0] + 1, text=_cap(body),
        ))

    def header(self, root: Node, doc: str, names: list[str]) -> None:
        """The module's opening (docstring, imports, constants) up to its first definition."""
        lines = self.data.decode("utf-8", "replace").splitlines()
        stop = len(lines)
        for child in root.named_children:
            if child.type in _DEF_TYPES.get(self.language, ()):
                stop = child.start_point[0]
                break
        head = "\n".join(lines[: min(stop, HEADER_LINES)]).rstrip()
        if names:
            head += "\n# defines: " + ", ".join(names)
        if head.strip():
            self.chunks.insert(0, Chunk(
                id=f"{self.source}:{self.path}::{MODULE_SYMBOL}", source=self.source, path=self.path,
                language=self.language, kind="module", symbol=MODULE_SYMBOL, signature="", docstring=doc,
                start_line=1, end_line=max(1, min(stop, HEADER_LINES)), text=_cap(head),
            ))


_DEF_TYPES = {
    "python": ("function_definition", "class_definition", "decorated_definition"),
    "javascript": ("function_declaration", "generator_function_declaration", "class_declaration",
                   "export_statement", "lexical_declaration"),
}
_DEF_TYPES["typescript"] = _DEF_TYPES["javascript"] + (
    "abstract_class_declaration", "interface_declaration", "type_alias_declaration", "enum_declaration")
_DEF_TYPES["tsx"] = _DEF_TYPES["typescript"]


# ---------------------------------------------------------------- Python
def _py_docstring(b: _Builder, block: Node | None) -> str:
    if block is None:
        return ""
    first = next(iter(block.named_children), None)
    if first is not None and first.type == "expression_statement":
        s = first.named_children[0] if first.named_children else None
        if s is not None and s.type in ("string", "concatenated_string"):
            return _clean_docstring(b.text(s))
    return ""


def _py_signature(b: _Builder, node: Node) -> str:
    body = node.child_by_field_name("body")
    end = body.start_byte if body is not None else node.end_byte
    return b.data[node.start_byte : end].decode("utf-8", "replace").rstrip().removesuffix(":")


def _py_def(b: _Builder, item: Node, prefix: str = "") -> str | None:
    outer = item
    node = item.child_by_field_name("definition") if item.type == "decorated_definition" else item
    if node is None or node.type not in ("function_definition", "class_definition"):
        return None
    name_node = node.child_by_field_name("name")
    if name_node is None:
        return None
    name = prefix + b.text(name_node)
    body = node.child_by_field_name("body")
    doc = _py_docstring(b, body)
    sig = _py_signature(b, node)
    if node.type == "function_definition":
        b.add("method" if prefix else "function", name, node, sig, doc, start=outer)
        if outer.type == "decorated_definition" and any(
                _OVERLOAD.match(b.text(d)) for d in outer.named_children if d.type == "decorator"):
            b.stubs.add(b.chunks[-1].id)
        return name
    # A class chunk is its header plus member signatures; methods get chunks of their own.
    members: list[str] = []
    head_end = body.end_byte if body is not None else node.end_byte
    for child in body.named_children if body is not None else []:
        inner = child.child_by_field_name("definition") if child.type == "decorated_definition" else child
        if inner is not None and inner.type in ("function_definition", "class_definition"):
            head_end = min(head_end, child.start_byte)
            members.append("    " + _py_signature(b, inner).strip())
            _py_def(b, child, prefix=name + ".")
    text = b.data[outer.start_byte : head_end].decode("utf-8", "replace").rstrip()
    if members:
        text += "\n" + "\n".join(members)
    b.add("class", name, node, sig, doc, text=text, start=outer)
    return name


# ``@overload`` / ``@typing.overload``: a signature stub that precedes the implementation.
_OVERLOAD = re.compile(r"@\s*(?:\w+\.)*overload\b")


def _drop_stubs(b: _Builder) -> None:
    """Drop overload stubs of a symbol that has an implementation: they repeat its name
    without its docstring or body and would fill a result list with copies of one answer."""
    real = {c.symbol for c in b.chunks if c.id not in b.stubs}
    b.chunks = [c for c in b.chunks if c.id not in b.stubs or c.symbol not in real]


# Module-level compound statements whose blocks commonly hold definitions: compatibility
# shims (``try: ... except ImportError: def f``) and version or platform switches
# (``if sys.version_info >= ...: def f``). Their definitions are module-level API too.
_PY_GUARDS = ("try_statement", "if_statement", "with_statement")
_PY_CLAUSES = ("except_clause", "else_clause", "elif_clause", "finally_clause")


def _guarded_defs(node: Node, depth: int = 0) -> list[Node]:
    """Definition statements inside a module-level try/if/with (nested up to 3 deep)."""
    out: list[Node] = []
    if depth > 3:
        return out
    for part in node.named_children:
        blocks = [part] if part.type == "block" else (
            [c for c in part.named_children if c.type == "block"] if part.type in _PY_CLAUSES else [])
        for block in blocks:
            for stmt in block.named_children:
                if stmt.type in _PY_GUARDS:
                    out.extend(_guarded_defs(stmt, depth + 1))
                else:
                    out.append(stmt)
    return out


def _chunk_python(b: _Builder, root: Node) -> None:
    names = []
    for child in root.named_children:
        for item in _guarded_defs(child) if child.type in _PY_GUARDS else [child]:
            name = _py_def(b, item)
            if name and name not in names:
                names.append(name)
    _drop_stubs(b)
    b.header(root, _py_docstring(b, root), names)


# ------------------------------------------------------- JavaScript / TS
def _leading_comment(b: _Builder, node: Node) -> str:
    prev = node.prev_named_sibling
    if prev is not None and prev.type == "comment" and node.start_point[0] - prev.end_point[0] <= 1:
        return _clean_comment(b.text(prev))
    return ""


def _js_signature(b: _Builder, node: Node) -> str:
    body = node.child_by_field_name("body")
    end = body.start_byte if body is not None else node.end_byte
    sig = b.data[node.start_byte : end].decode("utf-8", "replace").strip()
    return sig.removesuffix("=>").strip() if node.type != "class_declaration" else sig


def _js_item(b: _Builder, item: Node, doc_anchor: Node, names: list[str]) -> None:
    t = item.type
    doc = _leading_comment(b, doc_anchor)
    if t == "export_statement":
        decl = item.child_by_field_name("declaration") or next(
            (c for c in item.named_children if c.type in _DEF_TYPES.get(b.language, ())), None)
        if decl is not None:
            _js_item(b, decl, item, names)
        return
    name_node = item.child_by_field_name("name")
    if t in ("function_declaration", "generator_function_declaration") and name_node is not None:
        name = b.text(name_node)
        b.add("function", name, item, _js_signature(b, item), doc, start=doc_anchor)
        names.append(name)
    elif t in ("class_declaration", "abstract_class_declaration") and name_node is not None:
        name = b.text(name_node)
        body = item.child_by_field_name("body")
        members: list[str] = []
        for m in body.named_children if body is not None else []:
            if m.type in ("method_definition", "abstract_method_signature"):
                mname = m.child_by_field_name("name")
                if mname is None:
                    continue
                members.append("  " + _js_signature(b, m))
                b.add("method", f"{name}.{b.text(mname)}", m, _js_signature(b, m), _leading_comment(b, m))
        head_end = body.start_byte + 1 if body is not None else item.end_byte
        text = b.data[doc_anchor.start_byte : head_end].decode("utf-8", "replace")
        text += ("\n" + "\n".join(members) if members else "") + "\n}"
        b.add("class", name, item, _js_signature(b, item), doc, text=text, start=doc_anchor)
        names.append(name)
    elif t in ("interface_declaration", "type_alias_declaration", "enum_declaration") and name_node:
        name = b.text(name_node)
        b.add("class", name, item, b.text(item).split("{")[0].strip(), doc, start=doc_anchor)
        names.append(name)
    elif t in ("lexical_declaration", "variable_declaration"):
        for decl in item.named_children:
            if decl.type != "variable_declarator":
                continue
            value = decl.child_by_field_name("value")
            dname = decl.child_by_field_name("name")
            if value is None or dname is None or value.type not in (
                    "arrow_function", "function_expression", "function", "class", "generator_function"):
                continue
            name = b.text(dname)
            kind: ChunkKind = "class" if value.type == "class" else "function"
            sig = b.data[item.start_byte : (value.child_by_field_name("body") or value).start_byte]
            b.add(kind, name, item, sig.decode("utf-8", "replace").strip().removesuffix("=>").strip(), doc,
                  start=doc_anchor)
            names.append(name)


def _chunk_js(b: _Builder, root: Node) -> None:
    names: list[str] = []
    for child in root.named_children:
        _js_item(b, child, child, names)
    first = next(iter(root.named_children), None)
    doc = _clean_comment(b.text(first)) if first is not None and first.type == "comment" else ""
    b.header(root, doc, names)


def chunk_source(text: str, path: str, source: str = "local", language: str | None = None) -> list[Chunk]:
    """Chunks of one file's text. Unknown languages give no chunks; broken code gives what parses.

    ``path`` is the file's path inside its source (kept as given, posix style);
    ``source`` the source's name. Chunks come back header first, then in file order
    (a class's methods before the class's own summary chunk).
    """
    lang = language or language_for_path(path)
    if lang is None:
        return []
    data = text.encode("utf-8", "replace")
    tree = get_parser(lang).parse(data)
    b = _Builder(source, path, lang, data)
    if lang == "python":
        _chunk_python(b, tree.root_node)
    else:
        _chunk_js(b, tree.root_node)
    return b.chunks
