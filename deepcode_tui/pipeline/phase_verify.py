"""The verify phase: static checks, sandboxed runs and model repairs, until it passes or the cap."""

from __future__ import annotations

import asyncio
import re
import shlex
from pathlib import Path
from typing import Any

from deepcode_tui.pipeline.bridge import verify_emitter
from deepcode_tui.pipeline.context import RunContext
from deepcode_tui.pipeline.gate import GateRequest, ask
from deepcode_tui.pipeline.roles import ModelRepairer, ensure_gateway
from deepcode_tui.pipeline.verify_amendment import amendment_problem, apply_amendment
from deepcode_tui.store.atomic import write_json_atomic, write_text_atomic

_PYTEST_COUNTS = re.compile(r"(\d+) (passed|failed|error|errors)\b")


def _load_blueprint(ctx: RunContext):
    bp = ctx.services.get("blueprint")
    if bp is not None:
        return bp
    from deepcode_tui.blueprint.yaml_io import load_blueprint_yaml

    path = ctx.store.path("blueprint", "approved.yaml")
    return load_blueprint_yaml(path.read_text(encoding="utf-8"), check=False) if path.is_file() else None


def _approved_text(ctx: RunContext) -> str:
    path = ctx.store.path("blueprint", "approved.yaml")
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _commands(bp, timeout_s: float):
    from deepcode_tui.verify.execution import VerifyCommand

    if bp is None or not bp.verification.commands:
        return None  # the loop discovers them (tests, entry points)
    commands = []
    for i, line in enumerate(bp.verification.commands, start=1):
        argv = shlex.split(line)
        if not argv:
            continue
        kind = "test" if "pytest" in line else "smoke"
        commands.append(VerifyCommand(name=f"{kind}-{i}", argv=argv, timeout_s=timeout_s, kind=kind))
    return commands or None


def _memory(ctx: RunContext) -> dict[str, str]:
    from deepcode_tui.codegen.memory import MemoryStore

    try:
        store = MemoryStore(ctx.run_dir)
        return {e.path: store.rendered(e, compact=True)[0] for e in store.entries()}
    except Exception:  # memory is context for the repairer, never a reason to fail verification
        return {}


def _test_counts(trace: str) -> tuple[int | None, int | None]:
    counts = {"passed": 0, "failed": 0}
    found = False
    for line in trace.splitlines()[::-1]:
        if " in " in line and ("passed" in line or "failed" in line or "error" in line):
            for number, word in _PYTEST_COUNTS.findall(line):
                counts["failed" if word != "passed" else "passed"] += int(number)
                found = True
            if found:
                break
    return (counts["passed"], counts["failed"]) if found else (None, None)


