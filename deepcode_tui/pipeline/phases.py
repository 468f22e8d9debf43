"""The phases of a run, in order: ingest -> blueprint -> approval -> codegen -> verify -> report.

Each adapter here is thin: the work lives in the phase's own package.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from deepcode_tui.events.models import DocumentIndexed
from deepcode_tui.pipeline.context import RunContext
from deepcode_tui.pipeline.runner import Pipeline


class IngestPhase:
    name = "ingest"

    async def run(self, ctx: RunContext) -> dict[str, Any]:
        from deepcode_tui.ingest.loader import load_document

        cfg = ctx.settings.ingest
        source = Path(ctx.store.manifest.input_path)
        target = ctx.store.path("document", "index.json")
        addendum = None
        if cfg.addendum is not None:
            from deepcode_tui.ingest.addendum import read_addendum

            addendum = await asyncio.to_thread(read_addendum, cfg.addendum)

        def load_and_save():
            index = load_document(source, pdf_engine=cfg.pdf_engine, timeout_s=cfg.timeout_s)
            if addendum is not None:
                from deepcode_tui.ingest.addendum import attach_addendum

                index = attach_addendum(index, addendum)
            # The agents' first search builds the BM25 retriever (and imports bm25s): here, in
            # this thread, not on the loop the app shares; saving (an fsync) likewise.
            index.search("warm-up", 1)
            index.save(target)
            return index

        index = await asyncio.to_thread(load_and_save)
        if addendum is not None:
            await ctx.log(f"addendum {cfg.addendum.name} added to the document index", phase=self.name)
        for note in index.notes:
            await ctx.log(note, level="warning", phase=self.name)
        ctx.services["index"] = index
        sections = sum(1 for _ in index.all_sections())
        pages = index.page_count or 0
        await ctx.emit(
            DocumentIndexed(sections=sections, total_tokens=index.total_tokens, pages=pages, engine=index.engine)
        )
        return {"sections": sections, "tokens": index.total_tokens, "format": index.format}


def build_pipeline() -> Pipeline:
    from deepcode_tui.blueprint.phase import ApprovalPhase, BlueprintPhase
    from deepcode_tui.pipeline.phase_codegen import CodegenPhase
    from deepcode_tui.pipeline.phase_report import ReportPhase
    from deepcode_tui.pipeline.phase_verify import VerifyPhase

    return Pipeline(
        [
            IngestPhase(),
            BlueprintPhase(),
            ApprovalPhase(),
            CodegenPhase(),
            VerifyPhase(),
            ReportPhase(),
        ]
    )
