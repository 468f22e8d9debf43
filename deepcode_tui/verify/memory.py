"""Pick the CodeMem entries a finding implicates.

Entries come from the code-generation phase as plain dicts or strings keyed
by repo-relative path. An entry is implicated when its file is the finding's
file or a related file, or when its dependency edges point at (or come from)
one of those files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from deepcode_tui import safe_fs
from .findings import Finding
from .manifest import imports_of

_EDGE_KEYS = ("dependencies", "depends_on", "imports", "dependents", "used_by", "edges", "deps")


def _edges(entry: dict[str, Any] | str) -> set[str]:
    if not isinstance(entry, dict):
        return set()
    out: set[str] = set()
    for key in _EDGE_KEYS:
        value = entry.get(key)
        if isinstance(value, str):
            out.add(value)
        elif isinstance(value, Iterable):
            for v in value:
                if isinstance(v, str):
                    out.add(v)
                elif isinstance(v, dict):
                    out.update(str(x) for k, x in v.items() if k in ("path", "file", "target", "source"))
    return out


def _module_of(path: str) -> str:
    return path[:-3].replace("/", ".") if path.endswith(".py") else path


def implicated_paths(finding: Finding, memory: Mapping[str, dict[str, Any] | str]) -> list[str]:
    """Memory keys implicated by ``finding``: its own files first, then neighbours."""
    direct = [p for p in (finding.file, *finding.related) if p]
    found = [p for p in direct if p in memory]
    names = set(direct) | {_module_of(p) for p in direct}
    for path, entry in memory.items():
        if path in found:
            continue
        edges = _edges(entry)
        if edges & names or (path in names):
            found.append(path)
        elif any(_module_of(p) in edges or p in edges for p in direct):
            found.append(path)
    for p in direct:  # entries that the finding's own file depends on
        for dep in _edges(memory.get(p, {})):
            for key in memory:
                if key not in found and (key == dep or _module_of(key) == dep):
                    found.append(key)
    return found


def attach_memory(findings: Iterable[Finding], memory: Mapping[str, dict[str, Any] | str] | None) -> list[Finding]:
    """Copies of ``findings`` carrying their implicated memory entries."""
    if not memory:
        return list(findings)
    return [f.model_copy(update={"memory_entries": tuple(memory[p] for p in implicated_paths(f, memory))})
            for f in findings]


def local_imports(repo: Path, rel: str) -> list[str]:
    """Repo files that ``rel`` imports (absolute imports resolved against the repo
    root and ``src/``; relative imports against the file's package)."""
    try:
        source = safe_fs.read_text(repo, rel)
    except OSError:
        return []
    out: list[str] = []
    for module, _line in imports_of(source):
        parts = module.split(".")
        for base in ("", "src/"):
            for cand in (f"{base}{'/'.join(parts)}.py", f"{base}{'/'.join(parts)}/__init__.py",
                         f"{base}{'/'.join(parts[:-1])}.py" if len(parts) > 1 else ""):
                if cand and (repo / cand).is_file() and cand != rel and cand not in out:
                    out.append(cand)
                    break
            else:
                continue
            break
    return out


def with_imported_files(repo: Path, findings: Iterable[Finding]) -> list[Finding]:
    """Findings whose ``related`` also lists the repo files their own file imports:
    a failing test implicates the code under test."""
    out = []
    for f in findings:
        if not f.file:
            out.append(f)
            continue
        extra = [p for p in local_imports(repo, f.file) if p not in f.related and p != f.file]
        out.append(f.model_copy(update={"related": (*f.related, *extra)}) if extra else f)
    return out
