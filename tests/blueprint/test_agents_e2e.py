"""End to end on scripted model replies: agents -> planner -> versions -> gate."""

from __future__ import annotations

import itertools
import json
import pathlib

import pytest

from deepcode_tui.blueprint import BlueprintVersions, dump_blueprint_yaml, validate_yaml
from deepcode_tui.blueprint.budget import messages_tokens
from deepcode_tui.blueprint.phase import ApprovalPhase, BlueprintPhase
from deepcode_tui.blueprint.simulate import SimulatedAgents, agent_of, tool_results
from deepcode_tui.errors import DeepcodeError
from deepcode_tui.llm.scripted import ScriptedReply
from deepcode_tui.llm.types import ToolCall
from deepcode_tui.pipeline.gate import AutoApproveGate, GateDecision
from tests.blueprint.conftest import RecordingGate, run_context
from tests.blueprint.helpers import blueprint_dict, make_index


def events_of(ctx, kind: str) -> list:
    return [e for e in ctx.store.read_events().events if e.type == kind]


def planner_requests(requests) -> list:
    return [r for r in requests if agent_of(r) == "planner"]


@pytest.fixture
def transformer_index(corpus_dir: pathlib.Path):
    """The real Transformer paper's index (skips without the shared corpus)."""
    from deepcode_tui.ingest.loader import load_document

    return load_document(corpus_dir / "papers" / "transformer" / "paper.pdf")


async def test_full_plan_on_a_real_paper_index(transformer_index, script, tmp_path) -> None:
    index = transformer_index
    model = script(SimulatedAgents(index))
    async with run_context(tmp_path, model, index, AutoApproveGate()) as ctx:
        summary = await BlueprintPhase().run(ctx)
        approved = await ApprovalPhase().run(ctx)
        versions = BlueprintVersions(ctx.run_dir)

        assert summary["version"] == "v1" and summary["errors"] == 0 and summary["files"] >= 4
        reads = events_of(ctx, "section_read")
        assert {e.agent for e in reads} == {"concept", "algorithm"}
        assert all(e.tokens > 0 and e.title for e in reads)
        titles = {e.title for e in reads}
        assert any("Model Architecture" in t for t in titles)

        requests = script.requests(model)
        # concurrent agents: both had their first call answered before either finished
        firsts = [agent_of(r) for r in requests[:2]]
        assert sorted(firsts) == ["algorithm", "concept"]
        for req in requests:  # context compression: no call carries 40% of the paper
            assert messages_tokens(req.messages, req.params.get("tools")) <= 0.40 * index.total_tokens

        assert validate_yaml(versions.text("v1")) == []
        coverage = json.loads((versions.dir / "coverage.json").read_text())
        found = {
            k: sum(1 for i in coverage["items"] if i["kind"] == k) for k in ("hyperparameter", "equation")
        }
        assert found["hyperparameter"] >= 10 and found["equation"] >= 3
        assert approved == {"approved": "v1", "files": summary["files"], "revisions": 0}
        assert versions.approved_version() == "v1" and (versions.dir / "plan.json").exists()
        assert ctx.services["codegen_plan"].paths()[0] == "src/config.py"
        assert [e.type for e in events_of(ctx, "gate_resolved")] == ["gate_resolved"]
        assert events_of(ctx, "blueprint_saved")[0].version == "v1"


async def test_invalid_replies_are_repaired(script, tmp_path) -> None:
    index = make_index()
    sim = SimulatedAgents(index)
    broken = {"planner": 0, "concept": 0}

    def responder(req):
        agent = agent_of(req)
        if agent == "planner" and broken["planner"] == 0:
            broken["planner"] += 1
            return "```yaml\nfile_hierarchy: [src/model.py\n```"
        reply = sim(req)
        if agent == "concept" and isinstance(reply, str) and broken["concept"] == 0:
            broken["concept"] += 1
            return 'Here is my analysis: {"structure_map": [ {"section": '
        return reply

    model = script(responder)
    async with run_context(tmp_path, model, index, AutoApproveGate()) as ctx:
        summary = await BlueprintPhase().run(ctx)
        assert summary["errors"] == 0
    requests = script.requests(model)
    planners = planner_requests(requests)
    assert len(planners) == 2
    assert "could not be used as a Blueprint" in planners[1].messages[-1]["content"]
    assert "not valid JSON" in planners[1].messages[-1]["content"]
    concept_repair = [
        r
        for r in requests
        if agent_of(r) == "concept"
        and "could not be used as a ConceptAnalysis" in str(r.messages[-1].get("content"))
    ]
    assert concept_repair, "the concept agent's broken answer was not sent back for repair"
    repair = concept_repair[0]
    # What the agent had read stays in view, as plain turns (no tool messages without tools).
    assert any("Result of outline" in str(m.get("content")) for m in repair.messages)
    assert not any(m.get("tool_calls") or m["role"] == "tool" for m in repair.messages)
    roles = [m["role"] for m in repair.messages[1:]]
    assert all(a != b for a, b in itertools.pairwise(roles))
    analyses = json.loads((ctx.run_dir / "blueprint" / "analyses.json").read_text())
    assert analyses["concept"]["structure_map"]


