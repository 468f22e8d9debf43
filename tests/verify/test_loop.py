"""The repair loop with scripted repairers, on the weak subprocess backend
(fast and offline; the loop's logic does not depend on the backend)."""

from __future__ import annotations

import json

import pytest

from deepcode_tui.verify import (
    Decision,
    Edit,
    FileRewrite,
    IterationCursor,
    IterationStore,
    LoopConfig,
    RepairLoop,
    RepairProposal,
    RepairRequest,
    VerifyCommand,
)
from deepcode_tui.verify.findings import Finding, Kind
from deepcode_tui.verify.sandbox import SubprocessBackend

CALC = "def last_index(items):\n    return len(items)\n"
TEST = (
    "import unittest\n\nfrom calc import last_index\n\n\n"
    "class T(unittest.TestCase):\n    def test_last(self):\n        self.assertEqual(last_index([1, 2, 3]), 2)\n"
)
UNITTEST = VerifyCommand(name="unit tests", argv=["python", "-m", "unittest", "discover", "-s", "tests", "-t", "."],
                         timeout_s=60, kind="test")
FIX = Edit(path="calc.py", search="return len(items)", replace="return len(items) - 1")


class Scripted:
    """Returns canned proposals in order and records every request."""

    def __init__(self, *proposals: RepairProposal) -> None:
        self.proposals = list(proposals)
        self.requests: list[RepairRequest] = []

    async def propose(self, request: RepairRequest) -> RepairProposal:
        self.requests.append(request)
        return self.proposals.pop(0) if self.proposals else RepairProposal()


@pytest.fixture
def calc_repo(make_repo):
    return make_repo({"calc.py": CALC, "tests/__init__.py": "", "tests/test_calc.py": TEST})


def make_loop(repo, run_dir, repairer, **kw):
    kw.setdefault("commands", [UNITTEST])
    return RepairLoop(repo, run_dir, repairer=repairer, backend=SubprocessBackend(allow_weak=True),
                      expected_files=["calc.py"], declared_packages=[], **kw)


async def test_patch_fixes_failure_and_every_iteration_is_recorded(calc_repo, tmp_path):
    events = []

    async def emit(e):
        events.append(e)

    repairer = Scripted(RepairProposal(edits=[FIX], rationale="off by one", prompt_tokens=100,
                                       completion_tokens=20, cost_usd=0.003))
    memory = {"calc.py": {"purpose": "list helpers", "interface": ["last_index(items)"]}}
    loop = make_loop(calc_repo, tmp_path / "run", repairer, emit=emit, memory=memory)
    result = await loop.run()
    assert result.passed and result.stopped == "passed" and result.iterations == 2
    assert result.tokens == 120 and result.cost_usd == pytest.approx(0.003)
    [req] = repairer.requests
    assert req.mode == "patch" and req.iteration == 1
    failure = next(f for f in req.findings if f.severity == "error")
    assert (failure.file, failure.line) == ("tests/test_calc.py", 8)
    assert "AssertionError: 3 != 2" in failure.message
    assert "calc.py" in req.files and "tests/test_calc.py" in req.files
    assert "AssertionError" in req.trace_excerpt
    assert req.memory_entries == [memory["calc.py"]]  # the code under test is implicated
    it1 = tmp_path / "run" / "iterations" / "001"
    assert {p.name for p in it1.iterdir()} >= {"trace.txt", "findings.json", "patch.diff", "result.json"}
    res1 = json.loads((it1 / "result.json").read_text())
    assert res1["status"] == "patched" and res1["tokens"] == 120 and res1["cost_usd"] == 0.003
    assert res1["changed_files"] == ["calc.py"] and res1["commands"][0]["exit_code"] == 1
    assert "+    return len(items) - 1" in (it1 / "patch.diff").read_text()
    assert "AssertionError" in (it1 / "trace.txt").read_text()
    res2 = json.loads((tmp_path / "run/iterations/002/result.json").read_text())
    assert res2["passed"] and res2["status"] == "passed"
    types = [e["type"] for e in events]
    for t in ("iteration_started", "findings", "sandbox_run", "patch_applied", "iteration_finished"):
        assert t in types
    assert (calc_repo / "calc.py").read_text() == "def last_index(items):\n    return len(items) - 1\n"


