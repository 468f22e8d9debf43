"""Code generation with CodeMem: one file at a time, consistent across files.

Public entry points: :func:`generate_repository` (the loop), :class:`CodegenPlan`
(its input), :class:`MemoryStore` / :func:`extract_entry` (memory),
:func:`select_relevant_memory`, :func:`assemble_context`,
:func:`check_consistency` and :class:`RepoWatcher`. Submodules are imported
lazily so importing the package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CodegenPlan": "plan",
    "PlannedFile": "plan",
    "MemoryEntry": "memory",
    "MemoryStore": "memory",
    "extract_entry": "memory",
    "select_relevant_memory": "select",
    "assemble_context": "context",
    "DEFAULT_BUDGET_TOKENS": "context",
    "check_consistency": "consistency",
    "Finding": "findings",
    "generate_repository": "loop",
    "CodegenResult": "loop",
    "RepoWatcher": "watch",
    "WriteLedger": "watch",
    "extract_code": "writer",
    "confine_path": "writer",
}

__all__ = [  # noqa: RUF022 (grouped by submodule, as in _EXPORTS)
    "CodegenPlan",
    "PlannedFile",
    "MemoryEntry",
    "MemoryStore",
    "extract_entry",
    "select_relevant_memory",
    "assemble_context",
    "DEFAULT_BUDGET_TOKENS",
    "check_consistency",
    "Finding",
    "generate_repository",
    "CodegenResult",
    "RepoWatcher",
    "WriteLedger",
    "extract_code",
    "confine_path",
]


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{mod}"), name)
