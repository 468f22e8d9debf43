"""The repairer contract: what the loop asks for and what it accepts back.

The repair loop never calls a model itself; a :class:`Repairer` is injected
(the lead wires an LLM-backed one; tests use scripted ones). Modes:

- ``patch``: targeted search/replace ``edits`` only;
- ``rewrite``: whole-file ``rewrites`` of the ``target_files`` (asked for when
  patching made no progress);
- ``smoke_tests``: ``smoke_tests`` (path -> content) for a repo without tests;
- ``amendment``: a ``blueprint_amendment`` for when rewriting did not help
  either (it needs the user's approval).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from .findings import Finding
from .patches import (
    Edit,
    FileRewrite,
    PatchResult,
    PathRejected,
    apply_edits,
    apply_rewrites,
    resolve_in_repo,
)

RepairMode = Literal["patch", "rewrite", "smoke_tests", "amendment"]


class RepairRequest(BaseModel):
    """Everything a repairer gets to see for one iteration."""

    iteration: int
    mode: RepairMode = "patch"
    findings: list[Finding] = Field(default_factory=list)
    trace_excerpt: str = ""
    # Relevant files (repo-relative path -> content or excerpt).
    files: dict[str, str] = Field(default_factory=dict)
    # CodeMem entries implicated by the findings, as plain dicts or strings.
    memory_entries: list[dict[str, Any] | str] = Field(default_factory=list)
    # For "rewrite": the files to rewrite whole.
    target_files: list[str] = Field(default_factory=list)
    # One line per earlier iteration (what was tried, what happened), so the
    # repairer does not propose the same fix again.
    history: list[str] = Field(default_factory=list)
    blueprint_excerpt: str = ""


class RepairProposal(BaseModel):
    """A repairer's answer. Token and cost fields are copied into the iteration record."""

    edits: list[Edit] = Field(default_factory=list)
    rewrites: list[FileRewrite] = Field(default_factory=list)
    blueprint_amendment: str | None = None
    smoke_tests: dict[str, str] = Field(default_factory=dict)
    rationale: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def is_empty(self) -> bool:
        return not (self.edits or self.rewrites or self.smoke_tests or self.blueprint_amendment)


@runtime_checkable
class Repairer(Protocol):
    async def propose(self, request: RepairRequest) -> RepairProposal: ...


class Decision(BaseModel):
    """What the person stepping through the loop chose for a proposal."""

    action: Literal["apply", "skip", "edit"] = "apply"
    # For "edit": the proposal as edited by the person (applied instead).
    edited_proposal: RepairProposal | None = None


def _merge(a: PatchResult, b: PatchResult) -> PatchResult:
    return PatchResult(results=a.results + b.results, diff=a.diff + b.diff,
                       changed_files=list(dict.fromkeys(a.changed_files + b.changed_files)))


def apply_proposal(repo: Path, mode: RepairMode, proposal: RepairProposal) -> tuple[PatchResult, list[str]]:
    """Apply what ``mode`` allows of ``proposal``: edits always; whole-file rewrites
    only in "rewrite" mode; smoke tests only as new files. Returns the combined
    patch and notes on what was ignored."""
    notes: list[str] = []
    result = apply_edits(repo, proposal.edits)
    if proposal.rewrites:
        if mode == "rewrite":
            result = _merge(result, apply_rewrites(repo, proposal.rewrites))
        else:
            notes.append(f"ignored {len(proposal.rewrites)} whole-file rewrite(s): not asked for in {mode} mode")
    if proposal.smoke_tests:
        creates = []
        for path, content in proposal.smoke_tests.items():
            try:
                exists = resolve_in_repo(repo, path).exists()
            except PathRejected:
                exists = False  # apply_edits rejects it with the reason
            if exists:
                notes.append(f"smoke test {path} not written: the file exists")
            else:
                creates.append(Edit(path=path, search="", replace=content))
        result = _merge(result, apply_edits(repo, creates))
    return result, notes
