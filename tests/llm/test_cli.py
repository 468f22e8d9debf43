"""`deepcode-tui models [--check]` and the run command's gateway flags."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from deepcode_tui.config.settings import Settings
from deepcode_tui.errors import ConfigError
from deepcode_tui.llm.cli import budget_overrides, build_gateway, gateway_options, models_cmd
from deepcode_tui.llm.scripted import ScriptedReply


def run(args, cwd: Path, monkeypatch):
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(models_cmd, args, catch_exceptions=False)


def test_models_shows_each_role_and_where_it_was_configured(tmp_path, monkeypatch):
    (tmp_path / "deepcode.toml").write_text('[models]\nplanner = "anthropic/claude-sonnet-4-5"\n')
    monkeypatch.setenv("DEEPCODE_MODELS__DEFAULT", "ollama/qwen2.5-coder:7b")
    result = run([], tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()[1:] if line.strip()}
    assert set(lines) == {"planner", "analyst", "coder", "summarizer", "repairer", "judge"}
    assert "anthropic/claude-sonnet-4-5" in lines["planner"] and "project (" in lines["planner"]
    assert "ollama/qwen2.5-coder:7b" in lines["coder"] and "env: models.default" in lines["coder"]
    assert "embedded" not in result.output


def test_models_check_pings_each_model_once(tmp_path, monkeypatch, script):
    model = script(["pong"])  # one reply: every role shares the model, so one ping
    monkeypatch.setenv("DEEPCODE_MODELS__DEFAULT", model)
    result = run(["--check"], tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output
    assert result.output.count(" ok ") == 6  # the five run roles and the judge


def test_models_check_reports_failures(tmp_path, monkeypatch, script):
    model = script([ScriptedReply(error="auth")])
    monkeypatch.setenv("DEEPCODE_MODELS__DEFAULT", model)
    result = run(["--check"], tmp_path, monkeypatch)
    assert result.exit_code == 1
    assert "FAILED" in result.output and "rejected the credentials" in result.output


def test_models_explains_the_embedded_default(tmp_path, monkeypatch):
    result = run([], tmp_path, monkeypatch)
    assert "embedded/smollm2-135m-instruct" in result.output
    assert "tiny" in result.output and "models.default" in result.output


def test_build_gateway_applies_flags(tmp_path):
    settings = Settings(models={"default": "scripted/x"})
    gw = build_gateway(settings, max_cost=1.5, max_tokens=1000, cache_dir=tmp_path / "c")
    assert gw.settings.budget.max_cost_usd == 1.5 and gw.settings.budget.max_tokens == 1000
    assert settings.budget.max_cost_usd is None  # the caller's settings are not mutated
    assert gw.cache is not None
    assert build_gateway(settings, no_cache=True).cache is None
    with pytest.raises(ConfigError):
        build_gateway(settings, record=tmp_path / "a", replay=tmp_path / "b")
    assert budget_overrides(2.0, None) == {"budget.max_cost_usd": 2.0, "budget.max_tokens": None}


def test_gateway_options_parse(tmp_path):
    seen = {}

    @click.command()
    @gateway_options
    def cmd(**kwargs):
        seen.update(kwargs)

    result = CliRunner().invoke(
        cmd, ["--record", str(tmp_path / "cas"), "--max-cost", "0.5", "--max-tokens", "900"]
    )
    assert result.exit_code == 0, result.output
    assert seen == {
        "record": tmp_path / "cas",
        "replay": None,
        "max_cost": 0.5,
        "max_tokens": 900,
        "no_cache": False,
    }
    bad = CliRunner().invoke(cmd, ["--max-cost", "-1"])
    assert bad.exit_code == 2 and "--max-cost" in bad.output


def test_importing_the_gateway_does_not_import_litellm():
    code = "import sys, deepcode_tui.llm, deepcode_tui.llm.cli; assert 'litellm' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
