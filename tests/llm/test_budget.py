"""Accounting in calls.jsonl, running totals as events, budgets that stop and resume."""

from __future__ import annotations

import pytest
from gateway_test_helpers import ok_reply, read_calls, settings_for

from deepcode_tui.errors import BudgetExceeded
from deepcode_tui.llm import Gateway
from deepcode_tui.llm.scripted import ScriptedReply
from deepcode_tui.llm.types import Usage

MSG = [{"role": "user", "content": "go"}]


async def test_every_call_is_accounted(script, run_dir, events):
    model = script([ScriptedReply(text="a", usage=Usage(prompt_tokens=100, completion_tokens=20))] * 2)
    async with Gateway(settings_for(None, planner=model, coder=model), run_dir=run_dir, emit=events) as gw:
        await gw.complete("planner", MSG, name="plan")
        await gw.complete("coder", MSG, name="file.py")
        totals = gw.totals()
    calls = read_calls(run_dir)
    assert [(c["role"], c["name"], c["prompt_tokens"], c["completion_tokens"]) for c in calls] == [
        ("planner", "plan", 100, 20),
        ("coder", "file.py", 100, 20),
    ]
    for c in calls:
        assert set(c) >= {"model", "cost_usd", "latency_s", "cached", "error", "call_id"}
        assert c["latency_s"] >= 0
    assert totals.total_tokens == 240 and totals.by_role["coder"].calls == 1
    last = events.of("cost_updated")[-1]
    assert last.total_tokens == 240 and last.by_role["planner"]["prompt_tokens"] == 100


async def test_cost_comes_from_litellm_price_map(fake_openai, run_dir, events):
    fake_openai.replies.append(ok_reply("x", prompt_tokens=1000, completion_tokens=1000))
    settings = settings_for("openai/gpt-4o-mini", api_base=fake_openai.base, api_key="k")
    async with Gateway(settings, run_dir=run_dir, emit=events) as gw:
        await gw.complete("coder", MSG, name="c")
    from deepcode_tui.llm.backend import get_litellm

    p, c = get_litellm().cost_per_token(
        model="openai/gpt-4o-mini", prompt_tokens=1000, completion_tokens=1000
    )
    [call] = read_calls(run_dir)
    assert call["cost_usd"] == pytest.approx(p + c) and call["cost_usd"] > 0
    assert events.of("llm_call_finished")[0].cost_usd == pytest.approx(p + c)
    assert events.of("cost_updated")[-1].total_cost_usd == pytest.approx(p + c)


async def test_cost_budget_stops_then_resumes_with_a_higher_budget(fake_openai, run_dir, events):
    fake_openai.replies.extend(
        [ok_reply(f"r{i}", prompt_tokens=1000, completion_tokens=1000) for i in range(4)]
    )
    settings = settings_for("openai/gpt-4o-mini", api_base=fake_openai.base, api_key="k")
    settings.budget.max_cost_usd = 0.001  # each call costs 0.00075
    async with Gateway(settings, run_dir=run_dir, emit=events) as gw:
        await gw.complete("coder", MSG, name="one")
        await gw.complete("coder", MSG, name="two")  # crosses the budget: already paid, so it completes
        with pytest.raises(BudgetExceeded) as info:
            await gw.complete("coder", MSG, name="three")
    assert len(fake_openai.requests) == 2  # the third call never reached the provider
    err = info.value
    assert "cost budget" in err.message and "--max-cost 0.001" in err.message
    assert f"deepcode-tui resume {run_dir.name} --max-cost" in err.fix
    [stop] = events.of("budget_stop")
    assert stop.kind == "cost" and stop.limit == 0.001 and stop.used == pytest.approx(0.0015)

    # Resume: a new gateway over the same run dir, with a higher budget, continues
    # from what the run already spent (loaded from calls.jsonl).
    settings.budget.max_cost_usd = 0.002
    async with Gateway(settings, run_dir=run_dir) as gw:
        assert gw.totals().total_cost_usd == pytest.approx(0.0015)
        assert (await gw.complete("coder", MSG, name="three")).text == "r2"
        with pytest.raises(BudgetExceeded):
            await gw.complete("coder", MSG, name="four")
    assert [c["name"] for c in read_calls(run_dir)] == ["one", "two", "three"]
    assert [c["call_id"] for c in read_calls(run_dir)] == ["c00001", "c00002", "c00003"]


async def test_token_budget_stops_and_resumes(script, run_dir):
    model = script([ScriptedReply(text="x", usage=Usage(prompt_tokens=40, completion_tokens=10))] * 3)
    settings = settings_for(model)
    settings.budget.max_tokens = 100
    async with Gateway(settings, run_dir=run_dir) as gw:
        await gw.complete("coder", MSG, name="a")
        await gw.complete("coder", MSG, name="b")
        assert gw.budget_status() is not None
        with pytest.raises(BudgetExceeded) as info:
            await gw.complete("coder", MSG, name="c")
    assert "token budget" in info.value.message and "--max-tokens" in info.value.fix
    settings.budget.max_tokens = 1000
    async with Gateway(settings, run_dir=run_dir) as gw:
        assert gw.budget_status() is None
        await gw.complete("coder", MSG, name="c")
        assert gw.totals().total_tokens == 150


async def test_a_torn_last_line_does_not_break_resume(script, run_dir):
    model = script(["x", "y"])
    async with Gateway(settings_for(model), run_dir=run_dir) as gw:
        await gw.complete("coder", MSG, name="a")
    log = run_dir / "llm" / "calls.jsonl"
    log.write_text(log.read_text() + '{"call_id": "c00002", "role": "co')  # a crash mid-write
    async with Gateway(settings_for(model), run_dir=run_dir) as gw:
        assert gw.totals().calls == 1
        await gw.complete("coder", MSG, name="b")