async def test_a_refused_tool_loop_answer_is_never_an_answer_and_its_retry_carries_the_correction(
    script, tmp_path
) -> None:
    index = make_index()
    sim = SimulatedAgents(index)
    broken = 'Here is my analysis: {"structure_map": [ {"section": '
    answers = {"concept": 0}

    def responder(req):
        reply = sim(req)
        if agent_of(req) == "concept" and "tools" in req.params and isinstance(reply, str):
            answers["concept"] += 1
            if answers["concept"] == 1:
                return broken
        return reply

    model = script(responder)
    cache = tmp_path / "cache"
    for d in ("first", "second"):
        (tmp_path / d).mkdir()
    async with run_context(tmp_path / "first", model, index, AutoApproveGate(), cache_dir=cache) as ctx:
        assert (await BlueprintPhase().run(ctx))["errors"] == 0
    repairs = [r for r in script.requests(model) if r.messages[-1]["content"].startswith("Your previous reply")]
    [repair] = [r for r in repairs if "as a ConceptAnalysis" in r.messages[-1]["content"]]
    # One path: the refused answer, then structured output's correction with the attempt count.
    assert repair.messages[-2] == {"role": "assistant", "content": broken}
    assert "(Attempt 2 of 3.)" in repair.messages[-1]["content"]
    assert not any(m.get("tool_calls") or m["role"] == "tool" for m in repair.messages)
    answers_stored = [p for p in cache.rglob("*.json") if not p.stem.endswith("-rejected")]
    assert not any(broken in p.read_text() for p in answers_stored)  # never stored as an answer

    # Again on the same cache: the refused answer comes back as the refusal it was and its
    # repair from the cache, so the second run follows the first without asking the model.
    seen = len(script.requests(model))
    async with run_context(tmp_path / "second", model, index, AutoApproveGate(), cache_dir=cache) as ctx:
        assert (await BlueprintPhase().run(ctx))["errors"] == 0
    assert script.requests(model)[seen:] == [] and answers["concept"] == 1


async def test_agent_asking_for_a_missing_section(script, tmp_path) -> None:
    index = make_index()
    sim = SimulatedAgents(index)

    def responder(req):
        if agent_of(req) == "concept" and "tools" in req.params:
            done = tool_results(req)
            if not done:
                return ScriptedReply(
                    tool_calls=[
                        ToolCall(id="c0", name="read_section", arguments='{"name": "9 Quantum Appendix"}')
                    ]
                )
            if len(done) == 1:
                return ScriptedReply(
                    tool_calls=[ToolCall(id="c1", name="read_section", arguments='{"name": "2.2"}')]
                )
            return json.dumps({"components": [{"name": "training"}]})
        return sim(req)

    model = script(responder)
    async with run_context(tmp_path, model, index, AutoApproveGate()) as ctx:
        await BlueprintPhase().run(ctx)
        reads = [(e.agent, e.section_id) for e in events_of(ctx, "section_read")]
        logs = [e.message for e in events_of(ctx, "log") if e.level == "warning"]
    concept_reqs = [r for r in script.requests(model) if agent_of(r) == "concept"]
    first_result = tool_results(concept_reqs[1])[0]
    assert "No section matches '9 Quantum Appendix'" in first_result and "2 Method" in first_result
    assert ("concept", "s2-2") in reads and all(sid != "" for _, sid in reads)
    assert any("9 Quantum Appendix" in m and "do not exist" in m for m in logs)
    analyses = json.loads((ctx.run_dir / "blueprint" / "analyses.json").read_text())
    assert analyses["missing_sections"] == {"concept": ["9 Quantum Appendix"]}


def cyclic_plan() -> str:
    data = blueprint_dict()
    data["file_hierarchy"][0]["dependencies"] = ["src/train.py"]  # config -> train -> config
    return json.dumps(data)


