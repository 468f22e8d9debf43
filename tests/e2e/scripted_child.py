"""Child process for the kill-and-resume tests: a scripted run, started or resumed."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.e2e.scripted_run import EXAMPLE, register_models


async def main(mode: str, runs: Path, cache: Path, run_id: str | None) -> int:
    from deepcode_tui.config.settings import Settings
    from deepcode_tui.pipeline.driver import drive
    from deepcode_tui.pipeline.gate import AutoApproveGate
    from deepcode_tui.store.run import RunStore

    settings = Settings(runs_dir=runs, models=register_models())
    store = RunStore.create(runs, EXAMPLE) if mode == "start" else RunStore.open(runs, run_id)
    print(f"run {store.run_id}", flush=True)
    services = {"llm_flags": {"cache_dir": cache}, "watch_repo": False}
    outcome = await drive(store, settings, AutoApproveGate(), services=services, new_run=mode == "start")
    store.close()
    print(f"outcome {outcome.status}", flush=True)
    return 0 if outcome.status == "passed" else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(asyncio.run(main(args[0], Path(args[1]), Path(args[2]), args[3] if len(args) > 3 else None)))
