"""Each misbehaviour the stubs can play has one defined outcome (docs/ARCHITECTURE.md, llm/).

The replies travel through litellm's real adapters (Anthropic Messages and
OpenAI Chat Completions over HTTP on 127.0.0.1); the faults are the stub's
(tests/stubs/faults.py). Sleeps between retries are recorded, not waited.
"""

from __future__ import annotations

import json
import time

import pytest
from gateway_test_helpers import read_calls
from pydantic import BaseModel

from deepcode_tui.codegen.loop import generate_repository
from deepcode_tui.codegen.plan import CodegenPlan, PlannedFile
from deepcode_tui.codegen.writer import extract_code
from deepcode_tui.config.settings import Settings
from deepcode_tui.errors import ContextTooLong, ProviderError
from deepcode_tui.llm import Gateway, ToolSpec
from deepcode_tui.llm.compact import refit
from deepcode_tui.llm.scripted import ScriptedReply
from deepcode_tui.llm.types import ToolCall
from deepcode_tui.pipeline.roles import coder
from tests.stubs import faults as F
from tests.stubs.runs import FAMILIES
from tests.stubs.server import ProviderStub, Queue

ASK = [{"role": "system", "content": "You write code."}, {"role": "user", "content": "Write `pkg/ema.py`."}]
CODE = "import math\n\n\ndef ema(prev: float, x: float, alpha: float = 0.1) -> float:\n    return (1 - alpha) * prev + alpha * x\n\n\ndef z(x: float, mean: float, var: float) -> float:\n    return (x - mean) / math.sqrt(var + 1e-9)\n"
FENCED = f"```python\n{CODE}```\n"
# Short bounds keep the tests fast; the first byte's also covers litellm's first-call set-up.
FIRST_BYTE = 2.5


@pytest.fixture
def stub():
    server = ProviderStub(Queue("unused"), retry_after=3.0, stall_s=5.0)
    yield server
    server.close()


@pytest.fixture
def family_settings(stub, monkeypatch):
    def apply(family: str, *replies: ScriptedReply | str, **models) -> Settings:
        stub.responder = Queue(*replies)
        for key, value in FAMILIES[family](stub).items():
            monkeypatch.setenv(key, value)
        settings = Settings()
        for key, value in {"first_byte_timeout_s": FIRST_BYTE, "idle_timeout_s": 0.5, **models}.items():
            setattr(settings.models, key, value)
        return settings

    return apply


class Plan(BaseModel):
    title: str
    files: list[str]


PLAN = json.dumps({"title": "EMA-Z", "files": ["emaz/detector.py"]})


class ReadArgs(BaseModel):
    name: str


def reader(seen: list[str]) -> ToolSpec:
    async def handler(args: ReadArgs) -> str:
        seen.append(args.name)
        return f"# {args.name}\nz = (x - mu) / sigma"

    return ToolSpec(name="read_section", description="Read a section.", args=ReadArgs, handler=handler)


READ = ScriptedReply(
    tool_calls=[ToolCall(id="call_1", name="read_section", arguments='{"name": "2 Method"}')]
)


# --- what the model says -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["prose", "several_blocks"])
async def test_prose_and_extra_blocks_around_the_code_leave_only_the_file(kind, stub, family_settings):
    settings = family_settings("anthropic", FENCED)
    stub.inject(kind)
    async with Gateway(settings) as gw:
        reply = await gw.complete("coder", ASK, name="codegen:pkg/ema.py")
    assert reply.text != FENCED and reply.text.count("```") >= 2
    assert extract_code(reply.text, "pkg/ema.py").code == CODE


async def test_prose_around_json_still_gives_the_structured_reply(stub, family_settings):
    settings = family_settings("compatible", PLAN)  # JSON-in-prompt: the prose reaches the parser
    stub.inject("prose")
    async with Gateway(settings) as gw:
        got = await gw.structured("planner", ASK, Plan, name="planning agent")
    assert got.title == "EMA-Z" and len(stub.log) == 1


@pytest.mark.parametrize("family", ["anthropic", "openai"])
async def test_a_reply_cut_at_the_token_limit_is_never_written_and_is_asked_again(
    family, stub, family_settings, tmp_path
):
    settings = family_settings(family, FENCED)
    stub.inject("truncated")
    plan = CodegenPlan(
        summary="EMA", files=[PlannedFile(path="pkg/ema.py", purpose="EMA and z-score", stage=0)]
    )
    seen: list = []

    async def emit(event):
        seen.append(event)

    async with Gateway(settings) as gw:
        result = await generate_repository(
            plan, tmp_path / "repo", tmp_path / "run", coder(None, gw), emit=emit, watch=False
        )
    assert result.ok and (tmp_path / "repo" / "pkg" / "ema.py").read_text() == CODE
    [rejected] = [e for e in seen if type(e).__name__ == "ReplyRejected"]
    assert "token limit" in rejected.reason
    assert len(stub.log) == 2 and stub.log[0].fault == "truncated"


