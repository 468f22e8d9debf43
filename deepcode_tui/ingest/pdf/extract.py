"""Text spans with geometry and font facts, read straight from pdfium.

pdftext (marker's text layer) asks pdfium for every fact of every character
and reaches ~25 pages/s on dense two-column papers; this module asks per
*text object run* instead (pdfium already groups a PDF text-showing operator's
characters into one object with one font), which is ~6x faster and loses
nothing the heading and layout analysis needs.
"""

from __future__ import annotations

import ctypes
import functools
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from deepcode_tui.errors import InputError

_V = ctypes.c_void_p
_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
        "\u00a0": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u2009": " ",
        "\u200b": "",
        "\ufeff": "",
    }
)
_BLANK_CODES = frozenset((0, 1, 9, 10, 13, 32, 0xA0, 0x2002, 0x2003, 0x2009, 0x200B, 0xFEFF))
SOFT_HYPHEN = "\x02"  # pdfium's mark for a hyphen it believes ends a line

_BOLD_NAME = re.compile(
    r"bold|black|heavy|semibold|demi|medi(?:um)?\b|-medi|cmbx|cmb\d|bx\d|sfbx|\bbd\b|-b$|,b$|-sb$",
    re.IGNORECASE,
)
_ITALIC_NAME = re.compile(r"italic|oblique|ital\b|-it$|cmti|cmsl|sfti|-ital", re.IGNORECASE)
_MONO_NAME = re.compile(
    r"mono|courier|cmtt|typewriter|consol|sftt|lmmono|inconsolata|t1xtt|txtt|menlo|\btt\d", re.IGNORECASE
)
_MATH_NAME = re.compile(
    r"cmmi|cmsy|cmex|cmbsy|msbm|msam|math|stix|symbol|mt2mi|mt2sy|mt2ex|mt2ms|mtmi|mtsy|mtex|rsfs|eufm|eusm|esint|"
    r"wasy|txsy|pxsy|txmi|pxmi|txex|pxex|lmmi|lmsy|lmex|cmr\d+.*math|euex|bbold|dsrom|mathptmx",
    re.IGNORECASE,
)


@dataclass(slots=True)
class Span:
    """A run of characters from one PDF text object, in top-left page coordinates."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    base: float  # baseline y
    size: float  # effective font size in points
    font: str
    bold: bool
    italic: bool
    mono: bool
    math: bool
    space_before: bool  # pdfium saw a (possibly generated) space right before this run


Box = tuple[float, float, float, float]  # x0, top, x1, bottom in top-left page coordinates


@dataclass(slots=True)
class PageText:
    number: int  # 1-based
    width: float
    height: float
    spans: list[Span]
    rotated_chars: int = 0
    figures: list[Box] = field(default_factory=list)  # images, embedded forms, clusters of drawn paths
    rules: list[Box] = field(default_factory=list)  # thin horizontal lines (table rules, fraction bars)


@dataclass(slots=True)
class OutlineEntry:
    level: int  # 0 = top
    title: str
    page: int | None  # 1-based
    y: float | None  # top-left coordinates of the destination, when the outline gives one


@dataclass
class PdfText:
    pages: list[PageText]
    outline: list[OutlineEntry] = field(default_factory=list)
    title: str = ""
    page_count: int = 0


class ExtractTimeout(Exception):
    """Raised between pages when the deadline passed; carries how far it got."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__(f"{done}/{total} pages")
        self.done, self.total = done, total


