"""Retries on 429/5xx/timeouts; HTML bodies, auth and context errors become clear errors."""

from __future__ import annotations

import pytest
from gateway_test_helpers import ok_reply, raw_reply, read_calls, settings_for

from deepcode_tui.errors import ProviderError
from deepcode_tui.llm import Gateway
from deepcode_tui.llm.scripted import ScriptedReply, get_script

MSG = [{"role": "user", "content": "hello"}]


async def test_retry_on_429_then_success(script, no_sleep, run_dir, events):
    model = script([ScriptedReply(error="rate_limit"), ScriptedReply(error="rate_limit"), "finally"])
    async with Gateway(settings_for(model), run_dir=run_dir, sleep=no_sleep, emit=events) as gw:
        result = await gw.complete("coder", MSG, name="gen")
    assert result.text == "finally"
    assert len(get_script(model).requests) == 3
    assert len(no_sleep.delays) == 2 and all(d > 0 for d in no_sleep.delays)
    assert no_sleep.delays[1] >= no_sleep.delays[0] * 0.9  # backoff grows (jitter aside)
    [call] = read_calls(run_dir)
    assert call["attempts"] == 3 and call["error"] == ""
    assert len(events.of("llm_call_finished")) == 1
    retries = [e.message for e in events.of("log")]
    assert (
        len(retries) == 2
        and "retry 1/4" in retries[0]
        and "rate limit" in retries[0]
        and "'gen'" in retries[0]
    )


async def test_retry_on_429_over_http_then_success(fake_openai, no_sleep):
    fake_openai.replies.extend(
        [
            raw_reply(429, '{"error": {"message": "Rate limit reached", "type": "rate_limit"}}'),
            ok_reply("done"),
        ]
    )
    settings = settings_for("openai/local", api_base=fake_openai.base, api_key="k")
    async with Gateway(settings, sleep=no_sleep) as gw:
        result = await gw.complete("coder", MSG, name="gen", stream=False)
    assert result.text == "done" and len(fake_openai.requests) == 2 and len(no_sleep.delays) == 1


async def test_retries_are_bounded_by_max_retries(script, no_sleep, run_dir):
    model = script([ScriptedReply(error="rate_limit")] * 10)
    settings = settings_for(model)
    settings.models.max_retries = 2
    async with Gateway(settings, run_dir=run_dir, sleep=no_sleep) as gw:
        with pytest.raises(ProviderError) as info:
            await gw.complete("coder", MSG, name="gen")
    assert "rate-limiting" in info.value.message and "3 attempts" in info.value.message
    assert "resume" in info.value.fix
    assert len(get_script(model).requests) == 3 and len(no_sleep.delays) == 2
    assert read_calls(run_dir)[0]["error"]


async def test_server_error_mid_stream_is_retried(script, no_sleep):
    model = script(
        [ScriptedReply(text="partial reply here", error="server_error", error_mid_stream=True), "full"]
    )
    async with Gateway(settings_for(model), sleep=no_sleep) as gw:
        result = await gw.complete("coder", MSG, name="gen")
    assert result.text == "full" and len(no_sleep.delays) == 1


async def test_timeout_is_retried_then_named(script, no_sleep):
    model = script([ScriptedReply(error="timeout")] * 3)
    settings = settings_for(model)
    settings.models.max_retries = 2
    async with Gateway(settings, sleep=no_sleep) as gw:
        with pytest.raises(ProviderError) as info:
            await gw.complete("coder", MSG, name="gen")
    assert "did not answer" in info.value.message and "models.timeout_s" in info.value.fix


async def test_html_body_names_provider_model_and_status(script, no_sleep):
    model = script([ScriptedReply(error="html")] * 5)
    settings = settings_for(model)
    settings.models.max_retries = 1
    async with Gateway(settings, sleep=no_sleep) as gw:
        with pytest.raises(ProviderError) as info:
            await gw.complete("coder", MSG, name="gen")
    msg = info.value.message
    assert "scripted" in msg and model in msg and "status 502" in msg and "HTML page" in msg
    assert "Traceback" not in msg


async def test_html_page_from_a_wrong_api_base_is_not_retried(fake_openai, no_sleep):
    page = raw_reply(200, "<!DOCTYPE html><html><body>Welcome to nginx!</body></html>", "text/html")
    fake_openai.replies.extend([page, page])
    settings = settings_for("openai/my-model", api_base=fake_openai.base, api_key="k")
    async with Gateway(settings, sleep=no_sleep) as gw:
        with pytest.raises(ProviderError) as info:
            await gw.complete("coder", MSG, name="gen")
    err = info.value
    assert "openai" in err.message and "openai/my-model" in err.message and "HTML page" in err.message
    assert "status" in err.message and fake_openai.base in err.message
    assert "api_base" in err.fix
    assert no_sleep.delays == []  # never retried (the stream is asked once more without streaming)


