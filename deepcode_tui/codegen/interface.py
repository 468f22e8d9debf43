"""The parts of a memory entry: public interface, dependency edges, symbol uses.

Plain data extracted deterministically from source by tree-sitter (see
``extract_python`` and ``extract_js``), plus the arity rules the consistency
check applies to a call against a signature.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ParamKind = Literal["positional_only", "positional", "var_positional", "keyword_only", "var_keyword"]
FunctionKind = Literal["function", "method", "staticmethod", "classmethod", "property"]

_DEFAULT_SHOWN = 24
# decorators that keep a function's parameters as written
_TRANSPARENT_DECORATORS = frozenset(
    [
        "staticmethod",
        "classmethod",
        "property",
        "cached_property",
        "functools.cached_property",
        "cache",
        "functools.cache",
        "lru_cache",
        "functools.lru_cache",
        "overload",
        "typing.overload",
        "abstractmethod",
        "abc.abstractmethod",
        "override",
        "typing.override",
        "typing_extensions.override",
        "final",
        "typing.final",
        "deprecated",
        "warnings.deprecated",
        "contextmanager",
        "contextlib.contextmanager",
        "asynccontextmanager",
        "contextlib.asynccontextmanager",
        "wraps",
        "functools.wraps",
    ]
)  # characters of a default value shown in a rendered signature


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Param(_M):
    name: str
    kind: ParamKind = "positional"
    annotation: str | None = None
    default: str | None = None  # source text of the default; None when there is none
    optional: bool = False  # TypeScript ``name?``

    @property
    def has_default(self) -> bool:
        return self.default is not None or self.optional


class FunctionSig(_M):
    name: str
    params: list[Param] = Field(default_factory=list)
    returns: str | None = None
    is_async: bool = False
    kind: FunctionKind = "function"
    decorators: list[str] = Field(default_factory=list)
    line: int = 0

    def signature_known(self) -> bool:
        """False when a decorator may change what callers pass (``@click.command``, ``@composite``)."""
        return all(d.split("(")[0] in _TRANSPARENT_DECORATORS for d in self.decorators)

    def signature(self, language: str = "python") -> str:
        """``(a, b: int = 1, *args) -> str`` (Python) or ``(a: number, b?: T): R`` (JS/TS)."""
        if language == "python":
            return _py_signature(self)
        return _js_signature(self)

    def bound_params(self) -> list[Param]:
        """Parameters a caller passes: ``self``/``cls`` dropped for instance and class methods."""
        bound = self.kind in ("method", "classmethod", "property")
        if bound and self.params and self.params[0].kind in ("positional_only", "positional"):
            return self.params[1:]
        return list(self.params)


class ClassInfo(_M):
    name: str
    kind: Literal["class", "interface", "enum"] = "class"
    bases: list[str] = Field(default_factory=list)
    decorators: list[str] = Field(default_factory=list)
    methods: list[FunctionSig] = Field(default_factory=list)
    fields: list[Param] = Field(default_factory=list)  # annotated class attributes, in order
    line: int = 0

    def method(self, name: str) -> FunctionSig | None:
        for m in self.methods:
            if m.name == name:
                return m
        return None


class ConstantInfo(_M):
    name: str
    annotation: str | None = None
    value: str | None = None  # short source text of the value


class Interface(_M):
    classes: list[ClassInfo] = Field(default_factory=list)
    functions: list[FunctionSig] = Field(default_factory=list)
    constants: list[ConstantInfo] = Field(default_factory=list)
    all_names: list[str] | None = None  # Python ``__all__`` / the JS export list; None when absent
    defined_names: list[str] = Field(default_factory=list)  # every module-level binding, private too
    star_from: list[str] = Field(default_factory=list)  # modules whose names this one re-exports via *
    dynamic: bool = False  # module ``__getattr__``: any name may exist

    def find(self, name: str) -> ClassInfo | FunctionSig | ConstantInfo | None:
        for c in self.classes:
            if c.name == name:
                return c
        for f in self.functions:
            if f.name == name:
                return f
        for k in self.constants:
            if k.name == name:
                return k
        return None

    def public_count(self) -> int:
        return len(self.classes) + len(self.functions) + len(self.constants)


class ImportEdge(_M):
    """One imported name (or module) and where it resolves."""

    module: str  # as written: "pkg.mod", ".mod" (relative), "./x" (JS)
    name: str | None = None  # imported name; None for ``import pkg.mod``; "*" for star; "default" (JS)
    alias: str | None = None  # local binding when it differs from name
    line: int = 0
    kind: Literal["project", "external", "stdlib", "unresolved"] = "external"
    file: str | None = None  # resolved project file
    symbol: str | None = None  # symbol inside ``file``; None when the name is the module itself
    package: str | None = None  # top-level external package

    @property
    def local_name(self) -> str | None:
        """The name this import binds in the importing module."""
        if self.alias:
            return self.alias
        if self.name and self.name not in ("*", "default"):
            return self.name
        if self.name is None and self.module and not self.module.startswith("."):
            return self.module.split(".")[0]
        return None


class CallShape(_M):
    positional: int = 0
    keywords: list[str] = Field(default_factory=list)
    star: bool = False  # ``*args`` / JS spread: positional count unknown
    double_star: bool = False  # ``**kwargs``: keywords unknown


class SymbolUse(_M):
    """A use of a project symbol: ``f(...)`` after ``from m import f``, ``m.f``, ``obj.method(...)``."""

    file: str  # project file expected to define ``symbol``
    symbol: str
    member: str | None = None  # method called on an instance of ``symbol``
    line: int = 0
    call: CallShape | None = None
    is_new: bool = False  # JS ``new X(...)``


def check_python_call(params: list[Param], call: CallShape) -> str | None:
    """Why ``call`` cannot bind to ``params`` under Python's rules, or None when it can."""
    positional = [p for p in params if p.kind in ("positional_only", "positional")]
    var_pos = any(p.kind == "var_positional" for p in params)
    var_kw = any(p.kind == "var_keyword" for p in params)
    if not call.star and call.positional > len(positional) and not var_pos:
        return f"takes at most {len(positional)} positional argument(s) but {call.positional} were given"
    filled = {p.name for p in positional[: call.positional]}
    by_name = {p.name: p for p in params}
    for kw in call.keywords:
        p = by_name.get(kw)
        if p is not None and p.kind in ("positional", "keyword_only"):
            if kw in filled:
                return f"got multiple values for argument {kw!r}"
            filled.add(kw)
        elif not var_kw:
            return f"got an unexpected keyword argument {kw!r}"
    missing = [
        p.name
        for p in params
        if not p.has_default
        and p.name not in filled
        and (
            (p.kind in ("positional_only", "positional") and not call.star and not call.double_star)
            or (p.kind == "keyword_only" and not call.double_star)
        )
    ]
    if missing:
        return "missing required argument(s): " + ", ".join(missing)
    return None


