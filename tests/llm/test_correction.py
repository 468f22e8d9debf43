"""A rejected reply is followed by a different request that says why, and never answers as a reply.

Before this, codegen's retries resent the same request (the note was the same
each time), so the gateway's content-addressed cache and any deterministic model
answered with the same rejected reply, and the retries did nothing. The scripted
provider here is deterministic: it answers a request by its content only.
"""

from __future__ import annotations

import json

from gateway_test_helpers import read_calls, settings_for
from pydantic import BaseModel, Field

from deepcode_tui.codegen.loop import generate_repository
from deepcode_tui.codegen.plan import CodegenPlan, PlannedFile
from deepcode_tui.llm import Gateway
from deepcode_tui.llm.cache import ResponseCache, StoredResponse, request_key
from deepcode_tui.llm.scripted import get_script
from deepcode_tui.pipeline.roles import coder

CODE = "def ema(prev: float, x: float, alpha: float = 0.1) -> float:\n    return (1 - alpha) * prev + alpha * x\n"
GOOD = f"```python path=pkg/ema.py\n{CODE}```\n"
PROSE = "I will now write the EMA module as requested, keeping it short and clear."
PLAN = CodegenPlan(summary="EMA", files=[PlannedFile(path="pkg/ema.py", purpose="the EMA", stage=0)])


def _corrected(request) -> bool:
    last = request.messages[-1]
    return last["role"] == "user" and "could not be used" in str(last["content"])


def deterministic_coder(request) -> str:
    """Prose for a first ask; the file only once a correction says what was wrong."""
    return GOOD if _corrected(request) else PROSE


async def test_a_rejected_file_reply_is_asked_again_with_the_reason_and_is_never_cached(
    script, tmp_path, run_dir
):
    model = script(deterministic_coder)
    cache = tmp_path / "cache"
    async with Gateway(settings_for(model), cache_dir=cache, run_dir=run_dir) as gw:
        result = await generate_repository(PLAN, tmp_path / "repo", run_dir, coder(None, gw), watch=False)
    assert result.ok and (tmp_path / "repo" / "pkg" / "ema.py").read_text() == CODE
    first, retry = get_script(model).requests
    # The retry is the first request plus that one rejected reply and a correction naming the problem.
    assert retry.messages[: len(first.messages)] == first.messages
    assert len(retry.messages) == len(first.messages) + 2
    assert retry.messages[-2] == {"role": "assistant", "content": PROSE}
    assert "pkg/ema.py" in retry.messages[-1]["content"] and "Attempt 2 of 3" in retry.messages[-1]["content"]

    # A new run with the same cache follows the same path without paying for it: the prose
    # reply comes back as the rejection it was (kept apart, never as an answer), and the
    # corrected request is answered by the cache. The provider is not asked again.
    async with Gateway(settings_for(model), cache_dir=cache, run_dir=run_dir) as gw:
        again = await generate_repository(PLAN, tmp_path / "repo2", run_dir, coder(None, gw), watch=False)
    assert again.ok and (tmp_path / "repo2" / "pkg" / "ema.py").read_text() == CODE
    assert len(get_script(model).requests) == 2
    assert [c["cached"] for c in read_calls(run_dir)] == [False, False, True, True]


async def test_a_kept_rejection_is_served_once_per_run_then_the_provider_is_asked(script, tmp_path, run_dir):
    """Asking the very same request again in one run is a real retry: it must reach the provider."""
    msgs = [{"role": "user", "content": "write pkg/ema.py"}]
    model = script([PROSE, PROSE, GOOD])

    def check(c):
        return None if "```" in c.text else "no code block"

    async with Gateway(settings_for(model), cache_dir=tmp_path / "cache", run_dir=run_dir) as gw:
        first = await gw.complete("coder", msgs, name="ema", check=check)
    assert first.rejected == "no code block" and not first.cached
    async with Gateway(settings_for(model), cache_dir=tmp_path / "cache", run_dir=run_dir) as gw:
        kept = await gw.complete("coder", msgs, name="ema", check=check)
        asked = await gw.complete("coder", msgs, name="ema", check=check)
        answered = await gw.complete("coder", msgs, name="ema", check=check)
    assert kept.cached and kept.text == PROSE and kept.rejected == "no code block"
    assert not asked.cached and asked.rejected  # the provider's second prose reply
    assert not answered.cached and answered.text == GOOD and not answered.rejected
    assert len(get_script(model).requests) == 3
    # Without a check (a caller that takes any reply) the kept rejection never answers.
    async with Gateway(settings_for(model), cache_dir=tmp_path / "cache", run_dir=run_dir) as gw:
        plain = await gw.complete("coder", msgs, name="ema")
    assert plain.text == GOOD and plain.cached  # the accepted reply, stored under the request


