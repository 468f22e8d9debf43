"""Benchmark the app: key-press-to-screen latency while code streams in, and log memory.

    .venv/bin/python scripts/bench_tui.py [--tokens-per-s 500] [--samples 60] [--start-runs 2]
                                          [--only latency|start|memory]

1. Latency. A scripted run (the tests' one: real driver, store and bus)
   streams a large file into the generation pane at ``--tokens-per-s``
   (4-character tokens). Meanwhile keys are pressed: pane switches
   (2 / 3) and file-list moves (up / down). A key's latency is the time
   from posting the key event to the first frame the compositor produced
   with the app's state reflecting the key (checked as each frame is drawn;
   the frame is also serialised to terminal bytes, as a real terminal would
   need). Target: p95 <= 50 ms.
2. Opening a document, to the gate (the real pipeline replaying the example
   cassette, in a fresh process each run so litellm starts cold, as for a user).
   The screen is asked to redraw 60 times a second; the longest gap between
   two frames from opening the document to the blueprint gate is the longest
   the app looked frozen (target: no gap over 250 ms). Meanwhile pane keys
   (1 / 3) are pressed every 100 ms; their latency is reported for the
   blueprint phase and for the whole way to the gate.
3. Memory. 20,000 sandbox output lines go through the same path as live
   events (bus observer -> message -> pane) with ``ui.log_lines`` = 1000 and
   5000; the Python heap (tracemalloc) and RSS are sampled every 2,000 lines.
   Target: flat once the line limit is reached (Textual's own render caches
   are LRU-bounded and fill up over the first ~1,000 drawn rows).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import psutil
from textual import events
from textual._compositor import CompositorUpdate
from textual.geometry import Region
from textual.widgets import OptionList, TabbedContent

from deepcode_tui.config.loader import load_settings
from deepcode_tui.events.models import SandboxOutput
from deepcode_tui.tui.app import DeepcodeApp
from tests.tui.scripted import CODE, PAPER_MD, Script, scripted_driver
from tests.tui.waiting import wait_for

SIZE = (120, 36)


def big_module(lines: int) -> str:
    """A long, valid Python module to stream (highlighting has real work to do)."""
    out = ['"""A long generated module."""\n\nimport math\n\n']
    for i in range(lines // 4):
        out.append(
            f"def f{i}(x: float, y: float = {i}.0) -> float:\n    return math.sqrt(x * x + y) / {i + 1}\n\n"
        )
    return "".join(out)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class FrameClock:
    """Records when the compositor hands a frame to the display (serialising it, like a
    terminal would), and whether the key being measured was reflected in the app's state
    when that frame was drawn."""

    def __init__(self, app: DeepcodeApp) -> None:
        self.times: list[float] = []
        self.watch = None  # the predicate of the key being measured
        self.reflected: float | None = None  # the first frame drawn with the predicate true
        self.reflected_cpu = 0.0  # the UI thread's CPU clock at that frame
        self.cpu: list[float] = []  # per measured key: UI-thread CPU seconds from the key to its frame
        original = app._display

        def display(screen, renderable):
            if isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console)
                now = time.perf_counter()
                self.times.append(now)
                if self.watch is not None and self.reflected is None and self.watch():
                    self.reflected = now
                    self.reflected_cpu = time.thread_time()
            return original(screen, renderable)

        app._display = display  # type: ignore[method-assign]


async def press_and_measure(app: DeepcodeApp, frames: FrameClock, key: str, done) -> float:
    """Post ``key``; seconds until the first frame drawn once ``done()`` holds.

    The state is checked as each frame is drawn (not by a poller that could notice
    it just after the frame that already shows it, and then wait for the next one)."""
    frames.watch, frames.reflected = done, None
    t0, c0 = time.perf_counter(), time.thread_time()
    app.post_message(events.Key(key, key if len(key) == 1 else None))
    try:
        while frames.reflected is None:
            await asyncio.sleep(0.0005)
            if time.perf_counter() - t0 > 5:
                raise RuntimeError(f"key {key} had no visible effect within 5 s")
        frames.cpu.append(frames.reflected_cpu - c0)
        return frames.reflected - t0
    finally:
        frames.watch = None


async def latency(tokens_per_s: float, samples: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="deepcode-bench-"))
    doc = tmp / "paper.md"
    doc.write_text(PAPER_MD, encoding="utf-8")
    loaded = load_settings({"runs_dir": str(tmp / "runs")}, cwd=tmp)
    code = {path: big_module(4000) if path == "ema/detector.py" else text for path, text in CODE.items()}
    script = Script(iterations=0, token_delay_s=1 / tokens_per_s, chunk_chars=4, code=code)
    app = DeepcodeApp(loaded, doc=doc, driver=scripted_driver(script), blink=False, cwd=tmp)
    streamed = [0]
    original_observe = app._observe

    def observe(ev):
        if ev.type == "token_streamed":
            streamed[0] += 1
        original_observe(ev)

    app._observe = observe  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        frames = FrameClock(app)
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        await pilot.press("a")
        await wait_for(pilot, lambda: app.state.current_file == "ema/detector.py", what="streaming")
        main = app.main
        main.show("generation")
        await pilot.pause(0.5)
        panes = main.query_one("#panes", TabbedContent)
        files = main.generation.query_one("#gen-files", OptionList)
        switch: list[float] = []
        move: list[float] = []
        tokens_before, t_start = streamed[0], time.perf_counter()
        for i in range(samples):
            target = "blueprint" if i % 2 == 0 else "generation"
            key = "2" if target == "blueprint" else "3"
            switch.append(await press_and_measure(app, frames, key, lambda t=target: panes.active == t))
            await asyncio.sleep(0.05)
        main.show("generation")
        files.focus()
        await pilot.pause(0.2)
        for i in range(samples):
            before = files.highlighted or 0
            key = "down" if i % 2 == 0 else "up"
            want = min(before + 1, files.option_count - 1) if key == "down" else max(before - 1, 0)
            move.append(await press_and_measure(app, frames, key, lambda w=want: files.highlighted == w))
            await asyncio.sleep(0.05)
        rate = (streamed[0] - tokens_before) / (time.perf_counter() - t_start)
        still_streaming = app.state.current_file == "ema/detector.py"
        app.exit()
    print(f"streaming: {rate:.0f} tokens/s measured during the key presses (asked {tokens_per_s:.0f}); "
          f"still streaming at the end: {still_streaming}")  # fmt: skip
    for name, values in (("pane switch (2/3)", switch), ("file list (up/down)", move)):
        ms = [v * 1000 for v in values]
        print(f"latency {name:<20} n={len(ms)}  p50 {statistics.median(ms):6.1f} ms  "
              f"p95 {percentile(ms, 0.95):6.1f} ms  max {max(ms):6.1f} ms")  # fmt: skip
    both = [v * 1000 for v in switch + move]
    verdict = "meets" if percentile(both, 0.95) <= 50 else "MISSES"
    print(f"latency all keys p95 {percentile(both, 0.95):.1f} ms -> {verdict} the 50 ms target")
    # The UI thread's CPU time from each key to its frame: what the latency would be with a core to
    # itself (less the wait for the next 60 Hz frame slot, up to 16.7 ms). Load-independent.
    cpu = [v * 1000 for v in frames.cpu]
    print(f"UI-thread CPU per key (a quiet machine's latency, less <= 16.7 ms frame slot): "
          f"p50 {statistics.median(cpu):.1f} ms  p95 {percentile(cpu, 0.95):.1f} ms  max {max(cpu):.1f} ms")


async def start_to_gate() -> dict:
    """One cold opening of the example document (replayed); figures as a dict (see the module doc)."""
    from tests.e2e.scripted_run import CASSETTE, EXAMPLE

    tmp = Path(tempfile.mkdtemp(prefix="deepcode-bench-"))
    loaded = load_settings({"runs_dir": str(tmp / "runs")}, cwd=tmp)
    app = DeepcodeApp(loaded, doc=None, blink=False, cwd=tmp, services={"llm_flags": {"replay": CASSETTE}})
    keys: list[tuple[str, float]] = []  # (phase when pressed, seconds)
    async with app.run_test(size=SIZE):
        frames = FrameClock(app)

        def pulse() -> None:
            # A frame wanted on whichever screen is shown: while the document is read in a
            # thread the start screen is still up, and an idle loop must show up as frames,
            # not as a gap.
            if app.main is not None and app.screen is app.main:
                app.main.header.refresh()
            else:
                app.screen.refresh(Region(0, 0, 1, 1))

        app.set_interval(1 / 60, pulse)  # something always wants a frame: a gap is a stall
        t_open = time.perf_counter()
        await app.open_document(EXAMPLE)
        panes = app.main.query_one("#panes", TabbedContent)
        i = 0
        while app.state.gate is None:
            if time.perf_counter() - t_open > 120:
                raise RuntimeError(f"no gate within 120 s (status {app.state.status}: {app.state.failure})")
            target = "paper" if i % 2 == 0 else "generation"
            phase = app.state.phase or "starting"
            try:
                keys.append((phase, await press_and_measure(app, frames, "1" if target == "paper" else "3",
                                                            lambda t=target: panes.active == t)))  # fmt: skip
            except RuntimeError:
                if app.state.gate is None:
                    raise
            i += 1
            await asyncio.sleep(0.1)
        t_gate = time.perf_counter()
        app.exit()
    times = [t for t in frames.times if t_open <= t <= t_gate]
    gaps = [b - a for a, b in zip([t_open, *times], [*times, t_gate], strict=True)]
    return {
        "to_gate_s": t_gate - t_open,
        "frames": len(times),
        "max_gap_ms": max(gaps) * 1000,
        "gaps_over_250": sum(1 for g in gaps if g > 0.25),
        "keys_blueprint_ms": [v * 1000 for ph, v in keys if ph == "blueprint"],
        "keys_all_ms": [v * 1000 for _, v in keys],
    }


def start_report(runs: list[dict]) -> None:
    for n, r in enumerate(runs, 1):
        kb, ka = r["keys_blueprint_ms"], r["keys_all_ms"]
        blueprint = (f"p50 {statistics.median(kb):.1f} ms p95 {percentile(kb, 0.95):.1f} ms (n={len(kb)})"
                     if kb else "no key landed in the phase")  # fmt: skip
        print(f"open -> gate run {n}: {r['to_gate_s']:.1f} s, {r['frames']} frames, longest frame gap "
              f"{r['max_gap_ms']:.0f} ms, gaps over 250 ms: {r['gaps_over_250']}; keys during blueprint "
              f"{blueprint}; all keys to the gate p95 {percentile(ka, 0.95):.1f} ms (n={len(ka)})")  # fmt: skip
    worst = max(r["max_gap_ms"] for r in runs)
    print(f"open -> gate longest frame gap over {len(runs)} runs: {worst:.0f} ms -> "
          f"{'meets' if worst <= 250 else 'MISSES'} the 250 ms target")  # fmt: skip


def start_runs(count: int) -> None:
    """Each opening in a fresh process (a cold litellm, as a user's first run)."""
    import json
    import subprocess

    runs = []
    for _ in range(count):
        out = subprocess.run([sys.executable, __file__, "--only", "start-one"], capture_output=True, text=True,
                             timeout=300, cwd=ROOT, check=False)  # fmt: skip
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith("{")), None)
        if out.returncode != 0 or line is None:
            print(f"open -> gate run failed: {out.stderr.strip()[-500:]}")
            continue
        runs.append(json.loads(line))
    if runs:
        start_report(runs)


