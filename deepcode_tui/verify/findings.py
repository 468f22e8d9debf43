"""The finding kinds the verification phase emits.

The :class:`~deepcode_tui.findings.Finding` type itself lives below the
phase packages (``deepcode_tui/findings.py``) so code generation and
verification share it without importing each other; it is re-exported here
for this package's modules.
"""

from __future__ import annotations

from deepcode_tui.findings import Finding, Severity, Stage, dedupe, errors, failure_signature

__all__ = ["Finding", "Kind", "Severity", "Stage", "dedupe", "errors", "failure_signature"]


class Kind:
    """The finding kinds this package emits (``Finding.kind`` stays an open string
    so other phases, e.g. CodeMem consistency, may add their own)."""

    MISSING_FILE = "missing_file"
    EMPTY_FILE = "empty_file"
    SYNTAX_ERROR = "syntax_error"
    UNDEFINED_NAME = "undefined_name"
    MISSING_IMPORT = "missing_import"
    UNUSED_IMPORT = "unused_import"
    REDEFINITION = "redefinition"
    LINT = "lint"
    CONSISTENCY = "consistency"
    UNDECLARED_DEPENDENCY = "undeclared_dependency"
    UNKNOWN_DEPENDENCY = "unknown_dependency"
    EXCEPTION = "exception"
    TEST_FAILURE = "test_failure"
    IMPORT_ERROR = "import_error"
    MISSING_DEPENDENCY = "missing_dependency"
    PIP_ERROR = "pip_error"
    CLI_USAGE = "cli_usage"
    TIMEOUT = "timeout"
    KILLED = "killed"
    COMMAND_FAILED = "command_failed"
    SUSPECT_LINE = "suspect_line"
    # A requirement line the host refuses to fetch (a path, URL, VCS link or pip option).
    UNSAFE_REQUIREMENT = "unsafe_requirement"
    # Something the sandboxed code left that the host will not keep (a symlink out of
    # the repo, a FIFO or device, setuid bits) or a limit it hit (the repo's disk quota).
    SANDBOX_ARTEFACT = "sandbox_artefact"
    # A path proposed by a model that the confinement rules refuse.
    REFUSED_PATH = "refused_path"
