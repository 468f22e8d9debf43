"""Open questions: raised by the analysts, shown at the gate, settled by the human
(or by --yes, or by an addendum), and carried into what the coder and the README see."""

from __future__ import annotations

from typing import Any

from deepcode_tui.blueprint.adapt import blueprint_to_codegen_plan
from deepcode_tui.blueprint.coverage import coverage_report
from deepcode_tui.blueprint.phase import ApprovalPhase, BlueprintPhase
from deepcode_tui.blueprint.questions import OpenQuestion, answer_from_addendum, merge_questions
from deepcode_tui.blueprint.simulate import SimulatedAgents
from deepcode_tui.blueprint.versions import BlueprintVersions
from deepcode_tui.gates import GateDecision
from deepcode_tui.ingest.addendum import attach_addendum
from deepcode_tui.pipeline.gate import AutoApproveGate
from tests.blueprint.conftest import RecordingGate, run_context
from tests.blueprint.helpers import make_index

OPTIMISER_Q = {"question": "Which optimizer and momentum does training use?", "affects": ["src/train.py", "train"],
               "proposed_answer": "Adam with betas (0.9, 0.999)", "basis": "practice",
               "basis_detail": "common default for this model family", "confidence": 0.4}
SEED_Q = {"question": "Which random seed initialises the model weights?", "affects": ["src/model.py"],
          "proposed_answer": "seed 0 for every run", "basis": "practice", "confidence": "low"}


class QuestioningAgents(SimulatedAgents):
    """The simulated agents, with analysts that raise open questions (and a planner that
    drops them, so the merge is what brings them to the gate)."""

    def concept(self, results: list[str]) -> dict[str, Any]:
        return {**super().concept(results), "open_questions": [SEED_Q]}

    def algorithm(self, results: list[str]) -> dict[str, Any]:
        out = super().algorithm(results)
        return {**out, "open_questions": [OPTIMISER_Q, {**SEED_Q, "question": "What random seed initialises "
                                                                             "the model weights?"}]}


async def _plan(tmp_path, script, index, gate):
    model = script(QuestioningAgents(index))
    async with run_context(tmp_path, model, index, gate) as ctx:
        await BlueprintPhase().run(ctx)
        result = await ApprovalPhase().run(ctx)
        versions = BlueprintVersions(ctx.run_dir)
        events = list(ctx.seen)
        return result, versions.load("approved"), events, ctx.run_dir


async def test_questions_reach_the_gate_and_answers_reach_the_coder_and_readme(tmp_path, script):
    index = make_index()
    gate = RecordingGate([GateDecision(decision="approve", answers={"q1": "seed 1234", "q2": ""})])
    _, bp, _, run_dir = await _plan(tmp_path, script, index, gate)
    req = gate.requests[0]
    # Two analysts asked the same seed question in other words: it reaches the gate once.
    assert [q["question"] for q in req.questions] == [SEED_Q["question"], OPTIMISER_Q["question"]]
    assert "Open questions (2 of 2 unanswered" in req.prompt and "Adam with betas" in req.prompt
    seed, optimiser = bp.open_questions
    assert (seed.status, seed.answer, seed.answered_by) == ("answered", "seed 1234", "human")
    assert (optimiser.status, optimiser.answer) == ("accepted", OPTIMISER_Q["proposed_answer"])
    assert (run_dir / "blueprint" / "v2.yaml").exists(), "settling the questions is a new version"
    plan = {f.path: f for f in blueprint_to_codegen_plan(bp).files}
    assert "seed 1234" in plan["src/model.py"].spec and "basis: the user" in plan["src/model.py"].spec
    assert "Adam with betas" in plan["src/train.py"].spec and "Adam" not in plan["src/config.py"].spec
    assert coverage_report(index, bp).questions_open == 0


