"""Turn an element stream (any input format) into a DocumentIndex."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from deepcode_tui.ingest.elements import Element
from deepcode_tui.ingest.hyper import name_symbols, symbol_names
from deepcode_tui.ingest.items import (
    REFERENCES_TITLE,
    find_hyperparameters,
    hyperparameters_from_table,
    parse_reference,
    split_reference_text,
)
from deepcode_tui.ingest.models import (
    Algorithm,
    Chunk,
    DocumentIndex,
    Equation,
    FigureCaption,
    Format,
    Section,
    Table,
)
from deepcode_tui.tokens import count_tokens

# Chunks are what `search` returns: small enough that several fit a prompt budget,
# large enough to carry a whole argument.
CHUNK_MAX_TOKENS = 400
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])")
_HYPER_TITLE = re.compile(
    r"hyper-?param|training (?:details|setup|settings|configuration)|implementation details", re.IGNORECASE
)
FRONT_TITLE = "Front matter"
# Title-block lines that are metadata, not text to read: author lines with e-mail addresses,
# correspondence and equal-contribution notes, licence and permission notices, the venue line
# ("In Proceedings of the 45th Annual Meeting of ...").
_TITLE_BLOCK = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.]+|\bcorrespondence to\b|\bequal contribution\b|\bcontributed equally\b|"
    r"^\s*(?:in\s+)?proceedings of the\b|\bpreprint\.? under review\b|"
    r"\bhereby grants? permission\b|\bpermission to (?:make|reproduce|copy)\b|\blicen[cs]ed under\b|"
    r"^\s*(?:©|\(c\)|copyright)\s*\d{4}",
    re.IGNORECASE,
)


@dataclass
class _Open:
    section: Section
    declared: int  # the level the parser gave; depth in the tree may differ when levels skip
    content: list[Element] = field(default_factory=list)


def _clean_title(text: str) -> str:
    t = " ".join(text.split()).strip()
    # "3.2 Toxic Vectors in Vocabulary space." - a heading's closing period is layout, not title.
    if t.endswith((".", ":")) and not t.endswith(("..", "etc.", "al.")):
        t = t[:-1].rstrip()
    return t or "Untitled"


def _slug(text: str) -> str:
    s = re.sub(r"[^\w]+", "-", text.lower()).strip("-")
    return s[:48] or "section"


def _element_text(e: Element) -> str:
    if e.kind == "table":
        cap = e.caption.strip()
        return f"{cap}\n{e.text}".strip() if cap else e.text
    if e.kind == "equation" and e.label and e.label not in e.text:
        return f"{e.text} {e.label}"
    return e.text


def _split_long(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most ~limit tokens at sentence boundaries."""
    if count_tokens(text) <= limit:
        return [text]
    pieces, cur, cur_tok = [], [], 0
    for sent in _SENTENCE.split(text):
        t = count_tokens(sent)
        if cur and cur_tok + t > limit:
            pieces.append(" ".join(cur))
            cur, cur_tok = [], 0
        if t > limit:  # one giant "sentence" (a table dump, a formula): hard split by words
            words = sent.split()
            step = max(20, len(words) * limit // max(t, 1))
            for i in range(0, len(words), step):
                pieces.append(" ".join(words[i : i + step]))
            continue
        cur.append(sent)
        cur_tok += t
    if cur:
        pieces.append(" ".join(cur))
    return pieces


def _num_key(number: str) -> tuple:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in number.split("."))


def _sort_numbered(children: list[Section]) -> None:
    """Order numbered siblings by number when a converter emitted them out of order."""
    if len(children) > 1 and all(c.number for c in children):
        keys = [_num_key(c.number) for c in children]
        if keys != sorted(keys):
            children.sort(key=lambda c: _num_key(c.number))