async def test_the_same_rejected_reply_twice_still_gives_a_different_third_request(script, tmp_path, run_dir):
    replies = [PROSE, PROSE, GOOD]
    model = script(lambda request: replies.pop(0))
    async with Gateway(settings_for(model), cache_dir=tmp_path / "cache", run_dir=run_dir) as gw:
        result = await generate_repository(PLAN, tmp_path / "repo", run_dir, coder(None, gw), watch=False)
    assert result.ok
    sent = [json.dumps(r.messages, sort_keys=True) for r in get_script(model).requests]
    assert len(sent) == 3 and len(set(sent)) == 3
    base = len(get_script(model).requests[0].messages)
    # Never the whole history: each retry holds only the last rejected reply.
    assert [len(r.messages) for r in get_script(model).requests] == [base, base + 2, base + 2]


async def test_a_cached_reply_the_check_rejects_is_not_served_and_is_dropped(script, tmp_path, run_dir):
    msgs = [{"role": "user", "content": "write pkg/ema.py"}]
    model = script([GOOD])
    cache = ResponseCache(tmp_path / "cache")
    async with Gateway(settings_for(model), cache_dir=tmp_path / "cache", run_dir=run_dir) as gw:
        key = request_key(gw.resolve("coder").model, msgs, gw.profile(gw.resolve("coder")).default_params)
        cache.put(key, StoredResponse(text=PROSE))  # e.g. stored by a version that cached every reply

        def check(c):
            return None if "```" in c.text else "no code block"

        got = await gw.complete("coder", msgs, name="ema", check=check)
        again = await gw.complete("coder", msgs, name="ema", check=check)
    assert got.text == GOOD and not got.cached and not got.rejected
    assert again.cached and again.text == GOOD and len(get_script(model).requests) == 1


class Plan(BaseModel):
    title: str
    files: list[str] = Field(min_length=1)


async def test_structured_repairs_carry_only_the_last_rejected_reply_and_none_is_cached(
    script, tmp_path, run_dir
):
    bad1, bad2, good = (
        '{"title": "EMA"',
        '{"title": "EMA", "files": []}',
        '{"title": "EMA", "files": ["ema.py"]}',
    )
    replies = [bad1, bad2, good]
    model = script(lambda request: replies.pop(0) if replies else good)
    ask = [{"role": "user", "content": "plan it"}]
    cache = tmp_path / "cache"
    async with Gateway(settings_for(model), cache_dir=cache, run_dir=run_dir) as gw:
        plan = await gw.structured("planner", ask, Plan, name="plan")
    answers = [p for p in cache.rglob("*.json") if not p.stem.endswith("-rejected")]
    assert plan.files == ["ema.py"] and len(answers) == 1  # only the valid reply answers
    requests = get_script(model).requests
    first, _, third = (r.messages for r in requests)
    assert third[: len(first)] == first and len(third) == len(first) + 2
    assert third[-2] == {"role": "assistant", "content": bad2} and bad1 not in json.dumps(third)
    assert "could not be used as a Plan" in third[-1]["content"] and "Attempt 3 of 3" in third[-1]["content"]
    # A second run follows the same repairs from the cache: the two refused replies come back
    # as the refusals they were, the valid one as the answer; the provider is not asked.
    async with Gateway(settings_for(model), cache_dir=cache, run_dir=run_dir) as gw:
        again = await gw.structured("planner", ask, Plan, name="plan")
    assert again.files == ["ema.py"] and len(get_script(model).requests) == 3
