"""OpenAI Chat Completions (``POST /v1/chat/completions``) as the API reference shows it:
the JSON body, the ``data:`` server-sent events with ``[DONE]``, usage, errors."""

from __future__ import annotations

import json
import time
from typing import Any

from deepcode_tui.llm.scripted import ScriptRequest
from tests.stubs.wire import SNAPSHOTS, Reply, _text_of, count_tokens, pieces


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
