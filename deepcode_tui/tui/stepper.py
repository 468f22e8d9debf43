"""Stepping through repair iterations: the verify loop's step hook, answered by the UI.

The app puts a :class:`PatchStepper` in ``services["step_hook"]``; it has the
shape of ``verify.loop.StepHook``::

    decision = await step_hook(iteration, proposal)   # RepairProposal -> Decision

While stepping is on ("pause before applying"), the hook shows the proposal
(as the diff it would make) and waits for the human: ``Decision(action="apply")``,
``"skip"``, or ``"edit"`` with ``edited_proposal``. While it is off the hook
answers apply at once, so a run without a human never blocks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from deepcode_tui.tui import proposals


@dataclass(frozen=True)
class PendingPatch:
    iteration: int
    proposal: Any  # verify.repair.RepairProposal
    diff: str  # what applying it would change, as a unified diff


class PatchStepper:
    """Holds each repair proposal until the human decides (when ``enabled``)."""

    def __init__(
        self,
        *,
        enabled: bool = False,
        repo_dir: Path | None = None,
        on_waiting: Callable[[PendingPatch], None] | None = None,
    ) -> None:
        self.enabled = enabled
        self.repo_dir = repo_dir
        self._on_waiting = on_waiting
        self.pending: PendingPatch | None = None
        self._future: asyncio.Future[Any] | None = None

    async def __call__(self, iteration: int, proposal: Any) -> Any:
        from deepcode_tui.verify.repair import Decision

        if not self.enabled:
            return Decision(action="apply")
        loop = asyncio.get_running_loop()
        diff = await asyncio.to_thread(proposals.preview, self.repo_dir, proposal)
        self.pending, self._future = PendingPatch(iteration, proposal, diff), loop.create_future()
        if self._on_waiting is not None:
            self._on_waiting(self.pending)
        try:
            return await self._future
        finally:
            self.pending, self._future = None, None

    def decide(self, action: Literal["apply", "skip", "edit"], edited_text: str | None = None) -> bool:
        """Answer the waiting proposal; False when none waits.

        For ``edit``, ``edited_text`` is the proposal in :func:`proposals.to_text`
        form as the human changed it; ValueError (naming the line) when it is malformed.
        """
        from deepcode_tui.verify.repair import Decision

        if self._future is None or self._future.done() or self.pending is None:
            return False
        if action == "edit":
            edited = proposals.from_text(edited_text or "", self.pending.proposal)
            decision = Decision(action="edit", edited_proposal=edited)
        else:
            decision = Decision(action=action)
        self._future.set_result(decision)
        return True
