"""Page 1's author and affiliation lines are front matter, never headings; equations are whole."""

from __future__ import annotations

from dataclasses import dataclass, field

from deepcode_tui.ingest.elements import Element
from deepcode_tui.ingest.pdf.blocks import _whole_equations
from deepcode_tui.ingest.pdf.front import mark_front_matter


@dataclass
class _Ln:  # the fields of layout.Line that mark_front_matter reads
    text: str
    top: float
    size: float = 10.0
    page: int = 1
    kind: str = ""
    page_height: float = 792.0
    spans: list = field(default_factory=list)


def test_author_block_in_both_columns_is_tagged_as_notes():
    lines = [
        _Ln("Learning to Extract Relations from the Web", 80, size=14.3),
        _Ln("Razvan C. Bunescu", 135, size=12),
        _Ln("Department of Computer Sciences", 149, size=12),
        _Ln("Abstract", 259, size=12),
        _Ln("We present a new approach to relation extraction that requires", 285),
        _Ln("Raymond J. Mooney", 135, size=12),  # the right column's author, read after the abstract
        _Ln("Department of Computer Sciences", 149, size=12),
        _Ln("mooney@cs.utexas.edu", 206, size=12),
        _Ln("Related Work", 500, size=12),
    ]
    mark_front_matter(lines)
    kinds = {ln.text: ln.kind for ln in lines}
    assert kinds["Razvan C. Bunescu"] == kinds["Raymond J. Mooney"] == "footnote"
    assert kinds["Department of Computer Sciences"] == "footnote"
    # The title, the abstract heading and later headings stay as they are.
    assert kinds["Learning to Extract Relations from the Web"] == ""
    assert kinds["Abstract"] == kinds["Related Work"] == ""
    assert kinds["We present a new approach to relation extraction that requires"] == ""


def test_names_without_affiliation_are_not_front_matter():
    lines = [_Ln("A Title", 80, size=16), _Ln("Problem Description", 200), _Ln("Some body text here.", 220)]
    assert mark_front_matter(lines) == 0


def test_equation_fragments_join_their_display_or_go():
    elems = [
        Element("equation", "Y = Θ\ufffd + Γ\ufffd + W", page=1),
        Element("equation", "1 n", page=1),  # a fragment under the display above
        Element("para", "where the noise is bounded.", page=1),
        Element("equation", "k−1", page=2),  # a fragment above the display below
        Element("equation", "x_k = x + y_k", page=2),
        Element("para", "and so on.", page=2),
        Element("equation", "\ufffd", page=3),  # nothing left: dropped
    ]
    out = [e.text for e in _whole_equations(elems) if e.kind == "equation"]
    assert out == ["Y = Θ + Γ + W 1 n", "k−1 x_k = x + y_k"]


def test_page_one_without_text_in_its_top_zone_is_left_alone():
    # A page 1 whose text starts low (a cover image above it) has no title block: nothing is
    # tagged, and nothing fails (max over an empty top zone raised ValueError).
    lines = [
        _Ln("Razvan C. Bunescu", 500, size=12),
        _Ln("Department of Computer Sciences", 514, size=12),
        _Ln("We present a new approach to relation extraction.", 600),
    ]
    assert mark_front_matter(lines) == 0
    assert all(ln.kind == "" for ln in lines)
