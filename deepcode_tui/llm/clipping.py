"""Shortening a long text by leaving out its middle: the head and tail carry what matters.

A prompt's instructions sit at its ends (the role first, the output format and the
ask last) and so does what a model needs to see of its own rejected reply (how it
began, how it ended). The context-length refit (:mod:`.compact`) and the retry after
a rejected reply (:mod:`.correction`) both cut this way, each with its own mark.
"""

from __future__ import annotations


def keep_ends(text: str, head: int, tail: int, mark: str) -> str:
    """``text``'s first ``head`` and last ``tail`` characters with ``mark`` between them,
    or ``text`` itself when those would cover it all."""
    if head + tail >= len(text):
        return text
    return text[:head] + mark + text[len(text) - tail :]
