"""Pilot test: `batch watch` opens a batch's run in the app's four panes."""

from __future__ import annotations

from tests.tui.waiting import wait_for

SIZE = (100, 32)


async def test_batch_screen_enter_opens_the_runs_four_panes(tmp_path, make_loaded):
    """`batch watch` is the app with the batch screen first; Enter on a run shows its panes."""
    from deepcode_tui.batch.models import BatchEntry, BatchManifest
    from deepcode_tui.batch.store import new_batch_dir, save_manifest
    from deepcode_tui.tui.app import DeepcodeApp
    from deepcode_tui.tui.screens.main import MainScreen
    from tests.tui.finished_run import RUN_ID, make_finished_run

    batch_dir = new_batch_dir(tmp_path / "batches")
    import asyncio

    await asyncio.to_thread(make_finished_run, batch_dir)  # batch_dir/runs/RUN_ID, a finished run
    save_manifest(batch_dir, BatchManifest(batch_id=batch_dir.name, cwd=str(tmp_path), entries=[
        BatchEntry(doc=str(batch_dir / "paper.md"), stem="paper", run_id=RUN_ID, status="passed", phase="report")]))
    app = DeepcodeApp(make_loaded(), batch_dir=batch_dir, blink=False, warm_up=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), what="the run's panes", timeout=20)
        assert app.state.run_id == RUN_ID
