"""Findings code generation hands to the verification phase.

One shape for the whole project: :class:`deepcode_tui.findings.Finding`
(file, line, kind, message, stage, severity), which lives below both phase
packages so neither imports the other. Code generation emits the kinds ``path_escape``,
``syntax_error``, ``human_edit_kept`` and, from the consistency check,
``unresolved_import``, ``missing_file``, ``missing_symbol``, ``missing_member``
and ``arity_mismatch``.
"""

from __future__ import annotations

from deepcode_tui.findings import Finding

__all__ = ["Finding"]
