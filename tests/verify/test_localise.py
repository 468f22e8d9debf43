"""Spectrum-based localisation of a wrong value that only a test assertion shows."""

from __future__ import annotations

import os
import subprocess
import sys

from deepcode_tui.verify.findings import Finding, Kind
from deepcode_tui.verify.localise import PLUGIN_SOURCE, needs_localisation, ochiai, suspects

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
    assert needs_localisation([into_code]) == []
