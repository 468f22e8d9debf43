"""Grade a submission against a rubric: every leaf through the judge, then the rollup.

The leaves are graded concurrently (bounded), each result stored before the
next is awaited; leaves found in the store are not sent again. The output is
``grade.json`` in PaperBench's ``JudgeOutput`` fields plus a ``deepcode``
section (findings, flagged leaves, per-call totals).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from deepcode_tui.grade.files import Submission
from deepcode_tui.grade.judge import ROLE, GatewayLike, judge_leaf, judge_request
from deepcode_tui.grade.prompts import LeafContext, criterion_text, leaf_messages, listing_text, prompt_tokens
from deepcode_tui.grade.rollup import GradedNode, LeafGrade, build_graded_tree
from deepcode_tui.grade.rubric import TaskNode, code_only, fingerprint, path_key
from deepcode_tui.grade.store import GradeState, GradeStore
from deepcode_tui.grade.submission import Finding, check_submission
from deepcode_tui.store.atomic import write_json_atomic

LEAF_TOKENS = 48_000  # a leaf's whole prompt, by our count
PAPER_TOKENS = 24_000
CONCURRENCY = 4


class GradeOptions(BaseModel):
    rubric_path: str
    code_only: bool = False
    leaf_tokens: int = Field(LEAF_TOKENS, ge=2000)
    paper_tokens: int = Field(PAPER_TOKENS, ge=0)
    concurrency: int = Field(CONCURRENCY, ge=1)
    restart: bool = False
    graded_at: str | None = None  # fixed by a replay so its grade.json is the same every time


class LeafProgress(BaseModel):
    done: int
    total: int
    path: str
    id: str = ""
    score: float
    valid: bool
    resumed: bool = False


class GradeResult(BaseModel):
    output: dict[str, Any]
    tree: GradedNode
    findings: list[Finding]
    path: Path
    graded_now: int
    resumed: int


def _read_optional(path: Path) -> str | None:
    try:
        if path.is_file() and not path.is_symlink():
            return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        pass
    return None


def prepare_rubric(rubric: TaskNode, *, code_only_mode: bool) -> TaskNode:
    return code_only(rubric) if code_only_mode else rubric


async def grade_submission(
    gateway: GatewayLike,
    submission_dir: Path,
    rubric: TaskNode,
    *,
    paper: str,
    addendum: str,
    out_dir: Path,
    options: GradeOptions,
    on_leaf: Callable[[LeafProgress], Awaitable[None] | None] | None = None,
) -> GradeResult:
    from deepcode_tui.grade.prompts import prepare_context

    graded_rubric = prepare_rubric(rubric, code_only_mode=options.code_only)
    model = gateway.resolve(ROLE).model
    store = GradeStore(out_dir)
    done = store.open(
        GradeState(
            rubric=options.rubric_path,
            fingerprint=fingerprint(graded_rubric),
            code_only=options.code_only,
            submission=str(submission_dir),
            judge_model=model,
        ),
        restart=options.restart,
    )
    findings = check_submission(submission_dir, code_only=options.code_only)
    sub = Submission(submission_dir)
    log_path = submission_dir / "reproduce.log"
    log_text = _read_optional(log_path)
    results_since = log_path.stat().st_mtime if log_text is not None else None
    ctx = prepare_context(
        paper, addendum,
        reproduce_sh=_read_optional(submission_dir / "reproduce.sh"),
        reproduce_log=log_text,
        code_only=options.code_only,
        # The paper may take at most half a leaf's budget: the files need the rest.
        paper_tokens=min(options.paper_tokens, options.leaf_tokens // 2),
    )  # fmt: skip
    leaves = graded_rubric.leaves()
    total = len(leaves)
    counter = {"done": 0, "now": 0}
    sem = asyncio.Semaphore(options.concurrency)
    resumed = sum(1 for p, _ in leaves if path_key(p) in done)

    async def report(progress: LeafProgress) -> None:
        if on_leaf is not None:
            maybe = on_leaf(progress)
            if asyncio.iscoroutine(maybe):
                await maybe

    async def one(path: tuple[int, ...], leaf: TaskNode) -> None:
        key = path_key(path)
        async with sem:
            grade = grade_without_judge(ctx, sub, leaf, key, results_since)
            if grade is None:
                grade = await grade_one(gateway, ctx, sub, graded_rubric, path, leaf, options, results_since)
            store.append(grade)
            done[key] = grade
            counter["done"] += 1
            counter["now"] += 1
            await report(LeafProgress(done=resumed + counter["done"], total=total, path=key, id=leaf.id,
                                      score=grade.score, valid=grade.valid_score))  # fmt: skip

    pending = [(p, n) for p, n in leaves if path_key(p) not in done]
    tasks = [asyncio.ensure_future(one(p, n)) for p, n in pending]
    try:
        if tasks:
            await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    tree = build_graded_tree(graded_rubric, done)
    output = judge_output(tree, done, model=model, findings=findings, options=options, submission=submission_dir)
    path = out_dir / "grade.json"
    write_json_atomic(path, output)
    from deepcode_tui.grade.latest import score_record

    write_json_atomic(out_dir / "score.json", score_record(output))  # what run listings read
    return GradeResult(output=output, tree=tree, findings=findings, path=path, graded_now=counter["now"], resumed=resumed)


def grade_without_judge(
    ctx: LeafContext, sub: Submission, leaf: TaskNode, key: str, results_since: float | None
) -> LeafGrade | None:
    """PaperBench's one shortcut: results leaves score 0 when reproduce.sh touched no file."""
    if leaf.task_category != "Result Analysis" or ctx.code_only:
        return None
    touched = results_since is not None and any(
        f.mtime >= results_since for f in sub.files if f.path != "reproduce.log"
    )
    if touched:
        return None
    return LeafGrade(
        path=key, id=leaf.id, score=0.0, valid_score=True,
        explanation="reproduce.sh did not create or modify any file, so there are no reproduced results to analyse.",
        judge_metadata=None,
    )  # fmt: skip


