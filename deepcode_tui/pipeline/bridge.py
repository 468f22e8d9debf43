"""Maps the phase packages' own events onto the bus's typed events.

The phase packages know nothing of the bus (they take an ``emit`` callable),
so their events stay small and local; this is the one place that translates
them for the store and the views.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from deepcode_tui.events import models as ev
from deepcode_tui.pipeline.context import RunContext

Emit = Callable[[Any], Awaitable[None]]
OUTPUT_LINES = 400  # per stream and command: the app's log is bounded anyway (ui.log_lines)


def _finding(f: dict[str, Any], stage: str) -> ev.FindingReported:
    return ev.FindingReported(
        stage=f.get("stage") or stage,
        kind=str(f.get("kind", "")),
        message=str(f.get("message", ""))[:2000],
        file=str(f.get("file") or ""),
        line=f.get("line"),
        severity=str(f.get("severity", "error")),
    )


def codegen_emitter(ctx: RunContext) -> Emit:
    async def emit(event: BaseModel) -> None:
        kind = getattr(event, "type", "")
        e: Any = event
        if kind == "codegen_file_started":
            await ctx.emit(ev.Progress(phase="codegen", label=f"writing {e.path}", completed=e.index - 1, total=e.total))
        elif kind == "codegen_context_meter":
            parts = {
                "blueprint": e.instructions + e.summary + e.spec,
                "memory": e.memory,
                "retrieval": e.retrieval,
                "total": e.total,
                "budget": e.budget,
            }
            await ctx.emit(ev.FileStarted(path=e.path, context_tokens=parts))
        elif kind == "codegen_file_written":
            try:
                size = (ctx.store.repo_dir / e.path).stat().st_size
            except OSError:  # moved or deleted since: the event still records the write
                size = 0
            await ctx.emit(ev.FileWritten(path=e.path, diff=e.diff, bytes=size, sha256=e.content_hash))
        elif kind == "codegen_file_skipped":
            await ctx.log(f"kept {e.path} ({e.reason.replace('_', ' ')})", phase="codegen")
        elif kind == "codegen_file_failed":
            await ctx.emit(ev.FileFailed(path=e.path, reason=e.reason))
        elif kind == "codegen_reply_rejected":
            await ctx.log(f"{e.path}: reply {e.attempt} rejected: {e.reason}", level="warning", phase="codegen")
        elif kind == "codegen_memory_entry":
            await ctx.emit(ev.MemoryEntryAdded(path=e.path, purpose=e.purpose))
        elif kind == "codegen_human_edit":
            await ctx.emit(ev.HumanEdit(path=e.path))
        elif kind == "codegen_finding":
            await ctx.emit(_finding(e.finding.model_dump(), "static"))

    return emit


def verify_emitter(ctx: RunContext) -> Emit:
    errors_in: dict[int, int] = {}  # iteration -> error findings seen, for IterationFinished

    async def emit(data: dict[str, Any]) -> None:
        kind = data.get("type")
        n = int(data.get("iteration", 0))
        if kind == "iteration_started":
            errors_in[n] = 0
            await ctx.emit(ev.IterationStarted(iteration=n))
        elif kind == "findings":
            errors_in[n] = errors_in.get(n, 0) + sum(
                1 for f in data.get("findings", []) if f.get("severity", "error") == "error"
            )
            for f in data.get("findings", []):
                await ctx.emit(_finding(f, data.get("stage", "")))
        elif kind == "sandbox_output":
            await ctx.emit(ev.SandboxOutput(stream=str(data.get("stream", "stdout")), line=str(data.get("line", ""))))
        elif kind == "sandbox_run":
            await ctx.emit(
                ev.SandboxRan(
                    backend=str(data.get("backend", "")),
                    command=" ".join(data.get("argv") or [data.get("command", "")]),
                    exit_code=data.get("exit_code"),
                    duration_s=float(data.get("duration_s") or 0.0),
                    timed_out=data.get("killed_reason") == "timeout",
                    notice=str(data.get("killed_reason") or ""),
                )
            )
            # The command's output, for the app's log (not persisted: trace.txt keeps it), unless
            # it was already streamed line by line while the command ran.
            for stream in () if data.get("streamed") else ("stdout", "stderr"):
                lines = str(data.get(stream) or "").splitlines()
                if len(lines) > OUTPUT_LINES:
                    skipped = len(lines) - OUTPUT_LINES
                    lines = [f"[{skipped} earlier lines of {stream} in the iteration's trace.txt]",
                             *lines[-OUTPUT_LINES:]]  # fmt: skip
                for line in lines:
                    await ctx.emit(ev.SandboxOutput(stream=stream, line=line))
        elif kind in ("patch_applied", "patch_rejected"):
            await ctx.emit(ev.PatchProposed(iteration=n, diff=data.get("diff", "")))
            rejected = "; ".join(f"{r.get('path')}: {r.get('reason')}" for r in data.get("rejected", []))
            await ctx.emit(
                ev.PatchDecision(iteration=n, decision="apply", applied=kind == "patch_applied", reason=rejected)
            )
        elif kind == "patch_skipped":
            await ctx.emit(ev.PatchDecision(iteration=n, decision="skip"))
        elif kind == "escalated":
            await ctx.log(f"iteration {n}: escalating to {data.get('level')} ({data.get('reason')})", level="warning")
        elif kind == "amendment_proposed":
            await ctx.log(f"iteration {n}: the repairer proposes a blueprint amendment", level="warning")
        elif kind == "iteration_finished":
            await ctx.emit(
                ev.IterationFinished(
                    iteration=n,
                    passed=bool(data.get("passed", False)),
                    findings=errors_in.get(n, 0),
                    summary=str(data.get("status", "")),
                )
            )

    return emit


def rag_emitter(ctx: RunContext) -> Emit:
    """CodeRAG decisions become RetrievalDecision events; sources skipped become warnings."""
    pending: dict[str, Any] = {}

    async def emit(event: BaseModel) -> None:
        kind = getattr(event, "kind", "")
        data = event.model_dump()
        if kind == "rag.retrieval_decided":
            pending[data["path"]] = data
            if not data.get("retrieve"):
                await ctx.emit(ev.RetrievalDecision(path=data["path"], retrieve=False, reason=data.get("reason", "")))
        elif kind == "rag.retrieval_done":
            decided = pending.pop(data.get("path", ""), {})
            await ctx.emit(
                ev.RetrievalDecision(
                    path=data.get("path", ""),
                    retrieve=True,
                    reason="; ".join(r for r in (decided.get("reason", ""), data.get("selection", "")) if r),
                    tokens=int(data.get("tokens", 0)),
                )
            )
        elif kind == "rag.source_skipped":
            fix = f" (fix: {data['fix']})" if data.get("fix") else ""
            await ctx.log(f"reference source skipped: {data['spec']}: {data['reason']}{fix}", level="warning")
        elif kind == "rag.index_built":
            await ctx.log(f"reference index: {data['files']} files from {len(data['sources'])} sources")

    return emit
