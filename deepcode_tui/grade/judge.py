"""One leaf's grade from the judge model: ask, parse, repair a bounded number of times.

The judge answers with expectations, reality and a 0/1 score. A reply that does
not parse (junk, a refusal, a cut-off reply, the wrong fields) is shown its
problem and asked again, at most ``max_repairs`` times; a leaf whose replies
stay unusable scores 0 with ``valid_score`` false and the reason in its
explanation, and grading goes on. Provider failures and budget stops are not
the judge's verdict: they propagate, and the grade resumes later.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError, field_validator

from deepcode_tui.llm.structured import (
    describe_error,
    grammar_response_format,
    native_response_format,
    parse_reply,
    parse_truncated,
    repair_messages,
    schema_instruction,
    schema_problem,
    with_instruction,
)

ROLE = "judge"
MAX_REPAIRS = 2

_REFUSAL = re.compile(
    r"^\s*(i'?m sorry|i am sorry|sorry,|i can(?:'|no)t|i cannot|i won'?t|i am unable|i'?m unable|as an ai)", re.IGNORECASE
)


class JudgeVerdict(BaseModel):
    """What the judge must return for a leaf."""

    expectations: str
    reality: str
    score: int
    explanation: str = ""

    @field_validator("score")
    @classmethod
    def _binary(cls, value: int) -> int:
        if value not in (0, 1):
            raise ValueError("score must be 0 or 1")
        return value


class Outcome(BaseModel):
    score: float
    valid_score: bool
    explanation: str
    flag: str = ""  # why the leaf was scored 0 without a usable verdict
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    verdict: JudgeVerdict | None = None
    last_reply: str = ""


class GatewayLike(Protocol):
    def resolve(self, role: str) -> Any: ...
    def profile(self, resolved: Any) -> Any: ...
    async def complete(self, role: str, messages: Any, *, name: str = "", stream: bool = True, **params: Any) -> Any: ...


def _explanation(v: JudgeVerdict) -> str:
    summary = v.explanation.strip() or v.reality.strip()
    return f"{summary}\n\nExpectations: {v.expectations.strip()}\nReality: {v.reality.strip()}"


def _cost(gateway: GatewayLike, model: str, completion: Any, replayed: bool) -> float:
    if completion.cached or replayed:
        return 0.0
    from deepcode_tui.llm.accounting import cost_usd

    return cost_usd(model, completion.usage.prompt_tokens, completion.usage.completion_tokens)


def judge_request(gateway: GatewayLike, messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The messages and params sent for a leaf: the schema goes natively where the model
    takes it, else into the system message (where it counts against the leaf's budget)."""
    mode = gateway.profile(gateway.resolve(ROLE)).structured
    msgs = [dict(m) for m in messages]
    if mode == "native":
        return msgs, {"response_format": native_response_format(JudgeVerdict)}
    params = {"response_format": grammar_response_format(JudgeVerdict)} if mode == "grammar" else {}
    return with_instruction(msgs, schema_instruction(JudgeVerdict)), params


async def judge_leaf(
    gateway: GatewayLike,
    request: tuple[list[dict[str, Any]], dict[str, Any]],
    *,
    name: str,
    max_repairs: int = MAX_REPAIRS,
) -> Outcome:
    resolved = gateway.resolve(ROLE)
    msgs, params = request
    out = Outcome(score=0.0, valid_score=False, explanation="")
    problem = ""
    refused = False
    base, rounds = msgs, max(0, max_repairs) + 1
    for attempt in range(rounds):
        call = name if attempt == 0 else f"{name} (repair {attempt})"
        completion = await gateway.complete(
            ROLE, msgs, name=call, stream=False, check=lambda c: schema_problem(c, JudgeVerdict), **params
        )
        out.attempts += 1
        out.prompt_tokens += completion.usage.prompt_tokens
        out.completion_tokens += completion.usage.completion_tokens
        out.cost_usd += _cost(gateway, resolved.model, completion, bool(getattr(resolved, "replay", False)))
        text = completion.text or ""
        out.last_reply = text
        try:
            verdict = parse_reply(text, JudgeVerdict)
        except (ValidationError, ValueError) as exc:
            verdict = parse_truncated(text, JudgeVerdict) if completion.finish_reason == "length" else None
            if verdict is None:
                refused = bool(_REFUSAL.match(text)) and "{" not in text
                if not text.strip():
                    problem = "the reply was empty"
                elif refused:
                    problem = "the judge declined to grade"
                else:
                    problem = describe_error(exc)
                if completion.finish_reason == "length":
                    problem += " (the reply was cut off at the token cap: answer more briefly)"
                msgs = repair_messages(base, text, problem, JudgeVerdict, attempt=attempt + 2, attempts=rounds)
                continue
        assert isinstance(verdict, JudgeVerdict)
        out.verdict = verdict
        out.score = float(verdict.score)
        out.valid_score = True
        out.explanation = _explanation(verdict)
        return out
    kind = "refused" if refused else "unusable"
    out.flag = f"judge reply {kind} after {out.attempts} attempts: {problem[:300]}"
    out.explanation = f"Scored 0: {out.flag}"
    return out
