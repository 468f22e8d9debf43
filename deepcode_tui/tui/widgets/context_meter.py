"""The context meter: how the tokens of one generation step split between its parts."""

from __future__ import annotations

from textual.content import Content

PARTS = (("blueprint", "$primary"), ("memory", "$accent"), ("retrieval", "$success"))
BAR_WIDTH = 8


def meter_content(context: dict[str, int], budget: int, retrieval_note: str = "") -> Content:
    """One bar per part, scaled to ``budget``, plus the total; parts beyond the three are summed as other."""
    if not context:
        return Content.styled("Context meter: shown when a file starts.", "$text-muted")
    budget = max(int(context.get("budget") or budget), 1)  # the step's own budget when it reports one
    rows: list[Content] = [Content.styled("context per step", "bold")]
    known = {name for name, _ in PARTS} | {"total", "budget"}
    other = sum(v for k, v in context.items() if k not in known)
    parts = [*PARTS, ("other", "$secondary")] if other else list(PARTS)
    total = 0
    for name, style in parts:
        tokens = other if name == "other" else int(context.get(name, 0))
        total += tokens
        filled = min(BAR_WIDTH, round(BAR_WIDTH * tokens / budget)) if tokens else 0
        rows.append(
            Content.assemble(
                f"{name:<9} ",
                ("█" * filled, style),
                ("░" * (BAR_WIDTH - filled), "$text-disabled"),
                f" {tokens:>6,}",
            )
        )
    share = 100 * total / budget
    rows.append(Content.assemble(f"{'total':<9} ", (f"{total:,}/{budget:,} {share:.0f}%", "bold")))
    if retrieval_note:
        rows.append(Content.styled(retrieval_note, "$text-muted").truncate(BAR_WIDTH + 17, ellipsis=True))
    return Content("\n").join(rows)
