"""A finished run directory with fixed ids and times, for deterministic snapshots.

The scripted run goes through the real driver and store (headless, every
gate approved, two repair iterations); then the run id, the manifest's
creation time and every event's timestamp are rewritten to fixed values so
the app shows the same screen on every machine.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from deepcode_tui.config.loader import load_settings
from deepcode_tui.pipeline.gate import AutoApproveGate
from deepcode_tui.store.run import RunStore
from tests.tui.scripted import PAPER_MD, Script, scripted_driver

RUN_ID = "20250301-093000-paper-5e1f"
STARTED = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
NOW = STARTED + timedelta(hours=2, minutes=5)  # the frozen "now" of the snapshots


def make_finished_run(root: Path) -> tuple[Path, Path]:
    """Create ``root/runs/RUN_ID`` (and ``root/paper.md``); returns (runs_dir, doc)."""
    doc = root / "paper.md"
    doc.write_text(PAPER_MD, encoding="utf-8")
    runs = root / "runs"
    loaded = load_settings({"runs_dir": str(runs)}, cwd=root)
    store = RunStore.create(runs, doc, config=loaded.snapshot())
    drive = scripted_driver(Script(iterations=2))
    try:
        asyncio.run(drive(store, loaded.settings, AutoApproveGate(), observers=[], new_run=True))
    finally:
        store.close()
    src, dst = store.root, runs / RUN_ID
    shutil.move(str(src), str(dst))
    manifest = json.loads((dst / "run.json").read_text())
    manifest.update(run_id=RUN_ID, created_at=STARTED.isoformat(), repo_dir=str(dst / "repo"))
    (dst / "run.json").write_text(json.dumps(manifest))
    lines = []
    for i, line in enumerate((dst / "events.jsonl").read_text().splitlines()):
        event = json.loads(line)
        event["ts"] = (STARTED + timedelta(seconds=i)).isoformat()
        if event["type"] == "run_created":
            event["run_id"] = RUN_ID
        if event["type"] == "run_finished":
            event["report_path"] = ""
        lines.append(json.dumps(event))
    (dst / "events.jsonl").write_text("\n".join(lines) + "\n")
    return runs, doc
