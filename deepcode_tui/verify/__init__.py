"""Verification: static checks, sandboxed execution, trace analysis, patches
and the repair loop (closed-loop error correction, DeepCode phase 4).

Entry points::

    run_static_checks(repo, expected_files=[...], declared_packages=None) -> list[Finding]
    check_repo_consistency(repo) -> list[Finding]   (CodeMem consistency on the files as they are now)
    choose_backend("auto", allow_weak=False) -> (SandboxBackend, notice)
    RepairLoop(repo, run_dir, repairer=..., backend=...).run() -> LoopResult
    IterationStore(run_dir).list() / .load(n); IterationCursor for back/forward
"""

from .consistency import CONSISTENCY_KINDS, check_repo_consistency
from .execution import CommandOutcome, SandboxSession, VerifyCommand, discover_commands, has_tests
from .findings import Finding, Kind, failure_signature
from .history import IterationCursor, IterationRecord, IterationResult, IterationStore
from .loop import LoopConfig, LoopResult, RepairLoop, run_repair_loop
from .patches import Edit, FileRewrite, PatchResult, apply_edits, apply_rewrites
from .repair import Decision, Repairer, RepairMode, RepairProposal, RepairRequest
from .sandbox import Limits, SandboxBackend, SandboxResult, choose_backend
from .static import RECHECKED_KINDS, run_static_checks
from .traces import TraceContext, findings_from_result, parse_output

__all__ = [
    "CONSISTENCY_KINDS", "RECHECKED_KINDS", "CommandOutcome", "Decision", "Edit", "FileRewrite", "Finding",
    "IterationCursor", "IterationRecord", "IterationResult", "IterationStore", "Kind", "Limits", "LoopConfig",
    "LoopResult", "PatchResult", "RepairLoop", "RepairMode", "RepairProposal", "RepairRequest", "Repairer",
    "SandboxBackend", "SandboxResult", "SandboxSession", "TraceContext", "VerifyCommand", "apply_edits",
    "apply_rewrites", "check_repo_consistency", "choose_backend", "discover_commands", "failure_signature",
    "findings_from_result", "has_tests", "parse_output", "run_repair_loop", "run_static_checks",
]
