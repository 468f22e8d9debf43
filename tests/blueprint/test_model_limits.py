"""The blueprint agents follow the model's limits: one-at-a-time servers, small context windows."""

from __future__ import annotations

import asyncio

import pytest

from deepcode_tui.blueprint.agents import BlueprintAgents
from deepcode_tui.blueprint.budget import AgentSettings
from deepcode_tui.llm.cassette import ModelProfile
from deepcode_tui.llm.types import ToolRunResult
from tests.blueprint.helpers import make_index


class ProfiledGateway:
    """Answers the reading agents at once and notes which calls overlapped."""

    def __init__(self, profile: ModelProfile) -> None:
        self._profile = profile
        self.active = 0
        self.most_active = 0
        self.budgets: list[int] = []

    def resolve(self, role: str) -> str:
        return role

    def profile(self, resolved: str) -> ModelProfile:
        return self._profile

    async def with_tools(self, role, messages, tools, *, name, max_rounds, **params) -> ToolRunResult:
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        await asyncio.sleep(0.02)  # a model call in flight
        self.active -= 1
        return ToolRunResult(text="{}", messages=[*messages, {"role": "assistant", "content": "{}"}])


@pytest.mark.parametrize(("concurrent", "overlap"), [(1, 1), (None, 2)])
async def test_readers_run_one_by_one_on_a_single_slot_model(concurrent, overlap):
    gw = ProfiledGateway(ModelProfile(concurrent_calls=concurrent))
    analyses = await BlueprintAgents(gw, make_index()).analyse()
    assert analyses.concept is not None and analyses.algorithm is not None
    assert gw.most_active == overlap


def test_a_small_context_window_shrinks_every_call():
    settings = AgentSettings()
    small = ModelProfile(context_window=8192, default_params={"max_tokens": 1024})
    agents = BlueprintAgents(ProfiledGateway(small), make_index(filler_repeats=400))
    assert agents.settings.max_call_tokens <= 8192 - 1024
    assert agents.cap <= 8192 - 1024 < settings.call_cap(agents.paper_tokens)
    assert agents.settings.max_read_tokens <= agents.settings.max_call_tokens // 2
    # A window larger than the settings' own ceiling changes nothing.
    assert settings.fitted(200_000, 8192) == settings and settings.fitted(None) == settings
