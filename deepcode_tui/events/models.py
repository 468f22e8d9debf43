"""Every event a run can emit, as one pydantic discriminated union.

Events are the single source of truth for what happened in a run: the store
persists them, the headless display and the TUI render them, ``runs`` and
``resume`` replay them. ``schema_version`` is written on every line so a
future reader can migrate old logs instead of misreading them.

Events whose class sets ``persist = False`` (token streaming) travel on the
bus only: writing every token to disk would make the log the bottleneck.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

SCHEMA_VERSION = 1

Phase = Literal["ingest", "blueprint", "approval", "codegen", "verify", "report"]
PHASES: tuple[str, ...] = ("ingest", "blueprint", "approval", "codegen", "verify", "report")


def _now() -> datetime:
    return datetime.now(UTC)


class _EventBase(BaseModel):
    # inf/NaN have no JSON form: refuse them at the door rather than log a null.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    persist: ClassVar[bool] = True

    schema_version: int = SCHEMA_VERSION
    seq: int = 0  # assigned by the store when the event is appended
    ts: datetime = Field(default_factory=_now)


# --- run lifecycle -----------------------------------------------------------


class RunCreated(_EventBase):
    type: Literal["run_created"] = "run_created"
    run_id: str
    input_path: str
    input_format: str = ""


class RunResumed(_EventBase):
    type: Literal["run_resumed"] = "run_resumed"
    from_phase: str


class PhaseStarted(_EventBase):
    type: Literal["phase_started"] = "phase_started"
    phase: str


class PhaseCompleted(_EventBase):
    """The checkpoint marker: a phase with this event never runs again on resume."""

    type: Literal["phase_completed"] = "phase_completed"
    phase: str
    summary: dict[str, Any] = Field(default_factory=dict)


class PhaseFailed(_EventBase):
    type: Literal["phase_failed"] = "phase_failed"
    phase: str
    error: str
    fix: str = ""


class RunFinished(_EventBase):
    type: Literal["run_finished"] = "run_finished"
    status: Literal["passed", "failed", "stopped", "planned"]
    message: str = ""
    report_path: str = ""


class Progress(_EventBase):
    """Progress inside a long step (files written, pages parsed ...)."""

    persist: ClassVar[bool] = False
    type: Literal["progress"] = "progress"
    phase: str
    label: str
    completed: int
    total: int | None = None


class LogMessage(_EventBase):
    type: Literal["log"] = "log"
    level: Literal["debug", "info", "warning", "error"] = "info"
    message: str
    phase: str = ""


# --- human gates ---------------------------------------------------------------


class GateOpened(_EventBase):
    type: Literal["gate_opened"] = "gate_opened"
    gate: str
    prompt: str = ""
    artifact: str = ""


class GateResolved(_EventBase):
    type: Literal["gate_resolved"] = "gate_resolved"
    gate: str
    decision: Literal["approve", "edit", "reject"]
    feedback: str = ""
    artifact: str = ""


# --- ingest and blueprint ----------------------------------------------------


class DocumentIndexed(_EventBase):
    type: Literal["document_indexed"] = "document_indexed"
    sections: int
    total_tokens: int
    pages: int = 0
    engine: str = ""


class SectionRead(_EventBase):
    type: Literal["section_read"] = "section_read"
    agent: str
    section_id: str
    title: str = ""
    tokens: int = 0


class BlueprintSaved(_EventBase):
    type: Literal["blueprint_saved"] = "blueprint_saved"
    version: str
    path: str
    files: int = 0


# --- model gateway -----------------------------------------------------------


class LLMCallStarted(_EventBase):
    type: Literal["llm_call_started"] = "llm_call_started"
    call_id: str
    role: str
    model: str
    name: str = ""


class TokenStreamed(_EventBase):
    persist: ClassVar[bool] = False
    type: Literal["token_streamed"] = "token_streamed"
    call_id: str
    role: str
    text: str


class LLMCallFinished(_EventBase):
    type: Literal["llm_call_finished"] = "llm_call_finished"
    call_id: str
    role: str
    model: str
    name: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    cached: bool = False
    error: str = ""


class CostUpdated(_EventBase):
    type: Literal["cost_updated"] = "cost_updated"
    total_cost_usd: float
    total_tokens: int
    by_role: dict[str, dict[str, float]] = Field(default_factory=dict)


class BudgetStop(_EventBase):
    type: Literal["budget_stop"] = "budget_stop"
    kind: Literal["cost", "tokens"]
    limit: float
    used: float


# --- code generation ---------------------------------------------------------


class FileStarted(_EventBase):
    type: Literal["file_started"] = "file_started"
    path: str
    context_tokens: dict[str, int] = Field(default_factory=dict)


class FileWritten(_EventBase):
    type: Literal["file_written"] = "file_written"
    path: str
    diff: str = ""
    bytes: int = 0
    sha256: str = ""


class FileFailed(_EventBase):
    type: Literal["file_failed"] = "file_failed"
    path: str
    reason: str


class MemoryEntryAdded(_EventBase):
    type: Literal["memory_entry_added"] = "memory_entry_added"
    path: str
    purpose: str = ""
    symbols: list[str] = Field(default_factory=list)


class HumanEdit(_EventBase):
    type: Literal["human_edit"] = "human_edit"
    path: str
    sha256: str = ""


class RetrievalDecision(_EventBase):
    type: Literal["retrieval_decision"] = "retrieval_decision"
    path: str
    retrieve: bool
    reason: str
    tokens: int = 0


# --- verification ------------------------------------------------------------


class FindingReported(_EventBase):
    type: Literal["finding"] = "finding"
    stage: str
    kind: str
    message: str
    file: str = ""
    line: int | None = None
    severity: str = "error"


class SandboxRan(_EventBase):
    type: Literal["sandbox_ran"] = "sandbox_ran"
    backend: str
    command: str
    exit_code: int | None
    duration_s: float
    timed_out: bool = False
    notice: str = ""


class SandboxOutput(_EventBase):
    """A line of live sandbox output; the final logs are artifacts, so not persisted here."""

    persist: ClassVar[bool] = False
    type: Literal["sandbox_output"] = "sandbox_output"
    stream: Literal["stdout", "stderr"] = "stdout"
    line: str


class IterationStarted(_EventBase):
    type: Literal["iteration_started"] = "iteration_started"
    iteration: int


class PatchProposed(_EventBase):
    type: Literal["patch_proposed"] = "patch_proposed"
    iteration: int
    diff: str = ""


class PatchDecision(_EventBase):
    type: Literal["patch_decision"] = "patch_decision"
    iteration: int
    decision: Literal["apply", "skip", "edit"]
    applied: bool = False
    reason: str = ""


class IterationFinished(_EventBase):
    type: Literal["iteration_finished"] = "iteration_finished"
    iteration: int
    passed: bool
    findings: int = 0
    summary: str = ""


Event = Annotated[
    Union[
        RunCreated,
        RunResumed,
        PhaseStarted,
        PhaseCompleted,
        PhaseFailed,
        RunFinished,
        Progress,
        LogMessage,
        GateOpened,
        GateResolved,
        DocumentIndexed,
        SectionRead,
        BlueprintSaved,
        LLMCallStarted,
        TokenStreamed,
        LLMCallFinished,
        CostUpdated,
        BudgetStop,
        FileStarted,
        FileWritten,
        FileFailed,
        MemoryEntryAdded,
        HumanEdit,
        RetrievalDecision,
        FindingReported,
        SandboxRan,
        SandboxOutput,
        IterationStarted,
        PatchProposed,
        PatchDecision,
        IterationFinished,
    ],
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
EVENT_TYPES: tuple[type[_EventBase], ...] = Event.__origin__.__args__  # type: ignore[attr-defined]


class EventSchemaError(ValueError):
    """A line that is valid JSON but not an event this version understands."""


def parse_event(data: str | bytes | dict[str, Any]) -> Event:
    """Parse one event from a JSON line or dict; raises ValueError when it is not one."""
    if isinstance(data, dict):
        version = data.get("schema_version", SCHEMA_VERSION)
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise EventSchemaError(
                f"event schema version {version} is newer than this deepcode-tui understands ({SCHEMA_VERSION})"
            )
        return EVENT_ADAPTER.validate_python(data)
    return parse_event(__import__("json").loads(data))
