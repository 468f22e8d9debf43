"""Bad input gets one clear InputError (cause + fix) or a clear result: never a hang or a traceback."""

from __future__ import annotations

import pytest
from ingest_pdfgen import make_encrypted_pdf, make_image_only_pdf, make_long_pdf, make_paper

from deepcode_tui.errors import InputError
from deepcode_tui.ingest import load_document


def _err(path, **kw) -> InputError:
    with pytest.raises(InputError) as ei:
        load_document(path, **kw)
    e = ei.value
    assert e.message and e.fix, "an InputError must name the cause and the fix"
    return e


def test_missing_file(tmp_path):
    assert "does not exist" in _err(tmp_path / "nope.pdf").message


def test_directory(tmp_path):
    assert "directory" in _err(tmp_path).message


def test_empty_file(tmp_path):
    p = tmp_path / "empty.pdf"
    p.write_bytes(b"")
    assert "empty" in _err(p).message
    p2 = tmp_path / "blank.md"
    p2.write_text("   \n\n  ")
    assert "empty" in _err(p2).message


def test_binary_named_pdf(tmp_path):
    p = tmp_path / "paper.pdf"
    p.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 10)
    e = _err(p)
    assert "ZIP" in e.message and "named .pdf" in e.message


def test_text_named_pdf_is_parsed_from_content(tmp_path):
    p = tmp_path / "notes.pdf"
    p.write_text("# Title\n\n## 1 Introduction\n\nSome text.\n\n## 2 Method\n\nMore text.\n")
    index = load_document(p)
    assert index.format == "markdown"
    assert index.numbered_headings() == ["1 Introduction", "2 Method"]
    assert any("named .pdf" in n for n in index.notes)


def test_truncated_pdf(tmp_path, two_column_paper):
    src, _ = two_column_paper
    p = tmp_path / "cut.pdf"
    p.write_bytes(src.read_bytes()[:600])
    e = _err(p)
    assert "cut.pdf" in e.message


def test_encrypted_pdf_needs_password(tmp_path):
    p = tmp_path / "locked.pdf"
    make_encrypted_pdf(p, user_password="secret")
    e = _err(p)
    assert "encrypted" in e.message and "qpdf" in e.fix


def test_owner_password_only_pdf_is_readable(tmp_path):
    p = tmp_path / "owner_only.pdf"
    make_encrypted_pdf(p, user_password="")
    index = load_document(p)
    assert "Encrypted body text" in index.sections[0].text or "Encrypted body text" in index.chunks[0].text


def test_scanned_pdf_without_text_layer(tmp_path):
    p = tmp_path / "scan.pdf"
    make_image_only_pdf(p)
    e = _err(p)
    assert "no text layer" in e.message and "OCR" in e.fix


@pytest.mark.slow
def test_300_page_pdf_gives_result_with_note(tmp_path):
    p = tmp_path / "book.pdf"
    chapters = make_long_pdf(p, 300)
    index = load_document(p, timeout_s=120)
    assert index.page_count == 300
    assert len(index.numbered_headings()) == chapters == 75
    assert index.section("75").pages == [297, 298, 299, 300]
    assert any("long document" in n for n in index.notes)


def test_timeout_is_a_clear_error_and_leaves_nothing(tmp_path):
    p = tmp_path / "long.pdf"
    make_long_pdf(p, 120)
    before = set(tmp_path.iterdir())
    e = _err(p, timeout_s=0.01)
    assert "longer than" in e.message and "timeout" in e.fix
    assert set(tmp_path.iterdir()) == before


def test_timeout_without_fork_uses_cooperative_deadline(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCODE_NO_FORK", "1")
    p = tmp_path / "long.pdf"
    make_long_pdf(p, 120)
    e = _err(p, timeout_s=0.01)
    assert "longer than" in e.message


def test_non_utf8_text_is_decoded_with_a_note(tmp_path):
    p = tmp_path / "spec.txt"
    p.write_bytes(
        "Build a café ordering service.\n\n- Customers order crêpes\n- Staff see orders\n".encode("cp1252")
    )
    index = load_document(p)
    assert index.format == "requirement"
    assert "café" in index.chunks[0].text
    assert any("not valid UTF-8" in n for n in index.notes)


def test_latex_missing_input_names_the_file(tmp_path):
    main = tmp_path / "main.tex"
    main.write_text(
        "\\documentclass{article}\\begin{document}\n\\section{Intro}\nHi.\n\\input{sections/method}\n"
        "\\end{document}\n"
    )
    e = _err(main)
    assert "sections/method" in e.message and "main.tex:4" in e.message
    assert "method.tex" in e.fix


def test_latex_input_cycle(tmp_path):
    (tmp_path / "a.tex").write_text("\\section{A}\n\\input{b}\n")
    (tmp_path / "b.tex").write_text("\\input{a}\n")
    main = tmp_path / "main.tex"
    main.write_text("\\documentclass{article}\\begin{document}\\input{a}\\end{document}")
    assert "cycle" in _err(main).message


def test_unknown_engine(two_column_paper):
    path, _ = two_column_paper
    assert "engine" in _err(path, pdf_engine="pdfminer").message


def test_pdf_with_garbage_pages_still_reports_clearly(tmp_path):
    # Half the pages have text, half are drawings only: index the text, note the rest.
    from reportlab.pdfgen import canvas

    p = tmp_path / "mixed.pdf"
    c = canvas.Canvas(str(p))
    c.setFont("Times-Bold", 14)
    c.drawString(72, 700, "1 Introduction")
    c.setFont("Times-Roman", 10)
    c.drawString(72, 680, "Body text of the first page.")
    c.showPage()
    c.rect(72, 72, 300, 300, fill=1)
    c.showPage()
    c.save()
    index = load_document(p)
    assert index.numbered_headings() == ["1 Introduction"]
    assert any("no text layer" in n and "2" in n for n in index.notes)


def test_save_is_atomic_and_load_roundtrips(tmp_path, two_column_paper):
    from deepcode_tui.ingest import DocumentIndex

    path, _ = two_column_paper
    index = load_document(path)
    out = tmp_path / "run" / "document_index.json"
    index.save(out)
    assert [p.name for p in out.parent.iterdir()] == ["document_index.json"]
    back = DocumentIndex.load(out)
    assert back == index


def test_load_damaged_index(tmp_path):
    from deepcode_tui.errors import RunStoreError
    from deepcode_tui.ingest import DocumentIndex

    p = tmp_path / "idx.json"
    p.write_text('{"source_path": "x", "format": "pdf", "sections": [')
    with pytest.raises(RunStoreError) as ei:
        DocumentIndex.load(p)
    assert "damaged" in ei.value.message
    with pytest.raises(RunStoreError):
        DocumentIndex.load(tmp_path / "missing.json")


def test_generated_paper_helper_is_deterministic(tmp_path):
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    ga, gb = make_paper(a), make_paper(b)
    assert ga.headings == gb.headings