async def test_no_progress_escalates_to_rewrite_then_amendment(calc_repo, tmp_path):
    useless = RepairProposal(edits=[Edit(path="calc.py", search="def last_index(items):",
                                         replace="def last_index(items):  # checked")])
    rewrite = RepairProposal(rewrites=[FileRewrite(path="calc.py", content=CALC + "\n# rewritten\n")])
    amend = RepairProposal(blueprint_amendment="last_index should return the last valid index; tests agree")
    repairer = Scripted(useless, rewrite, amend)
    asked = []

    async def approve(text):
        asked.append(text)
        return False

    events = []

    async def emit(e):
        events.append(e)

    result = await make_loop(calc_repo, tmp_path / "run", repairer, approve_amendment=approve, emit=emit).run()
    assert [r.mode for r in repairer.requests] == ["patch", "rewrite", "amendment"]
    assert repairer.requests[1].target_files == ["tests/test_calc.py"]
    assert result.stopped == "amendment_rejected" and not result.passed
    assert result.amendment == amend.blueprint_amendment and asked == [amend.blueprint_amendment]
    assert [e["level"] for e in events if e["type"] == "escalated"] == ["rewrite", "amendment"]
    assert any(e["type"] == "amendment_proposed" for e in events)
    modes = [r.mode for r in IterationStore(tmp_path / "run").list()]
    assert modes == ["patch", "rewrite", "amendment"]
    assert "# rewritten" in (calc_repo / "calc.py").read_text()


async def test_amendment_without_approver_is_left_pending(calc_repo, tmp_path):
    same = RepairProposal(edits=[Edit(path="calc.py", search="(items)", replace="(items)")])
    repairer = Scripted(same, same, RepairProposal(blueprint_amendment="change the spec"))
    result = await make_loop(calc_repo, tmp_path / "run", repairer).run()
    assert result.stopped == "amendment_pending" and result.amendment == "change the spec"


async def test_rewrites_are_ignored_unless_asked_and_bad_paths_rejected(calc_repo, tmp_path):
    sneaky = RepairProposal(
        rewrites=[FileRewrite(path="calc.py", content="def last_index(items):\n    return len(items) - 1\n")],
        edits=[Edit(path="../escape.py", search="", replace="x = 1\n")],
    )
    loop = make_loop(calc_repo, tmp_path / "run", Scripted(sneaky), config=LoopConfig(max_iterations=1))
    result = await loop.run()
    assert not result.passed and result.stopped == "cap" and result.iterations == 2
    rec = IterationStore(tmp_path / "run").load(1)
    assert rec.result.status == "rejected"
    assert any("not asked for" in n for n in rec.result.notes)
    assert "leaves the repository" in rec.result.rejected_edits[0]["reason"]
    assert not (tmp_path / "escape.py").exists()
    assert (calc_repo / "calc.py").read_text() == CALC


async def test_step_hook_can_skip_then_edit_a_proposal(calc_repo, tmp_path):
    wrong = RepairProposal(edits=[Edit(path="calc.py", search="return len(items)", replace="return 0")])
    decisions = iter([
        Decision(action="skip"),
        Decision(action="edit", edited_proposal=RepairProposal(edits=[FIX])),
    ])
    seen = []

    async def hook(iteration, proposal):
        seen.append((iteration, proposal.edits[0].replace))
        return next(decisions)

    result = await make_loop(calc_repo, tmp_path / "run", Scripted(wrong, wrong), step_hook=hook).run()
    assert result.passed and seen == [(1, "return 0"), (2, "return 0")]
    results = IterationStore(tmp_path / "run").list()
    assert [(r.status, r.decision) for r in results] == [("skipped", "skip"), ("patched", "edit"), ("passed", None)]


async def test_cursor_moves_back_and_forth_over_iterations(calc_repo, tmp_path):
    await make_loop(calc_repo, tmp_path / "run", Scripted(RepairProposal(edits=[FIX]))).run()
    cursor = IterationCursor(IterationStore(tmp_path / "run"))
    assert cursor.position == 2 and cursor.current().result.passed
    back = cursor.back()
    assert back.result.iteration == 1 and back.diff and back.findings
    assert cursor.back().result.iteration == 1  # stays at the first
    assert cursor.forward().result.iteration == 2
    assert cursor.go(1).proposal.edits == [FIX]