async def memory(log_lines: int, total: int = 20_000, step: int = 2_000) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="deepcode-bench-"))
    doc = tmp / "paper.md"
    doc.write_text(PAPER_MD, encoding="utf-8")
    loaded = load_settings({"runs_dir": str(tmp / "runs"), "ui": {"log_lines": log_lines}}, cwd=tmp)
    hold = asyncio.Event()
    script = Script(hold_before={"ema/detector.py": hold})
    app = DeepcodeApp(loaded, doc=doc, driver=scripted_driver(script), blink=False, cwd=tmp)
    process = psutil.Process()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, what="the gate")
        main = app.main
        main.show("sandbox")
        await pilot.pause(0.3)
        log = main.sandbox.live_log
        gc.collect()
        tracemalloc.start()
        base_heap = tracemalloc.get_traced_memory()[0]
        base_rss = process.memory_info().rss
        rows = []
        for sent in range(step, total + 1, step):
            for k in range(sent - step, sent):
                app._observe(SandboxOutput(stream="stderr" if k % 10 == 0 else "stdout",
                                           line=f"line {k}: " + "x" * 60))  # fmt: skip
                if k % 200 == 0:
                    await pilot.pause()
            await wait_for(
                pilot, lambda n=sent: log.pending_count == 0 and log.total_lines == n, what="the log"
            )
            await pilot.pause(0.15)
            gc.collect()
            heap = tracemalloc.get_traced_memory()[0] - base_heap
            rss = process.memory_info().rss - base_rss
            rows.append((sent, len(log.lines), heap, rss))
        tracemalloc.stop()
        hold.set()
        app.exit()
    print(f"memory with ui.log_lines = {log_lines}:")
    print("   lines sent  lines kept  heap growth  RSS growth")
    for sent, kept, heap, rss in rows:
        print(f"   {sent:>10,}  {kept:>10,}  {heap / 1e6:8.2f} MB  {rss / 1e6:8.2f} MB")
    at = {sent: heap for sent, _, heap, _ in rows}
    if 10_000 in at and total in at:
        print(
            f"   heap after 10,000 lines: {at[10_000] / 1e6:.2f} MB; change from 10,000 to {total:,} lines: "
            f"{(at[total] - at[10_000]) / 1e6:+.2f} MB (render caches fill up to their fixed size, then stay)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens-per-s", type=float, default=500.0)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--start-runs", type=int, default=2)
    parser.add_argument("--only", choices=["latency", "start", "memory", "start-one"])
    args = parser.parse_args()
    if args.only == "start-one":
        import json

        print(json.dumps(asyncio.run(start_to_gate())))
        return
    print(
        f"machine: {psutil.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (shared: figures vary with load)"
    )
    if args.only in (None, "latency"):
        asyncio.run(latency(args.tokens_per_s, args.samples))
    if args.only in (None, "start"):
        start_runs(args.start_runs)
    if args.only in (None, "memory"):
        asyncio.run(memory(1000))
        asyncio.run(memory(5000))
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
