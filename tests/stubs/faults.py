"""The misbehaviour catalogue the stubs can play, and seeded draws from it.

Content faults change what the model says (the HTTP exchange is well formed);
transport faults change how the provider answers (status, headers, a broken
or silent stream). ``applicable`` says which kinds make sense for a reply: a
reply without tool calls cannot carry malformed tool arguments.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from deepcode_tui.llm.scripted import ScriptedReply, ScriptRequest
from deepcode_tui.llm.types import ToolCall
from tests.e2e.scripted_run import asked_file

CONTENT = (
    "prose",  # prose before and after the code (or the JSON)
    "several_blocks",  # the file's block among other code blocks
    "truncated",  # cut at the token limit (finish_reason length / stop_reason max_tokens)
    "bad_tool_args",  # a tool call whose arguments are not valid JSON
    "unknown_tool",  # a call to a tool that was not offered
    "refusal",  # the model declines
    "empty",  # nothing at all
    "wrong_schema",  # valid JSON of another shape than asked for
)
TRANSPORT = (
    "rate_limit",  # 429 with retry-after and the family's rate-limit headers
    "overloaded",  # 529 overloaded_error (Anthropic) / 503 (OpenAI)
    "html_500",  # a 500 HTML page from a proxy in front of the API
    "reset",  # the connection reset mid-stream (before the body when not streamed)
    "stall",  # the stream stops sending after its first events
    "context_length",  # the prompt is longer than the context window (400)
)
SILENT = "silent"  # accepts the request and never answers (not drawn by chaos: it ends the run)
KINDS = CONTENT + TRANSPORT

REFUSAL = "I'm sorry, but I can't help with that request."


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def applicable(kind: str, reply: ScriptedReply, request: ScriptRequest) -> bool:
    """Whether ``kind`` can be played on ``reply`` (the reply the script gave for ``request``)."""
    if kind in ("bad_tool_args", "unknown_tool"):
        return bool(reply.tool_calls)
    if kind == "several_blocks":
        return "```" in reply.text
    if kind == "wrong_schema":
        return _is_json_object(reply.text.strip())
    if kind in ("prose", "truncated"):
        return bool(reply.text.strip())
    return True


def transform(kind: str, reply: ScriptedReply) -> ScriptedReply:
    """``reply`` as a misbehaving model would have given it (content faults only)."""
    text, calls = reply.text, reply.tool_calls
    if kind == "prose":
        return reply.model_copy(update={"text": f"Sure! Here is what you asked for.\n\n{text}\n\nLet me know if you need "
                                        "anything else, for instance more tests."})  # fmt: skip
    if kind == "several_blocks":
        before = "First install the dependencies:\n\n```bash\npip install -r requirements.txt\n```\n\nThe file:\n\n"
        after = "\n\nExample usage:\n\n```python\nfrom emaz import *  # try it out\nprint('ok')\n```\n"
        return reply.model_copy(update={"text": before + text + after})
    if kind == "truncated":
        return reply.model_copy(
            update={"text": text[: max(1, len(text) * 3 // 5)], "finish_reason": "length"}
        )
    if kind == "bad_tool_args":
        broken = [
            ToolCall(id=c.id, name=c.name, arguments=c.arguments[: max(1, len(c.arguments) - 2)])
            for c in calls
        ]
        return reply.model_copy(update={"tool_calls": broken})
    if kind == "unknown_tool":
        odd = [ToolCall(id=c.id, name="web_search", arguments='{"q": "EMA z-score"}') for c in calls]
        return reply.model_copy(update={"tool_calls": odd})
    if kind == "refusal":
        return ScriptedReply(text="", finish_reason="refusal")
    if kind == "empty":
        return ScriptedReply(text="")
    if kind == "wrong_schema":
        return reply.model_copy(update={"text": json.dumps({"answer": "done", "notes": text[:80]})})
    raise ValueError(f"{kind!r} is not a content fault")


def identity(request: ScriptRequest) -> str:
    """Which logical call ``request`` belongs to, the same in every run: the role's system
    message and the file a coder is asked to write (not the rest, which may carry timings)."""
    system = str(request.messages[0].get("content") or "") if request.messages else ""
    return hashlib.sha256(f"{system}\0{asked_file(request.messages) or ''}".encode()).hexdigest()[:16]


@dataclass
class Draw:
    """Faults drawn at ``rate`` per request from ``kinds`` (those applicable), seeded.

    The n-th request of a logical call (see :func:`identity`) gets the same draw in every
    run of a seed, whatever order concurrent calls (the blueprint agents) arrive in: the
    same seed plays the same faults.
    """

    rate: float
    seed: int = 0
    kinds: tuple[str, ...] = KINDS

    def __post_init__(self) -> None:
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: ScriptRequest, reply: ScriptedReply) -> str | None:
        key = identity(request)
        with self._lock:
            n = self._seen[key]
            self._seen[key] += 1
        rng = random.Random(f"{self.seed}:{key}:{n}")  # a str seed hashes the same in every process
        if rng.random() >= self.rate:
            return None
        fits = [k for k in self.kinds if applicable(k, reply, request)]
        return rng.choice(fits) if fits else None


Chooser = Callable[[ScriptRequest, ScriptedReply], "str | None"]
