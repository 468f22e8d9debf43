"""Which heading numbers may follow which: the rule that keeps list items out of the section tree."""

from __future__ import annotations

from deepcode_tui.ingest.pdf.sequence import best_chain, parse_number, transition


def n(s: str, roman: bool = False):
    return parse_number(s, roman)


def test_valid_successors():
    assert transition(n("3"), n("3.1")) == 0.0
    assert transition(n("3.1"), n("3.2")) == 0.0
    assert transition(n("3.2.1"), n("4")) == 0.0
    assert transition(n("5"), n("A")) == 0.0
    assert transition(n("A"), n("A.1")) == 0.0
    assert transition(n("3"), n("5")) < 0  # one heading missed: allowed, penalised
    assert transition(n("3.1"), n("1")) is None  # a "1." list item cannot follow 3.1
    assert transition(n("A"), n("2")) is None
    assert transition(n("3"), n("3")) is None


def test_best_chain_skips_list_items_and_table_rows():
    seq = ["1", "2", "1", "2", "3", "3", "3.1", "2", "4"]  # "1","2","3" list items inside section 2; "2" row
    nums = [n(s) for s in seq]
    scores = [5, 5, 3, 3, 3, 5, 4, 2, 5]
    chain, total = best_chain(list(range(len(seq))), nums, scores)
    assert [seq[i] for i in chain] == ["1", "2", "3", "3.1", "4"]
    assert chain == [0, 1, 5, 6, 8]
    assert total > 0
