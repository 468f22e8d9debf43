"""The model-backed callables the phase packages are given.

Each phase package takes plain async callables (or a small protocol) for its
model calls; these adapters bind them to the gateway and a role, so the role
mapping lives in one place.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from deepcode_tui.llm.grammar import code_reply_params
from deepcode_tui.pipeline.context import RunContext


async def ensure_gateway(ctx: RunContext):
    """The run's gateway, created once from the settings and the CLI's model flags."""
    gateway = ctx.services.get("gateway")
    if gateway is None:
        from deepcode_tui.llm.cli import build_gateway

        flags = ctx.services.get("llm_flags") or {}
        # A batch passes its own factory (shared rate limits, batch budget) with the same arguments.
        factory = ctx.services.get("gateway_factory") or build_gateway
        gateway = factory(
            ctx.settings,
            emit=ctx.emit,
            run_dir=ctx.run_dir,
            record=flags.get("record"),
            replay=flags.get("replay"),
            no_cache=bool(flags.get("no_cache")),
            cache_dir=flags.get("cache_dir"),
            provenance=ctx.services.get("provenance"),
        )
        ctx.services["gateway"] = gateway  # it announces the embedded model itself when it starts one
    return gateway


def coder(ctx: RunContext, gateway):
    async def generate(messages: list[dict[str, Any]], *, file_path: str, check=None):
        # The embedded model's reply is held to one fenced code block (it would otherwise
        # echo the prompt and leave nothing the writer can use). The whole Completion comes
        # back: codegen needs its finish_reason (a reply cut at the cap is never written).
        # ``check`` is codegen's test of a reply: one it rejects never enters the cache.
        params = code_reply_params(gateway.profile(gateway.resolve("coder")))
        return await gateway.complete("coder", messages, name=f"codegen:{file_path}", check=check, **params)

    return generate


def summarizer(gateway):
    async def summarize(path: str, code: str) -> str:
        messages = [
            {"role": "system", "content": "You summarise source files for other programmers. Answer in one or two "
             "sentences: what the file is for and what it offers. No preamble."},
            {"role": "user", "content": f"File `{path}`:\n\n```\n{code[:12000]}\n```"},
        ]
        return (await gateway.complete("summarizer", messages, name=f"summary:{path}", stream=False)).text.strip()

    return summarize


def selector(gateway):
    """CodeRAG's ``ask`` (rag.select_with_model): the summarizer role, one structured reply.

    The provider's structured output (or the embedded model's constrained decoding)
    holds the reply to ``{"order": [...]}``; one repair round at most, since a failed
    choice only leaves the ranker's order (``rag.select`` catches the error).
    """
    from deepcode_tui.rag.select import SELECT_SYSTEM, SelectReply

    async def ask(prompt: str) -> str:
        messages = [{"role": "system", "content": SELECT_SYSTEM}, {"role": "user", "content": prompt}]
        reply = await gateway.structured("summarizer", messages, SelectReply, name="coderag:select",
                                         max_repairs=1, stream=False, max_tokens=120)
        return reply.model_dump_json()

    return ask


_REPAIR_SYSTEM = """You repair a generated code repository so that its verification commands pass.
You receive the failing findings (file, line, kind, message), a trace excerpt, the relevant files and
compact memory entries describing the project's modules. Reply with targeted edits:
- mode "patch": `edits`, each {path, search, replace}; `search` must be copied exactly from the current
  file and be long enough to match once. Do not rewrite whole files.
- mode "rewrite": `rewrites`, each {path, content}, for the target files only.
- mode "smoke_tests": `smoke_tests`, a mapping of new test file paths (under tests/) to their content:
  small pytest tests that import the modules and exercise their entry points on tiny synthetic data.
- mode "amendment": `blueprint_amendment`, the complete revised blueprint (YAML, in the schema of the
  current blueprint you are given), changed only where that unblocks the work.
Paths are relative to the repository root. Explain the cause briefly in `rationale`."""


def _repair_reply_model() -> type[BaseModel]:
    from deepcode_tui.verify.patches import Edit, FileRewrite

    class RepairReply(BaseModel):
        """What the model returns; token and cost fields are filled by us, not by the model."""

        edits: list[Edit] = Field(default_factory=list)
        rewrites: list[FileRewrite] = Field(default_factory=list)
        blueprint_amendment: str | None = None
        smoke_tests: dict[str, str] = Field(default_factory=dict)
        rationale: str = ""

    return RepairReply


class ModelRepairer:
    """The verify loop's ``Repairer`` backed by the ``repairer`` role."""

    def __init__(self, gateway, *, blueprint_yaml: str = "") -> None:
        self.gateway = gateway
        # Sent only with amendment requests: the repairer revises the whole approved plan.
        self.blueprint_yaml = blueprint_yaml

    async def propose(self, request):
        from deepcode_tui.verify.repair import RepairProposal

        payload = {
            "mode": request.mode,
            "iteration": request.iteration,
            "findings": [f.model_dump(include={"file", "line", "kind", "message"}) for f in request.findings[:40]],
            "target_files": request.target_files,
            "history": request.history[-6:],
        }
        parts = [f"Repair request:\n```json\n{json.dumps(payload, indent=1)}\n```"]
        if request.trace_excerpt:
            parts.append(f"Trace excerpt:\n```\n{request.trace_excerpt[-6000:]}\n```")
        for path, text in request.files.items():
            parts.append(f"File `{path}`:\n```\n{text}\n```")
        if request.memory_entries:
            memory = "\n".join(m if isinstance(m, str) else json.dumps(m) for m in request.memory_entries)
            parts.append(f"Memory entries of related modules:\n{memory}")
        if request.blueprint_excerpt:
            parts.append(f"Blueprint excerpt:\n{request.blueprint_excerpt}")
        if request.mode == "amendment" and self.blueprint_yaml:
            parts.append(f"Current approved blueprint:\n```yaml\n{self.blueprint_yaml}\n```")
        messages = [{"role": "system", "content": _REPAIR_SYSTEM}, {"role": "user", "content": "\n\n".join(parts)}]
        from deepcode_tui.llm.errors import StructuredOutputError

        before = self.gateway.totals().by_role.get("repairer")
        try:
            reply = await self.gateway.structured(
                "repairer", messages, _repair_reply_model(), name=f"repair:{request.iteration}:{request.mode}"
            )
        except StructuredOutputError as exc:
            # An unusable reply is an iteration without a proposal (the loop records it
            # and its no-progress rule escalates), not the end of verification.
            return RepairProposal(rationale=f"no usable reply from the repairer: {exc.message}")
        after = self.gateway.totals().by_role.get("repairer")

        def delta(field: str) -> float:
            return getattr(after, field, 0) - getattr(before, field, 0) if after else 0

        return RepairProposal.model_validate(
            {
                **reply.model_dump(),
                "prompt_tokens": int(delta("prompt_tokens")),
                "completion_tokens": int(delta("completion_tokens")),
                "cost_usd": max(0.0, float(delta("cost_usd"))),
            }
        )
