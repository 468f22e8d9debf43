"""Fitting a request the provider called too long for the context window, for every call alike.

A context-length error is the one provider failure the caller can fix by sending
less, and every phase's prompt (an agent's tool rounds, a structured repair, a
codegen or repair context) is long material with the instructions at its ends
(the role at the head of the system message, the output format appended at its
tail, the ask at the end of the last message). So the gateway fixes it in one
place, before the error reaches any phase:

- when the provider says the completion's share (``max_tokens``) is what overflows,
  ``max_tokens`` is lowered to what is left;
- otherwise the middle of the longest messages is left out (marked), their heads
  and tails kept, down to the size the provider's own numbers imply, but at most
  half per round, and never a message below ``KEEP_TOKENS``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from deepcode_tui.llm.clipping import keep_ends
from deepcode_tui.tokens import count_tokens

# A message keeps at least this much of itself (its instructions are at its head and tail).
KEEP_TOKENS = 120
# Rounds per call: a provider that still refuses after these is not counting as we do.
MAX_COMPACTIONS = 3
# Our tokenizer is not the provider's: aim this far below the limit it names.
MARGIN = 0.9
# The least completion worth asking for when lowering max_tokens.
MIN_COMPLETION = 256

MARK = "\n\n[... {n} tokens left out here: the prompt was longer than the model's context window ...]\n\n"

# OpenAI and servers that copy it (vLLM, LM Studio): "maximum context length is 8192 tokens.
# However, you requested 9000 tokens (1000 in the messages, 8000 in the completion)" or
# "... your messages resulted in 203000 tokens"; Anthropic: "prompt is too long: 203000 tokens
# > 200000 maximum".
_OPENAI = re.compile(
    r"maximum context length is (\d+) tokens.*?(?:resulted in|requested) (\d+) tokens", re.DOTALL
)
_SPLIT = re.compile(r"\((\d+) in the messages, (\d+) in the completion\)")
_ANTHROPIC = re.compile(r"(\d+) tokens > (\d+) maximum")


def message_tokens(message: Mapping[str, Any]) -> int:
    content = message.get("content")
    return count_tokens(content) if isinstance(content, str) else 0


def limits(detail: str) -> tuple[int, int, int] | None:
    """(window, prompt tokens, completion tokens) as the provider's error states them, if it does."""
    if m := _OPENAI.search(detail):
        if s := _SPLIT.search(detail):
            return int(m[1]), int(s[1]), int(s[2])
        return int(m[1]), int(m[2]), 0
    if m := _ANTHROPIC.search(detail):
        return int(m[2]), int(m[1]), 0
    return None


def target_tokens(detail: str, current: int) -> int:
    """How many tokens (our count) the prompt should shrink to: the share the provider's
    numbers allow, scaled to our count, but at most half of it per round."""
    stated = limits(detail)
    if stated is None or stated[1] <= 0:
        return current // 2
    window, prompt, completion = stated
    room = window - completion
    return max(current // 2, min(int(current * MARGIN), int(current * room / prompt * MARGIN)))


def _cut(text: str, tokens: int, keep: int) -> str:
    """``text`` (``tokens`` long) cut to about ``keep`` tokens: two thirds head, one third tail."""
    per = len(text) / max(1, tokens)
    return keep_ends(text, int(keep * 2 / 3 * per), int(keep / 3 * per), MARK.format(n=tokens - keep))


def compact(messages: Sequence[Mapping[str, Any]], target: int) -> list[dict[str, Any]] | None:
    """``messages`` with the longest string contents cut to one common length so that the
    prompt is about ``target`` tokens, or None when that would cut a message below
    ``KEEP_TOKENS`` or there is nothing of ours to cut."""
    sizes = [message_tokens(m) for m in messages]
    if sum(sizes) <= target:
        return None  # the overflow is not in the messages' text (tools, images): nothing to cut
    # The level every message above it is cut to (water-filling): the largest that fits.
    fixed, level = 0, 0
    ordered = sorted(sizes)
    for i, size in enumerate(ordered):
        level = (target - fixed) // (len(ordered) - i)
        if size > level:
            break
        fixed += size
    if level < KEEP_TOKENS:
        return None
    return [
        {**m, "content": _cut(m["content"], size, level)} if size > level else dict(m)
        for m, size in zip(messages, sizes, strict=True)
    ]


def refit(kwargs: Mapping[str, Any], detail: str) -> tuple[dict[str, Any], str] | None:
    """The request ``kwargs`` made to fit the window ``detail`` (the provider's error) implies,
    and a note saying what changed; None when it cannot be made to fit."""
    stated = limits(detail)
    if stated is not None:
        window, prompt, completion = stated
        asked = kwargs.get("max_tokens") or kwargs.get("max_completion_tokens")
        room = int((window - prompt) * MARGIN)
        if completion and prompt < window and asked and room >= MIN_COMPLETION:
            # The prompt fits; the completion it asked room for does not: ask for less.
            key = "max_tokens" if kwargs.get("max_tokens") else "max_completion_tokens"
            return {**kwargs, key: room}, f"max_tokens lowered from {asked} to {room}"
    messages = list(kwargs.get("messages") or [])
    current = sum(message_tokens(m) for m in messages)
    smaller = compact(messages, target_tokens(detail, current))
    if smaller is None:
        return None
    after = sum(message_tokens(m) for m in smaller)
    return {**kwargs, "messages": smaller}, f"prompt cut from {current} to {after} tokens (middles left out)"
