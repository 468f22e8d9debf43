"""The grade's summary: root score, each top-level requirement, leaves, judge tokens and cost."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from deepcode_tui.grade.rollup import GradedNode, graded_from_dict


class Row(BaseModel):
    label: str
    weight: float
    score: float
    leaves: int
    invalid: int


class Summary(BaseModel):
    score: float
    rows: list[Row]
    leaves: int
    invalid: int
    flagged: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    judge_model: str
    code_only: bool


def _short(text: str, n: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def summarize(output: dict[str, Any]) -> Summary:
    tree: GradedNode = graded_from_dict(output["graded_task_tree"])
    rows = []
    for child in tree.sub_tasks:
        leaves = child.leaves()
        rows.append(Row(label=_short(child.requirements), weight=child.weight, score=child.score,
                        leaves=len(leaves), invalid=sum(1 for n in leaves if not n.valid_score)))  # fmt: skip
    usage = output.get("token_usage") or {}
    extra = output.get("deepcode") or {}
    return Summary(
        score=float(output["score"]),
        rows=rows,
        leaves=int(output["num_leaf_nodes"]),
        invalid=int(output["num_invalid_leaf_nodes"]),
        flagged=len(extra.get("flagged") or []),
        tokens_in=sum(int(u.get("in", 0)) for u in usage.values()),
        tokens_out=sum(int(u.get("out", 0)) for u in usage.values()),
        cost_usd=float(extra.get("cost_usd") or 0.0),
        judge_model=str((output.get("completer_config") or {}).get("model", "")),
        code_only=bool(extra.get("code_only")),
    )


def summary_table(summary: Summary):
    from rich.table import Table

    mode = "PaperBench Code-Dev" if summary.code_only else "PaperBench"
    table = Table(title=f"{mode} grade: {summary.score * 100:.1f}%", show_header=True, header_style="bold")
    for col, just in (("requirement", "left"), ("weight", "right"), ("score", "right"), ("leaves", "right")):
        table.add_column(col, justify=just, overflow="fold")  # type: ignore[arg-type]
    for r in summary.rows:
        leaves = f"{r.leaves}" + (f" ({r.invalid} invalid)" if r.invalid else "")
        table.add_row(r.label, f"{r.weight:g}", f"{r.score * 100:.1f}%", leaves)
    table.add_section()
    table.add_row("[bold]root[/]", "", f"[bold]{summary.score * 100:.1f}%[/]", str(summary.leaves))
    table.caption = (
        f"leaves graded {summary.leaves - summary.invalid}/{summary.leaves}"
        + (f", {summary.flagged} flagged (unusable judge reply, scored 0)" if summary.flagged else "")
        + f"; judge {summary.judge_model}: {summary.tokens_in} tokens in, {summary.tokens_out} out, ${summary.cost_usd:.4f}"
    )
    return table
