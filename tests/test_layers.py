"""Imports point downwards only (docs/ARCHITECTURE.md, Layers): code generation
and verification share the Finding type from below (``deepcode_tui/findings.py``), no phase
package imports the pipeline (gates reach them through ``RunContext.ask``),
code generation imports nothing of verification (which runs after it and reuses
CodeMem), and no phase package imports the app."""

from __future__ import annotations

import ast
from pathlib import Path

import deepcode_tui

ROOT = Path(deepcode_tui.__file__).parent
PHASES = ("ingest", "blueprint", "codegen", "rag", "verify", "grade")
ABOVE = ("tui", "cli", "headless", "pipeline", "batch")
# Verification runs after code generation and reuses CodeMem; never the other way round.
APART = {"codegen": "verify"}


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    pkg = path.relative_to(ROOT.parent).with_suffix("").parts[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - node.level + 1]
                out.add(".".join([*base, *(node.module.split(".") if node.module else [])]))
            elif node.module:
                out.add(node.module)
    return {m for m in out if m.startswith("deepcode_tui")}


def test_phase_packages_import_neither_the_app_nor_each_other_for_findings():
    bad = []
    for phase in PHASES:
        for path in sorted((ROOT / phase).rglob("*.py")):
            for mod in imported(path):
                parts = mod.split(".")
                layer = parts[1] if len(parts) > 1 else ""
                if layer in ABOVE or APART.get(phase) == layer:
                    bad.append(f"{path.relative_to(ROOT)} imports {mod}")
    assert bad == []