@functools.cache
def _fns():
    """Re-declare the hot pdfium calls with plain void* handles (no per-call pointer wrapping)."""
    import pypdfium2.raw as r

    def bind(fn, restype, *args):
        return ctypes.CFUNCTYPE(restype, *args)(ctypes.cast(fn, _V).value)

    return {
        "count": bind(r.FPDFText_CountChars, ctypes.c_int, _V),
        "uni": bind(r.FPDFText_GetUnicode, ctypes.c_uint, _V, ctypes.c_int),
        "obj": bind(r.FPDFText_GetTextObject, _V, _V, ctypes.c_int),
        "text": bind(r.FPDFText_GetText, ctypes.c_int, _V, ctypes.c_int, ctypes.c_int, ctypes.c_char_p),
        "loose": bind(r.FPDFText_GetLooseCharBox, ctypes.c_int, _V, ctypes.c_int, ctypes.POINTER(r.FS_RECTF)),
        "origin": bind(
            r.FPDFText_GetCharOrigin,
            ctypes.c_int,
            _V,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_double),
            ctypes.POINTER(ctypes.c_double),
        ),
        "size": bind(r.FPDFText_GetFontSize, ctypes.c_double, _V, ctypes.c_int),
        "angle": bind(r.FPDFText_GetCharAngle, ctypes.c_float, _V, ctypes.c_int),
        "font": bind(r.FPDFTextObj_GetFont, _V, _V),
        "matrix": bind(r.FPDFPageObj_GetMatrix, ctypes.c_int, _V, ctypes.POINTER(r.FS_MATRIX)),
        "fname": bind(r.FPDFFont_GetBaseFontName, ctypes.c_ulong, _V, ctypes.c_char_p, ctypes.c_ulong),
        "fweight": bind(r.FPDFFont_GetWeight, ctypes.c_int, _V),
        "fflags": bind(r.FPDFFont_GetFlags, ctypes.c_int, _V),
        "nobj": bind(r.FPDFPage_CountObjects, ctypes.c_int, _V),
        "getobj": bind(r.FPDFPage_GetObject, _V, _V, ctypes.c_int),
        "otype": bind(r.FPDFPageObj_GetType, ctypes.c_int, _V),
        "bounds": bind(
            r.FPDFPageObj_GetBounds,
            ctypes.c_int,
            _V,
            ctypes.POINTER(ctypes.c_float),
            ctypes.POINTER(ctypes.c_float),
            ctypes.POINTER(ctypes.c_float),
            ctypes.POINTER(ctypes.c_float),
        ),
        "clip": bind(r.FPDFPageObj_GetClipPath, _V, _V),
        "clip_n": bind(r.FPDFClipPath_CountPaths, ctypes.c_int, _V),
        "clip_segs": bind(r.FPDFClipPath_CountPathSegments, ctypes.c_int, _V, ctypes.c_int),
        "clip_seg": bind(r.FPDFClipPath_GetPathSegment, _V, _V, ctypes.c_int, ctypes.c_int),
        "seg_point": bind(
            r.FPDFPathSegment_GetPoint,
            ctypes.c_int,
            _V,
            ctypes.POINTER(ctypes.c_float),
            ctypes.POINTER(ctypes.c_float),
        ),
        "form_n": bind(r.FPDFFormObj_CountObjects, ctypes.c_int, _V),
        "form_obj": bind(r.FPDFFormObj_GetObject, _V, _V, ctypes.c_ulong),
        "RECT": r.FS_RECTF,
        "MATRIX": r.FS_MATRIX,
    }


@dataclass(slots=True)
class _Font:
    name: str
    bold: bool
    italic: bool
    mono: bool
    math: bool


def _font_info(f, font_ptr: int, cache: dict[int, _Font]) -> _Font:
    info = cache.get(font_ptr)
    if info is not None:
        return info
    name = ""
    if font_ptr:
        n = f["fname"](font_ptr, None, 0)
        if 0 < n < 512:
            buf = ctypes.create_string_buffer(n)
            f["fname"](font_ptr, buf, n)
            name = buf.value.decode("latin-1", "replace")
    name = name.split("+", 1)[-1]
    weight = f["fweight"](font_ptr) if font_ptr else -1
    flags = f["fflags"](font_ptr) if font_ptr else 0
    flags = max(0, flags)
    info = _Font(
        name=name,
        bold=weight >= 550 or bool(flags & (1 << 18)) or bool(_BOLD_NAME.search(name)),
        italic=bool(flags & 64) or bool(_ITALIC_NAME.search(name)),
        mono=bool(flags & 1) or bool(_MONO_NAME.search(name)),
        math=bool(_MATH_NAME.search(name)),
    )
    cache[font_ptr] = info
    return info


