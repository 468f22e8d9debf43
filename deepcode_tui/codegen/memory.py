"""CodeMem: one compact memory entry per written file, persisted in the run.

An entry holds what later files need to know about a file without its code:
its purpose, its public interface, its dependency edges, the project symbols
it uses (for the consistency check) and the files predicted to consume it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deepcode_tui.codegen.extract_js import extract_js
from deepcode_tui.codegen.extract_python import extract_python
from deepcode_tui.codegen.interface import ClassInfo, FunctionSig, ImportEdge, Interface, SymbolUse
from deepcode_tui.codegen.resolve import ModuleIndex
from deepcode_tui.errors import RunStoreError
from deepcode_tui.tokens import count_tokens
from deepcode_tui.treesitter import language_for_path

Origin = Literal["generated", "human", "existing"]
_RENDERED_DUNDERS = {"__init__", "__call__", "__new__"}


def content_hash(code: str) -> str:
    """The hash memory entries and the overwrite guard compare (sha256 of the UTF-8 text)."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


class MemoryEntry(BaseModel):
    """What one written file offers and needs, extracted deterministically from its code."""

    model_config = ConfigDict(extra="forbid")

    path: str
    language: str | None = None
    purpose: str = ""
    interface: Interface = Field(default_factory=Interface)
    imports: list[ImportEdge] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)  # project files this file imports
    external: list[str] = Field(default_factory=list)  # third-party top-level packages
    uses: list[SymbolUse] = Field(default_factory=list)
    consumers: list[str] = Field(default_factory=list)  # files predicted to use this one
    content_hash: str = ""
    written_hash: str | None = None  # hash of the content the app itself last wrote
    origin: Origin = "generated"
    parse_error: bool = False
    deleted: bool = False  # tombstone: the file is gone

    def render(self, *, compact: bool = False) -> str:
        """The text form the coder sees; ``compact`` keeps names and signatures only."""
        lang = self.language or "python"
        lines = [f"## {self.path}" + (f" — {self.purpose}" if self.purpose and not compact else "")]
        for c in self.interface.classes:
            lines.append(_render_class(c, lang, compact))
        for f in self.interface.functions:
            lines.append(f"  {_render_function(f, lang)}")
        if self.interface.constants:
            items = [
                k.name + (f" = {k.value}" if k.value and not compact else "")
                for k in self.interface.constants
            ]
            lines.append("  constants: " + ", ".join(items))
        if self.interface.all_names is not None and not compact and lang == "python":
            lines.append("  __all__: " + ", ".join(self.interface.all_names))
        if not compact:
            deps = _render_deps(self.imports)
            if deps:
                lines.append("  imports: " + "; ".join(deps))
            if self.external:
                lines.append("  external: " + ", ".join(self.external))
            if self.consumers:
                lines.append("  used by: " + ", ".join(self.consumers))
        return "\n".join(lines)

    def expectations_for(self, target: str) -> list[str]:
        """How this file uses ``target``'s symbols: ``name(2 args, keywords: x)`` lines."""
        out: list[str] = []
        for e in self.imports:
            if e.file == target and e.symbol and e.name not in (None, "*"):
                out.append(e.symbol)
        for u in self.uses:
            if u.file != target:
                continue
            s = u.symbol + (f".{u.member}" if u.member else "")
            if u.call is not None:
                args = f"{u.call.positional}{'+' if u.call.star else ''} positional"
                if u.call.keywords:
                    args += ", keywords: " + ", ".join(u.call.keywords)
                s += f"({args})"
            out.append(s)
        return list(dict.fromkeys(out))


def _render_function(f: FunctionSig, lang: str) -> str:
    prefix = "async " if f.is_async else ""
    if lang == "python":
        return f"{prefix}def {f.name}{f.signature(lang)}"
    return f"{prefix}function {f.name}{f.signature(lang)}"


def _render_class(c: ClassInfo, lang: str, compact: bool) -> str:
    head = f"  {c.kind} {c.name}" + (f"({', '.join(c.bases)})" if c.bases else "")
    rows = [head]
    if c.fields and (c.kind != "class" or any("dataclass" in d for d in c.decorators) or lang != "python"):
        rows.append(
            "    fields: "
            + ", ".join(p.name + (f": {p.annotation}" if p.annotation else "") for p in c.fields)
        )
    for m in c.methods:
        if m.name.startswith("__") and m.name not in _RENDERED_DUNDERS:
            continue
        if m.kind == "property":
            rows.append(f"    {m.name}: property" + (f" -> {m.returns}" if m.returns and not compact else ""))
            continue
        tag = {"staticmethod": "@staticmethod ", "classmethod": "@classmethod "}.get(m.kind, "")
        rows.append(f"    {tag}{_render_function(m, lang).replace('function ', '')}")
    return "\n".join(rows)


def _render_deps(imports: list[ImportEdge]) -> list[str]:
    by_file: dict[str, list[str]] = {}
    for e in imports:
        if e.kind == "project" and e.file:
            syms = by_file.setdefault(e.file, [])
            if e.symbol and e.symbol not in syms:
                syms.append(e.symbol)
    return [f"{f} ({', '.join(s)})" if s else f for f, s in by_file.items()]


