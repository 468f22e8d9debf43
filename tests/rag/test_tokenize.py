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


def test_run_together_names_split_into_the_repositorys_own_words():
    from collections import Counter

    from deepcode_tui.rag.chunker import MODULE_SYMBOL
    from deepcode_tui.rag.tokenize import name_pieces

    vocab = Counter({"tz": 9, "local": 4, "win": 3, "iso": 2, "parse": 7, "offset": 3, "get": 5})
    assert name_pieces("tzlocal", vocab) == ["tz", "local"]
    assert name_pieces("tzwinlocal", vocab) == ["tz", "win", "local"]
    assert name_pieces("isoparser.isoparse", vocab) == ["iso", "parse"]  # the member's own name
    assert name_pieces("get_tzoffset", vocab) == ["tz", "offset"]  # "get" is split already
    assert name_pieces("easter", vocab) == []  # no split into known words
    assert name_pieces("parse", vocab) == []  # a known word is not split into smaller ones
    assert name_pieces(MODULE_SYMBOL, vocab) == []
    assert name_pieces("tzlocal", Counter({"tz": 1, "local": 1})) == []  # words used once are noise


def test_a_run_together_name_is_found_by_the_words_it_is_made_of(tmp_path):
    # dateutil's tzlocal: "the local time zone" met tzwinlocal's docstring, never "tzlocal".
    from deepcode_tui.rag.index import CodeIndex
    from deepcode_tui.rag.sources import resolve_sources

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "zones.py").write_text(
        '"""Time zones (tz): the local zone of this machine, and local zones of Windows hosts."""\n\n'
        "class tzlocal:\n    def utcoffset(self, dt):\n        return self._std_offset\n\n"
        "class tzwinlocal:\n"
        '    """The zone of a Windows host, read from its registry."""\n\n'
        "    def utcoffset(self, dt):\n        return self._win_offset\n\n"
        "def win_registry_key(name):\n    return f'win/{name}'\n\n"
        "def tz_name(tz):\n    return tz.name\n",
        encoding="utf-8",
    )
    resolved, _ = resolve_sources([str(repo)])
    idx = CodeIndex(tmp_path / "index", embedder=None)
    idx.update(resolved)
    top = idx.search("the local tz", k=3, mode="bm25")
    assert top[0].chunk.symbol == "tzlocal", [h.chunk.symbol for h in top]
