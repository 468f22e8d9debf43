"""One attempt at one call through litellm: streamed or not, read into a StoredResponse."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Bounds:
    """How long one attempt may wait. ``deadline`` is a ``loop.time()`` the attempt never
    outlives (the call's total deadline); the others are relative waits."""

    first_byte_s: float
    idle_s: float
    reply_s: float  # a reply that is not streamed arrives whole: its one wait
    deadline: float | None = None

    @classmethod
    def of(cls, models: ModelsConfig, deadline: float | None = None) -> Bounds:
        return cls(models.first_byte_timeout_s, models.idle_timeout_s, models.timeout_s, deadline)


class Silence(TimeoutError):
    """The provider went quiet past a bound; ``setting`` names the setting that bounds it."""

    def __init__(self, what: str, seconds: float, setting: str) -> None:
        super().__init__(f"{what} for {seconds:g}s")
        self.what = what
        self.seconds = seconds
        self.setting = setting


def _at(loop: asyncio.AbstractEventLoop, wait: float, deadline: float | None) -> float:
    when = loop.time() + wait
    return when if deadline is None else min(when, deadline)


def _silence(loop: asyncio.AbstractEventLoop, bounds: Bounds, stage: str, call_started: float) -> Silence:
    if bounds.deadline is not None and loop.time() >= bounds.deadline - 0.05:
        return Silence(
            "the call ran past its deadline", round(loop.time() - call_started, 1), "models.call_deadline_s"
        )
    if stage == "first":
        return Silence("sent nothing", bounds.first_byte_s, "models.first_byte_timeout_s")
    if stage == "idle":
        return Silence("stopped sending mid-reply", bounds.idle_s, "models.idle_timeout_s")
    return Silence("sent no reply", bounds.reply_s, "models.timeout_s")


async def attempt(
    kwargs: dict[str, Any],
    *,
    stream: bool,
    timeout_s: float | None = None,
    on_token: OnToken | None,
    bounds: Bounds | None = None,
) -> StoredResponse:
    """Make the call once. Raises whatever litellm raises, or :class:`Silence` when the
    provider stays silent past ``bounds``: before the first streamed chunk, between two
    chunks, for a whole unstreamed reply, or past the call's deadline."""
    if bounds is None:
        wait = timeout_s if timeout_s is not None else 180.0
        bounds = Bounds(wait, wait, wait)
    litellm = get_litellm()
    # litellm's `timeout` bounds the HTTP request; these asyncio bounds also cover custom
    # providers and a server that accepts and never sends headers, and they say which
    # bound fired. asyncio.timeout rather than wait_for: no extra task per call or chunk.
    loop = asyncio.get_running_loop()
    started = loop.time()
    if not stream:
        try:
            async with asyncio.timeout_at(_at(loop, bounds.reply_s, bounds.deadline)):
                resp = await litellm.acompletion(**kwargs)
        except TimeoutError as exc:
            raise _silence(loop, bounds, "reply", started) from exc
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
            refusal=str(getattr(message, "refusal", None) or ""),
        )

    parts: list[str] = []
    usage: Usage | None = None
    finish = ""
    refusal = ""
    slots: dict[int, dict[str, str]] = {}
    stage = "first"
    try:
        async with asyncio.timeout_at(_at(loop, bounds.first_byte_s, bounds.deadline)) as limit:
            # include_usage: without it most providers send no token counts on a stream.
            response = await litellm.acompletion(
                **kwargs, stream=True, stream_options={"include_usage": True}
            )
            async for chunk in response:
                # Silence, not length, fails a stream: each chunk restarts the idle bound.
                stage = "idle"
                limit.reschedule(_at(loop, bounds.idle_s, bounds.deadline))
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
                    refusal += str(getattr(delta, "refusal", None) or "")
                    for tc in getattr(delta, "tool_calls", None) or []:
                        slot = slots.setdefault(tc.index or 0, {"id": "", "name": "", "arguments": ""})
                        slot["id"] = tc.id or slot["id"]
                        if tc.function is not None:
                            slot["name"] = tc.function.name or slot["name"]
                            slot["arguments"] += tc.function.arguments or ""
                    if choice.finish_reason:
                        finish = choice.finish_reason
    except Exception as exc:
        failure = exc if isinstance(exc, Silence) or not isinstance(exc, TimeoutError) else None
        if failure is None:
            failure = _silence(loop, bounds, stage, started)
        # What the provider had already sent (and will bill): counted as the retry's cost.
        failure.deepcode_partial = "".join(parts) + "".join(c["arguments"] for c in slots.values())  # type: ignore[attr-defined]
        if failure is exc:
            raise
        raise failure from exc
    if not parts and not slots and usage is None and not refusal:
        # A stream that carried nothing at all is usually a body the SDK could not
        # read as events (an HTML page, an empty body): litellm then synthesises an
        # empty reply. Asking once without streaming surfaces the real error.
        return await attempt(kwargs, stream=False, on_token=None, bounds=bounds)
    tool_calls = [
        ToolCall(id=c["id"] or f"call_{i}", name=c["name"], arguments=c["arguments"] or "{}")
        for i, c in sorted(slots.items())
    ]
    return StoredResponse(
        text="".join(parts),
        tool_calls=tool_calls,
        finish_reason=finish or "stop",
        usage=usage or Usage(),
        refusal=refusal,
    )