async def test_dependency_cycle_is_sent_back_then_reported(script, tmp_path) -> None:
    index = make_index()
    sim = SimulatedAgents(index)

    def responder(req):
        return cyclic_plan() if agent_of(req) == "planner" else sim(req)

    model = script(responder)
    async with run_context(tmp_path, model, index, AutoApproveGate()) as ctx:
        summary = await BlueprintPhase().run(ctx)
        planners = planner_requests(script.requests(model))
        assert len(planners) == 3  # the plan, then two fix rounds
        assert (
            "dependency cycle: src/config.py -> src/train.py -> src/config.py"
            in planners[1].messages[-1]["content"]
        )
        assert summary["errors"] >= 1
        text = BlueprintVersions(ctx.run_dir).text("v1")
        cycle = [e for e in validate_yaml(text) if "dependency cycle" in e.message]
        dep_line = next(i for i, line in enumerate(text.splitlines(), 1) if line.strip() == "- src/train.py")
        assert cycle and cycle[0].line == dep_line
        assert any("dependency cycle" in e.message for e in events_of(ctx, "log"))
        with pytest.raises(DeepcodeError, match="cannot be approved") as info:
            await ApprovalPhase().run(ctx)
        assert f"line {dep_line}" in info.value.message
        assert "edit" not in info.value.fix  # --yes: nobody looked at the plan, so no advice to edit it
        assert BlueprintVersions(ctx.run_dir).approved_version() is None


async def test_a_fixed_cycle_gives_a_clean_v1(script, tmp_path) -> None:
    index = make_index()
    sim = SimulatedAgents(index)

    def responder(req):
        if agent_of(req) == "planner":
            fixing = "dependency cycle" in str(req.messages[-1]["content"])
            return json.dumps(blueprint_dict()) if fixing else cyclic_plan()
        return sim(req)

    model = script(responder)
    async with run_context(tmp_path, model, index, AutoApproveGate()) as ctx:
        summary = await BlueprintPhase().run(ctx)
    assert summary["errors"] == 0 and summary["version"] == "v1"


async def test_broken_human_edit_is_rejected_with_its_line(script, tmp_path) -> None:
    index = make_index()
    model = script(SimulatedAgents(index))
    text_holder: dict[str, str] = {}

    class EditingGate(RecordingGate):
        async def request(self, req):
            if not text_holder:
                text_holder["v1"] = pathlib.Path(req.artifact).read_text()
                v1 = text_holder["v1"]
                broken = v1.replace(
                    "    purpose: training and evaluation loop\n",
                    "    purpose: training and evaluation loop\n    priority: soon\n",
                )
                valid = v1.replace(
                    "  - path: src/train.py", "  # the human split training out\n  - path: src/train.py"
                )
                self.decisions = [
                    GateDecision(decision="edit", edited_text=broken),
                    GateDecision(decision="edit", edited_text=valid),
                ]
                text_holder["broken"], text_holder["valid"] = broken, valid
            return await super().request(req)

    gate = EditingGate([])
    async with run_context(tmp_path, model, index, gate) as ctx:
        await BlueprintPhase().run(ctx)
        result = await ApprovalPhase().run(ctx)
        errors_logged = [e.message for e in events_of(ctx, "log") if e.level == "error"]
    broken = text_holder["broken"]
    bad_line = next(i for i, line in enumerate(broken.splitlines(), 1) if "priority: soon" in line)
    assert len(gate.requests) == 2
    assert "Your edit was not accepted" in gate.requests[1].prompt
    assert f"line {bad_line}:" in gate.requests[1].prompt
    assert any(f"line {bad_line}" in m for m in errors_logged)
    versions = BlueprintVersions(ctx.run_dir)
    assert result["approved"] == "v2" and versions.list() == ["v1", "v2"]
    assert "# the human split training out" in (versions.dir / "approved.yaml").read_text()


async def test_reject_with_feedback_produces_v2(script, tmp_path) -> None:
    index = make_index()
    sim = SimulatedAgents(index)
    feedback = "Add src/evaluate.py that computes BLEU on the test set."

    def responder(req):
        if agent_of(req) == "planner" and "rejected it with this feedback" in str(
            req.messages[-1]["content"]
        ):
            data = blueprint_dict()
            data["file_hierarchy"].append(
                {
                    "path": "src/evaluate.py",
                    "purpose": "BLEU on the test set",
                    "dependencies": ["src/model.py"],
                    "stage": 2,
                }
            )
            data["components"].append(
                {
                    "file": "src/evaluate.py",
                    "functions": [{"name": "evaluate", "signature": "def evaluate(model) -> float"}],
                }
            )
            data["stages"][1]["files"].append("src/evaluate.py")
            return json.dumps(data)
        if agent_of(req) == "planner":
            return json.dumps(blueprint_dict())
        return sim(req)

    model = script(responder)
    gate = RecordingGate(
        [
            GateDecision(decision="reject", feedback=""),
            GateDecision(decision="reject", feedback=feedback),
            GateDecision(decision="approve"),
        ]
    )
    async with run_context(tmp_path, model, index, gate) as ctx:
        await BlueprintPhase().run(ctx)
        result = await ApprovalPhase().run(ctx)
        resolved = [e.decision for e in events_of(ctx, "gate_resolved")]
        saved = [e.version for e in events_of(ctx, "blueprint_saved")]
    revise = [
        r for r in planner_requests(script.requests(model)) if feedback in str(r.messages[-1]["content"])
    ]
    assert revise and "src/config.py" in revise[0].messages[-1]["content"]  # the current plan goes with it
    assert "needs feedback" in gate.requests[1].prompt
    assert "Approve blueprint v2 (8 files)" in gate.requests[2].prompt  # 6 planned + README.md, reproduce.sh
    assert resolved == ["reject", "reject", "approve"] and saved == ["v1", "v2"]
    versions = BlueprintVersions(ctx.run_dir)
    assert result == {"approved": "v2", "files": 8, "revisions": 1}
    assert "+  - path: src/evaluate.py" in versions.diff("v1", "v2")
    assert versions.load("approved").file("src/evaluate.py") is not None


