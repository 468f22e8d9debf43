"""A scripted run for driving the app without a model: real driver, scripted phases.

``scripted_driver(script)`` has the signature of ``pipeline.driver.drive`` and
runs the real driver (bus, store, resume, stop handling) over phases that
emit the events and write the artifacts the real phases do: a document
index, blueprint versions behind the approval gate, files streamed token by
token with memory entries (honouring the steering service at each file
boundary), and repair iterations whose patches go through the step hook.
Used by the Pilot tests, scripts/bench_tui.py and scripts/make_screenshots.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from deepcode_tui.codegen.memory import MemoryStore, content_hash, extract_entry
from deepcode_tui.events.models import (
    BlueprintSaved,
    CostUpdated,
    DocumentIndexed,
    FileStarted,
    FileWritten,
    FindingReported,
    IterationFinished,
    IterationStarted,
    LLMCallFinished,
    LLMCallStarted,
    MemoryEntryAdded,
    PatchDecision,
    PatchProposed,
    RetrievalDecision,
    SandboxOutput,
    SandboxRan,
    SectionRead,
    TokenStreamed,
)
from deepcode_tui.ingest.models import Algorithm, DocumentIndex, Equation, Hyperparameter, Section
from deepcode_tui.pipeline import driver as driver_module
from deepcode_tui.pipeline.context import RunContext
from deepcode_tui.pipeline.runner import Pipeline
from deepcode_tui.store.atomic import write_text_atomic
from deepcode_tui.tokens import count_tokens

PAPER_MD = """# Streaming anomaly detection with an exponential moving average

## 1 Introduction

Sensors report a value every second. We flag values that stray far from a
running estimate of the mean, using constant memory per stream.

## 2 Method

### 2.1 Exponential moving average

The running mean is $m_t = \\alpha x_t + (1 - \\alpha) m_{t-1}$ and the running
variance $v_t = \\alpha (x_t - m_t)^2 + (1 - \\alpha) v_{t-1}$.

### 2.2 Anomaly score

The score is $s_t = |x_t - m_{t-1}| / \\sqrt{v_{t-1} + \\epsilon}$; a value is an
anomaly when $s_t > \\tau$.

## 3 Experiments

