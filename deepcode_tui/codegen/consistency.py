"""Cross-file consistency over memory: imports resolve, symbols exist, calls fit signatures.

Works on memory entries alone (no code is re-read). Arity rules: Python's
binding rules (defaults, keyword-only, ``*args``/``**kwargs``, ``self``/``cls``
dropped for bound calls; a call spreading ``*x``/``**y`` is only checked for
what it still pins down); TypeScript's required/declared count; plain
JavaScript only for existence. A class's call signature is its ``__init__``
(``constructor``), else its dataclass / NamedTuple / pydantic fields, else that
of a project base class; when none of these is known the call is not judged.
"""

from __future__ import annotations

from collections.abc import Iterable

from deepcode_tui.codegen.findings import Finding
from deepcode_tui.codegen.interface import (
    CallShape,
    ClassInfo,
    ConstantInfo,
    FunctionSig,
    Param,
    SymbolUse,
    check_python_call,
    check_ts_call,
)
from deepcode_tui.codegen.memory import MemoryEntry, MemoryStore
from deepcode_tui.codegen.resolve import ModuleIndex

_MAX_DEPTH = 6
# attrs classes are not judged: their attr.ib() fields carry no annotation to read
_DATACLASS_DECORATORS = ("dataclass", "dataclasses.dataclass", "pydantic.dataclasses.dataclass")
# set on every Python module object by the import system
_MODULE_ATTRS = {
    "__file__",
    "__name__",
    "__doc__",
    "__path__",
    "__spec__",
    "__loader__",
    "__package__",
    "__dict__",
}
Definition = ClassInfo | FunctionSig | ConstantInfo


# class decorators that leave the constructor as the class body defines it
_TRANSPARENT_CLASS_DECORATORS = frozenset(
    [
        "total_ordering",
        "functools.total_ordering",
        "final",
        "typing.final",
        "runtime_checkable",
        "typing.runtime_checkable",
        "unique",
        "enum.unique",
        "rich.repr.auto",
        "auto",
    ]
) | frozenset(_DATACLASS_DECORATORS)


def _is_dataclass(cls: ClassInfo) -> bool:
    return any(d.split("(")[0] in _DATACLASS_DECORATORS for d in cls.decorators)