class IndexBuilder:
    """Accumulates elements into sections, then derives chunks and detected items."""

    def __init__(self) -> None:
        self.opened: list[_Open] = []
        self.roots: list[Section] = []
        self._stack: list[_Open] = []
        self._ids: set[str] = set()
        self.front_matter: list[str] = []
        self._hyper_keys: set[tuple[str, str]] = set()

    def _new_id(self, number: str, title: str) -> str:
        base = f"sec-{number}" if number else f"sec-{_slug(title)}"
        sid, n = base, 2
        while sid in self._ids:
            sid, n = f"{base}-{n}", n + 1
        self._ids.add(sid)
        return sid

    def add(self, e: Element) -> None:
        if e.kind == "heading":
            title = _clean_title(e.text)
            while self._stack and self._stack[-1].declared >= e.level:
                self._stack.pop()
            self._reparent_by_number(e.number)
            parent = self._stack[-1].section if self._stack else None
            sec = Section(
                id=self._new_id(e.number, title),
                number=e.number,
                title=title,
                level=parent.level + 1 if parent else 1,
                path=(parent.path if parent else []) + [title],
            )
            if parent:
                parent.children.append(sec)
            else:
                self.roots.append(sec)
            op = _Open(sec, e.level)
            self.opened.append(op)
            self._stack.append(op)
            return
        if not e.text.strip() and not e.caption.strip():
            return
        if self._is_title_metadata(e):
            self.front_matter.append(" ".join(e.text.split()))
            return
        if not self._stack:
            # Text before the first heading (title block, authors, abstract without a heading).
            sec = Section(id=self._new_id("", "front"), title=FRONT_TITLE, level=1, path=[FRONT_TITLE])
            self.roots.append(sec)
            op = _Open(sec, 10**6)  # any heading closes it
            self.opened.append(op)
            self._stack.append(op)
        self._stack[-1].content.append(e)

    def _is_title_metadata(self, e: Element) -> bool:
        """Page 1's metadata, kept as front matter out of the text the agents read: its
        footnotes (affiliations, correspondence, venue) and, before the first heading, the
        title block's author lines ("... Google Brain avaswani@google.com ...") and notices."""
        if (e.page or 1) != 1:
            return False
        if e.kind == "footnote":
            return True
        in_title_block = not self._stack or self._stack[-1].section.title == FRONT_TITLE
        return e.kind == "para" and in_title_block and bool(_TITLE_BLOCK.search(e.text))

    def _reparent_by_number(self, number: str) -> None:
        """Put "7.2" under section "7" even if a converter emitted it after "8" (out of order)."""
        if "." not in number:
            return
        want = number.rsplit(".", 1)[0]
        parent = self._stack[-1].section if self._stack else None
        if parent is not None and parent.number == want:
            return
        chain: list[_Open] = []
        for op in reversed(self.opened):
            if op.section.number == want:
                chain = [op]
                break
        if not chain:
            return
        # Rebuild the open stack down to that section (its ancestors by number prefix).
        path: list[_Open] = []
        prefix = want
        while True:
            hit = next((op for op in reversed(self.opened) if op.section.number == prefix), None)
            if hit is None:
                break
            path.insert(0, hit)
            if "." not in prefix:
                break
            prefix = prefix.rsplit(".", 1)[0]
        if path and path[-1] is chain[0]:
            self._stack = path

    # ---- finishing --------------------------------------------------------
    def build(
        self,
        *,
        source_path: str,
        fmt: Format,
        engine: str,
        title: str = "",
        page_count: int | None = None,
        notes: list[str] | None = None,
    ) -> DocumentIndex:
        idx = DocumentIndex(
            source_path=source_path,
            format=fmt,
            engine=engine,
            title=title,
            page_count=page_count,
            sections=self.roots,
            notes=list(notes or []),
            front_matter=self.front_matter,
        )
        counters = {"eq": 0, "alg": 0, "tab": 0, "fig": 0, "chunk": 0}
        for op in self.opened:
            sec = op.section
            texts = [_element_text(e) for e in op.content]
            sec.text = "\n\n".join(t for t in texts if t.strip())
            sec.token_count = count_tokens(sec.text)
            sec.pages = sorted({p for e in op.content for p in e.all_pages()})
            is_refs = bool(REFERENCES_TITLE.match(sec.title.strip(" .:")))
            if is_refs:
                self._references(idx, op)
            self._items(idx, op, counters, is_refs)
            self._chunks(idx, op, counters, is_refs)
        name_symbols(
            idx.hyperparameters,
            symbol_names([e.text for op in self.opened for e in op.content if e.kind == "para"]),
        )
        idx.total_tokens = sum(op.section.token_count for op in self.opened)
        for op in self.opened:
            _sort_numbered(op.section.children)
        return idx

    def _references(self, idx: DocumentIndex, op: _Open) -> None:
        entries: list[str] = []
        for e in op.content:
            if e.kind == "reference":
                entries.append(e.text)
            elif e.kind in ("para", "code"):
                entries.extend(split_reference_text(e.text))
        start = len(idx.references)
        for i, text in enumerate(entries, start=start + 1):
            if len(text.strip()) >= 8:
                idx.references.append(parse_reference(text, i))

    def _items(self, idx: DocumentIndex, op: _Open, counters: dict[str, int], is_refs: bool) -> None:
        sid = op.section.id
        hyper_section = bool(_HYPER_TITLE.search(op.section.title))
        for e in op.content:
            if e.kind == "equation":
                counters["eq"] += 1
                idx.equations.append(
                    Equation(
                        id=f"eq-{counters['eq']}", text=e.text, label=e.label, section_id=sid, page=e.page
                    )
                )
            elif e.kind == "algorithm":
                counters["alg"] += 1
                first = e.label or e.text.strip().splitlines()[0][:120]
                idx.algorithms.append(
                    Algorithm(
                        id=f"alg-{counters['alg']}", title=first, text=e.text, section_id=sid, page=e.page
                    )
                )
            elif e.kind == "table":
                counters["tab"] += 1
                idx.tables.append(
                    Table(
                        id=f"tab-{counters['tab']}",
                        caption=e.caption,
                        text=e.text,
                        section_id=sid,
                        page=e.page,
                    )
                )
                rows = [r.split(" | ") for r in e.text.splitlines()]
                self._add_hypers(
                    idx,
                    hyperparameters_from_table(
                        rows,
                        section_id=sid,
                        page=e.page,
                        caption=e.caption,
                        section_title=op.section.title if hyper_section else "",
                    ),
                )
            elif e.kind == "caption" and re.match(
                r"(?:fig(?:ure)?\.?)\s*[A-Z]?\d", e.label or e.text, re.IGNORECASE
            ):
                counters["fig"] += 1
                idx.figures.append(
                    FigureCaption(
                        id=f"fig-{counters['fig']}",
                        label=e.label or "Figure",
                        text=e.text,
                        section_id=sid,
                        page=e.page,
                        figure_text=e.inner,
                    )
                )
            elif e.kind == "caption" and re.match(r"tab(?:le)?\.?\s*[A-Z]?\d", e.label, re.IGNORECASE):
                # A table caption whose rows were not found: keep it findable as a table.
                counters["tab"] += 1
                idx.tables.append(
                    Table(id=f"tab-{counters['tab']}", caption=e.text, text="", section_id=sid, page=e.page)
                )
            if not is_refs and e.kind in ("para", "algorithm", "caption", "code", "footnote"):
                source = "algorithm" if e.kind in ("algorithm", "code") else "prose"
                self._add_hypers(
                    idx, find_hyperparameters(e.text, section_id=sid, page=e.page, source=source)
                )

    def _add_hypers(self, idx: DocumentIndex, found: list) -> None:
        for h in found:
            key = (h.name.lower(), h.value)
            if key not in self._hyper_keys:
                self._hyper_keys.add(key)
                idx.hyperparameters.append(h)

    def _chunks(self, idx: DocumentIndex, op: _Open, counters: dict[str, int], is_refs: bool) -> None:
        sec = op.section
        heading = sec.heading

        def emit(text: str, kind: str, pages: list[int]) -> None:
            text = text.strip()
            if not text:
                return
            counters["chunk"] += 1
            idx.chunks.append(
                Chunk(
                    id=f"c{counters['chunk']}",
                    section_id=sec.id,
                    heading=heading,
                    text=text,
                    kind=kind,
                    pages=sorted(set(pages)),
                    token_count=count_tokens(text),
                )
            )

        buf: list[str] = []
        buf_pages: list[int] = []
        buf_tok = 0
        default_kind = "references" if is_refs else "text"

        def flush() -> None:
            nonlocal buf, buf_pages, buf_tok
            if buf:
                emit("\n\n".join(buf), default_kind, buf_pages)
            buf, buf_pages, buf_tok = [], [], 0

        for e in op.content:
            text = _element_text(e)
            if e.kind in ("algorithm", "table", "code"):
                flush()
                for piece in _split_long(text, CHUNK_MAX_TOKENS * 2):
                    emit(piece, e.kind, e.all_pages())
                continue
            for piece in _split_long(text, CHUNK_MAX_TOKENS):
                t = count_tokens(piece)
                if buf and buf_tok + t > CHUNK_MAX_TOKENS:
                    flush()
                buf.append(piece)
                buf_pages.extend(e.all_pages())
                buf_tok += t
        flush()


def build_index(
    elements: list[Element],
    *,
    source_path: str,
    fmt: Format,
    engine: str,
    title: str = "",
    page_count: int | None = None,
    notes: list[str] | None = None,
) -> DocumentIndex:
    """Build a DocumentIndex from elements in reading order."""
    b = IndexBuilder()
    for e in elements:
        b.add(e)
    return b.build(
        source_path=source_path, fmt=fmt, engine=engine, title=title, page_count=page_count, notes=notes
    )
