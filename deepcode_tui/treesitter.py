"""Tree-sitter parsers from the individual grammar wheels.

One place that knows which grammar wheel serves which file, so CodeMem,
CodeRAG and the static checks parse identically. ``tree-sitter-languages``
is not used: it is unmaintained and fails with tree-sitter >= 0.22.
"""

from __future__ import annotations

import functools
from pathlib import PurePath

from tree_sitter import Language, Parser

_SUFFIXES = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "tsx",
}


def language_for_path(path: str | PurePath) -> str | None:
    """The grammar name for a file, or None when no grammar covers it."""
    return _SUFFIXES.get(PurePath(path).suffix.lower())


@functools.cache
def get_language(name: str) -> Language:
    if name == "python":
        import tree_sitter_python as mod

        return Language(mod.language())
    if name == "javascript":
        import tree_sitter_javascript as mod

        return Language(mod.language())
    if name in ("typescript", "tsx"):
        import tree_sitter_typescript as mod

        return Language(mod.language_typescript() if name == "typescript" else mod.language_tsx())
    raise ValueError(f"no tree-sitter grammar for {name!r}")


def get_parser(name: str) -> Parser:
    """A fresh parser (parsers are cheap; sharing one across threads is not safe)."""
    return Parser(get_language(name))