@pytest.mark.parametrize("family", ["openai", "anthropic"])
async def test_malformed_tool_arguments_go_back_to_the_model(family, stub, family_settings):
    settings = family_settings(family, READ, READ, "EMA-Z.")
    stub.inject("bad_tool_args")
    seen: list[str] = []
    async with Gateway(settings) as gw:
        result = await gw.with_tools("analyst", ASK, [reader(seen)], name="concept agent")
    assert result.text == "EMA-Z." and seen == ["2 Method"]
    assert [(c.ok, c.error) for c in result.tool_calls] == [(False, "arguments not JSON"), (True, "")]
    told = [m for m in stub.log[1].request.messages if m["role"] == "tool"]
    assert "not valid JSON" in told[0]["content"]


async def test_an_unknown_tool_goes_back_to_the_model(stub, family_settings):
    settings = family_settings("anthropic", READ, READ, "EMA-Z.")
    stub.inject("unknown_tool")
    seen: list[str] = []
    async with Gateway(settings) as gw:
        result = await gw.with_tools("analyst", ASK, [reader(seen)], name="concept agent")
    assert result.text == "EMA-Z." and seen == ["2 Method"]
    assert result.tool_calls[0].error == "unknown tool" and result.tool_calls[0].name == "web_search"
    told = [m for m in stub.log[1].request.messages if m["role"] == "tool"]
    assert "no tool named 'web_search'" in told[0]["content"]


@pytest.mark.parametrize("family", ["anthropic", "openai"])
async def test_a_refusal_is_asked_again_and_its_tokens_are_counted(
    family, stub, family_settings, no_sleep, run_dir
):
    settings = family_settings(family, FENCED)
    stub.inject("refusal")
    async with Gateway(settings, sleep=no_sleep, run_dir=run_dir) as gw:
        reply = await gw.complete("coder", ASK, name="codegen:pkg/ema.py")
    assert reply.text == FENCED and len(no_sleep.delays) == 1
    [call] = read_calls(run_dir)
    refused = stub.log[0]
    assert (
        call["attempts"] == 2
        and call["retry_tokens"] == refused.prompt_tokens + refused.completion_tokens > 0
    )
    assert call["prompt_tokens"] + call["completion_tokens"] == sum(
        e.prompt_tokens + e.completion_tokens for e in stub.log
    )


async def test_a_model_that_keeps_refusing_ends_the_call_with_one_line(stub, family_settings, no_sleep):
    settings = family_settings("anthropic", FENCED, max_retries=2)
    stub.inject("refusal", "refusal", "refusal")
    async with Gateway(settings, sleep=no_sleep) as gw:
        with pytest.raises(ProviderError) as info:
            await gw.complete("coder", ASK, name="codegen:pkg/ema.py")
    assert "refused call 'codegen:pkg/ema.py'" in info.value.message and "models.coder" in info.value.fix


async def test_an_empty_reply_is_asked_again(stub, family_settings, no_sleep):
    settings = family_settings("openai", FENCED)
    stub.inject("empty")
    async with Gateway(settings, sleep=no_sleep) as gw:
        reply = await gw.complete("coder", ASK, name="codegen:pkg/ema.py")
    assert reply.text == FENCED and len(stub.log) == 2


async def test_a_reply_in_the_wrong_schema_gets_a_repair_round(stub, family_settings):
    settings = family_settings("anthropic", PLAN)
    stub.inject("wrong_schema")
    async with Gateway(settings) as gw:
        got = await gw.structured("planner", ASK, Plan, name="planning agent")
    assert got.files == ["emaz/detector.py"] and len(stub.log) == 2
    assert "could not be used as a Plan" in stub.log[1].request.messages[-1]["content"]


class Proposal(BaseModel):
    """Every field has a default, as the repairer's reply has ("nothing to change" is valid)."""

    edits: list[str] = []
    rationale: str = ""


