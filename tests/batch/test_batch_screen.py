"""The batch screen lists a batch's runs from batch.json, marks the one at a gate, approves it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from deepcode_tui.batch.approvals import PendingGate, pending_gates
from deepcode_tui.batch.models import BatchEntry, BatchManifest
from deepcode_tui.batch.store import new_batch_dir, save_manifest
from deepcode_tui.store.atomic import write_json_atomic
from deepcode_tui.tui.batch_screen import BatchScreen, BatchWatchApp


async def test_waiting_runs_stand_out_and_a_approves(tmp_path: Path) -> None:
    batch_dir = new_batch_dir(tmp_path)
    manifest = BatchManifest(batch_id=batch_dir.name, cwd=str(tmp_path), entries=[
        BatchEntry(doc="/d/a.md", stem="a", run_id="run-a", status="running", phase="approval"),
        BatchEntry(doc="/d/b.md", stem="b", run_id="run-b", status="passed", phase="report"),
    ])
    save_manifest(batch_dir, manifest)
    write_json_atomic(batch_dir / "approvals" / "run-a.json", PendingGate(
        run_id="run-a", gate="blueprint", prompt="approve?", artifact="", asked_at=datetime.now(UTC)))
    opened: list[tuple[Path, str]] = []

    class Watch(BatchWatchApp):
        def on_batch_screen_open_run(self, message: BatchScreen.OpenRun) -> None:
            opened.append((message.runs_dir, message.run_id))

    app = Watch(batch_dir)
    async with app.run_test() as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BatchScreen)
        table = screen.query_one("DataTable")
        assert table.row_count == 2
        assert "waiting: blueprint" in str(table.get_row_at(0)[2]) and str(table.get_row_at(1)[2]) == "passed"
        assert "1 waiting for you" in str(screen.query_one("#batch-status").render())
        await pilot.press("a")
        await pilot.pause()
        assert (batch_dir / "approvals" / "run-a.decision.json").is_file()
        await pilot.press("down", "enter")
        await pilot.pause()
    assert opened == [(batch_dir / "runs", "run-b")]  # Enter asks the app to open that run's panes
    assert pending_gates(batch_dir)  # the run itself takes the answer (and removes the request)
