"""What both provider wire formats share: the stubs' tokenizer, a reply before it is
put on the wire, and how text is cut into streamed pieces. The formats themselves:
:mod:`tests.stubs.openai_wire`, :mod:`tests.stubs.anthropic_wire`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deepcode_tui.llm.scripted import ScriptedReply
from deepcode_tui.llm.types import ToolCall

# Served model names as the providers report them (a dated snapshot of the alias asked for).
SNAPSHOTS = {
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "claude-sonnet-4-5": "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5": "claude-haiku-4-5-20251001",
}


def count_tokens(text: str) -> int:
    """The stubs' tokenizer: deterministic, about four characters a token."""
    return (len(text) + 3) // 4


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return "" if content is None else str(content)


@dataclass
class Reply:
    """What the stub sends for one request, before it is put on the wire."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish: str = "stop"  # OpenAI vocabulary: stop | length | tool_calls | refusal
    refusal: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @classmethod
    def of(cls, scripted: ScriptedReply, prompt_tokens: int) -> Reply:
        finish = scripted.finish_reason or ("tool_calls" if scripted.tool_calls else "stop")
        reply = cls(text=scripted.text, tool_calls=list(scripted.tool_calls), finish=finish)
        reply.prompt_tokens = prompt_tokens
        reply.completion_tokens = max(
            1,
            count_tokens(scripted.text)
            + sum(count_tokens(c.name + c.arguments) for c in scripted.tool_calls),
        )
        return reply


def pieces(text: str, size: int) -> list[str]:
    """``text`` cut into pieces of ``size`` characters (argument fragments, text deltas)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or []
