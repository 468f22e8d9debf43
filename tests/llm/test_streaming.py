"""Streaming: tokens become events on the bus as they arrive."""

from __future__ import annotations

from gateway_test_helpers import ok_reply, read_calls, settings_for

from deepcode_tui.events.bus import EventBus
from deepcode_tui.llm import Gateway
from deepcode_tui.llm.scripted import ScriptedReply


async def test_tokens_are_streamed_as_events_in_order(script, events, run_dir):
    model = script([ScriptedReply(text="def add(a, b):\n    return a + b\n", chunk_chars=5)])
    async with Gateway(settings_for(model), emit=events, run_dir=run_dir) as gw:
        result = await gw.complete("coder", [{"role": "user", "content": "write add"}], name="add.py")
    tokens = events.of("token_streamed")
    assert len(tokens) > 3  # really streamed in pieces, not one blob
    assert "".join(t.text for t in tokens) == result.text == "def add(a, b):\n    return a + b\n"
    assert {t.call_id for t in tokens} == {result.call_id}
    assert all(t.role == "coder" for t in tokens)
    kinds = events.types()
    assert kinds[0] == "llm_call_started"
    assert kinds.index("llm_call_finished") > max(i for i, k in enumerate(kinds) if k == "token_streamed")
    assert kinds[-1] == "cost_updated"
    assert result.usage.prompt_tokens > 0 and not result.usage.estimated
    assert read_calls(run_dir)[0]["completion_tokens"] == result.usage.completion_tokens


async def test_stream_false_emits_no_tokens(script, events):
    model = script(["whole reply"])
    async with Gateway(settings_for(model), emit=events) as gw:
        result = await gw.complete("coder", [{"role": "user", "content": "x"}], name="n", stream=False)
    assert result.text == "whole reply"
    assert events.of("token_streamed") == []


async def test_streaming_through_the_bus_is_not_persisted_but_delivered(script):
    bus = EventBus()
    seen: list[str] = []
    persisted: list[str] = []
    bus.subscribe(lambda e: persisted.append(e.type) if type(e).persist else None, critical=True)
    bus.subscribe(lambda e: seen.append(e.type))
    model = script(["one two three four"])
    async with Gateway(settings_for(model), emit=bus.publish) as gw:
        await gw.complete("planner", [{"role": "user", "content": "x"}], name="plan")
    assert "token_streamed" in seen
    assert "token_streamed" not in persisted
    assert "llm_call_finished" in persisted


async def test_streaming_over_http_from_an_openai_compatible_server(fake_openai, events, run_dir):
    fake_openai.replies.append(ok_reply("tokens arrive one by one", prompt_tokens=12, completion_tokens=5))
    settings = settings_for("openai/local-model", api_base=fake_openai.base, api_key="sk-local")
    async with Gateway(settings, emit=events, run_dir=run_dir) as gw:
        result = await gw.complete("coder", [{"role": "user", "content": "go"}], name="http-stream")
    assert [t.text for t in events.of("token_streamed")] == ["tokens ", "arrive ", "one ", "by ", "one"]
    assert result.text == "tokens arrive one by one"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (12, 5)
    sent = fake_openai.requests[0]
    assert sent["body"]["stream"] is True and sent["auth"] == "Bearer sk-local"
    line = (run_dir / "llm" / "calls.jsonl").read_text()
    assert "sk-local" not in line
