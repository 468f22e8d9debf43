"""Event payloads CodeRAG reports through an optional async ``emit(event)`` callback.

Every payload is a pydantic model with a literal ``kind`` so a consumer (event
log, TUI) can dispatch on it without importing this package's classes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from pydantic import BaseModel, Field

from deepcode_tui.errors import DeepcodeError


class RetrievalDecided(BaseModel):
    """Whether CodeRAG retrieves for one blueprint file, and why."""

    kind: Literal["rag.retrieval_decided"] = "rag.retrieval_decided"
    path: str
    retrieve: bool
    reason: str
    score: float
    signals: dict[str, float | int | bool | str] = Field(default_factory=dict)


class RetrievalDone(BaseModel):
    """What one retrieval put in front of the coder."""

    kind: Literal["rag.retrieval_done"] = "rag.retrieval_done"
    path: str
    hits: int
    tokens: int
    budget_tokens: int
    relations: int
    selection: str = ""  # what the model's choice among the candidates did ("" when not asked)


class SourceSkipped(BaseModel):
    """A reference source that could not be used; the run continues without it."""

    kind: Literal["rag.source_skipped"] = "rag.source_skipped"
    spec: str
    reason: str
    fix: str = ""


class IndexBuilt(BaseModel):
    """An index build or incremental update finished."""

    kind: Literal["rag.index_built"] = "rag.index_built"
    index_dir: str
    sources: list[str]
    files: int
    files_changed: int
    files_removed: int
    chunks: int
    embeddings: bool
    seconds: float


RagEvent = RetrievalDecided | RetrievalDone | SourceSkipped | IndexBuilt
Emit = Callable[[BaseModel], Awaitable[None]]
Summarize = Callable[[str], Awaitable[str]]


async def emit_safely(emit: Emit | None, event: BaseModel) -> None:
    """Send ``event`` when a callback is set; a failing consumer never breaks retrieval."""
    if emit is None:
        return
    try:
        await emit(event)
    except DeepcodeError:
        raise  # Cancelled / BudgetExceeded are decisions, not consumer bugs
    except Exception:  # noqa: BLE001, S110 - the event log is advisory; retrieval must go on
        pass
