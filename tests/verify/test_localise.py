"""Spectrum-based localisation of a wrong value that only a test assertion shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from deepcode_tui.verify.execution import (
    PYTEST_ARGV,
    CommandOutcome,
    SandboxSession,
    VerifyCommand,
    pytest_paths,
)
from deepcode_tui.verify.findings import Finding, Kind
from deepcode_tui.verify.localise import (
    PLUGIN_SOURCE,
    needs_localisation,
    ochiai,
    repo_prior,
    suspects,
    value_kinds,
    value_lines,
)
from deepcode_tui.verify.sandbox import SandboxResult, SubprocessBackend

LIB = """def clamp(x, lo, hi):
    if x < lo:
        return lo
    if x > hi + 1:
        return hi
    return x


def scale(x):
    return x * 2
"""
TESTS = """from lib import clamp, scale


def test_inside():
    assert clamp(5, 0, 10) == 5


def test_low():
    assert clamp(-1, 0, 10) == 0


def test_high():
    assert clamp(11, 0, 10) == 10


def test_scale():
    assert scale(2) == 4
"""


def test_plugin_and_ochiai_rank_the_faulty_line_first(make_repo, tmp_path):
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": TESTS})
    helpers = tmp_path / "helpers"
    helpers.mkdir()
    (helpers / "deepcode_sbfl.py").write_text(PLUGIN_SOURCE)
    out = tmp_path / "sbfl.json"
    env = {**os.environ, "PYTHONPATH": f"{helpers}:{repo}", "DEEPCODE_SBFL_ROOT": str(repo),
           "DEEPCODE_SBFL_OUT": str(out), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "deepcode_sbfl", "-p", "no:cacheprovider",
                           "tests"], cwd=repo, env=env, capture_output=True, text=True, timeout=60)
    assert "1 failed, 3 passed" in proc.stdout
    found = suspects(out.read_text(), top=3)
    assert found and all(f.kind == Kind.SUSPECT_LINE and f.severity == "warning" for f in found)
    # Line 5 ("return hi" is never reached) is not blamed; line 4 ran in the failing test.
    assert ("lib.py", 4) in {(f.file, f.line) for f in found}
    assert all(f.file == "lib.py" for f in found)


def test_ochiai_scores_and_applicability():
    spectra = {"t1": [["a.py", 1], ["a.py", 2]], "t2": [["a.py", 1]], "t3": [["a.py", 1], ["a.py", 3]]}
    ranked = ochiai(spectra, {"t1": "failed", "t2": "passed", "t3": "passed"})
    assert ranked[0][:2] == ("a.py", 2) and ranked[0][2] == 1.0
    assert ochiai(spectra, {"t1": "passed"}) == []
    assert suspects("not json") == []
    in_test = Finding(file="tests/test_a.py", line=3, kind=Kind.TEST_FAILURE, stage="sandbox", message="x")
    into_code = in_test.model_copy(update={"related": ("pkg/a.py",)})
    assert needs_localisation([in_test, into_code]) == ["tests/test_a.py"]
    # An exception raised in the code is evidence to weigh, not the answer...
    raised = Finding(file="pkg/a.py", line=9, kind=Kind.EXCEPTION, stage="sandbox", message="t: IndexError: x",
                     frames=(("tests/test_b.py", 4), ("pkg/a.py", 9)))
    assert needs_localisation([raised]) == ["tests/test_b.py"]
    # ...unless it names the fault itself: an undefined name, a bad call, an import.
    exact = [raised.model_copy(update={"message": "t: NameError: name 'x' is not defined"}),
             raised.model_copy(update={"message": "t: TypeError: f() takes 2 positional arguments but 3 were given"}),
             raised.model_copy(update={"kind": Kind.IMPORT_ERROR})]
    assert needs_localisation(exact) == []


def test_ties_are_broken_towards_lines_that_compute_values(tmp_path):
    src = "def f(items, n):\n    log(items)\n    k = n + 1\n    return items[:k]\n"
    assert value_lines(src) == {3, 4}
    assert value_kinds("k = a[i + 1] < n\nb = a\n") == {1: 4}
    assert value_lines("def broken(:\n") == set()
    (tmp_path / "m.py").write_text(src)
    # One failing test ran lines 2-4, one passing test ran none of them: a three-way tie.
    spectra = {"t1": [["m.py", 2], ["m.py", 3], ["m.py", 4]], "t2": [["m.py", 9]]}
    outcomes = {"t1": "failed", "t2": "passed"}
    assert [r[1] for r in ochiai(spectra, outcomes)] == [2, 3, 4]  # no prior: file order
    assert [r[1] for r in ochiai(spectra, outcomes, repo_prior(tmp_path))][:2] == [3, 4]
    # The prior never lifts a line above a better score.
    spectra["t2"] = [["m.py", 3], ["m.py", 4]]
    assert ochiai(spectra, outcomes, repo_prior(tmp_path))[0][1] == 2
    report = json.dumps({"spectra": {"t1": spectra["t1"], "t3": [["tests/test_m.py", 1]]}, "outcomes": outcomes})
    found = suspects(report, top=1, repo=tmp_path)
    assert [(f.file, f.line) for f in found] == [("m.py", 3)]


def test_pytest_paths_of_a_command(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("")
    argv = ["python", "-m", "pytest", "-q", "-x", "--tb=short", "tests/test_a.py::test_x", "tests", "nope", "-k", "x"]
    assert pytest_paths(argv, tmp_path) == ["tests/test_a.py", "tests"]
    assert pytest_paths(["python", "-m", "pytest", "-q"], tmp_path) == []
    assert pytest_paths(["python", "-m", "unittest"], tmp_path) == []


SPLIT_LIB = """def helper(v):
    return v * 1


