"""Resolve import statements to project files.

The project is a set of repo-relative POSIX paths (the plan's files, written
or not). Python modules resolve from the repo root, then from ``src/``, then
from the importing file's directory (script-style sibling imports); JS/TS
relative specifiers resolve Node/TypeScript-style (extensions, ``index``).
"""

from __future__ import annotations

import posixpath
import sys
from collections.abc import Iterable

_PY_SUFFIXES = (".py", ".pyi")
_JS_EXTS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs")
_NODE_BUILTINS = frozenset(
    [
        "assert",
        "buffer",
        "child_process",
        "cluster",
        "console",
        "crypto",
        "dgram",
        "dns",
        "events",
        "fs",
        "http",
        "http2",
        "https",
        "net",
        "os",
        "path",
        "perf_hooks",
        "process",
        "querystring",
        "readline",
        "stream",
        "string_decoder",
        "timers",
        "tls",
        "tty",
        "url",
        "util",
        "v8",
        "vm",
        "worker_threads",
        "zlib",
        "module",
    ]
)
_SRC_ROOTS = ("src", "lib")


def _module_name(path: str) -> str | None:
    for suf in _PY_SUFFIXES:
        if path.endswith(suf):
            stem = path[: -len(suf)]
            parts = stem.split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if not parts or not all(p.isidentifier() for p in parts):
                return None
            return ".".join(parts)
    return None


class ModuleIndex:
    """Where each module of a project lives."""

    def __init__(self, project_files: Iterable[str]) -> None:
        # paths that escape the repo are rejected elsewhere; here they would resolve nothing
        self.files: frozenset[str] = frozenset(
            f for f in project_files if f and not f.startswith(("/", "../", "~")) and f != ".."
        )
        self._root: dict[str, str] = {}
        for f in sorted(self.files):
            name = _module_name(f)
            if name is None:
                continue
            # a package's __init__ and a same-named module: the package wins, as in Python
            if name not in self._root or f.endswith("__init__.py"):
                self._root[name] = f
        self._dirs: set[str] = set()
        for f in self.files:
            d = posixpath.dirname(f)
            while d and d not in self._dirs:
                self._dirs.add(d)
                d = posixpath.dirname(d)
        self._top = {m.split(".")[0] for m in self._root}
        for root in _SRC_ROOTS:
            self._top |= {m.split(".")[1] for m in self._root if m.startswith(root + ".") and "." in m}

    # --- Python ---------------------------------------------------------

    def _py_lookup(self, dotted: str, base: str = "") -> str | None:
        key = f"{base.replace('/', '.')}.{dotted}" if base else dotted
        return self._root.get(key)

    def _is_package_dir(self, dotted: str, base: str = "") -> bool:
        d = dotted.replace(".", "/")
        return (posixpath.join(base, d) if base else d) in self._dirs

    def python_module(self, importer: str, module: str, level: int = 0) -> tuple[str | None, bool]:
        """(file, is_project) for a module. ``is_project`` without a file means a missing project module."""
        if level:
            base = self._relative_base(importer, level)
            if base is None:
                return None, True
            if not module:
                f = self._root.get(base.replace("/", ".")) if base else None
                return f, True
            f = self._py_lookup(module, base) if base else self._root.get(module)
            return f, True
        if not module:
            return None, False
        for base in ("", *_SRC_ROOTS):
            f = self._py_lookup(module, base)
            if f is not None:
                return f, True
        # A script's directory is first on sys.path ("python train.py" next to
        # model.py), and scripts are often run from a parent directory; a file in
        # a package (any ancestor with __init__.py) never sees its siblings this way.
        # Here a standard-library name wins: a generated "utils/logging.py" is not
        # what "import logging" means.
        top = module.split(".")[0]
        here = posixpath.dirname(importer)
        script_dirs = self._script_dirs(here) if top not in sys.stdlib_module_names else []
        for d in script_dirs:
            f = self._py_lookup(module, d)
            if f is not None:
                return f, True
        if top in self._top or any(self._is_package_dir(top, d) for d in script_dirs):
            return None, True
        return None, False

    def _script_dirs(self, here: str) -> list[str]:
        dirs: list[str] = []
        d = here
        while d:
            if posixpath.join(d, "__init__.py") in self.files:
                return []
            dirs.append(d)
            d = posixpath.dirname(d)
        return dirs

    def python_from(
        self, importer: str, module: str, level: int, name: str
    ) -> tuple[str | None, str | None, bool]:
        """(file, symbol, is_project) for ``from module import name``.

        A submodule wins over a symbol of the package's ``__init__`` (as in Python
        once the submodule is imported); ``symbol`` is None for a submodule.
        """
        sub = f"{module}.{name}" if module else name
        if name != "*":
            f, is_proj = self.python_module(importer, sub, level)
            if f is not None:
                return f, None, True
        f, is_proj = self.python_module(importer, module, level)
        if f is not None:
            return f, (None if name == "*" else name), True
        return None, None, is_proj

    def _relative_base(self, importer: str, level: int) -> str | None:
        pkg = posixpath.dirname(importer)
        for _ in range(level - 1):
            if not pkg:
                return None
            pkg = posixpath.dirname(pkg)
        return pkg

    def python_root_module(self, path: str) -> str | None:
        """The dotted module name of a project file from the repo root."""
        return _module_name(path)

    # --- JavaScript / TypeScript ------------------------------------------

    def js_module(self, importer: str, spec: str) -> tuple[str | None, bool]:
        """(file, is_project) for a JS/TS import specifier."""
        if not spec.startswith((".", "/")):
            return None, False
        base = posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec))
        if base.startswith(".."):
            return None, True
        candidates = [base]
        stem, ext = posixpath.splitext(base)
        if ext in (".js", ".jsx", ".mjs", ".cjs"):
            # TypeScript ESM style: "./x.js" names the compiled form of x.ts
            candidates += [stem + e for e in (".ts", ".tsx", ".mts", ".cts")]
        candidates += [base + e for e in _JS_EXTS]
        candidates += [f"{base}/index{e}" for e in _JS_EXTS]
        for c in candidates:
            if c in self.files:
                return c, True
        return None, True


def python_package_kind(module: str) -> tuple[str, str]:
    """("stdlib"|"external", top-level package) for a non-project absolute import."""
    top = module.split(".")[0]
    return ("stdlib" if top in sys.stdlib_module_names or top == "__future__" else "external"), top


def js_package_kind(spec: str) -> tuple[str, str]:
    """("stdlib"|"external", package) for a bare JS specifier (``node:`` and builtins are stdlib)."""
    if spec.startswith("node:"):
        return "stdlib", spec[5:].split("/")[0]
    parts = spec.split("/")
    pkg = "/".join(parts[:2]) if spec.startswith("@") and len(parts) > 1 else parts[0]
    return ("stdlib" if pkg in _NODE_BUILTINS else "external"), pkg
