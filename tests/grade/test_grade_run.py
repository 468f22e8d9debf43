"""grade_run: what a graded batch calls for each finished run."""

from __future__ import annotations

import json

from deepcode_tui.batch.grading import grade
from deepcode_tui.store.run import RunStore
from tests.grade.helpers import judge_settings, small_repo, verdict


def test_grade_run_scores_a_run_through_the_batch_hook(tmp_path, monkeypatch):
    settings = judge_settings(lambda request: verdict(1), tmp_path)
    monkeypatch.setenv("DEEPCODE_MODELS__JUDGE", settings.models.judge)
    doc = tmp_path / "paper.md"
    doc.write_text("# EMA-Z\n\nThe detector updates an exponential moving average.\n")
    store = RunStore.create(tmp_path / "runs", doc)
    small_repo(store.repo_dir)
    store.close()
    rubrics = tmp_path / "rubrics" / "paper"
    rubrics.mkdir(parents=True)
    (rubrics / "rubric.json").write_text(json.dumps({"id": "root", "requirements": "Reproduced.", "weight": 1,
        "sub_tasks": [{"id": "a", "requirements": "The EMA update is implemented.", "weight": 1,
                       "task_category": "Code Development", "sub_tasks": []}]}))  # fmt: skip
    score, note = grade(store.root, tmp_path / "rubrics", "paper")
    assert score == 1.0, note
