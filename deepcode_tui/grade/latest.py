"""The gradings of a run, for listings: ``<run>/grade/<name>/score.json`` (small, written with grade.json)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ValidationError


class GradingSummary(BaseModel):
    name: str = ""
    score: float
    code_only: bool = False
    rubric: str = ""
    graded_at: str = ""
    num_leaf_nodes: int = 0
    num_invalid_leaf_nodes: int = 0


def score_record(output: dict) -> dict:
    extra = output.get("deepcode") or {}
    return {
        "score": output["score"],
        "code_only": bool(extra.get("code_only")),
        "rubric": extra.get("rubric", ""),
        "graded_at": output.get("graded_at", ""),
        "num_leaf_nodes": output.get("num_leaf_nodes", 0),
        "num_invalid_leaf_nodes": output.get("num_invalid_leaf_nodes", 0),
    }


def gradings(run_dir: Path) -> list[tuple[Path, GradingSummary]]:
    """Finished gradings of the run, newest first."""
    found = []
    base = Path(run_dir) / "grade"
    if not base.is_dir():
        return []
    for d in base.iterdir():
        p = d / "score.json"
        try:
            if d.is_symlink() or not p.is_file():
                continue
            summary = GradingSummary.model_validate({**json.loads(p.read_text(encoding="utf-8")), "name": d.name})
            found.append((p.stat().st_mtime, d, summary))
        except (OSError, ValueError, ValidationError):
            continue
    return [(d, s) for _, d, s in sorted(found, key=lambda x: (-x[0], x[1].name))]


def latest_score(run_dir: Path) -> str:
    """The newest root score as the run list shows it ("87.7%", "CD 96.3%"), or ""."""
    found = gradings(run_dir)
    if not found:
        return ""
    s = found[0][1]
    return f"{'CD ' if s.code_only else ''}{s.score * 100:.1f}%"
