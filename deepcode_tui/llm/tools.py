"""Tool loops for segmented reading: native tool calling, or a JSON action protocol.

The protocol is the fallback for models without tool support: the model
replies with one JSON object, ``{"tool": name, "args": {...}}`` to call a
tool or ``{"final": answer}`` to finish. For the embedded model the protocol
is additionally enforced by schema-constrained decoding.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from deepcode_tui.errors import BudgetExceeded, Cancelled
from deepcode_tui.llm.grammar import grammar_schema
from deepcode_tui.llm.jsontext import extract_json
from deepcode_tui.llm.schemas import json_schema
from deepcode_tui.llm.types import Completion, ToolCallRecord, ToolRunResult, ToolSpec

if TYPE_CHECKING:
    from deepcode_tui.llm.gateway import Gateway

# The caller's test of the loop's final answer (its text): None = usable, else why not.
FinalCheck = Callable[[str], "str | None"]
# The gateway's test of one round's reply (see ``Gateway.complete(check=...)``).
RoundCheck = Callable[[Completion], "str | None"]
# call(messages, extra_params, check) -> Completion; supplied by the gateway.
CallFn = Callable[[list[dict[str, Any]], dict[str, Any], "RoundCheck | None"], Awaitable[Completion]]

FINAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"final": {"type": "string"}},
    "required": ["final"],
}
LAST_ROUND = "You have used every tool call available. Answer now from what you have read, without tools."


async def invoke_tool(
    tools: dict[str, ToolSpec], name: str, arguments: str | dict[str, Any]
) -> tuple[str, ToolCallRecord]:
    """Run one tool call; a bad name, bad arguments or a failing handler become an error the model reads."""
    try:
        args = json.loads(arguments or "{}") if isinstance(arguments, str) else dict(arguments)
    except json.JSONDecodeError as exc:
        return f"error: the arguments are not valid JSON ({exc.msg})", ToolCallRecord(
            name=name, ok=False, error="arguments not JSON"
        )
    if not isinstance(args, dict):
        args = {}
    spec = tools.get(name)
    if spec is None:
        msg = f"error: there is no tool named {name!r}; available: {', '.join(sorted(tools))}"
        return msg, ToolCallRecord(name=name, arguments=args, ok=False, error="unknown tool")
    try:
        parsed = spec.args.model_validate(args)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(args)'}: {e['msg']}" for e in exc.errors())
        return f"error: invalid arguments for {name}: {problems}", ToolCallRecord(
            name=name, arguments=args, ok=False, error=problems
        )
    try:
        result = await spec.handler(parsed)
    except (BudgetExceeded, Cancelled):
        raise
    except Exception as exc:  # noqa: BLE001 - the model reads the failure and can try something else
        return f"error: {name} failed: {exc}", ToolCallRecord(
            name=name, arguments=args, ok=False, error=str(exc)
        )
    text = str(result)
    return text, ToolCallRecord(name=name, arguments=args, result_chars=len(text))


def _echoable(arguments: str) -> str:
    """``arguments`` as the conversation may carry them back to the provider: malformed JSON
    becomes ``{}`` (Anthropic's adapter cannot send a tool_use whose input does not parse; the
    tool's result already tells the model what was wrong)."""
    try:
        return arguments if isinstance(json.loads(arguments or "{}"), dict) else "{}"
    except ValueError:
        return "{}"


class RepeatGuard:
    """Spots a model calling the same tool with the same arguments again.

    A repeat is not run (its result is already in the conversation); the
    second one ends the tool rounds, since a model that loops on one call
    would otherwise spend every round it has on it.
    """

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.repeats = 0

    def check(self, name: str, arguments: str | dict[str, Any]) -> str | None:
        """None for a new call (now remembered); the model's feedback for a repeat."""
        try:
            args = json.loads(arguments or "{}") if isinstance(arguments, str) else arguments
            key = f"{name}:{json.dumps(args, sort_keys=True)}"
        except (TypeError, ValueError):
            key = f"{name}:{arguments}"
        if key not in self.seen:
            self.seen.add(key)
            return None
        self.repeats += 1
        return (
            f"You already called {name} with these arguments; its result is earlier in this "
            "conversation. Use it, call another tool, or answer."
        )

    @property
    def stuck(self) -> bool:
        return self.repeats >= 2


def _native_check(final_check: FinalCheck | None, last: bool) -> RoundCheck | None:
    """A round's reply is the loop's answer when it calls no tool (or the round is the last):
    only then is it the caller's to judge; a tool round is always usable."""
    if final_check is None:
        return None
    return lambda c: final_check(c.text) if last or not c.tool_calls else None


def _protocol_check(final_check: FinalCheck | None, last: bool) -> RoundCheck | None:
    if final_check is None:
        return None

    def check(c: Completion) -> str | None:
        kind, value, _ = parse_action(c.text)
        if kind == "final":
            return final_check(value)
        return final_check(c.text) if last else None

    return check


async def native_loop(
    call: CallFn,
    tools: Sequence[ToolSpec],
    messages: list[dict[str, Any]],
    max_rounds: int,
    final_check: FinalCheck | None = None,
) -> ToolRunResult:
    by_name = {t.name: t for t in tools}
    schemas = [t.openai_schema() for t in tools]
    msgs = [dict(m) for m in messages]
    records: list[ToolCallRecord] = []
    guard = RepeatGuard()
    for round_no in range(max_rounds + 1):
        last = round_no == max_rounds or guard.stuck
        if last and round_no > 0:
            msgs.append({"role": "user", "content": LAST_ROUND})
        completion = await call(
            msgs, {"tools": schemas, "tool_choice": "none" if last else "auto"}, _native_check(final_check, last)
        )
        if not completion.tool_calls or last:
            msgs.append({"role": "assistant", "content": completion.text})
            return ToolRunResult(
                text=completion.text, tool_calls=records, rounds=round_no, native=True, messages=msgs,
                rejected=completion.rejected,
            )  # fmt: skip
        msgs.append(
            {
                "role": "assistant",
                "content": completion.text or None,
                "tool_calls": [
                    {
                        "id": tc.id,
                        "type": "function",
                        "function": {"name": tc.name, "arguments": _echoable(tc.arguments)},
                    }
                    for tc in completion.tool_calls
                ],
            }
        )
        for tc in completion.tool_calls:
            repeated = guard.check(tc.name, tc.arguments)
            if repeated is not None:
                result = repeated
            else:
                result, record = await invoke_tool(by_name, tc.name, tc.arguments)
                records.append(record)
            msgs.append({"role": "tool", "tool_call_id": tc.id, "name": tc.name, "content": result})
    raise AssertionError("unreachable: the last round always returns")


def protocol_instruction(tools: Sequence[ToolSpec]) -> str:
    lines = [
        "You can use tools. To call one, reply with exactly one JSON object and nothing else:",
        '{"tool": "<tool name>", "args": {<arguments>}}',
        "You will then receive the tool's result. Tools:",
    ]
    for t in tools:
        schema = json.dumps(json_schema(t.args).get("properties", {}), separators=(",", ":"))
        lines.append(f"- {t.name}: {t.description} Arguments: {schema}")
    lines.append('When you have everything you need, reply with: {"final": "<your complete answer>"}')
    return "\n".join(lines)


def protocol_schema(tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """JSON schema of one protocol reply, for schema-constrained decoding."""
    defs: dict[str, Any] = {}
    branches: list[dict[str, Any]] = []
    for t in tools:
        args = json_schema(t.args)
        defs.update(args.pop("$defs", {}))  # refs point at the root, so hoist nested definitions
        branches.append(
            {
                "type": "object",
                "properties": {"tool": {"const": t.name}, "args": args},
                "required": ["tool", "args"],
            }
        )
    branches.append(FINAL_SCHEMA)
    schema: dict[str, Any] = {"anyOf": branches}
    if defs:
        schema["$defs"] = defs
    return schema


def parse_action(text: str) -> tuple[str, Any, Any]:
    """("tool", name, args) | ("final", answer, None) | ("invalid", reason, None)."""
    candidate = extract_json(text)
    try:
        data = json.loads(candidate)
    except json.JSONDecodeError:
        if "{" not in text:
            return "final", text.strip(), None  # plain prose: the model answered without the protocol
        return "invalid", "the reply is not one valid JSON object", None
    if isinstance(data, dict) and isinstance(data.get("tool"), str):
        return "tool", data["tool"], data.get("args") if isinstance(data.get("args"), dict) else {}
    if isinstance(data, dict) and "final" in data:
        final = data["final"]
        return "final", final if isinstance(final, str) else json.dumps(final), None
    return "invalid", 'the JSON object has neither "tool" nor "final"', None


async def protocol_loop(
    call: CallFn,
    tools: Sequence[ToolSpec],
    messages: list[dict[str, Any]],
    max_rounds: int,
    *,
    constrained_format: dict[str, Any] | None = None,
    final_check: FinalCheck | None = None,
) -> ToolRunResult:
    from deepcode_tui.llm.structured import with_instruction

    by_name = {t.name: t for t in tools}
    msgs = with_instruction(messages, protocol_instruction(tools))
    params = {"response_format": constrained_format} if constrained_format else {}
    # On the last round a constrained model may only answer: no tool branch in its grammar.
    final_only = {"type": "json_object", "schema": FINAL_SCHEMA} if constrained_format else {}
    records: list[ToolCallRecord] = []
    guard = RepeatGuard()
    for round_no in range(max_rounds + 1):
        last = round_no == max_rounds
        completion = await call(
            msgs, {"response_format": final_only} if last and final_only else params, _protocol_check(final_check, last)
        )
        kind, value, args = parse_action(completion.text)
        msgs.append({"role": "assistant", "content": completion.text})
        if kind == "final" or last:
            text = value if kind == "final" else completion.text
            return ToolRunResult(
                text=text, tool_calls=records, rounds=round_no, native=False, messages=msgs,
                rejected=completion.rejected,
            )  # fmt: skip
        if kind == "invalid":
            feedback = f"Your reply could not be read: {value}. Reply with one JSON object as described."
        elif (repeated := guard.check(value, args)) is not None:
            feedback = repeated
        else:
            result, record = await invoke_tool(by_name, value, args)
            records.append(record)
            feedback = f"Result of {value}:\n{result}"
        if round_no + 1 == max_rounds or guard.stuck:
            feedback += f'\n\n{LAST_ROUND} Reply with {{"final": "<your complete answer>"}}.'
            max_rounds = round_no + 1  # the next round is the last
        msgs.append({"role": "user", "content": feedback})
    raise AssertionError("unreachable: the last round always returns")


async def tool_loop(
    gateway: Gateway,
    role: str,
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[ToolSpec],
    *,
    name: str,
    max_rounds: int,
    final_check: FinalCheck | None = None,
    **params: Any,
) -> ToolRunResult:
    """The body of :meth:`Gateway.with_tools`: native tools, or the protocol (grammar-enforced
    for the embedded model), as the model's profile says. ``final_check`` judges the final
    answer: one it refuses is never cached as an answer and comes back as ``ToolRunResult.rejected``."""
    if not tools:
        raise ValueError("with_tools needs at least one tool")
    mode = gateway.profile(gateway.resolve(role)).tools
    msgs = [dict(m) for m in messages]
    native = mode == "native"

    async def call(
        conversation: list[dict[str, Any]], extra: dict[str, Any], check: RoundCheck | None
    ) -> Completion:
        # Every round streams, tool rounds too: only a stream has a first-byte and an idle
        # bound, so a silent provider ends the call in bounded time (the transport assembles
        # tool-call deltas, parallel calls and argument fragments included).
        return await gateway.complete(
            role, conversation, name=name, stream=True, check=check, **{**params, **extra}
        )

    if native:
        return await native_loop(call, tools, msgs, max_rounds, final_check)
    constrained = (
        {"type": "json_object", "schema": grammar_schema(protocol_schema(tools))}
        if mode == "grammar"
        else None
    )
    return await protocol_loop(
        call, tools, msgs, max_rounds, constrained_format=constrained, final_check=final_check
    )


# --- segmented reading -------------------------------------------------------------


class Section(BaseModel):
    """A section an agent may read by name."""

    id: str
    title: str = ""
    text: str


class ListSectionsArgs(BaseModel):
    pass


class ReadSectionArgs(BaseModel):
    name: str  # a section id or title


Emit = Callable[[Any], Awaitable[Any]]


def section_tools(
    sections: Sequence[Section], *, agent: str, emit: Emit | None = None, max_tokens_per_read: int = 4000
) -> list[ToolSpec]:
    """``list_sections`` and ``read_section`` over ``sections``; each read emits ``SectionRead``."""
    from rapidfuzz import fuzz, process, utils

    from deepcode_tui.events.models import SectionRead
    from deepcode_tui.tokens import count_tokens, truncate_to_tokens

    by_id = {s.id: s for s in sections}
    by_title = {s.title.casefold(): s for s in sections if s.title}
    labels = {f"{s.id} {s.title}".strip(): s for s in sections}

    async def list_handler(_: ListSectionsArgs) -> str:
        return "\n".join(f"{s.id}: {s.title} ({count_tokens(s.text)} tokens)" for s in sections)

    async def read_handler(args: ReadSectionArgs) -> str:
        wanted = args.name.strip()
        section = by_id.get(wanted) or by_title.get(wanted.casefold())
        if section is None and labels:
            # token_set: "training procedure" finds "5 Training"; models rarely quote titles exactly.
            best = process.extractOne(
                wanted, list(labels), scorer=fuzz.token_set_ratio, processor=utils.default_process
            )
            if best and best[1] >= 80:
                section = labels[best[0]]
        if section is None:
            raise LookupError(f"no section {wanted!r}; sections: {', '.join(by_id)}")
        text = truncate_to_tokens(section.text, max_tokens_per_read)
        if emit is not None:
            await emit(
                SectionRead(
                    agent=agent, section_id=section.id, title=section.title, tokens=count_tokens(text)
                )
            )
        return f"# {section.id} {section.title}\n{text}"

    return [
        ToolSpec(name="list_sections", description="List the document's sections.", args=ListSectionsArgs,
                 handler=list_handler),
        ToolSpec(name="read_section", description="Read one section by its id or title.", args=ReadSectionArgs,
                 handler=read_handler),
    ]  # fmt: skip