We use $\\alpha = 0.1$, $\\tau = 3.0$ and a warm-up of 20 samples.
"""

BLUEPRINT_DATA = {
    "title": "EMA anomaly detector",
    "summary": "Streaming anomaly detection with an exponential moving average.",
    "file_hierarchy": [
        {"path": "ema/__init__.py", "purpose": "package exports", "dependencies": ["ema/detector.py"]},
        {"path": "ema/detector.py", "purpose": "the EMA detector and its anomaly score",
         "paper_sections": ["2.1 Exponential moving average", "2.2 Anomaly score"]},
        {"path": "ema/cli.py", "purpose": "read numbers from stdin, print anomalies",
         "dependencies": ["ema/detector.py"]},
        {"path": "tests/test_detector.py", "purpose": "unit tests for the detector",
         "dependencies": ["ema/detector.py"], "kind": "test"},
    ],
    "components": [
        {"file": "ema/detector.py",
         "classes": [{"name": "EmaDetector", "methods": [
             {"name": "update", "signature": "def update(self, x: float) -> bool", "implements": ["Eq. (1)"]}]}],
         "hyperparameters": [{"name": "alpha", "value": "0.1", "source": "3"},
                             {"name": "tau", "value": "3.0", "source": "3"}]},
    ],
    "verification": {"commands": ["python -m pytest -q"]},
}  # fmt: skip


def blueprint_v1() -> str:
    from deepcode_tui.blueprint.models import Blueprint
    from deepcode_tui.blueprint.yaml_io import dump_blueprint_yaml

    return dump_blueprint_yaml(Blueprint.model_validate(BLUEPRINT_DATA))


# A file entry a human adds while code is generated (tests insert it before tests/test_detector.py).
REPORT_ENTRY = (
    "  - path: ema/report.py\n    purpose: summaries of a detection run\n    stage: 1\n    kind: source\n"
)

CODE = {
    "ema/__init__.py": '"""Streaming anomaly detection."""\n\nfrom ema.detector import EmaDetector\n\n__all__ = ["EmaDetector"]\n',
    "ema/detector.py": (
        '"""The EMA detector: running mean and variance, anomaly score."""\n\n'
        "import math\n\n\n"
        "class EmaDetector:\n"
        "    def __init__(self, alpha: float = 0.1, threshold: float = 3.0, warmup: int = 20) -> None:\n"
        "        self.alpha, self.threshold, self.warmup = alpha, threshold, warmup\n"
        "        self.mean, self.var, self.seen = 0.0, 0.0, 0\n\n"
        "    def score(self, x: float) -> float:\n"
        "        return abs(x - self.mean) / math.sqrt(self.var + 1e-9)\n\n"
        "    def update(self, x: float) -> bool:\n"
        "        anomalous = self.seen >= self.warmup and self.score(x) > self.threshold\n"
        "        self.mean = self.alpha * x + (1 - self.alpha) * self.mean\n"
        "        self.var = self.alpha * (x - self.mean) ** 2 + (1 - self.alpha) * self.var\n"
        "        self.seen += 1\n"
        "        return anomalous\n"
    ),
    "ema/cli.py": (
        '"""Read numbers from stdin and print the anomalous ones."""\n\n'
        "import sys\n\nfrom ema.detector import EmaDetector\n\n\n"
        "def main() -> int:\n"
        "    detector = EmaDetector()\n"
        "    for line in sys.stdin:\n"
        "        value = float(line)\n"
        "        if detector.update(value):\n"
        "            print(value)\n"
        "    return 0\n"
    ),
    "tests/test_detector.py": (
        "from ema.detector import EmaDetector\n\n\n"
        "def test_flags_a_spike():\n"
        "    d = EmaDetector(warmup=5)\n"
        "    for _ in range(50):\n"
        "        d.update(1.0)\n"
        "    assert d.update(100.0)\n"
    ),
    "ema/report.py": (
        '"""Summaries of a detection run (added by an amendment)."""\n\n\n'
        "def summary(flags: list[bool]) -> str:\n"
        '    return f"{sum(flags)} anomalies in {len(flags)} values"\n'
    ),
}


def build_index(source: str = "paper.md") -> DocumentIndex:
    def sec(sid: str, number: str, title: str, text: str, level: int = 1, children=()) -> Section:
        return Section(
            id=sid, number=number, title=title, level=level, text=text,
            token_count=count_tokens(text), children=list(children),
        )  # fmt: skip

    blocks = {}  # heading line -> the text under it, from PAPER_MD
    heading = ""
    for line in PAPER_MD.splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
            blocks[heading] = ""
        elif heading:
            blocks[heading] += line + "\n"
    body = {h.split(" ", 1)[0]: t.strip() for h, t in blocks.items()}
    sections = [
        sec("s1", "1", "Introduction", body["1"]),
        sec(
            "s2",
            "2",
            "Method",
            body["2"],
            children=[
                sec("s2-1", "2.1", "Exponential moving average", body["2.1"], 2),
                sec("s2-2", "2.2", "Anomaly score", body["2.2"], 2),
            ],
        ),
        sec("s3", "3", "Experiments", body["3"]),
    ]
    index = DocumentIndex(
        source_path=source, format="markdown", engine="markdown",
        title="Streaming anomaly detection with an exponential moving average", sections=sections,
        equations=[Equation(id="eq1", text="m_t = \\alpha x_t + (1 - \\alpha) m_{t-1}", label="(1)", section_id="s2-1")],
        algorithms=[Algorithm(id="alg1", title="Algorithm 1: streaming detection", section_id="s2-2",
                              text="for x in stream:\n    s = score(x)\n    flag if s > tau\n    update(m, v, x)")],
        hyperparameters=[
            Hyperparameter(name="alpha", value="0.1", section_id="s3"),
            Hyperparameter(name="tau", value="3.0", section_id="s3"),
            Hyperparameter(name="warm-up", value="20 samples", section_id="s3"),
        ],
    )  # fmt: skip
    index.total_tokens = sum(s.token_count for s in index.all_sections())
    return index


@dataclass
class Script:
    """Knobs for one scripted run; tests read what happened back from it."""

    iterations: int = 2  # failing iterations before the passing one
    token_delay_s: float = 0.0  # pause per streamed token (0: yield only)
    chunk_chars: int = 32  # characters per streamed token (the benchmark streams 4)
    hold_before: dict[str, asyncio.Event] = field(default_factory=dict)  # wait before these files
    code: dict[str, str] = field(default_factory=dict)  # file text overrides (default: CODE)
    log_lines_per_run: int = 6
    decisions: list[Any] = field(default_factory=list)  # step decisions the verify phase got
    amendments: list[Any] = field(default_factory=list)  # amended plans the coder switched to
    paused_at: list[str] = field(default_factory=list)  # files the coder held before
    codegen_runs: int = 0
    driven_with: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)  # (settings, services) per drive


class _Phase:
    def __init__(self, name: str, script: Script, body: Callable[[RunContext, Script], Any]) -> None:
        self.name, self.script, self.body = name, script, body

    async def run(self, ctx: RunContext) -> dict[str, Any]:
        return await self.body(ctx, self.script) or {}


async def _ingest(ctx: RunContext, script: Script) -> dict[str, Any]:
    index = build_index(ctx.store.manifest.input_path)
    index.save(ctx.store.path("document", "index.json"))
    await ctx.emit(DocumentIndexed(sections=5, total_tokens=index.total_tokens, engine="markdown"))
    for agent, sid, title in (
        ("concept", "s1", "Introduction"),
        ("concept", "s2-1", "Exponential moving average"),
        ("algorithm", "s2-1", "Exponential moving average"),
        ("algorithm", "s2-2", "Anomaly score"),
    ):
        await ctx.emit(SectionRead(agent=agent, section_id=sid, title=title, tokens=40))  # fmt: skip
    return {"sections": 5}


async def _blueprint(ctx: RunContext, script: Script) -> dict[str, Any]:
    from deepcode_tui.blueprint.coverage import coverage_report
    from deepcode_tui.blueprint.versions import BlueprintVersions
    from deepcode_tui.blueprint.yaml_io import load_blueprint_yaml

    text = blueprint_v1()
    await ctx.emit(LLMCallStarted(call_id="plan-1", role="planner", model="scripted/planner"))
    for i in range(0, len(text), 16):
        await ctx.emit(TokenStreamed(call_id="plan-1", role="planner", text=text[i : i + 16]))
    await ctx.emit(
        LLMCallFinished(call_id="plan-1", role="planner", model="scripted/planner", completion_tokens=300)
    )
    versions = BlueprintVersions(ctx.run_dir)
    version = versions.save(text)
    report = coverage_report(
        DocumentIndex.load(ctx.store.path("document", "index.json")), load_blueprint_yaml(text)
    )
    write_text_atomic(ctx.store.path("blueprint", "coverage.json"),
                      json.dumps({"version": version, **report.model_dump(mode="json")}))  # fmt: skip
    await ctx.emit(BlueprintSaved(version=version, path=str(versions.path(version)), files=4))
    await ctx.emit(CostUpdated(total_cost_usd=0.0012, total_tokens=600, by_role={"planner": {"tokens": 600}}))
    return {"files": 4}


def _approval_phase():
    from deepcode_tui.blueprint.phase import ApprovalPhase

    class ScriptedApproval(ApprovalPhase):
        """The real approval gate; only the planner's revision after a rejection is scripted."""

        async def _revise(self, ctx, versions, version, text, feedback):
            revised = text + f"# revised after feedback: {feedback}\n"
            new_version = versions.save(revised)
            await ctx.emit(BlueprintSaved(version=new_version, path=str(versions.path(new_version)), files=4))
            return new_version

    return ScriptedApproval()


