"""A grade stopped part-way resumes without sending any graded leaf to the judge again."""

from __future__ import annotations

import json

import pytest

from deepcode_tui.errors import ProviderError, RunStoreError
from deepcode_tui.grade.rollup import LeafGrade
from deepcode_tui.grade.rubric import code_only
from deepcode_tui.grade.store import GradeState, GradeStore
from deepcode_tui.llm.scripted import ScriptedReply
from tests.grade.helpers import judge_settings, leaf_of, run_grade, small_repo, small_rubric, verdict


def test_a_grade_stopped_by_a_provider_failure_resumes_paying_no_leaf_twice(tmp_path) -> None:
    state = {"fail_after": 2, "calls": []}

    def respond(request):
        state["calls"].append(leaf_of(request))
        if state["fail_after"] is not None and len(state["calls"]) > state["fail_after"]:
            return ScriptedReply(error="auth")
        return verdict(1)

    settings = judge_settings(respond, tmp_path)
    repo = small_repo(tmp_path / "repo")
    (repo / "reproduce.sh").write_text("echo\n")
    (repo / "reproduce.log").write_text("ok\n")
    (repo / "out.csv").write_text("x\n1\n")
    out = tmp_path / "out"
    with pytest.raises(ProviderError):
        run_grade(settings, repo, small_rubric(), out, concurrency=1)
    first = [line for line in (out / "leaves.jsonl").read_text().splitlines() if line]
    assert len(first) == 2 and not (out / "grade.json").exists()
    graded_before = {json.loads(line)["path"] for line in first}

    state["fail_after"], state["calls"] = None, []
    result = run_grade(settings, repo, small_rubric(), out, concurrency=1)
    assert result.resumed == 2 and result.graded_now == 2
    assert len(state["calls"]) == 2  # only the two leaves not graded before
    assert result.output["num_invalid_leaf_nodes"] == 0 and result.output["score"] == 1.0
    # A third run grades nothing at all.
    state["calls"] = []
    again = run_grade(settings, repo, small_rubric(), out)
    assert state["calls"] == [] and again.graded_now == 0 and again.output["score"] == 1.0
    assert graded_before <= {n for n in (json.loads(x)["path"] for x in (out / "leaves.jsonl").read_text().splitlines())}


def test_a_torn_last_line_is_dropped_and_the_rest_kept(tmp_path) -> None:
    store = GradeStore(tmp_path)
    state = GradeState(rubric="r", fingerprint="f", code_only=False, submission="s", judge_model="m")
    store.open(state)
    store.append(LeafGrade(path="0", id="a", score=1, valid_score=True, explanation="e"))
    with open(store.leaves_path, "ab") as fh:
        fh.write(b'{"path": "1", "id": "b", "sco')  # killed mid-write
    grades = GradeStore(tmp_path).open(state)
    assert set(grades) == {"0"}
    assert store.leaves_path.read_bytes().endswith(b"\n")
    store.append(LeafGrade(path="1", id="b", score=0, valid_score=True, explanation="e"))
    assert set(GradeStore(tmp_path).load()) == {"0", "1"}


def test_a_directory_of_another_grading_is_refused_not_mixed(tmp_path) -> None:
    settings = judge_settings(lambda r: verdict(1), tmp_path)
    repo = small_repo(tmp_path / "repo")
    out = tmp_path / "out"
    run_grade(settings, repo, small_rubric(), out)
    with pytest.raises(RunStoreError) as err:
        run_grade(settings, repo, code_only(small_rubric()), out, code_only=True)
    assert "--out" in err.value.fix and "--restart" in err.value.fix
    # --restart starts over in the same place.
    result = run_grade(settings, repo, code_only(small_rubric()), out, code_only=True, restart=True)
    assert result.resumed == 0 and result.output["num_leaf_nodes"] == 2


def test_submission_check_findings(tmp_path) -> None:
    from deepcode_tui.grade.submission import check_submission

    repo = small_repo(tmp_path / "repo")
    lines = [f.line() for f in check_submission(repo, code_only=False)]
    assert lines[0] == "ok: readme: README.md is present"
    assert lines[1].startswith("error: reproduce.sh: reproduce.sh is missing")
    assert check_submission(repo, code_only=True)[1].level == "warning"
    (repo / "reproduce.sh").write_text("#!/usr/bin/env bash\n")
    (repo / "README.md").unlink()
    found = check_submission(repo, code_only=False, size_limit=10)
    assert [f.level for f in found] == ["error", "ok", "error"]
    assert found[2].message.startswith("the submission holds") and "over the" in found[2].message


def test_a_grade_killed_with_sigkill_resumes_paying_no_graded_leaf_again(tmp_path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import REPO_ROOT

    child = subprocess.Popen([sys.executable, str(REPO_ROOT / "tests" / "grade" / "kill_child.py"), str(tmp_path),
                              "killed-judge"], cwd=REPO_ROOT)  # fmt: skip
    leaves = tmp_path / "out" / "leaves.jsonl"
    deadline = time.monotonic() + 60
    try:
        while not (leaves.exists() and leaves.read_text().count("\n") >= 1):
            assert child.poll() is None, "the grade ended before it could be killed"
            assert time.monotonic() < deadline, "no leaf was graded in time"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    before = {json.loads(x)["path"] for x in leaves.read_text().splitlines() if x.strip()}
    assert 1 <= len(before) < 3  # the results leaf needs no judge: 3 judged leaves in all
    asked = []

    def respond(request):
        asked.append(leaf_of(request))
        return verdict(1)

    settings = judge_settings(respond, tmp_path, name="killed-judge")
    result = run_grade(settings, tmp_path / "repo", small_rubric(), tmp_path / "out")
    assert result.resumed == len(before) and len(asked) == 3 - len(before)
    assert result.output["num_invalid_leaf_nodes"] == 0