class VerifyPhase:
    name = "verify"

    async def run(self, ctx: RunContext) -> dict[str, Any]:
        from deepcode_tui.verify.completeness import planned_components
        from deepcode_tui.verify.history import IterationStore
        from deepcode_tui.verify.loop import LoopConfig, RepairLoop
        from deepcode_tui.verify.sandbox import choose_backend
        from deepcode_tui.verify.sandbox.base import Limits

        s = ctx.settings.sandbox
        backend, notice = await asyncio.to_thread(
            choose_backend, s.backend, s.allow_weak, rootfs=s.rootfs, image=s.image
        )
        await ctx.log(notice, level="warning" if notice.startswith("WARNING") else "info", phase=self.name)
        bp = _load_blueprint(ctx)
        gateway = await ensure_gateway(ctx)
        proposed: dict[str, str] = {}
        amended: list[str] = []  # versions approved from the repairer's proposals in this phase
        cap = ctx.settings.verify.max_iterations
        while True:
            config = LoopConfig(
                max_iterations=cap,
                network=s.network,
                limits=Limits(memory_mb=s.memory_mb, cpus=s.cpus, pids=s.pids, disk_mb=s.disk_mb),
                command_timeout_s=s.timeout_s,
                wheelhouse_from_installed=True,
                mutation_budget_s=ctx.settings.verify.mutation_budget_s,
            )
            loop = RepairLoop(
                ctx.store.repo_dir,
                ctx.run_dir,
                repairer=ModelRepairer(gateway, blueprint_yaml=_approved_text(ctx)),
                backend=backend,
                expected_files=bp.paths() if bp is not None else [],
                planned_components=planned_components(bp) if bp is not None else None,
                declared_packages=[p.name for p in bp.environment.packages] if bp is not None else None,
                commands=_commands(bp, s.timeout_s),
                config=config,
                memory=_memory(ctx),
                step_hook=ctx.services.get("step_hook")
                or (self._gate_step(ctx) if ctx.settings.verify.step else None),
                emit=verify_emitter(ctx),
                # One amendment per phase: a second proposal waits for the human's review.
                approve_amendment=self._approve_amendment(ctx, proposed) if not amended else None,
            )
            result = await loop.run()
            if result.stopped != "amendment_approved" or "text" not in proposed:
                break
            amendment = await apply_amendment(ctx, proposed.pop("text"), gateway)
            amended.append(amendment.version)
            bp = _load_blueprint(ctx)
            cap = result.iterations + ctx.settings.verify.max_iterations  # a fresh repair budget
        history = IterationStore(ctx.run_dir)
        records = history.list()
        last_trace = history.load(records[-1].iteration).trace if records else ""
        passed_tests, failed_tests = _test_counts(last_trace)
        errors = [f for f in result.findings if f.severity == "error"]
        after = f" (blueprint amended to {', '.join(amended)})" if amended else ""
        if result.passed:
            message = f"verification passed after {result.iterations} iteration(s){after}"
        elif "problem" in proposed:
            message = (
                f"verification did not pass after {result.iterations} iteration(s): repairs made no progress and "
                f"the repairer's blueprint amendment is not a valid blueprint ({proposed['problem']}); it is saved "
                f"at {ctx.store.path('blueprint', 'proposed-amendment.yaml')} for review"
            )
        elif result.stopped.startswith("amendment"):
            message = (
                f"verification did not pass after {result.iterations} iteration(s): repairs made no progress and "
                f"the repairer proposed a blueprint amendment ({result.stopped.replace('_', ' ')}), saved at "
                f"{ctx.store.path('blueprint', 'proposed-amendment.yaml')}; review it and plan again from it"
            )
        else:
            message = (
                f"verification did not pass ({result.stopped.replace('_', ' ')}): {len(errors)} error(s) left "
                f"after {result.iterations} iteration(s){after}"
            )
        verdict = {
            "passed": result.passed,
            "message": message,
            "stopped": result.stopped,
            "iterations": result.iterations,
            "backend": backend.name,
            "findings_left": [f.model_dump(include={"file", "line", "kind", "message"}) for f in errors],
            "tests_passed": passed_tests,
            "tests_failed": failed_tests,
            "amended": amended,
        }
        write_json_atomic(ctx.store.path("verdict.json"), verdict)
        ctx.services["verdict"] = verdict
        return {"passed": result.passed, "iterations": result.iterations, "backend": backend.name}

    @staticmethod
    def _gate_step(ctx: RunContext):
        """Headless ``--step``: each patch goes through the run's gate (apply = approve, skip = reject)."""
        from deepcode_tui.verify.repair import Decision

        async def step(iteration: int, proposal) -> Decision:
            path = ctx.store.path("iterations", f"{iteration:03d}", "proposal.json")
            write_json_atomic(path, proposal)
            prompt = f"apply the repair patch of iteration {iteration}?"
            answer = await ask(ctx, GateRequest(gate="patch", prompt=prompt, artifact=str(path)))
            if answer.decision == "reject":
                return Decision(action="skip")
            if answer.decision == "edit" and answer.edited_text:
                try:
                    edited = type(proposal).model_validate_json(answer.edited_text)
                except ValueError as exc:
                    await ctx.log(f"the edited patch is not valid ({exc}); skipping it", level="warning")
                    return Decision(action="skip")
                return Decision(action="edit", edited_proposal=edited)
            return Decision(action="apply")

        return step

    @staticmethod
    def _approve_amendment(ctx: RunContext, proposed: dict[str, str]):
        """The loop's approval callback: a valid proposal goes to the gate; the text to
        apply (as proposed, or as the human edited it) is left in ``proposed["text"]``."""

        async def approve(text: str) -> bool:
            path = Path(ctx.store.path("blueprint", "proposed-amendment.yaml"))
            write_text_atomic(path, text)
            problem = amendment_problem(text)
            if problem is None:
                answer = await ask(
                    ctx,
                    GateRequest(
                        gate="amendment",
                        prompt="repairs made no progress; the repairer proposes this revised blueprint",
                        artifact=str(path),
                    ),
                )
                if answer.decision == "reject":
                    return False
                if answer.decision == "edit" and answer.edited_text:
                    text = answer.edited_text
                    problem = amendment_problem(text)
            if problem is not None:
                proposed["problem"] = problem
                await ctx.log(f"the blueprint amendment is not valid: {problem}", level="warning", phase="verify")
                return False
            proposed["text"] = text
            return True

        return approve
