"""Each repair iteration on disk, and browsing back and forth over them.

Layout under a run directory::

    iterations/NNN/trace.txt       what the sandboxed commands printed
    iterations/NNN/findings.json   the findings of this iteration's verification
    iterations/NNN/patch.diff      the patch applied after it (empty if none)
    iterations/NNN/proposal.json   the repairer's proposal as received (if any)
    iterations/NNN/result.json     outcome, decision, tokens and cost

An iteration directory is written whole into a temporary directory and
renamed into place, so a reader never sees half a record.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, TypeAdapter

from deepcode_tui.errors import RunStoreError

from .findings import Finding
from .repair import RepairProposal

_FINDINGS = TypeAdapter(list[Finding])

Status = Literal[
    "passed", "patched", "skipped", "rejected", "no_proposal", "failed", "smoke_tests", "amendment", "cancelled"
]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class CommandSummary(BaseModel):
    name: str
    argv: list[str]
    exit_code: int | None
    duration_s: float
    timed_out: bool = False
    killed_reason: str | None = None


class IterationResult(BaseModel):
    """result.json: what one iteration found, what was done about it, and what it cost."""

    iteration: int
    mode: str
    passed: bool
    status: Status
    error_count: int = 0
    finding_count: int = 0
    signature: list[str] = Field(default_factory=list)
    backend: str | None = None
    commands: list[CommandSummary] = Field(default_factory=list)
    decision: str | None = None
    applied_edits: int = 0
    rejected_edits: list[dict[str, str]] = Field(default_factory=list)
    changed_files: list[str] = Field(default_factory=list)
    rationale: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    notes: list[str] = Field(default_factory=list)
    started_at: str = ""
    finished_at: str = ""


class IterationRecord(BaseModel):
    result: IterationResult
    trace: str = ""
    findings: list[Finding] = Field(default_factory=list)
    diff: str = ""
    proposal: RepairProposal | None = None


class IterationStore:
    """Reads and writes ``iterations/NNN`` under ``run_dir``."""

    def __init__(self, run_dir: Path) -> None:
        self.root = Path(run_dir) / "iterations"

    def path(self, n: int) -> Path:
        return self.root / f"{n:03d}"

    def write(self, record: IterationRecord) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        n = record.result.iteration
        tmp = Path(tempfile.mkdtemp(prefix=f".{n:03d}.", dir=self.root))
        try:
            (tmp / "trace.txt").write_text(record.trace, encoding="utf-8")
            (tmp / "findings.json").write_bytes(_FINDINGS.dump_json(record.findings, indent=2))
            (tmp / "patch.diff").write_text(record.diff, encoding="utf-8")
            (tmp / "result.json").write_text(record.result.model_dump_json(indent=2), encoding="utf-8")
            if record.proposal is not None:
                (tmp / "proposal.json").write_text(record.proposal.model_dump_json(indent=2), encoding="utf-8")
            final = self.path(n)
            if final.exists():
                old = self.root / f".{n:03d}.old"
                shutil.rmtree(old, ignore_errors=True)
                os.rename(final, old)
                os.rename(tmp, final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(tmp, final)
            return final
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def numbers(self) -> list[int]:
        if not self.root.is_dir():
            return []
        return sorted(int(p.name) for p in self.root.iterdir() if p.name.isdigit() and (p / "result.json").is_file())

    def list(self) -> list[IterationResult]:
        """Every recorded iteration's result, oldest first."""
        return [self.load_result(n) for n in self.numbers()]

    def load_result(self, n: int) -> IterationResult:
        try:
            return IterationResult.model_validate_json((self.path(n) / "result.json").read_text())
        except (OSError, ValueError) as exc:
            raise RunStoreError(f"iteration {n} in {self.root} is missing or damaged: {exc}",
                                "re-run verification to record it again") from None

    def load(self, n: int) -> IterationRecord:
        """The full record of iteration ``n`` (trace, findings, diff, proposal)."""
        d = self.path(n)
        result = self.load_result(n)
        try:
            proposal_file = d / "proposal.json"
            return IterationRecord(
                result=result,
                trace=(d / "trace.txt").read_text(encoding="utf-8"),
                findings=_FINDINGS.validate_json((d / "findings.json").read_bytes()),
                diff=(d / "patch.diff").read_text(encoding="utf-8"),
                proposal=RepairProposal.model_validate_json(proposal_file.read_text())
                if proposal_file.exists() else None,
            )
        except (OSError, ValueError, json.JSONDecodeError) as exc:
            raise RunStoreError(f"iteration {n} in {self.root} is damaged: {exc}",
                                "re-run verification to record it again") from None


class IterationCursor:
    """Back-and-forth browsing over recorded iterations (the TUI's history pane).
    Starts at the latest; ``refresh`` picks up iterations recorded since."""

    def __init__(self, store: IterationStore) -> None:
        self.store = store
        self._numbers = store.numbers()
        self._pos = len(self._numbers) - 1

    def refresh(self, follow: bool = True) -> None:
        at_end = self._pos >= len(self._numbers) - 1
        self._numbers = self.store.numbers()
        if follow and at_end:
            self._pos = len(self._numbers) - 1

    @property
    def position(self) -> int | None:
        """The iteration number under the cursor (None when nothing is recorded)."""
        return self._numbers[self._pos] if self._numbers and self._pos >= 0 else None

    def current(self) -> IterationRecord | None:
        n = self.position
        return self.store.load(n) if n is not None else None

    def back(self) -> IterationRecord | None:
        if self._pos > 0:
            self._pos -= 1
        return self.current()

    def forward(self) -> IterationRecord | None:
        if self._pos < len(self._numbers) - 1:
            self._pos += 1
        return self.current()

    def go(self, n: int) -> IterationRecord | None:
        if n in self._numbers:
            self._pos = self._numbers.index(n)
        return self.current()
