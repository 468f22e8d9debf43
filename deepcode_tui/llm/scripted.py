"""Hand-written model replies for tests: the ``scripted/<name>`` provider's scripts.

    model = register_script("demo", ["first reply", ScriptedReply(error="rate_limit"), "after retry"])
    settings.models.default = model

A script is a queue of replies or a function of the request. Replies can be
text, tool calls, or a simulated provider failure (429, 5xx, an HTML page,
a bad key, an overlong prompt, a timeout). Every request the provider
receives is kept in ``script.requests`` for assertions.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field

from deepcode_tui.llm.types import ToolCall, Usage

ErrorKind = Literal[
    "rate_limit",  # 429
    "server_error",  # 500 with a JSON body
    "html",  # 502 with an HTML page (a proxy in front of the provider)
    "html_200",  # an HTML page where JSON was expected (api_base points at a web page)
    "auth",  # 401, bad key
    "context_length",  # prompt longer than the context window
    "timeout",
    "not_found",  # unknown model
]


class ScriptedReply(BaseModel):
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    error: ErrorKind | None = None
    error_mid_stream: bool = False  # when streaming, fail after the first chunk
    usage: Usage | None = None  # default: counted from the request and the text
    chunk_chars: int = Field(4, ge=1)
    finish_reason: str = ""  # default: "tool_calls" with tool calls, else "stop"; "length" = cut off


class ScriptRequest(BaseModel):
    """What the provider received (after litellm's processing)."""

    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = Field(default_factory=dict)
    stream: bool = False


Responder = Callable[[ScriptRequest], "ScriptedReply | str"]


class ScriptExhausted(Exception):
    pass


class Script:
    def __init__(
        self,
        name: str,
        replies: Iterable[ScriptedReply | str] | Responder,
        *,
        supports_tools: bool,
        supports_response_schema: bool,
    ) -> None:
        self.name = name
        self.supports_tools = supports_tools
        self.supports_response_schema = supports_response_schema
        self.requests: list[ScriptRequest] = []
        self._responder: Responder | None = replies if callable(replies) else None
        self._queue: deque[ScriptedReply | str] = deque() if callable(replies) else deque(replies)
        self._lock = threading.Lock()

    def next_reply(self, request: ScriptRequest) -> ScriptedReply:
        with self._lock:
            self.requests.append(request)
            if self._responder is not None:
                reply = self._responder(request)
            elif self._queue:
                reply = self._queue.popleft()
            else:
                raise ScriptExhausted(
                    f"scripted model {self.name!r} has no reply left for request #{len(self.requests)}"
                )
        return ScriptedReply(text=reply) if isinstance(reply, str) else reply

    @property
    def remaining(self) -> int:
        return len(self._queue)


_SCRIPTS: dict[str, Script] = {}
_registry_lock = threading.Lock()


def register_script(
    name: str,
    replies: Iterable[ScriptedReply | str] | Responder,
    *,
    supports_tools: bool = True,
    supports_response_schema: bool = False,
) -> str:
    """Register (or replace) the script ``name``; returns its model string ``scripted/<name>``."""
    with _registry_lock:
        _SCRIPTS[name] = Script(
            name, replies, supports_tools=supports_tools, supports_response_schema=supports_response_schema
        )
    return f"scripted/{name}"


def get_script(name: str) -> Script | None:
    """The script registered as ``name`` (with or without the ``scripted/`` prefix)."""
    return _SCRIPTS.get(name.removeprefix("scripted/"))


def unregister_script(name: str) -> None:
    with _registry_lock:
        _SCRIPTS.pop(name.removeprefix("scripted/"), None)
