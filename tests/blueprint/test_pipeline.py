"""The phases inside the real driver: `plan` stops at the blueprint, a resume with --yes approves."""

from __future__ import annotations

from deepcode_tui.blueprint.phase import ApprovalPhase, BlueprintPhase
from deepcode_tui.blueprint.simulate import SimulatedAgents
from deepcode_tui.config.settings import Settings
from deepcode_tui.pipeline import driver
from deepcode_tui.pipeline.gate import AutoApproveGate
from deepcode_tui.pipeline.phases import IngestPhase
from deepcode_tui.pipeline.runner import Pipeline
from deepcode_tui.store.run import RunStore

PAPER = """# A Tiny Attention Paper

## Abstract

We study attention.

## 1 Introduction

Attention helps sequence models. We report 28.4 BLEU.

## 2 Method

### 2.1 Attention

Attention(Q, K, V) = softmax(QK^T / sqrt(d_k)) V is scaled dot-product attention. We use d_model = 512.

### 2.2 Training

We train with a learning rate of 1e-4 and a batch size of 32 for 100K steps.

## 3 Experiments

On the test set the model reaches 28.4 BLEU, better than the baseline.
"""


async def test_plan_stops_after_the_blueprint_and_resume_approves(script, tmp_path, monkeypatch) -> None:
    doc = tmp_path / "paper.md"
    doc.write_text(PAPER)
    monkeypatch.setattr(
        driver, "build_pipeline", lambda: Pipeline([IngestPhase(), BlueprintPhase(), ApprovalPhase()])
    )

    captured = {}

    def responder(req):
        if "sim" not in captured:
            from deepcode_tui.ingest.models import DocumentIndex

            index = DocumentIndex.load(captured["index_path"])
            captured["sim"] = SimulatedAgents(index)
        return captured["sim"](req)

    model = script(responder)
    settings = Settings(models={"default": model}, runs_dir=tmp_path / "runs")
    store = RunStore.create(settings.runs_dir, doc, command="plan")
    captured["index_path"] = store.path("document", "index.json")
    outcome = await driver.drive(store, settings, AutoApproveGate(), stop_after="blueprint", new_run=True)
    assert outcome.status == "planned"
    assert store.completed_phases() == ["ingest", "blueprint"]
    assert (store.path("blueprint", "v1.yaml")).exists() and not store.path(
        "blueprint", "approved.yaml"
    ).exists()
    run_id = store.run_id
    store.close()

    store = RunStore.open(settings.runs_dir, run_id)
    outcome = await driver.drive(store, settings, AutoApproveGate(), stop_after="approval")
    assert outcome.status == "planned" and store.completed_phases() == ["ingest", "blueprint", "approval"]
    assert (
        store.path("blueprint", "approved.yaml").read_text() == store.path("blueprint", "v1.yaml").read_text()
    )
    types = [e.type for e in store.read_events().events]
    assert "section_read" in types and "blueprint_saved" in types and "gate_resolved" in types
    store.close()
