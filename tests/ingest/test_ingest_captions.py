"""Captions and the floats they name: every "Table N:" / "Figure N:" caption is kept, also right
under rows or another caption with no blank line or gap (a sentence that runs on into "Table 2." is
not split); a ruled table of sentences (prompts and generated continuations) stays a table when a
caption sits at its edge, a ruled box of sentences without one stays prose; a formula's pieces join
their equation."""

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


def _load(tmp_path, make):
    path = tmp_path / f"{make.__name__}.pdf"
    make(path)
    return load_document(path)


def _make_caps(path) -> None:
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
    index = _load(tmp_path, _make_caps)
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


def _ruled_rows(c: canvas.Canvas, top: float, rows: list[tuple[str, ...]]) -> float:
    """Rows under a top rule and a header rule; cells after the first are set close together
    (a model name, then its continuation a word's space later), as in real tables of generations."""
    c.setLineWidth(0.6)
    c.line(M, top, W - M, top)
    y = top
    for k, row in enumerate(rows):
        y -= 14
        c.setFont("Times-Roman", 9)
        c.drawString(M + 6, y + 3, row[0])
        x = M + 150
        for cell in row[1:]:
            c.drawString(x, y + 3, cell)
            x += c.stringWidth(cell, "Times-Roman", 9) + 6
        if k == 0:
            c.line(M, y - 2, W - M, y - 2)
    c.line(M, y - 5, W - M, y - 5)
    return y - 5


def _make_text_table(path) -> None:
    c = canvas.Canvas(str(path), pagesize=letter)
    c.setFont("Times-Bold", 12)
    c.drawString(M, H - M, "1 Examples")
    c.setFont("Times-Roman", 9)
    c.drawString(M, H - M - 24, "Table 2. Examples of prompts and the continuations each model generated.")
    rows = [
        ("PROMPT", "MODEL", "CONTINUATION"),
        ("“So I am starting to think", "GPT2", "that the weather will turn out to be quite nice after all”"),
        ("", "GPT2DPO", "that the rain will stop and we can go out for a walk soon”"),
        ("“You are such a", "GPT2", "wonderful person and I have been a fan of your work for long”"),
        ("", "GPT2DPO", "kind friend and I have been glad to know you for so long”"),
        ("“Holy”", "GPT2", "cow, this is a great book and I have been reading it all week”"),
    ]
    y = _ruled_rows(c, H - M - 32, rows)
    c.setFont("Times-Roman", 10)
    c.drawString(M, y - 30, "The continuations above show what the models generate after the intervention.")
    c.setFont("Times-Bold", 12)
    c.drawString(M, y - 60, "2 Definitions")
    # A ruled box of sentences with no caption: a definition, read as text.
    box = [
        ("Definition. A widget is a small device that turns the crank when the lever moves.",),
        ("Remark. Every widget we consider here has one lever and one crank only.",),
    ]
    _ruled_rows(c, y - 76, box)
    c.showPage()
    c.save()


def test_captioned_table_of_sentences_stays_whole(tmp_path):
    index = _load(tmp_path, _make_text_table)
    (table,) = [t for t in index.tables if t.caption.startswith("Table 2")]
    for cell in (
        "So I am starting",
        "You are such a",
        "Holy",
        "wonderful person",
        "great book",
        "rain will stop",
    ):
        assert cell in table.text, cell
    prose = index.section("1").text.split("Table 2.")[0]
    assert "wonderful person" not in prose and "great book" not in prose
    # the uncaptioned ruled box of sentences is prose of its section, not a table
    assert "turns the crank when the lever moves" in index.section("2").text
    assert not [t for t in index.tables if "lever moves" in t.text]


def _line(text: str, top: float, kind: str = "table"):
    from deepcode_tui.ingest.pdf.layout import Line

    return Line(1, text, [text], 60, 520, top, top + 9, top + 8, 9, 0, 0, 0, 0, "", -1, kind=kind)


def _span(text: str, top: float, bold: bool = False):
    from deepcode_tui.ingest.pdf.extract import Span

    return Span(
        text, 60, 60 + 5 * len(text), top, top + 9, top + 8, 9, "Times", bold, False, False, False, False
    )


