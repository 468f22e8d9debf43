"""Structured output: schema per call, native or JSON-in-prompt, bounded repair, clear failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gateway_test_helpers import read_calls, settings_for
from pydantic import BaseModel, Field

from deepcode_tui.llm import Gateway, StructuredOutputError
from deepcode_tui.llm.structured import extract_json


class FileSpec(BaseModel):
    path: str
    purpose: str
    depends_on: list[str] = Field(default_factory=list)


class Blueprint(BaseModel):
    name: str
    files: list[FileSpec] = Field(min_length=1)


GOOD = {"name": "transformer", "files": [{"path": "model.py", "purpose": "the model", "depends_on": []}]}


async def test_malformed_first_reply_is_repaired_on_the_second(script, run_dir):
    model = script(['{"name": "transformer", "files": []', json.dumps(GOOD)])
    async with Gateway(settings_for(model), run_dir=run_dir) as gw:
        bp = await gw.structured(
            "planner", [{"role": "user", "content": "plan it"}], Blueprint, name="blueprint"
        )
    assert bp == Blueprint.model_validate(GOOD)
    from deepcode_tui.llm.scripted import get_script

    requests = get_script(model).requests
    assert len(requests) == 2
    repair = requests[1].messages
    # The model sees its own broken reply and what was wrong with it.
    assert repair[-2] == {"role": "assistant", "content": '{"name": "transformer", "files": []'}
    assert "could not be used as a Blueprint" in repair[-1]["content"]
    assert "not valid JSON" in repair[-1]["content"]
    names = [c["name"] for c in read_calls(run_dir)]
    assert names == ["blueprint", "blueprint (repair 1)"]


async def test_validation_errors_are_shown_to_the_model(script):
    model = script(['{"name": "x", "files": []}', json.dumps(GOOD)])
    async with Gateway(settings_for(model)) as gw:
        await gw.structured("planner", [{"role": "user", "content": "plan"}], Blueprint, name="bp")
    from deepcode_tui.llm.scripted import get_script

    feedback = get_script(model).requests[1].messages[-1]["content"]
    assert "files: List should have at least 1 item" in feedback


async def test_json_in_prompt_when_the_model_has_no_native_support(script):
    model = script([json.dumps(GOOD)], supports_response_schema=False)
    async with Gateway(settings_for(model)) as gw:
        await gw.structured("planner", [{"role": "system", "content": "You plan."}, {"role": "user", "content": "go"}],
                            Blueprint, name="bp")  # fmt: skip
    from deepcode_tui.llm.scripted import get_script

    req = get_script(model).requests[0]
    assert "response_format" not in req.params
    system = req.messages[0]["content"]
    assert system.startswith("You plan.") and '"files"' in system and "valid Blueprint" in system


async def test_native_response_format_when_supported(script):
    model = script([json.dumps(GOOD)], supports_response_schema=True)
    async with Gateway(settings_for(model)) as gw:
        await gw.structured("planner", [{"role": "user", "content": "go"}], Blueprint, name="bp")
    from deepcode_tui.llm.scripted import get_script

    req = get_script(model).requests[0]
    fmt = req.params["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Blueprint"
    assert fmt["json_schema"]["schema"]["properties"]["files"]["minItems"] == 1
    assert all("JSON schema" not in str(m["content"]) for m in req.messages)


async def test_failure_names_the_call_and_keeps_raw_replies(script, run_dir):
    model = script(["I cannot do that.", '{"name": 3}', "still not json"])
    async with Gateway(settings_for(model), run_dir=run_dir) as gw:
        with pytest.raises(StructuredOutputError) as info:
            await gw.structured("analyst", [{"role": "user", "content": "x"}], Blueprint, name="concepts",
                                max_repairs=2)  # fmt: skip
    err = info.value
    assert "'concepts'" in err.message and "analyst" in err.message and "3 attempts" in err.message
    assert err.call_name == "concepts"
    raw = run_dir / "llm" / "failed"
    assert str(raw) in err.raw_path and err.raw_path in err.fix
    text = Path(err.raw_path).read_text()
    assert "I cannot do that." in text and '{"name": 3}' in text and "still not json" in text


async def test_repairs_are_bounded(script):
    model = script(["no"] * 10)
    async with Gateway(settings_for(model)) as gw:
        with pytest.raises(StructuredOutputError):
            await gw.structured(
                "planner", [{"role": "user", "content": "x"}], Blueprint, name="bp", max_repairs=1
            )
    from deepcode_tui.llm.scripted import get_script

    assert len(get_script(model).requests) == 2


def test_json_is_found_in_fences_and_prose():
    assert json.loads(extract_json('Sure!\n```json\n{"a": [1, 2]}\n```\nDone.')) == {"a": [1, 2]}
    assert json.loads(extract_json('Here: {"a": {"b": "}"}} trailing')) == {"a": {"b": "}"}}


async def test_a_reply_cut_at_the_token_cap_keeps_its_finished_part(script, events):
    from deepcode_tui.llm.scripted import ScriptedReply, get_script

    cut = '{"name": "t", "files": [{"path": "a.py", "purpose": "x"}, {"path": "b.py", "purp'
    model = script([ScriptedReply(text=cut, finish_reason="length")])
    async with Gateway(settings_for(model), emit=events) as gw:
        bp = await gw.structured("planner", [{"role": "user", "content": "plan"}], Blueprint, name="bp")
    assert bp == Blueprint(name="t", files=[FileSpec(path="a.py", purpose="x")])
    assert len(get_script(model).requests) == 1
    assert any("token cap" in e.message for e in events.of("log"))


async def test_a_cut_reply_that_does_not_validate_is_repaired_with_a_hint(script):
    from deepcode_tui.llm.scripted import ScriptedReply, get_script

    model = script([ScriptedReply(text='{"name": "t", "files": [{"path": "a.p', finish_reason="length"),
                    json.dumps(GOOD)])  # fmt: skip
    async with Gateway(settings_for(model)) as gw:
        await gw.structured("planner", [{"role": "user", "content": "plan"}], Blueprint, name="bp")
    assert "cut off at the token cap" in get_script(model).requests[1].messages[-1]["content"]


def test_an_object_with_none_of_the_schemas_fields_is_rejected_even_when_all_have_defaults():
    from deepcode_tui.llm.structured import parse_reply

    class Reply(BaseModel):
        edits: list[str] = []
        rationale: str = ""

    with pytest.raises(ValueError, match="none of the fields of Reply"):
        parse_reply('{"answer": "done", "notes": "x"}', Reply)
    # Extra keys beside a real field, and the empty object, are still that schema.
    assert parse_reply('{"rationale": "ok", "confidence": 0.9}', Reply).rationale == "ok"
    assert parse_reply("{}", Reply) == Reply()


def test_a_cut_off_reply_whose_complete_part_is_only_defaults_is_not_kept():
    from deepcode_tui.llm.structured import parse_truncated

    class Reply(BaseModel):
        edits: list[dict[str, str]] = []
        rationale: str = ""

    one = '{"edits": [{"path": "a.py", "search": "x >= w", "replace": "x > '
    assert parse_truncated(one, Reply) is None  # closes to {"edits": []}: the answer was lost
    two = '{"edits": [{"path": "a.py", "search": "x", "replace": "y"}, {"path": "b.py", "sea'
    assert parse_truncated(two, Reply).edits == [{"path": "a.py", "search": "x", "replace": "y"}]
