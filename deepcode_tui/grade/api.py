"""One call that grades a finished run: what ``deepcode-tui batch --grade`` uses.

``grade_run(run_dir, rubric)`` grades the run's repository with the configured
judge (``models.judge``), the run's own document as the paper, and writes
``grade.json`` where the ``grade`` command would (so it resumes the same
way). ``rubric`` is a ``rubric.json`` file or a folder holding one (a corpus
paper's folder). Returns the summary, whose ``score`` is the root score.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from deepcode_tui.errors import InputError


def _rubric_file(rubric: Path) -> Path:
    rubric = Path(rubric)
    if rubric.is_dir():
        candidate = rubric / "rubric.json"
        if not candidate.is_file():
            raise InputError(f"{rubric} holds no rubric.json", "give a rubric.json or a folder with one")
        return candidate
    return rubric


def grade_run(run_dir: Path, rubric: Path, *, code_only: bool = False) -> Any:
    """Grade the run in ``run_dir`` against ``rubric``; the summary (with ``score``)."""
    from deepcode_tui.config import load_settings
    from deepcode_tui.grade.cli import _grade
    from deepcode_tui.grade.rubric import load_rubric
    from deepcode_tui.grade.target import resolve_target

    run_dir = Path(run_dir)
    rubric_path = _rubric_file(rubric)
    loaded = load_settings({"runs_dir": str(run_dir.parent)})
    tgt = resolve_target(run_dir.name, loaded.settings.runs_dir)

    class _Quiet:
        def print(self, *args: Any, **kwargs: Any) -> None:
            pass

    summary, _path = asyncio.run(_grade(tgt, load_rubric(rubric_path), rubric_path, loaded,
                                        {"code_only": code_only}, _Quiet()))
    return summary
