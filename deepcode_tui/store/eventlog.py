"""The append-only event log (``events.jsonl``).

Durability contract: when :meth:`EventLog.append` returns, the event's line
is on disk (written with one ``write`` on an ``O_APPEND`` descriptor, then
``fsync``). A crash can leave at most one torn last line; readers skip it,
and the next writer moves it aside to ``events.torn`` before appending so a
torn fragment is never glued to a new event. A damaged line anywhere else is
reported, never silently dropped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from deepcode_tui.redaction import scrub_secrets
from deepcode_tui.errors import RunStoreError
from deepcode_tui.events.models import Event, parse_event


@dataclass
class LogReadResult:
    events: list[Event] = field(default_factory=list)
    torn_tail: bytes = b""  # an unterminated last line (crash mid-write): ignored
    corrupt_lines: list[int] = field(default_factory=list)  # 1-based line numbers

    @property
    def last_seq(self) -> int:
        return self.events[-1].seq if self.events else 0


def read_log(path: Path) -> LogReadResult:
    """Read every event; tolerate a torn last line; record (not raise on) corrupt lines."""
    result = LogReadResult()
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return result
    except OSError as exc:
        raise RunStoreError(f"cannot read {path}: {exc.strerror}", "check the file's permissions") from exc
    lines = data.split(b"\n")
    tail = lines.pop()  # after the last newline: empty, or a torn line
    if tail.strip():
        result.torn_tail = tail
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            result.events.append(parse_event(json.loads(raw)))
        except (ValueError, ValidationError):
            result.corrupt_lines.append(number)
    return result


class EventLog:
    """Appender for one run's ``events.jsonl``; assigns consecutive ``seq`` numbers."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        existing = read_log(self.path)
        if existing.corrupt_lines:
            lines = ", ".join(map(str, existing.corrupt_lines[:5]))
            raise RunStoreError(
                f"{self.path} has damaged lines ({lines}); refusing to append to it",
                "inspect the file; restore it from a backup or start a new run (nothing was changed)",
            )
        if existing.torn_tail:
            self._set_aside_torn_tail(len(existing.torn_tail))
        self._seq = existing.last_seq
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _set_aside_torn_tail(self, size: int) -> None:
        # Keep the fragment (nothing is deleted) but take it out of the log so the
        # next append starts on a clean line.
        with open(self.path, "r+b") as fh:
            fh.seek(-size, os.SEEK_END)
            fragment = fh.read()
            with open(self.path.with_name("events.torn"), "ab") as torn:
                torn.write(fragment + b"\n")
                torn.flush()
                os.fsync(torn.fileno())
            fh.truncate(fh.tell() - size)
            fh.flush()
            os.fsync(fh.fileno())

    @property
    def last_seq(self) -> int:
        return self._seq

    def append(self, event: Event) -> Event:
        """Persist ``event`` durably and return it with its sequence number."""
        event = event.model_copy(update={"seq": self._seq + 1})
        # Events carry sandbox output and model text: no secret value is ever written.
        line = scrub_secrets(event.model_dump_json()).encode("utf-8") + b"\n"
        written = os.write(self._fd, line)
        if written != len(line):  # pragma: no cover - short writes on regular files mean a full disk
            raise RunStoreError(f"short write to {self.path}", "free disk space, then resume the run")
        os.fsync(self._fd)
        self._seq = event.seq
        return event

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __iter__(self) -> Iterator[Event]:
        return iter(read_log(self.path).events)
