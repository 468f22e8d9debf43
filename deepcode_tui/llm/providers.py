"""litellm ``CustomLLM`` providers: ``replay/<model>`` and ``scripted/<name>``.

Importing this module imports litellm; only :func:`deepcode_tui.llm.backend.get_litellm`
does, which registers both through ``litellm.custom_provider_map``.

``replay/<model>`` serves a cassette fully offline: the cassette directory and
the request hash come in the call's metadata (``deepcode_cassette``,
``deepcode_request_key``, ``deepcode_occurrence``) when the gateway calls; a
direct litellm call may pass the directory as ``api_base`` and the hash is
then computed from the request itself.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from deepcode_tui.llm.backend import _load

_litellm = _load()  # this module exists to subclass litellm's CustomLLM
from litellm.llms.custom_llm import CustomLLM, CustomLLMError

from deepcode_tui.llm.cache import StoredResponse, request_key
from deepcode_tui.llm.cassette import cassette_reader
from deepcode_tui.llm.scripted import ScriptedReply, ScriptExhausted, ScriptRequest, get_script
from deepcode_tui.llm.types import ToolCall, Usage
from deepcode_tui.tokens import count_tokens

_WORDS = re.compile(r"\S+\s*|\s+")


def _chunks(text: str, size: int) -> Iterator[str]:
    """Deterministic pieces of ``text``: whole words, grouped up to ``size`` characters."""
    piece = ""
    for word in _WORDS.findall(text):
        if piece and len(piece) + len(word) > size:
            yield piece
            piece = ""
        piece += word
    if piece:
        yield piece


def _usage_dict(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _tool_call_dict(call: ToolCall, index: int) -> dict[str, Any]:
    return {
        "id": call.id or f"call_{index}",
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
        "index": index,
    }


def _model_response(model: str, reply: StoredResponse) -> Any:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = [_tool_call_dict(c, i) for i, c in enumerate(reply.tool_calls)]
    return _litellm.ModelResponse(
        model=model,
        choices=[{"index": 0, "message": message, "finish_reason": reply.finish_reason or "stop"}],
        usage=_usage_dict(reply.usage),
    )


async def _stream(
    reply: StoredResponse, chunk_chars: int, fail: BaseException | None = None
) -> AsyncIterator[Any]:
    first = True
    for piece in _chunks(reply.text, chunk_chars):
        yield {
            "text": piece,
            "is_finished": False,
            "finish_reason": "",
            "usage": None,
            "index": 0,
            "tool_use": None,
        }
        if first and fail is not None:
            raise fail
        first = False
    for i, call in enumerate(reply.tool_calls):
        yield {
            "text": "",
            "is_finished": False,
            "finish_reason": "",
            "usage": None,
            "index": 0,
            "tool_use": _tool_call_dict(call, i),
        }
    yield {
        "text": "",
        "is_finished": True,
        "finish_reason": reply.finish_reason or "stop",
        "usage": _usage_dict(reply.usage),
        "index": 0,
        "tool_use": None,
    }


# --- replay ----------------------------------------------------------------------


class ReplayProvider(CustomLLM):
    def _reply(self, kw: dict[str, Any]) -> StoredResponse:
        model, messages, optional_params = kw["model"], kw["messages"], kw.get("optional_params") or {}
        meta = (kw.get("litellm_params") or {}).get("metadata") or {}
        where = meta.get("deepcode_cassette") or kw.get("api_base")
        if not where:
            raise CustomLLMError(400, "replay: no cassette given (metadata deepcode_cassette or api_base)")
        reader = cassette_reader(Path(where))
        key = meta.get("deepcode_request_key") or request_key(model, messages, optional_params)
        reply = reader.lookup(key, int(meta.get("deepcode_occurrence", 0)))
        if reply is None:
            raise CustomLLMError(
                400, f"replay: cassette {where} has no recorded reply for this request (hash {key[:12]})"
            )
        return reply

    # litellm calls handlers with keyword arguments only (see litellm.main, custom provider dispatch).
    async def acompletion(self, *args: Any, **kw: Any) -> Any:
        return _model_response(kw["model"], self._reply(kw))

    async def astreaming(self, *args: Any, **kw: Any) -> AsyncIterator[Any]:
        reply = self._reply(kw)
        async for chunk in _stream(reply, 16):
            yield chunk


# --- scripted --------------------------------------------------------------------


def _simulated_error(kind: str, model: str) -> BaseException:
    # Raised the way a real provider's HTTP status reaches litellm, so the
    # gateway sees the same exception types it sees in production.
    if kind == "rate_limit":
        return CustomLLMError(429, "Rate limit reached for requests. Please try again in 1s.")
    if kind == "server_error":
        return CustomLLMError(
            500, '{"error": {"message": "The server had an error", "type": "server_error"}}'
        )
    if kind == "html":
        return CustomLLMError(
            502, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
        )
    if kind == "html_200":
        return CustomLLMError(
            500,
            "Empty or invalid response from LLM endpoint. Received: '<!DOCTYPE html><html><body>Welcome</body>"
            "</html>'. Check the reverse proxy or model server configuration.",
        )
    if kind == "auth":
        return CustomLLMError(
            401, "Incorrect API key provided: sk-test-abcdef123456. You can find your key ..."
        )
    if kind == "context_length":
        return _litellm.ContextWindowExceededError(
            message="This model's maximum context length is 8192 tokens; your messages resulted in 9120 tokens.",
            model=model,
            llm_provider="scripted",
        )
    if kind == "timeout":
        return _litellm.Timeout(message="Request timed out.", model=model, llm_provider="scripted")
    if kind == "not_found":
        return CustomLLMError(404, f"The model `{model}` does not exist")
    return CustomLLMError(400, f"unknown simulated error {kind!r}")


class ScriptedProvider(CustomLLM):
    def _reply(self, model: str, messages: list, optional_params: dict, stream: bool) -> ScriptedReply:
        script = get_script(model)
        if script is None:
            raise CustomLLMError(404, f"no script registered as {model!r} (use register_script)")
        params = {k: v for k, v in optional_params.items() if k not in ("stream", "stream_options")}
        request = ScriptRequest(model=model, messages=list(messages), params=params, stream=stream)
        try:
            return script.next_reply(request)
        except ScriptExhausted as exc:
            raise CustomLLMError(400, str(exc)) from None

    @staticmethod
    def _stored(reply: ScriptedReply, messages: list) -> StoredResponse:
        usage = reply.usage or Usage(
            prompt_tokens=sum(count_tokens(str(m.get("content") or "")) for m in messages),
            completion_tokens=count_tokens(reply.text)
            + sum(count_tokens(c.arguments) for c in reply.tool_calls),
        )
        finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
        return StoredResponse(text=reply.text, tool_calls=reply.tool_calls, finish_reason=finish, usage=usage)

    async def acompletion(self, *args: Any, **kw: Any) -> Any:
        model, messages = kw["model"], kw["messages"]
        reply = self._reply(model, messages, kw.get("optional_params") or {}, stream=False)
        if reply.error:
            raise _simulated_error(reply.error, model)
        return _model_response(model, self._stored(reply, messages))

    async def astreaming(self, *args: Any, **kw: Any) -> AsyncIterator[Any]:
        model, messages = kw["model"], kw["messages"]
        reply = self._reply(model, messages, kw.get("optional_params") or {}, stream=True)
        if reply.error and not reply.error_mid_stream:
            raise _simulated_error(reply.error, model)
        fail = _simulated_error(reply.error, model) if reply.error else None
        async for chunk in _stream(self._stored(reply, messages), reply.chunk_chars, fail):
            yield chunk
