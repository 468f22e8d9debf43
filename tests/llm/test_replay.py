"""Record a run's calls to a cassette, replay it offline and deterministically."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gateway_test_helpers import Events, read_calls, settings_for
from pydantic import BaseModel

from deepcode_tui.config.settings import Settings
from deepcode_tui.errors import ConfigError, ProviderError
from deepcode_tui.llm import Gateway, Section, section_tools
from deepcode_tui.llm.scripted import ScriptedReply, unregister_script
from deepcode_tui.llm.types import ToolCall


class Concepts(BaseModel):
    components: list[str]
    loss: str


SECTIONS = [
    Section(id="3", title="Model Architecture", text="Encoder and decoder stacks with attention."),
    Section(id="5", title="Training", text="Adam with warmup; label smoothing 0.1."),
]


async def session(gw: Gateway, events: Events) -> list:
    """A small run: plan, extract concepts (with a repair), read sections, write a file."""
    out: list = []
    plan = await gw.complete("planner", [{"role": "user", "content": "Plan the repo."}], name="plan")
    out.append(plan.text)
    concepts = await gw.structured(
        "analyst", [{"role": "user", "content": "List the concepts."}], Concepts, name="concepts"
    )
    out.append(concepts.model_dump())
    read = await gw.with_tools(
        "analyst",
        [{"role": "user", "content": "Read what you need about training."}],
        section_tools(SECTIONS, agent="algorithm", emit=events),
        name="algorithm",
        max_rounds=3,
    )
    out.append([read.text, [c.name for c in read.tool_calls], read.native])
    code = await gw.complete(
        "coder", [{"role": "user", "content": f"Write train.py. {read.text}"}], name="train.py"
    )
    out.append(code.text)
    return out


def scripts(script) -> tuple[str, str]:
    planner = script(
        [
            "1. model.py 2. train.py",
            '{"components": ["encoder", "decoder"]}',  # invalid: no loss -> repair
            '{"components": ["encoder", "decoder"], "loss": "cross-entropy"}',
            ScriptedReply(
                tool_calls=[ToolCall(id="t1", name="read_section", arguments='{"name": "Training"}')]
            ),
            "Use Adam with warmup.",
        ],
        supports_tools=True,
    )
    coder = script([ScriptedReply(error="rate_limit"), "import torch\n\ndef train():\n    pass\n"])
    return planner, coder


def comparable(run_dir: Path) -> list[tuple]:
    return [
        (c["role"], c["model"], c["name"], c["prompt_tokens"], c["completion_tokens"], c["request_key"])
        for c in read_calls(run_dir)
    ]


def streamed(events: Events) -> dict[str, str]:
    text: dict[str, str] = {}
    for e in events.of("token_streamed"):
        text[e.call_id] = text.get(e.call_id, "") + e.text
    return text


async def test_record_then_replay_gives_an_identical_run(script, tmp_path, no_sleep):
    planner, coder = scripts(script)
    cassette = tmp_path / "cassette"
    rec_dir, rep_dir, rep2_dir = (tmp_path / n for n in ("rec", "rep", "rep2"))
    rec_events = Events()
    settings = settings_for(None, planner=planner, analyst=planner, coder=coder)
    async with Gateway(settings, run_dir=rec_dir, record_dir=cassette, emit=rec_events, sleep=no_sleep) as gw:
        recorded = await session(gw, rec_events)
    index = json.loads((cassette / "index.json").read_text())
    assert index["roles"] == {"planner": planner, "analyst": planner, "coder": coder}
    assert len(index["calls"]) == 6

    # The scripts are gone and nothing is configured: replay must not need them.
    unregister_script(planner)
    unregister_script(coder)
    offline = Settings(models={"embedded": False})
    results = []
    for run_dir in (rep_dir, rep2_dir):
        events = Events()
        async with Gateway(offline, run_dir=run_dir, replay_dir=cassette, emit=events) as gw:
            results.append((await session(gw, events), events))
    (replayed, rep_events), (replayed2, rep2_events) = results

    assert replayed == recorded == replayed2
    assert comparable(rep_dir) == comparable(rec_dir) == comparable(rep2_dir)
    assert streamed(rep_events) == streamed(rec_events) == streamed(rep2_events)
    assert [e.section_id for e in rep_events.of("section_read")] == ["5"]
    assert all(c["replayed"] and c["cost_usd"] == 0 for c in read_calls(rep_dir))
    assert [c["attempts"] for c in read_calls(rec_dir)][
        -1
    ] == 2  # the recording retried a 429; replay need not


async def test_a_replay_miss_names_the_call(script, tmp_path):
    model = script(["one"])
    cassette = tmp_path / "c"
    async with Gateway(settings_for(model), record_dir=cassette) as gw:
        await gw.complete("coder", [{"role": "user", "content": "a"}], name="first")
    async with Gateway(Settings(), replay_dir=cassette) as gw:
        with pytest.raises(ProviderError) as info:
            await gw.complete("coder", [{"role": "user", "content": "a different prompt"}], name="model.py")
        with pytest.raises(ConfigError) as missing_role:
            await gw.complete("planner", [{"role": "user", "content": "a"}], name="plan")
    assert "'model.py'" in info.value.message and "record the cassette again" in info.value.fix
    assert "role 'planner'" in missing_role.value.message


async def test_replay_provider_serves_direct_litellm_calls(script, tmp_path):
    model = script(["recorded reply"])
    cassette = tmp_path / "c"
    messages = [{"role": "user", "content": "hello"}]
    async with Gateway(settings_for(model), record_dir=cassette) as gw:
        await gw.complete("coder", messages, name="x", stream=False)
    from deepcode_tui.llm.backend import get_litellm

    # No gateway: the provider hashes the request itself and must agree with the gateway's key.
    resp = await get_litellm().acompletion(
        model=f"replay/{model}", messages=messages, temperature=0.2, api_base=str(cassette)
    )
    assert resp.choices[0].message.content == "recorded reply"


async def test_same_request_twice_is_replayed_in_recorded_order(script, tmp_path):
    model = script(["first answer", "second answer"])
    cassette = tmp_path / "c"
    msg = [{"role": "user", "content": "same"}]
    async with Gateway(settings_for(model), record_dir=cassette) as gw:
        recorded = [(await gw.complete("coder", msg, name="n")).text for _ in range(2)]
    async with Gateway(Settings(), replay_dir=cassette) as gw:
        replayed = [(await gw.complete("coder", msg, name="n")).text for _ in range(3)]
    assert recorded == ["first answer", "second answer"]
    assert replayed == ["first answer", "second answer", "second answer"]


def test_missing_cassette_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        Gateway(Settings(), replay_dir=tmp_path)
    assert "no cassette" in info.value.message and "--record" in info.value.fix
    with pytest.raises(ConfigError):
        Gateway(Settings(), replay_dir=tmp_path, record_dir=tmp_path / "x")


async def test_cassettes_hold_no_secrets(script, tmp_path):
    model = script(["ok"])
    settings = settings_for(model, api_key="sk-super-secret-123456")
    cassette = tmp_path / "c"
    async with Gateway(settings, record_dir=cassette, run_dir=tmp_path / "run") as gw:
        await gw.complete("coder", [{"role": "user", "content": "x"}], name="n")
    for path in [*cassette.rglob("*.json"), tmp_path / "run" / "llm" / "calls.jsonl"]:
        assert "sk-super-secret" not in path.read_text()
