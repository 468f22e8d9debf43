"""The codegen phase: the approved blueprint, written file by file with CodeMem."""

from __future__ import annotations

from typing import Any

from deepcode_tui.errors import DeepcodeError
from deepcode_tui.pipeline.bridge import codegen_emitter, rag_emitter
from deepcode_tui.pipeline.context import RunContext
from deepcode_tui.pipeline.roles import coder, ensure_gateway, selector, summarizer
from deepcode_tui.store.atomic import write_json_atomic


def load_codegen_plan(ctx: RunContext):
    from deepcode_tui.codegen.plan import CodegenPlan

    plan = ctx.services.get("codegen_plan")
    if plan is not None:
        return plan
    path = ctx.store.path("blueprint", "plan.json")
    try:
        return CodegenPlan.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeepcodeError(
            f"the run has no approved plan ({path})", "approve the blueprint first: deepcode-tui resume RUN"
        ) from None
    except ValueError as exc:
        raise DeepcodeError(f"{path} is damaged: {exc}", "re-approve the blueprint (resume the run)") from None


async def _mined_candidates(ctx: RunContext) -> list[str]:
    """Reference repositories and libraries the paper names, saved for the user to pick from."""
    from deepcode_tui.rag.mining import mine_candidates

    index = ctx.services.get("index")
    if index is None:
        from deepcode_tui.ingest.models import DocumentIndex

        path = ctx.store.path("document", "index.json")
        if not path.is_file():
            return []
        index = DocumentIndex.load(path)
    text = "\n".join(s.full_text() for s in index.sections) + "\n" + "\n".join(
        f"{r.text} {' '.join(r.urls)}" for r in index.references
    )
    candidates = mine_candidates(text)
    write_json_atomic(ctx.store.path("rag", "candidates.json"), [c.model_dump() for c in candidates])
    return [c.spec for c in candidates]


async def _retrieval(ctx: RunContext, gateway):
    """CodeRAG's per-file hook, or None when no reference source is in use."""
    rag_cfg = ctx.settings.rag
    specs = list(rag_cfg.sources)
    mined = await _mined_candidates(ctx)
    if mined and rag_cfg.use_mined:
        specs += [m for m in mined if m not in specs]
    elif mined:
        await ctx.log(
            f"the paper names {len(mined)} possible reference source(s) ({', '.join(mined[:5])}"
            f"{' ...' if len(mined) > 5 else ''}); add them with --ref or rag.use_mined = true",
            phase="codegen",
        )
    if not specs:
        return None
    from deepcode_tui.rag.coderag import prepare_coderag

    rag = await prepare_coderag(
        specs,
        run_dir=ctx.run_dir,
        emit=rag_emitter(ctx),
        embedder=ctx.settings.rag.embedding_model if ctx.settings.rag.embeddings else None,
        budget_tokens=ctx.settings.rag.budget_tokens,
        ask=selector(gateway) if ctx.settings.rag.select_with_model else None,
    )

    async def retrieval_for(planned_file) -> str | None:
        found = await rag.context_for(planned_file)
        return found.context or None

    return retrieval_for


class CodegenPhase:
    name = "codegen"

    async def run(self, ctx: RunContext) -> dict[str, Any]:
        from deepcode_tui.codegen.loop import generate_repository

        plan = load_codegen_plan(ctx)
        gateway = await ensure_gateway(ctx)
        steering = ctx.services.get("steering")
        cfg = ctx.settings.codegen
        repo = ctx.store.repo_dir
        repo.mkdir(parents=True, exist_ok=True)
        result = await generate_repository(
            plan,
            repo,
            ctx.run_dir,
            coder(ctx, gateway),
            summarize=summarizer(gateway) if cfg.summarize_with_model else None,
            emit=codegen_emitter(ctx),
            budget_tokens=cfg.context_budget_tokens,
            retrieval_for=await _retrieval(ctx, gateway),
            should_pause=steering.should_pause if steering is not None else None,
            max_attempts=cfg.max_file_attempts,
            watch=ctx.services.get("watch_repo", True),
        )
        write_json_atomic(ctx.store.path("codegen", "result.json"), result)
        ctx.services["codegen_result"] = result
        return {"written": len(result.written), "kept": len(result.skipped), "failed": len(result.failed)}
