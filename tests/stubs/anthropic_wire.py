"""Anthropic Messages (``POST /v1/messages``) as the API reference shows it: content
blocks (text, tool_use, tool_result), the named stream events, stop reasons, usage, errors."""

from __future__ import annotations

import json
import time
from typing import Any

from deepcode_tui.llm.scripted import ScriptRequest
from tests.stubs.wire import SNAPSHOTS, Reply, _text_of, count_tokens, pieces

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