async def test_requirement_document_takes_the_same_road(script, tmp_path) -> None:
    from deepcode_tui.ingest.models import DocumentIndex, Section

    text = (
        "Build a URL shortener. Backend: a REST API with POST /links and GET /{code}. "
        "Frontend: one page with a form. Configuration through environment variables."
    )
    index = DocumentIndex(
        source_path="req.md",
        format="requirement",
        title="URL shortener",
        sections=[Section(id="r1", title="Requirement", text=text, token_count=40)],
        total_tokens=40,
    )
    plan = blueprint_dict()

    def responder(req):
        agent = agent_of(req)
        if agent == "intent":
            assert "tools" not in req.params and "POST /links" in req.messages[-1]["content"]
            return json.dumps(
                {
                    "goal": "URL shortener",
                    "components": [
                        {"name": "api", "layer": "backend", "interfaces": ["POST /links", "GET /{code}"]},
                        {"name": "page", "layer": "frontend"},
                        {"name": "settings", "layer": "config"},
                    ],
                }
            )
        assert agent == "planner" and "Intent analysis" in req.messages[1]["content"]
        return json.dumps(plan)

    model = script(responder)
    async with run_context(tmp_path, model, index, AutoApproveGate()) as ctx:
        await BlueprintPhase().run(ctx)
        reads = [(e.agent, e.section_id) for e in events_of(ctx, "section_read")]
        bp = BlueprintVersions(ctx.run_dir).load("v1")
    assert bp.source_kind == "requirement" and reads == [("intent", "r1")]
    analyses = json.loads((ctx.run_dir / "blueprint" / "analyses.json").read_text())
    assert analyses["kind"] == "requirement" and analyses["intent"]["components"][0]["layer"] == "backend"


async def test_rerun_after_a_crash_keeps_the_saved_version(script, tmp_path) -> None:
    index = make_index()
    model = script([])  # any model call would fail: the script has no replies
    async with run_context(tmp_path, model, index, AutoApproveGate()) as ctx:
        BlueprintVersions(ctx.run_dir).save(
            dump_blueprint_yaml(
                __import__("tests.blueprint.helpers", fromlist=["make_blueprint"]).make_blueprint()
            )
        )
        summary = await BlueprintPhase().run(ctx)
    assert summary["version"] == "v1" and script.requests(model) == []


async def test_models_without_native_tools_read_through_the_action_protocol(script, tmp_path) -> None:
    index = make_index()

    def responder(req):
        agent = agent_of(req)
        if agent == "planner":
            return json.dumps(blueprint_dict())
        assert "tools" not in req.params
        if not any(str(m.get("content", "")).startswith("Result of") for m in req.messages):
            section = "2.1" if agent == "algorithm" else "Experiments"
            return json.dumps({"tool": "read_section", "args": {"name": section}})
        final = {"hyperparameters": [{"name": "d_model", "value": "512"}]} if agent == "algorithm" else {}
        return json.dumps({"final": final})

    model = script(responder, supports_tools=False)
    async with run_context(tmp_path, model, index, AutoApproveGate()) as ctx:
        summary = await BlueprintPhase().run(ctx)
        reads = sorted((e.agent, e.section_id) for e in events_of(ctx, "section_read"))
    assert reads == [("algorithm", "s2-1"), ("concept", "s3")] and summary["errors"] == 0
    analyses = json.loads((ctx.run_dir / "blueprint" / "analyses.json").read_text())
    assert analyses["algorithm"]["hyperparameters"] == [{"name": "d_model", "value": "512", "section": ""}]
