"""Reading the JSON object inside a model's reply, and closing one cut off at the token cap.

Models wrap JSON in prose or code fences, write raw newlines inside strings
(llama.cpp's JSON grammar allows them, strict JSON does not), and stop
mid-object when ``max_tokens`` runs out. These helpers recover what the
model did write; they never invent content.
"""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)
_LENIENT = json.JSONDecoder(strict=False)  # raw control characters inside strings are accepted
_CLOSERS = {"{": "}", "[": "]"}


def _object_at(candidate: str, i: int) -> str | None:
    try:
        value, end = _LENIENT.raw_decode(candidate, i)
    except json.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    text = candidate[i:end]
    try:
        json.loads(text)
    except json.JSONDecodeError:
        # Only the lenient decoder read it (raw newlines in strings): hand on strict JSON.
        return json.dumps(value, ensure_ascii=False)
    return text


def _first_object(candidate: str) -> str | None:
    # Objects only: every schema is a model, and a truncated object must not
    # "succeed" as the list nested inside it.
    for i, ch in enumerate(candidate):
        if ch == "{" and (found := _object_at(candidate, i)) is not None:
            return found
    return None


def extract_json(text: str) -> str:
    """The first complete JSON object in ``text`` (the reply itself, inside a code fence, or
    surrounded by prose) as strict JSON; the text itself when there is none, so the
    parser reports what is wrong with it."""
    stripped = text.strip()
    # A reply that is an object comes first: a fence inside one of its strings
    # (code in a JSON field) must not be mistaken for the answer.
    if stripped.startswith("{") and (found := _object_at(stripped, 0)) is not None:
        return found
    fenced = _FENCE.search(text)
    if fenced and (found := _first_object(fenced.group(1))) is not None:
        return found
    found = _first_object(text)
    return found if found is not None else stripped


def loads_object(text: str) -> Any:
    """``text`` parsed leniently (raw control characters in strings allowed); raises ValueError."""
    return _LENIENT.decode(text)


def _keeps_whole_items(stack: list[str]) -> bool:
    """False when cutting here would leave a partial object inside an open array."""
    if "]" not in stack:
        return True
    return "}" not in stack[stack.index("]") + 1 :]


def close_truncated(text: str, max_candidates: int = 400) -> str | None:
    """A reply cut off mid-object, closed at its last complete element, as strict JSON.

    The incomplete tail is dropped: a half-written key or value, and an array's
    last item when that item was not finished (a list never ends in a partial
    record). Open objects keep the keys they completed; open arrays and objects
    are then closed. Every element kept is exactly as the model wrote it. None
    when ``text`` does not start an object, the object is not cut off, or
    nothing complete can be kept.
    """
    start = text.find("{")
    if start < 0:
        return None
    body = text[start:]
    stack: list[str] = []
    cuts: list[tuple[int, str]] = []  # (end of the kept prefix, closers for it)
    in_string = escaped = False
    for i, ch in enumerate(body):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in _CLOSERS:
            stack.append(_CLOSERS[ch])
            if _keeps_whole_items(stack):
                cuts.append((i + 1, "".join(reversed(stack))))  # the container kept empty
        elif ch in "}]":
            if not stack:
                return None  # more closers than openers: not a cut-off object
            stack.pop()
            if not stack:
                return None  # the object is complete: nothing was cut off
        elif ch == "," and _keeps_whole_items(stack):
            cuts.append((i, "".join(reversed(stack))))  # everything before the comma is complete
    for end, closers in reversed(cuts[-max_candidates:]):
        candidate = body[:end].rstrip() + closers
        try:
            value = _LENIENT.decode(candidate)
        except json.JSONDecodeError:
            continue
        return json.dumps(value, ensure_ascii=False)
    return None
