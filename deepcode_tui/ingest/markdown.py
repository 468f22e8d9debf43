"""Markdown -> elements: ATX/setext headings (numbered or not), code, math, tables, captions.

Heading levels come from the section number when there is one ("3.2" is
level 2 even under a lone "#", as converters such as MinerU emit), otherwise
from the number of '#'. Page markers written by marker (``{12}-----``) set
the page of what follows.
"""

from __future__ import annotations

import re

from deepcode_tui.ingest.elements import Element
from deepcode_tui.ingest.numbering import number_depth, split_number

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w+\-]*)")
_PAGE_MARK = re.compile(r"^\{(\d+)\}-{5,}\s*$")
_CAPTION = re.compile(
    # "Table 3:", "Figure A2.", "Table E.1:" (appendix tables are lettered, often with a dot)
    r"^\**(?P<label>(?:fig(?:ure)?|table|algorithm)\.?\s*(?:[A-Z]\.?)?\d{1,3})\**\s*[:.|]",
    re.IGNORECASE,
)
# A line ending like this runs on into the next ("as shown in / Table 2."): no caption starts there.
_OPEN_END = re.compile(r"\b(?:in|see|of|and|or|the|from|with|to|by|as|on|than|per)\s*$", re.IGNORECASE)
_IMAGE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\([^)]*\)\s*$")
_TAG = re.compile(r"\\tag\{([^}]*)\}")
_KNOWN = re.compile(
    r"^(?:abstract|acknowledge?ments?|references|bibliography|appendix|appendices)\b", re.IGNORECASE
)
_ALGO_TITLE = re.compile(r"^((?:Algorithm|Procedure)\s+[A-Z]?\d{1,3})\b", re.IGNORECASE)
_ALGO_LANG = {"pseudo", "pseudocode", "algorithm", "algo"}


_HTML_ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.IGNORECASE | re.DOTALL)
_HTML_CELL = re.compile(r"<t[dh]([^>]*)>(.*?)</t[dh]>", re.IGNORECASE | re.DOTALL)
_TAG_RE = re.compile(r"<[^>]+>")


_SPAN = re.compile(r"\b(row|col)span\s*=\s*[\"']?(\d{1,3})", re.IGNORECASE)


def _fill_carried(carry: dict[int, tuple[str, int]], col: int, out: list[str]) -> int:
    """Cells a rowspan above still covers, from column ``col`` on; returns the next free column."""
    while col in carry:
        text, left = carry[col]
        out.append(text)
        carry[col] = (text, left - 1)
        if left <= 1:
            del carry[col]
        col += 1
    return col


def _html_table_rows(html: str) -> str:
    """Rows of an HTML table (as MinerU writes them), cells joined by " | ".

    Spans are laid out on a grid so every row keeps its columns: a ``rowspan`` cell (a group
    label such as "COMMON" over several settings) is repeated in the rows it covers, a
    ``colspan`` cell is followed by empty cells. Without that, the rows under a rowspan lose
    their first column and their names and values shift under the wrong headers."""
    import html as _html

    rows = []
    carry: dict[int, tuple[str, int]] = {}  # column -> (text, rows still covered)
    for row in _HTML_ROW.findall(html):
        out: list[str] = []
        col = 0
        for m in _HTML_CELL.finditer(row):
            col = _fill_carried(carry, col, out)
            text = " ".join(_html.unescape(_TAG_RE.sub(" ", m.group(2))).split())
            spans = {k.lower(): min(int(v), 50) for k, v in _SPAN.findall(m.group(1))}
            width = max(1, spans.get("col", 1))
            for k in range(width):
                out.append(text if k == 0 else "")
                if spans.get("row", 1) > 1:
                    carry[col] = (text if k == 0 else "", spans["row"] - 1)
                col += 1
        _fill_carried(carry, col, out)
        if any(out):
            rows.append(" | ".join(out))
    return "\n".join(rows)


def _is_table_line(line: str) -> bool:
    s = line.strip()
    return s.startswith("|") and s.count("|") >= 2


def _table_rows(lines: list[str]) -> str:
    rows = []
    for ln in lines:
        s = ln.strip().strip("|")
        cells = [c.strip() for c in s.split("|")]
        if all(re.fullmatch(r":?-{2,}:?", c) or not c for c in cells):
            continue  # the header separator row
        rows.append(" | ".join(cells))
    return "\n".join(rows)


