"""Structured output: asking for JSON that fits a pydantic schema, reading it, repairing it."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from deepcode_tui.llm.correction import retry_messages
from deepcode_tui.llm.errors import StructuredOutputError
from deepcode_tui.llm.grammar import grammar_schema
from deepcode_tui.llm.jsontext import close_truncated, extract_json
from deepcode_tui.llm.schemas import json_schema, schema_text
from deepcode_tui.store.atomic import write_text_atomic

if TYPE_CHECKING:
    from deepcode_tui.llm.gateway import Gateway

M = TypeVar("M", bound=BaseModel)

_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def schema_instruction(schema: type[BaseModel]) -> str:
    """The JSON-in-prompt instruction for models without native structured output."""
    return (
        f"Reply with only one JSON object (no prose, no code fences) that is a valid {schema.__name__} "
        f"according to this JSON schema:\n{schema_text(schema)}"
    )


def native_response_format(schema: type[BaseModel]) -> dict[str, Any]:
    """OpenAI-style ``response_format``; litellm translates it for other providers."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": _NAME.sub("_", schema.__name__)[:64] or "reply",
            "schema": json_schema(schema),
            "strict": False,  # strict mode rejects common pydantic schemas (defaults, open dicts)
        },
    }


def grammar_response_format(schema: type[BaseModel]) -> dict[str, Any]:
    """llama.cpp server form: the schema is compiled to a grammar that constrains decoding
    (reduced to what that compilation handles safely, see :mod:`deepcode_tui.llm.grammar`)."""
    return {"type": "json_object", "schema": grammar_schema(json_schema(schema))}


def with_instruction(messages: list[dict[str, Any]], instruction: str) -> list[dict[str, Any]]:
    """``messages`` with ``instruction`` appended to the system message (added when absent)."""
    out = [dict(m) for m in messages]
    if out and out[0].get("role") == "system" and isinstance(out[0].get("content"), str):
        out[0]["content"] = f"{out[0]['content']}\n\n{instruction}"
    else:
        out.insert(0, {"role": "system", "content": instruction})
    return out


def field_names(schema: type[BaseModel]) -> set[str]:
    """The keys an object of ``schema`` may carry: its field names and their aliases."""
    names = set(schema.model_fields)
    for info in schema.model_fields.values():
        names.update(a for a in (info.alias, info.validation_alias) if isinstance(a, str))
    return names


def validate_json(text: str, schema: type[BaseModel]) -> BaseModel:
    """``text`` (strict JSON) as ``schema``; raises ValidationError or ValueError.

    Pydantic ignores unknown keys and fills defaults, so an object of another shape
    (``{"answer": "done"}``) would pass as a schema whose every field has a default
    (a repair proposal, "nothing to change"): an object that has keys but none of the
    schema's is rejected, so it gets a repair round instead of being taken as empty."""
    model = schema.model_validate_json(text)
    if schema.model_config.get("extra") != "allow" and schema.model_fields:
        data = json.loads(text)
        if isinstance(data, dict) and data and not (set(data) & field_names(schema)):
            raise ValueError(
                f"the JSON object has none of the fields of {schema.__name__} (it has "
                f"{', '.join(sorted(data)[:8])}; expected {', '.join(sorted(schema.model_fields)[:12])})"
            )
    return model


def parse_reply(text: str, schema: type[BaseModel]) -> BaseModel:
    """Validate ``text`` against ``schema``; raises ValidationError or ValueError."""
    return validate_json(extract_json(text), schema)


def _only_defaults(model: BaseModel, schema: type[BaseModel]) -> bool:
    try:
        return model == schema()
    except ValidationError:
        return False  # the schema has required fields, so the kept part carries some


def parse_truncated(text: str, schema: type[BaseModel]) -> BaseModel | None:
    """A reply cut off at the token cap, closed at its last complete element, if that
    validates as ``schema`` and says something; None otherwise.

    A cut inside the first element of a schema whose fields all have defaults closes to
    the empty answer (a repair proposal's one edit cut off leaves ``{"edits": []}``,
    "nothing to change"): that is the loss of the whole answer, not its complete part."""
    closed = close_truncated(text)
    if closed is None:
        return None
    try:
        kept = validate_json(closed, schema)
    except (ValidationError, ValueError):
        return None
    return None if _only_defaults(kept, schema) else kept


def describe_error(exc: Exception, limit: int = 12) -> str:
    """A compact, model-readable description of why a reply did not validate."""
    if isinstance(exc, ValidationError):
        problems = []
        for err in exc.errors()[:limit]:
            loc = ".".join(str(p) for p in err["loc"]) or "(root)"
            if err["type"] == "json_invalid":
                problems.append(f"the reply is not valid JSON ({err['msg']})")
            else:
                problems.append(f"{loc}: {err['msg']}")
        more = exc.error_count() - limit
        if more > 0:
            problems.append(f"... and {more} more")
        return "; ".join(problems)
    return str(exc)


