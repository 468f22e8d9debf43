"""Configuration sources, provenance, redaction and comment-preserving writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepcode_tui.config import load_settings, set_config_value, user_config_path
from deepcode_tui.errors import ConfigError


def test_sources_nearest_first_with_provenance(tmp_path: Path, monkeypatch) -> None:
    user = user_config_path()
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text('[models]\ncoder = "user/coder"\nplanner = "user/planner"\nanalyst = "user/analyst"\n')
    project = tmp_path / "proj"
    (project / "sub").mkdir(parents=True)
    (project / "deepcode.toml").write_text('[models]\ncoder = "project/coder"\nplanner = "project/planner"\n')
    monkeypatch.chdir(project / "sub")  # found by walking up
    monkeypatch.setenv("DEEPCODE_MODELS__PLANNER", "env/planner")
    loaded = load_settings({"budget": {"max_cost_usd": 1.5}, "models": {"summarizer": "cli/sum"}})
    s = loaded.settings
    assert (s.models.summarizer, s.models.planner, s.models.coder, s.models.analyst) == (
        "cli/sum",
        "env/planner",
        "project/coder",
        "user/analyst",
    )
    prov = loaded.provenance
    assert prov["models.summarizer"] == "cli" and prov["models.planner"] == "env"
    assert prov["models.coder"].startswith("project (") and prov["models.analyst"].startswith("user (")
    assert s.budget.max_cost_usd == 1.5 and s.model_for("repairer") is None


def test_secrets_are_redacted(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEEPCODE_MODELS__API_KEY", "sk-very-secret")
    loaded = load_settings()
    rows = {k: v for k, v, _ in loaded.rows()}
    assert rows["models.api_key"] == "********"
    assert "sk-very-secret" not in repr(loaded.snapshot())
    assert loaded.settings.models.api_key.get_secret_value() == "sk-very-secret"


@pytest.mark.parametrize(
    "content,match",
    [("[models\ncoder=1", "not valid TOML"), ("[models]\nnope = 1\n", "unknown setting 'models.nope'"),
     ("[sandbox]\nmemory_mb = 'lots'\n", "invalid setting 'sandbox.memory_mb'")],
)
def test_bad_config_names_the_file_and_key(tmp_path: Path, monkeypatch, content: str, match: str) -> None:
    (tmp_path / "deepcode.toml").write_text(content)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=match):
        load_settings()


def test_writes_keep_comments_and_reject_bad_values(tmp_path: Path) -> None:
    path = tmp_path / "deepcode.toml"
    path.write_text("# top comment\n[models]\n# which coder\ncoder = \"a/b\"  # inline\n")
    set_config_value(path, "models.planner", "x/y")
    set_config_value(path, "sandbox.memory_mb", 512)
    text = path.read_text()
    assert "# top comment" in text and "# which coder" in text and "# inline" in text
    assert 'planner = "x/y"' in text and "memory_mb = 512" in text
    with pytest.raises(ConfigError):
        set_config_value(path, "sandbox.memory_mb", "lots")
    assert "lots" not in path.read_text()