async def test_a_wrong_schema_reply_is_not_taken_as_an_empty_answer_of_an_all_defaults_schema(
    stub, family_settings
):
    # The chaos benchmark's one failed run (seed 5 at rate 0.1): a repair proposal in the wrong
    # schema validated as an empty proposal ("no_proposal"), and the loop ran out of iterations.
    fixed = json.dumps({"edits": ["import math"], "rationale": "math is not imported"})
    settings = family_settings("openai", fixed)
    stub.inject("wrong_schema")
    async with Gateway(settings) as gw:
        got = await gw.structured("repairer", ASK, Proposal, name="repair:1:patch")
    assert got.edits == ["import math"] and len(stub.log) == 2
    correction = stub.log[1].request.messages[-1]["content"]
    assert "could not be used as a Proposal" in correction and "none of the fields" in correction


async def test_a_cut_off_reply_that_closes_to_the_empty_answer_gets_a_repair_round(stub, family_settings):
    # Its one edit cut off, a repair proposal closed to {"edits": []} and was kept as "nothing to
    # change" (the chaos bench: "repair:2:patch reached its token cap; kept the complete part").
    edit = "flag = self.t > self.warmup and z > self.tau  # t == w is still in the warm-up"
    fixed = json.dumps({"edits": [edit], "rationale": "off by one"})
    settings = family_settings("anthropic", fixed, fixed)
    stub.inject("truncated")
    async with Gateway(settings) as gw:
        got = await gw.structured("repairer", ASK, Proposal, name="repair:2:patch")
    assert got.edits == [edit] and len(stub.log) == 2
    assert "cut off at the token cap" in stub.log[1].request.messages[-1]["content"]


# --- how the provider answers --------------------------------------------------------


@pytest.mark.parametrize("family", ["anthropic", "openai"])
async def test_429_waits_at_least_its_retry_after(family, stub, family_settings, no_sleep):
    settings = family_settings(family, "ok")
    stub.inject("rate_limit")
    async with Gateway(settings, sleep=no_sleep) as gw:
        assert (await gw.complete("coder", ASK, name="x")).text == "ok"
    assert stub.log[0].status == 429 and len(no_sleep.delays) == 1 and no_sleep.delays[0] >= 3.0


@pytest.mark.parametrize("family", ["anthropic", "openai"])
async def test_overloaded_is_retried(family, stub, family_settings, no_sleep):
    settings = family_settings(family, "ok")
    stub.inject("overloaded", "overloaded")
    async with Gateway(settings, sleep=no_sleep) as gw:
        assert (await gw.complete("coder", ASK, name="x")).text == "ok"
    assert [e.status for e in stub.log] == [529 if family == "anthropic" else 503] * 2 + [200]


@pytest.mark.parametrize("family", ["anthropic", "openai"])
async def test_a_500_html_page_from_a_proxy_is_retried(family, stub, family_settings, no_sleep):
    settings = family_settings(family, "ok")
    stub.inject("html_500")
    async with Gateway(settings, sleep=no_sleep) as gw:
        assert (await gw.complete("coder", ASK, name="x")).text == "ok"
    assert [e.status for e in stub.log] == [500, 200]


@pytest.mark.parametrize("family", ["anthropic", "openai"])
async def test_a_connection_reset_mid_stream_is_retried_and_its_tokens_counted(
    family, stub, family_settings, no_sleep, events, run_dir
):
    settings = family_settings(family, FENCED)
    stub.inject("reset")
    async with Gateway(settings, sleep=no_sleep, emit=events, run_dir=run_dir) as gw:
        reply = await gw.complete("coder", ASK, name="codegen:pkg/ema.py")
    assert reply.text == FENCED and stub.log[0].fault == "reset" and stub.log[0].status == 0
    assert any("retry 1/" in e.message for e in events.of("log"))  # the view drops the partial text
    tokens = "".join(e.text for e in events.of("token_streamed"))
    assert tokens.endswith(FENCED) and len(tokens) > len(FENCED)  # part of it arrived before the reset
    [call] = read_calls(run_dir)
    assert call["attempts"] == 2 and call["retry_tokens"] > 0


@pytest.mark.parametrize("family", ["anthropic", "openai"])
async def test_a_stalled_stream_ends_at_the_idle_bound_and_is_retried(
    family, stub, family_settings, no_sleep
):
    settings = family_settings(family, FENCED)
    stub.inject("stall")
    started = time.monotonic()
    async with Gateway(settings, sleep=no_sleep) as gw:
        reply = await gw.complete("coder", ASK, name="codegen:pkg/ema.py")
    assert reply.text == FENCED and time.monotonic() - started < 4.0
    assert stub.log[0].fault == "stall"


