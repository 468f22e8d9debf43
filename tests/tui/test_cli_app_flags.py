"""`deepcode-tui --replay DIR` (no document, or before one) opens the app with the cassette,
like `open --replay`; the run records its flags so a resume can restore them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deepcode_tui import cli


@pytest.fixture
def opened(monkeypatch):
    calls: list[dict] = []

    def fake_run_app(doc, loaded, *, services):
        calls.append({"doc": doc, "loaded": loaded, "flags": services["llm_flags"]})
        return 0

    monkeypatch.setattr("deepcode_tui.tui.app.run_app", fake_run_app)
    return calls


@pytest.mark.parametrize(
    "argv, doc",
    [
        (["--replay", "CASS"], None),
        (["--replay", "CASS", "paper.md"], Path("paper.md")),
        (["--no-cache", "--replay", "CASS", "open", "paper.md"], Path("paper.md")),
        (["open", "--replay", "CASS", "paper.md"], Path("paper.md")),
    ],
)
def test_top_level_replay_opens_the_app_with_the_cassette(opened, tmp_path, argv, doc, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = [str(tmp_path / "c") if a == "CASS" else a for a in argv]
    with pytest.raises(SystemExit) as done:
        cli.main([*argv, "--runs-dir", str(tmp_path / "runs")] if argv[0] == "open" else
                 ["--runs-dir", str(tmp_path / "runs"), *argv])  # fmt: skip
    assert done.value.code == 0
    assert len(opened) == 1
    assert opened[0]["doc"] == doc
    assert opened[0]["flags"]["replay"] == tmp_path / "c"
    assert Path(opened[0]["loaded"].settings.runs_dir) == tmp_path / "runs"


def test_a_run_records_its_model_flags(tmp_path):
    from deepcode_tui.store.run import RunStore, load_manifest

    doc = tmp_path / "p.md"
    doc.write_text("# T\n\ntext\n")
    store = RunStore.create(tmp_path / "runs", doc, llm_flags={"replay": tmp_path / "c", "record": None})
    store.close()
    manifest = load_manifest(store.root)
    assert manifest.llm_flags == {"replay": str(tmp_path / "c")}
    assert json.loads((store.root / "run.json").read_text())["llm_flags"] == {"replay": str(tmp_path / "c")}
