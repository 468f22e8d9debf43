"""Every "Table N:" / "Figure N:" caption is kept as a caption, also when it follows rows or another
caption with no blank line or gap, and a sentence that runs on into "Table 2." is not split."""

from __future__ import annotations

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from deepcode_tui.ingest import load_document
from deepcode_tui.ingest.markdown import parse_markdown

W, H = letter
M = 72


def test_markdown_caption_on_the_line_under_another():
    md = (
        "# 1 Results\n\n![](images/a.jpg)\nFigure 22. Original images on EuroSAT\n"
        "Figure 23. Original images on OxfordPets\n\nThe results are shown in\nTable 2. They hold.\n"
    )
    elements, _ = parse_markdown(md)
    caps = [e.label for e in elements if e.kind == "caption"]
    assert caps == ["Figure 22", "Figure 23"]
    assert any(e.kind == "para" and "shown in\nTable 2. They hold." in e.text for e in elements)


def _make(path) -> None:
    c = canvas.Canvas(str(path), pagesize=letter)
    c.setFont("Times-Bold", 12)
    c.drawString(M, H - M, "1 Results")
    c.setFont("Times-Roman", 10)
    y = H - M - 20
    for sent in (
        "We translate phrases in both directions and report the accuracy of each model on",
        "the test set.",
    ):
        c.drawString(M, y, sent)
        y -= 12
    y -= 8
    for row in (
        "Input Output cbow count",
        "AN(En) A,N(It) 0.31,0.59 0.24,0.54",
        "AN(It) A,N(En) 0.50,0.62 0.28,0.48",
    ):
        c.drawString(M + 20, y, row)
        y -= 12
    c.drawString(M, y, "Table 6: Accuracy of En-It and It-En phrase translation.")
    y -= 20
    c.drawString(
        M, y, "Results are presented in Table 6. The performance is very good both quantitatively and"
    )
    c.drawString(M, y - 12, "qualitatively, and the results are shown in")
    c.drawString(M, y - 24, "Table 6. They hold for all phrases.")
    c.showPage()
    c.save()


def test_pdf_caption_right_under_unruled_rows(tmp_path):
    path = tmp_path / "caps.pdf"
    _make(path)
    index = load_document(path)
    labels = {f.label for f in index.figures} | {t.caption.split(":")[0] for t in index.tables if t.caption}
    hits = [c for c in index.chunks if c.kind in ("caption", "table") and "Table 6: Accuracy" in c.text]
    assert hits or "Table 6" in labels
    text = index.section("1").text
    assert "shown in Table 6. They hold" in " ".join(text.split())  # the run-on sentence stays whole


def _ln(text: str, top: float, math: float = 0.0, x0: float = 72, x1: float = 540):
    from deepcode_tui.ingest.pdf.layout import Line

    ln = Line(1, text, [text], x0, x1, top, top + 10, top + 8, 10, 0, 0, math, 0, "", 0)
    ln.col_x0, ln.col_x1, ln.gap_above = 72, 540, 14
    return ln


def test_formula_pieces_join_the_equation_they_belong_to():
    from deepcode_tui.ingest.pdf.blocks import build_elements

    lines = [
        _ln("The loss sums the errors of all the steps of one episode as follows:", 100),
        _ln("Z∼h Z∼h", 118, math=1.0, x0=200, x1=260),  # limits set above the formula
        _ln("L(θ) = Σ r(x, y) − β log π(y | x) + Σ h(z)", 134, math=1.0, x0=180, x1=420),
        _ln("k=0,...,n/6", 150, math=1.0, x0=200, x1=250),  # and below it
        _ln("where the weight of each term is chosen on the validation set of the task.", 170),
    ]
    elems = build_elements(lines, [], 10.0, 2.0)
    eqs = [e.text for e in elems if e.kind == "equation"]
    assert eqs == ["Z∼h Z∼h L(θ) = Σ r(x, y) − β log π(y | x) + Σ h(z) k=0,...,n/6"]
