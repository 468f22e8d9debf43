"""Secrets: which names hold them, and scrubbing their values out of text.

A secret is the value of a host environment variable (or a setting) whose
name has a word like KEY, TOKEN, SECRET or PASSWORD in it, matched as a
whole word (``OPENAI_API_KEY`` is one; ``context_budget_tokens`` and
``ui.keys`` are not). :func:`scrub_secrets` replaces every such value, and
anything shaped like a provider key or a bearer token, with ``[redacted]``.
It is applied where text from outside our control is kept: sandbox output
(before it becomes a trace, a finding or a prompt) and every event written
to a run's log.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

SECRET_WORDS = frozenset({"key", "apikey", "token", "secret", "password", "passwd", "credential",
                          "credentials", "pat", "auth"})
REDACTED = "[redacted]"
_MIN_SECRET_LEN = 6
_SHAPES = re.compile(r"(sk-[A-Za-z0-9_\-]{8,}|sk-ant-[A-Za-z0-9_\-]{8,}|Bearer\s+[A-Za-z0-9._\-]{8,})")
_extra: set[str] = set()


def is_secret_name(name: str) -> bool:
    """Whether a variable or setting named ``name`` holds a secret (whole-word match;
    for a dotted setting only its last part counts)."""
    leaf = name.rsplit(".", 1)[-1]
    words = {w.lower() for w in re.split(r"[_\-\s]+|(?<=[a-z])(?=[A-Z])", leaf) if w}
    return bool(words & SECRET_WORDS)


def register_secret(value: str | None) -> None:
    """Also scrub ``value`` (e.g. ``models.api_key`` from a config file)."""
    if value and len(value) >= _MIN_SECRET_LEN:
        _extra.add(value)


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """The values to scrub now: secret-named environment variables and registered values,
    longest first so a value containing another is replaced whole."""
    env = os.environ if environ is None else environ
    vals = {v for k, v in env.items() if is_secret_name(k) and len(v) >= _MIN_SECRET_LEN}
    vals |= _extra
    return sorted(vals, key=len, reverse=True)


def scrub_secrets(text: str, values: Iterable[str] | None = None) -> str:
    """``text`` with every secret value and key-shaped string replaced by ``[redacted]``."""
    if not text:
        return text
    for v in secret_values() if values is None else values:
        if v in text:
            text = text.replace(v, REDACTED)
    return _SHAPES.sub(REDACTED, text)


def clean_environment(keep: Iterable[str] = ("PATH",)) -> dict[str, str]:
    """A minimal environment for launching sandbox tools: only ``keep``, never a secret."""
    return {k: os.environ[k] for k in keep if k in os.environ and not is_secret_name(k)}
