"""The pipeline phases of planning: ``blueprint`` (agents -> v1) and ``approval`` (the human gate).

Artifacts, all under ``<run>/blueprint/`` and written atomically:

    analyses.json     what the reading agents produced (a revision reuses it)
    v1.yaml, v2.yaml  every version; draft.yaml is the working copy a human edits
    coverage.json     the coverage report of the latest version (and coverage.txt)
    approved.yaml     the approved version's text; plan.json the CodegenPlan built from it
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from deepcode_tui.blueprint.adapt import blueprint_to_codegen_plan
from deepcode_tui.blueprint.agents import Analyses, BlueprintAgents
from deepcode_tui.blueprint.budget import AgentSettings
from deepcode_tui.blueprint.coverage import CoverageReport, coverage_report
from deepcode_tui.blueprint.models import Blueprint
from deepcode_tui.blueprint.questions import accept_proposals, answer, answer_from_addendum, unanswered
from deepcode_tui.blueprint.versions import BlueprintVersions
from deepcode_tui.blueprint.yaml_io import YamlError, load_blueprint_yaml, validate_yaml
from deepcode_tui.errors import DeepcodeError, RunStoreError
from deepcode_tui.events.models import BlueprintSaved, LogMessage
from deepcode_tui.gates import GateDecision, GateRequest
from deepcode_tui.store.atomic import write_json_atomic, write_text_atomic

GATE = "blueprint"


def _index(ctx: Any) -> Any:
    index = ctx.services.get("index")
    if index is None:
        from deepcode_tui.ingest.models import DocumentIndex

        index = DocumentIndex.load(ctx.store.path("document", "index.json"))
        ctx.services["index"] = index
    return index


def _gateway(ctx: Any) -> Any:
    gateway = ctx.services.get("gateway")
    if gateway is None:
        # The lead's driver normally provides it; a run started without one still works.
        from deepcode_tui.llm.gateway import Gateway

        gateway = Gateway(ctx.settings, emit=ctx.emit, run_dir=ctx.run_dir)
        ctx.services["gateway"] = gateway
    return gateway


def _write_coverage(directory: Path, report: CoverageReport, version: str) -> None:
    write_json_atomic(directory / "coverage.json", {"version": version, **report.model_dump(mode="json")})
    write_text_atomic(directory / "coverage.txt", report.render(limit=10_000) + "\n")


def _error_lines(errors: list[YamlError], limit: int = 8) -> str:
    lines = [f"  line {e.line}: {e.message}" for e in errors[:limit]]
    if len(errors) > limit:
        lines.append(f"  ... and {len(errors) - limit} more")
    return "\n".join(lines)


def _open_questions(text: str) -> list[dict[str, Any]]:
    """The blueprint's open questions for the gate request ([] when the text does not load)."""
    try:
        bp = load_blueprint_yaml(text, check=False)
    except DeepcodeError:
        return []
    return [q.model_dump(mode="json") for q in bp.open_questions]


class BlueprintPhase:
    """Reads the paper through the agents, plans, saves v1 and its coverage report."""

    name = "blueprint"

    def __init__(self, settings: AgentSettings | None = None) -> None:
        self.settings = settings or AgentSettings()

    async def run(self, ctx: Any) -> dict[str, Any]:
        versions = BlueprintVersions(ctx.run_dir)
        index = _index(ctx)
        existing = versions.latest()
        if existing is not None:
            # A previous attempt got as far as saving a version (crash before the checkpoint): keep it.
            await ctx.log(f"blueprint {existing} already saved; not planning again", phase=self.name)
            return self._summary(versions, existing, index, Analyses())
        agents = BlueprintAgents(_gateway(ctx), index, emit=ctx.emit, settings=self.settings)
        analyses_path = versions.dir / "analyses.json"
        if analyses_path.exists():
            analyses = Analyses.model_validate_json(analyses_path.read_text(encoding="utf-8"))
        else:
            analyses = await agents.analyse()
            write_json_atomic(analyses_path, analyses)
        for agent, names in analyses.missing_sections.items():
            await ctx.log(
                f"{agent} agent asked for sections that do not exist: {', '.join(names)}",
                level="warning",
                phase=self.name,
            )
        blueprint = await agents.plan(analyses)
        addendum = next((s.text for s in index.sections if s.id == "addendum"), "")
        if addendum and blueprint.open_questions:
            questions, ids = answer_from_addendum(blueprint.open_questions, addendum)
            blueprint = blueprint.model_copy(update={"open_questions": questions})
            if ids:
                await ctx.log(f"the addendum answers open question(s) {', '.join(ids)}", phase=self.name)
        version = versions.save(blueprint)
        write_text_atomic(versions.dir / "draft.yaml", versions.text(version))
        await ctx.emit(
            BlueprintSaved(
                version=version, path=str(versions.path(version)), files=len(blueprint.file_hierarchy)
            )
        )
        # Parsing, validating and measuring the YAML take a second on a busy machine: in a thread,
        # so the loop (the app's too) keeps drawing frames.
        return await asyncio.to_thread(self._summary, versions, version, index, analyses)

    def _summary(
        self, versions: BlueprintVersions, version: str, index: Any, analyses: Analyses
    ) -> dict[str, Any]:
        text = versions.text(version)
        problems = validate_yaml(text)
        out: dict[str, Any] = {
            "version": version,
            "errors": sum(e.severity == "error" for e in problems),
            "warnings": sum(e.severity == "warning" for e in problems),
        }
        try:
            bp = load_blueprint_yaml(text)
        except DeepcodeError:
            return out
        report = coverage_report(index, bp)
        _write_coverage(versions.dir, report, version)
        out["files"] = len(bp.file_hierarchy)
        out["coverage"] = report.render().splitlines()[0].removeprefix("Coverage: ")
        out["reads"] = {agent: len(ids) for agent, ids in analyses.reads.items()}
        return out


