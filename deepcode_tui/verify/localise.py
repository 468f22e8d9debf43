"""Spectrum-based fault localisation for failures only a test assertion shows.

When a test fails on an assertion in the test itself (an off-by-one returns
a wrong value; no frame points into the code), the failing test files are
run again with a small pytest plugin that records, per test, which lines of
the repo's own (non-test) code ran. Lines are ranked by the Ochiai score
``ef / sqrt(F * (ef + ep))`` (ef/ep: failing/passing tests that ran the line,
F: failing tests). The top-ranked lines become ``suspect_line`` findings
(warnings: they point at likely causes, they are not failures themselves).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath

from .findings import Finding, Kind
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


def ochiai(spectra: Mapping[str, Sequence[Sequence]], outcomes: Mapping[str, str]) -> list[tuple[str, int, float]]:
    """(file, line, score) for every line run by a failing test, best first.
    Ties keep the order in which the first failing test ran the lines' files."""
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
    scored.sort(key=lambda x: (-x[2], ep.get((x[0], x[1]), 0), x[0], x[1]))
    return scored


def suspects(report_json: str, *, top: int = 3, min_score: float = 0.3) -> list[Finding]:
    """Findings for the best-ranked lines of a plugin report (at most ``top``; only
    lines tied with, or close to, the best score)."""
    try:
        data = json.loads(report_json)
        ranked = ochiai(data.get("spectra", {}), data.get("outcomes", {}))
    except (ValueError, TypeError, AttributeError):
        return []
    if not ranked or ranked[0][2] < min_score:
        return []
    best = ranked[0][2]
    out = []
    for file, line, score in ranked[:top]:
        if score < best * 0.999 or is_test_file(file) or PurePosixPath(file).suffix != ".py":
            continue
        out.append(Finding(file=file, line=line, kind=SUSPECT_LINE, stage="sandbox", severity="warning",
                           message=f"ran in every failing test and in few passing ones (Ochiai {score:.2f}): "
                                   "a likely cause of the assertion failures"))
    return out


def needs_localisation(findings: Sequence[Finding]) -> list[str]:
    """Failing test files whose failures show no frame in the code under test."""
    files = []
    for f in findings:
        if f.kind == Kind.TEST_FAILURE and f.file and not any(not is_test_file(r) for r in f.related):
            files.append(f.file)
    return list(dict.fromkeys(files))
