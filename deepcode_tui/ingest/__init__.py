"""Paper ingestion: documents -> a hierarchical, queryable DocumentIndex.

from deepcode_tui.ingest import load_document
index = load_document(Path("paper.pdf"))
print(index.outline())
index.section("3.2"), index.search("learning rate warmup", budget_tokens=1500)
"""

from deepcode_tui.ingest.loader import PDF_ENGINES, load_document
from deepcode_tui.ingest.models import (
    INDEX_FILENAME,
    Algorithm,
    Chunk,
    DocumentIndex,
    Equation,
    FigureCaption,
    Hyperparameter,
    Reference,
    Section,
    Table,
)

__all__ = [
    "INDEX_FILENAME",
    "PDF_ENGINES",
    "Algorithm",
    "Chunk",
    "DocumentIndex",
    "Equation",
    "FigureCaption",
    "Hyperparameter",
    "Reference",
    "Section",
    "Table",
    "load_document",
]
