"""Messages that carry run activity into the UI's message queue."""

from __future__ import annotations

from textual.message import Message

from deepcode_tui.events.models import Event
from deepcode_tui.tui.stepper import PendingPatch


class EventArrived(Message):
    """A run event, posted by the bus observer; handled on the UI loop in order."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class TokensArrived(Message):
    """Streamed tokens, batched: one message carries every token the bus delivered
    since the previous non-token event, so a 500 tokens/s stream does not queue
    500 messages a second in front of the user's key presses."""

    def __init__(self, batch: list[Event]) -> None:
        super().__init__()
        self.batch = batch


class CoderPaused(Message):
    """The coder reached a file boundary and is holding (before ``next_path``)."""

    def __init__(self, next_path: str | None) -> None:
        super().__init__()
        self.next_path = next_path


class PatchAwaiting(Message):
    """A repair patch waits for apply / skip / edit."""

    def __init__(self, pending: PendingPatch) -> None:
        super().__init__()
        self.pending = pending


class GateWaiting(Message):
    """The pipeline asked a gate for a decision (with or without a GateOpened event)."""

    def __init__(self, gate: str, prompt: str, artifact: str) -> None:
        super().__init__()
        self.gate = gate
        self.prompt = prompt
        self.artifact = artifact


class RunEnded(Message):
    """The driver returned (passed, failed, stopped, planned, error ...)."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__()
        self.status = status
        self.message = message
