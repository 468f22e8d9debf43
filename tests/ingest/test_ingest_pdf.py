"""The default PDF engine on generated papers: headings, order, layout artefacts, detected items."""

from __future__ import annotations

import re

from deepcode_tui.ingest import load_document


def _all_text(index) -> str:
    return "\n".join(s.text for s in index.all_sections())


def test_two_column_headings_exact_and_in_order(two_column_index):
    index, gold = two_column_index
    assert index.format == "pdf" and index.engine == "pdfium"
    assert index.numbered_headings() == gold.headings
    assert index.page_count == gold.pages >= 3


def test_tree_levels_and_paths(two_column_index):
    index, _ = two_column_index
    s = index.section("3.2")
    assert s is not None and s.level == 2 and s.path == ["Method", "Decoder Network"]
    method = index.section("3")
    assert [c.number for c in method.children] == ["3.1", "3.2"]
    assert method.subtree_tokens() > method.token_count > 0


def test_unnumbered_sections_found(two_column_index):
    index, _ = two_column_index
    titles = [s.title for s in index.sections]
    assert "Abstract" in titles and "References" in titles
    assert titles.index("References") < titles.index("Additional Details")


def test_numbered_list_items_are_not_headings(two_column_index):
    index, _ = two_column_index
    assert not any("Collect the training" in h for h in index.numbered_headings())
    assert "Collect the training examples" in index.section("2").text


def test_running_header_and_page_numbers_dropped(two_column_index):
    index, gold = two_column_index
    text = _all_text(index)
    assert gold.header not in text
    # No paragraph is just a page number.
    for chunk in index.chunks:
        for para in chunk.text.split("\n\n"):
            assert not re.fullmatch(r"\s*\d{1,3}\s*", para)


def test_line_end_hyphenation_joined(two_column_index):
    index, gold = two_column_index
    text = _all_text(index)
    assert gold.hyphenated_words, "the generator should have split some words"
    for word in set(gold.hyphenated_words):
        assert word in text
        for cut in range(4, len(word) - 3):
            assert f"{word[:cut]}- {word[cut:]}" not in text
            assert f"{word[:cut]}-{word[cut:]}" not in text


def test_equations_are_blocks_with_labels(two_column_index):
    index, _ = two_column_index
    labels = [e.label for e in index.equations]
    assert labels[:2] == ["(1)", "(2)"]
    assert "tanh" in index.equations[0].text and "(1)" not in index.equations[0].text
    assert index.equations[0].section_id == index.section("3.1").id


def test_algorithm_box_kept_whole(two_column_index):
    index, _ = two_column_index
    assert len(index.algorithms) == 1
    alg = index.algorithms[0]
    assert alg.title.startswith("Algorithm 1")
    for k in range(1, 8):
        assert f"{k}:" in alg.text
    assert "return theta" in alg.text
    assert any(c.kind == "algorithm" and "return theta" in c.text for c in index.chunks)


def test_table_block_with_caption(two_column_index):
    index, _ = two_column_index
    assert len(index.tables) == 1
    t = index.tables[0]
    assert t.caption.startswith("Table 1:")
    rows = t.text.splitlines()
    assert rows[0].split(" | ") == ["Model", "Accuracy", "Params"]
    assert "Widget-L | 80.1 | 40M" in rows


def test_references_parsed(two_column_index):
    index, gold = two_column_index
    refs = index.references
    assert len(refs) == gold.n_references
    assert refs[0].label == "1" and refs[0].year == 2011
    assert refs[0].urls == ["https://github.com/example/widget1"]
    assert refs[-1].label == str(gold.n_references)


def test_pages_recorded_per_chunk(two_column_index):
    index, gold = two_column_index
    assert all(c.pages and 1 <= min(c.pages) <= max(c.pages) <= gold.pages for c in index.chunks)
    assert index.section("1").pages == [1]
    refs = index.section("References")
    assert refs.pages[-1] == gold.pages


def test_hyperparameters_detected(two_column_index):
    index, _ = two_column_index
    found = {(h.name.lower(), h.value) for h in index.hyperparameters}
    assert ("learning rate", "0.001") in found
    assert ("batch size", "64") in found
    assert any(h.page for h in index.hyperparameters)


def test_title_from_first_page(two_column_index):
    index, _ = two_column_index
    assert index.title == "Widget Learning with Recurrent Summaries"


def test_one_column_paper(one_column_paper):
    path, gold = one_column_paper
    index = load_document(path)
    assert index.numbered_headings() == gold.headings
    assert gold.header not in _all_text(index)
    assert len(index.references) == gold.n_references


def test_reading_order_across_columns(two_column_index):
    index, _ = two_column_index
    # Chunks follow section order, and sections follow the numbering.
    order = [c.section_id for c in index.chunks]
    seen = []
    for sid in order:
        if not seen or seen[-1] != sid:
            seen.append(sid)
    assert len(seen) == len(set(seen)), "a section's text was split by another section's"


def test_roman_numbered_paper_ieee_style(tmp_path):
    from ingest_pdfgen import make_paper

    p = tmp_path / "ieee.pdf"
    gold = make_paper(p, columns=2, roman=True)
    index = load_document(p)
    assert index.numbered_headings() == gold.headings
    assert gold.headings[:4] == ["I INTRODUCTION", "II RELATED WORK", "III METHOD", "A Encoder Network"]
    assert [c.number for c in index.section("III").children] == ["A", "B"]


def test_review_line_numbers_are_stripped(tmp_path):
    from ingest_pdfgen import make_paper

    p = tmp_path / "review.pdf"
    gold = make_paper(p, columns=2, line_numbers=True)
    index = load_document(p)
    assert index.numbered_headings() == gold.headings
    intro = index.section("1").text
    assert not re.search(r"(?:^|\s)\d{1,3} In this section", intro)
    assert intro.startswith("In this section we describe the introduction")
