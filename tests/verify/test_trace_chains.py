"""Trace analysis of chained and handled exceptions, assertion values and
syntax-error locations, on output produced for real by pytest and python."""

from __future__ import annotations

from deepcode_tui.verify.findings import Kind
from deepcode_tui.verify.syntax_hints import unclosed_bracket_end
from deepcode_tui.verify.trace_assertions import comparison, split_values
from deepcode_tui.verify.traces import parse_output

from .test_traces import ctx_for, run

LIB = """TABLE = {"a": 1, "b": 2}


def err(msg, pos):
    raise ValueError(f"{msg} at {pos}")


def parse(s):
    pos = 0
    while pos < len(s):
        if s[pos] not in TABLE:
            err("bad char", pos + 1)
        pos += 1
    return pos


def wrap(s):
    try:
        return parse(s)
    except ValueError as e:
        raise RuntimeError("wrapped") from e
"""
TESTS = """import unittest

import pytest

from pkg.m import parse, wrap


class T(unittest.TestCase):
    def test_msg(self):
        try:
            parse("ax")
        except ValueError as e:
            self.assertEqual(str(e), "bad char at 1")


def test_plain():
    try:
        parse("ax")
    except ValueError as e:
        assert "bad char at 1" == str(e)


def test_wrap():
    assert wrap("ax") == 2


def test_raises():
    with pytest.raises(ValueError):
        parse("ab")
"""


def test_handled_exception_behind_an_assertion_is_the_assertion(make_repo):
    repo = make_repo({"pkg/__init__.py": "", "pkg/m.py": LIB, "tests/test_m.py": TESTS})
    out, code = run(repo, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=short", "-rfE")
    found = {f.message.split(":", 1)[0]: f for f in parse_output(out, ctx_for(repo), exit_code=code)}
    msg = found["T.test_msg"]
    assert (msg.file, msg.line, msg.kind) == ("tests/test_m.py", 13, Kind.TEST_FAILURE)
    assert "expected 'bad char at 1', got 'bad char at 2' (from `str(e)`)" in msg.message
    assert "raised while handling ValueError: bad char at 2 at pkg/m.py:5" in msg.message
    # The handled exception's frames stay as evidence, in order.
    assert msg.frames == (("tests/test_m.py", 11), ("pkg/m.py", 12), ("pkg/m.py", 5), ("tests/test_m.py", 13))
    # A literal on the left is the expected value (pytest's own assert).
    plain = found["test_plain"]
    assert plain.kind == Kind.TEST_FAILURE and "expected 'bad char at 1', got 'bad char at 2'" in plain.message
    # raise ... from: the wrapper failed the test, located where it was raised.
    wrapped = found["test_wrap"]
    assert (wrapped.file, wrapped.line, wrapped.kind) == ("pkg/m.py", 21, Kind.EXCEPTION)
    assert ("pkg/m.py", 5) in wrapped.frames
    # pytest.raises that saw nothing raised is the test's verdict.
    assert found["test_raises"].kind == Kind.TEST_FAILURE


def test_plain_traceback_chain_is_one_finding_at_the_last_exception(make_repo):
    repo = make_repo({"pkg/__init__.py": "", "pkg/m.py": LIB, "main.py": "from pkg.m import wrap\n\nwrap('ax')\n"})
    out, code = run(repo, "main.py")
    [f] = parse_output(out, ctx_for(repo), exit_code=code)
    assert (f.file, f.line) == ("pkg/m.py", 21) and "raised while handling ValueError" in f.message
    assert f.frames[:3] == (("pkg/m.py", 19), ("pkg/m.py", 12), ("pkg/m.py", 5))


def test_assertion_values():
    assert split_values("AssertionError: 'a != b' != 'c'") == ("'a != b'", "'c'")
    assert split_values("assert [1, 2] == [1, 3]") == ("[1, 2]", "[1, 3]")
    assert split_values("AssertionError: Lists differ: [1, 2] != [1, 3]") == ("[1, 2]", "[1, 3]")
    assert split_values("AssertionError: <Tok 'x' at 0x1> != <Tok 'y' at 0x2>") == ("<Tok 'x' at 0x1>",
                                                                                    "<Tok 'y' at 0x2>")
    assert split_values("AssertionError: False is not true") is None
    cmp = comparison(["AssertionError: 3 != 4"], "        self.assertEqual(f(x), expected)")
    assert (cmp.expected, cmp.actual, cmp.actual_expr) == ("4", "3", "f(x)")
    cmp = comparison(["assert 4 == 3"], "    assert EXPECTED == f(x)")
    assert (cmp.expected, cmp.actual, cmp.actual_expr) == ("4", "3", "f(x)")
    assert comparison(["assert 4 == 3"], None).expected == "3"


def test_collection_error_names_the_module_once(make_repo):
    # A package that fails to import: every test module's collection fails; none is
    # reported again without a line from the summary.
    repo = make_repo({"pkg/__init__.py": "from pkg.m import f\n", "pkg/m.py": "def f(:\n    pass\n",
                      "tests/test_a.py": "import pkg\n\n\ndef test_a():\n    pass\n",
                      "tests/test_b.py": "import pkg\n\n\ndef test_b():\n    pass\n"})
    out, code = run(repo, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=short", "-rfE")
    found = parse_output(out, ctx_for(repo), exit_code=code)
    assert {(f.file, f.line) for f in found} == {("pkg/m.py", 1)}


def test_missing_closer_in_a_call_spanning_lines(make_repo):
    src = "def g(a, b):\n    return a + b\n\n\nx = g(1,\n      2\ny = 3\n"
    assert unclosed_bracket_end(src, 5) == 6
    assert unclosed_bracket_end("x = g(1, 2\n\ndef h():\n    pass\n", 1) is None
    repo = make_repo({"pkg/__init__.py": "", "pkg/m.py": src, "tests/test_a.py": "import pkg.m\n\n\ndef test_a():\n"
                                                                              "    pass\n"})
    out, code = run(repo, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=short", "-rfE")
    found = {(f.file, f.line) for f in parse_output(out, ctx_for(repo), exit_code=code)}
    assert found == {("pkg/m.py", 5), ("pkg/m.py", 6)}
    out, code = run(repo, "-c", "import pkg.m")
    assert ("pkg/m.py", 6) in {(f.file, f.line) for f in parse_output(out, ctx_for(repo), exit_code=code)}


def test_invalid_syntax_after_a_bracket_left_open(make_repo):
    src = "def f():\n    x = g(1,\n          2\n    return x\n"
    repo = make_repo({"m.py": src})
    out, code = run(repo, "m.py")
    found = {(f.file, f.line) for f in parse_output(out, ctx_for(repo), exit_code=code)}
    assert ("m.py", 3) in found  # the closer belongs after "2"
    # A syntax error with no open bracket gets no second location.
    repo = make_repo({"m.py": "def f()\n    return 1\n"}, name="plain")
    out, code = run(repo, "m.py")
    assert {(f.file, f.line) for f in parse_output(out, ctx_for(repo), exit_code=code)} == {("m.py", 1)}
