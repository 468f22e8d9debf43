"""Record the end-to-end cassette of a complete run on examples/ema-anomaly.md.

The model replies are HAND-WRITTEN (no capable model is reachable here); see
tests/e2e/scripted_run.py for what each role answers. The pipeline itself
(ingest, the agents' tool loop, structured output, YAML, gate, CodeMem,
sandbox, repair loop, report) is the real code; the run is recorded with
`--record` semantics into tests/cassettes/ema-anomaly/, which the end-to-end
test and the app's Pilot test replay offline. Regenerate after a prompt change:

    .venv/bin/python scripts/make_cassette.py
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.scripted_run import CASSETTE, EXAMPLE, register_models  # noqa: E402


async def record(cassette: Path) -> Path:
    from deepcode_tui.config.settings import Settings
    from deepcode_tui.pipeline.driver import drive
    from deepcode_tui.pipeline.gate import AutoApproveGate
    from deepcode_tui.store.run import RunStore

    runs = Path(tempfile.mkdtemp(prefix="cassette-runs-"))
    settings = Settings(runs_dir=runs, models=register_models())
    store = RunStore.create(runs, EXAMPLE)
    services = {"llm_flags": {"record": cassette, "no_cache": True}, "watch_repo": False}
    outcome = await drive(store, settings, AutoApproveGate(), services=services, new_run=True)
    store.close()
    print(f"recorded run {store.run_id}: {outcome.status} ({outcome.message})")
    if outcome.status != "passed":
        raise SystemExit(f"the recorded run did not pass; see {store.root}")
    return store.root


def main() -> None:
    if CASSETTE.exists():
        shutil.rmtree(CASSETTE)
    run_dir = asyncio.run(record(CASSETTE))
    (CASSETTE / "README.md").write_text(
        "Cassette of a complete run on examples/ema-anomaly.md. The model replies are hand-written\n"
        "(see tests/e2e/scripted_run.py), not from a real model. Regenerate with\n"
        "`.venv/bin/python scripts/make_cassette.py` after a prompt change.\n"
    )
    calls = json.loads((CASSETTE / "index.json").read_text())["calls"]
    print(f"cassette: {CASSETTE} ({len(calls)} calls); run dir kept at {run_dir}")


if __name__ == "__main__":
    main()
