#!/usr/bin/env python
"""Chaos benchmark: full runs of the example against a provider stub that misbehaves.

    .venv/bin/python scripts/bench_chaos.py --runs 50 --rate 0.1 --rate 0.3
    .venv/bin/python scripts/bench_chaos.py --runs 5 --rate 0.3 --stop-after codegen   # the suite's setting

Each run is `deepcode-tui run examples/ema-anomaly.md --yes` (a child process; the
families take turns: anthropic, openai, an OpenAI-compatible server) with its models
at a stub on 127.0.0.1 that draws a fault per request at the given rate from the
catalogue of tests/stubs/faults.py (seeded: run i of rate r uses seed i). Prints,
per fault kind, how often it was injected and recovered from (a fault is recovered
unless it was the last thing the run's provider did before the run gave up), and per
run: outcome (passed / failed with a named reason / resumable / UNCLEAN), wall time,
and the extra tokens the faults cost (tokens counted minus those of a fault-free
run). A run is clean when it ends in bounded time with no traceback, no half-written
file (no `.*.tmp` left behind) and one error line when it did not pass. The last
line is the summary. Timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.stubs.ema import ema_model
from tests.stubs.faults import KINDS, Draw
from tests.stubs.runs import EXAMPLE, FAMILIES, child_env
from tests.stubs.server import ProviderStub

ORDER = ["anthropic", "openai", "compatible"]
# Short bounds: a stall or a silence costs seconds, not minutes (the defaults are for real providers).
BOUNDS = {
    "DEEPCODE_MODELS__FIRST_BYTE_TIMEOUT_S": "8",
    "DEEPCODE_MODELS__IDLE_TIMEOUT_S": "2",
    "DEEPCODE_MODELS__CALL_DEADLINE_S": "120",
}
CHILD = """
import asyncio, sys
from pathlib import Path
from deepcode_tui.config.loader import load_settings
from deepcode_tui.errors import DeepcodeError
from deepcode_tui.pipeline.driver import drive
from deepcode_tui.pipeline.gate import AutoApproveGate
from deepcode_tui.store.run import RunStore

async def main(doc, stop_after):
    settings = load_settings().settings
    store = RunStore.create(settings.runs_dir, Path(doc))
    outcome = await drive(store, settings, AutoApproveGate(), services={"llm_flags": {"no_cache": True},
                          "watch_repo": False}, stop_after=stop_after, new_run=True)
    store.close()
    if outcome.error is not None:
        print(f"error: {outcome.error.one_line()}", file=sys.stderr)
        return outcome.error.exit_code
    return 0

sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
"""


@dataclass
class RunResult:
    rate: float
    seed: int
    family: str
    outcome: str
    reason: str
    seconds: float
    tokens: int
    billed: int
    faults: list[str] = field(default_factory=list)
    unrecovered: str | None = None


def _tokens(run_dir: Path | None) -> int:
    path = run_dir / "llm" / "calls.jsonl" if run_dir else None
    if path is None or not path.exists():
        return 0
    calls = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return sum(c["prompt_tokens"] + c["completion_tokens"] for c in calls)


def _half_written(run_dir: Path | None) -> list[str]:
    if run_dir is None:
        return []
    return [str(p.relative_to(run_dir)) for p in run_dir.rglob(".*.tmp")]


def one_run(rate: float, seed: int, family: str, stop_after: str | None, timeout: float) -> RunResult:
    from deepcode_tui.store.catalog import summarize_run
    from deepcode_tui.store.eventlog import read_log

    with ProviderStub(ema_model(), chooser=Draw(rate, seed), retry_after=0.5, stall_s=10) as stub:
        runs = Path(tempfile.mkdtemp(prefix="chaos-"))
        env = child_env(runs, {**FAMILIES[family](stub), **BOUNDS})
        if stop_after:
            argv = [sys.executable, "-c", CHILD, str(EXAMPLE), stop_after]
        else:
            argv = [sys.executable, "-m", "deepcode_tui", "run", str(EXAMPLE), "--yes", "--no-cache"]
        started = time.monotonic()
        try:
            proc = subprocess.run(
                argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env, check=False
            )
            rc, err = proc.returncode, proc.stderr
        except subprocess.TimeoutExpired:
            rc, err = None, "hang"
        seconds = time.monotonic() - started
        log = list(stub.log)
    dirs = [p for p in runs.iterdir() if (p / "run.json").exists()]
    run_dir = dirs[0] if dirs else None
    faults = [e.fault for e in log if e.fault]
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    finished = None
    if run_dir is not None:
        events = read_log(run_dir / "events.jsonl").events
        finished = next((e for e in reversed(events) if e.type == "run_finished"), None)
    status = finished.status if finished else "-"
    expected = "planned" if stop_after else "passed"
    if rc is None or "Traceback" in err or rc == 70 or _half_written(run_dir):
        outcome, reason = "UNCLEAN", "hang" if rc is None else (err.strip().splitlines() or ["?"])[-1][:160]
    elif rc == 0 and status == expected:
        outcome, reason = "passed", ""
    elif len(errors) == 1 and run_dir is not None and summarize_run(run_dir).resumable:
        outcome, reason = "resumable", errors[0][7:160]
    elif status == "failed" and finished is not None and finished.message:
        outcome, reason = "failed", finished.message[:160]
    else:
        outcome, reason = "UNCLEAN", f"exit {rc}, status {status}, {len(errors)} error lines"
    unrecovered = None
    if outcome != "passed" and log and log[-1].fault:
        unrecovered = log[-1].fault
    billed = sum(e.prompt_tokens + e.completion_tokens for e in log)
    result = RunResult(
        rate, seed, family, outcome, reason, seconds, _tokens(run_dir), billed, faults, unrecovered
    )
    if outcome == "passed":
        import shutil

        shutil.rmtree(runs, ignore_errors=True)  # keep the others for a look
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="runs per rate")
    parser.add_argument("--rate", type=float, action="append", help="fault rate per request (repeatable)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once")
    parser.add_argument(
        "--stop-after", choices=["blueprint", "codegen"], help="end each run after this phase"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a run counts as a hang")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the fault-free runs (no extra-token figures)"
    )
    args = parser.parse_args(argv)
    rates = args.rate or [0.1, 0.3]

    plan = [] if args.no_baseline else [(0.0, 0, family) for family in ORDER]  # fault-free, one per family
    plan += [(rate, i, ORDER[i % len(ORDER)]) for rate in rates for i in range(args.runs)]
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        done = list(pool.map(lambda p: one_run(p[0], p[1], p[2], args.stop_after, args.timeout), plan))
    first = 0 if args.no_baseline else len(ORDER)
    baselines, results = {r.family: r for r in done[:first]}, done[first:]
    for b in baselines.values():
        print(f"baseline (no faults, {b.family}): {b.outcome} in {b.seconds:.1f}s, {b.tokens} tokens")

    print(
        f"\n{'rate':>5} {'seed':>4} {'family':<10} {'outcome':<9} {'time_s':>7} {'extra_tok':>9}  faults / reason"
    )
    for r in results:
        extra = r.tokens - baselines[r.family].tokens if r.family in baselines else "-"
        faults = ",".join(r.faults) or "-"
        print(f"{r.rate:>5.2f} {r.seed:>4} {r.family:<10} {r.outcome:<9} {r.seconds:>7.1f} {extra:>9}  {faults}"
              + (f" | {r.reason}" if r.reason else ""))  # fmt: skip

    print(f"\n{'fault kind':<16}" + "".join(f" {f'inj@{r:g}':>8} {f'rec@{r:g}':>8}" for r in rates))
    for kind in KINDS:
        row = f"{kind:<16}"
        for rate in rates:
            inj = sum(r.faults.count(kind) for r in results if r.rate == rate)
            lost = sum(1 for r in results if r.rate == rate and r.unrecovered == kind)
            row += f" {inj:>8} {inj - lost:>8}"
        print(row)

    summary = []
    for rate in rates:
        mine = [r for r in results if r.rate == rate]
        outcomes = Counter(r.outcome for r in mine)
        clean = sum(1 for r in mine if r.outcome != "UNCLEAN")
        extra = [
            r.tokens - baselines[r.family].tokens
            for r in mine
            if r.outcome == "passed" and r.family in baselines
        ]
        mean_extra = sum(extra) / len(extra) if extra else 0
        summary.append(
            f"rate {rate:g}: {len(mine)} runs, clean {clean}/{len(mine)} ({100 * clean / max(1, len(mine)):.0f}%), "
            f"passed {outcomes['passed']} ({100 * outcomes['passed'] / max(1, len(mine)):.0f}%), "
            f"resumable {outcomes['resumable']}, failed {outcomes['failed']}, "
            f"faults {sum(len(r.faults) for r in mine)}, mean extra tokens per passed run {mean_extra:.0f}"
        )
    print()
    print("SUMMARY " + " | ".join(summary))
    return 0 if all(r.outcome != "UNCLEAN" for r in done) else 1


if __name__ == "__main__":
    sys.exit(main())
