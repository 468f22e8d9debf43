"""Section numbers in heading text ("3.2 Attention", "A.1. Details", "Appendix B: Proofs")."""

from __future__ import annotations

import re

_HEAD_NUM = re.compile(
    r"^(?:(?:appendix|section|chapter)\s+)?"
    r"(?P<num>\d{1,2}(?:\.\d{1,2}){0,4}|[A-Z](?:\.\d{1,2}){1,4}|[A-Z](?=[.:]\s)|[A-Z](?=\s{1,3}[A-Z][a-z]))"
    r"\.?:?\s+(?P<title>\S.*)$",
    re.IGNORECASE,
)
_APPENDIX_LETTER = re.compile(r"^appendix\s+(?P<num>[A-Z])\b\.?:?\s*(?P<title>.*)$", re.IGNORECASE)


def split_number(text: str, *, bare_letter: bool = True) -> tuple[str, str]:
    """(number, title) of a heading; number is "" when the heading is unnumbered.

    ``bare_letter=False`` refuses "A Title" (no dot after the letter), which is
    more often an article than appendix A; callers allow it after numbered sections.
    """
    text = " ".join(text.split())
    m = _APPENDIX_LETTER.match(text)
    if m:
        return m.group("num").upper(), (m.group("title").strip(" .:") or text)
    m = _HEAD_NUM.match(text)
    if not m:
        return "", text
    num = m.group("num")
    if num[0].isalpha() and not num[0].isupper():
        return "", text
    rest = text[m.start("num") + len(num) :]
    if len(num) == 1 and num.isalpha() and not bare_letter and not rest.startswith((".", ":")):
        return "", text
    title = m.group("title").strip()
    if not any(c.isalpha() for c in title):
        return "", text
    return num.rstrip("."), title


def number_depth(number: str) -> int:
    """1 for "3" or "A", 2 for "3.1" or "A.1", ..."""
    return number.count(".") + 1 if number else 1
