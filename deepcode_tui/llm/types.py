"""The gateway's boundary models: what a call returns and what a run spent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from deepcode_tui.llm.schemas import json_schema


class Usage(BaseModel):
    """Tokens of one call, as the provider reported them (or estimated when it did not)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            estimated=(self.estimated and self.total_tokens > 0)
            or (other.estimated and other.total_tokens > 0),
        )


class ToolCall(BaseModel):
    """One tool invocation the model asked for."""

    id: str = ""
    name: str
    arguments: str = "{}"  # the raw JSON text the model produced


class Completion(BaseModel):
    """The result of :meth:`Gateway.complete`."""

    text: str
    usage: Usage = Field(default_factory=Usage)
    model: str
    cached: bool = False
    call_id: str = ""
    finish_reason: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    # What the gateway cut from the request to fit the model's context window ("" when nothing).
    context_reduced: str = ""
    rejected: str = ""  # why the caller's check refused this reply (then it was not cached as an answer)


class ToolSpec(BaseModel):
    """A tool an agent offers the model: name, description, argument model, async handler.

    The handler receives a validated instance of ``args`` and returns the text
    the model sees as the tool's result.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
    description: str
    args: type[BaseModel]
    handler: Callable[[Any], Awaitable[str]]

    def openai_schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": json_schema(self.args),
            },
        }


class ToolCallRecord(BaseModel):
    """What happened when a tool was called during :meth:`Gateway.with_tools`."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    ok: bool = True
    result_chars: int = 0
    error: str = ""


class ToolRunResult(BaseModel):
    """The outcome of a tool loop: the final answer and the calls made on the way."""

    text: str
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    rounds: int = 0
    native: bool = True  # False when the JSON action protocol (fallback) was used
    messages: list[dict[str, Any]] = Field(
        default_factory=list
    )  # the full conversation, for a follow-up call
    rejected: str = ""  # why the caller's final check refused ``text`` (then it was not cached as an answer)


class CallRecord(BaseModel):
    """One line of ``<run>/llm/calls.jsonl``. Never holds a key, header or prompt text."""

    call_id: str
    ts: str
    role: str
    model: str
    name: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    cached: bool = False
    replayed: bool = False
    attempts: int = 1
    usage_estimated: bool = False
    retry_tokens: int = 0  # tokens billed for attempts that failed or were unusable (in the totals too)
    error: str = ""
    request_key: str = ""

    @property
    def billed(self) -> bool:
        """True when the call was paid for (not served by the cache or a cassette)."""
        return not (self.cached or self.replayed)


class RoleTotals(BaseModel):
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cached_calls: int = 0
    errors: int = 0


class Totals(BaseModel):
    """Running totals of a run. Budgets count only billed calls (cache and replay are free)."""

    total_cost_usd: float = 0.0
    total_tokens: int = 0
    calls: int = 0
    by_role: dict[str, RoleTotals] = Field(default_factory=dict)


class CheckResult(BaseModel):
    """The outcome of pinging one role's model (``models --check``)."""

    role: str
    model: str
    ok: bool
    latency_s: float = 0.0
    detail: str = ""
