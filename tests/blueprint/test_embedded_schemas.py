"""The blueprint's own schemas on the embedded model: concurrent, schema-constrained, never empty.

Regression test for the embedded run that failed in the blueprint phase: every
structured call (ConceptAnalysis, AlgorithmSpec ...) came back empty because the
concurrent agents interrupted each other's streams on the llama.cpp server.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from deepcode_tui.blueprint.checks import check_blueprint
from deepcode_tui.blueprint.models import AlgorithmSpec, BlueprintDraft, ConceptAnalysis
from deepcode_tui.blueprint.reconcile import reconcile
from deepcode_tui.config.settings import Settings
from deepcode_tui.llm import Gateway
from deepcode_tui.llm.embedded import unavailable_reason

REASON = unavailable_reason()
PAPER = (
    "EMA-Z flags anomalies in a stream. It keeps an exponentially weighted mean mu and variance var: "
    "mu_t = mu_{t-1} + alpha (x_t - mu_{t-1}). A point is anomalous when its z-score exceeds tau. "
    "Hyperparameters: alpha = 0.1, tau = 4.0, warm-up 20."
)


@pytest.mark.embedded
@pytest.mark.skipif(REASON is not None, reason=f"embedded model not installed: {REASON}")
async def test_big_nested_schemas_get_non_empty_valid_replies_concurrently(tmp_path):
    run_dir = tmp_path / "run"
    async with Gateway(Settings(), run_dir=run_dir, environ={}) as gw:
        assert gw.resolve("analyst").embedded and gw.resolve("planner").embedded

        async def ask(schema, role):
            messages = [
                {"role": "system", "content": f"You analyse a paper and reply with a {schema.__name__}."},
                {"role": "user", "content": PAPER},
            ]
            return await gw.structured(role, messages, schema, name=schema.__name__, max_repairs=0)

        results = await asyncio.gather(
            ask(ConceptAnalysis, "analyst"), ask(AlgorithmSpec, "analyst"), ask(BlueprintDraft, "planner")
        )
    assert [type(r) for r in results] == [ConceptAnalysis, AlgorithmSpec, BlueprintDraft]
    # The grammar guarantees what the pipeline needs from any reply, however poor:
    plan, _ = reconcile(results[2])
    assert plan.file_hierarchy and plan.components and plan.verification.commands and plan.summary
    assert all(f.path and f.purpose for f in plan.file_hierarchy)
    assert not [i for i in check_blueprint(plan) if i.severity == "error"]
    calls = [json.loads(line) for line in (run_dir / "llm" / "calls.jsonl").read_text().splitlines()]
    assert len(calls) == 3 and all(c["completion_tokens"] > 0 for c in calls), calls
