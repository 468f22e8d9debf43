"""Mutation-based confirmation of suspect lines: mutants, the import-time plugin,
the in-sandbox driver and the session's use of them."""

from __future__ import annotations

import json
import sys

import pytest

from deepcode_tui.verify import mutation
from deepcode_tui.verify.execution import PYTEST_ARGV, CommandOutcome, SandboxSession, VerifyCommand
from deepcode_tui.verify.findings import Finding, Kind
from deepcode_tui.verify.localise import PLUGIN_SOURCE as SBFL_PLUGIN
from deepcode_tui.verify.mutation import LineMutant, confirmed, line_mutants, plan_mutants
from deepcode_tui.verify.sandbox import SandboxResult, SubprocessBackend

LIB = """def window(items, n):
    \"\"\"The last n items (the bug: one too many).\"\"\"
    start = len(items) - n - 1
    return items[start:]


def count_small(xs, limit):
    return sum(1 for x in xs if x <= limit)
"""
TESTS = """from lib import count_small, window


def test_window():
    assert window([1, 2, 3, 4], 2) == [3, 4]


def test_window_one():
    assert window([5, 6], 1) == [6]


def test_small():
    assert count_small([1, 2, 3], 2) == 2
"""


def edits(source: str, line: int, tier: int = 0) -> set[str]:
    return {m.edit for m in line_mutants("m.py", source, line) if m.tier == tier}


def test_boundary_mutants_of_a_line():
    assert edits("if a < b <= c:\n    pass\n", 1) == {"`<` -> `<=`", "`<=` -> `<`"}
    assert edits("x = y[i:n + 1]\n", 1) == {"`1` -> `2`", "`1` -> `0`", "`i` -> `(i) + 1`", "`i` -> `(i) - 1`",
                                             "`n + 1` -> `(n + 1) + 1`", "`n + 1` -> `(n + 1) - 1`"}
    assert edits("for k in range(len(s)):\n    pass\n", 1) == {"`len(s)` -> `(len(s)) + 1`",
                                                             "`len(s)` -> `(len(s)) - 1`"}
    assert edits("ok = a >= 0\n", 1) == {"`>=` -> `>`", "`0` -> `1`"}
    # A bound on its own line inside a call that spans lines is still a bound.
    assert edits("for k in range(\n    n,\n):\n    pass\n", 2) == {"`n` -> `(n) + 1`", "`n` -> `(n) - 1`"}
    # Offsets are characters, not UTF-8 bytes.
    [m] = [m for m in line_mutants("m.py", 'msg = "é" if n > 3 else ""\n', 1) if m.new == ">="]
    assert m.apply('msg = "é" if n > 3 else ""\n') == 'msg = "é" if n >= 3 else ""\n'
    # Booleans (no boundary), multi-line expressions, bad lines and broken sources give nothing.
    assert edits("flag = True\n", 1) == set()
    assert edits("x = (a <\n     b)\n", 1) == set()
    assert edits("x = 1\n", 5) == set()
    assert line_mutants("m.py", "def broken(:\n", 1) == []


def test_other_operators_of_a_line():
    assert edits("if a < b <= c:\n    pass\n", 1, tier=1) == {"`<` -> `>`", "`<=` -> `>=`"}
    assert edits("if x not in T and y is not None:\n    pass\n", 1, tier=1) == {
        "`and` -> `or`", "`not in` -> `in`", "`is not` -> `is`"}
    assert edits("if x in T or not flag:\n    pass\n", 1, tier=1) == {
        "`or` -> `and`", "`in` -> `not in`", "`not flag` -> `flag`"}
    assert edits("ok = a == b != c\n", 1, tier=1) == {"`==` -> `!=`", "`!=` -> `==`"}
    assert edits("flag = True\n", 1, tier=1) == {"`True` -> `False`"}
    # A wrong index; a constant index is a literal (+-1 in tier 0).
    assert edits("c = s[pos + 1]\n", 1, tier=1) == {"`pos + 1` -> `(pos + 1) + 1`", "`pos + 1` -> `(pos + 1) - 1`"}
    assert edits("c = d['key']\n", 1, tier=1) == set()
    # A table entry may hold its neighbour's value (the +-1 of an int is tier 0, not repeated).
    table = 'T = {\n    "a": "\\b",\n    "b": "\\t",\n    "c": 7,\n}\n'
    assert edits(table, 2, tier=1) == {'`"\\b"` -> `"\\t"`'}
    assert edits("T = [0, 3, 7]\n", 1, tier=1) == {"`0` -> `3`", "`3` -> `0`", "`3` -> `7`", "`7` -> `3`"}
    [m] = [m for m in line_mutants("m.py", table, 2) if m.tier == 1]
    assert m.apply(table).splitlines()[1] == '    "a": "\\t",'