def check_ts_call(params: list[Param], call: CallShape) -> str | None:
    """TypeScript's arity rule: required <= given <= declared (unless a rest parameter)."""
    params = [p for p in params if p.name != "this"]
    rest = any(p.kind == "var_positional" for p in params)
    fixed = [p for p in params if p.kind != "var_positional"]
    required = sum(1 for p in fixed if not p.has_default)
    if call.star:
        return None
    if call.positional < required:
        return f"expects at least {required} argument(s) but got {call.positional}"
    if not rest and call.positional > len(fixed):
        return f"expects at most {len(fixed)} argument(s) but got {call.positional}"
    return None


def _short(text: str) -> str:
    return text if len(text) <= _DEFAULT_SHOWN else text[: _DEFAULT_SHOWN - 3] + "..."


def _py_signature(f: FunctionSig) -> str:
    parts: list[str] = []
    saw_kwonly_marker = False
    for i, p in enumerate(f.params):
        if p.kind == "keyword_only" and not saw_kwonly_marker:
            parts.append("*")
            saw_kwonly_marker = True
        if p.kind == "var_positional":
            saw_kwonly_marker = True
        prefix = {"var_positional": "*", "var_keyword": "**"}.get(p.kind, "")
        s = prefix + p.name
        if p.annotation:
            s += f": {p.annotation}"
        if p.default is not None:
            s += f" = {_short(p.default)}" if p.annotation else f"={_short(p.default)}"
        parts.append(s)
        nxt = f.params[i + 1] if i + 1 < len(f.params) else None
        if p.kind == "positional_only" and (nxt is None or nxt.kind != "positional_only"):
            parts.append("/")
    out = f"({', '.join(parts)})"
    if f.returns:
        out += f" -> {f.returns}"
    return out


def _js_signature(f: FunctionSig) -> str:
    parts: list[str] = []
    for p in f.params:
        s = ("..." if p.kind == "var_positional" else "") + p.name + ("?" if p.optional else "")
        if p.annotation:
            s += f": {p.annotation}"
        if p.default is not None:
            s += f" = {_short(p.default)}"
        parts.append(s)
    out = f"({', '.join(parts)})"
    if f.returns:
        out += f": {f.returns}"
    return out
