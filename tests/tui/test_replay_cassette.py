"""The app drives the real pipeline over the checked-in cassette (no model, real sandbox).

Everything is the product's own code: ingest, the agents, the approval gate
(answered in the blueprint pane), CodeMem with the app's steering, the repair
loop with the app's step hook (two repairs stepped through by key), the report.
"""

from __future__ import annotations

import pytest

from deepcode_tui.store.eventlog import read_log
from deepcode_tui.tui.app import DeepcodeApp
from tests.tui.screen_text import screen_text
from tests.tui.waiting import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]


def _sandbox_or_skip() -> None:
    from deepcode_tui.errors import SandboxError
    from deepcode_tui.verify.sandbox import choose_backend

    try:
        choose_backend("auto")
    except SandboxError as exc:
        pytest.skip(f"no sandbox backend here: {exc.one_line()}")


async def test_a_cassette_run_approved_and_stepped_through_in_the_app(make_loaded, tmp_path):
    _sandbox_or_skip()
    from tests.e2e.scripted_run import CASSETTE, EXAMPLE

    loaded = make_loaded(verify={"step": True})
    app = DeepcodeApp(
        loaded, doc=EXAMPLE, blink=False, cwd=tmp_path, services={"llm_flags": {"replay": CASSETTE}}
    )
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: app.state.gate is not None, timeout=180, what="the blueprint gate")  # each iteration now also runs reproduce.sh in the sandbox
        main = app.main
        assert main.active_pane == "blueprint" and "file_hierarchy" in main.blueprint.editor.text
        await wait_for(pilot, lambda: main.paper.index is not None, what="the paper index")
        assert {"concept", "algorithm"} <= {a for agents in app.state.sections_read.values() for a in agents}
        await pilot.press("a")
        await wait_for(pilot, lambda: main.sandbox.pending_iteration == 1, timeout=180, what="repair 1")
        assert main.active_pane == "sandbox" and main.sandbox.pending_diff.strip()
        assert all(f.status == "done" for f in app.state.files.values())
        await pilot.press("y")
        await wait_for(pilot, lambda: main.sandbox.pending_iteration == 2, timeout=180, what="repair 2")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.state.status in ("passed", "failed"), timeout=180, what="the end")
        assert app.state.status == "passed", app.state.final
        await wait_for(pilot, lambda: "passed" in screen_text(app), what="passed")
        events = read_log(app.session.run_dir / "events.jsonl").events
    assert [(e.iteration, e.passed) for e in events if e.type == "iteration_finished"] == [(1, False), (2, False),
                                                                                          (3, True)]  # fmt: skip
    assert [e.iteration for e in events if e.type == "patch_decision" and e.applied] == [1, 2]
    assert [e.decision for e in events if e.type == "gate_resolved"] == ["approve"]
