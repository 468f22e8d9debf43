"""Token budgets of the blueprint agents: how much of the paper one call may carry.

Every agent call is bounded by ``call_share`` of the paper's tokens (the
context-compression target: no single call sends the paper whole). The
reading agents get what is left after their fixed prompt; the planner gets
the analyses compacted to fit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

from deepcode_tui.tokens import count_tokens, truncate_to_tokens


@dataclass
class AgentSettings:
    """Knobs of the blueprint agents (defaults suit papers of 5k-50k tokens)."""

    call_share: float = 0.38  # most of the paper's tokens one call may send
    min_call_tokens: int = 2500  # floor for very short documents, where a share would be unusable
    max_call_tokens: int = 24000  # ceiling for very long papers
    min_read_tokens: int = 600  # an agent always gets at least this much reading
    max_read_tokens: int = 3000  # most one read_section returns
    max_rounds: int = 8  # tool rounds per reading agent
    max_repairs: int = 2  # structured-output repairs per call
    fix_rounds: int = 2  # planner rounds to fix plan-check errors
    whole_document_tokens: int = 3000  # requirement documents up to this size are given whole
    reply_reserve: int = 400  # room for the assistant's own messages inside a tool conversation

    def call_cap(self, paper_tokens: int) -> int:
        """Most tokens one call may send for a paper of ``paper_tokens`` tokens."""
        share = int(self.call_share * max(0, paper_tokens))
        return min(self.max_call_tokens, max(self.min_call_tokens, share))

    def fitted(self, context_window: int | None, max_output_tokens: int | None = None) -> AgentSettings:
        """These settings for a model reading at most ``context_window`` tokens per call
        (prompt and reply): no call is planned bigger than the window leaves room for
        after the reply (``max_output_tokens``, else a quarter of the window) and a margin
        for tokenizer differences. Unchanged when the window is unknown or ample."""
        if not context_window:
            return self
        reply = max_output_tokens or context_window // 4
        room = int((context_window - reply) * 0.85)  # our tokenizer is not the model's
        room = max(room, 1000)
        if room >= self.max_call_tokens:
            return self
        return replace(
            self,
            max_call_tokens=room,
            min_call_tokens=min(self.min_call_tokens, room),
            max_read_tokens=min(self.max_read_tokens, max(self.min_read_tokens, room // 3)),
            whole_document_tokens=min(self.whole_document_tokens, room // 2),
        )


def messages_tokens(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> int:
    """Tokens of a request as sent: every message's text and tool calls, plus tool schemas."""
    total = 0
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            total += count_tokens(content)
        elif isinstance(content, list):
            total += sum(count_tokens(str(p.get("text", ""))) for p in content if isinstance(p, dict))
        for tc in m.get("tool_calls") or []:
            fn = tc.get("function", {}) if isinstance(tc, dict) else {}
            total += count_tokens(str(fn.get("name", ""))) + count_tokens(str(fn.get("arguments", "")))
        total += 4  # role and separators
    if tools:
        total += count_tokens(json.dumps(tools, separators=(",", ":")))
    return total


def _trim_strings(node: Any, limit: int) -> Any:
    if isinstance(node, dict):
        return {k: _trim_strings(v, limit) for k, v in node.items()}
    if isinstance(node, list):
        return [_trim_strings(v, limit) for v in node]
    if isinstance(node, str) and count_tokens(node) > limit:
        return truncate_to_tokens(node, limit) + " [...]"
    return node


def compact_json(model: BaseModel | None, budget: int) -> str:
    """``model`` as compact JSON within ``budget`` tokens.

    Long strings are shortened step by step (verbatim boxes first lose
    their tails) before, as a last resort, the JSON text itself is cut.
    """
    if model is None or budget <= 0:
        return ""
    data = model.model_dump(mode="json", exclude_defaults=True)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for limit in (400, 200, 100, 50, 25):
        if count_tokens(text) <= budget:
            return text
        text = json.dumps(_trim_strings(data, limit), ensure_ascii=False, separators=(",", ":"))
    if count_tokens(text) <= budget:
        return text
    return truncate_to_tokens(text, max(0, budget - 8)) + " [cut]"


def split_budget(
    budget: int, texts: dict[str, BaseModel | None], weights: dict[str, float]
) -> dict[str, str]:
    """Compact several models into ``budget`` tokens; a model that needs less than its
    share gives the rest to the others."""
    full = {k: compact_json(m, 10**9) for k, m in texts.items()}
    need = {k: count_tokens(v) for k, v in full.items()}
    if sum(need.values()) <= budget:
        return full
    out: dict[str, str] = {}
    left, keys = budget, sorted(texts, key=lambda k: need[k])
    for i, key in enumerate(keys):
        rest = keys[i:]
        share = int(left * weights.get(key, 1.0) / sum(weights.get(k, 1.0) for k in rest))
        out[key] = full[key] if need[key] <= share else compact_json(texts[key], share)
        left -= count_tokens(out[key])
    return out
