"""The query API agents use: section(), search(), outline(), all_sections()."""

from __future__ import annotations

import json

from deepcode_tui.ingest import DocumentIndex
from deepcode_tui.ingest.builder import build_index
from deepcode_tui.ingest.elements import Element
from deepcode_tui.tokens import count_tokens


def _index() -> DocumentIndex:
    e = Element
    elems = [
        e("heading", "Introduction", level=1, number="1"),
        e("para", "We study scaled dot-product attention for translation."),
        e("heading", "Model Architecture", level=1, number="3"),
        e("para", "The encoder and decoder stacks are built from identical layers."),
        e("heading", "Attention", level=2, number="3.2"),
        e("para", "An attention function maps a query and key-value pairs to an output."),
        e("heading", "Multi-Head Attention", level=3, number="3.2.2"),
        e("para", "Multi-head attention projects queries, keys and values h times. " * 30),
        e("heading", "Training", level=1, number="5"),
        e("para", "We used the Adam optimizer with beta1 = 0.9 and a warmup of 4000 steps."),
        e("heading", "Attention Visualizations", level=1),
        e("para", "Figures of attention heads."),
    ]
    return build_index(elems, source_path="/x/paper.pdf", fmt="pdf", engine="test", title="Paper")


def test_section_by_number_and_title():
    idx = _index()
    assert idx.section("3.2").title == "Attention"
    assert idx.section("3.2.").title == "Attention"
    assert idx.section("Section 3.2").title == "Attention"
    assert idx.section("§5").title == "Training"
    assert idx.section("attention").number == "3.2"  # exact title beats "Attention Visualizations"
    assert idx.section("multi head attention").number == "3.2.2"
    assert idx.section("3.2 Attention").number == "3.2"
    assert idx.section("model architecture").number == "3"
    assert idx.section("9.9") is None
    assert idx.section("quantum chromodynamics") is None
    assert idx.section("") is None


def test_search_ranks_and_respects_budget():
    idx = _index()
    hits = idx.search("adam optimizer warmup", budget_tokens=500)
    assert hits and hits[0].section_id == idx.section("5").id
    for budget in (5, 40, 200, 1000):
        got = idx.search("attention", budget_tokens=budget)
        assert sum(c.token_count for c in got) <= budget
        assert all(c.token_count == count_tokens(c.text) for c in got)
    assert idx.search("attention", budget_tokens=0) == []
    assert idx.search("zebra unicorn", budget_tokens=500) == []


def test_search_truncates_a_single_oversized_best_chunk():
    idx = _index()
    got = idx.search("projects queries keys values", budget_tokens=20)
    assert len(got) == 1 and got[0].token_count <= 20 and got[0].text


def test_outline_is_compact_with_tokens():
    idx = _index()
    out = idx.outline()
    lines = out.splitlines()
    assert lines[0].startswith("Paper (pdf,")
    assert "3 Model Architecture [" in out and "tok" in out
    assert "    3.2.2 Multi-Head Attention" in out
    assert "Attention Visualizations" in out
    assert "3.2" not in idx.outline(max_level=1)


def test_all_sections_flat_in_order():
    idx = _index()
    assert [s.number for s in idx.all_sections()] == ["1", "3", "3.2", "3.2.2", "5", ""]
    assert idx.all_sections()[3].path == ["Model Architecture", "Attention", "Multi-Head Attention"]


def test_json_roundtrip_keeps_query_working(tmp_path):
    idx = _index()
    p = idx.save(tmp_path / "index.json")
    data = json.loads(p.read_text())
    assert data["format"] == "pdf" and data["sections"][1]["children"][0]["number"] == "3.2"
    back = DocumentIndex.load(p)
    assert back.section("3.2.2").title == "Multi-Head Attention"
    assert back.search("adam", 200)[0].section_id == idx.section("5").id
    assert back.total_tokens == idx.total_tokens > 0