# Control codes pdfium uses: 2 and U+FFFE mark a line-end hyphen; 0/1 are unmapped glyphs.
_CODE_FIX = {0: None, 1: None, 2: SOFT_HYPHEN, 0xFFFE: SOFT_HYPHEN, 0xFFFF: None}
_CODE_FIX.update({c: None for c in range(3, 32) if c != 9})
_SURROGATE = re.compile("[\ud800-\udfff]")


def _page_spans(page, f, font_cache: dict[int, _Font]) -> tuple[list[Span], int]:
    _width, height = page.get_size()
    tp = page.get_textpage()
    try:
        raw = ctypes.cast(tp.raw, _V).value
        n = f["count"](raw)
        if n <= 0:
            return [], 0
        uni, objf = f["uni"], f["obj"]
        # One call for the page's text instead of one per character; pdfium writes one UTF-16 unit
        # per character index, so the string lines up with the indices (checked, else per char).
        buf = ctypes.create_string_buffer(2 * (n + 1))
        got = f["text"](raw, 0, n, buf)
        page_str = buf.raw[: 2 * n].decode("utf-16-le", "surrogatepass") if got == n + 1 else ""
        if len(page_str) == n:
            codes = [ord(ch) for ch in page_str]
        else:
            codes = [uni(raw, k) for k in range(n)]
            page_str = "".join(map(chr, codes))
        objs = [objf(raw, k) for k in range(n)]
        if _SURROGATE.search(page_str):
            page_str = _SURROGATE.sub("\ufffd", page_str)
        # Runs of characters from one text object; characters pdfium generated (no object: a space
        # or line break between objects) end a run and mark the next as preceded by a space.
        runs: list[tuple[int, int, int, bool]] = []
        cuts = [k for k in range(1, n) if objs[k] != objs[k - 1]]
        pending = False
        for s0, e0 in zip([0, *cuts], [*cuts, n]):
            o = objs[s0]
            if not o:
                pending = True
                continue
            runs.append((s0, e0, o, pending))
            pending = False

        rect0, rect1 = f["RECT"](), f["RECT"]()
        ox, oy = ctypes.c_double(), ctypes.c_double()
        mat = f["MATRIX"]()
        loose, origin, sizef, anglef = f["loose"], f["origin"], f["size"], f["angle"]
        obj_cache: dict[int, tuple[_Font, float]] = {}
        spans: list[Span] = []
        rotated = 0
        carry_space = False
        for s, e, o, sb in runs:
            text = page_str[s:e].translate(_CODE_FIX).translate(_LIGATURES)
            stripped = text.strip()
            if not stripped:
                carry_space = True
                continue
            i0, i1 = s, e - 1
            while i0 < i1 and codes[i0] in _BLANK_CODES:
                i0 += 1
            while i1 > i0 and codes[i1] in _BLANK_CODES:
                i1 -= 1
            ang = anglef(raw, i0)
            if ang > 0.05 and abs(ang - 2 * math.pi) > 0.05:
                rotated += e - s
                continue
            loose(raw, i0, rect0)
            loose(raw, i1, rect1)
            origin(raw, i0, ox, oy)
            cached = obj_cache.get(o)
            if cached is None:
                fi = _font_info(f, f["font"](o) or 0, font_cache)
                scale = 1.0
                if f["matrix"](o, mat):
                    det = abs(mat.a * mat.d - mat.b * mat.c)
                    if det > 0:
                        scale = math.sqrt(det)
                    if not 0.05 < scale < 50:
                        scale = 1.0
                cached = (fi, scale)
                obj_cache[o] = cached
            fi, scale = cached
            size = sizef(raw, i0) * scale
            lh = rect0.top - rect0.bottom
            if lh > 0 and (size <= 0 or not 0.5 < lh / size < 2.2):
                size = lh / 1.2  # the loose box is ~1.2 em tall; trust it over an odd matrix
            top = height - max(rect0.top, rect1.top)
            bottom = height - min(rect0.bottom, rect1.bottom)
            spans.append(
                Span(
                    text=stripped if not text[-1:].isspace() else stripped + " ",
                    x0=min(rect0.left, rect1.left),
                    x1=max(rect0.right, rect1.right),
                    top=top,
                    bottom=bottom,
                    base=height - oy.value,
                    size=round(size, 2),
                    font=fi.name,
                    bold=fi.bold,
                    italic=fi.italic,
                    mono=fi.mono,
                    math=fi.math,
                    space_before=sb or carry_space or text[:1].isspace(),
                )
            )
            carry_space = False
        return spans, rotated
    finally:
        tp.close()