REPAIR_ASK = "Reply again with only the corrected JSON object, conforming to the schema."
# A structured reply may be a whole plan: the model corrects a field, so it sees most of it.
KEEP_REPLY_CHARS = 12000


def repair_messages(
    base: list[dict[str, Any]], reply: str, error: str, schema: type[BaseModel], *, attempt: int, attempts: int
) -> list[dict[str, Any]]:
    """The repair round after ``reply`` failed as ``schema``: the first request, that reply,
    and the error (never the earlier rejected replies too)."""
    return retry_messages(
        base, reply, f"as a {schema.__name__}: {error}", REPAIR_ASK, attempt=attempt, attempts=attempts,
        keep_chars=KEEP_REPLY_CHARS,
    )  # fmt: skip


def reply_problem(text: str, schema: type[BaseModel]) -> str | None:
    """None when ``text`` is a valid ``schema`` reply, else why not (model-readable)."""
    try:
        parse_reply(text, schema)
        return None
    except (ValidationError, ValueError) as exc:
        return describe_error(exc)


def schema_problem(completion: Any, schema: type[BaseModel]) -> str | None:
    """None when ``completion`` is a usable ``schema`` reply (a cut-off one whose complete
    part validates counts), else why not: the gateway's cache check."""
    problem = reply_problem(completion.text, schema)
    if problem and completion.finish_reason == "length" and parse_truncated(completion.text, schema) is not None:
        return None
    return problem


def save_failed_replies(
    run_dir: Path | None, name: str, call_id: str, replies: list[tuple[str, str]]
) -> Path:
    """Write every rejected reply and why it was rejected; returns the file's path."""
    base = run_dir / "llm" / "failed" if run_dir else Path(tempfile.gettempdir()) / "deepcode-llm-failed"
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:60] or "call"
    path = base / f"{slug}-{call_id}.txt"
    body = [f"=== attempt {i}: {problem}\n{text}\n" for i, (text, problem) in enumerate(replies, 1)]
    write_text_atomic(path, "\n".join(body))
    return path


async def structured_call(
    gateway: Gateway,
    role: str,
    messages: Sequence[Mapping[str, Any]],
    schema: type[M],
    *,
    name: str,
    max_repairs: int,
    stream: bool,
    rejected: tuple[str, str] | None = None,
    **params: Any,
) -> M:
    """The body of :meth:`Gateway.structured`. ``rejected`` is a first reply already refused
    elsewhere (a tool loop's final answer) and why: the call starts at its first repair round,
    so that answer counts as the first of the ``max_repairs + 1`` attempts."""
    resolved = gateway.resolve(role)
    mode = gateway.profile(resolved).structured
    msgs = [dict(m) for m in messages]
    if mode == "native":
        params["response_format"] = native_response_format(schema)
    else:
        msgs = with_instruction(msgs, schema_instruction(schema))
        if mode == "grammar":
            params["response_format"] = grammar_response_format(schema)
    replies: list[tuple[str, str]] = []
    last_call = ""
    base, rounds = msgs, max(0, max_repairs) + 1
    if rejected is not None:
        replies.append(rejected)
        msgs = repair_messages(base, rejected[0], rejected[1], schema, attempt=2, attempts=rounds)
    for attempt_no in range(1 if rejected is not None else 0, rounds):
        call_name = name if attempt_no == 0 else f"{name} (repair {attempt_no})"
        completion = await gateway.complete(
            role, msgs, name=call_name, stream=stream, check=lambda c: schema_problem(c, schema), **params
        )
        last_call = completion.call_id
        try:
            return parse_reply(completion.text, schema)  # type: ignore[return-value]
        except (ValidationError, ValueError) as exc:
            problem = describe_error(exc)
            if completion.finish_reason == "length":
                # Cut off by max_tokens: asking again mostly gets another over-long reply,
                # so keep what was finished when that alone is a valid answer.
                kept = parse_truncated(completion.text, schema)
                if kept is not None:
                    await gateway.log(
                        f"call {call_name!r} ({completion.call_id}) reached its token cap; "
                        "kept the complete part of its reply",
                        level="warning",
                    )
                    return kept  # type: ignore[return-value]
                problem = f"{problem} (the reply was cut off at the token cap: answer more briefly)"
            replies.append((completion.text, problem))
            msgs = repair_messages(base, completion.text, problem, schema, attempt=attempt_no + 2, attempts=rounds)
    path = save_failed_replies(gateway.run_dir, name, last_call, replies)
    raise StructuredOutputError(
        f"call {name!r} ({role}, {resolved.model}) gave no valid {schema.__name__} in {len(replies)} "
        f"attempts; last problem: {replies[-1][1][:300]}",
        f"the raw replies are saved in {path}; a stronger model for models.{role} usually fixes this",
        call_name=name,
        raw_path=str(path),
    )
