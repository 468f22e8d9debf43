"""Token counting shared by every budget in the project.

Uses tiktoken's ``cl100k_base`` from the copy litellm ships inside its wheel,
so counting never touches the network; falls back to a length heuristic when
that copy is missing. Counts are for budgeting, not billing (billing uses the
provider's reported usage).
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path


@functools.cache
def _encoder():
    spec = importlib.util.find_spec("litellm")
    if spec and spec.submodule_search_locations:
        cache = Path(next(iter(spec.submodule_search_locations))) / "litellm_core_utils" / "tokenizers"
        if cache.is_dir():
            # tiktoken looks up its BPE file by URL hash in this directory before downloading.
            os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache))
    try:
        import tiktoken

        return tiktoken.get_encoding("cl100k_base")
    except Exception:  # no tiktoken or no cached encoding: heuristic below
        return None


def count_tokens(text: str) -> int:
    """Number of tokens in ``text`` (cl100k_base, or ~4 characters a token)."""
    if not text:
        return 0
    enc = _encoder()
    if enc is None:
        return max(1, (len(text) + 3) // 4)
    return len(enc.encode(text, disallowed_special=()))


def truncate_to_tokens(text: str, budget: int) -> str:
    """The longest prefix of ``text`` that fits in ``budget`` tokens."""
    if budget <= 0:
        return ""
    enc = _encoder()
    if enc is None:
        return text[: budget * 4]
    ids = enc.encode(text, disallowed_special=())
    return text if len(ids) <= budget else enc.decode(ids[:budget])
