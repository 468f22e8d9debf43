"""Code-aware tokenisation."""

from __future__ import annotations

from deepcode_tui.rag.tokenize import split_identifier, tokenize


def test_split_identifier():
    assert split_identifier("getHTTPResponse") == ["get", "http", "response"]
    assert split_identifier("cell_len") == ["cell", "len"]
    assert split_identifier("MultiHeadAttention2") == ["multi", "head", "attention", "2"]


def test_tokenize_joins_code_and_prose_vocabulary():
    code = set(tokenize("def countSteps(step_count): ..."))
    prose = set(tokenize("The steps are counted"))
    assert {"countsteps", "step_count"} <= code  # whole identifiers kept for exact matches
    assert {"count", "step"} <= code & prose  # split and stemmed parts meet prose words
    assert "the" not in prose and "are" not in prose  # stopwords dropped
    assert tokenize("") == []
