"""Plain text: a paper pasted as text (numbered headings found by their sequence), or a short
natural-language requirement (sections from paragraphs and bullets)."""

from __future__ import annotations

import re

from deepcode_tui.ingest.elements import Element
from deepcode_tui.ingest.numbering import number_depth, split_number

_BULLET = re.compile(r"^\s*(?:[-*•–]|\d{1,2}[.)]|[a-z][.)]|\(\w{1,3}\))\s+(?P<body>\S.*)$")
_KNOWN = re.compile(r"^(?:abstract|acknowledge?ments?|references|bibliography|appendix)$", re.IGNORECASE)
_LABEL_LINE = re.compile(r"^(?P<label>[A-Z][\w /&\-]{1,40}):\s*(?P<rest>.*)$")


def _summary(text: str, words: int = 8) -> str:
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    w = first.split()
    s = " ".join(w[:words])
    return (s + "…") if len(w) > words else s.rstrip(".")


# ---- papers as plain text -------------------------------------------------------


def _heading_candidates(lines: list[str]) -> list[tuple[int, str, str]]:
    out = []
    seen_arabic = False
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line or len(line) > 100 or len(line.split()) > 14:
            continue
        blank_around = (i == 0 or not lines[i - 1].strip()) or (
            i + 1 >= len(lines) or not lines[i + 1].strip()
        )
        if not blank_around:
            continue
        if _KNOWN.match(line.rstrip(".:")):
            out.append((i, "", line.rstrip(".:")))
            continue
        num, title = split_number(line, bare_letter=seen_arabic)
        if not num or title.endswith((",", ";")) or (title.endswith(".") and len(title.split()) > 6):
            continue
        if num[0].isdigit():
            seen_arabic = True
        out.append((i, num, title.rstrip(".")))
    return out


def _valid_successor(a: str, b: str) -> bool:
    pa, pb = a.split("."), b.split(".")
    if pa[0].isdigit() != pb[0].isdigit():
        return pb == ["A"] or pb == ["A", "1"]  # appendices after the numbered sections
    conv = lambda p: [int(x) if x.isdigit() else ord(x) - 64 for x in p]
    ia, ib = conv(pa), conv(pb)
    if len(ib) == len(ia) + 1 and ib[:-1] == ia and ib[-1] == 1:
        return True
    k = len(ib)
    return k <= len(ia) and ib[:-1] == ia[: k - 1] and ib[-1] == ia[k - 1] + 1


def parse_text(text: str) -> list[Element]:
    """A paper pasted as text: numbered headings that continue each other's numbering."""
    lines = text.splitlines()
    cands = _heading_candidates(lines)
    # Keep numbered candidates only while they form a valid sequence (drops numbered list items).
    kept: dict[int, tuple[str, str]] = {}
    last = None
    for i, num, title in cands:
        if not num:
            kept[i] = (num, title)
        elif last is None and num in ("1", "0", "I") or last is not None and _valid_successor(last, num):
            kept[i] = (num, title)
            last = num
    out: list[Element] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            body = " ".join(" ".join(p.split()) for p in para).strip()
            if body:
                out.append(Element("para", body))
            para.clear()

    for i, raw in enumerate(lines):
        if i in kept:
            flush()
            num, title = kept[i]
            out.append(Element("heading", title, level=number_depth(num) if num else 1, number=num))
        elif not raw.strip():
            flush()
        else:
            para.append(raw)
    flush()
    return out


# ---- requirements ---------------------------------------------------------------


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    cur: list[str] = []
    for line in text.splitlines():
        if line.strip():
            cur.append(line.rstrip())
        elif cur:
            blocks.append(cur)
            cur = []
    if cur:
        blocks.append(cur)
    return blocks


def parse_requirement(text: str) -> tuple[list[Element], str]:
    """Sections numbered 1, 2, ... from paragraphs; bullets become subsections (2.1, 2.2, ...)."""
    blocks = _blocks(text)
    title = ""
    if blocks and len(blocks[0]) == 1:
        first = blocks[0][0].strip().lstrip("#").strip()
        if (
            len(first.split()) <= 12
            and not first.endswith((".", "!", "?"))
            and not _BULLET.match(blocks[0][0])
        ):
            title = first.rstrip(":")
            blocks = blocks[1:]
    out: list[Element] = []
    sec = 0
    for block in blocks:
        # Split a block into its lead text and bullet items (continuation lines join their item).
        lead: list[str] = []
        items: list[str] = []
        for line in block:
            m = _BULLET.match(line)
            if m:
                items.append(m.group("body").strip())
            elif items and line.startswith((" ", "\t")):
                items[-1] += " " + line.strip()
            elif items:
                items.append(line.strip())
            else:
                lead.append(line.strip())
        lead_text = " ".join(lead).strip()
        if lead_text:
            sec += 1
            lm = _LABEL_LINE.match(lead_text)
            heading = (
                lm.group("label")
                if lm and len(lead) == 1 and (items or lm.group("rest"))
                else _summary(lead_text.rstrip(":"))
            )
            out.append(Element("heading", heading, level=1, number=str(sec)))
            out.append(Element("para", lead_text))
            parent = str(sec)
        else:
            parent = None
        for k, item in enumerate(items, start=1):
            if parent is None:
                sec += 1
                number, level = str(sec), 1
            else:
                number, level = f"{parent}.{k}", 2
            lm = _LABEL_LINE.match(item)
            heading = lm.group("label") if lm else _summary(item)
            out.append(Element("heading", heading, level=level, number=number))
            out.append(Element("para", item))
    return out, title
