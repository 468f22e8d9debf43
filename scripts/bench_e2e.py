"""Wall time and tokens per phase of whole runs on the example documents.

    .venv/bin/python scripts/bench_e2e.py              # replay provider (cassettes under tests/cassettes)
    .venv/bin/python scripts/bench_e2e.py --embedded   # also the embedded SmolLM2-135M model (minutes)

Each run is the real pipeline (`deepcode-tui run DOC --yes`) in a fresh runs
directory; the figures come from the run's report.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {
    "ema-anomaly.md": ROOT / "tests" / "cassettes" / "ema-anomaly",
    "todo-service.txt": ROOT / "tests" / "cassettes" / "todo-service",
}
PHASES = ["ingest", "blueprint", "approval", "codegen", "verify", "report"]


def run(doc: Path, extra: list[str], timeout: float) -> tuple[dict | None, float, str]:
    runs = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEEPCODE_") and not k.endswith("_API_KEY")}
    env["DEEPCODE_RUNS_DIR"] = str(runs)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "deepcode_tui", "run", str(doc), "--yes", "--no-cache", *extra],
            cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env,
        )
        tail = (proc.stdout.strip().splitlines() or proc.stderr.strip().splitlines() or [""])[-1]
    except subprocess.TimeoutExpired:
        tail = f"timed out after {timeout:.0f}s"
    wall = time.monotonic() - started
    reports = list(runs.glob("*/report.json"))
    return (json.loads(reports[0].read_text()) if reports else None), wall, tail


def show(label: str, report: dict | None, wall: float, tail: str) -> None:
    print(f"\n== {label}: {wall:.1f}s wall; {tail}")
    if report is None:
        print("   (no report: the run did not reach the report phase)")
        return
    print(f"   status: {report['status']}  files: {len(report['files_written'])}")
    print(f"   {'phase':<10} {'seconds':>8} {'tokens':>8} {'calls':>6}")
    for phase in PHASES:
        fig = report["phases"].get(phase, {"seconds": 0, "tokens": 0, "calls": 0})
        print(f"   {phase:<10} {fig['seconds']:>8.1f} {fig['tokens']:>8} {fig['calls']:>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedded", action="store_true", help="also run on the embedded model")
    parser.add_argument("--timeout", type=float, default=1200)
    args = parser.parse_args()
    for name, cassette in EXAMPLES.items():
        doc = ROOT / "examples" / name
        if cassette.is_dir():
            show(f"{name} on the replay provider", *run(doc, ["--replay", str(cassette)], args.timeout))
        else:
            print(f"\n== {name} on the replay provider: no cassette at {cassette.relative_to(ROOT)}")
        if args.embedded:
            show(f"{name} on the embedded model", *run(doc, [], args.timeout))


if __name__ == "__main__":
    main()
