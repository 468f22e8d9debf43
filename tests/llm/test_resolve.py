"""Roles -> models: one config change for a hybrid setup; provenance; the embedded default."""

from __future__ import annotations

import pytest

from deepcode_tui.config.loader import load_settings
from deepcode_tui.config.settings import ROLES, Settings
from deepcode_tui.errors import ConfigError
from deepcode_tui.llm.resolve import (
    EMBEDDED_MODEL,
    PROVIDER_KEYS,
    env_var_for,
    keys_in_environment,
    resolve_all,
    resolve_role,
)


def test_large_planner_small_coder_is_one_config_change():
    base = Settings(models={"default": "anthropic/claude-sonnet-4-5"})
    hybrid = Settings(models={"default": "anthropic/claude-sonnet-4-5", "coder": "ollama/qwen2.5-coder:7b"})
    assert {r.model for r in resolve_all(base, environ={}).values()} == {"anthropic/claude-sonnet-4-5"}
    models = {role: r.model for role, r in resolve_all(hybrid, environ={}).items()}
    assert models["coder"] == "ollama/qwen2.5-coder:7b"
    assert all(models[r] == "anthropic/claude-sonnet-4-5" for r in ROLES if r != "coder")


def test_api_base_only_goes_to_openai_compatible_providers():
    s = Settings(models={"planner": "anthropic/claude-sonnet-4-5", "default": "hosted_vllm/qwen",
                         "api_base": "http://gpu:8000/v1"})  # fmt: skip
    assert resolve_role(s, "planner", environ={}).api_base is None
    assert resolve_role(s, "coder", environ={}).api_base == "http://gpu:8000/v1"


def test_provenance_names_where_a_role_was_configured(tmp_path, monkeypatch):
    (tmp_path / "deepcode.toml").write_text('[models]\ndefault = "openai/gpt-4.1"\nplanner = "openai/o3"\n')
    monkeypatch.setenv("DEEPCODE_MODELS__CODER", "openai/gpt-4.1-mini")
    loaded = load_settings({}, cwd=tmp_path)
    rows = resolve_all(loaded.settings, provenance=loaded.provenance, environ={})
    assert rows["coder"].source == "env: models.coder"
    assert rows["planner"].source.startswith("project (") and rows["planner"].source.endswith(
        "models.planner"
    )
    assert rows["analyst"].source.endswith("models.default") and rows["analyst"].model == "openai/gpt-4.1"


def test_a_provider_key_in_the_environment_picks_that_provider():
    r = resolve_role(Settings(), "planner", environ={"ANTHROPIC_API_KEY": "x"})
    assert r.model == "anthropic/claude-sonnet-4-5" and "ANTHROPIC_API_KEY" in r.source and not r.embedded


def test_a_key_without_a_default_model_asks_for_one():
    with pytest.raises(ConfigError) as info:
        resolve_role(Settings(), "coder", environ={"GROQ_API_KEY": "x"})
    assert "GROQ_API_KEY" in info.value.message and "groq/" in info.value.fix


def test_nothing_configured_means_the_embedded_model():
    r = resolve_role(Settings(), "coder", environ={})
    assert r.embedded and r.model == EMBEDDED_MODEL and r.litellm_model.startswith("openai/")
    with pytest.raises(ConfigError) as info:
        resolve_role(Settings(models={"embedded": False}), "coder", environ={})
    assert "models.default" in info.value.fix


def test_api_base_without_a_model_is_an_error():
    with pytest.raises(ConfigError) as info:
        resolve_role(Settings(models={"api_base": "http://x/v1"}), "coder", environ={})
    assert "openai/<model-name>" in info.value.fix


def test_unknown_role():
    with pytest.raises(ConfigError):
        resolve_role(Settings(), "poet", environ={})


def test_env_helpers():
    assert env_var_for("anthropic/claude-sonnet-4-5") == "ANTHROPIC_API_KEY"
    assert env_var_for("gpt-4o") == "OPENAI_API_KEY"
    assert env_var_for("scripted/x") is None
    assert keys_in_environment({"OPENAI_API_KEY": "x", "GROQ_API_KEY": ""}) == ["OPENAI_API_KEY"]


def test_key_table_agrees_with_litellm():
    from deepcode_tui.llm.backend import get_litellm

    litellm = get_litellm()
    for var, _provider, default in PROVIDER_KEYS:
        if default is None:
            continue
        missing = litellm.validate_environment(model=default, api_key=None)["missing_keys"]
        assert var in missing, (var, default, missing)
        # The auto-picked defaults must be priced, or the accounts would show them as free.
        prompt, completion = litellm.cost_per_token(model=default, prompt_tokens=1000, completion_tokens=1000)
        assert prompt + completion > 0, default
