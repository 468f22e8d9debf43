"""Live edits through watchfiles: human changes update memory; the app's own writes do not."""

from __future__ import annotations

import asyncio

from codegen_scripted import fenced

from deepcode_tui.codegen.loop import generate_repository
from deepcode_tui.codegen.memory import MemoryStore, extract_entry
from deepcode_tui.codegen.plan import CodegenPlan, PlannedFile
from deepcode_tui.codegen.watch import RepoWatcher, WriteLedger, relevant
from deepcode_tui.codegen.writer import atomic_write_text


async def _wait_for(cond, timeout: float = 10.0) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if cond():
            return True
        await asyncio.sleep(0.05)
    return cond()


async def test_watcher_reextracts_a_human_edit_and_ignores_own_writes(tmp_path, recorder):
    repo = tmp_path / "repo"
    repo.mkdir()
    store = MemoryStore(tmp_path / "run")
    ledger = WriteLedger(store)
    plan = CodegenPlan(files=[PlannedFile(path="lib.py", purpose="Helpers.")])
    code = "def helper(a):\n    return a\n"
    h = ledger.expect("lib.py", code)
    atomic_write_text(repo / "lib.py", code)
    entry = extract_entry("lib.py", code, project_files=["lib.py"], purpose="Helpers.")
    entry.written_hash = h
    store.append(entry)

    async with RepoWatcher(repo, store, ledger, plan=plan, emit=recorder) as w:
        own = "def helper(a, b=2):\n    return a + b\n"
        ledger.expect("lib.py", own)
        atomic_write_text(repo / "lib.py", own)
        await asyncio.sleep(0.4)
        assert recorder.of("codegen_human_edit") == []  # the app's own write

        (repo / "lib.py").write_text(
            "def helper(a, b, c):\n    return a\n\n\ndef extra() -> int:\n    return 1\n"
        )
        assert await _wait_for(lambda: recorder.of("codegen_human_edit"))
        ev = recorder.of("codegen_human_edit")[0]
        assert ev.path == "lib.py" and ev.change == "modified"
        assert "-def helper(a, b=2):" in ev.diff and "+def extra() -> int:" in ev.diff
        assert w.edited == ["lib.py"]

        (repo / "new_mod.py").write_text("X = 1\n")
        assert await _wait_for(lambda: store.get("new_mod.py") is not None)

    e = store.get("lib.py")
    assert e.origin == "human" and e.purpose == "Helpers." and e.written_hash is not None
    assert [f.name for f in e.interface.functions] == ["helper", "extra"]
    assert e.interface.functions[0].signature() == "(a, b, c)"
    assert store.get("new_mod.py").origin == "human"
    # persisted: a fresh store sees the human version
    assert MemoryStore(tmp_path / "run").get("lib.py").content_hash == e.content_hash


async def test_watcher_records_deletions(tmp_path, recorder):
    repo = tmp_path / "repo"
    repo.mkdir()
    store = MemoryStore(tmp_path / "run")
    ledger = WriteLedger(store)
    (repo / "gone.py").write_text("A = 1\n")
    w = RepoWatcher(repo, store, ledger, emit=recorder)
    await w.reconcile("gone.py")
    assert store.get("gone.py") is not None
    (repo / "gone.py").unlink()
    events = await w.scan()
    assert [e.change for e in events] == ["deleted"] and store.get("gone.py") is None
    assert "gone.py" not in MemoryStore(tmp_path / "run")


async def test_loop_with_live_watcher_picks_up_edit_made_during_generation(tmp_path, recorder):
    repo = tmp_path / "repo"
    plan = CodegenPlan(
        files=[
            PlannedFile(path="a.py", purpose="A."),
            PlannedFile(path="b.py", purpose="B.", dependencies=["a.py"]),
        ]
    )

    async def generate(messages, *, file_path, check=None):
        if file_path == "a.py":
            return fenced("a.py", "def f(x):\n    return x\n")
        (repo / "a.py").write_text("def f(x, y):\n    return x + y\n")
        await _wait_for(lambda: recorder.of("codegen_human_edit"))
        return fenced("b.py", "from a import f\n\nprint(f(1))\n")

    result = await generate_repository(plan, repo, tmp_path / "run", generate, emit=recorder, watch=True)
    assert result.human_edits == ["a.py"]
    assert (repo / "a.py").read_text().startswith("def f(x, y)")
    # memory follows the human version, so the consistency check sees the new signature
    assert any(f.kind == "arity_mismatch" and f.file == "b.py" for f in result.findings)


def test_relevant_paths():
    assert relevant("pkg/mod.py") and relevant("src/app.tsx")
    assert not relevant("pkg/.dc-tmp-abc") and not relevant(".git/config")
    assert not relevant("node_modules/x/index.js") and not relevant("pkg/__pycache__/m.py")
    assert not relevant("README.md")


async def test_scan_of_unchanged_files_reports_nothing(tmp_path):
    store = MemoryStore(tmp_path / "run")
    ledger = WriteLedger(store)
    w = RepoWatcher(tmp_path, store, ledger)
    assert await w.scan() == []
    (tmp_path / "m.py").write_text("A = 1\n")
    assert (await w.reconcile("m.py")).change == "added"
    assert await w.scan() == []  # stat unchanged since seen
