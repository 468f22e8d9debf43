"""Short per-file summaries: from a model when one is given, else derived deterministically.

Summaries are cached by content hash, so an unchanged file is never summarised twice
and identical files share one summary.
"""

from __future__ import annotations

import json
from pathlib import Path

from deepcode_tui.store.atomic import write_text_atomic as atomic_write_text
from deepcode_tui.rag.chunker import Chunk
from deepcode_tui.rag.events import Summarize
from deepcode_tui.tokens import truncate_to_tokens

MAX_SUMMARY_CHARS = 400
SUMMARY_INPUT_TOKENS = 1500


def _first_sentence(text: str) -> str:
    para = text.strip().split("\n\n")[0].replace("\n", " ").strip()
    for end in (". ", "? ", "! "):
        if end in para:
            para = para.split(end)[0] + end.strip()
            break
    return para[:200]


def derived_summary(path: str, chunks: list[Chunk]) -> str:
    """Module docstring's first sentence plus the file's top-level names (deterministic)."""
    module = next((c for c in chunks if c.kind == "module"), None)
    lead = _first_sentence(module.docstring) if module and module.docstring else ""
    top = [c.symbol for c in chunks if c.kind in ("class", "function") and "." not in c.symbol]
    public = [n for n in top if not n.startswith("_")] or top
    parts = [lead] if lead else []
    if public:
        shown = ", ".join(public[:12]) + (f" (+{len(public) - 12} more)" if len(public) > 12 else "")
        parts.append(f"Defines {shown}.")
    text = " ".join(parts) or f"{path}: no top-level definitions."
    return text[:MAX_SUMMARY_CHARS]


def summary_prompt(path: str, text: str) -> str:
    """What the summarizer model is asked for one file."""
    body = truncate_to_tokens(text, SUMMARY_INPUT_TOKENS)
    return (
        "Summarize this source file in one or two sentences for a programmer deciding whether "
        "to reuse it: what it provides and its main public classes or functions. "
        "Answer with the summary only.\n"
        f"File: {path}\n```\n{body}\n```"
    )


async def model_summary(path: str, text: str, summarize: Summarize) -> str:
    """The model's summary of a file, trimmed to one short paragraph."""
    answer = (await summarize(summary_prompt(path, text))).strip().strip("`").strip()
    return " ".join(answer.split())[:MAX_SUMMARY_CHARS]


class SummaryCache:
    """Summaries keyed by content hash, persisted as one JSON file (written atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, dict[str, str]] = {}
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(raw, dict):
                self._data = {k: v for k, v in raw.items() if isinstance(v, dict) and "summary" in v}
        except (OSError, ValueError):
            self._data = {}  # a missing or damaged cache only costs recomputation

    def get(self, digest: str) -> tuple[str, str] | None:
        """``(summary, by)`` where ``by`` is "model" or "derived", or None."""
        e = self._data.get(digest)
        return (e["summary"], e.get("by", "derived")) if e else None

    def put(self, digest: str, summary: str, by: str) -> None:
        self._data[digest] = {"summary": summary, "by": by}

    def prune(self, keep: set[str]) -> None:
        self._data = {k: v for k, v in self._data.items() if k in keep}

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps(self._data, indent=0, sort_keys=True))
