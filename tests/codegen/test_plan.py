"""CodegenPlan: ordering and validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from deepcode_tui.codegen.plan import CodegenPlan, PlannedFile


def paths(files):
    return [f.path for f in files]


def test_dependency_order_then_stage_then_position():
    plan = CodegenPlan(
        files=[
            PlannedFile(path="train.py", dependencies=["model.py", "data.py"], stage=2),
            PlannedFile(path="model.py", dependencies=["layers.py"], stage=1),
            PlannedFile(path="README.md", stage=3),
            PlannedFile(path="data.py", stage=0),
            PlannedFile(path="layers.py", stage=1),
            PlannedFile(path="utils.py", stage=0),
        ]
    )
    assert paths(plan.order()) == ["data.py", "utils.py", "layers.py", "model.py", "train.py", "README.md"]


def test_dependencies_outside_the_plan_are_ignored_and_cycles_broken():
    plan = CodegenPlan(
        files=[
            PlannedFile(path="a.py", dependencies=["b.py", "external.py"]),
            PlannedFile(path="b.py", dependencies=["a.py"]),
            PlannedFile(path="c.py", dependencies=["b.py"]),
        ]
    )
    order = paths(plan.order())
    assert order == ["a.py", "b.py", "c.py"]
    assert len(order) == len(set(order)) == 3


def test_paths_are_normalised_and_language_inferred():
    f = PlannedFile(path="./src//model.py", dependencies=["./src/a.py", "src/a.py"], consumers=["x\\y.ts"])
    assert f.path == "src/model.py" and f.dependencies == ["src/a.py"] and f.consumers == ["x/y.ts"]
    assert f.language == "python" and PlannedFile(path="a.tsx").language == "tsx"
    assert PlannedFile(path="requirements.txt").language is None
    assert PlannedFile(path="../escape.py").path == "../escape.py"  # kept, so the loop can reject it


def test_duplicate_paths_are_refused():
    with pytest.raises(ValidationError, match="lists 'a.py' twice"):
        CodegenPlan(files=[PlannedFile(path="a.py"), PlannedFile(path="./a.py")])


def test_consumers_of_combines_declared_and_reverse_dependencies():
    plan = CodegenPlan(
        files=[
            PlannedFile(path="lib.py", consumers=["app.py"]),
            PlannedFile(path="app.py", dependencies=["lib.py"]),
            PlannedFile(path="cli.py", dependencies=["lib.py"]),
        ]
    )
    assert plan.consumers_of("lib.py") == ["app.py", "cli.py"]
    assert plan.get("./cli.py").path == "cli.py" and plan.get("nope.py") is None
