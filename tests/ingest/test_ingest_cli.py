"""`deepcode-tui index DOC` via the click command object."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from deepcode_tui.errors import InputError
from deepcode_tui.ingest.cli import index_cmd


def test_tree_with_token_counts(two_column_paper):
    path, gold = two_column_paper
    res = CliRunner().invoke(index_cmd, [str(path)])
    assert res.exit_code == 0, res.output
    assert "Widget Learning with Recurrent Summaries" in res.output
    for h in gold.headings:
        assert h.split(" ", 1)[1] in res.output
    assert "3.1" in res.output and " tok" in res.output and "p.1" in res.output
    assert "references" in res.output


def test_json_output_and_save(tmp_path, two_column_paper):
    path, gold = two_column_paper
    out = tmp_path / "idx.json"
    res = CliRunner().invoke(index_cmd, [str(path), "--json", "--save", str(out)])
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["format"] == "pdf" and data["page_count"] == gold.pages
    assert json.loads(out.read_text()) == data


def test_marker_fallback_note_on_stderr(two_column_paper, monkeypatch):
    monkeypatch.setattr(
        "deepcode_tui.ingest.marker_engine.marker_unavailable_reason",
        lambda: "marker-pdf is not installed (pip install 'deepcode-tui[marker]' to enable it)",
    )
    path, _ = two_column_paper
    res = CliRunner().invoke(index_cmd, [str(path), "--pdf-engine", "marker"])
    assert res.exit_code == 0
    assert "not installed" in res.stderr and "not installed" not in res.stdout


def test_bad_input_propagates_deepcode_error(tmp_path):
    p = tmp_path / "empty.pdf"
    p.write_bytes(b"")
    res = CliRunner().invoke(index_cmd, [str(p)])
    assert isinstance(res.exception, InputError)
    with pytest.raises(InputError):
        index_cmd.main([str(p)], standalone_mode=False)
