"""Shared pieces of the grading tests: a small rubric, a small submission, a scripted judge."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from pathlib import Path

from deepcode_tui.config.settings import Settings
from deepcode_tui.grade.rubric import TaskNode, rubric_from_data
from deepcode_tui.grade.runner import GradeOptions, grade_submission
from deepcode_tui.llm.gateway import Gateway
from deepcode_tui.llm.scripted import register_script

_ids = itertools.count()


def leaf(i: str, text: str, cat: str = "Code Development", weight: int = 1) -> dict:
    return {"id": i, "requirements": text, "weight": weight, "sub_tasks": [], "task_category": cat}


def small_rubric() -> TaskNode:
    return rubric_from_data({"id": "root", "requirements": "The method is reproduced.", "weight": 1, "sub_tasks": [
        {"id": "impl", "requirements": "The detector is implemented.", "weight": 3, "sub_tasks": [
            leaf("ema", "The exponential moving average of the mean is updated with smoothing factor alpha."),
            leaf("z", "The z-score is computed from the running mean and variance."),
        ]},
        {"id": "eval", "requirements": "The evaluation runs.", "weight": 1, "sub_tasks": [
            leaf("f1", "F1 is computed on the synthetic stream.", "Code Execution"),
            leaf("tab", "The F1 reported matches the paper's table.", "Result Analysis"),
        ]},
    ]})  # fmt: skip


def small_repo(root: Path) -> Path:
    (root / "emaz").mkdir(parents=True)
    (root / "README.md").write_text("# EMA-Z\n\nImplements the detector in emaz/detector.py.\n")
    (root / "emaz" / "detector.py").write_text(
        "class EMAZ:\n    def __init__(self, alpha):\n        self.alpha = alpha\n"
        "    def update(self, x):\n        self.mean = self.alpha * x + (1 - self.alpha) * self.mean\n"
        "        z = (x - self.mean) / self.variance ** 0.5\n        return z\n"
    )
    (root / "emaz" / "evaluate.py").write_text("def f1(tp, fp, fn):\n    return 2 * tp / (2 * tp + fp + fn)\n")
    return root


def verdict(score: int = 1, why: str = "implemented") -> str:
    return json.dumps({"expectations": "an EMA update", "reality": f"emaz/detector.py: {why}", "score": score,
                       "explanation": why})  # fmt: skip


def leaf_of(request) -> str:
    """The leaf path a judge request is about (from the criterion message)."""
    text = "\n".join(str(m.get("content") or "") for m in request.messages)
    found = re.search(r"<criterion>\n(.*?)\n</criterion>", text, re.DOTALL)
    return found.group(1) if found else ""


def judge_settings(responder, tmp_path: Path, *, name: str = "", **script_kw) -> Settings:
    name = name or f"judge{next(_ids)}"
    model = register_script(name, responder, **script_kw)
    return Settings(runs_dir=tmp_path / "runs", models={"judge": model})


async def _no_wait(seconds: float) -> None:
    """Retry backoff without the wait: these tests are about what a reply leads to, not when."""


def run_grade(settings: Settings, repo: Path, rubric: TaskNode, out: Path, *, paper: str = "EMA-Z paper.",
              record: Path | None = None, replay: Path | None = None, **opts):
    async def go():
        gateway = Gateway(settings, run_dir=out, record_dir=record, replay_dir=replay, sleep=_no_wait)
        try:
            return await grade_submission(
                gateway, repo, rubric, paper=paper, addendum="", out_dir=out,
                options=GradeOptions(rubric_path="rubric.json", **opts),
            )
        finally:
            await gateway.aclose()

    return asyncio.run(go())  # fmt: skip
