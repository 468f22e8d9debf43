"""The content-addressed disk cache: equal requests are served without paying twice."""

from __future__ import annotations

from gateway_test_helpers import read_calls, settings_for

from deepcode_tui.llm import Gateway
from deepcode_tui.llm.cache import ResponseCache, StoredResponse, request_key
from deepcode_tui.llm.scripted import get_script

MSG = [{"role": "user", "content": "write utils.py"}]


async def test_second_identical_call_is_served_from_cache(script, tmp_path, run_dir, events):
    model = script(["def util(): pass"])  # a second provider call would exhaust the script
    cache = tmp_path / "cache"
    async with Gateway(settings_for(model), cache_dir=cache, run_dir=run_dir, emit=events) as gw:
        first = await gw.complete("coder", MSG, name="utils.py")
    async with Gateway(settings_for(model), cache_dir=cache, emit=events) as gw:
        second = await gw.complete("coder", MSG, name="utils.py")
    assert second.text == first.text and second.cached and not first.cached
    assert len(get_script(model).requests) == 1
    assert events.of("token_streamed")[-1].text == first.text  # a cached reply still reaches the view
    assert events.of("llm_call_finished")[-1].cached
    files = list(cache.rglob("*"))
    assert not [f for f in files if f.name.endswith(".tmp")]
    assert len([f for f in files if f.suffix == ".json"]) == 1


async def test_cached_calls_are_free_in_the_accounts(script, tmp_path, run_dir):
    model = script(["x"])
    async with Gateway(settings_for(model), cache_dir=tmp_path / "c", run_dir=run_dir) as gw:
        await gw.complete("coder", MSG, name="a")
        await gw.complete("coder", MSG, name="a")
        totals = gw.totals()
    calls = read_calls(run_dir)
    assert [c["cached"] for c in calls] == [False, True]
    assert totals.by_role["coder"].cached_calls == 1
    assert totals.total_tokens == calls[0]["prompt_tokens"] + calls[0]["completion_tokens"]


async def test_different_params_miss_the_cache(script, tmp_path):
    model = script(["a", "b"])
    async with Gateway(settings_for(model), cache_dir=tmp_path / "c") as gw:
        one = await gw.complete("coder", MSG, name="n")
        two = await gw.complete("coder", MSG, name="n", temperature=0.9)
    assert (one.text, two.text) == ("a", "b") and not two.cached


def test_keys_ignore_transport_and_are_stable():
    a = request_key("m", MSG, {"temperature": 0.2, "timeout": 5, "api_key": "s", "stream": True})
    b = request_key("m", MSG, {"temperature": 0.2})
    assert a == b and len(a) == 64
    assert request_key("m", MSG, {"temperature": 0.3}) != b
    assert request_key("other", MSG, {"temperature": 0.2}) != b


def test_a_damaged_entry_is_a_miss(tmp_path):
    cache = ResponseCache(tmp_path)
    key = "ab" + "0" * 62
    cache.put(key, StoredResponse(text="hi"))
    assert cache.get(key).text == "hi"
    (tmp_path / "ab" / f"{key}.json").write_text('{"text": ')
    assert cache.get(key) is None