def test_plan_takes_the_best_lines_and_caps_the_count():
    src = "a = 1\nb = c\nd = e < f\ng = 5\n"
    # Line 4 never ran in a failing test (score 0); gone.py cannot be read.
    ranked = [("m.py", 2, 1.0), ("m.py", 3, 1.0), ("gone.py", 1, 0.9), ("m.py", 1, 0.1), ("m.py", 4, 0.0)]
    planned = plan_mutants(ranked, lambda f: src if f == "m.py" else None)
    # Boundary mutants of every planned line first, then the other operators.
    assert [(m.line, m.edit) for m in planned] == [(3, "`<` -> `<=`"), (1, "`1` -> `2`"), (1, "`1` -> `0`"),
                                                   (3, "`<` -> `>`")]
    many = "\n".join(f"x{i} = y[{i}:{i} + 1] < {i}" for i in range(40)) + "\n"
    planned = plan_mutants([("m.py", i, 1.0) for i in range(1, 41)], lambda f: many)
    assert len(planned) == mutation.MAX_MUTANTS
    assert len({m.line for m in planned}) <= mutation.MAX_LINES
    assert plan_mutants([], lambda f: src) == []


def test_confirmed_reads_the_driver_results_and_skips_a_torn_line():
    ms = [LineMutant("lib.py", 3, 0, 1, "1", "0"), LineMutant("lib.py", 3, 0, 1, "1", "2"),
          LineMutant("lib.py", 8, 4, 6, "<=", "<")]
    lines = '{"id": 0, "fixed": false}\n{"id": 1, "fixed": true}\n{"id": 2, "fixed": true}\n{"id": 2, "fi'
    found = confirmed(ms, lines, 2)
    assert [(f.file, f.line, f.kind) for f in found] == [("lib.py", 3, Kind.SUSPECT_LINE), ("lib.py", 8, Kind.SUSPECT_LINE)]
    assert "`1` -> `2`" in found[0].message and "the 2 failing tests pass" in found[0].message
    assert "the 5 failing tests re-run (of 31) pass" in confirmed(ms, lines, 31)[0].message
    # With its guards passed, the failing tests not re-run passed too (they are guards).
    checked = '{"id": 1, "fixed": true, "guard_ok": true}\n'
    assert "makes the 31 failing tests pass" in confirmed(ms, checked, 31)[0].message
    assert confirmed(ms, "garbage\n", 1) == []


