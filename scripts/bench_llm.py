"""Benchmarks of the model gateway.

    .venv/bin/python scripts/bench_llm.py [--calls 200] [--skip-embedded]

1. Gateway overhead per call over a direct litellm call, both on the replay
   provider (target: <= 5 ms median). Pairs are interleaved and the overhead
   is the median of per-pair differences, which keeps a busy machine's noise
   out of the figure. The gateway side does everything a run does: budget
   check, request hash, events on a bus, calls.jsonl.
2. Embedded model (SmolLM2-135M on llama.cpp) decode speed in tokens/second.
3. Time from app start (a fresh Python process) to the first streamed token
   on the embedded model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def _messages(i: int) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "You write Python files for a research code repository."},
        {"role": "user", "content": f"Write file number {i}: a module with a function that returns {i}."},
    ]


async def bench_overhead(calls: int) -> dict[str, float]:
    from deepcode_tui.config.settings import Settings
    from deepcode_tui.events.bus import EventBus
    from deepcode_tui.llm import Gateway, register_script
    from deepcode_tui.llm.backend import get_litellm

    litellm = get_litellm()
    reply = "def value():\n    return 42\n" * 8
    model = register_script("bench", lambda request: reply)
    tmp = Path(tempfile.mkdtemp(prefix="bench-llm-"))
    cassette = tmp / "cassette"
    async with Gateway(Settings(models={"default": model}), record_dir=cassette) as gw:
        for i in range(calls):
            await gw.complete("coder", _messages(i), name=f"file{i}", stream=False)

    bus = EventBus()
    seen: list[str] = []
    bus.subscribe(lambda event: seen.append(event.type))
    temperature = Settings().models.temperature

    async def direct(i: int, stream: bool) -> float:
        t = time.perf_counter()
        # The same request the gateway makes (it asks for usage on streams).
        extra = {"stream": True, "stream_options": {"include_usage": True}} if stream else {}
        resp = await litellm.acompletion(
            model=f"replay/{model}", messages=_messages(i), temperature=temperature,
            api_base=str(cassette), num_retries=0, **extra,
        )  # fmt: skip
        if stream:
            async for _chunk in resp:
                pass
        return time.perf_counter() - t

    results: dict[str, float] = {}
    async with Gateway(Settings(), replay_dir=cassette, run_dir=tmp / "run", emit=bus.publish) as gw:

        async def through_gateway(i: int, stream: bool) -> float:
            t = time.perf_counter()
            await gw.complete("coder", _messages(i), name=f"file{i}", stream=stream)
            return time.perf_counter() - t

        for stream in (False, True):
            for i in range(min(20, calls)):  # warm both paths (imports, cassette reads)
                await direct(i, stream)
                await through_gateway(i, stream)
            d_times, g_times, diffs = [], [], []
            for i in range(calls):
                d = await direct(i, stream)
                g = await through_gateway(i, stream)
                d_times.append(d)
                g_times.append(g)
                diffs.append(g - d)
            label = "stream" if stream else "plain"
            results[f"{label}_direct_ms"] = statistics.median(d_times) * 1000
            results[f"{label}_gateway_ms"] = statistics.median(g_times) * 1000
            results[f"{label}_overhead_ms"] = statistics.median(diffs) * 1000
    results["calls"] = calls
    results["events_seen"] = len(seen)
    return results


async def bench_embedded_speed() -> dict[str, float]:
    from deepcode_tui.config.settings import Settings
    from deepcode_tui.llm import Gateway

    first: list[float] = []

    async def emit(event) -> None:
        if event.type == "token_streamed" and not first:
            first.append(time.perf_counter())

    prompt = [{"role": "user", "content": "Explain in detail how a transformer encoder layer works."}]
    with tempfile.TemporaryDirectory() as tmp:
        async with Gateway(Settings(), emit=emit, environ={}, run_dir=Path(tmp)) as gw:
            await gw.complete("coder", [{"role": "user", "content": "hi"}], name="warmup", max_tokens=4)
            speeds = []
            for i in range(3):
                first.clear()
                t0 = time.perf_counter()
                c = await gw.complete(
                    "coder", prompt, name=f"speed{i}", max_tokens=200, temperature=0.0 + i * 0.01
                )
                end = time.perf_counter()
                decode = end - (first[0] if first else t0)
                speeds.append((c.usage.completion_tokens - 1) / decode if decode > 0 else 0.0)
                overall = c.usage.completion_tokens / (end - t0)
    return {"decode_tok_s_median": statistics.median(speeds), "last_overall_tok_s": overall,
            "completion_tokens": c.usage.completion_tokens}  # fmt: skip


FIRST_TOKEN_CHILD = r"""
import asyncio, json, sys, time
t_start = float(sys.argv[1])
marks = {"python_up": time.time() - t_start}
from deepcode_tui.config.settings import Settings
from deepcode_tui.llm import Gateway
marks["deepcode_imported"] = time.time() - t_start
first = []
async def emit(event):
    if event.type == "token_streamed" and not first:
        first.append(time.time() - t_start)
    elif event.type == "log" and "embedded" in event.message and "server_ready" not in marks:
        marks["server_ready"] = time.time() - t_start
async def main():
    async with Gateway(Settings(), emit=emit, environ={}) as gw:
        await gw.complete("coder", [{"role": "user", "content": "Say hello."}], name="first", max_tokens=16)
asyncio.run(main())
marks["first_token"] = first[0]
print(json.dumps(marks))
"""


def bench_first_token() -> dict[str, float]:
    env = {
        k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.startswith("DEEPCODE_")
    }
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, "-c", FIRST_TOKEN_CHILD, str(t0)], check=False,
        capture_output=True, text=True, timeout=600, cwd=ROOT, env=env,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"first-token child failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per overhead measurement")
    parser.add_argument("--skip-embedded", action="store_true", help="only measure the gateway overhead")
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f}")
    o = asyncio.run(bench_overhead(args.calls))
    print(f"gateway overhead on the replay provider ({o['calls']} calls, median of paired differences):")
    for label in ("plain", "stream"):
        verdict = "OK" if o[f"{label}_overhead_ms"] <= 5.0 else "ABOVE TARGET"
        print(
            f"  {label:<6} direct litellm {o[f'{label}_direct_ms']:.2f} ms | gateway {o[f'{label}_gateway_ms']:.2f} ms"
            f" | overhead {o[f'{label}_overhead_ms']:.2f} ms (target <= 5 ms: {verdict})"
        )
    if args.skip_embedded:
        return
    from deepcode_tui.llm.embedded import unavailable_reason

    reason = unavailable_reason()
    if reason:
        print(f"embedded model: skipped ({reason})")
        return
    s = asyncio.run(bench_embedded_speed())
    print(
        f"embedded SmolLM2-135M: {s['decode_tok_s_median']:.1f} tokens/s decode (median of 3, "
        f"{s['completion_tokens']} tokens), {s['last_overall_tok_s']:.1f} tokens/s including prompt"
    )
    f = bench_first_token()
    print(
        f"app start to first token (embedded): {f['first_token']:.2f} s "
        f"(python up {f['python_up']:.2f} s, deepcode imported {f['deepcode_imported']:.2f} s, "
        f"server ready {f.get('server_ready', float('nan')):.2f} s)"
    )


if __name__ == "__main__":
    main()
