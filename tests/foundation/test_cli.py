"""The command line as a user meets it: one-line errors, exit codes, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepcode_tui import __version__
from deepcode_tui.events.models import PhaseCompleted, PhaseStarted
from deepcode_tui.store.run import RunStore
from tests.conftest import REPO_ROOT


def cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "deepcode_tui", *args],
        cwd=cwd or REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=full_env,
    )


def assert_clean_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr
    assert "fix:" in proc.stderr


def test_version() -> None:
    proc = cli("--version")
    assert proc.returncode == 0 and __version__ in proc.stdout


def test_missing_file(tmp_path: Path) -> None:
    assert_clean_error(cli("run", str(tmp_path / "nope.pdf"), "--yes"), "does not exist")


def test_directory_and_empty_file(tmp_path: Path) -> None:
    assert_clean_error(cli("run", str(tmp_path), "--yes"), "is a directory")
    empty = tmp_path / "empty.md"
    empty.write_text("")
    assert_clean_error(cli("run", str(empty), "--yes"), "is empty")


def test_unreadable_file(tmp_path: Path, monkeypatch) -> None:
    # Root reads everything, so the permission check is exercised in-process.
    from deepcode_tui.errors import InputError
    from deepcode_tui.pipeline import inputs

    doc = tmp_path / "locked.md"
    doc.write_text("# x\n")
    monkeypatch.setattr(inputs.os, "access", lambda *a, **k: False)
    with pytest.raises(InputError, match="not readable"):
        inputs.check_input(doc)


def test_out_dir_must_be_new_or_empty(tmp_path: Path) -> None:
    doc = tmp_path / "p.md"
    doc.write_text("# t\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert_clean_error(cli("run", str(doc), "--out", str(out), "--yes"), "not empty")
    assert (out / "keep.txt").read_text() == "mine"


def test_unknown_run_id(tmp_path: Path) -> None:
    env = {"DEEPCODE_RUNS_DIR": str(tmp_path / "runs")}
    assert_clean_error(cli("resume", "20990101-nothing", env=env), "no run")


def test_resume_refuses_a_garbled_log_and_changes_nothing(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    doc = tmp_path / "p.md"
    doc.write_text("# t\n")
    store = RunStore.create(runs, doc)
    store.append(PhaseStarted(phase="ingest"))
    store.close()
    log = store.root / "events.jsonl"
    damaged = log.read_bytes() + b"\x00\x01 not json\n" + b'{"type":"phase_started","phase":"x"}\n'
    log.write_bytes(damaged)
    before = sorted(p.name for p in store.root.rglob("*"))
    proc = cli("resume", store.run_id, "--yes", env={"DEEPCODE_RUNS_DIR": str(runs)})
    assert_clean_error(proc, "damaged")
    assert log.read_bytes() == damaged
    assert sorted(p.name for p in store.root.rglob("*")) == before
    listing = cli("runs", env={"DEEPCODE_RUNS_DIR": str(runs)})
    assert listing.returncode == 0 and "damaged" in listing.stdout


def test_runs_lists_and_finished_runs_are_not_resumed(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    doc = tmp_path / "p.md"
    doc.write_text("# t\n")
    store = RunStore.create(runs, doc)
    for phase in ("ingest", "blueprint", "approval", "codegen", "verify", "report"):
        store.append(PhaseStarted(phase=phase))
        store.append(PhaseCompleted(phase=phase))
    from deepcode_tui.events.models import RunFinished

    store.append(RunFinished(status="passed"))
    store.close()
    env = {"DEEPCODE_RUNS_DIR": str(runs)}
    listing = cli("runs", env=env)
    assert listing.returncode == 0 and store.run_id in listing.stdout and "passed" in listing.stdout
    assert_clean_error(cli("resume", store.run_id, env=env), "already finished")


def test_config_show_names_sources_and_hides_secrets(tmp_path: Path) -> None:
    # A long directory name: the piped table must not fold values (seen under pytest-xdist).
    tmp_path = tmp_path / ("deep" * 20)
    tmp_path.mkdir()
    (tmp_path / "deepcode.toml").write_text('[models]\ncoder = "openai/gpt-4o-mini"\n')
    proc = cli("config", "show", cwd=tmp_path, env={"DEEPCODE_MODELS__API_KEY": "sk-hidden-123"})
    assert proc.returncode == 0, proc.stderr
    assert "openai/gpt-4o-mini" in proc.stdout and "project (" in proc.stdout
    assert "sk-hidden-123" not in proc.stdout and "********" in proc.stdout


def test_bad_config_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "deepcode.toml").write_text("[models\n")
    assert_clean_error(cli("config", "show", cwd=tmp_path), "not valid TOML")


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    proc = cli("--debug", "run", str(tmp_path / "nope.md"))
    assert proc.returncode != 0 and "Traceback" in proc.stderr
