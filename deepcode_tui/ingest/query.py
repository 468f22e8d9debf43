"""Queries agents run against a DocumentIndex: heading lookup, BM25 search, outline."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from deepcode_tui.tokens import count_tokens, truncate_to_tokens

if TYPE_CHECKING:
    from deepcode_tui.ingest.models import Chunk, DocumentIndex, Section

_WORD = re.compile(r"\w\w+", re.UNICODE)
_NUMBER_Q = re.compile(r"^(?:[A-Z]|\d{1,3})(?:\.\d{1,3})*\.?$")
_PREFIX_Q = re.compile(r"^(?:sections?|sec\.?|§+|chapter|appendix|app\.?)\s*", re.IGNORECASE)
_LEADING_NUMBER = re.compile(r"^((?:[A-Z]|\d{1,3})(?:\.\d{1,3})*)\.?\s+(.+)$")
# Fuzzy scores below this mean "no such section" rather than a wild guess.
FUZZY_CUTOFF = 72.0
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
        "we",
        "our",
        "from",
        "which",
        "can",
        "also",
        "than",
        "its",
        "been",
        "has",
        "have",
        "using",
        "use",
        "used",
        "via",
    ]
)


def stem(word: str) -> str:
    """A light English suffix stripper: enough for plurals and -ing/-ed forms of technical words."""
    w = word.lower()
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 5 and w.endswith("ing"):
        return w[:-3]
    if len(w) > 4 and w.endswith("ed") and not w.endswith("eed"):
        return w[:-2]
    if len(w) > 3 and w.endswith("es") and w[-3] in "sxz":
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed word tokens (what the BM25 index stores)."""
    return [stem(t) for t in _WORD.findall(text.lower()) if t not in _STOP]


class IndexQuery:
    """Lookup structures built lazily over one DocumentIndex (not persisted)."""

    def __init__(self, index: DocumentIndex) -> None:
        self.index = index
        self._sections = index.all_sections()
        self._bm25 = None

    # ---- section(heading_query) --------------------------------------
    def section(self, heading_query: str) -> Section | None:
        q = " ".join((heading_query or "").split())
        q = _PREFIX_Q.sub("", q).strip()
        if not q or not self._sections:
            return None
        if _NUMBER_Q.match(q):
            want = q.rstrip(".")
            for s in self._sections:
                if s.number.rstrip(".") == want:
                    return s
            return None
        m = _LEADING_NUMBER.match(q)
        if m:
            num, rest = m.group(1), m.group(2)
            for s in self._sections:
                if s.number == num and fuzz.WRatio(rest, s.title, processor=default_process) >= FUZZY_CUTOFF:
                    return s
        qn = default_process(q)
        for s in self._sections:  # exact title match beats any fuzzy score
            if default_process(s.title) == qn:
                return s
        best, best_score = None, 0.0
        for s in self._sections:
            score = max(
                fuzz.WRatio(qn, default_process(s.title)),
                fuzz.WRatio(qn, default_process(s.heading)),
            )
            # Prefer the closer length on ties: "Attention" should not pick "Attention Visualizations".
            score -= 0.01 * abs(len(s.title) - len(q))
            if score > best_score:
                best, best_score = s, score
        return best if best_score >= FUZZY_CUTOFF else None

    # ---- search(text, budget_tokens) ----------------------------------
    def _retriever(self):
        if self._bm25 is None:
            import bm25s

            docs = [tokenize(f"{c.heading}\n{c.text}") or ["_empty_"] for c in self.index.chunks]
            retriever = bm25s.BM25()
            retriever.index(docs, show_progress=False)
            self._bm25 = retriever
        return self._bm25

    def search(self, text: str, budget_tokens: int) -> list[Chunk]:
        chunks = self.index.chunks
        if not chunks or budget_tokens <= 0:
            return []
        retriever = self._retriever()
        vocab = retriever.vocab_dict
        q = [t for t in tokenize(text) if t in vocab]
        if not q:
            return []
        scores = retriever.get_scores(q)
        order = sorted((i for i in range(len(chunks)) if scores[i] > 0), key=lambda i: -float(scores[i]))
        out: list[Chunk] = []
        left = budget_tokens
        for i in order:
            c = chunks[i]
            cost = c.token_count or count_tokens(c.text)
            if cost <= left:
                out.append(c)
                left -= cost
            elif not out:
                # The best chunk alone is over budget: return its head rather than nothing.
                text_cut = truncate_to_tokens(c.text, left)
                out.append(c.model_copy(update={"text": text_cut, "token_count": count_tokens(text_cut)}))
                left = 0
            if left <= 0:
                break
        return out

    # ---- outline() ------------------------------------------------------
    def outline(self, *, max_level: int | None = None) -> str:
        idx = self.index
        head = idx.title or idx.source_path
        meta = [idx.format]
        if idx.page_count:
            meta.append(f"{idx.page_count} pages")
        meta.append(f"{idx.total_tokens} tokens")
        lines = [f"{head} ({', '.join(meta)})"]
        for s in self._sections:
            if max_level is not None and s.level > max_level:
                continue
            pages = ""
            if s.pages:
                pages = f", p.{s.pages[0]}" if len(s.pages) == 1 else f", p.{s.pages[0]}-{s.pages[-1]}"
            own, total = s.token_count, s.subtree_tokens()
            toks = f"{own} tok" if own == total else f"{own}/{total} tok"
            lines.append(f"{'  ' * (s.level - 1)}{s.heading} [{toks}{pages}]")
        items = []
        for name, seq in (
            ("equations", idx.equations),
            ("algorithms", idx.algorithms),
            ("tables", idx.tables),
            ("figures", idx.figures),
            ("hyperparameters", idx.hyperparameters),
            ("references", idx.references),
        ):
            if seq:
                items.append(f"{len(seq)} {name}")
        if items:
            lines.append("Detected: " + ", ".join(items))
        return "\n".join(lines)