async def test_the_coder_prompt_carries_the_answer(tmp_path):
    """Through the real CodeMem loop: the answer is in the messages the coder receives."""
    from deepcode_tui.blueprint.models import Blueprint
    from deepcode_tui.codegen.loop import generate_repository
    from tests.codegen.codegen_scripted import ScriptedCoder, fenced

    bp = Blueprint.model_validate({
        "title": "t", "file_hierarchy": [{"path": "m.py", "purpose": "the model"}, {"path": "n.py"}],
        "open_questions": [{"id": "q1", "question": "Which seed?", "affects": ["m.py"], "status": "answered",
                            "answer": "seed 1234", "answered_by": "human"}]})
    coder = ScriptedCoder({"m.py": [fenced("m.py", "SEED = 1234")], "n.py": [fenced("n.py", "N = 1")]})
    await generate_repository(blueprint_to_codegen_plan(bp), tmp_path / "repo", tmp_path / "run", coder,
                              watch=False)
    assert "seed 1234" in coder.user_message("m.py") and "basis: the user" in coder.user_message("m.py")
    assert "seed 1234" not in coder.user_message("n.py")


async def test_yes_accepts_the_proposals_and_says_so(tmp_path, script):
    _, bp, events, _ = await _plan(tmp_path, script, make_index(), AutoApproveGate())
    assert all(q.status == "accepted" and q.answered_by == "--yes" for q in bp.open_questions)
    logs = [e.message for e in events if getattr(e, "type", "") == "log"]
    assert any("without asking (--yes): q1, q2" in m for m in logs)
    # Every plan ends with the submission files, the README among them.
    spec = next(f.spec for f in blueprint_to_codegen_plan(bp).files if f.path == "README.md")
    assert "Assumptions" in spec and "seed 0 for every run (basis: common practice" in spec


async def test_leaving_a_question_open_is_counted_and_listed_in_the_readme(tmp_path, script):
    gate = RecordingGate([GateDecision(decision="approve", answers={"q1": "seed 7"})])
    index = make_index()
    _, bp, _, _ = await _plan(tmp_path, script, index, gate)
    assert coverage_report(index, bp).questions_open == 1
    assert "1/2 open questions unanswered" in coverage_report(index, bp).render()
    from deepcode_tui.blueprint.questions import assumptions_markdown

    text = assumptions_markdown(bp.open_questions)
    assert "seed 7" in text and "Left open at the gate" in text


async def test_an_addendum_answers_a_question_before_the_gate(tmp_path, script):
    addendum = ("# Addendum\n\nThe optimizer used for training is SGD with momentum 0.9; the momentum "
                "does not decay.\n\nResults in Table 2 use five runs.\n")
    index = attach_addendum(make_index(), addendum)
    assert index.section("Addendum") is not None and any(c.section_id == "addendum" for c in index.chunks)
    gate = RecordingGate([GateDecision(decision="approve")])
    _, bp, _, _ = await _plan(tmp_path, script, index, gate)
    by_id = {q["id"]: q for q in gate.requests[0].questions}
    assert by_id["q2"]["status"] == "answered" and "SGD with momentum 0.9" in by_id["q2"]["answer"]
    assert by_id["q2"]["answered_by"] == "addendum" and by_id["q1"]["status"] == "open"


def test_merge_and_addendum_rules():
    qs = merge_questions([OPTIMISER_Q], [{**OPTIMISER_Q, "affects": ["src/optim.py"]}, SEED_Q])
    assert [q.id for q in qs] == ["q1", "q2"] and qs[0].affects == ["src/train.py", "train", "src/optim.py"]
    assert qs[1].confidence == 0.2
    answered, ids = answer_from_addendum(qs, "Nothing about seeds here. We train on one GPU.")
    assert ids == [] and all(q.status == "open" for q in answered)
    edited = OpenQuestion.model_validate({"question": "x?", "proposed_answer": "y", "status": "accepted"})
    assert edited.settled and edited.answer == "y"


async def test_console_gate_asks_each_open_question(monkeypatch):
    from deepcode_tui.gates import GateRequest
    from deepcode_tui.pipeline.gate import ConsoleGate

    typed = iter(["seed 42", "-", "", "a"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(typed))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    questions = [{"id": f"q{i}", "question": f"Question {i}?", "proposed_answer": "p", "status": "open"}
                 for i in (1, 2, 3)]
    decision = await ConsoleGate().request(GateRequest(gate="blueprint", prompt="Approve?", questions=questions))
    assert decision.decision == "approve" and decision.answers == {"q1": "seed 42", "q3": ""}
