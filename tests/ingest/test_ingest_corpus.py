"""Numbered headings of the shared corpus papers (skipped when the corpus is absent)."""

from __future__ import annotations

import re

import pytest

from deepcode_tui.ingest import load_document

PAPERS = ["transformer", "n18-3011", "mechanistic-understanding"]


def _norm(h: str) -> str:
    return re.sub(r"\s+", " ", h.strip().rstrip(".")).lower()


@pytest.mark.parametrize("name", PAPERS)
def test_corpus_headings_match_gold_in_order(corpus_dir, name):
    paper = corpus_dir / "papers" / name
    if not (paper / "paper.pdf").exists():
        pytest.skip(f"{name} not in corpus")
    gold = [_norm(x) for x in (paper / "sections.txt").read_text().splitlines() if x.strip()]
    idx = load_document(paper / "paper.pdf")
    found = [_norm(h) for h in idx.numbered_headings()]
    tp = len(set(found) & set(gold))
    precision, recall = tp / max(1, len(found)), tp / len(gold)
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    assert f1 >= 0.97, (set(gold) - set(found), set(found) - set(gold))
    assert [h for h in found if h in gold] == [g for g in gold if g in found], "headings out of reading order"
