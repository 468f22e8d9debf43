"""Spectrum-based fault localisation for failures only a test assertion shows.

When a test fails on an assertion in the test itself (an off-by-one returns
a wrong value; no frame points into the code), the tests are run again with
a small pytest plugin that records, per test, which lines of the repo's own
(non-test) code ran (see ``SandboxSession.localise``: the command's whole
test selection, so passing tests elsewhere clear innocent lines). Lines are ranked by the Ochiai score
``ef / sqrt(F * (ef + ep))`` (ef/ep: failing/passing tests that ran the line,
F: failing tests). The top-ranked lines become ``suspect_line`` findings
(warnings: they point at likely causes, they are not failures themselves).

Lines of one basic block run in exactly the same tests, so their scores tie
and the spectrum cannot tell them apart. Ties are broken by a prior over what
a line computes: a failure that shows only as a wrong value asserted in a test
comes from a line that computes a value where an edge can be off, rather than
from plumbing (calls that pass values on, ``with``, ``yield x``, plain
returns); lines holding more kinds of such expressions (comparison,
arithmetic, index or slice, numeric literal, ``range``/``len``-style bound)
come first. The prior only orders lines whose scores tie; it never lifts a
line above a better-scored one.
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from deepcode_tui import safe_fs
from .findings import Finding, Kind
from .localise_evidence import Evidence, failing_test_file, localisable
from .trace_context import is_test_file

SUSPECT_LINE = Kind.SUSPECT_LINE

# Written into the sandbox helpers directory and loaded with ``-p deepcode_sbfl``.
PLUGIN_SOURCE = '''\
"""deepcode-tui: per-test line coverage of the repo's own code (fault localisation)."""
import json
import os
import sys
import threading

import pytest

_ROOT = os.environ.get("DEEPCODE_SBFL_ROOT", "/work").rstrip("/") + "/"
_OUT = os.environ.get("DEEPCODE_SBFL_OUT")
_SKIP = ("/site-packages/", "/dist-packages/", "/tests/", "/test/", "/.venv")
_lines = set()
_spectra = {}
_outcomes = {}