class _Checker:
    def __init__(self, entries: Iterable[MemoryEntry], project_files: Iterable[str] | None) -> None:
        self.by_path = {e.path: e for e in entries if not e.deleted}
        self.index = ModuleIndex(project_files if project_files is not None else self.by_path)
        self.findings: dict[tuple, Finding] = {}

    def add(self, file: str, line: int | None, kind: str, message: str, severity: str = "error") -> None:
        key = (file, line, kind, message)
        if key not in self.findings:
            self.findings[key] = Finding(file=file, line=line, kind=kind, message=message, severity=severity)

    # --- lookups ----------------------------------------------------------

    def has_symbol(self, entry: MemoryEntry, name: str, depth: int = 0) -> bool:
        iface = entry.interface
        if entry.language == "python" and name in _MODULE_ATTRS:
            return True
        if iface.dynamic or name in iface.defined_names or iface.find(name) is not None:
            return True
        if depth < _MAX_DEPTH:
            for src in iface.star_from:
                target = self.by_path.get(src)
                if target is None or self.has_symbol(target, name, depth + 1):
                    return True  # a star import from outside memory may define anything
        if entry.language == "python" and entry.path.endswith("__init__.py"):
            pkg = entry.path.rsplit("/", 1)[0] if "/" in entry.path else ""
            sub = f"{pkg}/{name}" if pkg else name
            if f"{sub}.py" in self.index.files or f"{sub}/__init__.py" in self.index.files:
                return True
        return False

    def definition(
        self, entry: MemoryEntry, name: str, depth: int = 0
    ) -> tuple[MemoryEntry, Definition] | None:
        """Where ``name`` is really defined, following re-exports through project imports."""
        found = entry.interface.find(name)
        if found is not None:
            return entry, found
        if depth >= _MAX_DEPTH:
            return None
        for e in entry.imports:
            if e.kind == "project" and e.file in self.by_path and e.symbol and e.local_name == name:
                return self.definition(self.by_path[e.file], e.symbol, depth + 1)
        for src in entry.interface.star_from:
            if src in self.by_path:
                hit = self.definition(self.by_path[src], name, depth + 1)
                if hit is not None:
                    return hit
        return None

    def constructor(self, entry: MemoryEntry, cls: ClassInfo, depth: int = 0) -> list[Param] | None:
        """The parameters ``cls(...)`` binds, or None when they cannot be known from memory."""
        init = cls.method("__init__") or cls.method("constructor") or cls.method("__new__")
        if init is not None:
            params = init.bound_params() if entry.language == "python" else init.params
            return [p for p in params if p.name != "this"]
        bases = [b for b in cls.bases if b not in ("object",)]
        if any(d.split("(")[0] not in _TRANSPARENT_CLASS_DECORATORS for d in cls.decorators):
            return None  # an unknown class decorator may build its own __init__
        if entry.language == "python" and _is_dataclass(cls):
            return self.dataclass_fields(entry, cls, depth)
        if bases in (["NamedTuple"], ["typing.NamedTuple"]):
            return list(cls.fields)
        if bases in (["BaseModel"], ["pydantic.BaseModel"]):
            # pydantic: keyword-only fields; unknown keywords are ignored by default
            return [p.model_copy(update={"kind": "keyword_only"}) for p in cls.fields] + [
                Param(name="data", kind="var_keyword")
            ]
        if not bases:
            return []
        if len(bases) == 1 and depth < _MAX_DEPTH:
            hit = self.definition(entry, bases[0])
            if hit is not None and isinstance(hit[1], ClassInfo):
                return self.constructor(hit[0], hit[1], depth + 1)
        return None

    def dataclass_fields(self, entry: MemoryEntry, cls: ClassInfo, depth: int) -> list[Param] | None:
        """A dataclass's ``__init__``: inherited dataclass fields, then its own (None if a base is unknown)."""
        fields: dict[str, Param] = {}
        for base in reversed([b for b in cls.bases if b != "object"]):
            hit = self.definition(entry, base) if depth < _MAX_DEPTH else None
            if hit is None or not isinstance(hit[1], ClassInfo):
                return None
            if _is_dataclass(hit[1]):
                inherited = self.dataclass_fields(hit[0], hit[1], depth + 1)
                if inherited is None:
                    return None
                fields.update((p.name, p) for p in inherited)
        kw_only = any("kw_only=True" in d.replace(" ", "") for d in cls.decorators)
        for p in cls.fields:
            ann, default = p.annotation or "", (p.default or "").replace(" ", "")
            if ann in ("KW_ONLY", "dataclasses.KW_ONLY"):
                kw_only = True  # the sentinel: every later field is keyword-only
                continue
            if "init=False" in default:
                continue
            kw = kw_only or "kw_only=True" in default
            fields[p.name] = p.model_copy(update={"kind": "keyword_only" if kw else "positional"})
        return list(fields.values())

    # --- checks -----------------------------------------------------------

    def check_arity(
        self, where: MemoryEntry, use: SymbolUse, target: MemoryEntry, params: list[Param], what: str
    ) -> None:
        call = use.call or CallShape()
        if target.language == "python":
            why = check_python_call(params, call)
        elif target.language in ("typescript", "tsx") and where.language in ("typescript", "tsx"):
            why = check_ts_call(params, call)
        else:
            return
        if why:
            self.add(where.path, use.line, "arity_mismatch", f"{what} (defined in {target.path}) {why}")

    def check_entry(self, entry: MemoryEntry) -> None:
        for e in entry.imports:
            if e.kind == "unresolved":
                shown = e.module + (f" import {e.name}" if e.name else "")
                self.add(
                    entry.path,
                    e.line,
                    "unresolved_import",
                    f"{shown!r}: no project file provides this module",
                )
            elif e.kind == "project" and e.file is not None:
                target = self.by_path.get(e.file)
                if target is None:
                    self.add(
                        entry.path, e.line, "missing_file", f"imports {e.file}, which has not been written"
                    )
                elif e.symbol and not self.has_symbol(target, e.symbol):
                    self.add(
                        entry.path,
                        e.line,
                        "missing_symbol",
                        f"imports {e.symbol!r} from {e.file}, which does not define it",
                    )
        for use in entry.uses:
            self.check_use(entry, use)

    def check_use(self, entry: MemoryEntry, use: SymbolUse) -> None:
        target = self.by_path.get(use.file)
        if target is None:
            return  # reported once, at the import
        if not self.has_symbol(target, use.symbol):
            self.add(
                entry.path,
                use.line,
                "missing_symbol",
                f"uses {use.symbol!r} from {use.file}, which does not define it",
            )
            return
        hit = self.definition(target, use.symbol)
        if hit is None:
            return
        owner, d = hit
        if use.member is not None:
            if isinstance(d, ClassInfo):
                self.check_member(entry, use, owner, d)
            return
        if use.call is None:
            return
        if isinstance(d, FunctionSig):
            if not d.signature_known():
                return
            params = d.params if d.kind == "function" else d.bound_params()
            self.check_arity(entry, use, owner, params, f"{d.name}()")
        elif isinstance(d, ClassInfo) and d.kind == "class":
            params = self.constructor(owner, d)
            if params is not None:
                self.check_arity(entry, use, owner, params, f"{d.name}()")

    def check_member(self, entry: MemoryEntry, use: SymbolUse, owner: MemoryEntry, cls: ClassInfo) -> None:
        m = cls.method(use.member or "")
        if m is None:
            known_all = not [b for b in cls.bases if b != "object"]
            if (
                known_all
                and use.member not in {p.name for p in cls.fields}
                and not use.member.startswith("_")
            ):
                self.add(
                    entry.path,
                    use.line,
                    "missing_member",
                    f"calls {cls.name}.{use.member}(), but {owner.path} defines no such method",
                    "warning",
                )
            return
        if use.call is not None and m.kind != "property" and m.signature_known():
            params = m.params if m.kind == "staticmethod" or owner.language != "python" else m.bound_params()
            self.check_arity(entry, use, owner, params, f"{cls.name}.{m.name}()")


def check_consistency(
    entries: Iterable[MemoryEntry] | MemoryStore, *, project_files: Iterable[str] | None = None
) -> list[Finding]:
    """Findings for imports, symbols and call arities that do not line up across files.

    ``project_files`` (the plan's paths) lets an import of a planned but unwritten
    file be told apart from an import of nothing; it defaults to the entries' paths.
    """
    items = entries.entries() if isinstance(entries, MemoryStore) else list(entries)
    checker = _Checker(items, project_files)
    for entry in sorted(checker.by_path.values(), key=lambda e: e.path):
        checker.check_entry(entry)
    return sorted(checker.findings.values(), key=lambda f: (f.file, f.line or 0, f.kind))
