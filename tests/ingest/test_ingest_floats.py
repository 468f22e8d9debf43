"""Floats, footnotes and captions on a generated two-column paper (see floats_pdfgen.py)."""

from __future__ import annotations

import re

import pytest
from floats_pdfgen import MATH_TTF, left_sentence, make_float_paper, right_sentence

from deepcode_tui.ingest import load_document


@pytest.fixture(scope="module")
def float_index(tmp_path_factory):
    path = tmp_path_factory.mktemp("floats") / "floats.pdf"
    gold = make_float_paper(path)
    return load_document(path), gold


def test_headings_include_the_one_with_inline_math(float_index):
    index, gold = float_index
    found = index.numbered_headings()
    if not MATH_TTF.is_file():
        gold = {"headings": [h for h in gold["headings"] if "α" not in h]}
        found = [h for h in found if not h.startswith("3.1")]
    assert found == gold["headings"]


def test_figure_text_stays_with_the_figure(float_index):
    index, _ = float_index
    titles = [s.title for s in index.all_sections()]
    assert not any(t in ("Encoder", "Decoder") for t in titles)
    body = "\n".join(s.text for s in index.all_sections())
    assert "Encoder" not in body and "0.5 1.0" not in body
    (fig,) = index.figures
    assert fig.label == "Figure 1" and fig.text.startswith("Figure 1: The widget pipeline")
    assert "Encoder" in fig.figure_text and "Decoder" in fig.figure_text


def test_columns_read_in_order_around_a_full_width_figure(float_index):
    index, _ = float_index
    text = index.section("3").text
    positions = [text.find(left_sentence(k)) for k in range(1, 21)]
    positions += [text.find(right_sentence(k)) for k in range(1, 21)]
    assert all(p >= 0 for p in positions), "a column line went missing"
    assert positions == sorted(positions), "column lines interleaved"
    # No prose columns merged into table rows.
    for t in index.tables:
        assert "claim" not in t.text


def test_front_matter_footnote_is_metadata_not_body(float_index):
    index, _ = float_index
    intro = index.section("1").text
    assert "Correspondence" not in intro and "University of Widgets" not in intro
    assert any("University of Widgets" in n and "ada@widget.org" in n for n in index.front_matter)


def test_ruled_table_keeps_caption_cells_and_values(float_index):
    index, _ = float_index
    (table,) = [t for t in index.tables if t.caption.startswith("Table 1")]
    assert "Learning rate | 3e-4 | Adam" in table.text
    got = {(h.name, h.value, h.source) for h in index.hyperparameters}
    assert {("Learning rate", "3e-4", "table"), ("Batch size", "128", "table")} <= got
    assert ("Warmup steps", "4000", "table") in got
    # Captions are searchable.
    hits = index.search("widget pipeline encoder decoder", budget_tokens=400)
    assert any("Figure 1" in c.text for c in hits)


def test_conclusion_reads_left_then_right(float_index):
    index, _ = float_index
    text = index.section("4").text
    assert re.search(r"left side.*right side", text, re.DOTALL)


def test_a_clipped_figure_box_ends_at_its_clip_not_at_the_hidden_drawing(tmp_path):
    # \includegraphics[trim, clip] wraps the figure's form in a clipped one; pdfium's bounds
    # ignore the clip, so the box reached over the heading above it (transformer p. 13).
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    from deepcode_tui.ingest.pdf.extract import extract_pdf

    path = tmp_path / "clipped.pdf"
    c = canvas.Canvas(str(path), pagesize=letter)
    c.beginForm("plot")  # drawn from y 10 to 230, of which the clip shows up to 190
    for k in range(30):
        c.line(10 + k * 12, 10, 20 + k * 12, 230)
    c.endForm()
    c.beginForm("fig")
    c.saveState()
    clip = c.beginPath()
    clip.rect(0, 0, 400, 190)
    c.clipPath(clip, stroke=0, fill=0)
    c.doForm("plot")
    c.restoreState()
    c.endForm()
    c.setFont("Times-Bold", 12)
    c.drawString(100, 655, "2 Results")  # above the clip (640), inside the drawing's bounds (680)
    c.saveState()
    c.translate(100, 450)
    c.doForm("fig")
    c.restoreState()
    c.setFont("Times-Roman", 10)
    c.drawString(100, 430, "Figure 1: A clipped plot.")
    c.showPage()
    c.save()
    page = extract_pdf(path).pages[0]
    (box,) = page.figures
    heading = next(s for s in page.spans if s.text.startswith("2"))
    assert box[1] >= heading.bottom  # the box starts below the heading
    assert abs(box[1] - (page.height - 640)) < 2 and abs(box[3] - (page.height - 460)) < 2


