"""Static (token-table) embeddings in numpy: the default CodeRAG embedding model.

A static model is a table with one vector per tokenizer token; a text's vector is
the mean of its tokens' rows, L2-normalised. There is no network to run, so a
chunk costs a tokenizer call and a table lookup: thousands of chunks per second on
one core, which is what lets the default install embed a whole reference
repository while it indexes (a transformer managed about one file per second here).

Code is turned into words before it is tokenised (``get_cell_width`` and
``getCellWidth`` become ``get cell width``), because the table was trained on prose:
an identifier split into words lands on the same rows as the query that describes it.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from pathlib import Path

import numpy as np

from deepcode_tui.rag.tokenize import STOPWORDS

# wordllama ships its 256-dimension "l2_supercat" table (Llama-2 vocabulary, fp16,
# 16 MB) and the matching tokenizer inside its wheel. Its own loader looks for the
# tokenizer in a directory the wheel does not have and then downloads it, so the
# files are read directly here and nothing ever reaches for the network.
WORDLLAMA_PACKAGE = "wordllama"
WORDLLAMA_WEIGHTS = "weights/l2_supercat_256.safetensors"
WORDLLAMA_TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
WORDLLAMA_NAME = "wordllama-l2-supercat-256"
# Tokens averaged per text (whole words, from the start): a function's tail (error
# handling, bookkeeping) only dilutes what its name, docstring and first lines say.
# 64, 128 and 256 gave the same recall on the rich set; 128 halves the worst case.
MAX_TOKENS = 128

# Words of code and prose: runs of capitals before a capitalised word (HTTPServer ->
# HTTP, Server), capitalised or lower-case words, digits. "_" is not matched, so
# snake_case splits too.
_WORD_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


# Texts per counts matrix in encode: bounds its size (texts x distinct words) for a big call.
_SLICE = 512
# Distinct words whose vectors are kept (about 1 KB each); past this the cache starts over.
MAX_CACHED_WORDS = 100_000


def words_of(text: str) -> list[str]:
    """``def get_cellWidth(x): ...`` -> ``["def", "get", "cell", "Width", "x"]``: identifiers as words."""
    return _WORD_RE.findall(text)


class StaticEmbedder:
    """Mean of per-token vectors from a table and its tokenizer; thread-safe, loaded lazily.

    Texts are split into lower-case words, stopwords dropped, and each distinct word is tokenised once
    (cached with its summed token vector): code repeats its vocabulary, so most of an
    index's words are cache hits, and a text's vector is a sparse sum of word vectors.
    """

    def __init__(self, weights: Path, tokenizer: Path, name: str, *, max_tokens: int = MAX_TOKENS,
                 tensor: str = "embedding.weight") -> None:
        self.weights = Path(weights)
        self.tokenizer_path = Path(tokenizer)
        self.name = name
        self.max_tokens = max_tokens
        self.tensor = tensor
        self._table: np.ndarray | None = None
        self._tokenizer = None
        self._lock = threading.Lock()
        # word -> row in _word_vecs (the sum of its token vectors); _word_len[row] = its
        # number of tokens. The arrays grow by doubling; rows past len(_word_row) are unused.
        self._word_row: dict[str, int] = {}
        self._word_vecs = np.zeros((0, 0), dtype=np.float32)
        self._word_len = np.zeros(0, dtype=np.int64)

    def _load(self):
        if self._table is None:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer

            tensors = load_file(str(self.weights))
            table = tensors.get(self.tensor)
            if table is None:  # a model2vec-style file names its one tensor differently
                table = next(iter(tensors.values()))
            tok = Tokenizer.from_file(str(self.tokenizer_path))
            tok.no_padding()
            tok.no_truncation()
            self._tokenizer = tok
            self._table = np.ascontiguousarray(table, dtype=np.float32)
            self._word_vecs = np.zeros((0, self._table.shape[1]), dtype=np.float32)
        return self._table, self._tokenizer

    @property
    def dim(self) -> int:
        with self._lock:
            return int(self._load()[0].shape[1])

    def _add_words(self, words: list[str]) -> None:
        table, tok = self._table, self._tokenizer
        encs = tok.encode_batch(words, add_special_tokens=False)  # type: ignore[union-attr]
        lens = np.fromiter((len(e.ids) for e in encs), dtype=np.int64, count=len(encs))
        vecs = np.zeros((len(words), table.shape[1]), dtype=np.float32)  # type: ignore[union-attr]
        some = lens > 0
        if some.any():
            flat = np.fromiter((i for e in encs for i in e.ids), dtype=np.int64, count=int(lens.sum()))
            np.clip(flat, 0, table.shape[0] - 1, out=flat)  # type: ignore[union-attr]
            starts = np.concatenate(([0], np.cumsum(lens[some])[:-1]))
            vecs[some] = np.add.reduceat(table[flat], starts, axis=0)  # type: ignore[index]
        base = len(self._word_row)
        need = base + len(words)
        if need > len(self._word_vecs):
            cap = max(need, 2 * len(self._word_vecs), 4096)
            grown = np.zeros((cap, vecs.shape[1]), dtype=np.float32)
            grown[:base] = self._word_vecs[:base]
            grown_len = np.zeros(cap, dtype=np.int64)
            grown_len[:base] = self._word_len[:base]
            self._word_vecs, self._word_len = grown, grown_len
        self._word_vecs[base:need] = vecs
        self._word_len[base:need] = lens
        self._word_row.update((w, base + j) for j, w in enumerate(words))

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            table, _ = self._load()
            dim = table.shape[1]
            out = np.zeros((len(texts), dim), dtype=np.float32)
            if not texts:
                return out
            # Function words and the keywords every chunk has (self, return, def) say
            # nothing about what a chunk does; dropping them makes a mean of the rest
            # sharper and the sums a third cheaper (rich: same recall, 1.6x faster).
            docs = [[w for w in " ".join(words_of(t)).lower().split() if w not in STOPWORDS] for t in texts]
            new = list(dict.fromkeys(w for d in docs for w in d if w not in self._word_row))
            if len(self._word_row) + len(new) > MAX_CACHED_WORDS:
                self._word_row = {}  # bounded memory: start over, with this batch's words
                new = list(dict.fromkeys(w for d in docs for w in d))
            if new:
                self._add_words(new)
            rows = self._word_row
            counts = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
            idx = np.fromiter((rows[w] for d in docs for w in d), dtype=np.int64, count=int(counts.sum()))
            if not len(idx):
                return out
            doc_of = np.repeat(np.arange(len(docs)), counts)
            lens = self._word_len[idx]
            # Tokens before each word within its own text; keep whole words up to
            # max_tokens, i.e. the text's opening (name, docstring, signature).
            ends = np.cumsum(lens)
            first = np.concatenate(([0], np.cumsum(counts)[:-1]))
            before = ends - lens - np.repeat(np.concatenate(([0], ends))[first], counts)
            keep = (before < self.max_tokens) & (lens > 0)
            idx, doc_of, lens = idx[keep], doc_of[keep], lens[keep]
            if not len(idx):
                return out
            # Sum of word vectors per text as (texts x distinct words) counts times the
            # distinct words' vectors: a matrix product instead of gathering one 256-float
            # row per word occurrence and reducing them (three times faster on click).
            for lo in range(0, len(docs), _SLICE):
                sel = slice(*np.searchsorted(doc_of, [lo, lo + _SLICE]))
                words, where = np.unique(idx[sel], return_inverse=True)
                counts = np.zeros((min(_SLICE, len(docs) - lo), len(words)), dtype=np.float32)
                np.add.at(counts, (doc_of[sel] - lo, where), 1.0)
                out[lo : lo + _SLICE] = counts @ self._word_vecs[words]
            ntok = np.bincount(doc_of, weights=lens, minlength=len(docs)).astype(np.float32)
            np.divide(out, ntok[:, None], out=out, where=ntok[:, None] > 0)
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            np.divide(out, norms, out=out, where=norms > 0)
            return out


def wordllama_files() -> tuple[Path, Path] | None:
    """The packaged table and tokenizer of wordllama, or None when the package or a file is missing."""
    try:
        spec = importlib.util.find_spec(WORDLLAMA_PACKAGE)  # locates it without importing it
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    weights, tokenizer = root / WORDLLAMA_WEIGHTS, root / WORDLLAMA_TOKENIZER
    if not (weights.is_file() and tokenizer.is_file()):
        return None
    try:
        if importlib.util.find_spec("safetensors") is None or importlib.util.find_spec("tokenizers") is None:
            return None
    except (ImportError, ValueError):
        return None
    return weights, tokenizer


def load_static_embedder() -> StaticEmbedder | None:
    """The packaged wordllama static model (cheap: the table loads on first encode), or None."""
    files = wordllama_files()
    return StaticEmbedder(*files, name=WORDLLAMA_NAME) if files else None
