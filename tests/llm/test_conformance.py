"""The gateway through litellm's real provider adapters, over HTTP stubs of the providers.

Each family is configured as a user would (model string, key, endpoint) and the
stub answers in that family's wire format: OpenAI Chat Completions for
``openai/...`` and for an OpenAI-compatible server (``hosted_vllm/...`` with
``api_base``), Anthropic Messages for ``anthropic/...``.
"""

from __future__ import annotations

import json

import pytest
from gateway_test_helpers import read_calls
from pydantic import BaseModel

from deepcode_tui.config.settings import Settings
from deepcode_tui.llm import Gateway, ToolSpec
from deepcode_tui.llm.scripted import ScriptedReply
from deepcode_tui.llm.types import ToolCall
from tests.stubs.runs import FAMILIES
from tests.stubs.server import ProviderStub, Queue

NATIVE = ["openai", "anthropic"]
ALL = [*NATIVE, "compatible"]
ASK = [
    {"role": "system", "content": "You answer questions about a paper."},
    {"role": "user", "content": "Go."},
]
PRICED = {"openai": "openai/gpt-4.1", "anthropic": "anthropic/claude-sonnet-4-5"}


@pytest.fixture
def stub():
    server = ProviderStub(Queue("unused"))
    yield server
    server.close()


@pytest.fixture
def configure(stub, monkeypatch):
    """configure(family, replies...) -> Settings with the family's models at the stub."""

    def apply(family: str, *replies: ScriptedReply | str) -> Settings:
        stub.responder = Queue(*replies)
        for key, value in FAMILIES[family](stub).items():
            monkeypatch.setenv(key, value)
        return Settings()

    return apply


class ReadArgs(BaseModel):
    name: str


class Analysis(BaseModel):
    title: str
    steps: list[str]


def reader(seen: list[str]) -> ToolSpec:
    async def handler(args: ReadArgs) -> str:
        seen.append(args.name)
        return f"# {args.name}\nThe EMA-Z detector flags z > tau."

    return ToolSpec(name="read_section", description="Read a section.", args=ReadArgs, handler=handler)


def both(*names: str) -> ScriptedReply:
    calls = [
        ToolCall(id=f"call_{i}", name="read_section", arguments=json.dumps({"name": n}))
        for i, n in enumerate(names)
    ]
    return ScriptedReply(tool_calls=calls)


@pytest.mark.parametrize("family", NATIVE)
async def test_native_tool_loop_round_trip_with_parallel_streamed_calls(
    family, stub, configure, events, run_dir
):
    settings = configure(family, both("2 Method", "3 Experiments"), "The method is EMA-Z.")
    seen: list[str] = []
    async with Gateway(settings, emit=events, run_dir=run_dir) as gw:
        result = await gw.with_tools("analyst", ASK, [reader(seen)], name="concept agent")
    assert result.native and result.text == "The method is EMA-Z." and result.rounds == 1
    assert seen == ["2 Method", "3 Experiments"]  # both parallel calls, arguments reassembled from fragments
    first, second = stub.log[0].request, stub.log[1].request
    assert first.stream and [t.get("name") or t["function"]["name"] for t in first.params["tools"]] == [
        "read_section"
    ]
    results = [m for m in second.messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in results] == ["call_0", "call_1"]  # tool_result blocks, in order
    assert all("EMA-Z" in m["content"] for m in results)
    assert [c["function"]["name"] for c in second.messages[-3]["tool_calls"]] == ["read_section"] * 2


@pytest.mark.parametrize("family", ALL)
async def test_streaming_reaches_token_events(family, configure, events):
    text = "def detect(x):\n    return abs(x) > 3.0\n" * 4
    settings = configure(family, text)
    async with Gateway(settings, emit=events) as gw:
        result = await gw.complete("coder", ASK, name="codegen:x.py")
    tokens = events.of("token_streamed")
    assert result.text == text and len(tokens) > 5 and "".join(t.text for t in tokens) == text
    assert result.finish_reason == "stop"


