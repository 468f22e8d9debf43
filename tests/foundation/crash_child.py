"""Child process for the crash-safety tests: appends events (or runs phases)
until the parent SIGKILLs it, reporting each durable append on stdout."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from deepcode_tui.events.models import LogMessage
from deepcode_tui.store.run import RunStore


def append_forever(runs_dir: Path, run_id: str | None, payload: int) -> None:
    store = RunStore.open(runs_dir, run_id) if run_id else RunStore.create(runs_dir, Path(__file__))
    print(f"run {store.run_id}", flush=True)
    i = 0
    while True:
        ev = store.append(LogMessage(message=f"event {i} " + "x" * payload))
        print(f"seq {ev.seq}", flush=True)  # printed only after append (and fsync) returned
        i += 1


async def phases_forever(runs_dir: Path, run_id: str) -> None:
    from tests.foundation.fake_phases import run_fake_pipeline

    store = RunStore.open(runs_dir, run_id)
    print("ready", flush=True)
    await run_fake_pipeline(store, report=lambda name: print(f"done {name}", flush=True))


if __name__ == "__main__":
    mode, runs_dir = sys.argv[1], Path(sys.argv[2])
    if mode == "append":
        append_forever(runs_dir, sys.argv[3] if sys.argv[3] != "-" else None, int(sys.argv[4]))
    else:
        asyncio.run(phases_forever(runs_dir, sys.argv[3]))
