"""Localisation that treats a traceback's frames as evidence: the raising line,
its guard, the assignments and module-level values it uses, ranked with the
spectrum and confirmed by mutation (real pytest runs on the host backend)."""

from __future__ import annotations

import sys

from deepcode_tui.verify import mutation
from deepcode_tui.verify.execution import PYTEST_ARGV, SandboxSession, VerifyCommand
from deepcode_tui.verify.findings import Finding, Kind
from deepcode_tui.verify.localise import PLUGIN_SOURCE as SBFL_PLUGIN
from deepcode_tui.verify.localise_evidence import combine, gather, is_exact
from deepcode_tui.verify.sandbox import SubprocessBackend

PAIRS = """def fail(msg, what):
    raise ValueError(f"{msg}: {what!r}")


def pairs(s):
    out = {}
    for item in s.split(";"):
        at = item.find("=")
        if at < 2:
            fail("missing key", item)
        out[item[:at]] = item[at + 1:]
    return out


def keys(s):
    return sorted(pairs(s))
"""
PAIRS_TESTS = """import pytest

from lib import keys, pairs


def test_pairs():
    assert pairs("a=1;b=2") == {"a": "1", "b": "2"}


def test_long_keys():
    assert keys("abc=1;de=2") == ["abc", "de"]


def test_no_key():
    with pytest.raises(ValueError):
        pairs("=1")
"""
LIMITS = """LIMITS = {
    "low": 0,
    "high": 11,
}


def clamp(x):
    if x > LIMITS["high"]:
        return LIMITS["high"]
    if x < LIMITS["low"]:
        return LIMITS["low"]
    return x
"""
LIMITS_TESTS = """from lib import clamp


def test_inside():
    assert clamp(5) == 5


def test_high():
    assert clamp(20) == 10


def test_low():
    assert clamp(-3) == 0
"""


def session_for(repo, tmp_path) -> SandboxSession:
    session = SandboxSession(SubprocessBackend(allow_weak=True), repo, tmp_path / "sb")
    session.helpers.mkdir(parents=True)
    for name, source in (("deepcode_sbfl.py", SBFL_PLUGIN), ("deepcode_mutate.py", mutation.PLUGIN_SOURCE),
                         ("deepcode_mutants.py", mutation.DRIVER_SOURCE)):
        (session.helpers / name).write_text(source)
    bindir = session.env_dir / "venv" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "python").write_text(f"#!/bin/sh\nPYTEST_DISABLE_PLUGIN_AUTOLOAD=1 exec {sys.executable} \"$@\"\n")
    (bindir / "python").chmod(0o755)
    return session


def test_exact_failures_are_not_localised():
    base = Finding(file="pkg/a.py", line=3, kind=Kind.EXCEPTION, stage="sandbox", message="t: KeyError: 'x'")
    assert not is_exact(base)
    assert is_exact(base.model_copy(update={"message": "t: NameError: name 'y' is not defined"}))
    assert is_exact(base.model_copy(update={"kind": Kind.SYNTAX_ERROR}))
    assert not is_exact(base.model_copy(update={"kind": Kind.TEST_FAILURE, "message": "NameError in the text"}))
    # A wrapper exception raised while handling an undefined name: the name is the fault.
    wrapped = "t: ParseError: bad; raised while handling NameError: name 'mintues' is not defined at pkg/a.py:9"
    assert is_exact(base.model_copy(update={"message": wrapped}))


def test_evidence_follows_the_data_back_from_the_raising_line():
    raised = Finding(file="lib.py", line=2, kind=Kind.EXCEPTION, stage="sandbox", message="t: ValueError: x",
                     frames=(("tests/test_lib.py", 7), ("lib.py", 10), ("lib.py", 2)))
    ev = gather([raised], lambda f: PAIRS if f == "lib.py" else None)
    ranked = [(f, n) for f, n, _ in combine([], ev)]
    assert ranked[0] == ("lib.py", 2)  # the raise itself
    # The call on the way, its guard and the assignment of the value the guard tests.
    assert {("lib.py", 10), ("lib.py", 9), ("lib.py", 8)} <= set(ranked)
    assert "assigns `at`" in ev.reasons[("lib.py", 8)]
    # Module-level values used by the spectrum's best lines are candidates (a spectrum never shows them).
    ev = gather([], lambda f: LIMITS)
    ranked = combine([("lib.py", 8, 1.0), ("lib.py", 7, 0.7)], ev)
    assert [(f, n) for f, n, _ in ranked][:2] == [("lib.py", 8), ("lib.py", 7)]
    # Lines 7 and 8 read LIMITS["high"] only: that entry (and the statement), not "low".
    assert {("lib.py", 1), ("lib.py", 3)} <= {(f, n) for f, n, _ in ranked}
    assert ("lib.py", 2) not in {(f, n) for f, n, _ in ranked}


async def test_an_exception_raised_in_a_helper_is_localised_to_the_wrong_bound(make_repo, tmp_path):
    repo = make_repo({"lib.py": PAIRS, "tests/test_lib.py": PAIRS_TESTS})
    session = session_for(repo, tmp_path)
    cmd = VerifyCommand(name="tests", argv=[*PYTEST_ARGV, "tests"], timeout_s=60)
    outcome = await session.run(cmd)
    [f] = [f for f in outcome.findings if "test_pairs" in f.message]
    assert (f.file, f.line, f.kind) == ("lib.py", 2, Kind.EXCEPTION)  # the helper's raise
    found = await session.localise(outcome)
    assert [(s.file, s.line) for s in found] == [("lib.py", 9)]
    assert "`2` -> `1`" in found[0].message and "passing tests that run it still pass" in found[0].message
    assert (repo / "lib.py").read_text() == PAIRS


