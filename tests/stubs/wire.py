"""The two provider wire formats the stubs speak, as their public API references define them.

OpenAI Chat Completions (``POST /v1/chat/completions``) and Anthropic Messages
(``POST /v1/messages``): a request is read into the shape a script sees (a
:class:`ScriptRequest` with OpenAI-style messages, whichever family sent it),
and a script's reply is written back as that family's JSON body or its
server-sent events, with that family's finish/stop reasons, usage and errors.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from deepcode_tui.llm.scripted import ScriptedReply, ScriptRequest
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


# --- OpenAI Chat Completions ------------------------------------------------------


class OpenAIWire:
    family = "openai"
    path = "/v1/chat/completions"

    @staticmethod
    def read(body: dict[str, Any]) -> ScriptRequest:
        messages = []
        for m in body.get("messages") or []:
            msg = dict(m)
            msg["content"] = _text_of(m.get("content"))
            messages.append(msg)
        params = {k: v for k, v in body.items() if k not in ("messages", "model", "stream", "stream_options")}
        if params.get("tool_choice") == "none":
            params.pop("tools", None)  # the model may not call a tool this round
        return ScriptRequest(
            model=body.get("model", ""), messages=messages, params=params, stream=bool(body.get("stream"))
        )

    @staticmethod
    def prompt_tokens(body: dict[str, Any]) -> int:
        text = json.dumps(body.get("messages") or []) + json.dumps(body.get("tools") or [])
        return count_tokens(text)

    @staticmethod
    def _model(body: dict[str, Any]) -> str:
        name = str(body.get("model", ""))
        return SNAPSHOTS.get(name, name)

    @staticmethod
    def _usage(reply: Reply) -> dict[str, Any]:
        return {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
            },
        }  # fmt: skip

    @classmethod
    def body(cls, body: dict[str, Any], reply: Reply, rid: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if reply.refusal else reply.text if reply.text or not reply.tool_calls else None,
            "refusal": reply.refusal or None,
            "annotations": [],
        }
        if reply.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in reply.tool_calls
            ]
        finish = "stop" if reply.finish == "refusal" else reply.finish
        return {
            "id": f"chatcmpl-{rid}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": cls._model(body),
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": cls._usage(reply),
            "service_tier": "default",
            "system_fingerprint": "fp_stub0001",
        }

    @classmethod
    def events(
        cls, body: dict[str, Any], reply: Reply, rid: str, *, text_chunk: int = 12, arg_chunk: int = 7
    ) -> list[bytes]:
        """The SSE frames of a streamed reply (``data: {...}`` lines, then ``data: [DONE]``)."""
        base = {
            "id": f"chatcmpl-{rid}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": cls._model(body),
            "service_tier": "default",
            "system_fingerprint": "fp_stub0001",
        }

        def frame(delta: dict[str, Any], finish: str | None = None) -> bytes:
            chunk = {
                **base,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            return f"data: {json.dumps(chunk)}\n\n".encode()

        frames = [frame({"role": "assistant", "content": "", "refusal": None})]
        if reply.refusal:
            frames += [frame({"refusal": p}) for p in pieces(reply.refusal, text_chunk)]
        else:
            frames += [frame({"content": p}) for p in pieces(reply.text, text_chunk)]
        for i, call in enumerate(reply.tool_calls):
            frames.append(
                frame({"tool_calls": [{"index": i, "id": call.id, "type": "function",
                                       "function": {"name": call.name, "arguments": ""}}]})
            )  # fmt: skip
            frames += [
                frame({"tool_calls": [{"index": i, "function": {"arguments": p}}]})
                for p in pieces(call.arguments, arg_chunk)
            ]
        finish = "stop" if reply.finish == "refusal" else reply.finish
        frames.append(frame({}, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            frames.append(
                f"data: {json.dumps({**base, 'choices': [], 'usage': cls._usage(reply)})}\n\n".encode()
            )
        frames.append(b"data: [DONE]\n\n")
        return frames

    # -- errors ------------------------------------------------------------------------

    @staticmethod
    def rate_limit(retry_after: float) -> tuple[int, dict[str, str], dict[str, Any]]:
        headers = {
            "retry-after": f"{retry_after:g}",
            "x-ratelimit-limit-requests": "500",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": f"{retry_after:g}s",
            "x-ratelimit-limit-tokens": "30000",
            "x-ratelimit-remaining-tokens": "0",
            "x-ratelimit-reset-tokens": f"{retry_after:g}s",
        }
        body = {"error": {"message": "Rate limit reached for gpt-4.1 in organization org-stub on requests per min "
                          f"(RPM): Limit 500, Used 500, Requested 1. Please try again in {retry_after:g}s.",
                          "type": "requests", "param": None, "code": "rate_limit_exceeded"}}  # fmt: skip
        return 429, headers, body

    @staticmethod
    def overloaded() -> tuple[int, dict[str, str], dict[str, Any]]:
        body = {"error": {"message": "The server is overloaded or not ready yet.", "type": "server_error",
                          "param": None, "code": None}}  # fmt: skip
        return 503, {}, body

    @staticmethod
    def context_length(tokens: int) -> tuple[int, dict[str, str], dict[str, Any]]:
        body = {"error": {"message": f"This model's maximum context length is 128000 tokens. However, your messages "
                          f"resulted in {tokens} tokens. Please reduce the length of the messages.",
                          "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}  # fmt: skip
        return 400, {}, body

    @staticmethod
    def error_event(kind: str) -> bytes:
        body = {"error": {"message": "The server had an error while processing your request.", "type": kind}}
        return f"data: {json.dumps(body)}\n\n".encode()


# --- Anthropic Messages -----------------------------------------------------------

_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "refusal": "refusal"}


class AnthropicWire:
    family = "anthropic"
    path = "/v1/messages"

    @staticmethod
    def read(body: dict[str, Any]) -> ScriptRequest:
        messages: list[dict[str, Any]] = []
        system = body.get("system")
        if system:
            messages.append({"role": "system", "content": _text_of(system)})
        for m in body.get("messages") or []:
            content = m.get("content")
            if isinstance(content, str):
                messages.append({"role": m["role"], "content": content})
                continue
            texts, calls, results = [], [], []
            for block in content or []:
                kind = block.get("type")
                if kind == "text":
                    texts.append(block.get("text", ""))
                elif kind == "tool_use":
                    calls.append({"id": block["id"], "type": "function",
                                  "function": {"name": block["name"], "arguments": json.dumps(block.get("input") or {})}})  # fmt: skip
                elif kind == "tool_result":
                    results.append({"role": "tool", "tool_call_id": block.get("tool_use_id", ""),
                                    "content": _text_of(block.get("content"))})  # fmt: skip
            if calls or texts and m["role"] == "assistant":
                msg: dict[str, Any] = {"role": "assistant", "content": "".join(texts)}
                if calls:
                    msg["tool_calls"] = calls
                messages.append(msg)
            messages.extend(results)
            if texts and m["role"] == "user":
                messages.append({"role": "user", "content": "".join(texts)})
        params = {k: v for k, v in body.items() if k not in ("messages", "model", "stream", "system")}
        choice = params.get("tool_choice") or {}
        if choice.get("type") == "none" or choice.get("type") == "tool" and _forced_json(params):
            params.pop("tools", None)
        return ScriptRequest(
            model=body.get("model", ""), messages=messages, params=params, stream=bool(body.get("stream"))
        )

    @staticmethod
    def prompt_tokens(body: dict[str, Any]) -> int:
        text = (
            json.dumps(body.get("system") or "")
            + json.dumps(body.get("messages") or [])
            + json.dumps(body.get("tools") or [])
        )
        return count_tokens(text)

    @staticmethod
    def _model(body: dict[str, Any]) -> str:
        name = str(body.get("model", ""))
        return SNAPSHOTS.get(name, name)

    @staticmethod
    def _blocks(body: dict[str, Any], reply: Reply) -> list[dict[str, Any]]:
        forced = _forced_json(body)
        if forced and reply.text and not reply.tool_calls:
            # Structured output through a forced tool (how litellm asks Claude for JSON):
            # the model answers with that tool's input.
            try:
                return [
                    {
                        "type": "tool_use",
                        "id": "toolu_json01",
                        "name": forced,
                        "input": json.loads(reply.text),
                    }
                ]
            except ValueError:
                pass  # not JSON: the model ignored the tool; send the text as it is
        blocks: list[dict[str, Any]] = []
        if reply.text or reply.refusal:
            blocks.append({"type": "text", "text": reply.refusal or reply.text})
        for call in reply.tool_calls:
            try:
                args = json.loads(call.arguments or "{}")
            except ValueError:
                args = None  # malformed arguments: only a stream can carry them (as fragments)
            blocks.append(
                {
                    "type": "tool_use",
                    "id": call.id,
                    "name": call.name,
                    "input": args if args is not None else {},
                }
            )
        return blocks

    @staticmethod
    def _stop(body: dict[str, Any], reply: Reply) -> str:
        if _forced_json(body) and reply.text and not reply.tool_calls and reply.finish == "stop":
            return "tool_use"
        return _STOP.get(reply.finish, "end_turn")

    @classmethod
    def body(cls, body: dict[str, Any], reply: Reply, rid: str) -> dict[str, Any]:
        return {
            "id": f"msg_{rid}",
            "type": "message",
            "role": "assistant",
            "model": cls._model(body),
            "content": cls._blocks(body, reply),
            "stop_reason": cls._stop(body, reply),
            "stop_sequence": None,
            "usage": {
                "input_tokens": reply.prompt_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": reply.completion_tokens,
                "service_tier": "standard",
            },
        }

    @classmethod
    def events(
        cls, body: dict[str, Any], reply: Reply, rid: str, *, text_chunk: int = 12, arg_chunk: int = 7
    ) -> list[bytes]:
        def event(name: str, data: dict[str, Any]) -> bytes:
            return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()

        start = cls.body(body, reply, rid)
        start.update(content=[], stop_reason=None)
        start["usage"] = {**start["usage"], "output_tokens": 1}
        frames = [
            event("message_start", {"type": "message_start", "message": start}),
            event("ping", {"type": "ping"}),
        ]
        for index, block in enumerate(cls._blocks(body, reply)):
            if block["type"] == "text":
                frames.append(event("content_block_start", {"type": "content_block_start", "index": index,
                                                            "content_block": {"type": "text", "text": ""}}))  # fmt: skip
                frames += [
                    event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                  "delta": {"type": "text_delta", "text": p}})
                    for p in pieces(block["text"], text_chunk)
                ]  # fmt: skip
            else:
                frames.append(event("content_block_start", {"type": "content_block_start", "index": index,
                                                            "content_block": {**block, "input": {}}}))  # fmt: skip
                raw = next((c.arguments for c in reply.tool_calls if c.id == block["id"]), None)
                partial = raw if raw is not None else json.dumps(block["input"])
                frames += [
                    event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                  "delta": {"type": "input_json_delta", "partial_json": p}})
                    for p in pieces(partial, arg_chunk)
                ]  # fmt: skip
            frames.append(event("content_block_stop", {"type": "content_block_stop", "index": index}))
        frames.append(event("message_delta", {"type": "message_delta",
                                              "delta": {"stop_reason": cls._stop(body, reply), "stop_sequence": None},
                                              "usage": {"output_tokens": reply.completion_tokens}}))  # fmt: skip
        frames.append(event("message_stop", {"type": "message_stop"}))
        return frames

    # -- errors ------------------------------------------------------------------------

    @staticmethod
    def _error(kind: str, message: str) -> dict[str, Any]:
        return {"type": "error", "error": {"type": kind, "message": message}}

    @classmethod
    def rate_limit(cls, retry_after: float) -> tuple[int, dict[str, str], dict[str, Any]]:
        reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + retry_after))
        headers = {
            "retry-after": f"{max(1, round(retry_after))}" if retry_after >= 1 else f"{retry_after:g}",
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": reset,
            "anthropic-ratelimit-input-tokens-limit": "30000",
            "anthropic-ratelimit-input-tokens-remaining": "0",
            "anthropic-ratelimit-input-tokens-reset": reset,
            "request-id": "req_stub_ratelimit",
        }
        return 429, headers, cls._error("rate_limit_error", "Number of request tokens has exceeded your per-minute "
                                        "rate limit (https://docs.anthropic.com/en/api/rate-limits)")  # fmt: skip

    @classmethod
    def overloaded(cls) -> tuple[int, dict[str, str], dict[str, Any]]:
        return 529, {"request-id": "req_stub_overloaded"}, cls._error("overloaded_error", "Overloaded")

    @classmethod
    def context_length(cls, tokens: int) -> tuple[int, dict[str, str], dict[str, Any]]:
        return (
            400,
            {},
            cls._error("invalid_request_error", f"prompt is too long: {tokens} tokens > 200000 maximum"),
        )

    @classmethod
    def error_event(cls, kind: str) -> bytes:
        return f"event: error\ndata: {json.dumps(cls._error(kind, 'Overloaded'))}\n\n".encode()


def _forced_json(params: dict[str, Any]) -> str | None:
    """The tool a request forces (Anthropic ``tool_choice: {type: tool}``), if it is the only one."""
    choice = params.get("tool_choice") or {}
    if not isinstance(choice, dict) or choice.get("type") != "tool":
        return None
    tools = params.get("tools") or []
    return choice.get("name") if len(tools) == 1 else None


WIRES = {OpenAIWire.path: OpenAIWire, AnthropicWire.path: AnthropicWire}
_V1 = re.compile(r"^(?:/v1)?")


def wire_for(path: str):
    """The wire format served at ``path`` (with or without the ``/v1`` prefix), or None."""
    clean = path.split("?", 1)[0].rstrip("/")
    for suffix, wire in (("/chat/completions", OpenAIWire), ("/messages", AnthropicWire)):
        if clean.endswith(suffix):
            return wire
    return None
