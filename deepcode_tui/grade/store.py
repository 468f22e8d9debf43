"""The grading directory: resumable, so a killed grade pays for no graded leaf twice.

    <out>/state.json     what is graded (rubric fingerprint, Code-Dev or not, judge model)
    <out>/leaves.jsonl   one LeafGrade a line, appended and fsynced as each leaf is graded
    <out>/grade.json     the graded tree and totals (PaperBench's JudgeOutput fields)
    <out>/llm/           the judge calls (calls.jsonl, failed replies)

A torn last line (killed mid-write) is ignored; any leaf in the file is never
sent to the judge again. A directory holding another rubric's grading is
refused rather than mixed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ValidationError

from deepcode_tui.errors import RunStoreError
from deepcode_tui.grade.rollup import LeafGrade
from deepcode_tui.store.atomic import write_json_atomic


class GradeState(BaseModel):
    rubric: str  # path as given
    fingerprint: str
    code_only: bool
    submission: str
    judge_model: str


class GradeStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.leaves_path = self.root / "leaves.jsonl"
        self.state_path = self.root / "state.json"

    def open(self, state: GradeState, *, restart: bool = False) -> dict[str, LeafGrade]:
        """Start or resume; returns the leaves already graded, keyed by leaf path."""
        self.root.mkdir(parents=True, exist_ok=True)
        if restart:
            for p in (self.leaves_path, self.root / "grade.json"):
                p.unlink(missing_ok=True)
        elif self.state_path.exists():
            try:
                old = GradeState.model_validate_json(self.state_path.read_text(encoding="utf-8"))
            except (OSError, ValidationError) as exc:
                raise RunStoreError(
                    f"{self.state_path} is damaged ({type(exc).__name__})", "grade again with --restart"
                ) from None
            for field, what in (("fingerprint", "another rubric"), ("code_only", "the other mode (--code-only)"),
                                ("judge_model", "another judge model")):  # fmt: skip
                if getattr(old, field) != getattr(state, field):
                    raise RunStoreError(
                        f"{self.root} holds a grading with {what} ({field}: {getattr(old, field)!r})",
                        "grade into another directory with --out, or start over with --restart",
                    )
        write_json_atomic(self.state_path, state.model_dump())
        return self.load()

    def load(self) -> dict[str, LeafGrade]:
        grades: dict[str, LeafGrade] = {}
        if not self.leaves_path.exists():
            return grades
        data = self.leaves_path.read_bytes()
        lines = data.split(b"\n")
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                grade = LeafGrade.model_validate_json(line)
            except ValidationError:
                if i == len(lines) - 1:  # the torn last line of a killed write
                    break
                raise RunStoreError(
                    f"{self.leaves_path} line {i + 1} is damaged", "grade again with --restart"
                ) from None
            grades[grade.path] = grade
        if data and not data.endswith(b"\n"):
            # Drop the torn tail so the next append starts on a fresh line.
            keep = data[: data.rfind(b"\n") + 1]
            tmp = self.leaves_path.with_suffix(".tmp")
            tmp.write_bytes(keep)
            os.replace(tmp, self.leaves_path)
        return grades

    def append(self, grade: LeafGrade) -> None:
        line = (json.dumps(grade.model_dump(), separators=(",", ":"), sort_keys=True) + "\n").encode()
        fd = os.open(self.leaves_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
