"""Fixtures for the gateway tests: scripted models, an event sink, a fake OpenAI server."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from gateway_test_helpers import Events, FakeOpenAI, SleepRecorder

from deepcode_tui.llm.scripted import register_script, unregister_script

_ids = itertools.count()


@pytest.fixture
def script():
    """register(replies, **kw) -> model string; scripts are removed after the test."""
    names: list[str] = []

    def register(replies, **kwargs) -> str:
        name = f"t{next(_ids)}"
        names.append(name)
        return register_script(name, replies, **kwargs)

    yield register
    for name in names:
        unregister_script(name)


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def no_sleep() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    d = tmp_path / "20260101-000000-paper-abcd"
    (d / "llm").mkdir(parents=True)
    return d


@pytest.fixture
def fake_openai():
    server = FakeOpenAI()
    yield server
    server.close()
