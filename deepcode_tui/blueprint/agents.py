"""The blueprint agents: concept + algorithm (or intent) readers, and the planner.

The concept and algorithm agents run concurrently, each reading the paper
only through an :class:`IndexReader` within its own budget. The planner
merges their analyses into a :class:`Blueprint` (structured output), asks
itself to fix plan-check errors, and revises a rejected blueprint using
the human's feedback. A requirement document goes through the intent agent
to the same planner and the same schema.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from deepcode_tui.blueprint import prompts
from deepcode_tui.blueprint.budget import AgentSettings, messages_tokens, split_budget
from deepcode_tui.blueprint.checks import check_blueprint
from deepcode_tui.blueprint.models import (
    AlgorithmSpec,
    Blueprint,
    BlueprintDraft,
    ConceptAnalysis,
    IntentAnalysis,
)
from deepcode_tui.blueprint.questions import merge_questions
from deepcode_tui.blueprint.reading import IndexReader
from deepcode_tui.blueprint.reconcile import reconcile
from deepcode_tui.blueprint.yaml_io import load_blueprint_yaml
from deepcode_tui.errors import DeepcodeError
from deepcode_tui.events.models import LogMessage
from deepcode_tui.llm.cassette import ModelProfile
from deepcode_tui.llm.structured import parse_reply, reply_problem, schema_instruction
from deepcode_tui.tokens import count_tokens, truncate_to_tokens

Emit = Callable[[Any], Awaitable[Any]]
M = TypeVar("M", bound=BaseModel)


def with_analysts_questions(bp: Blueprint, analyses: "Analyses") -> Blueprint:
    """``bp`` with every analyst's open question the planner dropped added back (near-duplicates
    merged): a question an analyst raised always reaches the human at the gate."""
    drafts = [q for a in (analyses.concept, analyses.algorithm, analyses.intent) if a is not None
              for q in a.open_questions]
    return bp.model_copy(update={"open_questions": merge_questions(bp.open_questions, drafts)})


class Analyses(BaseModel):
    """What the reading agents produced; saved so a revision never re-reads the paper."""

    kind: Literal["paper", "requirement"] = "paper"
    concept: ConceptAnalysis | None = None
    algorithm: AlgorithmSpec | None = None
    intent: IntentAnalysis | None = None
    reads: dict[str, list[str]] = Field(default_factory=dict)  # agent -> section ids read, in order
    missing_sections: dict[str, list[str]] = Field(
        default_factory=dict
    )  # agent -> names that matched nothing
    read_tokens: dict[str, int] = Field(default_factory=dict)  # agent -> tokens served


def flatten_tool_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A tool conversation as plain user/assistant turns.

    A follow-up call without ``tools`` must not carry tool-call messages
    (several providers reject them); the text of every call and result is
    kept, so the model still sees what it read. Consecutive turns of one
    role are merged because some providers require alternation.
    """
    out: list[dict[str, Any]] = []
    for m in messages:
        role, content = m.get("role"), str(m.get("content") or "")
        if role == "assistant" and m.get("tool_calls"):
            calls = [
                f"(called {tc.get('function', {}).get('name')} with {tc.get('function', {}).get('arguments')})"
                for tc in m["tool_calls"]
            ]
            content = "\n".join([content, *calls]).strip()
        elif role == "tool":
            role, content = "user", f"Result of {m.get('name', 'the tool')}:\n{content}"
        if not content:
            continue
        if out and out[-1]["role"] == role and role != "system":
            out[-1] = {"role": role, "content": f"{out[-1]['content']}\n\n{content}"}
        else:
            out.append({"role": role, "content": content})
    return out


def _profile(gateway: Any, role: str) -> ModelProfile | None:
    """How ``role``'s model is spoken to, or None for a gateway that cannot say (test doubles)
    or a role that does not resolve (the call itself reports that)."""
    if not (hasattr(gateway, "profile") and hasattr(gateway, "resolve")):
        return None
    try:
        profile = gateway.profile(gateway.resolve(role))
    except DeepcodeError:
        return None
    return profile if isinstance(profile, ModelProfile) else None


