"""Scores from leaves to the root, exactly as PaperBench rolls them up.

An internal node's score is the weighted mean of its children's scores; when
the children's weights sum to zero the node scores 0. Its ``valid_score`` is
true only when every child's is. The graded tree is written with PaperBench's
field names (``GradedTaskNode.to_dict``), so its tools read our ``grade.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from deepcode_tui.grade.rubric import Path_, TaskNode, _plain, path_key

AGGREGATED = "Aggregated score from sub-tasks."
NOT_GRADED = "not yet graded"


class LeafGrade(BaseModel):
    """The judge's verdict on one leaf (what the grading store persists)."""

    path: str  # path_key of the leaf
    id: str
    score: float = Field(ge=0, le=1)
    valid_score: bool
    explanation: str
    judge_metadata: dict[str, Any] | None = None


class GradedNode(BaseModel):
    id: str
    requirements: str
    weight: float
    score: float = 0.0
    valid_score: bool = False
    task_category: str | None = None
    explanation: str = NOT_GRADED
    judge_metadata: dict[str, Any] | None = None
    sub_tasks: list[GradedNode] = Field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "requirements": self.requirements,
            "weight": _plain(self.weight),
            "score": self.score,
            "valid_score": self.valid_score,
            "task_category": self.task_category,
            "explanation": self.explanation,
            "judge_metadata": self.judge_metadata,
            "sub_tasks": [c.to_dict() for c in self.sub_tasks],
        }

    def leaves(self) -> list[GradedNode]:
        if not self.sub_tasks:
            return [self]
        return [leaf for c in self.sub_tasks for leaf in c.leaves()]


def score_from_children(children: Sequence[GradedNode]) -> float:
    total = sum(c.weight for c in children)
    if total == 0:
        return 0.0
    return sum(c.score * c.weight for c in children) / total


def build_graded_tree(rubric: TaskNode, grades: Mapping[str, LeafGrade], path: Path_ = ()) -> GradedNode:
    """The graded tree of ``rubric`` from the leaf grades keyed by leaf path; a leaf
    without a grade scores 0 and is invalid ("not yet graded")."""
    if rubric.is_leaf():
        grade = grades.get(path_key(path))
        return GradedNode(
            id=rubric.id,
            requirements=rubric.requirements,
            weight=rubric.weight,
            task_category=rubric.task_category,
            score=grade.score if grade else 0.0,
            valid_score=grade.valid_score if grade else False,
            explanation=grade.explanation if grade else NOT_GRADED,
            judge_metadata=grade.judge_metadata if grade else None,
        )
    children = [build_graded_tree(c, grades, (*path, i)) for i, c in enumerate(rubric.sub_tasks)]
    return GradedNode(
        id=rubric.id,
        requirements=rubric.requirements,
        weight=rubric.weight,
        sub_tasks=children,
        score=score_from_children(children),
        valid_score=all(c.valid_score for c in children),
        explanation=AGGREGATED,
    )


def graded_from_dict(data: Mapping[str, Any]) -> GradedNode:
    """Read a ``graded_task_tree`` back (ours or PaperBench's)."""
    return GradedNode.model_validate(data)