async def test_a_stream_that_stalls_every_time_names_the_idle_setting(stub, family_settings, no_sleep):
    settings = family_settings("anthropic", FENCED)
    stub.inject("stall", "stall", "stall")
    async with Gateway(settings, sleep=no_sleep) as gw:
        with pytest.raises(ProviderError) as info:
            await gw.complete("coder", ASK, name="codegen:pkg/ema.py")
    assert len(stub.log) == 2  # silent twice: the provider is down; no third wait
    assert "anthropic stopped sending mid-reply for 0.5s (models.idle_timeout_s)" in info.value.message
    assert "resume" in info.value.fix


async def test_a_prompt_too_short_to_cut_ends_the_call_with_one_line(stub, family_settings, no_sleep):
    settings = family_settings("openai", "ok")
    stub.inject("context_length")
    async with Gateway(settings, sleep=no_sleep) as gw:
        with pytest.raises(ContextTooLong) as info:
            await gw.complete("coder", ASK, name="codegen:pkg/ema.py")
    assert len(stub.log) == 1 and no_sleep.delays == []  # the same prompt again would fail again
    assert "context window" in info.value.message and "models.coder" in info.value.fix


# A conversation long enough to cut: the agent read three long sections.
SECTION = "The detector keeps an exponential moving average of the signal and of its variance. " * 60
LONG_ASK = [
    {"role": "system", "content": "You are the concept analyst. Read the paper through your tools."},
    {"role": "user", "content": "Which quantities does the method track?"},
    *[m for i in range(3) for m in (
        {"role": "assistant", "content": "", "tool_calls": [{"id": f"r{i}", "type": "function",
         "function": {"name": "read_section", "arguments": '{"name": "2 Method"}'}}]},
        {"role": "tool", "tool_call_id": f"r{i}", "content": f"# part {i}\n{SECTION}\nend of part {i}"},
    )],
]  # fmt: skip


@pytest.mark.parametrize("family", ["anthropic", "openai"])
async def test_context_length_in_a_tool_loop_is_asked_again_with_the_longest_messages_cut(
    family, stub, family_settings, no_sleep, events
):
    settings = family_settings(family, "EMA-Z tracks the mean and the variance.")
    stub.inject("context_length")
    async with Gateway(settings, sleep=no_sleep, emit=events) as gw:
        result = await gw.with_tools("analyst", LONG_ASK, [reader([])], name="concept agent")
    assert result.text.startswith("EMA-Z") and [e.fault for e in stub.log] == ["context_length", None]
    assert no_sleep.delays == []  # not a transient failure: no backoff
    sent = [str(m.get("content") or "") for m in stub.log[1].request.messages]
    before = [str(m.get("content") or "") for m in stub.log[0].request.messages]
    assert sum(map(len, sent)) < sum(map(len, before)) * 0.9
    cut = [t for t in sent if "tokens left out here" in t]
    assert len(cut) == 3 and all(
        t.startswith("# part") and t.rstrip().endswith("end of part " + t[7]) for t in cut
    )
    assert any(m == "Which quantities does the method track?" for m in sent)  # short messages are kept
    assert any("longer than the model's context window; asking again" in e.message for e in events.of("log"))


async def test_context_length_on_a_structured_call_is_recovered_the_same_way(stub, family_settings, no_sleep):
    settings = family_settings(
        "compatible", PLAN
    )  # JSON-in-prompt: the format instruction sits in the system message
    stub.inject("context_length")
    ask = [{"role": "system", "content": "You are the planning lead. " + SECTION},
           {"role": "user", "content": "Plan the repository. " + SECTION}]  # fmt: skip
    async with Gateway(settings, sleep=no_sleep) as gw:
        got = await gw.structured("planner", ask, Plan, name="planning agent")
    assert got.title == "EMA-Z" and len(stub.log) == 2
    system = stub.log[1].request.messages[0]["content"]
    assert "tokens left out here" in system and system.startswith("You are the planning lead.")
    assert system.rstrip().endswith(stub.log[0].request.messages[0]["content"].rstrip()[-40:])  # format kept


def test_an_overflowing_completion_share_lowers_max_tokens_instead_of_cutting_the_prompt():
    detail = ("This model's maximum context length is 8192 tokens. However, you requested 9000 tokens "
              "(1000 in the messages, 8000 in the completion). Please reduce the length of the messages or completion.")  # fmt: skip
    kwargs = {"messages": LONG_ASK, "max_tokens": 8000}
    fitted, note = refit(kwargs, detail)
    assert fitted["max_tokens"] == int((8192 - 1000) * 0.9) and fitted["messages"] == LONG_ASK
    assert "max_tokens lowered from 8000" in note