_OBJ_PATH, _OBJ_IMAGE, _OBJ_FORM = 2, 3, 5
MAX_GRAPHIC_OBJECTS = 20000  # a page drawn as 100k tiny paths is read as one figure, not walked further
FIGURE_MIN = 24.0  # points: smaller graphics are icons, bullets, radicals
PATHS_PER_FIGURE = 10  # drawn figures (plots, diagrams) are made of many paths; a framed box of a few


def _merge_boxes(boxes: list[list[float]], pad: float) -> list[list[float]]:
    """Union of boxes that touch (within pad), as [x0, top, x1, bottom, count]."""
    boxes = sorted(boxes, key=lambda b: b[1])
    out: list[list[float]] = []
    for b in boxes:
        for c in out:
            if b[0] <= c[2] + pad and b[2] >= c[0] - pad and b[1] <= c[3] + pad and b[3] >= c[1] - pad:
                c[0], c[1], c[2], c[3] = min(c[0], b[0]), min(c[1], b[1]), max(c[2], b[2]), max(c[3], b[3])
                c[4] += b[4]
                break
        else:
            out.append(list(b))
    changed = True
    while changed and len(out) > 1:  # growing boxes may now touch each other
        changed = False
        merged: list[list[float]] = []
        for b in out:
            for c in merged:
                if b[0] <= c[2] + pad and b[2] >= c[0] - pad and b[1] <= c[3] + pad and b[3] >= c[1] - pad:
                    c[0], c[1], c[2], c[3] = (
                        min(c[0], b[0]),
                        min(c[1], b[1]),
                        max(c[2], b[2]),
                        max(c[3], b[3]),
                    )
                    c[4] += b[4]
                    changed = True
                    break
            else:
                merged.append(b)
        out = merged
    return out


MAX_CLIP_SEGMENTS = 64  # a clip path is a rectangle or a few curves; a huge one is not worth reading
MAX_FORM_DEPTH = 4
MAX_FORM_CHILDREN = 8  # a form of more objects than this is drawn content, not a wrapper
# Objects a page's clip walk may look at in all: forms nested as deep and as wide as the two
# bounds above allow, on every one of a page's objects, would be 8**4 calls each.
MAX_CLIP_WALK = 2000


def _clip_box(o, f, box: list[float]) -> list[float]:
    """``box`` (left, bottom, right, top, in the space of ``o``'s bounds) cut to ``o``'s clip path."""
    clip = f["clip"](o)
    if not clip:
        return box
    x, y = ctypes.c_float(), ctypes.c_float()
    px, py = ctypes.byref(x), ctypes.byref(y)
    for i in range(min(f["clip_n"](clip), 8)):
        n = f["clip_segs"](clip, i)
        if n <= 0 or n > MAX_CLIP_SEGMENTS:
            continue
        xs, ys = [], []
        for j in range(n):
            seg = f["clip_seg"](clip, i, j)
            if seg and f["seg_point"](seg, px, py):
                xs.append(x.value)
                ys.append(y.value)
        if xs:  # each path of a clip cuts further: the visible part is inside all of them
            box = [max(box[0], min(xs)), max(box[1], min(ys)), min(box[2], max(xs)), min(box[3], max(ys))]
    return box


