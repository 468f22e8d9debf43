"""What the judge is shown for one leaf, assembled under a token budget.

The order follows PaperBench's judge: instructions, the paper, the addendum,
the submission's most relevant files, reproduce.sh (and reproduce.log for
execution and results leaves, never in Code-Dev), then the requirement with the
requirements above and before it, then how to answer. Everything but the files
is fixed first; the files get what is left of the leaf's budget.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from deepcode_tui.grade.rubric import CATEGORY_QUESTIONS, TaskNode
from deepcode_tui.tokens import count_tokens, truncate_to_tokens

JUDGE_SYSTEM = """You grade an attempt to reproduce a research paper. The attempt is a code repository (the
submission). A rubric splits the reproduction into requirements; you grade exactly one of them.

Read the paper, the addendum, and the submission's files you are shown, then decide whether the
submission satisfies the requirement. Work in three steps:
1. expectations: what a correct reproduction must contain to satisfy this requirement, from the paper;
2. reality: what the submission's files actually contain for it, naming the files and code you rely on;
3. score: 1 if the requirement is satisfied, 0 if it is not.
Be strict and concrete: grade only what the files show, not what a README or comment promises. A
requirement is not met by code that only mentions it, by stubs, or by a description of an implementation."""

CODE_ONLY_NOTE = """This is the Code-Dev grading: the submission is never run. Judge only whether its code correctly
implements the requirement."""

ANSWER = """Answer with one JSON object with these keys: "expectations" (string), "reality" (string), "score"
(the integer 0 or 1) and "explanation" (one or two sentences summarising why). Nothing else."""

MESSAGE_OVERHEAD = 8  # tokens a chat message costs beyond its content (role, separators)
LISTING_TOKENS = 1500
ADDENDUM_TOKENS = 4000
REPRODUCE_TOKENS = 4000


@dataclass
class LeafContext:
    """Everything a leaf's prompt draws on that does not depend on the leaf."""

    paper: str
    addendum: str = ""
    reproduce_sh: str = "(Does not exist)"
    reproduce_log: str = "(Does not exist)"
    code_only: bool = False


def prepare_context(
    paper: str, addendum: str, *, reproduce_sh: str | None, reproduce_log: str | None, code_only: bool, paper_tokens: int
) -> LeafContext:
    return LeafContext(
        paper=truncate_to_tokens(paper, paper_tokens),
        addendum=truncate_to_tokens(addendum.strip(), ADDENDUM_TOKENS) or "(NO ADDENDUM GIVEN)",
        reproduce_sh=truncate_to_tokens(reproduce_sh, REPRODUCE_TOKENS) if reproduce_sh is not None else "(Does not exist)",
        # The end of a log says how it ended: keep the tail when it must be cut.
        reproduce_log=_tail(reproduce_log, REPRODUCE_TOKENS) if reproduce_log is not None else "(Does not exist)",
        code_only=code_only,
    )


def _tail(text: str, budget: int) -> str:
    if count_tokens(text) <= budget:
        return text
    kept = truncate_to_tokens(text[::-1], budget)[::-1]
    return "[... the start of the log was cut ...]\n" + kept


def criterion_text(rubric: TaskNode, path: tuple[int, ...], leaf: TaskNode) -> str:
    preceding = "".join(f" -> {n.requirements}\n" for n in rubric.prior_nodes(path))
    question = CATEGORY_QUESTIONS.get(leaf.task_category or "", "Does the submission satisfy this requirement?")
    return (
        "The requirements above and before the one you grade (for context only):\n"
        f"<preceding_criteria>\n{preceding}</preceding_criteria>\n\n"
        f"The requirement you grade:\n<criterion>\n{leaf.requirements}\n</criterion>\n\n"
        f"Its category is {leaf.task_category}: {question}"
    )


def leaf_messages(
    ctx: LeafContext, criterion: str, *, category: str, files_text: str, listing: str, shown: int, eligible: int
) -> list[dict[str, Any]]:
    results = category == "Result Analysis"
    system = JUDGE_SYSTEM + ("\n\n" + CODE_ONLY_NOTE if ctx.code_only else "")
    what = (
        "the documentation and the files the reproduction wrote"
        if results
        else "the files most relevant to this requirement, best first"
    )
    msgs: list[dict[str, Any]] = [
        {"role": "system", "content": system},
        {"role": "user", "content": f"The paper:\n<paper>\n{ctx.paper}\n</paper>"},
        {"role": "user", "content": f"The addendum (clarifications to the paper and its grading):\n<addendum>\n{ctx.addendum}\n</addendum>"},
        {
            "role": "user",
            "content": (
                f"The submission's eligible files ({eligible}):\n<listing>\n{listing}\n</listing>\n\n"
                f"Of them, {what} ({shown} shown), concatenated:\n<files>\n{files_text}</files>"
            ),
        },
    ]  # fmt: skip
    if not ctx.code_only:
        msgs.append({"role": "user", "content": f"The submission's reproduce.sh:\n<reproduce.sh>\n{ctx.reproduce_sh}\n</reproduce.sh>"})
        if category != "Code Development":
            msgs.append({"role": "user", "content": f"The log of running reproduce.sh:\n<reproduce.log>\n{ctx.reproduce_log}\n</reproduce.log>"})
    msgs.append({"role": "user", "content": criterion})
    msgs.append({"role": "user", "content": ANSWER})
    return msgs


@functools.lru_cache(maxsize=256)
def _count(text: str) -> int:
    # The paper, addendum and instructions recur in every leaf's prompt: count them once.
    return count_tokens(text)


def prompt_tokens(messages: list[dict[str, Any]]) -> int:
    """What a prompt costs by our count (the same counter every budget in the project uses)."""
    return sum(_count(str(m.get("content") or "")) + MESSAGE_OVERHEAD for m in messages)


def listing_text(paths: list[str]) -> str:
    return truncate_to_tokens("\n".join(paths), LISTING_TOKENS)
