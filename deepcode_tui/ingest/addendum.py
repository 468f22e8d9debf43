"""An addendum (PaperBench's ``addendum.md``, or any Markdown or text the user gives
with ``--addendum``): clarifications of what the document leaves open.

Its statements become document text of their own: a top-level section
"Addendum (supplied by the user)" appended to the index, with its own
chunks, so the reading agents find it through ``outline``, ``read_section``
and ``search`` like any section, and the planner's open questions can be
answered from it before the gate (:func:`deepcode_tui.blueprint.questions.answer_from_addendum`).
"""

from __future__ import annotations

from pathlib import Path

from deepcode_tui.errors import InputError
from deepcode_tui.ingest.models import Chunk, DocumentIndex, Section
from deepcode_tui.safe_fs import UnsafePath, read_document
from deepcode_tui.tokens import count_tokens

ADDENDUM_TITLE = "Addendum (supplied by the user)"
MAX_ADDENDUM_BYTES = 2_000_000
_CHUNK_CHARS = 1500


def read_addendum(path: Path) -> str:
    """The addendum's text; InputError (cause and fix) for a missing, special or huge file."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InputError(f"addendum {path} does not exist", "check the --addendum path")
    try:
        data = read_document(path, max_bytes=MAX_ADDENDUM_BYTES)
    except UnsafePath as exc:
        raise InputError(f"addendum {exc}", "give a Markdown or text file of at most 2 MB") from None
    except OSError as exc:
        raise InputError(f"cannot read addendum {path}: {exc.strerror}", "check its permissions") from None
    text = data.decode("utf-8", errors="replace").strip()
    if not text:
        raise InputError(f"addendum {path} is empty", "give a file with the clarifications, or drop --addendum")
    return text


def _chunks(text: str) -> list[str]:
    """Paragraph-aligned pieces of at most about _CHUNK_CHARS characters."""
    out: list[str] = []
    cur = ""
    for para in (p.strip() for p in text.split("\n\n")):
        if not para:
            continue
        if cur and len(cur) + len(para) > _CHUNK_CHARS:
            out.append(cur)
            cur = para
        else:
            cur = f"{cur}\n\n{para}" if cur else para
    if cur:
        out.append(cur)
    return out


def attach_addendum(index: DocumentIndex, text: str) -> DocumentIndex:
    """``index`` with the addendum as its last top-level section (replacing an earlier one)."""
    sections = [s for s in index.sections if s.title != ADDENDUM_TITLE]
    chunks = [c for c in index.chunks if c.section_id != "addendum"]
    tokens = count_tokens(text)
    section = Section(id="addendum", title=ADDENDUM_TITLE, level=1, path=[ADDENDUM_TITLE], text=text,
                      token_count=tokens)
    for i, piece in enumerate(_chunks(text), 1):
        chunks.append(Chunk(id=f"addendum-{i}", section_id="addendum", heading=ADDENDUM_TITLE, text=piece,
                            token_count=count_tokens(piece)))
    total = index.total_tokens - sum(s.subtree_tokens() for s in index.sections if s.title == ADDENDUM_TITLE)
    return index.model_copy(update={"sections": [*sections, section], "chunks": chunks,
                                    "total_tokens": total + tokens})
