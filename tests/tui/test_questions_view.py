"""Pilot test: the human answers an open question at the gate, accepts another's
proposal, and approves; the approved blueprint carries both."""

from __future__ import annotations

from deepcode_tui.blueprint.yaml_io import load_blueprint_yaml
from tests.tui import scripted
from tests.tui.scripted import Script
from tests.tui.waiting import wait_for

SIZE = (100, 32)
QUESTIONS = [
    {"question": "Which warm-up length does the detector use before it flags anomalies?",
     "affects": ["ema/detector.py"], "proposed_answer": "no warm-up", "basis": "practice", "confidence": 0.3},
    {"question": "How are ties at exactly tau standard deviations treated?", "affects": ["ema/detector.py"],
     "proposed_answer": "not anomalous (strict inequality)", "basis": "document", "basis_detail": "2.2",
     "confidence": 0.6},
]


async def test_answer_and_accept_open_questions_then_approve(make_app, paper, monkeypatch):
    monkeypatch.setattr(scripted, "BLUEPRINT_DATA", {**scripted.BLUEPRINT_DATA, "open_questions": QUESTIONS})
    app, _ = make_app(doc=paper, script=Script(iterations=1))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the blueprint gate")
        main = app.main
        main.action_show_questions()  # what the palette's "blueprint: questions" runs
        view = main.blueprint.questions
        await wait_for(pilot, lambda: len(view.questions) == 2, what="the questions")
        await pilot.press("enter")  # the highlighted (first) question: into the answer box
        await pilot.press(*"10", "space", *"samples", "enter")
        assert view.answers == {"q1": "10 samples"}
        await pilot.press("down", "p")  # accept the second question's proposal
        assert view.answers == {"q1": "10 samples", "q2": ""}
        await pilot.press("a")  # approve, with the answers
        approved = app.session.run_dir / "blueprint" / "approved.yaml"
        await wait_for(pilot, approved.is_file, what="the approval", timeout=30)
        q1, q2 = load_blueprint_yaml(approved.read_text()).open_questions
        assert (q1.status, q1.answer, q1.answered_by) == ("answered", "10 samples", "human")
        assert (q2.status, q2.answer) == ("accepted", "not anomalous (strict inequality)")

