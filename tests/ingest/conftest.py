"""Fixture documents for the ingest tests, generated in the test run."""

from __future__ import annotations

import pytest
from ingest_pdfgen import make_paper


@pytest.fixture(scope="session")
def two_column_paper(tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf2") / "two_column.pdf"
    gold = make_paper(path, columns=2)
    return path, gold


@pytest.fixture(scope="session")
def one_column_paper(tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf1") / "one_column.pdf"
    gold = make_paper(path, columns=1, sections=6)
    return path, gold


@pytest.fixture(scope="session")
def two_column_index(two_column_paper):
    from deepcode_tui.ingest import load_document

    path, gold = two_column_paper
    return load_document(path), gold
