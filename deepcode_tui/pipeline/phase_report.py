"""The report phase: report.md and report.json from the events and artifacts."""

from __future__ import annotations

import json
from typing import Any

from deepcode_tui.pipeline.context import RunContext
from deepcode_tui.pipeline.report import build_report, load_verdict, render_markdown
from deepcode_tui.pipeline.submission_results import update_readme
from deepcode_tui.store.atomic import write_json_atomic, write_text_atomic


def _coverage_missing(ctx: RunContext) -> list[str]:
    path = ctx.store.path("blueprint", "coverage.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    items = data.get("items") or []
    return [
        f"{i.get('kind', '')}: {i.get('text', '')}" + (f" ({i['section']})" if i.get("section") else "")
        for i in items
        if not i.get("covered")
    ]


class ReportPhase:
    name = "report"

    async def run(self, ctx: RunContext) -> dict[str, Any]:
        verdict = ctx.services.get("verdict") or load_verdict(ctx.run_dir)
        ctx.services["verdict"] = verdict
        report = build_report(
            ctx.store.read_events().events,
            run_id=ctx.store.run_id,
            repo_dir=ctx.store.repo_dir,
            verdict=verdict,
            coverage_missing=_coverage_missing(ctx),
        )
        if update_readme(ctx.store.repo_dir, report):
            await ctx.log("README.md: verification results added", phase=self.name)
        write_json_atomic(ctx.store.path("report.json"), report)
        write_text_atomic(ctx.store.path("report.md"), render_markdown(report))
        return {"status": report.status, "files": len(report.files_written)}