@pytest.mark.parametrize("family", NATIVE)
async def test_native_structured_output(family, stub, configure):
    settings = configure(family, json.dumps({"title": "EMA-Z", "steps": ["warm up", "flag"]}))
    async with Gateway(settings) as gw:
        got = await gw.structured("planner", ASK, Analysis, name="planning agent")
    assert got == Analysis(title="EMA-Z", steps=["warm up", "flag"])
    params = stub.log[0].request.params
    schema = params.get("response_format") or params.get("output_format")  # OpenAI / Anthropic native forms
    assert schema and "json_schema" in json.dumps(schema) and "steps" in json.dumps(schema)


async def test_json_in_prompt_structured_output_on_a_compatible_server(stub, configure):
    settings = configure("compatible", "Here it is:\n" + json.dumps({"title": "EMA-Z", "steps": ["flag"]}))
    async with Gateway(settings) as gw:
        got = await gw.structured("planner", ASK, Analysis, name="planning agent")
    assert got.steps == ["flag"]
    request = stub.log[0].request
    assert "response_format" not in request.params and "JSON schema" in request.messages[0]["content"]


async def test_tools_on_a_compatible_server_use_the_action_protocol(stub, configure):
    settings = configure(
        "compatible", '{"tool": "read_section", "args": {"name": "2 Method"}}', '{"final": "EMA-Z."}'
    )
    seen: list[str] = []
    async with Gateway(settings) as gw:
        result = await gw.with_tools("analyst", ASK, [reader(seen)], name="concept agent")
    assert not result.native and result.text == "EMA-Z." and seen == ["2 Method"]
    assert "tools" not in stub.log[0].request.params


@pytest.mark.parametrize("family", NATIVE)
@pytest.mark.parametrize("stream", [True, False])
async def test_stop_reasons(family, stream, configure):
    settings = configure(
        family,
        ScriptedReply(text="def f(:", finish_reason="length"),
        both("1 Intro"),
        "done",
    )
    async with Gateway(settings) as gw:
        cut = await gw.complete("coder", ASK, name="a", stream=stream, max_tokens=5)
        tools = await gw.complete("coder", ASK, name="b", stream=stream, tools=[reader([]).openai_schema()])
        done = await gw.complete("coder", ASK, name="c", stream=stream)
    assert (cut.finish_reason, cut.text) == ("length", "def f(:")  # max_tokens on the Anthropic wire
    assert tools.finish_reason == "tool_calls" and tools.tool_calls[0].name == "read_section"  # tool_use
    assert done.finish_reason == "stop"  # end_turn


@pytest.mark.parametrize("family", ALL)
@pytest.mark.parametrize("stream", [True, False])
async def test_usage_and_cost_follow_the_local_price_table(family, stream, stub, configure, run_dir):
    import litellm

    settings = configure(family, "x" * 400, "y" * 40)
    async with Gateway(settings, run_dir=run_dir) as gw:
        one = await gw.complete("coder", ASK, name="one", stream=stream)
        two = await gw.complete(
            "coder", [*ASK, {"role": "user", "content": "again"}], name="two", stream=stream
        )
    sent = [(e.prompt_tokens, e.completion_tokens) for e in stub.log]
    assert [(c.usage.prompt_tokens, c.usage.completion_tokens) for c in (one, two)] == sent
    assert not one.usage.estimated
    calls = read_calls(run_dir)
    price = litellm.model_cost.get(PRICED.get(family, "").split("/", 1)[-1])
    for call, (prompt, completion) in zip(calls, sent, strict=True):
        assert (call["prompt_tokens"], call["completion_tokens"]) == (prompt, completion)
        expected = (
            prompt * price["input_cost_per_token"] + completion * price["output_cost_per_token"]
            if price
            else 0.0
        )
        assert call["cost_usd"] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert (sum(c["cost_usd"] for c in calls) > 0) == (family in PRICED)


async def test_anthropic_requests_carry_the_key_and_version_headers(stub, configure, monkeypatch):
    settings = configure("anthropic", "ok")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-wrong")
    async with Gateway(settings) as gw:
        with pytest.raises(Exception) as info:
            await gw.complete("coder", ASK, name="x")
    assert "rejected the credentials" in info.value.message and "ANTHROPIC_API_KEY" in info.value.fix