async def grade_one(
    gateway: GatewayLike,
    ctx: LeafContext,
    sub: Submission,
    rubric: TaskNode,
    path: tuple[int, ...],
    leaf: TaskNode,
    options: GradeOptions,
    results_since: float | None,
) -> LeafGrade:
    key = path_key(path)
    category = leaf.task_category or "Code Development"
    eligible = sub.eligible(category, results_since=results_since)
    ranked = sub.rank(leaf.requirements, eligible)
    criterion = criterion_text(rubric, path, leaf)
    listing = listing_text([f.path for f in eligible])

    def build(files_text: str, shown: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        msgs = leaf_messages(ctx, criterion, category=category, files_text=files_text, listing=listing,
                             shown=shown, eligible=len(eligible))  # fmt: skip
        return judge_request(gateway, msgs)

    fixed = prompt_tokens(build("", 0)[0]) + 16  # the count of files shown can take a few tokens
    budget = max(0, options.leaf_tokens - fixed)
    selection = sub.select(ranked, budget)
    request = build(selection.text, len(selection.files))
    sent = prompt_tokens(request[0])
    # The call's name is stable across prompt drift (replay falls back to it) and differs
    # between the two modes, whose leaf paths differ.
    mode = "code-dev" if options.code_only else "full"
    outcome = await judge_leaf(gateway, request, name=f"judge:{mode}:{key}:{leaf.id}")
    model = gateway.resolve(ROLE).model
    return LeafGrade(
        path=key,
        id=leaf.id,
        score=outcome.score,
        valid_score=outcome.valid_score,
        explanation=outcome.explanation,
        judge_metadata={
            "full_judge_response": outcome.last_reply,
            "token_usage": {model: {"in": outcome.prompt_tokens, "out": outcome.completion_tokens}},
            "cost_usd": round(outcome.cost_usd, 8),
            "attempts": outcome.attempts,
            "flag": outcome.flag or None,
            "prompt_tokens_sent": sent,
            "leaf_budget_tokens": options.leaf_tokens,
            "files_budget_tokens": budget,
            "files_eligible": len(eligible),
            "files_read": [{"path": f.path, "tokens": f.tokens, "truncated": f.truncated} for f in selection.files],
        },
    )


def _usage(grades: dict[str, LeafGrade]) -> tuple[dict[str, dict[str, int]], float]:
    usage: dict[str, dict[str, int]] = {}
    cost = 0.0
    for g in grades.values():
        meta = g.judge_metadata or {}
        for model, u in (meta.get("token_usage") or {}).items():
            slot = usage.setdefault(model, {"in": 0, "out": 0})
            slot["in"] += int(u.get("in", 0))
            slot["out"] += int(u.get("out", 0))
        cost += float(meta.get("cost_usd") or 0.0)
    return usage, cost


def judge_output(
    tree: GradedNode,
    grades: dict[str, LeafGrade],
    *,
    model: str,
    findings: list[Finding],
    options: GradeOptions,
    submission: Path,
) -> dict[str, Any]:
    leaves = tree.leaves()
    usage, cost = _usage(grades)
    flagged = [
        {"path": k, "id": g.id, "reason": (g.judge_metadata or {}).get("flag")}
        for k, g in sorted(grades.items())
        if (g.judge_metadata or {}).get("flag")
    ]
    graded_at = options.graded_at or os.environ.get("SOURCE_DATE_EPOCH")
    if graded_at and graded_at.isdigit():
        graded_at = datetime.fromtimestamp(int(graded_at), tz=UTC).isoformat()
    return {
        "judge_type": "simple",
        "score": tree.score,
        "num_leaf_nodes": len(leaves),
        "num_invalid_leaf_nodes": sum(1 for n in leaves if not n.valid_score),
        "graded_at": graded_at or datetime.now(UTC).isoformat(timespec="seconds"),
        "graded_task_tree": tree.to_dict(),
        "completer_config": {"model": model, "role": ROLE},
        "token_usage": usage,
        "deepcode": {
            "rubric": options.rubric_path,
            "submission_name": submission.name,
            "code_only": options.code_only,
            "leaf_tokens": options.leaf_tokens,
            "cost_usd": round(cost, 8),
            "flagged": flagged,
            "findings": [f.line() for f in findings],
        },
    }
