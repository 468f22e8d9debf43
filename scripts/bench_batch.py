#!/usr/bin/env python3
"""N replayed runs one after another vs as one `deepcode-tui batch` on this machine.

Prints: the wall time of each (and their ratio), the scheduler overhead
(batch wall minus the longest run, in total and per run), Ray's start-up
inside the batch command, the peak memory of the Ray processes (system
processes and the workers that carry the runs, separately) and whether the
batch's repositories equal the sequential ones.

    .venv/bin/python scripts/bench_batch.py [--n 2] [--mix]

Timings on a shared, loaded machine are noisy: the script prints the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "examples" / "ema-anomaly.md", ROOT / "examples" / "todo-service.txt"]
CASSETTES = ROOT / "tests" / "cassettes"


def _env(runs: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEEPCODE_") and not k.endswith("_API_KEY")}
    env.update({"DEEPCODE_RUNS_DIR": str(runs), "PYTHONPATH": str(ROOT), "COLUMNS": "160"})
    return env


def _repo(run_dir: Path) -> dict[str, str]:
    repo = run_dir / "repo"
    return {p.relative_to(repo).as_posix(): p.read_text() for p in repo.rglob("*.py")}


class MemorySampler(threading.Thread):
    """Peak RSS of the command's Ray processes, sampled every 0.25 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak_system = self.peak_workers = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            system = workers = 0
            try:
                procs = self.root.children(recursive=True)
            except psutil.Error:
                break
            for p in procs:
                try:
                    line = " ".join(p.cmdline())
                    rss = p.memory_info().rss
                except psutil.Error:
                    continue
                if "ray::" in line or "default_worker.py" in line or p.name().startswith("ray::"):
                    workers += rss
                elif "ray" in line and "podman" not in line:
                    system += rss
            self.peak_system, self.peak_workers = max(self.peak_system, system), max(self.peak_workers, workers)
            self.stop.wait(0.25)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2, help="number of runs")
    ap.add_argument("--mix", action="store_true",
                    help="alternate the two examples (default: todo-service only, the cheapest whole run)")
    args = ap.parse_args()
    docs = [DOCS[i % 2] for i in range(args.n)] if args.mix else [DOCS[1]] * args.n
    work = Path(tempfile.mkdtemp(prefix="dct-bench-"))
    try:
        print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        seq_runs, seq_times = work / "seq", []
        for doc in docs:
            started = time.monotonic()
            proc = subprocess.run([sys.executable, "-m", "deepcode_tui", "run", str(doc), "--yes", "--replay",
                                   str(CASSETTES / doc.stem)], cwd=ROOT, env=_env(seq_runs),
                                  capture_output=True, text=True, timeout=1200, check=False)
            seq_times.append(time.monotonic() - started)
            if proc.returncode != 0:
                print(f"sequential run of {doc.name} failed:\n{proc.stderr[-2000:]}")
                return 1
        sequential = sum(seq_times)
        seq_repos = {}
        for run_dir in sorted(p for p in seq_runs.iterdir() if (p / "run.json").is_file()):
            seq_repos.setdefault(json.loads((run_dir / "run.json").read_text())["input_path"], _repo(run_dir))

        batches = work / "b"
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "deepcode_tui", "batch", *map(str, docs), "--yes",
                                 "--replay-root", str(CASSETTES), "--batch-dir", str(batches), "--local-cpus",
                                 str(os.cpu_count() or 2)], cwd=ROOT, env=_env(work / "unused"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sampler = MemorySampler(proc.pid)
        sampler.start()
        _, err = proc.communicate(timeout=1800)
        batch_wall = time.monotonic() - started
        sampler.stop.set()
        sampler.join()
        if proc.returncode != 0:
            print(f"the batch failed:\n{err[-3000:]}")
            return 1
        (batch_dir,) = [p for p in batches.iterdir() if (p / "batch.json").is_file()]
        manifest = json.loads((batch_dir / "batch.json").read_text())
        longest = max(e["seconds"] for e in manifest["entries"])
        same = all(_repo(batch_dir / "runs" / e["run_id"]) == seq_repos[e["doc"]] for e in manifest["entries"])
        ray_start = batch_wall - manifest["wall_seconds"]

        print(f"runs: {args.n} replayed ({', '.join(d.name for d in docs)})")
        print(f"sequential wall: {sequential:.1f} s ({', '.join(f'{t:.1f}' for t in seq_times)})")
        print(f"batch wall (whole command, Ray start and stop included): {batch_wall:.1f} s")
        print(f"wall time ratio sequential / batch: {sequential / batch_wall:.2f}")
        print(f"longest run inside the batch: {longest:.1f} s")
        print(f"scheduler overhead: {batch_wall - longest:.1f} s in total, {(batch_wall - longest) / args.n:.1f} s per run")
        print(f"  of which outside the scheduling loop (Ray start/stop, process start): {ray_start:.1f} s")
        print(f"peak RSS of Ray system processes: {sampler.peak_system / 2**20:.0f} MB; "
              f"of Ray workers carrying the runs: {sampler.peak_workers / 2**20:.0f} MB")
        print(f"batch repositories equal the sequential ones: {same}")
        print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        return 0 if same else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
