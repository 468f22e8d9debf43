"""Tool calling for segmented reading: native, and the JSON action fallback."""

from __future__ import annotations

from gateway_test_helpers import settings_for
from pydantic import BaseModel

from deepcode_tui.llm import Gateway, Section, ToolSpec, section_tools
from deepcode_tui.llm.scripted import ScriptedReply, get_script
from deepcode_tui.llm.tools import parse_action, protocol_schema
from deepcode_tui.llm.types import ToolCall

SECTIONS = [
    Section(id="1", title="Introduction", text="Sequence transduction models are based on RNNs."),
    Section(id="3.2", title="Attention", text="Scaled dot-product attention divides by sqrt(d_k)."),
    Section(id="5", title="Training", text="We used the Adam optimizer."),
]
ASK = [{"role": "user", "content": "How is attention scaled?"}]


def read(name: str, call_id: str = "c1") -> ScriptedReply:
    return ScriptedReply(
        tool_calls=[ToolCall(id=call_id, name="read_section", arguments=f'{{"name": "{name}"}}')]
    )


async def test_native_tool_calls_read_sections_by_name(script, events):
    model = script([read("Attention"), "It divides by sqrt(d_k)."], supports_tools=True)
    tools = section_tools(SECTIONS, agent="concept", emit=events)
    async with Gateway(settings_for(model), emit=events) as gw:
        result = await gw.with_tools("analyst", ASK, tools, name="concept-agent")
    assert result.native and result.text == "It divides by sqrt(d_k)." and result.rounds == 1
    assert [(c.name, c.arguments) for c in result.tool_calls] == [("read_section", {"name": "Attention"})]
    requests = get_script(model).requests
    assert [t["function"]["name"] for t in requests[0].params["tools"]] == ["list_sections", "read_section"]
    tool_msg = requests[1].messages[-1]
    assert (
        tool_msg["role"] == "tool" and tool_msg["tool_call_id"] == "c1" and "sqrt(d_k)" in tool_msg["content"]
    )
    [seen] = events.of("section_read")
    assert (seen.agent, seen.section_id, seen.title) == ("concept", "3.2", "Attention") and seen.tokens > 0


async def test_fallback_protocol_for_models_without_tools(script, events):
    model = script(
        ['{"tool": "read_section", "args": {"name": "attention"}}', '{"final": "By sqrt(d_k)."}'],
        supports_tools=False,
    )
    async with Gateway(settings_for(model), emit=events) as gw:
        result = await gw.with_tools("analyst", ASK, section_tools(SECTIONS, agent="a"), name="n")
    assert not result.native and result.text == "By sqrt(d_k)."
    requests = get_script(model).requests
    assert "tools" not in requests[0].params
    assert '{"tool": "<tool name>"' in requests[0].messages[0]["content"]
    assert requests[1].messages[-1]["content"].startswith("Result of read_section:")
    assert "sqrt(d_k)" in requests[1].messages[-1]["content"]


async def test_bad_calls_become_errors_the_model_reads(script):
    model = script(
        [
            '{"tool": "write_file", "args": {}}',
            '{"tool": "read_section", "args": {"title": "x"}}',
            '{"tool": "read_section", "args": {"name": "Conclusion"}}',
            "{not json",
            "Plain prose answer.",
        ],
        supports_tools=False,
    )
    async with Gateway(settings_for(model)) as gw:
        result = await gw.with_tools(
            "analyst", ASK, section_tools(SECTIONS, agent="a"), name="n", max_rounds=6
        )
    feedback = [r.messages[-1]["content"] for r in get_script(model).requests[1:]]
    assert "no tool named 'write_file'" in feedback[0]
    assert "invalid arguments for read_section" in feedback[1] and "name" in feedback[1]
    assert "no section 'Conclusion'" in feedback[2]
    assert "could not be read" in feedback[3]
    assert result.text == "Plain prose answer."
    assert [c.ok for c in result.tool_calls] == [False, False, False]


async def test_rounds_are_bounded(script):
    model = script([read("Training", f"c{i}") for i in range(10)] + ["Answer."], supports_tools=True)
    async with Gateway(settings_for(model)) as gw:
        result = await gw.with_tools(
            "analyst", ASK, section_tools(SECTIONS, agent="a"), name="n", max_rounds=2
        )
    requests = get_script(model).requests
    assert len(requests) == 3 and result.rounds == 2
    assert requests[-1].params["tool_choice"] == "none"