class ApprovalPhase:
    """The human gate: approve, edit-then-approve, or reject with feedback (the planner revises)."""

    name = "approval"

    def __init__(self, settings: AgentSettings | None = None, *, max_rounds: int = 20) -> None:
        self.settings = settings or AgentSettings()
        self.max_rounds = max_rounds

    async def run(self, ctx: Any) -> dict[str, Any]:
        versions = BlueprintVersions(ctx.run_dir)
        latest = versions.latest()
        if latest is None:
            raise RunStoreError(
                "there is no blueprint to approve in this run",
                "resume the run so the blueprint phase runs first",
            )
        if versions.approved_version() == latest:  # approved before a crash, checkpoint not yet written
            return await self._finish(ctx, versions, latest, revisions=0)
        draft = versions.dir / "draft.yaml"
        if not draft.exists():  # never overwrite a draft a human may have edited between plan and resume
            write_text_atomic(draft, versions.text(latest))
        index = _index(ctx)
        notice, revisions, invalid_approvals = "", 0, 0
        for _ in range(self.max_rounds):
            text = versions.text(latest)
            problems = await asyncio.to_thread(validate_yaml, text)
            errors = [e for e in problems if e.severity == "error"]
            prompt = await asyncio.to_thread(self._prompt, latest, text, problems, index, versions.dir, notice)
            questions = await asyncio.to_thread(_open_questions, text)
            decision = await ctx.ask(GateRequest(gate=GATE, prompt=prompt, artifact=str(draft), questions=questions))
            notice = ""
            if decision.decision == "approve":
                if not errors:
                    latest = await self._settle(ctx, versions, latest, text, decision)
                    versions.approve(latest)
                    return await self._finish(ctx, versions, latest, revisions)
                invalid_approvals += 1
                if invalid_approvals >= 2:
                    # Advice to edit the plan is for someone who looked at it; --yes never did.
                    fix = (
                        "the planner's model could not write a consistent plan: configure a stronger one "
                        "(models.planner or models.default), or run without --yes to review the plan"
                        if decision.automatic
                        else f"edit {draft} at the lines shown, then resume and choose edit; "
                        "or reject with feedback"
                    )
                    raise DeepcodeError(
                        f"blueprint {latest} cannot be approved: it has errors\n{_error_lines(errors)}", fix
                    )
                notice = f"Blueprint {latest} cannot be approved as it is:\n{_error_lines(errors)}"
                continue
            invalid_approvals = 0
            if decision.decision == "edit":
                edited = (
                    decision.edited_text
                    if decision.edited_text is not None
                    else draft.read_text(encoding="utf-8")
                )
                if edited == text:
                    if not errors:
                        latest = await self._settle(ctx, versions, latest, text, decision)
                        versions.approve(latest)
                        return await self._finish(ctx, versions, latest, revisions)
                    notice = (
                        f"The edit changed nothing and {latest} still has errors:\n{_error_lines(errors)}"
                    )
                    continue
                edit_errors = [e for e in validate_yaml(edited) if e.severity == "error"]
                if edit_errors:
                    write_text_atomic(draft, edited)  # keep the human's work for the next try
                    notice = f"Your edit was not accepted:\n{_error_lines(edit_errors)}"
                    await ctx.emit(
                        LogMessage(
                            level="error",
                            phase=self.name,
                            message=f"blueprint edit rejected:\n{_error_lines(edit_errors)}",
                        )
                    )
                    continue
                latest = versions.save(edited)
                await ctx.emit(
                    BlueprintSaved(
                        version=latest,
                        path=str(versions.path(latest)),
                        files=len(load_blueprint_yaml(edited).file_hierarchy),
                    )
                )
                latest = await self._settle(ctx, versions, latest, edited, decision)
                versions.approve(latest)
                return await self._finish(ctx, versions, latest, revisions)
            # reject: the planner revises with the feedback
            feedback = decision.feedback.strip()
            if not feedback:
                notice = "A rejection needs feedback for the planner: say what to change."
                continue
            latest = await self._revise(ctx, versions, latest, text, feedback)
            revisions += 1
            write_text_atomic(draft, versions.text(latest))
        raise DeepcodeError(
            f"the blueprint was not approved after {self.max_rounds} rounds at the gate",
            "resume the run and approve, edit or reject the latest version",
        )

    async def _settle(
        self, ctx: Any, versions: BlueprintVersions, version: str, text: str, decision: GateDecision
    ) -> str:
        """Apply the gate's answers to the open questions (and, with ``accept_proposals``,
        accept every proposal left); a change is a new version, comments kept."""
        if not (decision.answers or decision.accept_proposals):
            return version
        try:
            bp = load_blueprint_yaml(text)
        except DeepcodeError:
            return version
        questions = answer(bp.open_questions, decision.answers, by="human")
        accepted: list[str] = []
        if decision.accept_proposals:
            questions, accepted = accept_proposals(questions, by="--yes")
        if questions == bp.open_questions:
            return version
        settled = bp.model_copy(update={"open_questions": questions})
        new_version = versions.save(settled, previous_text=text)
        write_text_atomic(versions.dir / "draft.yaml", versions.text(new_version))
        await ctx.emit(BlueprintSaved(version=new_version, path=str(versions.path(new_version)),
                                      files=len(settled.file_hierarchy)))
        if accepted:
            await ctx.log(f"accepted the proposed answers of {len(accepted)} open question(s) without asking "
                          f"(--yes): {', '.join(accepted)}", phase=self.name)
        left = unanswered(questions)
        if left:
            await ctx.log(f"{len(left)} open question(s) left open: {', '.join(q.id for q in left)}",
                          level="warning", phase=self.name)
        return new_version

    async def _revise(
        self, ctx: Any, versions: BlueprintVersions, version: str, text: str, feedback: str
    ) -> str:
        path = versions.dir / "analyses.json"
        analyses = (
            Analyses.model_validate_json(path.read_text(encoding="utf-8")) if path.exists() else Analyses()
        )
        agents = BlueprintAgents(_gateway(ctx), _index(ctx), emit=ctx.emit, settings=self.settings)
        await ctx.log(f"planner revising {version} with the feedback", phase=self.name)
        revised = await agents.revise(analyses, text, feedback, version)
        # Keep the human's comments where the revised plan still has the same keys and items.
        new_version = versions.save(revised, previous_text=text)
        await ctx.emit(
            BlueprintSaved(
                version=new_version, path=str(versions.path(new_version)), files=len(revised.file_hierarchy)
            )
        )
        return new_version

    def _prompt(
        self, version: str, text: str, problems: list[YamlError], index: Any, directory: Path, notice: str
    ) -> str:
        parts = [notice] if notice else []
        try:
            bp = load_blueprint_yaml(text, check=False)
        except DeepcodeError:
            bp = None
        files = f" ({len(bp.file_hierarchy)} files)" if bp else ""
        parts.append(
            f"Approve blueprint {version}{files}? Approve it, edit {directory / 'draft.yaml'} and choose edit, "
            "or reject with feedback for the planner."
        )
        errors = [e for e in problems if e.severity == "error"]
        warnings = [e for e in problems if e.severity == "warning"]
        if errors:
            parts.append(f"Errors (must be fixed before approval):\n{_error_lines(errors)}")
        if warnings:
            parts.append(f"Warnings:\n{_error_lines(warnings)}")
        if bp is not None and bp.open_questions:
            left = unanswered(bp.open_questions)
            lines = [f"Open questions ({len(left)} of {len(bp.open_questions)} unanswered; answer them, accept "
                     "the proposals, or leave them open):"]
            for q in bp.open_questions:
                state = f"answered: {q.answer}" if q.settled else f"proposed: {q.proposed_answer or '-'}"
                lines.append(f"  {q.id}: {q.question}  [{state}; basis {q.basis}, confidence {q.confidence:.1f}]")
            parts.append("\n".join(lines))
        if bp is not None:
            report = coverage_report(index, bp)
            _write_coverage(directory, report, version)
            parts.append(report.render(limit=25))
        return "\n\n".join(parts)

    async def _finish(
        self, ctx: Any, versions: BlueprintVersions, version: str, revisions: int
    ) -> dict[str, Any]:
        bp: Blueprint = versions.load("approved")
        plan = blueprint_to_codegen_plan(bp)  # versions.approve wrote it to plan.json
        ctx.services["blueprint"] = bp
        ctx.services["codegen_plan"] = plan
        return {"approved": version, "files": len(bp.file_hierarchy), "revisions": revisions}
