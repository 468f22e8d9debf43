"""Asking again after a rejected reply: the retry is a different request, never the same one.

A retry that resends the identical request gets the identical answer: from the
gateway's content-addressed cache, from a cassette, and from a deterministic
model (temperature 0, the embedded one), so it would do nothing. Every phase
that checks a reply and asks again (codegen's file replies, structured output's
repair rounds, the judge) builds its retry here: the original request, the one
rejected reply (clipped), and a short correction saying what was wrong and which
attempt this is. The conversation grows by that one exchange only, never by
every earlier rejected reply, so a retry costs about what the first ask did.

The other half is the gateway's cache rule (``Gateway.complete(check=...)``): a
reply its caller's check rejects is never stored as an answer (it is kept apart, to
be replayed as the rejection it was in the next run), and a stored one the check
rejects is not served.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deepcode_tui.llm.clipping import keep_ends

# Enough of a rejected reply for the model to see what it did (the wrong file, prose, a
# placeholder); it writes the answer again whole, so the rest would only cost tokens.
KEEP_CHARS = 4000


def clip_reply(text: str, limit: int = KEEP_CHARS) -> str:
    """``text`` cut to about ``limit`` characters, head and tail kept, the cut marked."""
    if len(text) <= limit:
        return text
    head, tail = limit * 3 // 4, limit // 4
    return keep_ends(text, head, tail, f"\n[... {len(text) - head - tail} characters of this reply left out ...]\n")


def correction(
    problem: str, ask: str, *, attempt: int | None = None, attempts: int | None = None
) -> dict[str, str]:
    """The user turn after a rejected reply: what was wrong, what to send, which attempt.

    The attempt number keeps a second retry different from the first even when the
    model gave the same rejected reply twice."""
    count = f" (Attempt {attempt} of {attempts}.)" if attempt and attempts else ""
    return {"role": "user", "content": f"Your previous reply could not be used {problem}. {ask}{count}"}


def retry_messages(
    base: Sequence[Mapping[str, Any]],
    rejected: str | None,
    problem: str,
    ask: str,
    *,
    attempt: int,
    attempts: int,
    keep_chars: int = KEEP_CHARS,
) -> list[dict[str, Any]]:
    """``base`` (the first request) + the rejected reply + the correction.

    ``problem`` is worded to follow "could not be used" (e.g. "(empty: no code)" or
    "as a Plan: files: field required"); ``rejected`` is None when no text came back
    (a timeout), and then only the correction is added."""
    out = [dict(m) for m in base]
    if rejected is not None and rejected.strip():
        out.append({"role": "assistant", "content": clip_reply(rejected, keep_chars)})
    out.append(correction(problem, ask, attempt=attempt, attempts=attempts))
    return out
