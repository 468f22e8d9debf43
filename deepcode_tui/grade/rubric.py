"""PaperBench rubrics: the requirement tree a submission is graded against.

The format is PaperBench's own (``rubric.json``): nodes of ``id``,
``requirements``, ``weight``, ``sub_tasks``, ``task_category`` and
``finegrained_task_category``. A leaf carries a task category; an internal
node carries none. Ids are not unique in every published rubric, so a node
is addressed by its position (``path``: child indices from the root).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from deepcode_tui.errors import InputError

TASK_CATEGORIES = ("Code Development", "Code Execution", "Result Analysis")
CODE_DEVELOPMENT = "Code Development"

# What the judge is asked about a leaf of each category (PaperBench's questions, in our words).
CATEGORY_QUESTIONS = {
    "Code Development": (
        "Does the submission's code contain a correct implementation of this requirement? "
        "Instructions or descriptions of an implementation do not count: there must be actual code."
    ),
    "Code Execution": "Does running the submission's reproduce.sh successfully execute this?",
    "Result Analysis": "Did running reproduce.sh produce evidence that agrees with these results?",
}

Path_ = tuple[int, ...]


class TaskNode(BaseModel):
    """One requirement of a rubric."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    requirements: str
    weight: float = Field(ge=0)
    sub_tasks: tuple[TaskNode, ...] = ()
    task_category: str | None = None
    finegrained_task_category: str | None = None

    @field_validator("weight", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("weight must be a number")  # noqa: TRY004 - pydantic reports ValueErrors
        return value

    @model_validator(mode="after")
    def _category_rules(self) -> TaskNode:
        if self.sub_tasks and self.task_category:
            raise ValueError(f"internal node {self.id!r} has a task_category ({self.task_category!r})")
        if not self.sub_tasks and self.task_category not in TASK_CATEGORIES:
            raise ValueError(
                f"leaf {self.id!r} has task_category {self.task_category!r}; expected one of {', '.join(TASK_CATEGORIES)}"
            )
        return self

    def is_leaf(self) -> bool:
        return not self.sub_tasks

    def walk(self, path: Path_ = ()) -> Iterator[tuple[Path_, TaskNode]]:
        """Every node depth-first with its path (the root's path is ``()``)."""
        yield path, self
        for i, child in enumerate(self.sub_tasks):
            yield from child.walk((*path, i))

    def leaves(self) -> list[tuple[Path_, TaskNode]]:
        return [(p, n) for p, n in self.walk() if n.is_leaf()]

    def node_at(self, path: Path_) -> TaskNode:
        node = self
        for i in path:
            node = node.sub_tasks[i]
        return node

    def prior_nodes(self, path: Path_) -> list[TaskNode]:
        """The context PaperBench shows the judge for the node at ``path``: the root, then for
        each step down the preceding siblings and the ancestor itself, without the node."""
        if not path:
            return []
        out: list[TaskNode] = [self]
        node = self
        for i in path:
            out.extend(node.sub_tasks[: i + 1])
            node = node.sub_tasks[i]
        return out[:-1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "requirements": self.requirements,
            "weight": _plain(self.weight),
            "sub_tasks": [c.to_dict() for c in self.sub_tasks],
            "task_category": self.task_category,
            "finegrained_task_category": self.finegrained_task_category,
        }


def _plain(weight: float) -> int | float:
    return int(weight) if float(weight).is_integer() else weight


def reduce_to_category(node: TaskNode, category: str) -> TaskNode | None:
    """PaperBench's pruning: drop every leaf not of ``category`` and every internal node
    left without children; weights are kept as they are."""
    if node.is_leaf():
        return node if node.task_category == category else None
    kept = tuple(c for c in (reduce_to_category(s, category) for s in node.sub_tasks) if c is not None)
    if not kept:
        return None
    return node.model_copy(update={"sub_tasks": kept})


def code_only(rubric: TaskNode) -> TaskNode:
    """The Code-Dev rubric. A rubric without any Code Development leaf becomes its root
    alone, graded as one Code Development leaf (what PaperBench's grader does)."""
    pruned = reduce_to_category(rubric, CODE_DEVELOPMENT)
    if pruned is not None:
        return pruned
    return rubric.model_copy(update={"sub_tasks": (), "task_category": CODE_DEVELOPMENT})


def rubric_from_data(data: Any, *, source: str = "rubric") -> TaskNode:
    try:
        return TaskNode.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise InputError(
            f"{source} is not a PaperBench rubric: {where}: {first['msg']}",
            "give a rubric.json of nodes {id, requirements, weight, sub_tasks, task_category}",
        ) from None


def load_rubric(path: Path) -> TaskNode:
    """Read ``rubric.json``; raises InputError naming what is wrong."""
    path = Path(path)
    try:
        if not path.is_file():
            raise InputError(f"rubric {path} does not exist or is not a file", "give the path of a rubric.json")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"rubric {path} cannot be read ({exc})", "give a readable rubric.json") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"rubric {path} is not valid JSON (line {exc.lineno}: {exc.msg})", "fix the JSON or give another rubric"
        ) from None
    return rubric_from_data(data, source=f"rubric {path}")


def fingerprint(rubric: TaskNode) -> str:
    """A stable hash of the rubric as graded (after any pruning)."""
    text = json.dumps(rubric.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def path_key(path: Path_) -> str:
    return ".".join(str(i) for i in path) or "root"