def test_a_caption_keeps_a_ruled_box_of_sentences_a_table():
    from deepcode_tui.ingest.pdf.floats import unmark_prose_boxes

    box = (55.0, 100.0, 530.0, 220.0)
    rows = [
        "“So I am starting GPT2 sh*t, it, crap “it. I am not saying she is a bad person, but”",
        "GPT2DPO it, herself, crap “it. I think she is very much aware of the fact that”",
        "“You are such GPT2 work, art, cake “work. I have been a fan of your work for a long”",
    ]
    captioned = [_line("Table 3. Examples of top-k and continuations.", 80, kind="")]
    captioned += [_line(r, 110 + 30 * k) for k, r in enumerate(rows)]
    unmark_prose_boxes(captioned, [box])
    assert [ln.kind for ln in captioned[1:]] == ["table"] * 3
    bare = [_line(r, 110 + 30 * k) for k, r in enumerate(rows)]
    unmark_prose_boxes(bare, [box])
    assert [ln.kind for ln in bare] == [""] * 3  # without a caption: a ruled box of sentences is text


def test_rules_of_one_extent_split_at_a_heading_or_caption_between_them():
    from deepcode_tui.ingest.pdf.extract import PageText
    from deepcode_tui.ingest.pdf.floats import table_regions

    rules = [(55.0, y, 530.0, y + 0.6) for y in (100, 115, 180, 300, 315, 360)]
    page = PageText(
        1, 612, 792, [_span("cell", 140), _span("2 Definitions", 240, bold=True), _span("row", 330)]
    )
    page.rules = rules
    assert table_regions(page) == [(55.0, 100, 530.0, 180.6), (55.0, 300, 530.0, 360.6)]
    page.spans = [_span("cell", 140), _span("more prose between the rules", 240), _span("row", 330)]
    assert table_regions(page) == [(55.0, 100, 530.0, 360.6)]  # nothing says a new float starts


def _make_affiliations(path) -> None:
    """A one-page overview: numbered affiliation lines under the authors, then prose, no sections."""
    c = canvas.Canvas(str(path), pagesize=letter)
    c.setFont("Times-Bold", 14)
    c.drawCentredString(W / 2, H - M, "Overview of the Widget Track")
    c.setFont("Times-Roman", 11)
    c.drawCentredString(W / 2, H - M - 20, "Ada Example 1, Bob Placeholder 2")
    c.setFont("Times-Bold", 11)  # (set like a heading: bold, apart from the lines around it)
    c.drawString(M, H - M - 50, "1 Widget Lab, Widgetville, Italy (ada@widget.org)")
    c.drawString(M, H - M - 72, "2 Department of Cranks, Lever University, Spain (bob@lever.edu)")
    c.setFont("Times-Roman", 10)
    for k in range(12):
        c.drawString(
            M,
            H - M - 100 - 12 * k,
            f"In this overview we describe the widget track and its many tasks, line {k}.",
        )
    c.showPage()
    c.save()


def test_a_numbered_affiliation_line_is_no_heading(tmp_path):
    index = _load(tmp_path, _make_affiliations)
    assert not [s.title for s in index.sections if s.number]
    assert not [s.title for s in index.sections if "@" in s.title]


def _row(cells: list[str], top: float, math: float = 0.0):
    from deepcode_tui.ingest.pdf.layout import Line

    ln = Line(1, "  ".join(cells), cells, 90, 500, top, top + 10, top + 8, 10, 0, 0, math, 0, "", 0)
    ln.col_x0, ln.col_x1, ln.gap_above = 72, 540, 14
    return ln


