"""The CodeMem generation loop: one file at a time, in dependency order.

For each planned file: assemble the context (blueprint slice + selected
memory + optional retrieval) under the token budget, ask the injected
``generate`` for the file, extract and check the code (empty or cut-off
replies are retried, up to ``max_attempts``), write it atomically unless a
human changed the file, then extract its memory entry. Memory is persisted
after every file, so a stopped run resumes where it left off.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Collection
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from deepcode_tui.codegen.consistency import check_consistency
from deepcode_tui.codegen.context import DEFAULT_BUDGET_TOKENS, assemble_context
from deepcode_tui.codegen.events import (
    ContextMeter,
    FileFailed,
    FileSkipped,
    FileStarted,
    FileWritten,
    FindingRaised,
    MemoryEntryAdded,
    ReplyRejected,
)
from deepcode_tui.codegen.findings import Finding
from deepcode_tui.codegen.memory import MemoryEntry, MemoryStore, content_hash, extract_entry
from deepcode_tui.codegen.plan import CodegenPlan, PlannedFile, normalise_plan_path
from deepcode_tui.codegen.watch import RepoWatcher, WriteLedger, read_text
from deepcode_tui.codegen.writer import (
    Extraction,
    PathRejected,
    atomic_write_text,
    confine_path,
    extract_code,
    unified_diff,
)
from deepcode_tui.errors import BudgetExceeded, Cancelled, ConfigError, ContextTooLong, DeepcodeError
from deepcode_tui.llm.correction import retry_messages

# async (messages, *, file_path, check) -> reply text or a gateway Completion; ``check(reply)``
# says why a reply is unusable (None when usable): the gateway caches only replies it accepts.
Generate = Callable[..., Awaitable[Any]]
Summarize = Callable[[str, str], Awaitable[str]]
Emit = Callable[[object], Awaitable[None]]
RetrievalFor = Callable[[PlannedFile], Awaitable[str | None]]
# At a file boundary: None to go on, else the plan to follow from here, bare or as an
# amendment (an object with ``plan`` and ``regenerate``: written files to write again).
ShouldPause = Callable[[], Awaitable[Any | None]]
ConfirmOverwrite = Callable[[str], Awaitable[bool]]

_SENTENCE = re.compile(r"(?<=[.!?])\s+")

# Below this a file's own spec and instructions may not fit: a context error then stands.
MIN_BUDGET_TOKENS = 1500


class StepRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    attempts: int
    meter: ContextMeter


class CodegenResult(BaseModel):
    """What the loop did. ``findings`` go to the verification phase."""

    model_config = ConfigDict(extra="forbid")

    written: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)  # resumed, or kept because a human edited them
    failed: dict[str, str] = Field(default_factory=dict)  # path -> reason
    human_edits: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    steps: list[StepRecord] = Field(default_factory=list)
    plan: CodegenPlan

    @property
    def ok(self) -> bool:
        return not self.failed


def clip_purpose(text: str, *, limit: int = 300) -> str:
    """At most two sentences and ``limit`` characters, on one line."""
    flat = " ".join(text.split())
    out = " ".join(_SENTENCE.split(flat)[:2])
    return out if len(out) <= limit else out[: limit - 3].rstrip() + "..."


class _Run:
    def __init__(
        self,
        plan,
        repo,
        run_dir,
        generate,
        summarize,
        emit,
        budget_tokens,
        retrieval_for,
        should_pause,
        confirm_overwrite,
        max_attempts,
        step_timeout,
        regenerate=(),
    ) -> None:
        self.plan: CodegenPlan = plan
        self.regenerate = {normalise_plan_path(p) for p in regenerate}
        self.repo = Path(repo)
        self.generate = generate
        self.summarize = summarize
        self.emit_cb = emit
        self.budget = budget_tokens
        self.retrieval_for = retrieval_for
        self.should_pause = should_pause
        self.confirm_overwrite = confirm_overwrite
        self.max_attempts = max(1, max_attempts)
        self.step_timeout = step_timeout
        self.store = MemoryStore(run_dir)
        self.ledger = WriteLedger(self.store)
        self.watcher = RepoWatcher(self.repo, self.store, self.ledger, plan=plan, emit=self._on_watch_event)
        self.result = CodegenResult(plan=plan)

    async def emit(self, event) -> None:
        if self.emit_cb is not None:
            await self.emit_cb(event)

    async def _on_watch_event(self, event) -> None:
        if getattr(event, "type", "") == "codegen_human_edit" and event.path not in self.result.human_edits:
            self.result.human_edits.append(event.path)
        await self.emit(event)

    async def finding(self, f: Finding) -> None:
        self.result.findings.append(f)
        await self.emit(FindingRaised(finding=f))

    # --- the loop -----------------------------------------------------------

    async def run(self, watch: bool) -> CodegenResult:
        self.repo.mkdir(parents=True, exist_ok=True)
        if watch:
            await self.watcher.start()
        try:
            processed: set[str] = set()
            while True:
                if self.should_pause is not None:
                    amended = await self.should_pause()
                    if amended is not None:
                        # A bare plan, or an amendment: its plan plus written files to write again.
                        new_plan = getattr(amended, "plan", amended)
                        again = {normalise_plan_path(p) for p in getattr(amended, "regenerate", None) or ()}
                        self.plan = self.watcher.plan = self.result.plan = new_plan
                        self.regenerate |= again
                        processed -= again
                if not self.watcher.running:  # no live events (not asked for, or the watcher died): poll
                    await self.watcher.scan()
                order = self.plan.order()
                pending = [f for f in order if f.path not in processed]
                if not pending:
                    break
                target = pending[0]
                processed.add(target.path)
                await self.one_file(target, index=len(order) - len(pending) + 1, total=len(order))
            await self.watcher.scan()  # edits the watcher has not delivered yet
        finally:
            if watch:
                await self.watcher.stop()
        for f in check_consistency(self.store, project_files=self.plan.paths()):
            await self.finding(f)
        return self.result

    async def one_file(self, target: PlannedFile, *, index: int, total: int) -> None:
        try:
            rel = confine_path(self.repo, target.path)
        except PathRejected as e:
            await self.finding(
                Finding(file=target.path, kind="path_escape", message=f"planned path rejected: {e.message}")
            )
            await self.fail(target.path, e.message, 0)
            return
        full = self.repo / rel
        approved: str | None = None  # hash of a file the user allowed us to overwrite
        if full.exists():
            keep = await self.existing_file(target, rel, full)
            if keep is None:
                return
            approved = keep
        await self.emit(FileStarted(path=rel, index=index, total=total, stage=target.stage))
        retrieval = await self.retrieval_for(target) if self.retrieval_for is not None else None
        budget = self.budget
        while True:
            ctx = assemble_context(target, self.plan, self.store, budget_tokens=budget, retrieval=retrieval)
            await self.emit(ctx.meter)
            try:
                code, attempts = await self.ask(target, rel, ctx.messages)
                break
            except ContextTooLong as exc:
                # The model reads less than the budget assumed: the same file with half the
                # context (memory entries compacted, retrieval cut) usually still fits the task.
                if budget // 2 < MIN_BUDGET_TOKENS:
                    raise
                budget //= 2
                await self.finding(Finding(file=rel, kind="context_reduced", severity="warning",
                                           message=f"the prompt was too long for the model ({exc.message[:120]}); "
                                           f"asked again with a context budget of {budget} tokens"))  # fmt: skip
        self.result.steps.append(StepRecord(path=rel, attempts=attempts, meter=ctx.meter))
        if code is None:
            return
        if not await self.may_write(rel, full, approved):
            return
        old = read_text(full) if full.exists() else ""
        entry = await self.make_entry(target, rel, code, origin="generated")
        h = entry.written_hash = self.ledger.expect(rel, code)
        # memory first: a crash between the two leaves a missing file (regenerated on resume),
        # never a written file that memory does not describe
        self.store.append(entry)
        try:
            atomic_write_text(full, code)
        except OSError as e:
            self.store.remove(rel)
            raise DeepcodeError(
                f"cannot write {rel} in {self.repo}: {e.strerror or e}",
                "check the repository directory's free space and permissions, then resume the run",
            ) from e
        self.ledger.settled(rel, full)
        await self.emit(
            FileWritten(
                path=rel,
                diff=unified_diff(rel, old or "", code),
                created=not old,
                attempts=attempts,
                content_hash=h,
                lines=code.count("\n"),
            )
        )
        self.result.written.append(rel)
        await self.entry_added(entry)
        if entry.parse_error:
            await self.finding(
                Finding(
                    file=rel,
                    kind="syntax_error",
                    message="the written file does not parse; the verification phase should repair it",
                )
            )

    async def existing_file(self, target: PlannedFile, rel: str, full: Path) -> str | None:
        """Decide about a file already on disk: None to skip it, else the hash approved for overwriting."""
        text = read_text(full) or ""
        h = content_hash(text)
        entry = self.store.get(rel)
        unchanged = entry is not None and entry.content_hash == h == entry.written_hash
        if unchanged and rel in self.regenerate:
            return h  # an amendment changed what this file must be; no one has edited it since
        if unchanged:
            self.ledger.remember(rel, text, full)
            self.result.skipped.append(rel)
            await self.emit(FileSkipped(path=rel, reason="resumed"))
            return None
        if self.confirm_overwrite is not None and await self.confirm_overwrite(rel):
            return h
        human = entry is not None or self.ledger.written_hash(rel) is not None
        if human:
            await self.watcher.reconcile(rel)  # memory follows the file on disk, with an event
        if self.store.get(rel) is None or self.store.get(rel).content_hash != h:
            kept = await self.make_entry(target, rel, text, origin="human" if human else "existing")
            await self.add_entry(kept)
        self.result.skipped.append(rel)
        await self.emit(FileSkipped(path=rel, reason="human_edit" if human else "existing"))
        await self.finding(
            Finding(
                file=rel,
                kind="human_edit_kept",
                severity="warning",
                message=(
                    "changed outside the app; kept as is, not regenerated"
                    if human
                    else "already existed before generation; kept as is, not regenerated"
                ),
            )
        )
        return None

    async def may_write(self, rel: str, full: Path, approved: str | None) -> bool:
        """False (with a finding) when someone changed the file while it was being generated."""
        if not full.exists():
            return True
        h = content_hash(read_text(full) or "")
        if h == approved or h == self.ledger.written_hash(rel):
            return True
        if self.confirm_overwrite is not None and await self.confirm_overwrite(rel):
            return True
        await self.watcher.reconcile(rel)
        self.result.skipped.append(rel)
        await self.emit(FileSkipped(path=rel, reason="human_edit"))
        await self.finding(
            Finding(
                file=rel,
                kind="human_edit_kept",
                severity="warning",
                message="changed outside the app during generation; the generated version was not written",
            )
        )
        return False

    async def ask(
        self, target: PlannedFile, rel: str, messages: list[dict[str, str]]
    ) -> tuple[str | None, int]:
        """The usable code for ``rel`` after at most ``max_attempts`` replies, and the attempts used.

        A retry is never the same request again (the cache, a cassette or a deterministic
        model would answer it with the same rejected reply): it carries that reply and why
        it was rejected (:mod:`deepcode_tui.llm.correction`), and ``generate`` gets the
        check, so the gateway never caches a reply this loop rejects."""
        problem, rejected = "", None

        def check(reply: Any) -> str | None:
            return reply_problem(reply, rel, self.repo)

        for attempt in range(1, self.max_attempts + 1):
            msgs = messages if attempt == 1 else retry_messages(
                messages, rejected, f"({problem})", _ask_again(rel), attempt=attempt, attempts=self.max_attempts,
            )  # fmt: skip
            rejected = None
            try:
                call = self.generate(msgs, file_path=rel, check=check)
                reply = await (asyncio.wait_for(call, self.step_timeout) if self.step_timeout else call)
            except TimeoutError:
                reply, problem = None, f"no reply within {self.step_timeout:g} s"
            if reply is not None:
                text = reply.text if hasattr(reply, "text") else reply  # a gateway Completion, or text
                rejected = text if isinstance(text, str) else None
                why, ex = _judge(reply, rel, self.repo)
                for f in ex.findings if ex is not None else ():
                    await self.finding(f)  # e.g. a block labelled with a path outside the repo
                if why is None and ex is not None:
                    return ex.code, attempt
                problem = why or ""
            await self.emit(ReplyRejected(path=rel, attempt=attempt, reason=problem))
        await self.fail(
            rel, f"no usable reply after {self.max_attempts} attempt(s); last: {problem}", self.max_attempts
        )
        return None, self.max_attempts

    async def fail(self, path: str, reason: str, attempts: int) -> None:
        self.result.failed[path] = reason
        await self.emit(FileFailed(path=path, reason=reason, attempts=attempts))

    async def make_entry(self, target: PlannedFile, rel: str, code: str, *, origin) -> MemoryEntry:
        purpose = target.purpose
        if self.summarize is not None:
            try:
                got = await self.summarize(rel, code)
                purpose = clip_purpose(got) or purpose
            except (Cancelled, BudgetExceeded, asyncio.CancelledError):
                raise  # stopping the run is not a summarizer failure
            except Exception:  # noqa: BLE001 - a summary is a nicety: fall back to the blueprint's purpose
                purpose = target.purpose
        files = set(self.plan.paths()) | {e.path for e in self.store}
        return extract_entry(
            rel,
            code,
            project_files=files,
            purpose=clip_purpose(purpose),
            consumers=self.plan.consumers_of(rel),
            origin=origin,
        )

    async def add_entry(self, entry: MemoryEntry) -> None:
        self.store.append(entry)
        await self.entry_added(entry)

    async def entry_added(self, entry: MemoryEntry) -> None:
        await self.emit(
            MemoryEntryAdded(
                path=entry.path,
                purpose=entry.purpose,
                origin=entry.origin,
                symbols=entry.interface.public_count(),
                tokens=self.store.rendered(entry)[1],
            )
        )


CUT_OFF = "cut off at the token limit: reply with the whole file, more concisely"


def reply_problem(reply: Any, rel: str, repo: Path | None = None) -> str | None:
    """Why ``reply`` (text or a gateway Completion) cannot be written as ``rel``, or None."""
    return _judge(reply, rel, repo)[0]


def _judge(reply: Any, rel: str, repo: Path | None) -> tuple[str | None, Extraction | None]:
    # A reply cut at the token cap is refused even when what arrived parses: the file is not all there.
    if getattr(reply, "finish_reason", "") == "length":
        return CUT_OFF, None
    text = reply.text if hasattr(reply, "text") else reply
    if not isinstance(text, str):
        return f"the model call returned {type(text).__name__}, not text", None
    ex = extract_code(text, rel, repo=repo)
    if ex.problem is None and ex.code:
        return None, ex
    return ex.problem or "empty: the reply holds no code", ex


def _ask_again(rel: str) -> str:
    return f"Reply again with the complete file `{rel}`, start to end, in one fenced code block labelled with its path."


async def generate_repository(
    plan: CodegenPlan,
    repo: Path,
    run_dir: Path,
    generate: Generate,
    *,
    summarize: Summarize | None = None,
    emit: Emit | None = None,
    budget_tokens: int = DEFAULT_BUDGET_TOKENS,
    retrieval_for: RetrievalFor | None = None,
    should_pause: ShouldPause | None = None,
    confirm_overwrite: ConfirmOverwrite | None = None,
    max_attempts: int = 3,
    step_timeout: float | None = None,
    watch: bool = True,
    regenerate: Collection[str] = (),
) -> CodegenResult:
    """Write ``plan``'s files into ``repo`` one at a time; memory lives in ``run_dir/memory``.

    ``generate(messages, file_path=...)`` returns the raw reply; ``summarize(path, code)``
    gives a file's purpose (else the plan's); ``emit(event)`` receives the events of
    ``codegen.events``; ``retrieval_for(planned_file)`` returns CodeRAG text;
    ``should_pause()`` runs at every file boundary and may return an amended plan;
    ``confirm_overwrite(path)`` is asked before replacing a file someone else changed
    (default: never replace it). Files already written with a matching memory entry
    are skipped, so calling this again resumes; files already handled in this call
    are not regenerated when ``should_pause`` returns a bare plan; when it returns an
    amendment (``plan`` and ``regenerate``), the files it names are written again. Files in ``regenerate`` (an
    approved amendment's list) are written again unless someone edited them since they were
    generated (those are kept, as above). Provider errors, budget stops and
    cancellation propagate after the last complete file is persisted.
    """
    if budget_tokens < 500:
        raise ConfigError(
            f"a context budget of {budget_tokens} tokens is too small to generate a file",
            "use a budget of at least 500 tokens (default 12000)",
        )
    run = _Run(
        plan,
        repo,
        run_dir,
        generate,
        summarize,
        emit,
        budget_tokens,
        retrieval_for,
        should_pause,
        confirm_overwrite,
        max_attempts,
        step_timeout,
        regenerate,
    )
    return await run.run(watch)