@pytest.mark.parametrize(("family", "tools"), [("anthropic", True), ("openai", False), ("compatible", True)])
async def test_a_silent_provider_ends_the_call_at_the_first_byte_bound(
    family, tools, stub, family_settings, no_sleep
):
    settings = family_settings(family, "ok")
    stub.inject(F.SILENT, F.SILENT, F.SILENT)
    started = time.monotonic()
    async with Gateway(settings, sleep=no_sleep) as gw:
        with pytest.raises(ProviderError) as info:
            if tools:
                await gw.with_tools("analyst", ASK, [reader([])], name="concept agent")
            else:
                await gw.complete("coder", ASK, name="codegen:pkg/ema.py", stream=True)
    assert time.monotonic() - started < 2 * FIRST_BYTE + 2.0 and len(stub.log) == 2
    provider = {"compatible": "hosted_vllm"}.get(family, family)
    assert info.value.message.startswith(
        f"{provider} sent nothing for {FIRST_BYTE:g}s (models.first_byte_timeout_s)"
    )
    assert "resume" in info.value.fix


async def test_the_call_deadline_bounds_retries_and_their_waits(stub, family_settings):
    settings = family_settings("openai", "ok", call_deadline_s=1.5)
    stub.inject(*["rate_limit"] * 10)
    stub.retry_after = 0.4
    started = time.monotonic()
    async with Gateway(settings) as gw:
        with pytest.raises(ProviderError) as info:
            await gw.complete("coder", ASK, name="x")
    assert time.monotonic() - started < 2.5
    assert "models.call_deadline_s = 1.5s" in info.value.message


async def test_codegen_reports_a_prompt_the_gateway_cut_to_fit(stub, family_settings, tmp_path):
    settings = family_settings("anthropic", FENCED)
    stub.inject("context_length")
    plan = CodegenPlan(
        summary="EMA " + SECTION, files=[PlannedFile(path="pkg/ema.py", purpose="EMA and z-score", stage=0)]
    )
    seen: list = []

    async def emit(event):
        seen.append(event)

    async with Gateway(settings) as gw:
        result = await generate_repository(
            plan, tmp_path / "repo", tmp_path / "run", coder(None, gw), emit=emit, watch=False
        )
    assert result.ok and (tmp_path / "repo" / "pkg" / "ema.py").read_text() == CODE
    [reduced] = [
        e.finding for e in seen if type(e).__name__ == "FindingRaised" and e.finding.kind == "context_reduced"
    ]
    assert "prompt cut from" in reduced.message and reduced.file == "pkg/ema.py"
    assert [e.fault for e in stub.log] == ["context_length", None]


def test_the_default_bounds_end_a_silent_provider_within_three_minutes():
    from deepcode_tui.llm.errors import MAX_SILENT_ATTEMPTS
    from deepcode_tui.llm.retry import RetryPolicy

    models = Settings().models
    policy = RetryPolicy()
    longest_waits = sum(
        min(policy.max_delay, policy.base_delay * 2**n) for n in range(MAX_SILENT_ATTEMPTS - 1)
    )
    worst = MAX_SILENT_ATTEMPTS * models.first_byte_timeout_s + longest_waits  # every round streams
    assert worst < 180 and models.call_deadline_s >= worst


def test_the_same_seed_draws_the_same_faults_whatever_order_the_requests_arrive_in():
    from deepcode_tui.llm.scripted import ScriptRequest

    def req(agent: str, n: int) -> ScriptRequest:
        return ScriptRequest(model="m", messages=[{"role": "system", "content": f"You are the {agent}."},
                                                  {"role": "user", "content": f"round {n}"}])  # fmt: skip

    calls = [(a, n) for n in range(40) for a in ("concept analyst", "algorithm specialist")]
    reply = ScriptedReply(text='{"a": 1}')

    def draw(order: list, seed: int = 7) -> dict:
        chooser = F.Draw(0.3, seed=seed)
        return {c: chooser(req(*c), reply) for c in order}

    interleaved, one_after_another = draw(calls), draw(sorted(calls))
    assert interleaved == one_after_another and sum(1 for f in interleaved.values() if f) > 5
    assert draw(calls) != draw(calls, seed=8)