@pytest.mark.parametrize("fork", [True, False])
def test_driver_and_plugin_find_the_fixing_mutant_without_touching_the_repo(make_repo, tmp_path, fork):
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": TESTS})
    helpers = tmp_path / "helpers"
    helpers.mkdir()
    (helpers / "deepcode_mutate.py").write_text(mutation.PLUGIN_SOURCE)
    (helpers / "deepcode_mutants.py").write_text(mutation.DRIVER_SOURCE)
    # The sandbox's watchdog is armed in the driver too: a forked run must not wait on it.
    from deepcode_tui.verify.execution import WATCHDOG_SOURCE

    (helpers / "sitecustomize.py").write_text(WATCHDOG_SOURCE)
    # Warm bytecode of the original module must not leak into a mutant's run.
    import subprocess

    env = {"PYTHONPATH": f"{helpers}:{repo}", "PATH": "/usr/bin:/bin", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
           "DEEPCODE_WATCHDOG_S": "600"}
    subprocess.run([sys.executable, "-c", "import lib"], cwd=repo, env=env, check=True)
    mutants = line_mutants("lib.py", LIB, 3)
    out = tmp_path / "out.jsonl"
    spec = tmp_path / "spec.json"
    spec.write_text(mutation.driver_spec(mutants, ["tests/test_lib.py::test_window", "tests/test_lib.py::test_window_one"],
                                         python=sys.executable, root=str(repo), per_mutant_timeout_s=60,
                                         budget_s=120, out=str(out), fork=fork))
    subprocess.run([sys.executable, str(helpers / "deepcode_mutants.py"), str(spec)], env=env, check=True,
                   timeout=180)
    results = [json.loads(r) for r in out.read_text().splitlines()]
    fixing = [mutants[r["id"]] for r in results if r["fixed"]]
    # "- n - 1" -> "- n - 0" fixes both tests; the driver stops at the first fix.
    assert [m.edit for m in fixing] == ["`1` -> `0`"] and results[-1]["fixed"]
    assert all(not r["fixed"] for r in results[:-1])
    assert (repo / "lib.py").read_text() == LIB


async def test_session_reports_the_confirmed_line_only(make_repo, tmp_path):
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": TESTS})
    session = SandboxSession(SubprocessBackend(allow_weak=True), repo, tmp_path / "sb")
    session.helpers.mkdir(parents=True)
    for name, source in (("deepcode_sbfl.py", SBFL_PLUGIN), ("deepcode_mutate.py", mutation.PLUGIN_SOURCE),
                         ("deepcode_mutants.py", mutation.DRIVER_SOURCE)):
        (session.helpers / name).write_text(source)
    bindir = session.env_dir / "venv" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "python").write_text(f"#!/bin/sh\nPYTEST_DISABLE_PLUGIN_AUTOLOAD=1 exec {sys.executable} \"$@\"\n")
    (bindir / "python").chmod(0o755)
    failure = Finding(file="tests/test_lib.py", line=5, kind=Kind.TEST_FAILURE, stage="sandbox", message="assert")
    cmd = VerifyCommand(name="tests", argv=[*PYTEST_ARGV, "tests"], timeout_s=60)
    outcome = CommandOutcome(command=cmd, result=SandboxResult(exit_code=1, backend="subprocess", duration_s=1),
                             findings=[failure])
    found = await session.localise(outcome)
    # Line 3's fix comes first. No passing test runs window(), so a fix there is weak
    # evidence: the driver looks on, and line 4's `start` -> `(start) + 1` fixes the
    # tests too (the tests cannot tell the two apart); test_small is never blamed.
    assert [(f.file, f.line) for f in found] == [("lib.py", 3), ("lib.py", 4)]
    assert "`1` -> `0`" in found[0].message
    assert (repo / "lib.py").read_text() == LIB
    # Without mutation analysis the tied lines of window() are all suspects.
    session.confirm_by_mutation = False
    plain = await session.localise(outcome)
    assert {(f.file, f.line) for f in plain} == {("lib.py", 3), ("lib.py", 4)}


def test_the_mutation_budget_comes_from_the_configuration(tmp_path):
    from deepcode_tui.config.settings import Settings
    from deepcode_tui.verify.loop import LoopConfig, RepairLoop

    assert Settings().verify.mutation_budget_s == 90
    backend = SubprocessBackend(allow_weak=True)
    off = RepairLoop(tmp_path, tmp_path / "run", repairer=None, backend=backend, config=LoopConfig(mutation_budget_s=0))
    assert off.session.confirm_by_mutation is False
    on = RepairLoop(tmp_path, tmp_path / "run", repairer=None, backend=backend, config=LoopConfig(mutation_budget_s=30))
    assert on.session.confirm_by_mutation and on.session.mutation_budget_s == 30