class BlueprintAgents:
    """The agents of the blueprint phase over one document index and one gateway."""

    def __init__(
        self, gateway: Any, index: Any, *, emit: Emit | None = None, settings: AgentSettings | None = None
    ) -> None:
        self.gw = gateway
        self.index = index
        self.emit = emit
        profiles = [p for p in (_profile(gateway, "analyst"), _profile(gateway, "planner")) if p is not None]
        windows = [p.context_window for p in profiles if p.context_window]
        outputs = [p.max_output_tokens for p in profiles if p.max_output_tokens]
        # Budgets follow the smallest model involved: a small context window shrinks every call.
        self.settings = (settings or AgentSettings()).fitted(
            min(windows, default=None), max(outputs, default=None)
        )
        # A model serving one call at a time gains nothing from concurrent readers, and
        # alternating two conversations costs the server its prompt-prefix reuse.
        analyst = _profile(gateway, "analyst")
        self.sequential = analyst is not None and analyst.concurrent_calls == 1
        self.paper_tokens = int(getattr(index, "total_tokens", 0) or 0)
        self.cap = self.settings.call_cap(self.paper_tokens)

    async def _log(self, message: str, level: str = "info") -> None:
        if self.emit is not None:
            await self.emit(LogMessage(message=message, level=level, phase="blueprint"))  # type: ignore[arg-type]

    @property
    def is_requirement(self) -> bool:
        return getattr(self.index, "format", "") == "requirement"

    # -- reading agents ---------------------------------------------------------------

    async def _read(self, agent: str, system_template: str, schema: type[M]) -> tuple[M, IndexReader]:
        s = self.settings
        probe = IndexReader(self.index, agent=agent, budget_tokens=0)
        tool_schemas = [t.openai_schema() for t in probe.tools()]
        task = "Read the document through the tools and produce your analysis."
        fixed = (
            messages_tokens(
                [
                    {
                        "role": "system",
                        "content": system_template.format(reading=prompts.READING_RULES.format(budget=99999)),
                    },
                    {"role": "user", "content": task},
                ],
                tool_schemas,
            )
            + count_tokens(schema_instruction(schema))
            + s.reply_reserve
        )
        budget = max(s.min_read_tokens, self.cap - fixed)
        reader = IndexReader(
            self.index,
            agent=agent,
            budget_tokens=budget,
            emit=self.emit,
            max_read_tokens=min(s.max_read_tokens, max(budget // 2, s.min_read_tokens)),
        )
        system = system_template.format(reading=prompts.READING_RULES.format(budget=budget))
        title = getattr(self.index, "title", "") or "the document"
        messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": f"Document: {title}. {task}"},
        ]
        if budget >= self.paper_tokens:
            note = f"{agent} agent: may read the whole document ({self.paper_tokens} tokens; budget {budget})"
        else:
            note = f"{agent} agent: may read {budget} of the document's {self.paper_tokens} tokens"
        await self._log(note)
        result = await self.gw.with_tools(
            "analyst", messages, reader.tools(), name=f"{agent} agent", max_rounds=s.max_rounds,
            final_check=lambda text: reply_problem(text, schema),
        )  # fmt: skip
        # The gateway did not cache a refused answer; a gateway that cannot check (a test
        # double) leaves it to this second look.
        problem = result.rejected or reply_problem(result.text, schema)
        if problem is None:
            return parse_reply(result.text, schema), reader  # type: ignore[return-value]
        # Repaired in the same conversation (what was read stays in view, as plain turns) by
        # structured output's own repair rounds: the refused answer, then the correction.
        await self._log(
            f"{agent} agent: answer did not validate ({problem[:200]}); asking for a repair", level="warning"
        )
        fixed_model = await self.gw.structured(
            "analyst", flatten_tool_messages(result.messages[:-1]), schema, name=f"{agent} agent",
            max_repairs=s.max_repairs, rejected=(result.text, problem),
        )  # fmt: skip
        return fixed_model, reader

    async def analyse(self) -> Analyses:
        """Run the reading agents (concept and algorithm concurrently, or intent) and collect their work."""
        if self.is_requirement:
            intent, reader = await self._intent()
            readers = [reader] if reader else []
            out = Analyses(kind="requirement", intent=intent)
        else:

            def concept_read() -> Awaitable[tuple[ConceptAnalysis, IndexReader]]:
                return self._read("concept", prompts.CONCEPT_SYSTEM, ConceptAnalysis)

            def algorithm_read() -> Awaitable[tuple[AlgorithmSpec, IndexReader]]:
                return self._read("algorithm", prompts.ALGORITHM_SYSTEM, AlgorithmSpec)

            if self.sequential:
                concept, r1 = await concept_read()
                algorithm, r2 = await algorithm_read()
            else:
                (concept, r1), (algorithm, r2) = await asyncio.gather(concept_read(), algorithm_read())
            readers = [r1, r2]
            out = Analyses(kind="paper", concept=concept, algorithm=algorithm)
        for r in readers:
            out.reads[r.agent] = list(r.sections_read)
            out.read_tokens[r.agent] = r.used
            if r.missing:
                out.missing_sections[r.agent] = list(r.missing)
        return out

    async def _intent(self) -> tuple[IntentAnalysis, IndexReader | None]:
        s = self.settings
        if self.paper_tokens <= s.whole_document_tokens:
            text = "\n\n".join(sec.full_text() for sec in self.index.sections)
            system = prompts.INTENT_SYSTEM.format(reading="The document is given to you whole below.")
            user = prompts.INTENT_WHOLE_DOCUMENT.format(
                text=truncate_to_tokens(text, s.whole_document_tokens)
            )
            reader = IndexReader(self.index, agent="intent", budget_tokens=0, emit=self.emit)
            for sec in self.index.all_sections():
                await reader.record(sec.id, sec.heading, sec.token_count)
            intent = await self.gw.structured(
                "analyst",
                [{"role": "system", "content": system}, {"role": "user", "content": user}],
                IntentAnalysis,
                name="intent agent",
                max_repairs=s.max_repairs,
            )
            return intent, reader
        return await self._read("intent", prompts.INTENT_SYSTEM, IntentAnalysis)

    # -- planner ----------------------------------------------------------------------

    def _planner_system(self, kind: str) -> str:
        if kind == "requirement":
            return prompts.PLANNER_SYSTEM.format(
                source="a software requirement", target_kind="acceptance thresholds from the requirement"
            )
        return prompts.PLANNER_SYSTEM.format(
            source="a research paper", target_kind="target numbers from the paper"
        )

    def _planner_input(self, analyses: Analyses, budget: int) -> str:
        title = getattr(self.index, "title", "") or "untitled"
        if analyses.kind == "requirement":
            packed = split_budget(budget, {"intent": analyses.intent}, {"intent": 1.0})
            return prompts.PLANNER_REQUIREMENT_INPUT.format(title=title, intent=packed["intent"])
        outline = self.index.outline(max_level=2)
        if count_tokens(outline) > budget // 6:
            outline = truncate_to_tokens(outline, budget // 6)
        budget -= count_tokens(outline)
        packed = split_budget(
            budget,
            {"concept": analyses.concept, "algorithm": analyses.algorithm},
            {"concept": 0.4, "algorithm": 0.6},
        )
        return prompts.PLANNER_PAPER_INPUT.format(
            title=title, outline=outline, concept=packed["concept"], algorithm=packed["algorithm"]
        )

    def _room(self, system: str, *extra: str) -> int:
        used = (
            count_tokens(system) + count_tokens(schema_instruction(Blueprint)) + sum(map(count_tokens, extra))
        )
        return max(400, self.cap - used - 200)

    @property
    def constrained(self) -> bool:
        """True when the planner decodes under a grammar (the embedded model): its plan's
        shape is enforced, its cross-references are reconciled here instead of sent back."""
        profile = _profile(self.gw, "planner")
        return profile is not None and profile.structured == "grammar"

    async def _structured_blueprint(self, messages: list[dict[str, Any]], name: str) -> Blueprint:
        if not self.constrained:
            return await self.gw.structured(
                "planner", messages, Blueprint, name=name, max_repairs=self.settings.max_repairs
            )
        draft = await self.gw.structured(
            "planner", messages, BlueprintDraft, name=name, max_repairs=self.settings.max_repairs
        )
        bp, notes = reconcile(draft)
        if notes:
            listing = "\n".join(f"- {n}" for n in notes[:20])
            await self._log(f"planning agent: made the plan's references consistent:\n{listing}", "warning")
        return bp

    async def _fix(self, system: str, bp: Blueprint, kind: str) -> Blueprint:
        """Ask the planner to fix plan-check errors, up to ``fix_rounds`` times (a constrained
        planner's plan was reconciled already: whatever is left goes to the gate)."""
        rounds = 0 if self.constrained else self.settings.fix_rounds
        for round_no in range(1, rounds + 1):
            problems = [i for i in check_blueprint(bp) if i.severity == "error"]
            if not problems:
                break
            listing = "\n".join(f"- {p.message}" for p in problems[:20])
            await self._log(
                f"planning agent: the blueprint has {len(problems)} problem(s), asking for a fix:\n{listing}",
                level="warning",
            )
            current = json.dumps(bp.model_dump(mode="json", exclude_defaults=True), separators=(",", ":"))
            messages = [
                {"role": "system", "content": system},
                {"role": "user", "content": f"Blueprint:\n{current}"},
                {"role": "user", "content": prompts.FIX_ISSUES.format(issues=listing)},
            ]
            bp = self._normalise(
                await self._structured_blueprint(messages, f"planning agent (fix {round_no})"), kind
            )
        return bp

    @staticmethod
    def _normalise(bp: Blueprint, kind: str) -> Blueprint:
        from deepcode_tui.blueprint.submission import add_submission_files

        bp = bp.model_copy(update={"source_kind": kind}) if bp.source_kind != kind else bp
        return add_submission_files(bp)  # every plan is a complete PaperBench submission

    async def plan(self, analyses: Analyses) -> Blueprint:
        """Merge the analyses into a Blueprint; plan-check errors go back to the planner to fix."""
        system = self._planner_system(analyses.kind)
        user = self._planner_input(analyses, self._room(system, prompts.PLANNER_PAPER_INPUT))
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        bp = self._normalise(await self._structured_blueprint(messages, "planning agent"), analyses.kind)
        return with_analysts_questions(await self._fix(system, bp, analyses.kind), analyses)

    async def revise(self, analyses: Analyses, current_yaml: str, feedback: str, version: str) -> Blueprint:
        """A new Blueprint addressing a human's rejection ``feedback`` of ``current_yaml``."""
        system = self._planner_system(analyses.kind)
        request = prompts.REVISE.format(version=version, feedback=feedback.strip(), current=current_yaml)
        room = self._room(system, request)
        messages = [{"role": "system", "content": system}]
        if room > 800:  # the analyses help the revision, but the current plan and feedback come first
            messages.append({"role": "user", "content": self._planner_input(analyses, room)})
        messages.append({"role": "user", "content": request})
        bp = self._normalise(
            await self._structured_blueprint(messages, f"planning agent (revise {version})"), analyses.kind
        )
        revised = await self._fix(system, bp, analyses.kind)
        # Questions settled on the current version stay settled in the revision.
        try:
            current = load_blueprint_yaml(current_yaml, check=False).open_questions
        except DeepcodeError:
            current = []
        return revised.model_copy(update={"open_questions": merge_questions(current, revised.open_questions)})