def parse_markdown(text: str) -> tuple[list[Element], str]:
    """Elements in document order and the document title ("" if none)."""
    lines = text.splitlines()
    raw: list[Element] = []  # headings carry the '#' count in `level` for now
    page: int | None = None
    para: list[str] = []

    def flush() -> None:
        if para:
            body = "\n".join(para).strip()
            if body:
                cap = _CAPTION.match(body)
                if cap:
                    raw.append(
                        Element(
                            "caption",
                            body.replace("*", ""),
                            page=page,
                            label=" ".join(cap.group("label").split()),
                        )
                    )
                else:
                    raw.append(Element("para", body, page=page))
            para.clear()

    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        pm = _PAGE_MARK.match(line.strip())
        if pm:
            flush()
            page = int(pm.group(1)) + 1  # marker numbers pages from 0
            i += 1
            continue
        fm = _FENCE.match(line)
        if fm:
            flush()
            fence, lang = fm.group(1), fm.group(2).lower()
            j = i + 1
            while j < n and not lines[j].strip().startswith(fence[:3]):
                j += 1
            body = "\n".join(lines[i + 1 : j])
            if lang == "math":
                raw.append(Element("equation", body.strip(), page=page))
            elif lang in _ALGO_LANG or (not lang and _ALGO_TITLE.match(body.lstrip())):
                # An untagged fence that opens with "Algorithm 1: ..." is pseudocode,
                # the way papers written in Markdown usually set it.
                title = _ALGO_TITLE.match(body.lstrip())
                raw.append(Element("algorithm", body, page=page, label=title.group(1) if title else ""))
            else:
                raw.append(Element("code", body, page=page, label=lang))
            i = j + 1
            continue
        stripped = line.strip()
        if stripped.startswith(("$$", "\\[")):
            flush()
            close = "$$" if stripped.startswith("$$") else "\\]"
            body_lines = [stripped[2:]]
            j = i
            if not (len(stripped) > 2 and stripped.endswith(close)):
                j = i + 1
                while j < n and close not in lines[j]:
                    body_lines.append(lines[j])
                    j += 1
                if j < n:
                    body_lines.append(lines[j].split(close)[0])
            else:
                body_lines = [stripped[2:-2]]
            body = "\n".join(body_lines).strip()
            tag = _TAG.search(body)
            raw.append(
                Element(
                    "equation",
                    _TAG.sub("", body).strip(),
                    page=page,
                    label=f"({tag.group(1)})" if tag else "",
                )
            )
            i = j + 1
            continue
        am = _ATX.match(line)
        if am:
            flush()
            raw.append(Element("heading", am.group(2).strip(), page=page, level=len(am.group(1))))
            i += 1
            continue
        if (
            stripped
            and i + 1 < n
            and _SETEXT.match(lines[i + 1])
            and not para
            and not stripped.startswith(("-", "*", "|", ">"))
        ):
            flush()
            raw.append(
                Element("heading", stripped, page=page, level=1 if lines[i + 1].strip()[0] == "=" else 2)
            )
            i += 2
            continue
        if stripped.lower().startswith("<table"):
            flush()
            j = i
            buf = [line]
            while "</table>" not in buf[-1].lower() and j + 1 < n and j - i < 2000:
                j += 1
                buf.append(lines[j])
            rows = _html_table_rows("\n".join(buf))
            if rows:
                raw.append(Element("table", rows, page=page))
            i = j + 1
            continue
        if _is_table_line(line):
            flush()
            j = i
            while j < n and _is_table_line(lines[j]):
                j += 1
            raw.append(Element("table", _table_rows(lines[i:j]), page=page))
            i = j
            continue
        im = _IMAGE.match(stripped)
        if im:
            flush()
            alt = im.group("alt").strip()
            if alt:
                cap = _CAPTION.match(alt)
                raw.append(
                    Element(
                        "caption",
                        alt,
                        page=page,
                        label=" ".join(cap.group("label").split()) if cap else "Figure",
                    )
                )
            i += 1
            continue
        if not stripped:
            flush()
        else:
            if para and _CAPTION.match(stripped) and not _OPEN_END.search(para[-1]):
                flush()  # "Figure 23. ..." on the line under another caption: a caption of its own
            para.append(line)
        i += 1
    flush()
    return _levels(_attach_captions(raw))


def _attach_captions(elems: list[Element]) -> list[Element]:
    out: list[Element] = []
    for k, e in enumerate(elems):
        if e.kind == "caption" and e.label.lower().startswith("tab"):
            for t in (k + 1, k - 1):
                if 0 <= t < len(elems) and elems[t].kind == "table" and not elems[t].caption:
                    elems[t].caption, elems[t].label = e.text, e.label
                    break
            else:
                out.append(e)
            continue
        out.append(e)
    return out


def _levels(raw: list[Element]) -> tuple[list[Element], str]:
    """Assign numbers and levels to headings; pick out the document title."""
    heads = [e for e in raw if e.kind == "heading"]
    title = ""
    numbered_seen = False
    parsed: list[tuple[Element, str, str]] = []
    for h in heads:
        num, t = split_number(h.text, bare_letter=numbered_seen)
        if num and num[0].isdigit():
            numbered_seen = True
        parsed.append((h, num, t))
    hashes_numbered_top = [h.level for h, num, _ in parsed if num and number_depth(num) == 1]
    base = min(hashes_numbered_top) if hashes_numbered_top else min((h.level for h in heads), default=1)
    # The first top-level heading before any content or numbered section is the title.
    if parsed:
        h0, num0, t0 = parsed[0]
        first_idx = raw.index(h0)
        nothing_before = all(e.kind != "heading" for e in raw[:first_idx])
        others = parsed[1:]
        top = all(h.level >= h0.level for h, _, _ in others)
        unique_top = top and all(h.level > h0.level for h, _, _ in others)
        precedes_numbered = top and any(num for _, num, _ in others)
        if (
            not num0
            and nothing_before
            and not _KNOWN.match(t0)
            and others
            and (unique_top or precedes_numbered)
        ):
            title = t0
            raw.remove(h0)
            parsed = others
    for h, num, t in parsed:
        h.text = t
        h.number = num
        h.level = number_depth(num) if num else max(1, h.level - base + 1)
    return raw, title
