"""What the app knows about the run, folded from its events.

:class:`RunState` is plain Python (no widgets): the panes render from it, the
tests assert on it, and replaying a run's ``events.jsonl`` into a fresh state
rebuilds exactly what the panes showed before a restart (token streams and
live sandbox lines are not persisted, so they are the only things lost).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from deepcode_tui.events.models import (
    PHASES,
    Event,
    FindingReported,
    RunFinished,
    SandboxRan,
)

FileStatus = Literal["pending", "writing", "done", "failed", "edited"]
RunStatus = Literal["idle", "running", "waiting", "stopped", "passed", "failed", "planned"]

# Cap on the text kept for streams that do not belong to a file (planner,
# analysts, repairer): the pane shows the tail, the run keeps the artifacts.
LIVE_TEXT_LIMIT = 200_000


@dataclass
class FileState:
    path: str
    status: FileStatus = "pending"
    context: dict[str, int] = field(default_factory=dict)
    chunks: list[str] = field(default_factory=list)
    bytes: int = 0
    reason: str = ""
    purpose: str = ""
    symbols: list[str] = field(default_factory=list)
    diff: str = ""

    @property
    def text(self) -> str:
        """The streamed text so far (joined lazily: streams append chunk by chunk)."""
        if len(self.chunks) > 1:
            self.chunks[:] = ["".join(self.chunks)]
        return self.chunks[0] if self.chunks else ""


@dataclass
class IterationState:
    number: int
    findings: list[FindingReported] = field(default_factory=list)
    runs: list[SandboxRan] = field(default_factory=list)
    patch: str = ""
    decision: str = ""  # apply, skip, edit ("" while undecided)
    applied: bool = False
    passed: bool | None = None
    summary: str = ""


@dataclass
class GateState:
    gate: str
    prompt: str = ""
    artifact: str = ""


@dataclass
class RunState:
    run_id: str = ""
    input_path: str = ""
    status: RunStatus = "idle"
    phase: str = ""
    phases_done: list[str] = field(default_factory=list)
    failure: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    models: dict[str, str] = field(default_factory=dict)
    sections_read: dict[str, list[str]] = field(default_factory=dict)
    document_tokens: int = 0
    blueprint_versions: list[str] = field(default_factory=list)
    files: dict[str, FileState] = field(default_factory=dict)
    current_file: str | None = None
    memory_paths: list[str] = field(default_factory=list)
    retrieval: dict[str, str] = field(default_factory=dict)
    iterations: dict[int, IterationState] = field(default_factory=dict)
    current_iteration: int = 0
    sandbox_backend: str = ""
    gate: GateState | None = None
    final: RunFinished | None = None
    live_role: str = ""
    live_text: str = ""
    _calls: dict[str, str | None] = field(default_factory=dict)

    # -- derived ------------------------------------------------------------------

    def elapsed_s(self, now: datetime) -> float:
        if self.started_at is None:
            return 0.0
        end = self.finished_at or now
        return max(0.0, (end - self.started_at).total_seconds())

    def phase_position(self) -> str:
        """``codegen 4/6``: the current phase and its place in the run."""
        if not self.phase:
            return ""
        pos = PHASES.index(self.phase) + 1 if self.phase in PHASES else 0
        return f"{self.phase} {pos}/{len(PHASES)}" if pos else self.phase

    def iteration(self, number: int) -> IterationState:
        if number not in self.iterations:
            self.iterations[number] = IterationState(number)
        return self.iterations[number]

    def file(self, path: str) -> FileState:
        if path not in self.files:
            self.files[path] = FileState(path)
        return self.files[path]

    def plan_files(self, paths: list[str]) -> None:
        """Add the blueprint's files as pending (keeps order; never demotes a file)."""
        for p in paths:
            self.file(p)

    @property
    def is_live(self) -> bool:
        return self.status in ("running", "waiting")

    # -- folding ------------------------------------------------------------------

    def apply(self, ev: Event) -> None:
        """Fold one event into the state."""
        handler = getattr(self, f"_on_{ev.type}", None)
        if handler is not None:
            handler(ev)

    def _on_run_created(self, ev) -> None:
        self.run_id, self.input_path = ev.run_id, ev.input_path
        self.started_at = self.started_at or ev.ts
        self.status = "running"

    def _on_run_resumed(self, ev) -> None:
        self.status, self.final, self.finished_at, self.failure = "running", None, None, ""
        self.started_at = self.started_at or ev.ts

    def _on_phase_started(self, ev) -> None:
        self.phase, self.status = ev.phase, "running"
        self.started_at = self.started_at or ev.ts
        self.final, self.finished_at = None, None

    def _on_phase_completed(self, ev) -> None:
        if ev.phase not in self.phases_done:
            self.phases_done.append(ev.phase)

    def _on_phase_failed(self, ev) -> None:
        self.failure = f"{ev.phase}: {ev.error}" + (f" (fix: {ev.fix})" if ev.fix else "")

    def _on_run_finished(self, ev) -> None:
        self.status, self.final, self.finished_at, self.gate = ev.status, ev, ev.ts, None
        if self.current_file and self.files.get(self.current_file, FileState("")).status == "writing":
            self.files[self.current_file].status = "pending"  # a stopped file is rewritten on resume
        self.current_file = None

    def _on_gate_opened(self, ev) -> None:
        self.gate, self.status = GateState(ev.gate, ev.prompt, ev.artifact), "waiting"

    def _on_gate_resolved(self, ev) -> None:
        self.gate = None
        if self.status == "waiting":
            self.status = "running"

    def _on_document_indexed(self, ev) -> None:
        self.document_tokens = ev.total_tokens

    def _on_section_read(self, ev) -> None:
        agents = self.sections_read.setdefault(ev.section_id, [])
        if ev.agent not in agents:
            agents.append(ev.agent)

    def _on_blueprint_saved(self, ev) -> None:
        if ev.version not in self.blueprint_versions:
            self.blueprint_versions.append(ev.version)

    def _on_llm_call_started(self, ev) -> None:
        self.models[ev.role] = ev.model
        writing = self.current_file if ev.role == "coder" else None
        self._calls[ev.call_id] = writing
        if writing is None:
            self.live_role, self.live_text = ev.role, ""

    def _on_token_streamed(self, ev) -> None:
        path = self._calls.get(ev.call_id)
        if path is not None and path in self.files:
            self.files[path].chunks.append(ev.text)
            return
        self.live_role = ev.role
        self.live_text = (self.live_text + ev.text)[-LIVE_TEXT_LIMIT:]

    def _on_llm_call_finished(self, ev) -> None:
        self.models[ev.role] = ev.model
        self._calls.pop(ev.call_id, None)
        # Every call's tokens, as the report counts them: CostUpdated's total leaves out
        # replayed and cached calls (nothing paid), so the header said "0 tok" on a replay.
        self.tokens += ev.prompt_tokens + ev.completion_tokens

    def _on_cost_updated(self, ev) -> None:
        self.cost_usd = ev.total_cost_usd

    def _on_file_started(self, ev) -> None:
        f = self.file(ev.path)
        f.status, f.context, f.chunks, f.reason = "writing", dict(ev.context_tokens), [], ""
        self.current_file = ev.path

    def _on_file_written(self, ev) -> None:
        f = self.file(ev.path)
        f.status, f.bytes, f.diff = "done", ev.bytes, ev.diff
        if self.current_file == ev.path:
            self.current_file = None

    def _on_file_failed(self, ev) -> None:
        f = self.file(ev.path)
        f.status, f.reason = "failed", ev.reason
        if self.current_file == ev.path:
            self.current_file = None

    def _on_memory_entry_added(self, ev) -> None:
        f = self.file(ev.path)
        f.purpose, f.symbols = ev.purpose, list(ev.symbols)
        if ev.path not in self.memory_paths:
            self.memory_paths.append(ev.path)

    def _on_human_edit(self, ev) -> None:
        self.file(ev.path).status = "edited"

    def _on_retrieval_decision(self, ev) -> None:
        verdict = "retrieved" if ev.retrieve else "no retrieval"
        self.retrieval[ev.path] = f"{verdict}: {ev.reason}" + (f" ({ev.tokens} tokens)" if ev.tokens else "")

    def _on_finding(self, ev) -> None:
        self.iteration(self.current_iteration).findings.append(ev)

    def _on_sandbox_ran(self, ev) -> None:
        self.sandbox_backend = ev.backend
        self.iteration(self.current_iteration).runs.append(ev)

    def _on_iteration_started(self, ev) -> None:
        self.current_iteration = ev.iteration
        self.iteration(ev.iteration)

    def _on_patch_proposed(self, ev) -> None:
        it = self.iteration(ev.iteration)
        it.patch, it.decision, it.applied = ev.diff, "", False

    def _on_patch_decision(self, ev) -> None:
        it = self.iteration(ev.iteration)
        it.decision, it.applied = ev.decision, ev.applied

    def _on_iteration_finished(self, ev) -> None:
        it = self.iteration(ev.iteration)
        it.passed, it.summary = ev.passed, ev.summary
