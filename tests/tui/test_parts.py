"""The app's plain parts: state folding, steering, stepping, proposals, adapters, themes, keys."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deepcode_tui.errors import ConfigError
from deepcode_tui.events.models import (
    FileStarted,
    FileWritten,
    FindingReported,
    GateOpened,
    GateResolved,
    IterationStarted,
    LLMCallStarted,
    PatchDecision,
    PhaseStarted,
    RunCreated,
    RunFinished,
    SectionRead,
    TokenStreamed,
)
from deepcode_tui.tui import adapters, proposals
from deepcode_tui.tui.keys import BINDING_IDS, check_keymap
from deepcode_tui.tui.state import RunState
from deepcode_tui.tui.steering import Steering
from deepcode_tui.tui.stepper import PatchStepper
from deepcode_tui.tui.themes import builtin_themes, discover_themes, parse_theme
from deepcode_tui.tui.widgets.path_input import complete_path
from tests.tui.scripted import CODE, blueprint_v1, proposal_for

ROOT = Path(__file__).resolve().parents[2]


# -- state --------------------------------------------------------------------------


def test_state_folds_a_run():
    s = RunState()
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    s.apply(RunCreated(run_id="r1", input_path="/x/paper.md", ts=t0))
    s.apply(PhaseStarted(phase="codegen", ts=t0))
    s.apply(SectionRead(agent="concept", section_id="s1"))
    s.apply(SectionRead(agent="concept", section_id="s1"))
    s.apply(FileStarted(path="a.py", context_tokens={"blueprint": 10, "memory": 2, "retrieval": 0}))
    s.apply(LLMCallStarted(call_id="c1", role="coder", model="m/coder"))
    s.apply(TokenStreamed(call_id="c1", role="coder", text="print("))
    s.apply(TokenStreamed(call_id="c1", role="coder", text="1)\n"))
    assert (s.files["a.py"].status, s.files["a.py"].text, s.current_file) == ("writing", "print(1)\n", "a.py")
    s.apply(FileWritten(path="a.py", bytes=9))
    s.apply(IterationStarted(iteration=1))
    s.apply(FindingReported(stage="sandbox", kind="exception", message="boom"))
    s.apply(PatchDecision(iteration=1, decision="skip"))
    s.apply(GateOpened(gate="blueprint", prompt="ok?"))
    assert s.status == "waiting" and s.gate is not None
    s.apply(GateResolved(gate="blueprint", decision="approve"))
    s.apply(RunFinished(status="stopped", ts=t0 + timedelta(seconds=83)))
    assert s.sections_read == {"s1": ["concept"]}
    assert s.files["a.py"].status == "done" and s.models == {"coder": "m/coder"}
    assert s.iterations[1].findings[0].message == "boom" and s.iterations[1].decision == "skip"
    assert (s.status, s.gate, s.phase_position()) == ("stopped", None, "codegen 4/6")
    assert s.elapsed_s(t0 + timedelta(hours=5)) == 83


def test_a_stop_mid_file_leaves_it_pending_and_other_streams_go_to_the_live_text():
    s = RunState()
    s.apply(FileStarted(path="a.py"))
    s.apply(LLMCallStarted(call_id="p", role="planner", model="m"))
    s.apply(TokenStreamed(call_id="p", role="planner", text="plan"))
    s.apply(RunFinished(status="stopped"))
    assert s.files["a.py"].status == "pending" and s.live_text == "plan" and s.live_role == "planner"


# -- steering and stepping -----------------------------------------------------------


async def test_steering_holds_the_coder_at_a_boundary_until_an_amendment():
    paused: list[bool] = []
    steering = Steering(on_paused=lambda: paused.append(True))
    assert await steering.should_pause() is None  # no pause asked: returns at once
    steering.request_pause()
    waiter = asyncio.create_task(steering.should_pause())
    await asyncio.sleep(0.01)
    assert steering.holding and paused == [True] and not waiter.done()

    class Amended:
        plan = "the amended plan"

    steering.submit(Amended())
    await asyncio.sleep(0.01)
    assert not waiter.done()  # an amendment alone does not resume a paused coder
    steering.resume()
    assert (await asyncio.wait_for(waiter, 1)).plan == "the amended plan"
    assert not steering.holding and steering.amendments.empty()


async def test_stepper_waits_for_the_human_and_parses_an_edited_proposal(tmp_path):
    (tmp_path / "ema").mkdir()
    (tmp_path / "ema" / "detector.py").write_text(CODE["ema/detector.py"])
    waiting = []
    stepper = PatchStepper(enabled=True, repo_dir=tmp_path, on_waiting=waiting.append)
    task = asyncio.create_task(stepper(1, proposal_for(1)))
    await asyncio.sleep(0.05)
    assert waiting and "+        return abs(x - self.mean) / math.sqrt(self.var + 1e-8)" in waiting[0].diff
    with pytest.raises(ValueError, match="REPLACE"):
        stepper.decide("edit", "=== EDIT ema/detector.py\n<<<<<<< SEARCH\nx\n=======\ny\n")
    edited = proposals.to_text(waiting[0].proposal).replace("1e-8)", "1e-5)")
    assert stepper.decide("edit", edited)
    decision = await asyncio.wait_for(task, 1)
    assert decision.action == "edit" and decision.edited_proposal.edits[0].replace == "1e-5)"
    assert decision.edited_proposal.rationale == proposal_for(1).rationale
    assert stepper.pending is None and not stepper.decide("apply")
    stepper.enabled = False
    assert (await stepper(2, proposal_for(2))).action == "apply"  # stepping off: never blocks


def test_proposal_text_round_trips_exactly():
    from deepcode_tui.verify.patches import Edit, FileRewrite
    from deepcode_tui.verify.repair import RepairProposal

    p = RepairProposal(
        edits=[
            Edit(path="a.py", search="x = 1", replace="x = 2\n"),
            Edit(path="b.py", search="", replace="new"),
        ],
        rewrites=[FileRewrite(path="c.py", content="print('c')\n\n")],
        smoke_tests={"tests/test_s.py": "def test_s():\n    pass"},
    )
    back = proposals.from_text(proposals.to_text(p), p)
    assert back.model_dump() == p.model_dump()
    with pytest.raises(ValueError, match="changes nothing"):
        proposals.from_text("# only comments\n", RepairProposal())
    with pytest.raises(ValueError, match="line 1"):
        proposals.from_text("stray text\n=== EDIT a.py\n", p)


# -- adapters -------------------------------------------------------------------------


def test_blueprint_validation_points_at_the_line_and_the_plan_lists_files():
    text = blueprint_v1()
    assert all(p.severity == "warning" for p in adapters.validate_blueprint(text))
    lines = text.splitlines()
    row = lines.index("  - path: ema/cli.py")
    bad = "\n".join(lines[: row + 1] + ["    colour: blue"] + lines[row + 1 :])
    errors = [p for p in adapters.validate_blueprint(bad) if p.severity == "error"]
    assert [(e.line, "colour" in e.message) for e in errors] == [(row + 2, True)]
    assert adapters.planned_files(text) == ["ema/detector.py", "ema/__init__.py", "ema/cli.py",
                                            "tests/test_detector.py"]  # fmt: skip
    assert adapters.planned_files("files: [") == []


def test_memory_entries_are_read_without_touching_a_torn_tail(tmp_path):
    from deepcode_tui.codegen.memory import MemoryStore, extract_entry

    store = MemoryStore(tmp_path, durable=False)
    store.append(extract_entry("ema/detector.py", CODE["ema/detector.py"], project_files=["ema/detector.py"]))
    path = tmp_path / "memory" / "entries.jsonl"
    with open(path, "a") as fh:
        fh.write('{"path": "ema/cli.py", "purp')  # a coder mid-append
    before = path.read_bytes()
    entries = adapters.read_memory_entries(tmp_path)
    assert list(entries) == ["ema/detector.py"] and path.read_bytes() == before
    assert "class EmaDetector" in adapters.memory_text(tmp_path, "ema/detector.py")


def test_repo_files_outside_the_repo_are_refused(tmp_path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "secret.txt").write_text("no")
    (tmp_path / "repo" / "a.py").write_text("yes")
    assert adapters.read_repo_file(tmp_path / "repo", "a.py") == "yes"
    assert adapters.read_repo_file(tmp_path / "repo", "../secret.txt") is None


def test_iteration_artifacts_and_resumability(tmp_path):
    folder = tmp_path / "iterations" / "002"
    folder.mkdir(parents=True)
    (folder / "patch.diff").write_text("--- a\n+++ b\n")
    (folder / "findings.json").write_text(json.dumps([{"file": "a.py", "line": 3, "message": "m"}]))
    art = adapters.read_iteration(tmp_path, 2)
    assert art.patch.startswith("---") and art.findings[0]["line"] == 3
    (tmp_path / "events.jsonl").write_text(json.dumps({"type": "phase_completed", "phase": "codegen"}) + "\n")
    assert adapters.resumable(tmp_path, "stopped") and not adapters.resumable(tmp_path, "running")


def test_model_check_says_when_only_the_embedded_model_is_there(make_loaded, monkeypatch):
    rows = adapters.model_check(make_loaded())
    assert rows and not any(r.real for r in rows)
    monkeypatch.setenv("DEEPCODE_MODELS__CODER", "openai/gpt-4o-mini")
    rows = {r.role: r for r in adapters.model_check(make_loaded())}
    assert rows["coder"].real and rows["coder"].model == "openai/gpt-4o-mini" and not rows["planner"].real


# -- themes, keys, paths ----------------------------------------------------------------


def test_shipped_themes_load_and_match_the_repository_copies():
    themes = builtin_themes()
    assert {"deepcode-dark", "deepcode-light"} <= set(themes)
    assert themes["deepcode-dark"].theme.dark and not themes["deepcode-light"].theme.dark
    for name in ("deepcode-dark", "deepcode-light"):
        packaged = ROOT / "deepcode_tui" / "tui" / "themes" / f"{name}.tcss"
        assert (ROOT / "themes" / f"{name}.tcss").read_text() == packaged.read_text()


def test_user_themes_are_read_and_bad_ones_reported(tmp_path):
    (tmp_path / "mine.tcss").write_text("$primary: #ff8800;\n$dark: false;\n$my-accent: #123456;\n")
    (tmp_path / "broken.tcss").write_text("$primary: nonsense;\n")
    specs, problems = discover_themes(tmp_path)
    assert (
        specs["mine"].theme.primary == "#ff8800" and specs["mine"].theme.variables["my-accent"] == "#123456"
    )
    assert "broken" not in specs and "not a colour" in problems[0]
    with pytest.raises(ConfigError, match="undefined variable"):
        parse_theme("x", "$primary: #fff;\nRunHeader { color: $nope; }")


def test_keymap_applies_known_ids_and_reports_unknown_ones():
    keymap, problems = check_keymap({"run.stop": "ctrl+x", "view.paper": "f1, 1", "run.sotp": "x"})
    assert keymap == {"run.stop": "ctrl+x", "view.paper": "f1,1"}
    assert "run.sotp" in problems[0] and "run.stop" in problems[0]
    assert len(BINDING_IDS) == len(set(BINDING_IDS))


def test_path_completion_prefers_documents_and_marks_directories(tmp_path):
    (tmp_path / "papers").mkdir()
    (tmp_path / "paper.pdf").write_text("x")
    (tmp_path / "pap.bin").write_text("x")
    (tmp_path / ".hidden.md").write_text("x")
    assert complete_path("pa", tmp_path) == "paper.pdf"
    assert complete_path("paperz", tmp_path) is None
    assert complete_path(str(tmp_path / "papers")[:-1], tmp_path) == str(tmp_path / "paper.pdf")
    assert complete_path(str(tmp_path) + "/papers", tmp_path) == str(tmp_path) + "/papers/"
    assert complete_path(".h", tmp_path) == ".hidden.md" and complete_path("", tmp_path) is None
