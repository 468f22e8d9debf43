"""A two-column paper with the floats real papers have, built with reportlab during the test run.

Page 1: title block, "1 Introduction" in the left column with an affiliation footnote under a
short rule at its foot, "2 Method" in the right column. Page 2: a full-width figure (drawn
paths, bold labels and tick labels inside it) with its caption, then two columns of prose
whose sentences are numbered so reading order can be checked, a heading with inline math
set in the Symbol font, and a full-width ruled hyperparameter table with prose under it.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import letter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

# Inline math needs a font whose name says math (as TeX's cmmi does) and that has α.
MATH_TTF = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf")

W, H = letter
M = 54
GUT = 18
COL_W = (W - 2 * M - GUT) / 2
LEAD = 12.0


def left_sentence(k: int) -> str:
    return f"Leftside claim {k} holds."


def right_sentence(k: int) -> str:
    return f"Rightside claim {k} holds."


def _column(c: canvas.Canvas, x: float, y: float, sentences: list[str], n_lines: int) -> float:
    """One sentence a line, filled out to the column's width; returns the y below."""
    c.setFont("Times-Roman", 10)
    for k in range(n_lines):
        pair = sentences[k : k + 1]
        if not pair:
            break
        c.drawString(x, y, " ".join(pair[:1]) + " The model is robust and")
        y -= LEAD
    return y


def make_float_paper(path: Path) -> dict:
    c = canvas.Canvas(str(path), pagesize=letter)
    c.setTitle("Floats in Widget Papers")
    # ---- page 1 ----
    c.setFont("Times-Bold", 16)
    c.drawCentredString(W / 2, H - M - 10, "Floats in Widget Papers")
    c.setFont("Times-Roman", 11)
    c.drawCentredString(W / 2, H - M - 28, "Ada Example 1 Alan Placeholder 2")
    xl, xr = M, M + COL_W + GUT
    y0 = H - M - 70
    c.setFont("Times-Bold", 12)
    c.drawString(xl, y0, "1 Introduction")
    intro = [f"Introductory remark {k} is made here." for k in range(1, 60)]
    _column(c, xl, y0 - 18, intro, 28)
    # Affiliation footnote at the foot of the left column, under a short rule.
    c.setLineWidth(0.5)
    c.line(xl, M + 40, xl + 80, M + 40)
    c.setFont("Times-Roman", 6)
    c.drawString(xl, M + 31, "1")
    c.setFont("Times-Roman", 8)
    c.drawString(xl + 4, M + 28, "University of Widgets, Widgetville. Correspondence")
    c.drawString(xl, M + 18, "to: Ada <ada@widget.org>. Widget Conference 2024.")
    c.setFont("Times-Bold", 12)
    c.drawString(xr, y0, "2 Method")
    method = [f"Methodical point {k} is stated." for k in range(1, 70)]
    _column(c, xr, y0 - 18, method, 34)
    c.setFont("Times-Roman", 9)
    c.drawCentredString(W / 2, M - 24, "1")
    c.showPage()
    # ---- page 2: full-width figure on top ----
    top = H - M - 10
    fig_top, fig_bottom = top, top - 170
    c.setLineWidth(0.8)
    for k in range(24):  # a plot: axes, ticks and a curve of many segments
        x = M + 20 + k * 20
        c.line(x, fig_bottom + 20, x + 20, fig_bottom + 20 + (k * 37 % 120))
    c.rect(M + 10, fig_bottom + 10, W - 2 * M - 20, fig_top - fig_bottom - 20)
    c.setFont("Helvetica-Bold", 10)
    c.drawString(M + 40, fig_top - 30, "Encoder")
    c.drawString(W - M - 120, fig_top - 30, "Decoder")
    c.setFont("Helvetica", 7)
    for k, t in enumerate(("0.0", "0.5", "1.0", "1.5")):
        c.drawString(M + 20 + k * 120, fig_bottom + 12, t)
    c.setFont("Times-Roman", 9)
    c.drawString(
        M, fig_bottom - 14, "Figure 1: The widget pipeline, from the encoder to the decoder and back again."
    )
    # Two columns of numbered sentences under the figure.
    y = fig_bottom - 40
    c.setFont("Times-Bold", 12)
    c.drawString(xl, y, "3 Experiments")
    left = [left_sentence(k) for k in range(1, 41)]
    right = [right_sentence(k) for k in range(1, 41)]
    yl = _column(c, xl, y - 18, left, 20)
    yr = _column(c, xr, y, right, 20)
    # A heading with inline math (α in the Symbol font) in the right column.
    yh = yr - 10
    c.setFont("Times-Bold", 11)
    c.drawString(xr, yh, "3.1 Loss with ")
    wpre = c.stringWidth("3.1 Loss with ", "Times-Bold", 11)
    if MATH_TTF.is_file():
        if "CMMI10" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("CMMI10", str(MATH_TTF)))
        math_font, alpha = "CMMI10", "α"
    else:
        math_font, alpha = "Symbol", "a"  # (no Unicode mapping: the title then reads oddly)
    c.setFont(math_font, 11)
    c.drawString(xr + wpre, yh, alpha)
    wa = c.stringWidth(alpha, math_font, 11)
    c.setFont("Times-Bold", 11)
    c.drawString(xr + wpre + wa, yh, " Weighting")
    c.setFont("Times-Roman", 10)
    c.drawString(xr, yh - 16, "We weight the loss by a factor that grows slowly over the")
    c.drawString(xr, yh - 28, "course of training so that early updates stay small.")
    # A full-width ruled table with its caption above, prose below in two columns.
    ty = min(yl, yh - 28) - 30
    c.setFont("Times-Roman", 9)
    c.drawString(M, ty, "Table 1: Hyperparameters of the widget model.")
    c.setLineWidth(0.6)
    rows = [
        ("Hyperparameter", "Value", "Note"),
        ("Learning rate", "3e-4", "Adam"),
        ("Batch size", "128", "per GPU"),
        ("Warmup steps", "4000", "linear"),
    ]
    ry = ty - 10
    c.line(M, ry, W - M, ry)
    for k, row in enumerate(rows):
        ry -= 13
        c.setFont("Helvetica", 8)
        for j, cell in enumerate(row):
            c.drawString(M + 10 + j * 170, ry + 3, cell)
        if k == 0:
            c.line(M, ry - 2, W - M, ry - 2)
    c.line(M, ry - 4, W - M, ry - 4)
    y2 = ry - 24
    c.setFont("Times-Bold", 12)
    c.drawString(xl, y2, "4 Conclusion")
    c.setFont("Times-Roman", 10)
    c.drawString(xl, y2 - 16, "Closing words on the left side of the page end here.")
    c.drawString(xr, y2 - 16, "Closing words on the right side of the page end here.")
    c.setFont("Times-Roman", 9)
    c.drawCentredString(W / 2, M - 24, "2")
    c.showPage()
    c.save()
    return {
        "headings": [
            "1 Introduction",
            "2 Method",
            "3 Experiments",
            "3.1 Loss with α Weighting",
            "4 Conclusion",
        ],
    }
