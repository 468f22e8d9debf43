"""The Rubric view of a finished run: the graded tree, the failed-only filter, grading from the
palette with a scripted judge (resumable), and the root score in the run list."""

from __future__ import annotations

import json

import pytest
from textual.widgets import DataTable, Tree

from deepcode_tui.config.loader import load_settings
from deepcode_tui.llm.scripted import register_script, unregister_script
from deepcode_tui.tui.app import DeepcodeApp
from deepcode_tui.tui.commands import available_commands
from deepcode_tui.tui.screens.rubric import RubricScreen
from tests.tui.finished_run import RUN_ID, make_finished_run
from tests.tui.waiting import wait_for

RUBRIC = {"id": "root", "requirements": "The paper is reproduced.", "weight": 1, "sub_tasks": [
    {"id": "a", "requirements": "Alpha is implemented.", "weight": 2, "sub_tasks": [], "task_category": "Code Development"},
    {"id": "b", "requirements": "Beta is implemented.", "weight": 1, "sub_tasks": [], "task_category": "Code Development"},
]}  # fmt: skip


def _judge(request) -> str:
    text = "\n".join(str(m.get("content") or "") for m in request.messages)
    score = 1 if "<criterion>\nAlpha" in text else 0
    return json.dumps({"expectations": "x", "reality": "y", "score": score, "explanation": f"verdict {score}"})


@pytest.fixture
def graded_app(tmp_path):
    runs, _ = make_finished_run(tmp_path)
    rubric = tmp_path / "rubric.json"
    rubric.write_text(json.dumps(RUBRIC))
    model = register_script("tui-judge", _judge)
    loaded = load_settings({"runs_dir": str(runs), "models": {"judge": model}}, cwd=tmp_path)
    yield DeepcodeApp(loaded, blink=False, cwd=tmp_path), runs, rubric
    unregister_script("tui-judge")


def _labels(tree: Tree) -> list[str]:
    out = []

    def walk(node):
        out.append(str(node.label))
        for c in node.children:
            walk(c)

    walk(tree.root)
    return out


async def test_grade_from_the_palette_then_view_filter_and_list(graded_app) -> None:
    app, runs, rubric = graded_app
    async with app.run_test(size=(140, 40)) as pilot:
        assert await app.open_run(RUN_ID, resume=False)
        await pilot.pause()
        names = [c.name for c in available_commands(app)]
        assert "rubric: view" in names and "rubric: grade or resume" in names
        next(c for c in available_commands(app) if c.name == "rubric: view").callback()
        await wait_for(pilot, lambda: isinstance(app.screen, RubricScreen) and app.screen.query("#rubric-tree"),
                       what="the rubric view")  # fmt: skip
        await pilot.pause()
        screen = app.screen
        assert "Not graded yet" in str(screen.query_one("#rubric-status").render())
        screen.query_one("#rubric-path").value = str(rubric)
        await pilot.press("g")
        await wait_for(pilot, lambda: not screen.grading and screen.output is not None, what="grading", timeout=30)
        tree = screen.query_one("#rubric-tree", Tree)
        labels = _labels(tree)
        assert labels[0].startswith(" 66.7%") and any(x.startswith("✓ 100.0%") and "Alpha" in x for x in labels)
        assert any(x.startswith("✗   0.0%") and "Beta" in x for x in labels)
        await pilot.press("f")
        await pilot.pause()
        filtered = _labels(screen.query_one("#rubric-tree", Tree))
        assert not any("Alpha" in x for x in filtered) and any("Beta" in x for x in filtered)
        assert "failed leaves only" in str(screen.query_one("#rubric-title").render())
        # Grading again resumes: no leaf is sent to the judge twice.
        from deepcode_tui.llm.scripted import get_script

        before = len(get_script("tui-judge").requests)
        await pilot.press("g")
        await wait_for(pilot, lambda: not screen.grading, what="the second grading", timeout=30)
        assert len(get_script("tui-judge").requests) == before
    grade_dir = runs / RUN_ID / "grade" / "rubric"
    assert json.loads((grade_dir / "score.json").read_text())["score"] == pytest.approx(2 / 3)


async def test_the_run_list_shows_the_newest_root_score(graded_app) -> None:
    app, runs, _ = graded_app
    out = runs / RUN_ID / "grade" / "x"
    out.mkdir(parents=True)
    (out / "score.json").write_text(json.dumps({"score": 0.875, "code_only": True, "num_leaf_nodes": 3}))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen.query("#start-runs") and app.screen.query_one("#start-runs", DataTable).row_count,
                       what="the run list")  # fmt: skip
        table = app.screen.query_one("#start-runs", DataTable)
        row = table.get_row(RUN_ID)
        assert any("CD 87.5%" in str(cell) for cell in row)
