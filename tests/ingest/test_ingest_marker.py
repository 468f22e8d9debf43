"""The optional marker engine: used only when importable with weights on disk, else a clear fallback."""

from __future__ import annotations

import logging
import sys
import textwrap

import pytest

from deepcode_tui.ingest import load_document
from deepcode_tui.ingest.marker_engine import marker_unavailable_reason


def _fake_marker(root, converter_body: str) -> None:
    pkg = root / "marker"
    (pkg / "converters").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "converters" / "__init__.py").write_text("")
    (pkg / "converters" / "pdf.py").write_text(textwrap.dedent(converter_body))
    (pkg / "models.py").write_text("def create_model_dict():\n    return {}\n")
    (pkg / "output.py").write_text("def text_from_rendered(r):\n    return r, None, None\n")


@pytest.fixture
def fake_env(tmp_path, monkeypatch):
    """A home and model cache of our own, so the real machine's caches never count."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "models"))
    return tmp_path


def _install(fake_env, monkeypatch, body: str, weights: bool) -> None:
    site = fake_env / "site"
    _fake_marker(site, body)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))
    for name in [m for m in sys.modules if m == "marker" or m.startswith("marker.")]:
        monkeypatch.delitem(sys.modules, name)
    if weights:
        d = fake_env / "models" / "layout" / "2025"
        d.mkdir(parents=True)
        (d / "model.safetensors").write_bytes(b"\0" * 16)


def test_not_installed_falls_back_with_one_line(fake_env, two_column_paper, caplog):
    if marker_unavailable_reason() is None:
        pytest.skip("a real marker with weights is installed here")
    path, gold = two_column_paper
    with caplog.at_level(logging.WARNING):
        index = load_document(path, pdf_engine="marker")
    assert index.engine == "pdfium"
    assert index.numbered_headings() == gold.headings
    notes = [n for n in index.notes if "marker" in n]
    assert len(notes) == 1 and "not installed" in notes[0] and "deepcode-tui[marker]" in notes[0]
    assert "default engine" in notes[0]
    assert any("marker" in r.getMessage() for r in caplog.records)


def test_installed_without_weights_falls_back(fake_env, monkeypatch, two_column_paper):
    _install(fake_env, monkeypatch, "class PdfConverter: pass\n", weights=False)
    reason = marker_unavailable_reason()
    assert reason is not None and "weights" in reason
    path, _ = two_column_paper
    index = load_document(path, pdf_engine="marker")
    assert index.engine == "pdfium"
    assert any("weights are not downloaded" in n for n in index.notes)


def test_marker_used_when_available(fake_env, monkeypatch, two_column_paper):
    body = """
        class PdfConverter:
            def __init__(self, artifact_dict=None, config=None):
                assert config.get("paginate_output")
            def __call__(self, path):
                sep = "-" * 48
                return ("{0}" + sep + "\\n\\n# Fake Paper\\n\\n## 1 Introduction\\n\\nIntro text.\\n\\n"
                        "{1}" + sep + "\\n\\n## 2 Method\\n\\nMethod text with a learning rate of 3e-4.\\n")
    """
    _install(fake_env, monkeypatch, body, weights=True)
    assert marker_unavailable_reason() is None
    path, _ = two_column_paper
    index = load_document(path, pdf_engine="marker", timeout_s=60)
    assert index.engine == "marker" and index.format == "pdf"
    assert index.title == "Fake Paper"
    assert index.numbered_headings() == ["1 Introduction", "2 Method"]
    assert index.section("2").pages == [2]
    assert index.page_count >= 3


def test_marker_hang_hits_hard_timeout_and_falls_back(fake_env, monkeypatch, two_column_paper):
    body = """
        import time
        class PdfConverter:
            def __init__(self, artifact_dict=None, config=None):
                pass
            def __call__(self, path):
                time.sleep(60)
    """
    _install(fake_env, monkeypatch, body, weights=True)
    path, gold = two_column_paper
    index = load_document(path, pdf_engine="marker", timeout_s=2)
    assert index.engine == "pdfium"
    assert index.numbered_headings() == gold.headings
    assert any("did not finish within 2 s" in n for n in index.notes)


def test_marker_crash_falls_back(fake_env, monkeypatch, two_column_paper):
    body = """
        class PdfConverter:
            def __init__(self, artifact_dict=None, config=None):
                raise RuntimeError("CUDA out of memory")
    """
    _install(fake_env, monkeypatch, body, weights=True)
    path, _ = two_column_paper
    index = load_document(path, pdf_engine="marker")
    assert index.engine == "pdfium"
    assert any("exited with code" in n and "CUDA out of memory" in n for n in index.notes)
