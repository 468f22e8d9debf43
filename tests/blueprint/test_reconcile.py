"""A grammar-constrained planner's plan: its shape is enforced while decoding, its
cross-references are reconciled afterwards instead of sent back for fix rounds."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from deepcode_tui.blueprint.agents import BlueprintAgents
from deepcode_tui.blueprint.checks import check_blueprint
from deepcode_tui.blueprint.models import Blueprint, BlueprintDraft
from deepcode_tui.blueprint.reconcile import reconcile
from deepcode_tui.llm.cassette import ModelProfile

TANGLED = {
    "summary": "EMA-Z",
    "file_hierarchy": [
        {"path": "ema.py", "purpose": "detector", "dependencies": ["numpy", "ema.py", "util.py"]},
        {"path": "ema.py", "purpose": "again", "dependencies": ["util.py"]},
        {"path": "util.py", "purpose": "helpers", "dependencies": ["ema.py"], "stage": 4},
    ],
    "components": [{"file": "test_ema.py"}, {"file": "#/$defs/ComponentSpec"}],
    "verification": {"commands": ["python -m pytest -q"]},
    "stages": [{"name": "one", "files": ["ema.py", "missing.py"]}, {"name": "two"}],
}


def test_every_reference_a_grammar_cannot_check_is_settled_and_said():
    bp, notes = reconcile(BlueprintDraft.model_validate(TANGLED))
    assert [i.message for i in check_blueprint(bp) if i.severity == "error"] == []
    assert bp.paths() == ["ema.py", "util.py", "test_ema.py"]
    assert bp.file("ema.py").dependencies == ["util.py"]  # numpy and itself dropped, the duplicate merged
    assert bp.file("util.py").dependencies == [] and bp.file("util.py").stage == 2
    assert [c.file for c in bp.components] == ["test_ema.py"]
    assert bp.stages[0].files == ["ema.py"]
    text = "\n".join(notes)
    for said in ("listed twice", "added it", "not a file path", "dependency on numpy", "missing.py",
                 "moved to the last stage", "by dropping util.py -> ema.py"):  # fmt: skip
        assert said in text, said


def test_a_consistent_plan_is_left_alone():
    clean = {**TANGLED, "file_hierarchy": [{"path": "ema.py", "purpose": "detector"}],
             "components": [{"file": "ema.py"}], "stages": []}  # fmt: skip
    bp, notes = reconcile(BlueprintDraft.model_validate(clean))
    assert notes == [] and bp == Blueprint.model_validate(clean)


class ConstrainedPlanner:
    """A gateway whose planner decodes under a grammar (as the embedded model does)."""

    def __init__(self, reply: dict[str, Any]) -> None:
        self.reply, self.calls = reply, []

    def resolve(self, role: str) -> str:
        return role

    def profile(self, resolved: str) -> ModelProfile:
        return ModelProfile(structured="grammar", tools="grammar", context_window=8192, concurrent_calls=1)

    async def structured(self, role, messages, schema, *, name, max_repairs, **params):
        self.calls.append((name, schema))
        return schema.model_validate(self.reply)


async def test_a_constrained_planner_is_reconciled_not_asked_for_fix_rounds():
    gw = ConstrainedPlanner(TANGLED)
    logs: list[str] = []

    async def emit(ev: Any) -> None:
        logs.append(ev.message)

    agents = BlueprintAgents(gw, SimpleNamespace(total_tokens=100, format="markdown"), emit=emit)
    bp = await agents._fix("system", await agents._structured_blueprint([], "planning agent"), "paper")
    assert gw.calls == [("planning agent", BlueprintDraft)]  # one call, no "(fix 1)"
    assert not [i for i in check_blueprint(bp) if i.severity == "error"]
    assert any("made the plan's references consistent" in m for m in logs)
