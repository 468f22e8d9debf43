"""Record the end-to-end cassettes of complete runs on the example documents.

The model replies are HAND-WRITTEN (no capable model is reachable here); see
tests/e2e/scripted_run.py for what each role answers. The pipeline itself
(ingest, the agents' tool loop, structured output, YAML, gate, CodeMem,
sandbox, repair loop, report) is the real code; the run is recorded with
`--record` semantics into tests/cassettes/<example>/, which the end-to-end
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

from tests.e2e.scripted_run import SCENARIOS, Scenario, register_models  # noqa: E402


async def record(scenario: Scenario) -> Path:
    from deepcode_tui.config.settings import Settings
    from deepcode_tui.pipeline.driver import drive
    from deepcode_tui.pipeline.gate import AutoApproveGate
    from deepcode_tui.store.run import RunStore

    runs = Path(tempfile.mkdtemp(prefix="cassette-runs-"))
    settings = Settings(runs_dir=runs, models=register_models(scenario))
    store = RunStore.create(runs, scenario.example)
    services = {"llm_flags": {"record": scenario.cassette, "no_cache": True}, "watch_repo": False}
    outcome = await drive(store, settings, AutoApproveGate(), services=services, new_run=True)
    store.close()
    print(f"recorded run {store.run_id}: {outcome.status} ({outcome.message})")
    if outcome.status != "passed":
        raise SystemExit(f"the recorded run did not pass; see {store.root}")
    return store.root


def main() -> None:
    for scenario in SCENARIOS.values():
        if scenario.cassette.exists():
            shutil.rmtree(scenario.cassette)
        run_dir = asyncio.run(record(scenario))
        (scenario.cassette / "README.md").write_text(
            f"Cassette of a complete run on examples/{scenario.example.name}. The model replies are\n"
            "hand-written (see tests/e2e/scripted_run.py), not from a real model. Regenerate with\n"
            "`.venv/bin/python scripts/make_cassette.py` after a prompt change.\n"
        )
        calls = json.loads((scenario.cassette / "index.json").read_text())["calls"]
        print(f"cassette: {scenario.cassette} ({len(calls)} calls); run dir kept at {run_dir}")


if __name__ == "__main__":
    main()