async def _codegen(ctx: RunContext, script: Script) -> dict[str, Any]:
    from deepcode_tui.codegen.plan import CodegenPlan

    script.codegen_runs += 1
    steering = ctx.services.get("steering")
    memory = MemoryStore(ctx.run_dir, durable=False)
    repo = ctx.store.repo_dir
    plan = CodegenPlan.model_validate_json(ctx.store.path("blueprint", "plan.json").read_text())
    processed: list[str] = []
    tokens = 600
    while True:
        # A file boundary: where the real loop calls should_pause().
        pending = [f.path for f in plan.order() if f.path not in processed]
        if pending and pending[0] in script.hold_before:
            await script.hold_before[pending[0]].wait()
        if steering is not None:
            if steering.pause_requested and pending:
                script.paused_at.append(pending[0])
            amendment = await steering.should_pause()
            if amendment is not None:
                script.amendments.append(amendment.plan)
                plan = amendment.plan
        pending = [f.path for f in plan.order() if f.path not in processed]
        if not pending:
            break
        path = pending[0]
        processed.append(path)
        i = len(processed) - 1
        code = script.code.get(path) or CODE.get(path, f"# {path}\n")
        target = repo / path
        entry = memory.get(path)
        if target.is_file() and entry is not None and entry.content_hash == content_hash(target.read_text()):
            continue  # resume: already written and remembered
        ctx_tokens = {"blueprint": 900 + 40 * i, "memory": 150 * i, "retrieval": 300 if i == 1 else 0}
        await ctx.emit(RetrievalDecision(path=path, retrieve=i == 1, reason="spec leaves the maths to the paper"
                                         if i == 1 else "spec is complete", tokens=ctx_tokens["retrieval"]))  # fmt: skip
        await ctx.emit(FileStarted(path=path, context_tokens=ctx_tokens))
        call_id = f"code-{script.codegen_runs}-{i}"
        await ctx.emit(LLMCallStarted(call_id=call_id, role="coder", model="scripted/coder"))
        await _stream(ctx, script, call_id, code)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(target, code)
        new_entry = extract_entry(path, code, project_files=plan.paths(), purpose=f"scripted {path}")
        memory.append(new_entry)
        names = [f.name for f in new_entry.interface.functions] + [
            c.name for c in new_entry.interface.classes
        ]
        await ctx.emit(FileWritten(path=path, bytes=len(code.encode()), sha256=content_hash(code)))
        await ctx.emit(MemoryEntryAdded(path=path, purpose=new_entry.purpose, symbols=names))
        tokens += sum(ctx_tokens.values()) + len(code) // 4
        await ctx.emit(LLMCallFinished(call_id=call_id, role="coder", model="scripted/coder",
                                       prompt_tokens=sum(ctx_tokens.values()), completion_tokens=len(code) // 4))  # fmt: skip
        await ctx.emit(CostUpdated(total_cost_usd=round(tokens * 2e-6, 6), total_tokens=tokens))
    return {"files": len(processed)}


async def _stream(ctx: RunContext, script: Script, call_id: str, code: str) -> None:
    """Emit ``code`` as tokens at 1 / token_delay_s tokens per second of wall time.

    Like a network stream, tokens that fell due while the event loop was busy
    arrive together at the next wake-up, so the rate holds under load.
    """
    chunks = [code[i : i + script.chunk_chars] for i in range(0, len(code), script.chunk_chars)]
    loop = asyncio.get_running_loop()
    start, sent = loop.time(), 0
    while sent < len(chunks):
        due = (
            len(chunks)
            if script.token_delay_s <= 0
            else int((loop.time() - start) / script.token_delay_s) + 1
        )
        for chunk in chunks[sent : max(sent + 1, min(due, len(chunks)))]:
            await ctx.emit(TokenStreamed(call_id=call_id, role="coder", text=chunk))
            sent += 1
        await asyncio.sleep(script.token_delay_s)


def proposal_for(iteration: int):
    """The repairer's (scripted) proposal of an iteration: one search/replace edit."""
    from deepcode_tui.verify.patches import Edit
    from deepcode_tui.verify.repair import RepairProposal

    old = "1e-9)" if iteration == 1 else "1e-8)"
    return RepairProposal(
        edits=[Edit(path="ema/detector.py", search=old, replace=f"1e-{9 - iteration})")],
        rationale="guard the division when the variance is tiny",
    )


async def _verify(ctx: RunContext, script: Script) -> dict[str, Any]:
    from deepcode_tui.verify.patches import apply_edits

    hook = ctx.services.get("step_hook")
    n = 0
    for n in range(1, script.iterations + 2):
        passed = n > script.iterations
        await ctx.emit(IterationStarted(iteration=n))
        for k in range(script.log_lines_per_run):
            await ctx.emit(SandboxOutput(stream="stdout", line=f"iteration {n}: collecting test {k}"))
        if not passed:
            await ctx.emit(SandboxOutput(stream="stderr", line="AssertionError: assert False"))
        await ctx.emit(SandboxRan(backend="podman", command="python -m pytest -q", exit_code=0 if passed else 1,
                                  duration_s=1.25 + n))  # fmt: skip
        folder = ctx.store.path("iterations", f"{n:03d}")
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder / "trace.txt", f"iteration {n}\n")
        if passed:
            write_text_atomic(folder / "result.json", json.dumps({"passed": True}))
            await ctx.emit(IterationFinished(iteration=n, passed=True, findings=0, summary="3 passed"))
            break
        finding = FindingReported(stage="sandbox", kind="test_failure", file="tests/test_detector.py", line=7,
                                  message=f"test_flags_a_spike failed (iteration {n})")  # fmt: skip
        await ctx.emit(finding)
        write_text_atomic(folder / "findings.json", json.dumps([{"file": finding.file, "line": 7, "kind": finding.kind,
                                                                 "stage": "sandbox", "message": finding.message}]))  # fmt: skip
        proposal = proposal_for(n)
        decision = await hook(n, proposal) if hook is not None else None
        script.decisions.append(decision)
        action = decision.action if decision is not None else "apply"
        chosen = decision.edited_proposal if action == "edit" and decision.edited_proposal else proposal
        diff = ""
        if action != "skip":
            diff = apply_edits(ctx.store.repo_dir, chosen.edits).diff
        write_text_atomic(folder / "patch.diff", diff)
        await ctx.emit(PatchProposed(iteration=n, diff=diff))
        await ctx.emit(PatchDecision(iteration=n, decision=action, applied=bool(diff)))
        await ctx.emit(IterationFinished(iteration=n, passed=False, findings=1, summary="1 test failed"))
    ctx.services["verdict"] = {"passed": True, "message": "all tests pass"}
    return {"iterations": n}


async def _report(ctx: RunContext, script: Script) -> dict[str, Any]:
    write_text_atomic(ctx.store.path("report.md"), "# Report\n\nAll tests pass.\n")
    return {}


def scripted_pipeline(script: Script) -> Pipeline:
    phases: list[Any] = [_Phase("ingest", script, _ingest), _Phase("blueprint", script, _blueprint),
                         _approval_phase()]  # fmt: skip
    phases += [
        _Phase("codegen", script, _codegen),
        _Phase("verify", script, _verify),
        _Phase("report", script, _report),
    ]
    return Pipeline(phases)


def scripted_driver(script: Script):
    """A driver with drive()'s signature: the real driver over the scripted phases."""

    async def drive(store, settings, gate, **kwargs):
        script.driven_with.append((settings, dict(kwargs.get("services") or {})))
        with mock.patch.object(driver_module, "build_pipeline", lambda: scripted_pipeline(script)):
            return await driver_module.drive(store, settings, gate, **kwargs)

    return drive
