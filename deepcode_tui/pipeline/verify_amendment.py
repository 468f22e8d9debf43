"""Acting on a blueprint amendment the repairer proposed and the human approved.

When patching and rewriting make no progress, the repairer proposes a revised
blueprint. Once approved (as proposed, or as the human edited it) it becomes a
new approved version (``blueprint/vN.yaml``, ``approved.yaml``, ``plan.json``),
the files it affects are generated again through the CodeMem loop (files not
yet written, and written files whose entry, spec or dependencies' interfaces
changed; a file someone edited by hand is kept), and verification starts over
on the result.
"""

from __future__ import annotations

import asyncio

from deepcode_tui.blueprint.amend import Amendment, approve_amendment
from deepcode_tui.blueprint.yaml_io import load_blueprint_yaml
from deepcode_tui.errors import DeepcodeError
from deepcode_tui.events.models import BlueprintSaved
from deepcode_tui.pipeline.bridge import codegen_emitter
from deepcode_tui.pipeline.context import RunContext
from deepcode_tui.pipeline.roles import coder, summarizer


def amendment_problem(text: str) -> str | None:
    """Why ``text`` cannot be an amended blueprint (one line naming the lines), or None."""
    try:
        load_blueprint_yaml(text)
    except DeepcodeError as exc:
        return exc.message
    return None


def written_files(ctx: RunContext) -> list[str]:
    """Files the coder wrote (memory entries whose file is on disk)."""
    from deepcode_tui.codegen.memory import MemoryStore

    repo = ctx.store.repo_dir
    return [e.path for e in MemoryStore(ctx.run_dir).entries() if (repo / e.path).is_file()]


async def apply_amendment(ctx: RunContext, text: str, gateway) -> Amendment:
    """Save and approve ``text`` as the new blueprint version, then regenerate what it
    affects. Raises BlueprintValidationError (nothing saved) when ``text`` is invalid."""
    from deepcode_tui.blueprint.versions import BlueprintVersions
    from deepcode_tui.codegen.loop import generate_repository

    # Saves vN, approved.yaml and plan.json (what a resumed codegen phase reads).
    amendment = await asyncio.to_thread(approve_amendment, ctx.run_dir, text, written_files(ctx))
    versions = BlueprintVersions(ctx.run_dir)
    bp = versions.load("approved")
    plan = amendment.plan
    ctx.services["blueprint"] = bp
    ctx.services["codegen_plan"] = plan
    # The app reloads the blueprint pane and the file list on this event.
    await ctx.emit(BlueprintSaved(version=amendment.version, path=str(versions.path(amendment.version)),
                                  files=len(bp.file_hierarchy)))
    await ctx.log(amendment.render(), phase="verify")
    if amendment.regenerate or amendment.apply_to_pending:
        cfg = ctx.settings.codegen
        result = await generate_repository(
            plan,
            ctx.store.repo_dir,
            ctx.run_dir,
            coder(ctx, gateway),
            summarize=summarizer(gateway) if cfg.summarize_with_model else None,
            emit=codegen_emitter(ctx),
            budget_tokens=cfg.context_budget_tokens,
            max_attempts=cfg.max_file_attempts,
            watch=False,
            regenerate=list(amendment.regenerate),
        )
        await ctx.log(
            f"amendment {amendment.version}: {len(result.written)} file(s) written again"
            + (f", {len(result.failed)} failed" if result.failed else ""),
            phase="verify",
        )
    return amendment
