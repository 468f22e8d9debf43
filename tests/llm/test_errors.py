"""Classification of provider failures into retry decisions and messages."""

from __future__ import annotations

from deepcode_tui.llm.errors import classify, scrub, to_error


def _lit():
    from deepcode_tui.llm.backend import get_litellm

    return get_litellm()


def test_classification_of_litellm_exceptions():
    lit = _lit()
    args = {"llm_provider": "openai", "model": "gpt-4o"}
    assert classify(lit.RateLimitError("slow down", **args)).kind == "rate_limit"
    assert classify(lit.RateLimitError("slow down", **args)).retryable
    assert classify(lit.InternalServerError("boom", **args)).kind == "server"
    assert classify(lit.ServiceUnavailableError("down", **args)).retryable
    assert classify(lit.Timeout("slow", **args)).kind == "timeout"
    assert classify(lit.AuthenticationError("bad key", **args)).kind == "auth"
    assert not classify(lit.AuthenticationError("bad key", **args)).retryable
    ctx = lit.ContextWindowExceededError("too long", model="gpt-4o", llm_provider="openai")
    assert classify(ctx).kind == "context" and not classify(ctx).retryable
    assert classify(lit.BadRequestError("nope", **args)).kind == "bad_request"
    assert classify(lit.NotFoundError("no such model", **args)).kind == "not_found"
    assert classify(TimeoutError()).kind == "timeout"
    html = classify(lit.BadGatewayError("<html><body>502</body></html>", **args))
    assert html.kind == "html" and html.retryable and html.status == 502


def test_messages_name_provider_model_status_and_fix():
    failure = classify(_lit().AuthenticationError("bad", llm_provider="anthropic", model="claude"))
    err = to_error(failure, provider="anthropic", model="anthropic/claude-sonnet-4-5", role="planner",
                   call_name="plan", attempts=1, env_var="ANTHROPIC_API_KEY", api_base=None, timeout_s=60)  # fmt: skip
    assert "anthropic" in err.message and "status 401" in err.message
    assert err.fix == "set ANTHROPIC_API_KEY to a valid API key for anthropic"


def test_scrub_removes_keys_and_bearer_tokens():
    text = scrub(
        "Incorrect API key provided: sk-proj-abc123def456. Authorization: Bearer abc.def api_key=xyz789"
    )
    assert "sk-proj" not in text and "abc.def" not in text and "xyz789" not in text
    assert len(scrub("x" * 1000)) <= 400
