"""Detect a document's format from its bytes (the extension is only a hint) and decode text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from deepcode_tui.errors import InputError
from deepcode_tui.ingest.models import Format

MAX_TEXT_BYTES = 50_000_000
REQUIREMENT_MAX_WORDS = 1500

_MAGIC = [
    (b"PK\x03\x04", "a ZIP archive (a .docx/.pptx/.epub file?)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x7fELF", "an executable"),
    (b"%!PS", "a PostScript file"),
    (b"{\\rtf", "an RTF document"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ", "an xz archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7z archive"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x00\x00\x00", "a binary file"),
]
_LATEX = re.compile(
    r"\\documentclass|\\begin\{document\}|\\(?:sub)*section\*?\{|\\chapter\*?\{|\\input\{|\\maketitle"
)
_MD_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.MULTILINE)
_MD_OTHER = re.compile(r"^ {0,3}(?:```|~~~|\|.*\|\s*$|[-*] \[[ x]\])|\[[^\]]+\]\([^)]+\)", re.MULTILINE)
_PAPERISH = re.compile(
    r"^\s*(?:abstract|references|bibliography|1\.?\s+introduction)\s*$", re.IGNORECASE | re.MULTILINE
)


@dataclass
class Sniffed:
    format: Format
    text: str = ""  # decoded text for text formats
    notes: list[str] = field(default_factory=list)


def decode_text(data: bytes, name: str) -> tuple[str, list[str]]:
    """Text from bytes: UTF-8 (BOM or not), UTF-16 with BOM, else Windows-1252/Latin-1 plus a note."""
    notes: list[str] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), notes
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig"), notes
    except UnicodeDecodeError as e:
        bad_at = e.start
    for enc, label in (("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        notes.append(f"{name} is not valid UTF-8 (first bad byte at offset {bad_at}); decoded it as {label}")
        return text, notes
    raise InputError(
        f"{name} is not valid text", "save it as UTF-8"
    )  # pragma: no cover - latin-1 always decodes


def _binary_reason(head: bytes) -> str | None:
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    sample = head[:8192]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    if b"\x00" in sample:
        return "a binary file"
    ctrl = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if sample and ctrl > 0.05 * len(sample):
        return "a binary file"
    return None


def sniff(path: Path, data: bytes) -> Sniffed:
    """Format of `data` (read from `path`); raises InputError for empty or non-document files."""
    name = path.name
    if not data.strip():
        raise InputError(
            f"{name} is empty", "pass the paper (PDF, Markdown, LaTeX) or a requirement text file"
        )
    head = data[:1024]
    if b"%PDF-" in head:
        return Sniffed("pdf")
    why = _binary_reason(data[:8192])
    if why:
        hint = " although it is named .pdf" if path.suffix.lower() == ".pdf" else ""
        raise InputError(
            f"{name} is {why}{hint}, not a PDF, Markdown, LaTeX or text document",
            "pass the paper itself (PDF, .md, .tex or .txt)",
        )
    if len(data) > MAX_TEXT_BYTES:
        raise InputError(
            f"{name} is {len(data) // 1_000_000} MB of text, too large for a paper",
            "pass the paper only, not a corpus",
        )
    text, notes = decode_text(data, name)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        notes.append(f"{name} is named .pdf but contains text; parsed it as text")
    latex_hits = len(_LATEX.findall(text[:200_000]))
    if (
        suffix in (".tex", ".latex")
        or re.search(r"\\documentclass|\\begin\{document\}", text)
        or latex_hits >= 2
    ):
        return Sniffed("latex", text, notes)
    if (
        suffix in (".md", ".markdown", ".mdown", ".mkd")
        or _MD_HEADING.search(text)
        or len(_MD_OTHER.findall(text[:200_000])) >= 3
    ):
        return Sniffed("markdown", text, notes)
    words = len(text.split())
    if words <= REQUIREMENT_MAX_WORDS and not _PAPERISH.search(text):
        return Sniffed("requirement", text, notes)
    return Sniffed("text", text, notes)