def test_limits_under_a_display_read_as_prose_stay_with_its_paragraph(tmp_path):
    # "max" with its limits set under it in script size, in a line the layout reads as prose,
    # with the extra space a display gets below it: the limits were an equation of their own
    # ("k=0,...,n/6", "Z∼h Z∼h" in a tuning paper), the fragments the agents read as noise.
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    from deepcode_tui.ingest.pdf.engine import parse_pdf

    path = tmp_path / "limits.pdf"
    c = canvas.Canvas(str(path), pagesize=letter)
    y = 700.0
    c.setFont("Times-Bold", 12)
    c.drawString(72, y, "1 Method")
    y -= 20
    c.setFont("Times-Roman", 10)
    for k in range(8):
        c.drawString(72, y, f"Opening sentence {k} of the method says what the widget does and why.")
        y -= 12
    c.drawString(72, y, "We define the bound S(z) = max g(z) which is a smooth upper bound")
    c.setFont("Symbol", 7)  # a math font, as TeX's cmsy: the limits line reads as an equation
    c.drawString(225, y - 8, "k=1,...,100")
    y -= 20
    c.setFont("Times-Roman", 10)
    c.drawString(72, y, "on the sensitivity of every function g that the widget computes.")
    y -= 12
    for k in range(6):
        c.drawString(72, y, f"Closing sentence {k} of the method repeats what the widget does here.")
        y -= 12
    c.showPage()
    c.save()
    elements = parse_pdf(path, isolate=False).elements
    assert not [e.text for e in elements if e.kind == "equation"]
    (para,) = [e for e in elements if e.kind == "para" and "smooth upper bound" in e.text]
    assert "=1,...,100" in para.text and "on the sensitivity of every function" in para.text


def test_a_paragraph_cut_by_two_footnotes_is_joined_but_not_across_other_paragraphs():
    from deepcode_tui.ingest.elements import Element
    from deepcode_tui.ingest.pdf.blocks import _rejoin_interrupted

    def para(text):
        return Element("para", text, page=3)

    cut = [para("The reader might be concerned that when"), para("1The density of the noise is h."),
           para("2For simplicity we omit the count."), para("the noise depends on the database.")]  # fmt: skip
    out = _rejoin_interrupted(cut)
    assert [e.text for e in out] == [
        "The reader might be concerned that when the noise depends on the database.",
        "1The density of the noise is h.",
        "2For simplicity we omit the count.",
    ]
    prose = [para("A sentence that runs on to"), para("Another paragraph."), para("A third one."),
             para("lower-case start of something else.")]  # fmt: skip
    assert len(_rejoin_interrupted(prose)) == 4


def test_the_clip_walk_of_a_page_is_bounded_however_deep_its_forms_nest(tmp_path, monkeypatch):
    # Hostile input: every page-level form wraps eight forms that wrap eight more, four deep.
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    from deepcode_tui.ingest.pdf import extract

    path = tmp_path / "nested.pdf"
    c = canvas.Canvas(str(path), pagesize=letter)
    c.beginForm("f4")
    c.rect(0, 0, 30, 30)
    c.endForm()
    for level in (3, 2, 1, 0):
        c.beginForm(f"f{level}")
        for k in range(8):
            c.doForm(f"f{level + 1}")
        c.endForm()
    for k in range(40):
        c.saveState()
        c.translate(50 + 10 * (k % 10), 100 + 10 * (k // 10))
        c.doForm("f0")
        c.restoreState()
    c.setFont("Times-Roman", 10)
    c.drawString(72, 700, "A page of nested forms.")
    c.showPage()
    c.save()
    calls = []
    real = extract._clip_box

    def counting(o, f, box):
        calls.append(1)
        return real(o, f, box)

    monkeypatch.setattr(extract, "_clip_box", counting)
    page = extract.extract_pdf(path).pages[0]
    assert page.figures  # the drawing is still a figure
    assert len(calls) <= extract.MAX_CLIP_WALK
