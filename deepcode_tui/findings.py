"""One shape for every located problem the phases report.

A :class:`Finding` is what code generation (path checks, CodeMem's
consistency check), the verification phase's static checks and its trace
analysis all produce, so the repair loop, the TUI and the run store handle
them alike. It lives here, below every phase package, so that ``codegen/``
and ``verify/`` both import it from beneath instead of one reaching across
into the other. ``file`` is repo-relative with forward slashes (or None when
a problem has no file, e.g. a timeout with no stack); ``line`` is 1-based
(or None). The kinds each phase emits are that phase's business
(``verify.findings.Kind``); ``kind`` stays an open string.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Stage = Literal["static", "sandbox"]
Severity = Literal["error", "warning", "info"]


class Finding(BaseModel):
    """A located problem. Immutable, hashable, JSON-serialisable."""

    model_config = ConfigDict(frozen=True)

    file: str | None = None
    line: int | None = None
    kind: str
    message: str
    stage: Stage = "static"
    severity: Severity = "error"
    # Other repo files implicated (e.g. outer frames of a traceback, the module an
    # import failed to find a name in); used to pick memory entries for the repairer.
    related: tuple[str, ...] = Field(default_factory=tuple)
    # Memory entries (CodeMem) implicated by this finding, as plain dicts or strings.
    memory_entries: tuple[dict | str, ...] = Field(default_factory=tuple)
    # The traceback's frames inside the repo as (file, line), outermost first,
    # those of handled or chained exceptions before the failure's own: evidence
    # for fault localisation, which ranks their lines with the spectrum.
    frames: tuple[tuple[str, int], ...] = Field(default_factory=tuple)

    def __hash__(self) -> int:  # dicts in memory_entries are unhashable; identity is the location
        return hash((self.file, self.line, self.kind, self.message, self.stage))

    @property
    def location(self) -> str:
        """``file:line``, ``file`` or ``-`` for display."""
        if self.file is None:
            return "-"
        return f"{self.file}:{self.line}" if self.line else self.file

    def signature(self) -> str:
        """A stable key for "the same failure": kind and location, not the wording
        (messages carry addresses, timings and values that change run to run)."""
        return f"{self.kind}@{self.file or '-'}:{self.line or 0}"

    def one_line(self) -> str:
        return f"{self.location}: [{self.stage}/{self.kind}] {self.message}"


def failure_signature(findings: Iterable[Finding]) -> frozenset[str]:
    """The set of error signatures; two iterations with equal non-empty sets made no progress."""
    return frozenset(f.signature() for f in findings if f.severity == "error")


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """Drop repeats of the same kind at the same place, keeping the first (order kept)."""
    seen: set[tuple] = set()
    out: list[Finding] = []
    for f in findings:
        key = (f.kind, f.file, f.line, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]
