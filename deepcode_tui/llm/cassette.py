"""Cassettes: a run's model calls on disk, for offline deterministic replay.

    <dir>/index.json          format, role -> model, model capabilities, call list
    <dir>/calls/<key>.json    request (messages, params) and the replies, in order

A call is found by its request hash; the same request made twice in a run is
served its replies in the order they were recorded. Nothing secret is stored:
params are canonical (no keys, headers or endpoints).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from deepcode_tui.errors import ConfigError
from deepcode_tui.llm.cache import StoredResponse, canonical_params
from deepcode_tui.store.atomic import write_json_atomic

FORMAT = 1


class ModelProfile(BaseModel):
    """How the gateway talks to one model; recorded so a replay builds identical requests.

    ``structured``: "native" (response_format json_schema), "grammar" (llama.cpp
    schema-constrained decoding) or "prompt" (JSON-in-prompt). ``tools``:
    "native", "protocol" (JSON actions in the prompt) or "grammar" (protocol
    enforced by constrained decoding). ``default_params`` go into every request.
    ``context_window``: tokens the model reads and writes per call, when known.
    ``concurrent_calls``: how many calls it serves at once, when limited (a local
    single-slot server serves one; callers then run their agents one by one, which
    also lets the server reuse the previous call's prompt prefix).
    """

    structured: Literal["native", "grammar", "prompt"] = "prompt"
    tools: Literal["native", "protocol", "grammar"] = "protocol"
    default_params: dict[str, Any] = Field(default_factory=dict)
    context_window: int | None = None
    concurrent_calls: int | None = None

    @property
    def max_output_tokens(self) -> int | None:
        """The cap every reply gets by default (``max_tokens``), if any."""
        value = self.default_params.get("max_tokens")
        return int(value) if isinstance(value, int) else None


class CassetteCall(BaseModel):
    key: str
    name: str = ""
    role: str = ""
    model: str = ""
    messages: list[dict[str, Any]] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    responses: list[StoredResponse] = Field(default_factory=list)


class CassetteIndexEntry(BaseModel):
    key: str
    name: str = ""
    role: str = ""
    model: str = ""


class CassetteIndex(BaseModel):
    format: int = FORMAT
    roles: dict[str, str] = Field(default_factory=dict)
    profiles: dict[str, ModelProfile] = Field(default_factory=dict)
    calls: list[CassetteIndexEntry] = Field(default_factory=list)


def _load_index(root: Path) -> CassetteIndex:
    path = root / "index.json"
    try:
        index = CassetteIndex.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(
            f"{root} holds no cassette (no index.json)", "record one first with --record DIR"
        ) from None
    except (OSError, ValidationError, ValueError):
        raise ConfigError(f"the cassette index {path} is damaged", "record the cassette again") from None
    if index.format > FORMAT:
        raise ConfigError(
            f"the cassette in {root} has format {index.format}, newer than this version understands",
            "upgrade deepcode-tui or record the cassette again",
        )
    return index


class CassetteWriter:
    """Adds calls to a cassette (creating it, or extending one already there)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser()
        try:
            (self.root / "calls").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the cassette directory {self.root}: {exc.strerror}",
                "choose a writable directory for --record",
            ) from None
        self.index = _load_index(self.root) if (self.root / "index.json").exists() else CassetteIndex()
        self._lock = threading.Lock()

    def set_role(self, role: str, model: str, profile: ModelProfile) -> None:
        with self._lock:
            if self.index.roles.get(role) == model and self.index.profiles.get(model) == profile:
                return
            self.index.roles[role] = model
            self.index.profiles[model] = profile
            write_json_atomic(self.root / "index.json", self.index)

    def add(
        self,
        key: str,
        *,
        name: str,
        role: str,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        params: Mapping[str, Any],
        response: StoredResponse,
    ) -> None:
        path = self.root / "calls" / f"{key}.json"
        with self._lock:
            try:
                call = CassetteCall.model_validate_json(path.read_bytes())
            except (OSError, ValidationError, ValueError):
                call = CassetteCall(
                    key=key,
                    name=name,
                    role=role,
                    model=model,
                    messages=[dict(m) for m in messages],
                    params=json.loads(json.dumps(canonical_params(params), default=str)),
                )
            call.responses.append(response)
            write_json_atomic(path, call)
            self.index.calls.append(CassetteIndexEntry(key=key, name=name, role=role, model=model))
            write_json_atomic(self.root / "index.json", self.index)


class CassetteReader:
    """Serves recorded replies by request hash."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser()
        self.index = _load_index(self.root)
        self._calls: dict[str, CassetteCall | None] = {}
        self._lock = threading.Lock()

    def call(self, key: str) -> CassetteCall | None:
        with self._lock:
            if key not in self._calls:
                try:
                    self._calls[key] = CassetteCall.model_validate_json(
                        (self.root / "calls" / f"{key}.json").read_bytes()
                    )
                except (OSError, ValidationError, ValueError):
                    self._calls[key] = None
            return self._calls[key]

    def lookup(self, key: str, occurrence: int = 0) -> StoredResponse | None:
        """The reply recorded for the ``occurrence``-th time this request was made
        (the last one when the run asks more often than the recording did)."""
        call = self.call(key)
        if call is None or not call.responses:
            return None
        return call.responses[min(max(occurrence, 0), len(call.responses) - 1)]

    def key_for_name(self, name: str, nth: int) -> tuple[str, int] | None:
        """The request recorded as the ``nth`` call named ``name`` and which occurrence of
        that request it was; None when the recording made fewer such calls."""
        seen_name = 0
        per_key: dict[str, int] = {}
        for entry in self.index.calls:
            occurrence = per_key.get(entry.key, 0)
            per_key[entry.key] = occurrence + 1
            if entry.name == name:
                if seen_name == nth:
                    return entry.key, occurrence
                seen_name += 1
        return None

    def recorded_names(self) -> set[str]:
        return {entry.name for entry in self.index.calls}


_readers: dict[Path, CassetteReader] = {}
_readers_lock = threading.Lock()


def cassette_reader(root: Path) -> CassetteReader:
    """The (memoised) reader of the cassette at ``root``; raises ConfigError if there is none."""
    root = Path(root).expanduser().resolve()
    with _readers_lock:
        reader = _readers.get(root)
        if reader is None:
            reader = _readers[root] = CassetteReader(root)
        return reader


def forget_cassette(root: Path) -> None:
    """Drop the memoised reader of ``root`` (its files changed on disk, e.g. it was re-recorded)."""
    with _readers_lock:
        _readers.pop(Path(root).expanduser().resolve(), None)