async def test_custom_tool_with_typed_arguments(script):
    class Add(BaseModel):
        a: int
        b: int

    async def add(args: Add) -> str:
        return str(args.a + args.b)

    model = script(['{"tool": "add", "args": {"a": 2, "b": "3"}}', '{"final": "5"}'], supports_tools=False)
    spec = ToolSpec(name="add", description="Add two integers.", args=Add, handler=add)
    async with Gateway(settings_for(model)) as gw:
        result = await gw.with_tools("analyst", ASK, [spec], name="n")
    assert result.text == "5" and result.tool_calls[0].result_chars == 1
    assert get_script(model).requests[1].messages[-1]["content"] == "Result of add:\n5"


def test_fuzzy_section_names_and_protocol_parsing():
    assert parse_action('```json\n{"tool": "x", "args": {"k": 1}}\n```') == ("tool", "x", {"k": 1})
    assert parse_action('{"final": {"a": 1}}') == ("final", '{"a": 1}', None)
    assert parse_action("just words")[0] == "final"
    schema = protocol_schema(section_tools(SECTIONS, agent="a"))
    assert [b["properties"].get("tool", {}).get("const") for b in schema["anyOf"]] == [
        "list_sections",
        "read_section",
        None,
    ]


async def test_read_section_matches_fuzzy_titles():
    tools = {t.name: t for t in section_tools(SECTIONS, agent="a")}
    read_tool = tools["read_section"]
    text = await read_tool.handler(read_tool.args(name="training procedure"))
    assert text.startswith("# 5 Training")
    listing = await tools["list_sections"].handler(tools["list_sections"].args())
    assert "3.2: Attention" in listing


async def test_a_repeated_call_is_not_run_again_and_a_loop_on_it_ends_the_rounds(script, events):
    same = '{"tool": "read_section", "args": {"name": "Training"}}'
    model = script([same] * 3 + ['{"final": "Adam."}'], supports_tools=False)
    async with Gateway(settings_for(model)) as gw:
        result = await gw.with_tools(
            "analyst", ASK, section_tools(SECTIONS, agent="a", emit=events), name="n", max_rounds=8
        )
    requests = get_script(model).requests
    assert result.text == "Adam." and len(requests) == 4  # not 9: the loop was cut short
    assert len(result.tool_calls) == 1 and len(events.of("section_read")) == 1  # run once
    assert "already called read_section" in requests[2].messages[-1]["content"]
    assert "used every tool call" in requests[3].messages[-1]["content"]


async def test_native_tool_loop_also_stops_on_repeats(script):
    model = script([read("Training", f"c{i}") for i in range(3)] + ["Adam."], supports_tools=True)
    async with Gateway(settings_for(model)) as gw:
        result = await gw.with_tools(
            "analyst", ASK, section_tools(SECTIONS, agent="a"), name="n", max_rounds=8
        )
    requests = get_script(model).requests
    assert result.text == "Adam." and len(requests) == 4 and len(result.tool_calls) == 1
    assert requests[-1].params["tool_choice"] == "none"


async def test_a_refused_final_answer_is_never_an_answer_and_comes_back_as_rejected(script, tmp_path):
    def final_check(text: str) -> str | None:
        return None if text.startswith("{") else "not a JSON object"

    for supports_tools, replies in (
        (True, [read("Attention"), "prose", "prose again"]),
        (False, ['{"tool": "read_section", "args": {"name": "Attention"}}', '{"final": "prose"}',
                 '{"final": "prose again"}']),
    ):  # fmt: skip
        model = script(replies, supports_tools=supports_tools)
        cache = tmp_path / f"cache-{supports_tools}"
        for _run in range(2):
            async with Gateway(settings_for(model), cache_dir=cache) as gw:
                result = await gw.with_tools(
                    "analyst", ASK, section_tools(SECTIONS, agent="a"), name="n", final_check=final_check
                )
            assert result.text == "prose" and result.rejected == "not a JSON object"
        # The second run: the tool round from the cache, the refused answer back as the
        # refusal it was (kept apart, never stored as an answer); the provider was not asked.
        assert len(get_script(model).requests) == 2
        answers = [p for p in cache.rglob("*.json") if not p.stem.endswith("-rejected")]
        assert not any("prose" in p.read_text() for p in answers)
