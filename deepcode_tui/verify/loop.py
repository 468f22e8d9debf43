"""The closed repair loop: verify, find, propose, apply, repeat.

One iteration = a verification (static pass, then the verification commands
in the sandbox) and, when it fails, one repair (the injected repairer's
proposal, shown to the optional step hook, then applied). The loop stops
when verification passes, after ``max_iterations`` repairs (a final
verification is still recorded), or when escalation ends in a blueprint
amendment. No progress (the same failure signature twice in a row)
escalates: patch -> whole-file rewrite of the implicated files -> a proposed
blueprint amendment, which only an approval callback can accept. A repo with
no tests first gets smoke tests from the repairer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from .execution import (
    PYTEST_ARGV,
    CommandOutcome,
    SandboxSession,
    VerifyCommand,
    discover_commands,
    has_tests,
)
from .findings import Finding, Kind, errors, failure_signature
from .history import CommandSummary, IterationRecord, IterationResult, IterationStore, now_iso
from .memory import attach_memory, with_imported_files
from .patches import PatchResult, PathRejected, resolve_in_repo
from .repair import Decision, Repairer, RepairMode, RepairProposal, RepairRequest, apply_proposal
from .sandbox.base import Limits, SandboxBackend
from .static import run_static_checks

Emit = Callable[[dict[str, Any]], Awaitable[None]]
StepHook = Callable[[int, RepairProposal], Awaitable[Decision]]
Approve = Callable[[str], Awaitable[bool]]
StopReason = Literal[
    "passed", "cap", "amendment_approved", "amendment_rejected", "amendment_pending", "no_progress"
]
_BLOCKING_STATIC = {Kind.SYNTAX_ERROR, Kind.MISSING_FILE}


class LoopConfig(BaseModel):
    max_iterations: int = Field(5, ge=0, description="repair attempts before giving up")
    network: bool = False
    limits: Limits = Field(default_factory=Limits)
    command_timeout_s: float = 120
    setup_timeout_s: float = 900
    # Repack the host's installed pure-Python copies into the wheelhouse before
    # asking the index (offline machines; also what the tests use).
    wheelhouse_from_installed: bool = False
    write_smoke_tests: bool = True
    # Rank suspect lines (spectrum-based) when tests fail only on assertions.
    localise: bool = True
    # Then confirm one by re-running the failing tests against boundary mutants (0: off).
    mutation_budget_s: float = Field(90, ge=0)
    # How tests are run when the repo has tests but no test command was given.
    test_argv: list[str] = Field(default_factory=lambda: list(PYTEST_ARGV))
    # Syntax errors and missing files make every run fail the same way: skip the sandbox then.
    skip_sandbox_on_blocking_static: bool = True
    file_excerpt_chars: int = 16_000
    trace_excerpt_lines: int = 120
    max_findings_in_request: int = 40


class Verification(BaseModel):
    findings: list[Finding] = Field(default_factory=list)
    outcomes: list[CommandOutcome] = Field(default_factory=list)
    trace: str = ""
    sandbox_skipped: str | None = None

    @property
    def passed(self) -> bool:
        # Nothing ran is not a pass: "success" means verification commands passed.
        return bool(self.outcomes) and not errors(self.findings) and all(o.ok for o in self.outcomes)


class LoopResult(BaseModel):
    passed: bool
    stopped: StopReason
    iterations: int
    findings: list[Finding] = Field(default_factory=list)
    amendment: str | None = None
    tokens: int = 0
    cost_usd: float = 0.0


class RepairLoop:
    """See the module docstring. ``commands`` None means: discover (tests and
    ``--help`` smoke runs of entry points) at each verification.
    ``extra_findings`` is called at each static pass (CodeMem consistency)."""

    def __init__(
        self,
        repo: Path,
        run_dir: Path,
        *,
        repairer: Repairer | None,
        backend: SandboxBackend | None,
        expected_files: Sequence[str] = (),
        planned_components: Mapping[str, Sequence[str]] | None = None,
        declared_packages: list[str] | None = None,
        commands: Sequence[VerifyCommand] | None = None,
        config: LoopConfig | None = None,
        memory: Mapping[str, dict[str, Any] | str] | None = None,
        extra_findings: Callable[[], Iterable[Finding]] | None = None,
        step_hook: StepHook | None = None,
        emit: Emit | None = None,
        approve_amendment: Approve | None = None,
        blueprint_excerpt: str = "",
    ) -> None:
        self.repo = Path(repo).resolve()
        self.run_dir = Path(run_dir)
        self.repairer = repairer
        self.backend = backend
        self.expected_files = list(expected_files)
        self.planned_components = dict(planned_components or {})
        self.declared_packages = declared_packages
        self.commands = list(commands) if commands is not None else None
        self.config = config or LoopConfig()
        self.memory = memory or {}
        self.extra_findings = extra_findings
        self.step_hook = step_hook
        self._emit = emit
        self.approve_amendment = approve_amendment
        self.blueprint_excerpt = blueprint_excerpt
        self.store = IterationStore(self.run_dir)
        self.session = (
            SandboxSession(backend, self.repo, self.run_dir / "sandbox", limits=self.config.limits,
                           network=self.config.network, setup_timeout_s=self.config.setup_timeout_s,
                           wheelhouse_from_installed=self.config.wheelhouse_from_installed,
                           confirm_by_mutation=self.config.mutation_budget_s > 0,
                           mutation_budget_s=self.config.mutation_budget_s)
            if backend is not None else None
        )
        self.history: list[str] = []
        self.tokens = 0
        self.cost = 0.0

    async def emit(self, event_type: str, **fields: Any) -> None:
        if self._emit is not None:
            await self._emit({"type": event_type, **fields})

    # -- verification ------------------------------------------------------------------------
    def current_commands(self) -> list[VerifyCommand]:
        if self.commands is None:
            cmds = discover_commands(self.repo, timeout_s=self.config.command_timeout_s)
            cmds = [c.model_copy(update={"argv": list(self.config.test_argv)}) if c.kind == "test" else c
                    for c in cmds]
        else:
            cmds = list(self.commands)
        if not any(c.kind == "test" for c in cmds) and has_tests(self.repo):
            cmds.insert(0, VerifyCommand(name="tests", argv=list(self.config.test_argv), kind="test",
                                         timeout_s=self.config.command_timeout_s))
        return cmds

    async def verify(self, iteration: int) -> Verification:
        """The static pass, then each verification command in the sandbox."""
        extra = list(self.extra_findings()) if self.extra_findings else []
        static = await asyncio.to_thread(
            run_static_checks, self.repo, expected_files=self.expected_files,
            declared_packages=self.declared_packages, extra_findings=extra,
            components=self.planned_components,
        )
        await self.emit("findings", iteration=iteration, stage="static", findings=[f.model_dump() for f in static])
        v = Verification(findings=list(static))
        blocking = [f for f in errors(static) if f.kind in _BLOCKING_STATIC]
        commands = self.current_commands()
        if self.session is None:
            v.sandbox_skipped = "no sandbox backend"
        elif not commands:
            v.sandbox_skipped = "no verification commands (no tests and no entry points)"
            v.findings.append(Finding(
                kind="no_verification", stage="sandbox",
                message="no verification command ran: the repo has no tests and no entry point, "
                        "and the blueprint names no command",
            ))
        elif blocking and self.config.skip_sandbox_on_blocking_static:
            v.sandbox_skipped = f"static pass found {len(blocking)} syntax error(s) or missing file(s)"
        if v.sandbox_skipped:
            v.trace = f"[sandbox skipped: {v.sandbox_skipped}]\n"
            skipped = [f for f in v.findings if f.stage == "sandbox"]
            if skipped:
                await self.emit("findings", iteration=iteration, stage="sandbox",
                                findings=[f.model_dump() for f in skipped])
            return v
        assert self.session is not None
        traces: list[str] = []
        setup = await self.session.prepare(commands)
        outcomes: list[CommandOutcome] = [setup] if setup is not None else []
        if setup is None or setup.ok:
            for cmd in commands:
                outcome = await self.session.run(cmd, on_output=self._live_output(iteration))
                if "reproduce.sh" in " ".join(cmd.argv):
                    _save_reproduce_log(self.repo, outcome)
                if self.config.localise and cmd.kind == "test" and not outcome.ok:
                    outcome.findings += await self.session.localise(outcome)
                outcomes.append(outcome)
                await self._emit_run(iteration, outcome)
        elif setup is not None:
            await self._emit_run(iteration, setup)
        for o in outcomes:
            r = o.result
            traces.append(f"$ {' '.join(o.command.argv)}    [{o.command.name}; {r.backend}; exit {r.exit_code}; "
                          f"{r.duration_s:.1f} s{'; ' + r.killed_reason if r.killed_reason else ''}]\n"
                          f"{r.combined_output()}\n")
            v.findings += o.findings
        v.outcomes = [o for o in outcomes if o.command.kind != "setup" or not o.ok]
        v.trace = "\n".join(traces)
        sandbox_findings = [f for o in outcomes for f in o.findings]
        await self.emit("findings", iteration=iteration, stage="sandbox",
                        findings=[f.model_dump() for f in sandbox_findings])
        return v

    def _live_output(self, iteration: int):
        """A callback streaming a command's output lines as events while it runs."""
        if self._emit is None:
            return None

        async def line(stream: str, text: str) -> None:
            await self.emit("sandbox_output", iteration=iteration, stream=stream, line=text)

        return line

    async def _emit_run(self, iteration: int, o: CommandOutcome) -> None:
        r = o.result
        # Test commands streamed their output live; the setup step's output comes here.
        streamed = o.command.kind != "setup" and self._emit is not None
        await self.emit("sandbox_run", iteration=iteration, command=o.command.name, argv=o.command.argv,
                        backend=r.backend, exit_code=r.exit_code, duration_s=r.duration_s, ok=r.ok,
                        killed_reason=r.killed_reason, stdout=r.stdout, stderr=r.stderr, streamed=streamed)

    # -- repair ------------------------------------------------------------------------------
    def _files_for(self, findings: Sequence[Finding], extra: Sequence[str] = ()) -> dict[str, str]:
        files: dict[str, str] = {}
        budget = self.config.file_excerpt_chars
        wanted = [*extra, *(p for f in findings for p in (f.file, *f.related) if p)]
        for rel in dict.fromkeys(wanted):
            try:
                text = resolve_in_repo(self.repo, rel).read_text(errors="replace")
            except (OSError, PathRejected):
                continue
            if budget <= 0:
                break
            files[rel] = text[:budget]
            budget -= len(files[rel])
        return files

    def _request(self, n: int, mode: RepairMode, v: Verification, targets: Sequence[str] = ()) -> RepairRequest:
        ordered = sorted(v.findings, key=lambda f: {"error": 0, "warning": 1, "info": 2}[f.severity])
        shown = attach_memory(with_imported_files(self.repo, ordered[: self.config.max_findings_in_request]),
                              self.memory)
        memory: list[dict[str, Any] | str] = []
        for f in shown:
            for entry in f.memory_entries:
                if entry not in memory:
                    memory.append(entry)
        lines = v.trace.splitlines()
        excerpt = "\n".join(lines[-self.config.trace_excerpt_lines:])
        if len(lines) > self.config.trace_excerpt_lines:
            excerpt = "[... earlier output omitted ...]\n" + excerpt
        return RepairRequest(
            iteration=n, mode=mode, findings=shown, trace_excerpt=excerpt,
            files=self._files_for(errors(shown), targets), memory_entries=memory, target_files=list(targets),
            history=list(self.history), blueprint_excerpt=self.blueprint_excerpt,
        )

    @staticmethod
    def _targets(v: Verification, limit: int = 2) -> list[str]:
        files = [f.file for f in errors(v.findings) if f.file]
        return list(dict.fromkeys(files))[:limit]

    async def _propose(self, request: RepairRequest) -> RepairProposal | None:
        if self.repairer is None:
            return None
        proposal = await self.repairer.propose(request)
        self.tokens += proposal.tokens
        self.cost += proposal.cost_usd
        return proposal

    async def _decide(self, n: int, proposal: RepairProposal) -> tuple[str, RepairProposal | None]:
        if self.step_hook is None:
            return "apply", proposal
        decision = await self.step_hook(n, proposal)
        if decision.action == "skip":
            return "skip", None
        if decision.action == "edit":
            return "edit", decision.edited_proposal or proposal
        return "apply", proposal

    def _record(self, n: int, mode: str, v: Verification, status: str, started: str, *,
                proposal: RepairProposal | None = None, patch: PatchResult | None = None,
                decision: str | None = None, notes: Sequence[str] = ()) -> IterationRecord:
        errs = errors(v.findings)
        rec = IterationRecord(
            result=IterationResult(
                iteration=n, mode=mode, passed=v.passed, status=status,  # type: ignore[arg-type]
                error_count=len(errs), finding_count=len(v.findings), signature=sorted(failure_signature(errs)),
                backend=self.backend.describe() if self.backend else None,
                commands=[CommandSummary(name=o.command.name, argv=o.command.argv, exit_code=o.result.exit_code,
                                         duration_s=round(o.result.duration_s, 3), timed_out=o.result.timed_out,
                                         killed_reason=o.result.killed_reason) for o in v.outcomes],
                decision=decision,
                applied_edits=patch.applied if patch else 0,
                rejected_edits=[{"path": r.path, "reason": r.reason} for r in patch.rejected] if patch else [],
                changed_files=patch.changed_files if patch else [],
                rationale=proposal.rationale if proposal else "",
                prompt_tokens=proposal.prompt_tokens if proposal else 0,
                completion_tokens=proposal.completion_tokens if proposal else 0,
                tokens=proposal.tokens if proposal else 0,
                cost_usd=proposal.cost_usd if proposal else 0.0,
                notes=[*([f"sandbox skipped: {v.sandbox_skipped}"] if v.sandbox_skipped else []), *notes],
                started_at=started, finished_at=now_iso(),
            ),
            trace=v.trace, findings=v.findings, diff=patch.diff if patch else "", proposal=proposal,
        )
        self.store.write(rec)
        return rec

    # -- the loop ----------------------------------------------------------------------------
    async def _smoke_tests_first(self) -> None:
        if not (self.config.write_smoke_tests and self.repairer is not None) or has_tests(self.repo):
            return
        if self.commands is not None and any(c.kind == "test" for c in self.commands):
            return
        started = now_iso()
        await self.emit("iteration_started", iteration=0, mode="smoke_tests")
        v = Verification(trace="[no tests in the repo: asking the repairer for smoke tests]\n")
        request = RepairRequest(
            iteration=0, mode="smoke_tests", files=self._files_for([], self._entry_files()),
            memory_entries=list(self.memory.values()), history=[], blueprint_excerpt=self.blueprint_excerpt,
        )
        proposal = await self._propose(request)
        if proposal is None or not proposal.smoke_tests:
            self._record(0, "smoke_tests", v, "no_proposal", started, proposal=proposal)
            await self.emit("iteration_finished", iteration=0, status="no_proposal")
            return
        decision, chosen = await self._decide(0, proposal)
        if chosen is None:
            self._record(0, "smoke_tests", v, "skipped", started, proposal=proposal, decision=decision)
            await self.emit("patch_skipped", iteration=0)
            await self.emit("iteration_finished", iteration=0, status="skipped")
            return
        only_tests = RepairProposal(smoke_tests=chosen.smoke_tests)
        patch, notes = apply_proposal(self.repo, "smoke_tests", only_tests)
        self._record(0, "smoke_tests", v, "smoke_tests", started, proposal=proposal, patch=patch,
                     decision=decision, notes=notes)
        await self.emit("patch_applied", iteration=0, changed_files=patch.changed_files, diff=patch.diff)
        await self.emit("iteration_finished", iteration=0, status="smoke_tests")
        self.history.append(f"iteration 0: wrote smoke tests {', '.join(patch.changed_files) or '(none)'}")

    def _entry_files(self) -> list[str]:
        out = []
        for p in sorted(self.repo.rglob("*.py")):
            rel = p.relative_to(self.repo).as_posix()
            if not any(part.startswith(".") for part in rel.split("/")):
                out.append(rel)
        return out[:20]

    def _resume_point(self) -> tuple[int, frozenset[str] | None]:
        """Iterations already recorded in this run dir (a resumed run): the last number
        and its failure signature; their summaries go back into the history, so the
        repairer sees what was tried and the records are never overwritten."""
        done = [r for r in self.store.list() if r.iteration > 0]
        for r in done:
            changed = f"; applied {r.applied_edits} edit(s)" if r.applied_edits else ""
            self.history.append(f"iteration {r.iteration} ({r.mode}): {r.error_count} errors; {r.status}{changed}")
        if not done:
            return 0, None
        return done[-1].iteration, frozenset(done[-1].signature)

    async def run(self) -> LoopResult:
        n, previous = self._resume_point()
        if n == 0 and not self.store.numbers():
            await self._smoke_tests_first()
        level = 0  # 0 patch, 1 rewrite, 2 amendment
        while True:
            n += 1
            started = now_iso()
            await self.emit("iteration_started", iteration=n)
            v = await self.verify(n)
            if v.passed:
                self._record(n, "verify", v, "passed", started)
                await self.emit("iteration_finished", iteration=n, status="passed", passed=True)
                return self._result(True, "passed", n, v)
            if n > self.config.max_iterations or self.repairer is None:
                self._record(n, "verify", v, "failed", started,
                             notes=["repair cap reached" if self.repairer else "no repairer"])
                await self.emit("iteration_finished", iteration=n, status="failed", passed=False)
                return self._result(False, "cap", n, v)
            sig = failure_signature(errors(v.findings))
            if previous is not None and sig == previous:
                level += 1
                await self.emit("escalated", iteration=n, level=["patch", "rewrite", "amendment"][min(level, 2)],
                                reason="the same failure twice in a row")
            elif previous is not None:
                level = 0
            previous = sig
            mode: RepairMode = "patch" if level == 0 else "rewrite" if level == 1 else "amendment"
            targets = self._targets(v) if mode == "rewrite" else []
            proposal = await self._propose(self._request(n, mode, v, targets))
            if mode == "amendment":
                return await self._amendment(n, v, proposal, started)
            if proposal is None or proposal.is_empty():
                self._record(n, mode, v, "no_proposal", started, proposal=proposal)
                self.history.append(f"iteration {n} ({mode}): {len(errors(v.findings))} errors; no proposal")
                await self.emit("iteration_finished", iteration=n, status="no_proposal", passed=False)
                continue
            decision, chosen = await self._decide(n, proposal)
            if chosen is None:
                self._record(n, mode, v, "skipped", started, proposal=proposal, decision=decision)
                self.history.append(f"iteration {n} ({mode}): proposal skipped by the user")
                await self.emit("patch_skipped", iteration=n)
                await self.emit("iteration_finished", iteration=n, status="skipped", passed=False)
                continue
            patch, notes = apply_proposal(self.repo, mode, chosen)
            status = "patched" if patch.changed_files else "rejected"
            self._record(n, mode, v, status, started, proposal=chosen, patch=patch, decision=decision, notes=notes)
            rejected = "; ".join(f"{r.path}: {r.reason}" for r in patch.rejected)
            self.history.append(
                f"iteration {n} ({mode}): {len(errors(v.findings))} errors "
                f"({', '.join(sorted(sig))[:300]}); changed {', '.join(patch.changed_files) or 'nothing'}"
                + (f"; rejected edits: {rejected}" if rejected else "")
            )
            await self.emit("patch_applied" if patch.changed_files else "patch_rejected", iteration=n,
                            changed_files=patch.changed_files, diff=patch.diff,
                            rejected=[r.model_dump() for r in patch.rejected])
            await self.emit("iteration_finished", iteration=n, status=status, passed=False)

    async def _amendment(self, n: int, v: Verification, proposal: RepairProposal | None, started: str) -> LoopResult:
        text = proposal.blueprint_amendment if proposal else None
        if not text:
            self._record(n, "amendment", v, "no_proposal", started, proposal=proposal,
                         notes=["no progress after patching and rewriting, and no amendment proposed"])
            await self.emit("iteration_finished", iteration=n, status="no_proposal", passed=False)
            return self._result(False, "no_progress", n, v)
        await self.emit("amendment_proposed", iteration=n, amendment=text)
        if self.approve_amendment is None:
            stop: StopReason = "amendment_pending"
        else:
            stop = "amendment_approved" if await self.approve_amendment(text) else "amendment_rejected"
        self._record(n, "amendment", v, "amendment", started, proposal=proposal, decision=stop)
        await self.emit("iteration_finished", iteration=n, status="amendment", passed=False, outcome=stop)
        return self._result(False, stop, n, v, amendment=text)

    def _result(self, passed: bool, stop: StopReason, n: int, v: Verification, amendment: str | None = None):
        return LoopResult(passed=passed, stopped=stop, iterations=n, findings=v.findings, amendment=amendment,
                          tokens=self.tokens, cost_usd=round(self.cost, 6))


async def run_repair_loop(repo: Path, run_dir: Path, **kwargs: Any) -> LoopResult:
    """``RepairLoop(repo, run_dir, **kwargs).run()``."""
    return await RepairLoop(repo, run_dir, **kwargs).run()


def _save_reproduce_log(repo: Path, outcome: CommandOutcome) -> None:
    """Keep the reproduction's output as ``reproduce.log`` in the repo, as PaperBench's
    reproduction step does (its grader reads it for the Result Analysis leaves).
    The text is the sandbox's captured output (bounded, secrets scrubbed)."""
    from deepcode_tui.repo_paths import PathRefused, confine
    from deepcode_tui.store.atomic import write_text_atomic

    try:
        rel = confine(repo, "reproduce.log")
    except PathRefused:
        return
    r = outcome.result
    head = f"$ {' '.join(outcome.command.argv)}\n# exit {r.exit_code}; {r.duration_s:.1f} s; {r.backend}\n"
    try:
        write_text_atomic(repo / rel, head + r.combined_output())
    except OSError:
        pass
