"""Content-addressed storage of model replies: (model, messages, params) -> reply.

litellm's own response cache does not work with custom providers, so the
gateway keeps its own: one JSON file per request hash, written atomically, so
a crash never leaves half a reply that a later run would trust.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from deepcode_tui.llm.types import ToolCall, Usage
from deepcode_tui.store.atomic import write_text_atomic

# Parameters that change how a request travels, not what it asks: never part of a key.
TRANSPORT_PARAMS = frozenset(
    {
        "stream",
        "stream_options",
        "timeout",
        "api_key",
        "api_base",
        "base_url",
        "num_retries",
        "max_retries",
        "metadata",
        "drop_params",
        "extra_headers",
        "headers",
        "_skip_mcp_handler",
    }
)


class StoredResponse(BaseModel):
    """A reply as kept in the cache and in cassettes."""

    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    finish_reason: str = "stop"
    usage: Usage = Field(default_factory=Usage)
    refusal: str = ""  # the provider's refusal message, when the model declined to answer


def canonical_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` without transport settings and without unset (None) values."""
    return {k: v for k, v in params.items() if k not in TRANSPORT_PARAMS and v is not None}


def request_key(model: str, messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any]) -> str:
    """The sha256 of a request's content: equal requests, equal keys, across processes."""
    payload = {"model": model, "messages": list(messages), "params": canonical_params(params)}
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def rejected_key(key: str) -> str:
    """Where a reply its caller refused is kept: apart from the replies that answer."""
    return f"{key}-rejected"


class ResponseCache:
    """Replies on disk under ``root/<2 hex>/<key>.json``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> StoredResponse | None:
        """The stored reply, or None (a damaged entry counts as a miss)."""
        try:
            return StoredResponse.model_validate_json(self._path(key).read_bytes())
        except (OSError, ValidationError, ValueError):
            return None

    def put(self, key: str, response: StoredResponse) -> None:
        try:
            write_text_atomic(self._path(key), response.model_dump_json())
        except OSError:
            # A cache that cannot be written costs money later, not correctness now.
            pass

    def drop(self, key: str) -> None:
        """Forget ``key``'s reply (its caller rejected it: it must not answer again)."""
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError:
            pass