def _is_own(path):
    if not path.startswith(_ROOT) or any(s in path[len(_ROOT) - 1:] for s in _SKIP):
        return False
    name = os.path.basename(path)
    return not (name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py")


def _local(frame, event, arg):
    if event == "line":
        _lines.add((frame.f_code.co_filename, frame.f_lineno))
    return _local


def _global(frame, event, arg):
    return _local if _is_own(frame.f_code.co_filename) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    _lines.clear()
    threading.settrace(_global)
    sys.settrace(_global)
    try:
        yield
    finally:
        sys.settrace(None)
        threading.settrace(None)
        _spectra[item.nodeid] = sorted(_lines)


def pytest_runtest_logreport(report):
    if report.when == "call" and report.outcome in ("passed", "failed") and not hasattr(report, "wasxfail"):
        _outcomes[report.nodeid] = report.outcome


def pytest_sessionfinish(session):
    if _OUT:
        spectra = {k: [[f[len(_ROOT):], n] for f, n in v] for k, v in _spectra.items() if k in _outcomes}
        with open(_OUT, "w") as fh:
            json.dump({"spectra": spectra, "outcomes": _outcomes}, fh)
'''


_BOUND_CALLS = {"range", "len", "enumerate", "min", "max", "abs", "round", "divmod", "slice"}
_ARITH = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift)


def value_kinds(source: str) -> dict[int, int]:
    """For each line of ``source``, how many kinds of expression whose edges can be
    off by one it holds: comparison, arithmetic (also augmented and unary minus),
    subscript or slice, numeric literal (not a bool), call of a bound-like builtin
    (``range``, ``len``, ``min``...). Lines with none are absent; {} when the
    source does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    kinds: dict[int, set[str]] = {}
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if line is None:
            continue
        if isinstance(node, ast.Compare):
            kind = "compare"
        elif (isinstance(node, ast.BinOp | ast.AugAssign) and isinstance(node.op, _ARITH)) or (
                isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)):
            kind = "arithmetic"
        elif isinstance(node, ast.Subscript | ast.Slice):
            kind = "index"
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
            kind = "number"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _BOUND_CALLS:
            kind = "bound"
        else:
            continue
        kinds.setdefault(line, set()).add(kind)
    return {line: len(k) for line, k in kinds.items()}


def value_lines(source: str) -> set[int]:
    """The lines :func:`value_kinds` counts."""
    return set(value_kinds(source))


def read_repo_file(repo: Path, rel: str) -> str | None:
    """The text of ``rel`` when it is a readable file inside ``repo``, else None
    (report paths come from code that ran in the sandbox: never trusted to stay inside)."""
    try:
        return safe_fs.read_text(repo, rel)
    except (OSError, ValueError):
        return None


def repo_prior(repo: Path) -> Callable[[str, int], float]:
    """A tie-breaking prior for :func:`ochiai`: :func:`value_kinds` of the line in
    the repo's current file (0 for other lines; files read once, lazily)."""
    cache: dict[str, dict[int, int]] = {}

    def prior(file: str, line: int) -> float:
        if file not in cache:
            text = read_repo_file(repo, file) if file.endswith(".py") else None
            cache[file] = value_kinds(text) if text is not None else {}
        return float(cache[file].get(line, 0))

    return prior


def ochiai(
    spectra: Mapping[str, Sequence[Sequence]],
    outcomes: Mapping[str, str],
    prior: Callable[[str, int], float] | None = None,
) -> list[tuple[str, int, float]]:
    """(file, line, score) for every line run by a failing test, best first.
    Equal scores: fewer passing tests first, then the higher ``prior`` (if
    given), then file and line order."""
    failing = [t for t, o in outcomes.items() if o == "failed"]
    if not failing:
        return []
    ef: dict[tuple[str, int], int] = {}
    ep: dict[tuple[str, int], int] = {}
    for test, lines in spectra.items():
        target = ef if outcomes.get(test) == "failed" else ep if outcomes.get(test) == "passed" else None
        if target is None:
            continue
        for file, line in {(str(f), int(n)) for f, n in lines}:
            target[(file, line)] = target.get((file, line), 0) + 1
    scored = [(f, n, c / math.sqrt(len(failing) * (c + ep.get((f, n), 0)))) for (f, n), c in ef.items()]
    # Scores are rounded so float noise cannot split a real tie before the prior decides.
    scored.sort(key=lambda x: (-round(x[2], 9), ep.get((x[0], x[1]), 0),
                               -(prior(x[0], x[1]) if prior else 0.0), x[0], x[1]))
    return scored


def rank(report_json: str, repo: Path | None = None) -> tuple[list[tuple[str, int, float]], list[str]]:
    """The Ochiai ranking of a plugin report's own (non-test) Python lines, and
    the failing test ids; ([], []) for a report that does not parse. With
    ``repo``, tied lines are ordered by :func:`repo_prior`."""
    try:
        data = json.loads(report_json)
        spectra, outcomes = data.get("spectra", {}), data.get("outcomes", {})
        own = {t: [(f, n) for f, n in lines if not is_test_file(str(f)) and str(f).endswith(".py")]
               for t, lines in spectra.items()}
        ranked = ochiai(own, outcomes, repo_prior(repo) if repo is not None else None)
        failing = [str(t) for t, o in outcomes.items() if o == "failed"]
    except (ValueError, TypeError, AttributeError):
        return [], []
    return ranked, failing


def suspects(report_json: str, *, top: int = 3, min_score: float = 0.3, repo: Path | None = None) -> list[Finding]:
    """Findings for the best-ranked lines of a plugin report (at most ``top``; only
    lines tied with, or close to, the best score). With ``repo``, tied lines are
    ordered by :func:`repo_prior` of the repo's current files."""
    return ranked_suspects(rank(report_json, repo)[0], top=top, min_score=min_score)


def ranked_suspects(ranked: Sequence[tuple[str, int, float]], *, top: int = 3,
                    min_score: float = 0.3, evidence: Evidence | None = None) -> list[Finding]:
    """:func:`suspects` from a ranking :func:`rank` already made. With the
    traceback's ``evidence`` (the ranking then comes from ``localise_evidence.combine``)
    the best ``top`` lines are kept whatever their ties, each saying why it is ranked."""
    if not ranked or ranked[0][2] < min_score:
        return []
    if evidence is not None and not evidence.weights:
        evidence = None  # nothing but the spectrum: its ties decide
    best = ranked[0][2]
    out = []
    for file, line, score in ranked[:top]:
        why = evidence.reasons.get((file, line)) if evidence is not None else None
        if evidence is None and score < best * 0.999:
            continue
        if evidence is not None and score < min_score:
            break
        if why:
            message = f"{why}; ranked with the test spectrum (score {score:.2f}): a likely cause of the failure"
        else:
            message = (f"ran in every failing test and in few passing ones (Ochiai {min(score, 1.0):.2f}): "
                       "a likely cause of the assertion failures")
        out.append(Finding(file=file, line=line, kind=SUSPECT_LINE, stage="sandbox", severity="warning",
                           message=message))
    return out


def _spread(items: Sequence[str], limit: int) -> list[str]:
    """At most ``limit`` of ``items``, evenly spaced (the first always kept)."""
    if len(items) <= limit:
        return list(items)
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def guard_tests(report_json: str, failing: Sequence[str], *, limit: int = 100) -> Callable[[str, int], list[str]]:
    """For a line, passing tests of a plugin report that ran it (those in the failing
    tests' files first); for a line no test ran (module-level code runs at import),
    passing tests from the failing tests' files, else any. A mutant that fixes the
    failing tests is re-run against these: a fix that breaks them is a weaker one.
    Many, spread over the list when there are more than ``limit``: a change that
    compensates for the fault elsewhere (a caller's argument) passes the tests
    next to the failing ones and breaks a few far from them."""
    try:
        data = json.loads(report_json)
        spectra, outcomes = data.get("spectra", {}), data.get("outcomes", {})
    except (ValueError, TypeError, AttributeError):
        return lambda file, line: []
    failing_files = {t.split("::", 1)[0] for t in failing}
    passing = sorted((t for t, o in outcomes.items() if o == "passed"),
                     key=lambda t: (t.split("::", 1)[0] not in failing_files, t))
    by_line: dict[tuple[str, int], list[str]] = {}
    for test in passing:
        for f, n in spectra.get(test, []):
            by_line.setdefault((str(f), int(n)), []).append(test)
    nearby = _spread([t for t in passing if t.split("::", 1)[0] in failing_files] or passing, limit)

    def guards(file: str, line: int) -> list[str]:
        ran = by_line.get((file, line))
        return _spread(ran, limit) if ran else nearby

    return guards


def needs_localisation(findings: Sequence[Finding]) -> list[str]:
    """Failing test files of the failures worth localising (see
    :func:`.localise_evidence.localisable`)."""
    return list(dict.fromkeys(f for f in map(failing_test_file, localisable(findings)) if f))
