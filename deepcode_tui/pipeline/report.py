"""The run report (``report.md``): what was built, what was checked, what it cost.

Everything is derived from the event log and the run's artifacts, so a report
can be rebuilt for any run, including one that was resumed several times.
"Success" is the verification commands passing, never that files exist.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from deepcode_tui.events.models import Event
from deepcode_tui.llm.embedded import embedded_ending
from deepcode_tui.llm.resolve import EMBEDDED_MODEL


class RunFacts:
    """What a run did, gathered event by event (live in the terminal, or from the log for
    the report), so its ending can say it in one sentence."""

    def __init__(self) -> None:
        self.models: set[str] = set()
        self.planned: int | None = None
        self.written: set[str] = set()
        self.iterations: set[int] = set()
        self.sandbox_runs = 0
        self.backends: list[str] = []
        self.phases: list[str] = []

    def observe(self, ev: Event) -> None:
        kind = ev.type
        if kind in ("llm_call_started", "llm_call_finished"):
            self.models.add(ev.model)
        elif kind == "blueprint_saved":
            self.planned = ev.files
        elif kind == "file_written":
            self.written.add(ev.path)
        elif kind == "iteration_finished" and ev.iteration > 0:
            # Iteration 0 is the smoke-test step (tests written before the first run), not a
            # repair: counting it made the ending say one iteration more than the verdict.
            self.iterations.add(ev.iteration)
        elif kind == "sandbox_ran":
            self.sandbox_runs += 1
            if ev.backend not in self.backends:
                self.backends.append(ev.backend)
        elif kind == "phase_completed":
            self.phases.append(ev.phase)

    @property
    def embedded(self) -> bool:
        return EMBEDDED_MODEL in self.models

    def sentence(self) -> str:
        """E.g. "it planned 2 files, wrote 2 and ran the verification 3 times (bwrap sandbox)"."""
        parts = [] if self.planned is None else [f"it planned {self.planned} file(s)"]
        parts.append(f"wrote {len(self.written)}" + ("" if parts else " file(s)"))
        if self.sandbox_runs:
            runs = f"ran the generated code {self.sandbox_runs} time(s) in the {'/'.join(self.backends)} sandbox"
            if self.iterations:
                runs += f" over {len(self.iterations)} repair iteration(s)"
            parts.append(runs)
        elif self.iterations:
            n = len(self.iterations)
            parts.append(f"went through {n} repair iteration(s) without the code reaching the sandbox")
        elif "verify" in self.phases:
            parts.append("found nothing it could run in verification")
        else:
            done = self.phases[-1] if self.phases else "nothing"
            parts.append(f"stopped before verification (last completed step: {done})")
        text = ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]
        return text if text.startswith("it ") else f"it {text}"

    def ending(self, status: str) -> list[str]:
        """The closing lines for a run that did not pass on the embedded model, else none."""
        if status in ("passed", "planned", "stopped", "budget") or not self.embedded:
            return []
        return embedded_ending(self.sentence())


class PhaseFigures(BaseModel):
    seconds: float = 0.0
    tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0


class IterationRow(BaseModel):
    iteration: int
    passed: bool
    findings: int
    summary: str = ""


class RunReport(BaseModel):
    run_id: str
    status: str
    message: str = ""
    repo_dir: str
    files_written: list[str] = Field(default_factory=list)
    files_failed: dict[str, str] = Field(default_factory=dict)
    coverage_missing: list[str] = Field(default_factory=list)
    findings_left: list[dict[str, Any]] = Field(default_factory=list)
    sandbox_runs: list[dict[str, Any]] = Field(default_factory=list)
    iterations: list[IterationRow] = Field(default_factory=list)
    tests_passed: int | None = None
    tests_failed: int | None = None
    phases: dict[str, PhaseFigures] = Field(default_factory=dict)
    roles: dict[str, PhaseFigures] = Field(default_factory=dict)
    ending: list[str] = Field(default_factory=list)  # why a run on the embedded model did not pass


def build_report(
    events: list[Event],
    *,
    run_id: str,
    repo_dir: Path,
    verdict: dict[str, Any] | None = None,
    coverage_missing: list[str] | None = None,
) -> RunReport:
    verdict = verdict or {}
    phases: dict[str, PhaseFigures] = defaultdict(PhaseFigures)
    roles: dict[str, PhaseFigures] = defaultdict(PhaseFigures)
    started: dict[str, Any] = {}
    current = ""
    written: dict[str, None] = {}
    failed: dict[str, str] = {}
    sandbox: list[dict[str, Any]] = []
    iterations: dict[int, IterationRow] = {}
    current_iteration = 0
    status, message = "failed", ""
    facts = RunFacts()
    for ev in events:
        facts.observe(ev)
        kind = ev.type
        if kind == "phase_started":
            started[ev.phase], current = ev.ts, ev.phase
        elif kind in ("phase_completed", "phase_failed") and ev.phase in started:
            phases[ev.phase].seconds += (ev.ts - started.pop(ev.phase)).total_seconds()
        elif kind == "llm_call_finished":
            tokens = ev.prompt_tokens + ev.completion_tokens
            for bucket in (phases[current or "setup"], roles[ev.role]):
                bucket.tokens += tokens
                bucket.cost_usd += ev.cost_usd
                bucket.calls += 1
        elif kind == "file_written":
            written[ev.path] = None
            failed.pop(ev.path, None)
        elif kind == "file_failed":
            failed[ev.path] = ev.reason
        elif kind == "iteration_started":
            current_iteration = ev.iteration
        elif kind == "sandbox_ran":
            sandbox.append(
                {"backend": ev.backend, "command": ev.command, "exit_code": ev.exit_code,
                 "seconds": round(ev.duration_s, 2), "timed_out": ev.timed_out, "iteration": current_iteration}
            )
        elif kind == "iteration_finished":
            iterations[ev.iteration] = IterationRow(
                iteration=ev.iteration, passed=ev.passed, findings=ev.findings, summary=ev.summary
            )
        elif kind == "run_finished":
            status, message = ev.status, ev.message
    if verdict:
        status = "passed" if verdict.get("passed") else "failed"
        message = verdict.get("message", message)
    return RunReport(
        run_id=run_id,
        status=status,
        message=message,
        repo_dir=str(repo_dir),
        files_written=list(written),
        files_failed=failed,
        coverage_missing=coverage_missing or [],
        findings_left=list(verdict.get("findings_left", [])),
        sandbox_runs=sandbox,
        iterations=[iterations[k] for k in sorted(iterations)],
        tests_passed=verdict.get("tests_passed"),
        tests_failed=verdict.get("tests_failed"),
        phases=dict(phases),
        roles=dict(roles),
        ending=facts.ending(status),
    )


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(r: RunReport) -> str:
    verdict = {"passed": "PASSED: the verification commands passed"}.get(
        r.status, f"DID NOT PASS ({r.status}): the verification commands did not all pass"
    )
    out = [f"# Run report: {r.run_id}", "", f"**{verdict}.**" + (f" {r.message}" if r.message else ""), ""]
    if r.ending:
        out += [" ".join(r.ending), ""]
    out += [f"Repository: `{r.repo_dir}`", ""]
    tests = "not run" if r.tests_passed is None else f"{r.tests_passed} passed, {r.tests_failed or 0} failed"
    out += [f"Tests: {tests}", ""]
    out += ["## Files", ""]
    out += [f"- `{p}`" for p in r.files_written] or ["(none written)"]
    for path, reason in r.files_failed.items():
        out.append(f"- `{path}`: FAILED: {reason}")
    out += ["", "## Blueprint coverage", ""]
    if r.coverage_missing:
        out += ["Found in the document but absent from the approved blueprint:", ""]
        out += [f"- {item}" for item in r.coverage_missing]
    else:
        out.append("Nothing the index detected was dropped by the plan.")
    out += ["", "## Static findings left", ""]
    if r.findings_left:
        rows = [[f.get("file") or "", f.get("line") or "", f.get("kind", ""), f.get("message", "")]
                for f in r.findings_left]
        out.append(_table(["file", "line", "kind", "message"], rows))
    else:
        out.append("None.")
    out += ["", "## Sandbox and repair iterations", ""]
    if r.iterations:
        out.append(_table(["iteration", "result", "findings", "summary"],
                          [[i.iteration, "passed" if i.passed else "failed", i.findings, i.summary] for i in r.iterations]))
    if r.sandbox_runs:
        out += ["", _table(["backend", "command", "exit", "seconds", "timed out"],
                           [[s["backend"], f"`{s['command']}`", s["exit_code"], s["seconds"], s["timed_out"]]
                            for s in r.sandbox_runs])]
    if not r.iterations and not r.sandbox_runs:
        out.append("Verification did not run.")
    out += ["", "## Cost and time", ""]
    out.append(_table(["phase", "wall time (s)", "tokens", "cost (USD)", "calls"],
                      [[k, f"{v.seconds:.1f}", v.tokens, f"{v.cost_usd:.4f}", v.calls] for k, v in r.phases.items()]))
    out += ["", _table(["role", "tokens", "cost (USD)", "calls"],
                       [[k, v.tokens, f"{v.cost_usd:.4f}", v.calls] for k, v in r.roles.items()])]
    return "\n".join(out) + "\n"


def load_verdict(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "verdict.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