async def test_html_502_over_http(fake_openai, no_sleep):
    page = "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>"
    fake_openai.replies.extend([raw_reply(502, page, "text/html")] * 2)
    settings = settings_for("openai/my-model", api_base=fake_openai.base, api_key="k")
    settings.models.max_retries = 1
    async with Gateway(settings, sleep=no_sleep) as gw:
        with pytest.raises(ProviderError) as info:
            await gw.complete("coder", MSG, name="gen", stream=False)
    assert "status 502" in info.value.message and "HTML page" in info.value.message
    assert len(fake_openai.requests) == 2


async def test_auth_error_names_the_environment_variable(fake_openai, monkeypatch, run_dir, no_sleep):
    # A real OpenAI model whose requests go (through OPENAI_BASE_URL) to the fake server.
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key-1234567890")
    fake_openai.replies.append(
        raw_reply(
            401,
            '{"error": {"message": "Incorrect API key provided: sk-wrong-***7890", "code": "invalid_api_key"}}',
        )
    )
    async with Gateway(settings_for("openai/gpt-4o-mini"), run_dir=run_dir, sleep=no_sleep) as gw:
        with pytest.raises(ProviderError) as info:
            await gw.complete("coder", MSG, name="gen")
    err = info.value
    assert "OPENAI_API_KEY" in err.fix and "rejected the credentials" in err.message
    assert len(fake_openai.requests) == 1  # never retried
    record = (run_dir / "llm" / "calls.jsonl").read_text()
    assert "sk-wrong" not in record and "sk-wrong" not in err.message


async def test_auth_error_for_scripted_model_is_scrubbed(script):
    model = script([ScriptedReply(error="auth")])
    async with Gateway(settings_for(model)) as gw:
        with pytest.raises(ProviderError) as info:
            await gw.complete("coder", MSG, name="gen")
    assert "sk-test-abcdef123456" not in info.value.message
    assert "models.api_key" in info.value.fix


async def test_context_length_error_names_the_call(script, no_sleep):
    model = script([ScriptedReply(error="context_length")])
    async with Gateway(settings_for(model), sleep=no_sleep) as gw:
        with pytest.raises(ProviderError) as info:
            await gw.complete("coder", MSG, name="generate model.py")
    assert "'generate model.py'" in info.value.message and "context window" in info.value.message
    assert "models.coder" in info.value.fix and no_sleep.delays == []


async def test_unknown_model_is_not_retried(script, no_sleep):
    model = script([ScriptedReply(error="not_found")])
    async with Gateway(settings_for(model), sleep=no_sleep) as gw:
        with pytest.raises(ProviderError) as info:
            await gw.complete("planner", MSG, name="plan")
    assert "does not know the model" in info.value.message and "models.planner" in info.value.fix
    assert no_sleep.delays == []


async def test_unreachable_server_is_a_clear_error(no_sleep):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    settings = settings_for("openai/local", api_base=f"http://127.0.0.1:{port}/v1", api_key="k")
    settings.models.max_retries = 1
    async with Gateway(settings, sleep=no_sleep) as gw:
        with pytest.raises(ProviderError) as info:
            await gw.complete("coder", MSG, name="gen", stream=False)
    assert f"127.0.0.1:{port}" in info.value.message and len(no_sleep.delays) == 1


async def test_plain_text_body_where_json_was_expected(fake_openai, no_sleep):
    fake_openai.replies.extend([raw_reply(200, "Service temporarily unavailable", "text/plain")] * 2)
    settings = settings_for("openai/my-model", api_base=fake_openai.base, api_key="k")
    async with Gateway(settings, sleep=no_sleep) as gw:
        with pytest.raises(ProviderError) as info:
            await gw.complete("coder", MSG, name="gen", stream=False)
    assert "non-JSON body" in info.value.message and "openai/my-model" in info.value.message
    assert "status" in info.value.message


def test_backoff_grows_is_capped_and_honours_retry_after():
    import random

    from deepcode_tui.llm.retry import RetryPolicy

    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, rng=random.Random(0))
    delays = [policy.delay(n) for n in range(6)]
    assert all(0.5 * min(8, 2**n) <= d <= min(8, 2**n) for n, d in enumerate(delays))
    assert policy.delay(0, retry_after=5.0) >= 5.0
    assert policy.delay(0, retry_after=3600) <= 16.0
