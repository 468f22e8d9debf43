"""CodeRAG: conditional knowledge from reference repositories.

Sources (:mod:`.sources`) are indexed as tree-sitter chunks (:mod:`.chunker`) into a
persistent BM25 + embeddings index (:mod:`.index`; the default model is the packaged
static table of :mod:`.static_embed`, results reordered by :mod:`.rerank`); per blueprint file,
:mod:`.decide` chooses whether to retrieve and :mod:`.mapping` records how the
retrieved code relates to the file. :mod:`.coderag` ties them together.
"""

from deepcode_tui.rag.chunker import Chunk, chunk_source
from deepcode_tui.rag.coderag import CodeRAG, RagContext, index_dir_for, prepare_coderag
from deepcode_tui.rag.decide import (
    FileNeed,
    RetrievalDecision,
    context_budget,
    decide,
    format_context,
    gather_hits,
    retrieve_for,
)
from deepcode_tui.rag.events import IndexBuilt, RetrievalDecided, RetrievalDone, SourceSkipped
from deepcode_tui.rag.index import CodeIndex, IndexStats, SearchHit
from deepcode_tui.rag.mapping import Relation, load_relations, relate, save_relations
from deepcode_tui.rag.mining import ReferenceCandidate, mine_candidates, mine_candidates_with_model
from deepcode_tui.rag.sources import (
    ReferenceSource,
    ResolvedSource,
    SkippedSource,
    parse_source,
    resolve_sources,
    resolve_sources_async,
    select_sources,
)

__all__ = [
    "Chunk",
    "CodeIndex",
    "CodeRAG",
    "FileNeed",
    "IndexBuilt",
    "IndexStats",
    "RagContext",
    "ReferenceCandidate",
    "ReferenceSource",
    "Relation",
    "ResolvedSource",
    "RetrievalDecided",
    "RetrievalDecision",
    "RetrievalDone",
    "SearchHit",
    "SkippedSource",
    "SourceSkipped",
    "chunk_source",
    "context_budget",
    "decide",
    "format_context",
    "gather_hits",
    "index_dir_for",
    "load_relations",
    "mine_candidates",
    "mine_candidates_with_model",
    "parse_source",
    "prepare_coderag",
    "relate",
    "resolve_sources",
    "resolve_sources_async",
    "retrieve_for",
    "save_relations",
    "select_sources",
]
