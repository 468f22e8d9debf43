"""Hyperparameter and bibliography detectors."""

from __future__ import annotations

from deepcode_tui.ingest.items import find_hyperparameters, parse_reference, split_reference_text


def _hp(text):
    return {(h.name.lower(), h.value) for h in find_hyperparameters(text)}


def test_hyperparameters_in_prose():
    got = _hp(
        "We used the Adam optimizer with β1 = 0.9, β2 = 0.98 and ϵ = 10−9. "
        "We set the dropout rate Pdrop = 0.1 and trained for 100K steps with warmup_steps = 4000. "
        "The learning rate of 3 × 10−4 was decayed. Each model has 6 layers and 8 heads."
    )
    for pair in [
        ("β1", "0.9"),
        ("β2", "0.98"),
        ("ϵ", "10-9"),
        ("dropout rate", "0.1"),
        ("steps", "100K"),
        ("warmup_steps", "4000"),
        ("learning rate", "3 × 10-4"),
        ("layers", "6"),
        ("heads", "8"),
    ]:
        assert pair in got, pair


def test_no_hyperparameters_in_plain_prose():
    assert _hp("In Section 3 we compare against prior work (Smith et al., 2020).") == set()
    assert _hp("for i = 1 to n do") == set()


def test_reference_numbered():
    r = parse_reference(
        "[12] A. Vaswani, N. Shazeer. Attention is all you need. In NeurIPS, 2017. "
        "https://github.com/tensorflow/tensor2tensor.",
        12,
    )
    assert r.label == "12" and r.year == 2017
    assert r.title == "Attention is all you need"
    assert r.urls == ["https://github.com/tensorflow/tensor2tensor"]


def test_reference_author_year_with_arxiv_and_doi():
    r = parse_reference(
        "Lee, A., Bai, X., and Pres, I. 2024. A mechanistic understanding of alignment. "
        "arXiv preprint arXiv:2401.01967. doi:10.1234/abc.5",
        1,
    )
    assert r.year == 2024 and r.arxiv_id == "2401.01967" and r.doi == "10.1234/abc.5"
    assert r.title.startswith("A mechanistic understanding")


def test_split_reference_text():
    assert len(split_reference_text("[1] A. One. 2020.\n[2] B. Two.\ncontinued 2021.")) == 2
    assert len(split_reference_text("A. One. 2020.\n\nB. Two. 2021.")) == 2
