"""Scores for a graded batch, from the `grade` command of the PaperBench work.

That command lives in ``deepcode_tui.grade`` (written in parallel): it is
imported lazily and, when it is not there, a batch runs ungraded and says
so. The hook expects ``grade_run(run_dir, rubric_path) -> score`` where the
score is a float in [0, 1], or an object with ``score``, or a dict with
``"score"``.
"""

from __future__ import annotations

import importlib
import math
from pathlib import Path
from typing import Any


def grader() -> tuple[Any, str]:
    """(grade_run, "") or (None, why grading is unavailable)."""
    try:
        module = importlib.import_module("deepcode_tui.grade")
    except ImportError:
        return None, "grading is not available in this version (deepcode_tui.grade is missing); scores omitted"
    fn = getattr(module, "grade_run", None)
    if fn is None:
        return None, "deepcode_tui.grade has no grade_run(run_dir, rubric); scores omitted"
    return fn, ""


def rubric_for(rubric_dir: Path, stem: str) -> Path | None:
    """``RUBRIC_DIR/<stem>/`` or ``RUBRIC_DIR/<stem>.json``, whichever exists."""
    for candidate in (rubric_dir / stem, rubric_dir / f"{stem}.json"):
        if candidate.exists():
            return candidate
    return None


def _as_score(value: Any) -> float | None:
    if isinstance(value, dict):
        value = value.get("score")
    else:
        value = getattr(value, "score", value)
    try:
        score = float(value)
    except (TypeError, ValueError):
        return None
    return score if math.isfinite(score) else None


def grade(run_dir: Path, rubric_dir: Path, stem: str) -> tuple[float | None, str]:
    """Grade one finished run: (score, note); the note says why there is no score."""
    fn, why = grader()
    if fn is None:
        return None, why
    rubric = rubric_for(rubric_dir, stem)
    if rubric is None:
        return None, f"no rubric {rubric_dir / stem} (or {stem}.json)"
    try:
        score = _as_score(fn(run_dir, rubric))
    except Exception as exc:  # noqa: BLE001 - a grading failure is noted, the batch result stands
        return None, f"grading failed: {type(exc).__name__}: {exc}"
    return (score, "") if score is not None else (None, "the grader returned no score")


def mean_and_stderr(scores: list[float]) -> tuple[float | None, float | None]:
    """The mean and its standard error (sample standard deviation / sqrt(n))."""
    if not scores:
        return None, None
    mean = sum(scores) / len(scores)
    if len(scores) < 2:
        return mean, None
    var = sum((s - mean) ** 2 for s in scores) / (len(scores) - 1)
    return mean, math.sqrt(var / len(scores))
