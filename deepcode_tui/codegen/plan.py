"""The minimal plan code generation needs: what to write, in what order.

The blueprint phase owns the full Implementation Blueprint; an adapter turns
it into a :class:`CodegenPlan`. Keeping this input small means the loop can be
driven (and tested) without the blueprint machinery.
"""

from __future__ import annotations

import heapq
import posixpath

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from deepcode_tui.treesitter import language_for_path


def normalise_plan_path(path: str) -> str:
    """A plan path in canonical POSIX form (``./a//b.py`` -> ``a/b.py``).

    Escapes (absolute paths, ``..``) are kept as written so the loop can reject
    them with a finding instead of silently rewriting them.
    """
    p = path.strip().replace("\\", "/")
    if not p or p.startswith(("/", "~")):
        return p
    norm = posixpath.normpath(p)
    return "" if norm == "." else norm


class PlannedFile(BaseModel):
    """One file of the plan."""

    model_config = ConfigDict(extra="forbid")

    path: str
    purpose: str = ""
    dependencies: list[str] = Field(default_factory=list)
    spec: str = ""  # classes/functions with signatures, equations, pseudocode, as text
    symbols: list[str] = Field(default_factory=list)  # symbols the spec names (defined elsewhere)
    consumers: list[str] = Field(default_factory=list)
    stage: int = 0
    language: str | None = None  # tree-sitter grammar name; inferred from the suffix when None

    @field_validator("path")
    @classmethod
    def _norm_path(cls, v: str) -> str:
        return normalise_plan_path(v)

    @field_validator("dependencies", "consumers")
    @classmethod
    def _norm_paths(cls, v: list[str]) -> list[str]:
        out: list[str] = []
        for p in v:
            n = normalise_plan_path(p)
            if n and n not in out:
                out.append(n)
        return out

    @model_validator(mode="after")
    def _infer_language(self) -> PlannedFile:
        if self.language is None:
            self.language = language_for_path(self.path)
        return self


class CodegenPlan(BaseModel):
    """The global summary plus the files to write."""

    model_config = ConfigDict(extra="forbid")

    summary: str = ""
    files: list[PlannedFile] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_paths(self) -> CodegenPlan:
        seen: set[str] = set()
        for f in self.files:
            if f.path in seen:
                raise ValueError(f"the plan lists {f.path!r} twice; merge the two entries into one")
            seen.add(f.path)
        return self

    def paths(self) -> list[str]:
        return [f.path for f in self.files]

    def get(self, path: str) -> PlannedFile | None:
        path = normalise_plan_path(path)
        for f in self.files:
            if f.path == path:
                return f
        return None

    def consumers_of(self, path: str) -> list[str]:
        """Files predicted to use ``path``: declared consumers plus files depending on it."""
        out: list[str] = []
        target = self.get(path)
        if target is not None:
            out.extend(c for c in target.consumers if c != path)
        for f in self.files:
            if path in f.dependencies and f.path != path and f.path not in out:
                out.append(f.path)
        return out

    def order(self) -> list[PlannedFile]:
        """Files in dependency order; ties broken by stage, then plan position.

        Dependencies on paths outside the plan are ignored. A dependency cycle
        is broken deterministically: when every remaining file waits on another,
        the one with the lowest (stage, position) goes next.
        """
        index = {f.path: i for i, f in enumerate(self.files)}
        deps = {f.path: {d for d in f.dependencies if d in index and d != f.path} for f in self.files}
        users: dict[str, list[str]] = {p: [] for p in index}
        for p, ds in deps.items():
            for d in ds:
                users[d].append(p)
        waiting = {p: len(ds) for p, ds in deps.items()}

        def key(p: str) -> tuple[int, int, str]:
            return (self.files[index[p]].stage, index[p], p)

        ready = [key(p) for p, n in waiting.items() if n == 0]
        heapq.heapify(ready)
        done: set[str] = set()
        out: list[PlannedFile] = []
        while len(out) < len(self.files):
            if not ready:  # cycle: force the lowest remaining file
                heapq.heappush(ready, min(key(p) for p in index if p not in done))
            _, _, p = heapq.heappop(ready)
            if p in done:
                continue
            done.add(p)
            out.append(self.files[index[p]])
            for u in users[p]:
                waiting[u] -= 1
                if waiting[u] == 0 and u not in done:
                    heapq.heappush(ready, key(u))
        return out
