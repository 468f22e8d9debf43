"""Record tests/cassettes/grade-ema-anomaly: the example run graded with the example rubric.

The judge's replies are HAND-WRITTEN (tests/grade/ema_judge.py), not from a model.
The run is the replayed example run (tests/cassettes/ema-anomaly, the real pipeline
offline); its repository is then graded by the real grader, full and Code-Dev, with
`--record` semantics. Re-record after a change to the judge prompts, the example
rubric, or the example run's cassette (the repository it produces):

    .venv/bin/python scripts/make_grade_cassette.py
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CASSETTE = ROOT / "tests" / "cassettes" / "grade-ema-anomaly"
RUN_CASSETTE = ROOT / "tests" / "cassettes" / "ema-anomaly"
RUBRIC = ROOT / "examples" / "ema-anomaly.rubric.json"
EXAMPLE = ROOT / "examples" / "ema-anomaly.md"


async def replay_run(runs: Path) -> Path:
    from deepcode_tui.config.settings import Settings
    from deepcode_tui.pipeline.driver import drive
    from deepcode_tui.pipeline.gate import AutoApproveGate
    from deepcode_tui.store.run import RunStore

    store = RunStore.create(runs, EXAMPLE)
    services = {"llm_flags": {"replay": RUN_CASSETTE, "no_cache": True}, "watch_repo": False}
    outcome = await drive(store, Settings(runs_dir=runs), AutoApproveGate(), services=services, new_run=True)
    store.close()
    if outcome.status != "passed":
        raise SystemExit(f"the replayed run did not pass ({outcome.message}); see {store.root}")
    return store.root


async def grade(run_dir: Path, *, code_only: bool, graded_at: str) -> dict:
    from deepcode_tui.config.settings import Settings
    from deepcode_tui.grade.rubric import load_rubric
    from deepcode_tui.grade.runner import GradeOptions, grade_submission
    from deepcode_tui.grade.target import default_out, paper_text, resolve_target
    from deepcode_tui.llm.gateway import Gateway
    from deepcode_tui.llm.scripted import register_script
    from tests.grade.ema_judge import responder

    rubric = load_rubric(RUBRIC)
    texts = {n.id: n.requirements for _, n in rubric.leaves()}
    model = register_script("e2e-judge", responder(texts))
    target = resolve_target(str(run_dir), run_dir.parent)
    out = default_out(target, RUBRIC, code_only=code_only)
    gateway = Gateway(Settings(models={"judge": model}), run_dir=out, record_dir=CASSETTE)
    try:
        result = await grade_submission(
            gateway, target.submission, rubric, paper=paper_text(target.paper, target.run_dir), addendum="",
            out_dir=out, options=GradeOptions(rubric_path="examples/ema-anomaly.rubric.json", code_only=code_only,
                                              graded_at=graded_at),
        )  # fmt: skip
    finally:
        await gateway.aclose()
    return result.output


def main() -> None:
    if CASSETTE.exists():
        shutil.rmtree(CASSETTE)
    runs = Path(tempfile.mkdtemp(prefix="grade-cassette-runs-"))
    run_dir = asyncio.run(replay_run(runs))
    graded_at = datetime.now(UTC).isoformat(timespec="seconds")
    for code_only in (False, True):
        output = asyncio.run(grade(run_dir, code_only=code_only, graded_at=graded_at))
        print(f"{'Code-Dev' if code_only else 'full'}: score {output['score']:.4f} over {output['num_leaf_nodes']} leaves")
    (CASSETTE / "grade-meta.json").write_text(json.dumps({"graded_at": graded_at}, indent=2) + "\n")
    (CASSETTE / "README.md").write_text(
        "Cassette of the judge grading the replayed example run (tests/cassettes/ema-anomaly) with\n"
        "examples/ema-anomaly.rubric.json, full and --code-only. The judge's replies are hand-written\n"
        "(tests/grade/ema_judge.py), not from a real model. Regenerate with\n"
        "`.venv/bin/python scripts/make_grade_cassette.py` after a change to the judge prompts, the rubric\n"
        "or the example run.\n"
    )
    calls = json.loads((CASSETTE / "index.json").read_text())["calls"]
    print(f"cassette: {CASSETTE} ({len(calls)} calls); run dir kept at {run_dir}")


if __name__ == "__main__":
    main()
