"""Grading benchmark: our machinery on the largest corpus rubric with a scripted judge.

The judge answers instantly (a scripted model through the real gateway), so the
figures measure what we add: eligible files, ranking, budgeting, prompt assembly,
the gateway, the resumable store and the rollup. The submission is a real code
base nobody wrote for this (default: the installed `rich` package, offline).
Prints:

  (a) leaves per second of the whole grade (and per-leaf milliseconds);
  (b) tokens sent per leaf (mean, max) against the per-leaf budget;
  (c) the share of the submission's eligible files read per leaf (mean, max)
      and how many leaves had a file cut to fit.

Run: .venv/bin/python scripts/bench_grade.py [--rubric PATH] [--submission DIR] [--leaf-tokens N] [--leaves N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deepcode_tui.config.settings import Settings
from deepcode_tui.grade.rubric import TaskNode, load_rubric
from deepcode_tui.grade.runner import LEAF_TOKENS, GradeOptions, grade_submission
from deepcode_tui.llm.gateway import Gateway
from deepcode_tui.llm.scripted import ScriptedReply, register_script
from deepcode_tui.llm.types import Usage

CORPUS = ROOT.parent / "shared" / "corpus" / "papers"
VERDICT = json.dumps({"expectations": "e", "reality": "r", "score": 1, "explanation": "ok"})


def largest_rubric() -> Path:
    paths = sorted(CORPUS.glob("*/rubric.json")) or sorted(Path("/work/shared/corpus/papers").glob("*/rubric.json"))
    if not paths:
        raise SystemExit("no corpus rubrics found (../shared/corpus/papers/*/rubric.json)")
    return max(paths, key=lambda p: len(load_rubric(p).leaves()))


def first_leaves(rubric: TaskNode, n: int) -> TaskNode:
    """The rubric cut to its first ``n`` leaves (for a quick run)."""
    budget = [n]

    def cut(node: TaskNode) -> TaskNode | None:
        if budget[0] <= 0:
            return None
        if node.is_leaf():
            budget[0] -= 1
            return node
        kids = tuple(k for k in (cut(c) for c in node.sub_tasks) if k is not None)
        return node.model_copy(update={"sub_tasks": kids}) if kids else None

    return cut(rubric) or rubric


async def run(rubric: TaskNode, rubric_path: Path, submission: Path, paper: str, leaf_tokens: int) -> tuple[dict, float]:
    # The reply states its usage, so the scripted provider does not count the prompt: that
    # would be the judge's work, not ours.
    reply = ScriptedReply(text=VERDICT, usage=Usage(prompt_tokens=1, completion_tokens=1))
    model = register_script("bench-judge", lambda request: reply)
    out = Path(tempfile.mkdtemp(prefix="bench-grade-"))
    gateway = Gateway(Settings(models={"judge": model}), run_dir=out)
    started = time.perf_counter()
    try:
        result = await grade_submission(
            gateway, submission, rubric, paper=paper, addendum="", out_dir=out,
            options=GradeOptions(rubric_path=str(rubric_path), leaf_tokens=leaf_tokens),
        )  # fmt: skip
    finally:
        await gateway.aclose()
    return result.output, time.perf_counter() - started


def main() -> None:
    import rich

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rubric", type=Path)
    parser.add_argument("--submission", type=Path, default=Path(rich.__file__).parent)
    parser.add_argument("--leaf-tokens", type=int, default=LEAF_TOKENS)
    parser.add_argument("--leaves", type=int, default=0, help="grade only the first N leaves (0: all)")
    args = parser.parse_args()
    rubric_path = args.rubric or largest_rubric()
    rubric = load_rubric(rubric_path)
    if args.leaves:
        rubric = first_leaves(rubric, args.leaves)
    paper_path = rubric_path.parent / "paper.mineru.md"
    paper = paper_path.read_text() if paper_path.exists() else rubric.requirements
    from deepcode_tui.llm.backend import get_litellm

    get_litellm()  # the one-off litellm import (~2 s) is not the grader's per-leaf cost
    output, elapsed = asyncio.run(run(rubric, rubric_path, args.submission, paper, args.leaf_tokens))

    def leaves(node: dict):
        if not node["sub_tasks"]:
            yield node
        for c in node["sub_tasks"]:
            yield from leaves(c)

    metas = [n["judge_metadata"] for n in leaves(output["graded_task_tree"]) if n["judge_metadata"]]
    sent = [m["prompt_tokens_sent"] for m in metas]
    share = [len(m["files_read"]) / m["files_eligible"] for m in metas if m["files_eligible"]]
    cut = sum(1 for m in metas if any(f["truncated"] for f in m["files_read"]))
    eligible = metas[0]["files_eligible"] if metas else 0
    n = output["num_leaf_nodes"]
    print(f"rubric: {rubric_path.parent.name} ({n} leaves); submission: {args.submission} ({eligible} eligible files)")
    print(f"(a) {n / elapsed:.1f} leaves/s ({elapsed:.1f} s for {n} leaves, {1000 * elapsed / n:.1f} ms/leaf; "
          f"{len(metas)} judge calls, the rest graded without one)")
    print(f"(b) tokens sent per leaf: mean {statistics.mean(sent):.0f}, max {max(sent)} (budget {args.leaf_tokens}; "
          f"max/budget {max(sent) / args.leaf_tokens:.3f})")
    print(f"(c) eligible files read per leaf: mean {100 * statistics.mean(share):.1f}%, max {100 * max(share):.1f}% "
          f"({cut}/{len(metas)} leaves had a file cut to fit the budget)")
    print(f"root score {output['score']:.3f}; invalid leaves {output['num_invalid_leaf_nodes']}")


if __name__ == "__main__":
    main()