def test_a_fix_that_breaks_the_passing_tests_running_its_line_is_weaker():
    from deepcode_tui.verify.localise import guard_tests

    ms = [LineMutant("lib.py", 3, 0, 1, "1", "0"), LineMutant("lib.py", 8, 4, 6, "<=", "<")]
    lines = '{"id": 0, "fixed": true, "guard_ok": false}\n{"id": 1, "fixed": true, "guard_ok": true}\n'
    [best] = confirmed(ms, lines, 1)
    assert best.line == 8 and "passing tests that run it still pass" in best.message
    [weak] = confirmed(ms, '{"id": 0, "fixed": true, "guard_ok": false}\n', 1)
    assert weak.line == 3 and "breaks other tests" in weak.message
    report = json.dumps({"spectra": {"tests/test_a.py::t1": [["lib.py", 3]], "tests/test_b.py::t2": [["lib.py", 3]],
                                     "tests/test_a.py::t3": [["lib.py", 8]], "tests/test_a.py::bad": [["lib.py", 3]]},
                         "outcomes": {"tests/test_a.py::t1": "passed", "tests/test_b.py::t2": "passed",
                                      "tests/test_a.py::t3": "passed", "tests/test_a.py::bad": "failed"}})
    guards = guard_tests(report, ["tests/test_a.py::bad"])
    # Tests that ran the line, those in the failing test's file first; for a line no
    # test ran (module-level code), passing tests of the failing test's file.
    assert guards("lib.py", 3) == ["tests/test_a.py::t1", "tests/test_b.py::t2"]
    assert guards("lib.py", 1) == ["tests/test_a.py::t1", "tests/test_a.py::t3"]
    assert guard_tests("junk", [])("lib.py", 3) == []
    spec = json.loads(mutation.driver_spec(ms, ["tests/test_a.py::bad"], python="p", root="/r", per_mutant_timeout_s=1,
                                           budget_s=1, out="o", guards=guards))
    assert spec["mutants"][1]["guard"] == ["tests/test_a.py::t3"]


def test_a_tables_entries_share_one_slot_of_the_plan():
    # MAX_LINES - 1 ranked lines, then a table read with a computed key (every entry
    # ranked alike), then more lines: the whole table is planned as the last line.
    k = mutation.MAX_LINES - 1
    head = [f"x{i} = a < b" for i in range(k)]
    table = ["T = {", *(f'    "k{i}": {i + 2},' for i in range(25)), "}"]
    tail = [f"z{i} = a < b" for i in range(5)]
    src = "\n".join([*head, *table, *tail]) + "\n"
    entries = list(range(k + 2, k + 27))
    ranked = [("m.py", n, 1.0) for n in range(1, k + 1)] + [("m.py", n, 0.9) for n in entries]
    ranked += [("m.py", n, 0.8) for n in range(k + 28, k + 33)]
    planned = plan_mutants(ranked, lambda f: src)
    lines = {m.line for m in planned}
    assert set(entries) <= lines and lines.isdisjoint(range(k + 28, k + 33))
    assert {m.edit for m in planned if m.line == k + 2} >= {"`2` -> `3`", "`2` -> `1`"}


def test_the_plan_goes_band_by_band():
    # A band's boundary mutants, then its other operators, then the next band; lines
    # past MAX_LINES are not planned.
    src = "".join(f"x{i} = a < b\n" for i in range(mutation.MAX_LINES + 5))
    planned = plan_mutants([("m.py", n, 1.0) for n in range(1, mutation.MAX_LINES + 6)], lambda f: src)
    band = mutation.BAND
    want = [(n, e) for start in range(1, mutation.MAX_LINES + 1, band)
            for e in ("`<` -> `<=`", "`<` -> `>`") for n in range(start, start + band)]
    assert [(m.line, m.edit) for m in planned] == want


