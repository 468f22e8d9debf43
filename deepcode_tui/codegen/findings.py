"""Findings code generation hands to the verification phase.

One shape for the whole project: the verification phase's
:class:`deepcode_tui.verify.findings.Finding` (file, line, kind, message,
stage, severity). Code generation emits the kinds ``path_escape``,
``syntax_error``, ``human_edit_kept`` and, from the consistency check,
``unresolved_import``, ``missing_file``, ``missing_symbol``, ``missing_member``
and ``arity_mismatch``.
"""

from __future__ import annotations

from deepcode_tui.verify.findings import Finding

__all__ = ["Finding"]