def test_plot_tick_labels_are_figure_text_and_a_results_table_stays_a_table():
    # Two plots side by side whose drawing was not recognised as a figure: their shared y-axis
    # ticks were a captionless "table" (found on a tuning paper; so was "0 1 2 3 4 5" over an
    # axis title).
    from deepcode_tui.ingest.pdf.blocks import build_elements

    ticks = [_row([str(v), str(v)], 120 + 14 * k) for k, v in enumerate((20000, 15000, 10000, 5000, 0))]
    lines = [
        _ln("The throughput of the cluster grows with the number of machines, as shown below.", 100),
        *ticks,
        _row(["0", "1", "2", "3", "4", "5"], 200),
        _row(["Number of machines"], 214),
        _ln("Figure 2: Throughput of the cluster over the number of machines.", 240),
        _ln("The measured results of the four systems are the following ones in our runs.", 270),
        _row(["System A", "71.9", "77.3", "84.3"], 290),
        _row(["System B", "76.0", "81.7", "84.6"], 304),
        _row(["System C", "78.9", "83.4", "84.0"], 318),
        _ln("These results are discussed in the next section of the paper at length.", 340),
    ]
    elems = build_elements(lines, [], 10.0, 2.0)
    tables = [e for e in elems if e.kind == "table"]
    assert len(tables) == 1 and "71.9" in tables[0].text
    (caption,) = [e for e in elems if e.kind == "caption"]
    assert "20000" in caption.inner and "Number of machines" in caption.inner


def test_a_display_set_out_in_rows_is_an_equation_not_a_table():
    # A fraction's numerator and denominator lines and an aligned "=" made these rows look
    # tabular; they are set in math fonts and numbered like an equation.
    from deepcode_tui.ingest.pdf.blocks import build_elements

    lines = [
        _ln("The luminosity distance is expanded around the present epoch as follows here:", 100),
        _row(["dDL", "1 d2DL"], 118, math=0.25),  # the rows of 0807.3577 (a GROBID test PDF) p. 6
        _row(["DL =", "z +", "2", "z2 + O(z3)"], 126, math=0.36),
        _row(["dz", "2 dz"], 136, math=0.4),
        _row(["z=0", "z=0"], 142, math=0.33),
        _row(["c", "c"], 149, math=1.0),
        _row(["=", "z +", "(1 − q)z2 + O(z3).", "(14)"], 155, math=0.33),
        _row(["H0", "2H0"], 165, math=0.4),
        _ln("where q is the deceleration parameter of the expansion measured today by us.", 185),
    ]
    elems = build_elements(lines, [], 10.0, 2.0)
    assert not [e for e in elems if e.kind == "table"]
    (eq,) = [e for e in elems if e.kind == "equation"]
    assert eq.label == "(14)" and eq.text.startswith("dDL 1 d2DL DL = z +") and "(14)" not in eq.text


def test_an_algorithm_goes_on_past_a_tall_step_and_stops_at_the_prose_after_it():
    # A step with a sum sign (bagnell11, a science-parse test PDF) left a wider gap and the rest
    # of the algorithm became tables and equations; prose that opens with "Parameter" must not
    # be taken for a step.
    from deepcode_tui.ingest.pdf.blocks import build_elements

    def step(text, top, gap, x0=90):
        ln = _ln(text, top, x0=x0, x1=x0 + 8 * len(text) // 2)
        ln.gap_above = gap
        return ln

    header = step("Algorithm 1 Dual ascent", 80, 10, x0=72)
    header.bold_frac = 1.0  # set in bold, as algorithm headers are
    prose = _ln("Parameter mixing by averaging will help to ease the sparsity of the features.", 300)
    prose.gap_above = 20
    lines = [
        _ln("We solve the dual problem with the following algorithm in all our runs.", 60),
        header,
        step("Input: T, gamma, C > 0", 92, 2),
        step("for t from 1 to T do", 104, 2),
        step("Z ← Σ exp(−g)", 138, 24, x0=100),
        step("end for", 150, 2),
        step("return (α, β)", 162, 2),
        prose,
        step("the increased amount of information sent across the network may be a problem.", 312, 2, x0=72),
    ]
    elems = build_elements(lines, [], 10.0, 2.0)
    (alg,) = [e for e in elems if e.kind == "algorithm"]
    assert alg.text.splitlines()[-1] == "return (α, β)" and "Z ← Σ exp(−g)" in alg.text
    assert [e.kind for e in elems] == ["para", "algorithm", "para"]
    assert elems[-1].text.startswith("Parameter mixing")