def test_guards_spread_over_the_tests_that_ran_the_line_and_the_failing_tests_not_re_run():
    from deepcode_tui.verify.localise import guard_tests

    names = [f"tests/test_a.py::t{i:03d}" for i in range(300)]
    report = json.dumps({"spectra": {**{n: [["lib.py", 3]] for n in names}, "tests/test_a.py::bad": [["lib.py", 3]]},
                         "outcomes": {**{n: "passed" for n in names}, "tests/test_a.py::bad": "failed"}})
    guards = guard_tests(report, ["tests/test_a.py::bad"])("lib.py", 3)
    # Not the first hundred in name order: a compensating change breaks tests far apart.
    assert len(guards) == 100 and guards[0] == names[0] and guards[-1] >= names[297]
    failing = [f"tests/test_b.py::f{i}" for i in range(8)]
    spec = json.loads(mutation.driver_spec([LineMutant("lib.py", 3, 0, 1, "1", "0")], failing, python="p", root="/r",
                                           per_mutant_timeout_s=1, budget_s=1, out="o",
                                           guards=lambda f, n: ["tests/test_a.py::t1"], guard_timeout_s=7))
    assert spec["tests"] == failing[:5] and spec["guard_timeout_s"] == 7
    assert spec["mutants"][0]["guard"] == [*failing[5:], "tests/test_a.py::t1"]


STUB_PYTHON = """import json, os, sys
m = json.loads(os.environ["DEEPCODE_MUTANT"])
sys.exit(0 if m["id"] in {FIXING} else 1)
"""


def _drive(tmp_path, fixing, guard):
    # The real driver, with a scripted interpreter: mutants in ``fixing`` pass every run.
    stub = tmp_path / "stub.py"
    stub.write_text(STUB_PYTHON.replace("{FIXING}", repr(set(fixing))))
    py = tmp_path / "py"
    py.write_text(f"#!/bin/sh\nexec {sys.executable} {stub}\n")
    py.chmod(0o755)
    (tmp_path / "driver.py").write_text(mutation.DRIVER_SOURCE)
    mutants = [LineMutant("lib.py", n, 0, 1, "1", "0") for n in range(1, 41)]
    spec = tmp_path / "spec.json"
    spec.write_text(mutation.driver_spec(mutants, ["tests/test_a.py::bad"], python=str(py), root=str(tmp_path),
                                         per_mutant_timeout_s=30, budget_s=120, out=str(tmp_path / "out.jsonl"),
                                         guards=lambda f, n: guard, fork=False))
    import subprocess

    subprocess.run([sys.executable, str(tmp_path / "driver.py"), str(spec)], check=True, timeout=300)
    return [json.loads(r) for r in (tmp_path / "out.jsonl").read_text().splitlines()]


def test_a_fix_checked_by_few_tests_makes_the_driver_look_on(tmp_path):
    few = _drive(tmp_path, {2, 9}, ["tests/test_a.py::t1"])
    # Mutant 2 fixes, checked by one passing test only: the driver tries on and
    # finds mutant 9, which the tests cannot tell from it; both are reported.
    assert [r["id"] for r in few if r["fixed"]] == [2, 9] and few[-1]["id"] == 9
    found = confirmed([LineMutant("lib.py", n, 0, 1, "1", "0") for n in range(1, 41)],
                      "\n".join(json.dumps(r) for r in few), 1)
    assert [f.line for f in found] == [3, 10]
    # With no second fix it stops LOOK_ON mutants later.
    (tmp_path / "out.jsonl").unlink()
    alone = _drive(tmp_path, {2}, ["tests/test_a.py::t1"])
    assert len(alone) == 3 + mutation.LOOK_ON
    # A fix that many passing tests checked ends the search at once.
    (tmp_path / "out.jsonl").unlink()
    strong = _drive(tmp_path, {2, 9}, [f"tests/test_a.py::t{i}" for i in range(mutation.STRONG_GUARDS)])
    assert strong[-1]["id"] == 2 and strong[-1]["guard_ok"] is True
