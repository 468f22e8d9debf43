"""The run's model picks among CodeRAG's candidates: the retrieval's last step, opt-in.

BM25, the static embeddings and the structural reordering put the chunk that answers
in the first five far more often than first (on the query sets written blind from
documentation, at their one run: recall@5 0.57-0.96, recall@1 0.37-0.69; see the
README). What is left needs reading: methods
of one name in sibling classes, members without docstrings, paraphrases no word
matches. A capable model reads that from a signature and a line of description, so
``rag.select_with_model`` shows it the candidates (never their code: a few hundred
tokens a file) and puts the ones it names first, in its order; the rest follow in the
ranker's order, so nothing retrieved is lost and the context budget still trims from
the end. A reply that names no listed candidate (junk, prose, an error) leaves the
ranker's order as it was.

The model is reached through ``ask`` (the pipeline's summarizer role), so this package
imports nothing from the model layer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence

from pydantic import BaseModel, Field

from deepcode_tui.errors import BudgetExceeded, Cancelled
from deepcode_tui.rag.chunker import Chunk
from deepcode_tui.redaction import scrub_secrets

Ask = Callable[[str], Awaitable[str]]
# Candidates shown to the model: gather_hits returns at most eight, a search may ask for more.
MAX_CANDIDATES = 12
DESCRIPTION_CHARS = 160
SIGNATURE_CHARS = 200

SELECT_SYSTEM = (
    "You choose reference code for a programmer. You get the description of what they need and a "
    "numbered list of candidate definitions from reference repositories (location, signature, first "
    "line of documentation). Reply with JSON only: {\"order\": [numbers]} listing the candidates that "
    "answer the need, best first; leave out the ones that do not help. Use only numbers from the list."
)


class SelectReply(BaseModel):
    """The reply's shape, for providers with structured output: candidate numbers, best first."""

    order: list[int] = Field(default_factory=list, description="numbers of the helpful candidates, best first")


class Selection(BaseModel):
    """What the model chose: candidate positions (0-based) in its order, and whether its reply was usable."""

    order: list[int] = Field(default_factory=list)
    usable: bool = False
    reason: str = ""


def candidate_line(n: int, chunk: Chunk) -> str:
    """``[n] source:path::symbol (kind) signature -- description`` for the selection prompt."""
    sig = " ".join(chunk.signature.split())[:SIGNATURE_CHARS]
    about = next((ln.strip() for ln in chunk.docstring.splitlines() if ln.strip()), "")[:DESCRIPTION_CHARS]
    return f"[{n}] {chunk.location} ({chunk.kind}) {sig}" + (f" -- {about}" if about else "")


def selection_prompt(need: str, chunks: Sequence[Chunk]) -> str:
    """The user message: the need, then the numbered candidates (numbered from 1).

    Scrubbed like sandbox output: a reference repository's docstring may quote a key.
    """
    lines = [f"What is needed:\n{need.strip()}\n", "Candidates:"]
    lines += [candidate_line(n, c) for n, c in enumerate(chunks[:MAX_CANDIDATES], 1)]
    return scrub_secrets("\n".join(lines))


_JSON_OBJECT = re.compile(r"\{[^{}]*\}", re.DOTALL)
_NUMBER = re.compile(r"\d+")
# A bare list ("2, 1", "[3 1]"): read as one. Numbers inside prose or code are not a
# choice: a weak model that answers with a code block full of list literals chose nothing.
_BARE_LIST = re.compile(r"\s*\[?\s*\d+(?:\s*[,; ]\s*\d+)*\s*\]?\s*")


def parse_selection(reply: str, count: int) -> Selection:
    """The candidate positions a reply names, in its order, each once and within ``count``.

    The JSON object ``{"order": [...]}`` is read when there is one; otherwise a reply
    that is nothing but a list of numbers ("3, 1").
    """
    numbers: list[object] = []
    for m in _JSON_OBJECT.finditer(reply):
        try:
            data = json.loads(m.group(0))
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("order"), list):
            numbers = data["order"]
            break
    else:
        if _BARE_LIST.fullmatch(reply):
            numbers = [int(x) for x in _NUMBER.findall(reply)]
    order: list[int] = []
    for x in numbers:
        if isinstance(x, bool) or not isinstance(x, int | str):
            continue
        try:
            n = int(x)
        except ValueError:
            continue
        if 1 <= n <= count and n - 1 not in order:
            order.append(n - 1)
    if not order:
        return Selection(reason="the model's reply named no listed candidate; the ranker's order is kept")
    return Selection(order=order, usable=True)


def reorder(items: Sequence, selection: Selection) -> list:
    """The chosen items first, in the model's order, then the others in their own order."""
    chosen = [items[i] for i in selection.order if i < len(items)]
    picked = set(selection.order)
    return chosen + [x for i, x in enumerate(items) if i not in picked]


async def select(need: str, chunks: Sequence[Chunk], ask: Ask) -> Selection:
    """Ask the model which of ``chunks`` answer ``need``. Never raises for a bad reply or a
    failed call: the Selection then says why and keeps the ranker's order."""
    shown = list(chunks[:MAX_CANDIDATES])
    if len(shown) < 2:
        return Selection(reason="fewer than two candidates: nothing to choose")
    try:
        reply = await ask(selection_prompt(need, shown))
    except (Cancelled, BudgetExceeded):
        raise  # the run's own limits are not the selection's to swallow
    except Exception as exc:  # noqa: BLE001 - the ranker's order is a sound answer on its own
        name = type(exc).__name__
        return Selection(reason=f"the selection call failed ({name}); the ranker's order is kept")
    return parse_selection(reply or "", len(shown))
