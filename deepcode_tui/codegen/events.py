"""Events the code generation loop emits, as pydantic models.

The lead maps these onto the project's event bus; each carries a ``type``
discriminator so :data:`CodegenEvent` parses any of them back.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from deepcode_tui.codegen.findings import Finding


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FileStarted(_Event):
    type: Literal["codegen_file_started"] = "codegen_file_started"
    path: str
    index: int  # 1-based position in the current order
    total: int
    stage: int = 0


class ContextMeter(_Event):
    """Tokens of each context part for one generation step."""

    type: Literal["codegen_context_meter"] = "codegen_context_meter"
    path: str
    instructions: int = 0
    summary: int = 0  # global blueprint summary
    spec: int = 0  # this file's slice of the blueprint
    memory: int = 0
    retrieval: int = 0
    total: int = 0
    budget: int = 0
    memory_files: list[str] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list)  # parts left out for the budget
    truncated: list[str] = Field(default_factory=list)  # parts cut to fit

    @property
    def blueprint(self) -> int:
        return self.summary + self.spec


class FileWritten(_Event):
    type: Literal["codegen_file_written"] = "codegen_file_written"
    path: str
    diff: str  # unified diff against the previous content ("" for a new empty file)
    created: bool
    attempts: int
    content_hash: str
    lines: int


class FileSkipped(_Event):
    type: Literal["codegen_file_skipped"] = "codegen_file_skipped"
    path: str
    reason: Literal["resumed", "human_edit", "existing"]


class FileFailed(_Event):
    type: Literal["codegen_file_failed"] = "codegen_file_failed"
    path: str
    reason: str
    attempts: int = 0


class ReplyRejected(_Event):
    """One unusable reply (empty, truncated, no block for this file); a retry follows if attempts remain."""

    type: Literal["codegen_reply_rejected"] = "codegen_reply_rejected"
    path: str
    attempt: int
    reason: str


class MemoryEntryAdded(_Event):
    type: Literal["codegen_memory_entry"] = "codegen_memory_entry"
    path: str
    purpose: str
    origin: str
    symbols: int  # public classes + functions + constants
    tokens: int  # size of the rendered entry


class HumanEditDetected(_Event):
    type: Literal["codegen_human_edit"] = "codegen_human_edit"
    path: str
    change: Literal["added", "modified", "deleted"]
    diff: str = ""


class FindingRaised(_Event):
    type: Literal["codegen_finding"] = "codegen_finding"
    finding: Finding


CodegenEvent = Annotated[
    FileStarted
    | ContextMeter
    | FileWritten
    | FileSkipped
    | FileFailed
    | ReplyRejected
    | MemoryEntryAdded
    | HumanEditDetected
    | FindingRaised,
    Field(discriminator="type"),
]