def clamp(x, hi):
    v = helper(x)
    if v > hi + 1:
        return hi
    return v
"""


async def test_session_traces_the_commands_whole_selection(make_repo, tmp_path):
    # The failing test file alone cannot tell helper() from clamp(): the passing test
    # in another file, which runs helper() only, clears it.
    repo = make_repo({
        "lib.py": SPLIT_LIB,
        "tests/test_clamp.py": "from lib import clamp\n\n\ndef test_high():\n    assert clamp(11, 10) == 10\n",
        "tests/test_helper.py": "from lib import helper\n\n\ndef test_helper():\n    assert helper(3) == 3\n",
    })
    # The spectrum alone (mutation analysis is tested in test_mutation.py).
    session = SandboxSession(SubprocessBackend(allow_weak=True), repo, tmp_path / "sb", confirm_by_mutation=False)
    session.helpers.mkdir(parents=True)
    (session.helpers / "deepcode_sbfl.py").write_text(PLUGIN_SOURCE)
    bindir = session.env_dir / "venv" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "python").write_text(f"#!/bin/sh\nPYTEST_DISABLE_PLUGIN_AUTOLOAD=1 exec {sys.executable} \"$@\"\n")
    (bindir / "python").chmod(0o755)
    failure = Finding(file="tests/test_clamp.py", line=5, kind=Kind.TEST_FAILURE, stage="sandbox", message="assert")

    def outcome(*paths):
        cmd = VerifyCommand(name="tests", argv=[*PYTEST_ARGV, *paths], timeout_s=60)
        return CommandOutcome(command=cmd, result=SandboxResult(exit_code=1, backend="subprocess", duration_s=1),
                              findings=[failure])

    whole = {(f.file, f.line) for f in await session.localise(outcome("tests"))}
    assert ("lib.py", 7) in whole and ("lib.py", 2) not in whole
    only_failing = {(f.file, f.line) for f in await session.localise(outcome("tests/test_clamp.py"))}
    assert ("lib.py", 2) in only_failing