def _visible_bounds(o, f, box: list[float], budget: list[int], depth: int = 0) -> list[float]:
    """The part of a form or image object that is drawn: its bounds cut to its clip path and,
    for a form that only wraps a few others (``\\includegraphics[clip]`` nests the figure's
    form in a clipped one), to what its children show. pdfium's bounds ignore clipping, so a
    trimmed figure's box reached over the heading or text above it (its labels clipped away)."""
    if budget[0] <= 0:  # budget: [objects the page's walk may still look at], shared by its calls
        return box
    budget[0] -= 1
    box = _clip_box(o, f, box)
    if depth >= MAX_FORM_DEPTH or f["otype"](o) != _OBJ_FORM:
        return box
    n = f["form_n"](o)
    if not 0 < n <= MAX_FORM_CHILDREN:
        return box
    m = f["MATRIX"]()
    if not f["matrix"](o, ctypes.byref(m)):
        return box
    L, B, R, T = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
    union: list[float] | None = None
    for k in range(n):
        ch = f["form_obj"](o, k)
        if not ch or not f["bounds"](ch, ctypes.byref(L), ctypes.byref(B), ctypes.byref(R), ctypes.byref(T)):
            continue
        c = _visible_bounds(ch, f, [L.value, B.value, R.value, T.value], budget, depth + 1)
        if c[2] <= c[0] or c[3] <= c[1]:
            continue  # clipped away entirely
        # the child's box is in this form's space: map its corners to the parent's
        xs = [m.a * px + m.c * py + m.e for px in (c[0], c[2]) for py in (c[1], c[3])]
        ys = [m.b * px + m.d * py + m.f for px in (c[0], c[2]) for py in (c[1], c[3])]
        b = [min(xs), min(ys), max(xs), max(ys)]
        union = (
            b
            if union is None
            else [min(union[0], b[0]), min(union[1], b[1]), max(union[2], b[2]), max(union[3], b[3])]
        )
    if union is None:
        return box
    return [max(box[0], union[0]), max(box[1], union[1]), min(box[2], union[2]), min(box[3], union[3])]


def _page_graphics(page, f, width: float, height: float) -> tuple[list[Box], list[Box]]:
    """Figure boxes (images, forms, clusters of paths) and thin horizontal rules of a page.

    The text layer alone cannot tell a plot's tick labels from a table or a paragraph; the
    drawing it sits on can. Rules are the evidence for tables (booktabs lines)."""
    raw = ctypes.cast(page.raw, _V).value
    n = f["nobj"](raw)
    if n <= 0:
        return [], []
    L, B, R, T = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
    pl, pb, pr, pt = ctypes.byref(L), ctypes.byref(B), ctypes.byref(R), ctypes.byref(T)
    getobj, otype, bounds = f["getobj"], f["otype"], f["bounds"]
    area = width * height
    figures: list[list[float]] = []
    paths: list[list[float]] = []
    rules: list[Box] = []
    clip_budget = [MAX_CLIP_WALK]  # shared by all the page's objects
    for k in range(min(n, MAX_GRAPHIC_OBJECTS)):
        o = getobj(raw, k)
        ty = otype(o)
        if ty not in (_OBJ_PATH, _OBJ_IMAGE, _OBJ_FORM) or not bounds(o, pl, pb, pr, pt):
            continue
        left, low, right, high = L.value, B.value, R.value, T.value
        if ty != _OBJ_PATH:
            left, low, right, high = _visible_bounds(o, f, [left, low, right, high], clip_budget)
        x0, x1 = max(0.0, left), min(width, right)
        top, bottom = max(0.0, height - high), min(height, height - low)
        w, h = x1 - x0, bottom - top
        if w <= 0 and h <= 0:
            continue
        if ty == _OBJ_PATH:
            if h <= 1.6 and w >= 12:
                rules.append((x0, top, x1, bottom))
            elif w > 1.6 and h > 1.6 and w * h < 0.5 * area:
                paths.append([x0, top, x1, bottom, 1])
            continue
        if w >= FIGURE_MIN and h >= FIGURE_MIN and w * h < 0.6 * area:
            figures.append([x0, top, x1, bottom, PATHS_PER_FIGURE])
    if paths:
        for c in _merge_boxes(paths, 4.0):
            if c[4] >= PATHS_PER_FIGURE and c[2] - c[0] >= FIGURE_MIN and c[3] - c[1] >= FIGURE_MIN:
                figures.append(c)
    boxes = [(b[0], b[1], b[2], b[3]) for b in _merge_boxes(figures, 2.0)] if figures else []
    return boxes, rules


