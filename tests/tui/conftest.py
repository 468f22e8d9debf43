"""Fixtures for the app's tests: settings in a temp dir, a paper, a scripted app."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepcode_tui.config.loader import load_settings
from tests.tui.scripted import PAPER_MD, Script, scripted_driver


@pytest.fixture
def make_loaded(tmp_path: Path):
    """Settings whose runs live under tmp_path (no project or user config is read)."""

    def make(**overrides):
        return load_settings({"runs_dir": str(tmp_path / "runs"), **overrides}, cwd=tmp_path)

    return make


@pytest.fixture
def paper(tmp_path: Path) -> Path:
    path = tmp_path / "paper.md"
    path.write_text(PAPER_MD, encoding="utf-8")
    return path


@pytest.fixture
def make_app(tmp_path: Path, make_loaded):
    """An app on the scripted driver with blinking off; returns (app, script)."""
    from deepcode_tui.tui.app import DeepcodeApp

    def make(doc: Path | None = None, script: Script | None = None, **overrides):
        script = script or Script()
        app = DeepcodeApp(
            make_loaded(**overrides), doc=doc, driver=scripted_driver(script), blink=False, cwd=tmp_path
        )
        return app, script

    return make
