"""Approval gates: an awaitable the pipeline blocks on and a UI resolves.

The pipeline calls ``await gate.request(...)``. The TUI uses
:class:`FutureGate` and resolves the pending request from a button or key;
headless ``--yes`` uses :class:`AutoApproveGate`; a headless run on a
terminal without ``--yes`` uses :class:`ConsoleGate`.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from deepcode_tui.errors import DeepcodeError
from deepcode_tui.gates import GateDecision, GateRequest

__all__ = ["ApprovalGate", "AutoApproveGate", "ConsoleGate", "FutureGate", "GateDecision", "GateRequest", "ask"]


class ApprovalGate:
    async def request(self, req: GateRequest) -> GateDecision:  # pragma: no cover - interface
        raise NotImplementedError


class AutoApproveGate(ApprovalGate):
    """``--yes``: every gate approves at once, accepting every open question's proposal."""

    async def request(self, req: GateRequest) -> GateDecision:
        return GateDecision(decision="approve", accept_proposals=bool(req.questions), automatic=True)


class FutureGate(ApprovalGate):
    """A gate a UI resolves; ``pending`` is what it is waiting for."""

    def __init__(self) -> None:
        self.pending: GateRequest | None = None
        self._future: asyncio.Future[GateDecision] | None = None

    async def request(self, req: GateRequest) -> GateDecision:
        loop = asyncio.get_running_loop()
        self.pending, self._future = req, loop.create_future()
        try:
            return await self._future
        finally:
            self.pending, self._future = None, None

    def resolve(self, decision: GateDecision) -> bool:
        """Answer the pending request; False when nothing is waiting."""
        if self._future is None or self._future.done():
            return False
        self._future.get_loop().call_soon_threadsafe(self._future.set_result, decision)
        return True


async def ask(ctx, req: GateRequest) -> GateDecision:
    """Ask ``ctx.gate`` with the gate's events around it, so every view and the log see it."""
    from deepcode_tui.events.models import GateOpened, GateResolved

    await ctx.emit(GateOpened(gate=req.gate, prompt=req.prompt, artifact=req.artifact))
    decision = await ctx.gate.request(req)
    await ctx.emit(
        GateResolved(gate=req.gate, decision=decision.decision, feedback=decision.feedback, artifact=req.artifact)
    )
    return decision


class ConsoleGate(ApprovalGate):
    """Ask on the terminal; refuses (with the fix) when there is no terminal."""

    async def request(self, req: GateRequest) -> GateDecision:
        if not sys.stdin.isatty():
            raise DeepcodeError(
                f"the {req.gate} needs approval but there is no terminal to ask on",
                "rerun with --yes to approve automatically, or open the run in the app: deepcode-tui",
            )
        where = f" ({req.artifact})" if req.artifact else ""
        answers = await self._questions(req)
        prompt = f"{req.prompt}{where}\n[a]pprove / [e]dited the file, approve / [r]eject with feedback: "
        while True:
            answer = (await asyncio.to_thread(input, prompt)).strip().lower()
            if answer in ("a", "approve", "y", "yes"):
                return GateDecision(decision="approve", answers=answers)
            if answer in ("e", "edit"):
                text = Path(req.artifact).read_text(encoding="utf-8") if req.artifact else None
                return GateDecision(decision="edit", edited_text=text, answers=answers)
            if answer in ("r", "reject"):
                feedback = await asyncio.to_thread(input, "feedback for the planner: ")
                return GateDecision(decision="reject", feedback=feedback.strip(), answers=answers)

    @staticmethod
    async def _questions(req: GateRequest) -> dict[str, str]:
        """Ask each open question in turn: Enter accepts the proposal, '-' leaves it open,
        anything else is the answer."""
        pending = [q for q in req.questions if q.get("status", "open") == "open"]
        if not pending:
            return {}
        print(f"{len(pending)} open question(s) the document leaves unspecified "
              "(Enter accepts the proposal, '-' leaves it open, or type your answer):")
        answers: dict[str, str] = {}
        for q in pending:
            proposal = q.get("proposed_answer") or "(no proposal)"
            basis = q.get("basis", "practice")
            text = (await asyncio.to_thread(
                input, f"  {q['id']}: {q['question']}\n      proposed: {proposal} [{basis}] > ")).strip()
            if text != "-":
                answers[q["id"]] = text
        return answers