def _outline(pdf, heights: dict[int, float]) -> list[OutlineEntry]:
    out: list[OutlineEntry] = []
    try:
        for bm in pdf.get_toc(max_depth=8):
            if len(out) >= 2000:
                break
            title = " ".join((bm.get_title() or "").split())
            page = y = None
            dest = bm.get_dest()
            if dest is not None:
                idx = dest.get_index()
                if idx is not None and idx >= 0:
                    page = idx + 1
                    try:
                        _mode, view = dest.get_view()
                        if len(view) >= 2 and view[1] is not None and page in heights:
                            y = heights[page] - float(view[1])
                    except Exception:  # noqa: BLE001 - a malformed view array is not worth failing for
                        y = None
            if title:
                out.append(OutlineEntry(level=bm.level, title=title, page=page, y=y))
    except Exception:  # noqa: BLE001 - broken outlines are common; the text is what matters
        return out
    return out


def open_pdf(path: Path):
    """Open with pdfium, turning its failures into InputError with a remedy."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as r

    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as e:
        code = getattr(e, "err_code", None)
        if code == r.FPDF_ERR_PASSWORD:
            raise InputError(
                f"{path.name} is an encrypted PDF that needs a password",
                "decrypt it first (e.g. `qpdf --decrypt --password=PW in.pdf out.pdf`) and index the copy",
            ) from None
        if code == r.FPDF_ERR_SECURITY:
            raise InputError(
                f"{path.name} uses an unsupported PDF security handler", "re-save it without encryption"
            ) from None
        raise InputError(
            f"{path.name} is not a readable PDF ({e})",
            "check that the file is a complete, undamaged PDF (re-download or re-export it)",
        ) from None


def extract_pdf(path: Path, *, deadline: float | None = None, max_pages: int | None = None) -> PdfText:
    """Spans of every page, the outline and the metadata title.

    Raises InputError for unreadable or encrypted files and ExtractTimeout
    when `deadline` (a time.monotonic() value) passes between two pages.
    """
    f = _fns()
    pdf = open_pdf(path)
    try:
        total = len(pdf)
        count = total if max_pages is None else min(total, max_pages)
        pages: list[PageText] = []
        font_cache: dict[int, _Font] = {}
        for i in range(count):
            if deadline is not None and time.monotonic() > deadline:
                raise ExtractTimeout(i, total)
            page = pdf[i]
            try:
                w, h = page.get_size()
                spans, rotated = _page_spans(page, f, font_cache)
                figures, rules = _page_graphics(page, f, w, h) if spans else ([], [])
            finally:
                page.close()
            pages.append(
                PageText(
                    number=i + 1,
                    width=w,
                    height=h,
                    spans=spans,
                    rotated_chars=rotated,
                    figures=figures,
                    rules=rules,
                )
            )
        heights = {p.number: p.height for p in pages}
        outline = _outline(pdf, heights)
        title = ""
        try:
            title = " ".join((pdf.get_metadata_value("Title") or "").split())
        except Exception:  # noqa: BLE001 - metadata is optional
            title = ""
        return PdfText(pages=pages, outline=outline, title=title, page_count=total)
    finally:
        pdf.close()
