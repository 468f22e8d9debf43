"""Fixtures for CodeRAG tests: a small reference repository built in the test run."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import numpy as np
import pytest

ATTENTION = '''\
"""Attention layers for sequence models."""

import math

import torch
import torch.nn.functional as F


def scaled_dot_product_attention(query, key, value, mask=None):
    """Weight the values by the softmax of query-key dot products scaled by sqrt(d_k)."""
    d_k = query.size(-1)
    scores = torch.matmul(query, key.transpose(-2, -1)) / math.sqrt(d_k)
    if mask is not None:
        scores = scores.masked_fill(mask == 0, -1e9)
    weights = F.softmax(scores, dim=-1)
    return torch.matmul(weights, value), weights


class MultiHeadAttention(torch.nn.Module):
    """Project inputs into several heads, attend in each, and concatenate the results."""

    def __init__(self, d_model: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.proj = torch.nn.Linear(d_model, 3 * d_model)

    def forward(self, x, mask=None):
        """Run attention over every head and merge them back to d_model features."""
        q, k, v = self.proj(x).chunk(3, dim=-1)
        out, _ = scaled_dot_product_attention(q, k, v, mask)
        return out
'''

SCHEDULE = '''\
"""Learning-rate schedules."""


def warmup_inverse_sqrt(step: int, d_model: int, warmup_steps: int = 4000) -> float:
    """Increase the learning rate linearly for the warmup steps, then decay it by the inverse square root."""
    step = max(step, 1)
    return d_model ** -0.5 * min(step ** -0.5, step * warmup_steps ** -1.5)


class NoamScheduler:
    """Wrap an optimizer and set its learning rate from warmup_inverse_sqrt at every step."""

    def __init__(self, optimizer, d_model: int, warmup_steps: int = 4000) -> None:
        self.optimizer = optimizer
        self.d_model = d_model
        self.warmup_steps = warmup_steps
        self.step_num = 0

    def step(self) -> None:
        self.step_num += 1
        for group in self.optimizer.param_groups:
            group["lr"] = warmup_inverse_sqrt(self.step_num, self.d_model, self.warmup_steps)
'''

TOKENIZER = '''\
"""Byte-pair encoding tokenizer."""


def merge_most_frequent_pair(words: dict[tuple[str, ...], int]) -> dict[tuple[str, ...], int]:
    """Count adjacent symbol pairs over the vocabulary and merge the most frequent one everywhere."""
    pairs: dict[tuple[str, str], int] = {}
    for word, freq in words.items():
        for a, b in zip(word, word[1:]):
            pairs[(a, b)] = pairs.get((a, b), 0) + freq
    best = max(pairs, key=pairs.get)
    return {_merge(w, best): f for w, f in words.items()}


def _merge(word, pair):
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)
'''

BEAM_JS = '''\
/** Beam search decoding over a step function. */
export function beamSearch(step, start, beamWidth, maxLen) {
  let beams = [{ seq: [start], score: 0 }];
  for (let t = 0; t < maxLen; t++) {
    beams = beams.flatMap(b => step(b.seq).map(([tok, lp]) => ({ seq: [...b.seq, tok], score: b.score + lp })));
    beams.sort((a, b) => b.score - a.score);
    beams = beams.slice(0, beamWidth);
  }
  return beams[0];
}
'''


REF_FILES = {
    "model/attention.py": ATTENTION,
    "train/schedule.py": SCHEDULE,
    "text/bpe.py": TOKENIZER,
    "web/beam.js": BEAM_JS,
    "README.md": "# not indexed\n",
    "node_modules/skip/index.js": "export function shouldNotAppear() {}\n",
}


def write_ref_repo(root: Path) -> Path:
    for rel, text in REF_FILES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def ref_repo(tmp_path: Path) -> Path:
    """A small reference repository: attention, LR schedule, BPE (Python) and beam search (JS)."""
    return write_ref_repo(tmp_path / "refrepo")


@pytest.fixture
def ref_files() -> dict[str, str]:
    """The reference repository's files by path (texts as written by ``ref_repo``)."""
    return {k: textwrap.dedent(v) for k, v in REF_FILES.items()}


@pytest.fixture(scope="module")
def ref_index(tmp_path_factory):
    """A BM25-only CodeIndex over the reference repository, shared by a test module (read-only)."""
    from deepcode_tui.rag.index import CodeIndex
    from deepcode_tui.rag.sources import resolve_sources

    root = tmp_path_factory.mktemp("rag-ref")
    resolved, _ = resolve_sources([str(write_ref_repo(root / "repo"))])
    idx = CodeIndex(root / "index", embedder=None)
    idx.update(resolved)
    return idx


class HashEmbedder:
    """A deterministic bag-of-words embedder for plumbing tests (not a semantic model)."""

    name = "hash-bow"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.calls = 0
        self.texts = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        from deepcode_tui.rag.tokenize import tokenize

        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for tok in tokenize(t):
                h = int(hashlib.md5(tok.encode()).hexdigest()[:8], 16)
                out[i, h % self.dim] += 1.0
            n = np.linalg.norm(out[i])
            if n:
                out[i] /= n
        return out


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()