async def test_a_wrong_module_level_table_entry_is_localised(make_repo, tmp_path):
    repo = make_repo({"lib.py": LIMITS, "tests/test_lib.py": LIMITS_TESTS})
    session = session_for(repo, tmp_path)
    cmd = VerifyCommand(name="tests", argv=[*PYTEST_ARGV, "tests"], timeout_s=60)
    outcome = await session.run(cmd)
    assert [f.kind for f in outcome.findings] == [Kind.TEST_FAILURE]
    assert "expected 10, got 11" in outcome.findings[0].message
    found = await session.localise(outcome)
    assert [(s.file, s.line) for s in found] == [("lib.py", 3)]
    assert "`11` -> `10`" in found[0].message


PRATT = """class Parser:
    POWER = {
        "eof": 0,
        "num": 0,
        "plus": 10,
    }

    def expr(self, tokens, power=0):
        left = tokens.pop(0)
        while power < self.POWER[tokens[0]]:
            left = self.led(left, tokens)
        return left

    def led(self, left, tokens):
        raise ValueError(tokens[0])
"""
SPAN = """class Span:
    def __init__(self, days=0, weeks=0):
        self.total = days + weeks
        self.label = "span"

    def __str__(self):
        return f"{self.total} days"
"""


def test_class_attribute_tables_are_candidates():
    # The guard reads a class-level table through ``self``: each entry is a candidate.
    raised = Finding(file="p.py", line=15, kind=Kind.EXCEPTION, stage="sandbox", message="t: ValueError: x",
                     frames=(("tests/test_p.py", 3), ("p.py", 11), ("p.py", 15)))
    ev = gather([raised], lambda f: PRATT if f == "p.py" else None)
    ranked = {(f, n) for f, n, _ in combine([], ev)}
    assert {("p.py", 3), ("p.py", 4), ("p.py", 5)} <= ranked
    assert "class attribute `self.POWER`" in ev.reasons[("p.py", 4)]
    # Through the class's name too, from a spectrum line (class bodies run at import).
    ev = gather([], lambda f: PRATT.replace("self.POWER", "Parser.POWER"))
    assert ("p.py", 4) in {(f, n) for f, n, _ in combine([("p.py", 10, 1.0)], ev)}


def test_defaults_and_attributes_set_in_another_method_are_candidates():
    # ``__str__`` reads ``self.total``, set in ``__init__`` from parameters whose
    # defaults are evaluated at definition (never in a spectrum).
    ev = gather([], lambda f: SPAN if f == "s.py" else None)
    ranked = {(f, n) for f, n, _ in combine([("s.py", 7, 1.0)], ev)}
    assert {("s.py", 3), ("s.py", 2)} <= ranked
    assert "sets `self.total`" in ev.reasons[("s.py", 3)]
    assert "default of parameter" in ev.reasons[("s.py", 2)]
    assert ("s.py", 4) not in ranked  # an attribute the line does not read


def test_a_table_entry_ranks_with_the_line_that_reads_it():
    # Class bodies run at import, before any test: a table's entries never show in a
    # spectrum. Read by the guard of a call on the way to the raise, they rank with
    # that line's score, above the many lines the failing tests merely ran.
    raised = Finding(file="p.py", line=15, kind=Kind.EXCEPTION, stage="sandbox", message="t: ValueError: x",
                     frames=(("tests/test_p.py", 3), ("p.py", 11), ("p.py", 15)))
    ev = gather([raised], lambda f: PRATT if f == "p.py" else None)
    spectrum = [("p.py", n, 0.95) for n in (9, 10, 11, 15)] + [("lex.py", n, 0.9) for n in range(1, 40)]
    ranked = [(f, n) for f, n, _ in combine(spectrum, ev)]
    first_plumbing = ranked.index(("lex.py", 1))
    assert all(ranked.index(("p.py", n)) < first_plumbing for n in (3, 4, 5))
    assert ev.users[("p.py", 4)] == {("p.py", 10), ("p.py", 11)}  # the guard read, the call it guards
    # A value line with no user in the spectrum keeps its own evidence weight only.
    alone = combine([], gather([raised], lambda f: PRATT if f == "p.py" else None))
    assert dict(((f, n), s) for f, n, s in alone)[("p.py", 4)] < 0.9


def test_a_table_read_with_a_constant_key_names_that_entry():
    # ``self.POWER["plus"]`` reads one entry: that entry's line is the candidate, not its neighbours'.
    src = PRATT.replace("while power < self.POWER[tokens[0]]:", 'while power < self.POWER["plus"]:')
    raised = Finding(file="p.py", line=15, kind=Kind.EXCEPTION, stage="sandbox", message="t: ValueError: x",
                     frames=(("tests/test_p.py", 3), ("p.py", 11), ("p.py", 15)))
    ev = gather([raised], lambda f: src if f == "p.py" else None)
    assert ("p.py", 5) in ev.weights and not {("p.py", 3), ("p.py", 4)} & set(ev.weights)
    # Also read whole (or with a computed key) somewhere it is followed: every entry.
    both = src.replace("left = self.led(left, tokens)", "left = self.led(left, tokens, self.POWER)")
    ev = gather([raised], lambda f: both if f == "p.py" else None)
    assert {("p.py", 3), ("p.py", 4), ("p.py", 5)} <= set(ev.weights)
