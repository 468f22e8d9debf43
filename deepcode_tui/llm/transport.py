"""One attempt at one call through litellm: streamed or not, read into a StoredResponse."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from deepcode_tui.config.settings import ModelsConfig
from deepcode_tui.llm.backend import get_litellm
from deepcode_tui.llm.cache import StoredResponse
from deepcode_tui.llm.resolve import OPENAI_COMPATIBLE, ResolvedModel
from deepcode_tui.llm.types import ToolCall, Usage

OnToken = Callable[[str], Awaitable[None]]


def litellm_kwargs(
    resolved: ResolvedModel,
    models: ModelsConfig,
    messages: list[dict[str, Any]],
    params: dict[str, Any],
    *,
    embedded_api_base: str | None = None,
) -> dict[str, Any]:
    """The keyword arguments of ``litellm.acompletion`` for one request (holds the API key:
    never log or persist them)."""
    kwargs: dict[str, Any] = {
        "model": resolved.litellm_model,
        "messages": messages,
        "timeout": models.timeout_s,
        "num_retries": 0,  # the gateway retries; litellm and the SDK must not retry underneath
        "max_retries": 0,
        "drop_params": True,
        **params,
    }
    if resolved.embedded:
        kwargs["api_base"] = embedded_api_base
        kwargs["api_key"] = "embedded"  # the local server needs none, the OpenAI client wants one
    elif resolved.api_base:
        kwargs["api_base"] = resolved.api_base
    if models.api_key is not None and not resolved.embedded and resolved.provider in OPENAI_COMPATIBLE:
        kwargs["api_key"] = models.api_key.get_secret_value()
    if "tools" in params:
        kwargs["_skip_mcp_handler"] = True  # otherwise litellm imports its MCP gateway (needs `mcp`)
    return kwargs


def _usage(raw: Any) -> Usage:
    if raw is None:
        return Usage()
    get = raw.get if isinstance(raw, dict) else (lambda k, d=None: getattr(raw, k, d))
    return Usage(
        prompt_tokens=int(get("prompt_tokens", 0) or 0),
        completion_tokens=int(get("completion_tokens", 0) or 0),
    )


async def attempt(
    kwargs: dict[str, Any], *, stream: bool, timeout_s: float, on_token: OnToken | None
) -> StoredResponse:
    """Make the call once. Raises whatever litellm raises, or TimeoutError when the
    provider stays silent for ``timeout_s`` (before the reply or between streamed chunks)."""
    litellm = get_litellm()
    # litellm enforces `timeout` on the HTTP request; this deadline also covers custom
    # providers and a connection that hangs before sending headers. asyncio.timeout
    # rather than wait_for: no extra task per call or per chunk (the overhead budget).
    loop = asyncio.get_running_loop()
    if not stream:
        async with asyncio.timeout(timeout_s + 5):
            resp = await litellm.acompletion(**kwargs)
        choice = resp.choices[0]
        message = choice.message
        calls = [
            ToolCall(id=tc.id or f"call_{i}", name=tc.function.name, arguments=tc.function.arguments or "{}")
            for i, tc in enumerate(getattr(message, "tool_calls", None) or [])
        ]
        return StoredResponse(
            text=message.content or "",
            tool_calls=calls,
            finish_reason=choice.finish_reason or "stop",
            usage=_usage(getattr(resp, "usage", None)),
        )

    parts: list[str] = []
    usage: Usage | None = None
    finish = ""
    slots: dict[int, dict[str, str]] = {}
    async with asyncio.timeout(timeout_s + 5) as deadline:
        # include_usage: without it most providers send no token counts on a stream.
        response = await litellm.acompletion(**kwargs, stream=True, stream_options={"include_usage": True})
        async for chunk in response:
            deadline.reschedule(loop.time() + timeout_s)  # an idle timeout: silence, not length, fails
            raw_usage = getattr(chunk, "usage", None)
            if raw_usage:
                usage = _usage(raw_usage)
            for choice in chunk.choices or []:
                delta = choice.delta
                text = getattr(delta, "content", None)
                if text:
                    parts.append(text)
                    if on_token is not None:
                        await on_token(text)
                for tc in getattr(delta, "tool_calls", None) or []:
                    slot = slots.setdefault(tc.index or 0, {"id": "", "name": "", "arguments": ""})
                    slot["id"] = tc.id or slot["id"]
                    if tc.function is not None:
                        slot["name"] = tc.function.name or slot["name"]
                        slot["arguments"] += tc.function.arguments or ""
                if choice.finish_reason:
                    finish = choice.finish_reason
    if not parts and not slots and usage is None:
        # A stream that carried nothing at all is usually a body the SDK could not
        # read as events (an HTML page, an empty body): litellm then synthesises an
        # empty reply. Asking once without streaming surfaces the real error.
        return await attempt(kwargs, stream=False, timeout_s=timeout_s, on_token=None)
    tool_calls = [
        ToolCall(id=c["id"] or f"call_{i}", name=c["name"], arguments=c["arguments"] or "{}")
        for i, c in sorted(slots.items())
    ]
    return StoredResponse(
        text="".join(parts), tool_calls=tool_calls, finish_reason=finish or "stop", usage=usage or Usage()
    )
