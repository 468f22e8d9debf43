"""On-disk layout of a :class:`~deepcode_tui.rag.index.CodeIndex`.

An index directory holds generations ``gen-*/`` (manifest.json, chunks.jsonl, bm25/,
embeddings.npy) and a ``CURRENT`` file naming the live one. A new generation is
written completely, then ``CURRENT`` is replaced atomically, so a crash mid-update
leaves the previous index intact and readers never see a half-written one.
``summaries.json`` (content-addressed) sits beside the generations.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from deepcode_tui.errors import RunStoreError
from deepcode_tui.store.atomic import write_text_atomic as atomic_write_text
from deepcode_tui.rag.chunker import Chunk

# Bumped when what is stored per file changes (the chunking included), so an index built
# the old way is rebuilt rather than kept for its unchanged files. 2: overload stubs dropped.
# 3: definitions under module-level try/if/with chunked.
FORMAT_VERSION = 3


class FileEntry(BaseModel):
    """One indexed file: its content hash, chunk count and summary."""

    source: str
    path: str
    sha256: str
    chunks: int
    summary: str = ""
    summary_by: str = "derived"


class SourceEntry(BaseModel):
    spec: str
    kind: str
    root: str
    revision: str | None = None


class Manifest(BaseModel):
    format: int = FORMAT_VERSION
    tokenizer: str
    embedder: str | None = None
    sources: dict[str, SourceEntry] = Field(default_factory=dict)
    files: dict[str, FileEntry] = Field(default_factory=dict)
    chunks: int = 0


class Generation(BaseModel):
    """What one generation holds once loaded (bm25 is loaded separately)."""

    model_config = {"arbitrary_types_allowed": True}

    directory: Path
    manifest: Manifest
    chunks: list[Chunk]
    embeddings: np.ndarray | None = None


@contextmanager
def index_lock(directory: Path) -> Iterator[None]:
    """Exclusive lock on an index directory while a generation is written (waits up to 60 s)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a+") as fh:
        deadline = time.monotonic() + 60
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RunStoreError(
                        f"the code index at {directory} is locked by another process",
                        "wait for the other deepcode-tui run to finish indexing, then retry",
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def current_generation(directory: Path) -> Path | None:
    try:
        name = (directory / "CURRENT").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    gen = directory / name
    return gen if name.startswith("gen-") and gen.is_dir() else None


def read_generation(directory: Path) -> Generation | None:
    """The live generation, or None when there is none or it is damaged (then rebuild)."""
    gen = current_generation(directory)
    if gen is None:
        return None
    try:
        manifest = Manifest.model_validate_json((gen / "manifest.json").read_text(encoding="utf-8"))
        if manifest.format != FORMAT_VERSION:
            return None
        with open(gen / "chunks.jsonl", encoding="utf-8") as fh:
            chunks = [Chunk.model_validate_json(line) for line in fh if line.strip()]
        if len(chunks) != manifest.chunks:
            return None
        emb = None
        if manifest.embedder and (gen / "embeddings.npy").is_file():
            emb = np.load(gen / "embeddings.npy", allow_pickle=False)
            if emb.ndim != 2 or emb.shape[0] != len(chunks):
                emb = None
        return Generation(directory=gen, manifest=manifest, chunks=chunks, embeddings=emb)
    except (OSError, ValueError, ValidationError):
        return None


def write_generation(directory: Path, manifest: Manifest, chunks: list[Chunk],
                     embeddings: np.ndarray | None, bm25) -> Path:
    """Write a complete new generation and make it live; older ones but the previous go."""
    with index_lock(directory):
        gen = directory / f"gen-{time.time_ns()}-{os.getpid()}"
        tmp = directory / f".{gen.name}.tmp"
        tmp.mkdir(parents=True)
        try:
            with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as fh:
                fh.writelines(c.model_dump_json() + "\n" for c in chunks)
            if embeddings is not None:
                np.save(tmp / "embeddings.npy", embeddings, allow_pickle=False)
            if bm25 is not None:
                bm25.save(str(tmp / "bm25"), show_progress=False)
            (tmp / "manifest.json").write_text(manifest.model_dump_json(indent=1), encoding="utf-8")
            os.replace(tmp, gen)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        previous = current_generation(directory)
        atomic_write_text(directory / "CURRENT", gen.name)
        keep = {gen.name} | ({previous.name} if previous else set())
        for old in directory.glob("gen-*"):
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)
        for stale in directory.glob(".gen-*.tmp"):
            shutil.rmtree(stale, ignore_errors=True)
        return gen


def load_bm25(gen: Path):
    """The persisted bm25s index of a generation, or None (then it is rebuilt in memory)."""
    if not (gen / "bm25").is_dir():
        return None
    import bm25s

    try:
        return bm25s.BM25.load(str(gen / "bm25"), show_progress=False)
    except (OSError, ValueError, KeyError, json.JSONDecodeError):
        return None