def extract_entry(
    path: str,
    code: str,
    *,
    project_files: Iterable[str] | ModuleIndex,
    purpose: str = "",
    consumers: Iterable[str] = (),
    origin: Origin = "generated",
) -> MemoryEntry:
    """The memory entry of ``code`` at repo-relative ``path`` (deterministic; no model call).

    Files without a grammar (config, docs) get an entry with an empty interface.
    """
    index = project_files if isinstance(project_files, ModuleIndex) else ModuleIndex(project_files)
    lang = language_for_path(path)
    entry = MemoryEntry(
        path=path,
        language=lang,
        purpose=purpose.strip(),
        consumers=[c for c in consumers if c != path],
        content_hash=content_hash(code),
        origin=origin,
    )
    if lang is None:
        return entry
    ex = extract_python(path, code, index) if lang == "python" else extract_js(path, code, index, lang)
    entry.interface = ex.interface
    entry.imports = ex.imports
    entry.uses = ex.uses
    entry.parse_error = ex.has_error
    entry.depends_on = list(dict.fromkeys(e.file for e in ex.imports if e.file and e.file != path))
    entry.external = sorted({e.package for e in ex.imports if e.kind == "external" and e.package})
    return entry


class MemoryStore:
    """Memory entries of a run in ``<run_dir>/memory/entries.jsonl``.

    Append-only JSONL; the latest entry for a path wins; a torn last line (a
    crash mid-append) is dropped on load and cut off before the next append,
    so a run resumes from the last complete entry.
    """

    def __init__(self, run_dir: Path, *, durable: bool = True) -> None:
        self.path = Path(run_dir) / "memory" / "entries.jsonl"
        self.durable = durable
        self._entries: dict[str, MemoryEntry] = {}
        self._symbols: dict[str, set[str]] = {}  # public name -> paths defining it
        self._rendered: dict[tuple[str, str, bool], tuple[str, int]] = {}
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            data = self.path.read_bytes()
        except OSError as e:
            raise RunStoreError(
                f"cannot read {self.path}: {e.strerror}", "check the run directory's permissions"
            ) from e
        lines = data.split(b"\n")
        good_end = 0
        offset = 0
        for i, raw in enumerate(lines):
            end = offset + len(raw) + 1
            last = i == len(lines) - 1
            if raw.strip():
                try:
                    entry = MemoryEntry.model_validate_json(raw)
                except (ValidationError, ValueError) as e:
                    if last or all(not rest.strip() for rest in lines[i + 1 :]):
                        break  # torn tail: drop it
                    raise RunStoreError(
                        f"{self.path} line {i + 1} is not a valid memory entry",
                        "delete the damaged line, or delete the file to rebuild memory from the repo",
                    ) from e
                self._set(entry)
            if not last:
                good_end = end
            offset = end
        if good_end < len(data):
            with open(self.path, "r+b") as fh:
                fh.truncate(good_end)

    def _set(self, entry: MemoryEntry) -> None:
        old = self._entries.pop(entry.path, None)
        if old is not None:
            for name in _public_names(old):
                self._symbols.get(name, set()).discard(old.path)
        if not entry.deleted:
            self._entries[entry.path] = entry
            for name in _public_names(entry):
                self._symbols.setdefault(name, set()).add(entry.path)

    def append(self, entry: MemoryEntry) -> None:
        """Persist ``entry`` (one line, flushed; fsynced when durable) and make it current."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry.model_dump(mode="json", exclude_defaults=True), ensure_ascii=False)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            if self.durable:
                os.fsync(fh.fileno())
        self._set(entry)

    def remove(self, path: str) -> None:
        """Record that ``path`` is gone (a tombstone line)."""
        if path in self._entries:
            self.append(MemoryEntry(path=path, deleted=True))

    def get(self, path: str) -> MemoryEntry | None:
        return self._entries.get(path)

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def __iter__(self) -> Iterator[MemoryEntry]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[MemoryEntry]:
        return list(self._entries.values())

    def defining(self, symbol: str) -> list[MemoryEntry]:
        """Entries whose public interface defines ``symbol`` (a bare or ``Class.member`` name)."""
        paths = self._symbols.get(symbol.split(".")[0], set())
        return [self._entries[p] for p in sorted(paths) if p in self._entries]

    def rendered(self, entry: MemoryEntry, *, compact: bool = False) -> tuple[str, int]:
        """(``entry.render(compact=...)``, its token count), cached per content."""
        key = (entry.path, entry.content_hash + entry.purpose + ",".join(entry.consumers), compact)
        hit = self._rendered.get(key)
        if hit is None:
            text = entry.render(compact=compact)
            hit = self._rendered[key] = (text, count_tokens(text))
        return hit


def _public_names(entry: MemoryEntry) -> list[str]:
    i = entry.interface
    return [c.name for c in i.classes] + [f.name for f in i.functions] + [k.name for k in i.constants]
