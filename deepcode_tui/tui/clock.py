"""Time as the app sees it, injectable so snapshots and tests are deterministic."""

from __future__ import annotations

from datetime import UTC, datetime


class Clock:
    """Wall-clock time; tests pass a :class:`FrozenClock` instead."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    """A clock that stays at ``at`` until :meth:`advance` moves it."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self._at = self._at + timedelta(seconds=seconds)


def format_elapsed(seconds: float) -> str:
    """``mm:ss`` below an hour, ``h:mm:ss`` above."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
