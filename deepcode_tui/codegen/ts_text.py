"""Small helpers for reading tree-sitter nodes as text."""

from __future__ import annotations

import re

from tree_sitter import Node

_WS = re.compile(r"\s+")


def node_text(node: Node | None) -> str:
    """The node's source text ("" for None)."""
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""


def flat_text(node: Node | None) -> str:
    """The node's source text on one line, whitespace runs collapsed."""
    return _WS.sub(" ", node_text(node)).strip()
