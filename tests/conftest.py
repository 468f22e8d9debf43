"""Shared fixtures: the shared corpus (optional) and an isolated workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _corpus_dir() -> Path | None:
    env = os.environ.get("DEEPCODE_CORPUS")
    candidates = [Path(env)] if env else []
    candidates.append(REPO_ROOT.parent / "shared" / "corpus")
    for c in candidates:
        if (c / "papers").is_dir():
            return c
    return None


@pytest.fixture
def corpus_dir() -> Path:
    """The shared corpus of real papers; tests using it skip when it is absent."""
    c = _corpus_dir()
    if c is None:
        pytest.skip("shared corpus not present (../shared/corpus)")
    return c


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """Keep every test away from the user's real config, data and API keys."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))))
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    for key in list(os.environ):
        if key.startswith("DEEPCODE_") and key != "DEEPCODE_CORPUS":
            monkeypatch.delenv(key, raising=False)
        if key.endswith("_API_KEY"):
            monkeypatch.delenv(key, raising=False)
    yield