async def test_syntax_error_skips_sandbox_and_static_findings_reach_repairer(make_repo, tmp_path):
    repo = make_repo({"calc.py": "def last_index(items:\n    return len(items) - 1\n", "tests/__init__.py": "",
                      "tests/test_calc.py": TEST})
    fix = Edit(path="calc.py", search="def last_index(items:", replace="def last_index(items):")
    repairer = Scripted(RepairProposal(edits=[fix]))
    result = await make_loop(repo, tmp_path / "run", repairer).run()
    assert result.passed
    [req] = repairer.requests
    assert [(f.file, f.line, f.kind, f.stage) for f in req.findings if f.severity == "error"] == [
        ("calc.py", 1, Kind.SYNTAX_ERROR, "static")]
    first = IterationStore(tmp_path / "run").load_result(1)
    assert first.commands == [] and "sandbox skipped" in first.notes[0]


async def test_repo_without_tests_gets_smoke_tests_first(make_repo, tmp_path):
    repo = make_repo({"calc.py": CALC})
    smoke = RepairProposal(smoke_tests={"tests/__init__.py": "", "tests/test_smoke.py": TEST})
    repairer = Scripted(smoke, RepairProposal(edits=[FIX]))
    loop = make_loop(repo, tmp_path / "run", repairer, commands=None, config=LoopConfig(test_argv=UNITTEST.argv))
    result = await loop.run()
    assert repairer.requests[0].mode == "smoke_tests" and "calc.py" in repairer.requests[0].files
    assert (repo / "tests/test_smoke.py").exists()
    assert result.passed
    results = IterationStore(tmp_path / "run").list()
    assert results[0].iteration == 0 and results[0].status == "smoke_tests"
    assert results[1].commands[0].argv == UNITTEST.argv


async def test_no_repairer_reports_findings_and_stops(calc_repo, tmp_path):
    result = await make_loop(calc_repo, tmp_path / "run", None).run()
    assert not result.passed and result.stopped == "cap" and result.iterations == 1
    assert any(f.kind == Kind.TEST_FAILURE for f in result.findings)


async def test_nothing_ran_is_not_a_pass(make_repo, tmp_path):
    # A library file with no tests, no entry point and no command: the old loop
    # reported "passed" because no command failed.
    repo = make_repo({"lib.py": "VALUE = 1\n"})
    loop = RepairLoop(repo, tmp_path / "run", repairer=None, backend=SubprocessBackend(allow_weak=True),
                      expected_files=["lib.py"], commands=[], config=LoopConfig(max_iterations=0))
    result = await loop.run()
    assert not result.passed
    assert any(f.kind == "no_verification" for f in result.findings)


async def test_static_pass_reruns_consistency_after_each_patch(make_repo, tmp_path):
    # report.py is not exercised by the tests: only the consistency check sees that the
    # first patch, which fixes the failing test, breaks its call of last_index().
    report = "from calc import last_index\n\n\ndef describe(items):\n    return f'last={last_index(items)}'\n"
    repo = make_repo({"calc.py": CALC, "report.py": report, "tests/__init__.py": "", "tests/test_calc.py": TEST})
    breaking = RepairProposal(edits=[FIX, Edit(path="report.py", search="last_index(items)",
                                               replace="last_index(items, 0)")])
    mend = RepairProposal(edits=[Edit(path="report.py", search="last_index(items, 0)", replace="last_index(items)")])
    repairer = Scripted(breaking, mend)
    # A codegen-time snapshot of the same kind: stale, so it must not keep the loop failing.
    stale = Finding(file="report.py", line=5, kind="arity_mismatch", stage="static", message="stale snapshot")
    loop = make_loop(repo, tmp_path / "run", repairer, extra_findings=lambda: [stale])
    result = await loop.run()
    assert result.passed and result.iterations == 3
    first, second = repairer.requests
    assert not [f for f in first.findings if f.kind == "arity_mismatch"]
    [arity] = [f for f in second.findings if f.severity == "error"]
    assert (arity.file, arity.line, arity.kind, arity.stage) == ("report.py", 5, "arity_mismatch", "static")
    assert "calc.py" in arity.related and "calc.py" in second.files


async def test_the_reproduction_output_is_kept_as_reproduce_log(make_repo, tmp_path):
    repo = make_repo({"calc.py": "def last_index(items):\n    return len(items) - 1\n",
                      "reproduce.sh": "echo 'F1 = 0.91'\n"})
    cmd = VerifyCommand(name="reproduce", argv=["bash", "reproduce.sh"], timeout_s=60, kind="smoke")
    result = await make_loop(repo, tmp_path / "run", Scripted(), commands=[cmd]).run()
    assert result.passed
    log = (repo / "reproduce.log").read_text()
    assert log.startswith("$ bash reproduce.sh\n# exit 0") and "F1 = 0.91" in log
