"""Turning provider failures into decisions (retry or not) and into clear errors."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from deepcode_tui.errors import ContextTooLong, DeepcodeError, ProviderError
from deepcode_tui.llm.types import Usage

FailureKind = Literal[
    "rate_limit",
    "server",
    "timeout",
    "connection",
    "auth",
    "context",
    "html",
    "not_found",
    "bad_request",
    "empty",
    "refusal",
    "other",
]

# A provider silent this many attempts in a row is down, not slow: the call stops.
MAX_SILENT_ATTEMPTS = 2
# The embedded server dying twice on one call is the request or the build, not bad luck.
MAX_EMBEDDED_CRASHES = 2

_SECRETS = re.compile(
    r"(sk-[A-Za-z0-9_\-*]{4,}|Bearer\s+\S+|(?:api[_-]?key|token|secret)[\"']?\s*[:=]\s*[\"']?[^\s\"',}]+)",
    re.IGNORECASE,
)
_PREFIX = re.compile(r"^(?:litellm\.\w+:\s*)+(?:\w+Error:\s*)*(?:\w+Exception\s*-\s*)?")
_HTML = re.compile(r"<!doctype html|<html[\s>]|<body[\s>]|<head[\s>]", re.IGNORECASE)
_CONNECTION = ("Connection error", "Connection refused", "ConnectError", "Name or service not known")
_NON_JSON = ("Empty or invalid response", "Expecting value: line 1", "JSONDecodeError", "not valid JSON")


class StructuredOutputError(DeepcodeError):
    """A structured call produced no reply that validates, even after repair rounds."""

    exit_code = 5

    def __init__(self, message: str, fix: str = "", *, call_name: str = "", raw_path: str = "") -> None:
        super().__init__(message, fix)
        self.call_name = call_name
        self.raw_path = raw_path


def scrub(text: str, limit: int = 400) -> str:
    """``text`` with anything that looks like a key or bearer token removed, shortened."""
    text = _SECRETS.sub("[redacted]", str(text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    retryable: bool
    status: int | None
    detail: str
    retry_after: float | None = None


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _headers(exc: BaseException) -> list[Any]:
    # litellm keeps the provider's headers on the exception for some adapters (Anthropic)
    # and on the SDK's response for others (OpenAI): look in both.
    found = [
        getattr(exc, "litellm_response_headers", None),
        getattr(getattr(exc, "response", None), "headers", None),
    ]
    return [h for h in found if h]


_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$")


def _seconds(value: str) -> float | None:
    """A wait as providers write it: seconds, an HTTP date, "1m30s"/"250ms", an RFC 3339 time."""
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    m = _DURATION.match(value)
    if m and any(m.groups()):
        h, mi, se, ms = (float(g) if g else 0.0 for g in m.groups())
        return h * 3600 + mi * 60 + se + ms / 1000
    for parse in (parsedate_to_datetime, datetime.fromisoformat):
        try:
            when = parse(value)
        except (TypeError, ValueError, IndexError):
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return None


def _retry_after(exc: BaseException) -> float | None:
    """How long the provider asked us to wait: retry-after first, then its reset headers."""
    for name in (
        "retry-after-ms",
        "retry-after",
        "x-ratelimit-reset-requests",
        "anthropic-ratelimit-requests-reset",
    ):
        for headers in _headers(exc):
            try:
                value = headers.get(name)
            except AttributeError:
                continue
            if value is None:
                continue
            seconds = _seconds(str(value))
            if seconds is not None:
                return seconds / 1000 if name == "retry-after-ms" else seconds
    return None


def classify(exc: BaseException) -> Failure:
    """What kind of failure ``exc`` is and whether a retry may help."""
    # Errors raised mid-stream arrive wrapped; the original carries the real cause.
    inner = getattr(exc, "original_exception", None)
    if isinstance(inner, BaseException) and inner is not exc:
        exc = inner
    names = _names(exc)
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    raw = str(getattr(exc, "message", "") or exc)
    detail = scrub(_PREFIX.sub("", raw))
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) or names & {"Timeout", "APITimeoutError"}:
        return Failure("timeout", True, status or 408, detail or "timed out")
    if "ContextWindowExceededError" in names:
        return Failure("context", False, status, detail)
    if names & {"AuthenticationError", "PermissionDeniedError"} or status in (401, 403):
        return Failure("auth", False, status, detail)
    if "RateLimitError" in names or status == 429:
        return Failure("rate_limit", True, 429, detail, _retry_after(exc))
    if _HTML.search(raw) or any(marker in raw for marker in _NON_JSON):
        # A gateway's 502/503/504 page is usually transient; an HTML page on any
        # other status means the endpoint is not an API at all: no retry helps.
        # A 5xx page comes from a proxy in front of a working API (retry); a page with
        # any other status means api_base is not an API at all (no retry helps).
        transient = status is not None and status >= 500 and "Empty or invalid response" not in raw
        if not _HTML.search(raw):
            # A body that is not JSON (a 200 cut off mid-reply): litellm reports it as a 500
            # of its own making, so the status it carries is not the provider's; say none.
            return Failure("html", transient, None, "the reply body is not valid JSON (cut off, or not an "
                           "API response): " + detail)
        return Failure("html", transient, status, detail)
    # litellm reports a refused or dropped connection as a 500 "Connection error."
    if ("APIConnectionError" in names and status in (None, 500)) or any(m in raw for m in _CONNECTION):
        return Failure("connection", True, status, detail)
    if (status is not None and status >= 500) or names & {
        "InternalServerError",
        "ServiceUnavailableError",
        "BadGatewayError",
    }:
        return Failure("server", True, status, detail)
    if "NotFoundError" in names or status == 404:
        return Failure("not_found", False, status, detail)
    if "BadRequestError" in names or status == 400:
        return Failure("bad_request", False, status, detail)
    return Failure("other", False, status, detail)


def to_error(
    failure: Failure,
    *,
    provider: str,
    model: str,
    role: str,
    call_name: str,
    attempts: int,
    env_var: str | None,
    api_base: str | None,
    timeout_s: float,
) -> DeepcodeError:
    """One error naming provider, model and status (and the call), with the remedy."""
    status = f"status {failure.status}" if failure.status else "no status"
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    call = f"call {call_name!r} ({role})"
    if failure.kind == "auth":
        if env_var and not api_base:
            fix = f"set {env_var} to a valid API key for {provider}"
        else:
            where = f" ({api_base})" if api_base else ""
            fix = f"set models.api_key (or DEEPCODE_MODELS__API_KEY) to the key of this endpoint{where}"
        return ProviderError(
            f"{provider} rejected the credentials for {model} ({status}): {failure.detail}", fix
        )
    if failure.kind == "context":
        return ContextTooLong(
            f"the prompt of {call} is longer than {model}'s context window: {failure.detail}",
            f"choose a model with a larger context for models.{role}, or lower codegen.context_budget_tokens",
        )
    if failure.kind == "html":
        where = f" (api_base {api_base})" if api_base else ""
        fix = (
            f"check that models.api_base{where} is the API endpoint (usually ending in /v1), not a web page"
            if api_base
            else "the provider or a proxy in between is failing; try again later and resume the run"
        )
        return ProviderError(
            f"{provider}{where} answered {call} for {model} with an HTML page or non-JSON body "
            f"({status}){tries}: {failure.detail[:160]}",
            fix,
        )
    if failure.kind == "rate_limit":
        return ProviderError(
            f"{provider} kept rate-limiting {model} ({status}){tries} on {call}",
            "wait a while and resume the run, or raise models.max_retries",
        )
    if failure.kind == "refusal":
        return ProviderError(
            f"{model} refused {call}{tries}: {failure.detail[:200]}",
            f"resume the run to ask again, or use another model for models.{role}",
        )
    if failure.kind == "timeout":
        return ProviderError(
            f"{provider} did not answer {call} for {model} within {timeout_s:g}s{tries}",
            "raise models.timeout_s, or check that the model server is up",
        )
    if failure.kind == "connection":
        target = api_base or provider
        return ProviderError(
            f"cannot reach {target} for {model}{tries}: {failure.detail}",
            "check the network connection and models.api_base",
        )
    if failure.kind == "not_found":
        return ProviderError(
            f"{provider} does not know the model {model} ({status}): {failure.detail}",
            f"check the model name in models.{role} (or models.default)",
        )
    if failure.kind == "server":
        return ProviderError(
            f"{provider} failed on {call} for {model} ({status}){tries}: {failure.detail}",
            "try again later and resume the run, or switch to another model",
        )
    return ProviderError(
        f"{provider} refused {call} for {model} ({status}): {failure.detail}",
        f"check the parameters this model supports, or switch models.{role}",
    )


def unusable_reply(stored: Any) -> Failure | None:
    """Why a reply that arrived cannot be used at all (retried like a 5xx), or None.

    An empty reply (no text, no tool call, not cut off) and a refusal carry nothing to
    act on; a reply cut at the token cap is the caller's to judge (it may keep a part).
    """
    if stored.refusal or stored.finish_reason in ("refusal", "content_filter"):
        return Failure("refusal", True, None, scrub(stored.refusal or stored.text or "declined to answer"))
    if not stored.text.strip() and not stored.tool_calls and stored.finish_reason != "length":
        return Failure("empty", True, None, "the reply was empty")
    return None


def partial_usage(exc: BaseException, kwargs: Mapping[str, Any]) -> Usage:
    """Tokens a failed attempt was billed: nothing unless the provider had begun to reply
    (a reset or stall mid-stream), then an estimate of the prompt and of what it sent."""
    from deepcode_tui.tokens import count_tokens

    partial = getattr(exc, "deepcode_partial", "")
    if not partial:
        return Usage()
    prompt = sum(count_tokens(str(m.get("content") or "")) for m in kwargs.get("messages") or [])
    return Usage(prompt_tokens=prompt, completion_tokens=count_tokens(partial), estimated=True)


def silence_error(
    silence: Any,
    failure: Failure,
    *,
    provider: str,
    model: str,
    role: str,
    call_name: str,
    attempts: int,
    deadline_s: float,
    run_id: str | None,
) -> DeepcodeError:
    """The one line for a call a time bound ended: which provider, which bound (its setting)."""
    resume = f"deepcode-tui resume {run_id}" if run_id else "run again"
    tries = f" ({attempts} attempts)" if attempts > 1 else ""
    if silence is None or silence.setting == "models.call_deadline_s":
        why = f"did not finish call {call_name!r} ({role}, {model}) within models.call_deadline_s = {deadline_s:g}s{tries}"
        setting = "models.call_deadline_s"
    else:
        why = f"{silence.what} for {silence.seconds:g}s ({silence.setting}) on call {call_name!r} ({role}, {model}){tries}"
        setting = silence.setting
    return ProviderError(
        f"{provider} {why}",
        f"check that {provider} is up (or raise {setting}), then resume: {resume}",
    )
