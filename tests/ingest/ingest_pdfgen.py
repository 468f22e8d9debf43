"""Paper-like PDFs built with reportlab during the test run (no fixture files on disk).

`make_paper` lays out blocks in one or two columns with a running header, page
numbers, hyphenated line ends, numbered equations, a table, an algorithm box
and a bibliography, and returns what a correct parser should find.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reportlab.lib.pagesizes import letter
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

W, H = letter
MARGIN = 54
BODY, LEAD = 10, 12.2


@dataclass
class Gold:
    headings: list[str] = field(default_factory=list)  # "3.1 Title", numbered only
    hyphenated_words: list[str] = field(default_factory=list)  # words split across lines
    header: str = ""
    n_references: int = 0
    pages: int = 0


LOREM = (
    "The widget model learns a compact representation of every input sequence and combines it with "
    "a recurrent state that summarises the history of the optimisation procedure so far, which keeps "
    "the memory footprint small while the accuracy stays competitive with much larger baselines"
)


class _Flow:
    def __init__(
        self, c: canvas.Canvas, columns: int, header: str, gold: Gold, line_numbers: bool = False
    ) -> None:
        self.c = c
        self.line_numbers = line_numbers
        self.lineno = 0
        self.columns = columns
        self.header = header
        self.gold = gold
        self.gutter = 24
        self.col_w = (W - 2 * MARGIN - (self.gutter if columns == 2 else 0)) / columns
        self.page = 1
        self.col = 0
        self.top = H - MARGIN - 20
        self.y = self.top
        self._decorate()

    def _decorate(self) -> None:
        c = self.c
        if self.page > 1 and self.header:
            c.setFont("Times-Italic", 9)
            c.drawCentredString(W / 2, H - MARGIN + 8, self.header)
        c.setFont("Times-Roman", 9)
        c.drawCentredString(W / 2, MARGIN - 24, str(self.page))

    @property
    def x(self) -> float:
        return MARGIN + self.col * (self.col_w + self.gutter)

    def need(self, h: float) -> None:
        if self.y - h < MARGIN:
            if self.col + 1 < self.columns:
                self.col += 1
            else:
                self.c.showPage()
                self.page += 1
                self.col = 0
                self._decorate()
            self.y = self.top

    def skip(self, h: float) -> None:
        self.y -= h

    def line(self, text: str, font: str = "Times-Roman", size: float = BODY, dx: float = 0.0) -> None:
        self.need(LEAD)
        self.y -= LEAD
        self.c.setFont(font, size)
        self.c.drawString(self.x + dx, self.y, text)
        if self.line_numbers:  # review-copy line numbers in the outer margins
            self.lineno += 1
            self.c.setFont("Helvetica", 7)
            if self.col == 0:
                self.c.drawRightString(self.x - 8, self.y, str(self.lineno))
            else:
                self.c.drawString(self.x + self.col_w + 8, self.y, str(self.lineno))

    def heading(self, text: str, size: float) -> None:
        self.need(3 * LEAD)
        self.y -= 0.8 * LEAD
        self.line(text, "Times-Bold", size)
        self.y -= 0.3 * LEAD

    def para(self, text: str, hyphenate: bool = True, indent: float = 12) -> None:
        words = text.split()
        lines: list[str] = []
        cur = ""
        width = self.col_w
        first = True
        while words:
            w = words[0]
            avail = width - (indent if first and not lines else 0)
            cand = f"{cur} {w}".strip()
            if stringWidth(cand, "Times-Roman", BODY) <= avail:
                cur = cand
                words.pop(0)
                continue
            # Hyphenate a long word at the line end, as TeX would.
            if hyphenate and len(w) >= 9 and cur:
                for cut in range(len(w) - 4, 3, -1):
                    head = f"{cur} {w[:cut]}-"
                    if stringWidth(head, "Times-Roman", BODY) <= avail:
                        lines.append(head)
                        self.gold.hyphenated_words.append(w.strip(".,;"))
                        words[0] = w[cut:]
                        cur = ""
                        break
                else:
                    lines.append(cur)
                    cur = ""
            else:
                lines.append(cur or w)
                if not cur:
                    words.pop(0)
                cur = ""
            first = False
        if cur:
            lines.append(cur)
        for k, ln in enumerate(lines):
            self.line(ln, dx=indent if k == 0 else 0.0)
        self.y -= 2

    def hanging(self, text: str, size: float = 9) -> None:
        """A bibliography entry: first line at the margin, the rest indented."""
        words, cur, lines = text.split(), "", []
        for w in words:
            avail = self.col_w - (10 if lines else 0)
            if cur and stringWidth(f"{cur} {w}", "Times-Roman", size) > avail:
                lines.append(cur)
                cur = w
            else:
                cur = f"{cur} {w}".strip()
        lines.append(cur)
        for k, ln in enumerate(lines):
            self.line(ln, "Times-Roman", size, dx=10 if k else 0)
        self.y -= 1.5

    def equation(self, text: str, number: int) -> None:
        self.need(2.4 * LEAD)
        self.y -= 0.6 * LEAD
        self.y -= LEAD
        self.c.setFont("Times-Italic", BODY)
        self.c.drawCentredString(self.x + self.col_w / 2, self.y, text)
        self.c.setFont("Times-Roman", BODY)
        self.c.drawRightString(self.x + self.col_w, self.y, f"({number})")
        self.y -= 0.6 * LEAD

    def table(self, caption: str, rows: list[list[str]]) -> None:
        self.need((len(rows) + 3) * LEAD)
        self.y -= 0.5 * LEAD
        self.line(caption, "Times-Roman", 9)
        self.y -= 0.4 * LEAD
        step = self.col_w / len(rows[0])
        for r in rows:
            self.need(LEAD)
            self.y -= LEAD * 0.95
            self.c.setFont("Helvetica", 8)
            for k, cell in enumerate(r):
                self.c.drawString(self.x + 2 + k * step, self.y, cell)
        self.y -= 0.8 * LEAD

    def algorithm(self, caption: str, steps: list[str]) -> None:
        h = (len(steps) + 2) * LEAD
        self.need(h + LEAD)
        self.y -= 0.6 * LEAD
        top = self.y
        self.c.rect(self.x, top - h, self.col_w, h)
        self.y -= LEAD
        self.c.setFont("Times-Bold", BODY)
        self.c.drawString(self.x + 4, self.y, caption)
        for k, step in enumerate(steps, start=1):
            self.y -= LEAD
            self.c.setFont("Courier", 8.5)
            self.c.drawString(self.x + 6, self.y, f"{k}: {step}")
        self.y = top - h - 0.8 * LEAD


def make_paper(
    path: Path,
    *,
    columns: int = 2,
    title: str = "Widget Learning with Recurrent Summaries",
    sections: int = 5,
    references: int = 12,
    appendix: bool = True,
    numbered_list: bool = True,
    roman: bool = False,
    line_numbers: bool = False,
) -> Gold:
    """Write a synthetic paper to `path`; return what the parser should recover."""
    gold = Gold(header="Widget Learning Workshop 2024" if columns == 2 else "Preprint - do not distribute")
    c = canvas.Canvas(str(path), pagesize=letter)
    c.setTitle(title)
    f = _Flow(c, columns, gold.header, gold, line_numbers=line_numbers)
    romans = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"]

    def sec(n: int, name: str) -> str:  # "3 Method" or, IEEE style, "III. METHOD"
        return f"{romans[n - 1]}. {name.upper()}" if roman else f"{n} {name}"

    def sub_(n: int, k: int, name: str) -> str:
        return f"{chr(64 + k)}. {name}" if roman else f"{n}.{k} {name}"

    def gold_sec(text: str) -> str:
        return text.replace(". ", " ", 1) if roman else text

    # Title block across the page.
    c.setFont("Times-Bold", 16)
    c.drawCentredString(W / 2, H - MARGIN - 10, title)
    c.setFont("Times-Roman", 11)
    c.drawCentredString(W / 2, H - MARGIN - 30, "Ada Example and Alan Placeholder")
    f.top = H - MARGIN - 50
    f.y = f.top
    f.heading("Abstract", 11)
    f.para("We present widget learning, a method that " + LOREM + ".")
    names = ["Introduction", "Related Work", "Method", "Experiments", "Analysis", "Discussion", "Conclusion"]
    eq = 0
    for s in range(1, sections + 1):
        name = names[(s - 1) % len(names)] if s < sections else "Conclusion"
        f.heading(sec(s, name), 12)
        gold.headings.append(gold_sec(sec(s, name)))
        f.para(f"In this section we describe the {name.lower()} in detail. " + LOREM + ".")
        f.para("Furthermore, " + LOREM + ". " + LOREM + ".")
        if s == 2 and numbered_list:
            # A bold numbered list inside a section must not become section "1".
            f.line("1. Collect the training examples", "Times-Bold", BODY)
            f.line("2. Normalise the representation", "Times-Bold", BODY)
        if s == 3:
            for sub, sub_name in ((1, "Encoder Network"), (2, "Decoder Network")):
                f.heading(sub_(s, sub, sub_name), BODY)
                gold.headings.append(gold_sec(sub_(s, sub, sub_name)))
                f.para(f"The {sub_name.lower()} maps the characterisation of each token. " + LOREM + ".")
                eq += 1
                f.equation(f"h_t = tanh(W x_t + U h_(t-1) + b_{sub})", eq)
                f.para("where the learning rate of 0.001 and a batch size of 64 were used throughout.")
            f.algorithm(
                "Algorithm 1: Widget training",
                [
                    "initialise parameters theta",
                    "for each epoch do",
                    "for each batch B do",
                    "theta <- theta - lr * grad L(B)",
                    "end for",
                    "end for",
                    "return theta",
                ],
            )
            f.para("Algorithm 1 summarises the optimisation procedure described above. " + LOREM + ".")
        if s == 4:
            f.table(
                "Table 1: Accuracy of the widget model and baselines.",
                [
                    ["Model", "Accuracy", "Params"],
                    ["Baseline", "71.2", "10M"],
                    ["Widget", "78.9", "12M"],
                    ["Widget-L", "80.1", "40M"],
                ],
            )
            for sub, sub_name in ((1, "Experimental Setup"), (2, "Main Results")):
                f.heading(sub_(s, sub, sub_name), BODY)
                gold.headings.append(gold_sec(sub_(s, sub, sub_name)))
                f.para("We trained for 100 epochs with dropout 0.1. " + LOREM + ".")
                f.para(LOREM + ". " + LOREM + ".")
    f.heading("References", 12)
    for k in range(1, references + 1):
        f.hanging(
            f"[{k}] A. Author{k} and B. Writer. A study of widgets, part {k}. In Proc. of WidgetConf, "
            f"20{10 + k % 10}. https://github.com/example/widget{k}"
        )
    gold.n_references = references
    if appendix:
        f.heading("Appendix A: Additional Details" if roman else "A Additional Details", 12)
        gold.headings.append("A Additional Details")
        f.para("The appendix lists further hyperparameters. " + LOREM + ".")
    c.showPage()
    c.save()
    gold.pages = f.page
    return gold


def make_long_pdf(path: Path, pages: int) -> int:
    """A plain one-column PDF of `pages` pages with a numbered chapter every four pages.

    Returns the number of chapters."""
    c = canvas.Canvas(str(path), pagesize=letter)
    words = ["Widgets", "Gadgets", "Sprockets", "Levers", "Pulleys", "Gears", "Springs", "Valves", "Pistons"]
    for p in range(1, pages + 1):
        if p % 4 == 1:  # a chapter every four pages: 75 chapters in 300 pages
            n = p // 4 + 1
            c.setFont("Times-Bold", 14)
            c.drawString(MARGIN, H - 2 * MARGIN - 20, f"{n} {words[n % 9]} and {words[(n // 9) % 9]}")
        c.setFont("Times-Roman", 10)
        for k in range(20):
            c.drawString(MARGIN, H - 2 * MARGIN - 50 - k * LEAD, f"Line {k} of page {p}: " + LOREM[:80])
        c.drawCentredString(W / 2, MARGIN - 24, str(p))
        c.showPage()
    c.save()
    return (pages + 3) // 4


def make_image_only_pdf(path: Path, pages: int = 2) -> None:
    """Pages with drawings and no text at all, like a scan without OCR."""
    c = canvas.Canvas(str(path), pagesize=letter)
    for _ in range(pages):
        for k in range(40):
            c.rect(MARGIN, MARGIN + k * 15, 300 + (k % 7) * 20, 8, fill=1)
        c.showPage()
    c.save()


def make_encrypted_pdf(path: Path, user_password: str = "secret") -> None:
    from reportlab.lib.pdfencrypt import StandardEncryption

    enc = StandardEncryption(user_password, ownerPassword="owner-" + user_password, canPrint=1)
    c = canvas.Canvas(str(path), pagesize=letter, encrypt=enc)
    c.setFont("Times-Bold", 14)
    c.drawString(MARGIN, H - MARGIN - 20, "1 Introduction")
    c.setFont("Times-Roman", 10)
    c.drawString(MARGIN, H - MARGIN - 40, "Encrypted body text about widgets.")
    c.showPage()
    c.save()
