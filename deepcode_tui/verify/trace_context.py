"""What trace parsers need to know about the run: where the repo is, how
sandbox paths map back to it, and a few look-ups into the repo's files."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from deepcode_tui import safe_fs
from .findings import Kind

# Directories inside a repo that hold third-party code, not the project's.
VENDOR_PARTS = {".venv", "venv", ".venv-sandbox", "site-packages", "dist-packages", "node_modules", ".tox",
                "__pypackages__", ".git"}
_NO_MODULE = re.compile(r"No module named '?(?P<mod>[\w.]+)'?")
TEXT_SUFFIXES = {".py", ".sh", ".cfg", ".toml", ".yaml", ".yml", ".ini", ".txt", ".md", ".json", ""}


@dataclass
class TraceContext:
    """``repo`` is the host repo; ``inside_roots`` the paths under which the sandbox
    showed it (e.g. ``/work``). ``command`` is the argv that produced the output."""

    repo: Path | None = None
    inside_roots: Sequence[str] = ("/work",)
    command: Sequence[str] = ()
    timeout_s: float | None = None
    _files: list[str] | None = field(default=None, repr=False)

    def to_repo_rel(self, raw: str) -> str | None:
        """A repo-relative posix path for a path printed by the sandboxed program,
        or None when it lies outside the repo or in vendored code."""
        p = raw.strip().strip("'\"")
        if not p or p.startswith("<"):
            return None
        roots = list(self.inside_roots)
        if self.repo is not None:
            roots.append(str(self.repo.resolve()))
            roots.append(str(self.repo))
        rel: str | None = None
        if p.startswith("/"):
            for root in roots:
                root = root.rstrip("/")
                if p.startswith(root + "/"):
                    rel = p[len(root) + 1 :]
                    break
            if rel is None:
                return None
        else:
            rel = p[2:] if p.startswith("./") else p
        parts = PurePosixPath(rel).parts
        if not parts or ".." in parts or VENDOR_PARTS.intersection(parts):
            return None
        rel = str(PurePosixPath(*parts))
        if self.repo is not None and not (self.repo / rel).is_file():
            return None
        return rel

    # -- repo look-ups -------------------------------------------------------------------------
    def repo_files(self) -> list[str]:
        if self._files is None:
            self._files = list(_walk(self.repo)) if self.repo is not None else []
        return self._files

    def read(self, rel: str) -> str:
        return _read(self.repo, rel) if self.repo is not None else ""

    def grep(self, pattern: re.Pattern[str], suffixes: set[str] = TEXT_SUFFIXES) -> Iterator[tuple[str, int, str]]:
        """(file, line, text) for each line of the repo's text files matching ``pattern``."""
        for rel in self.repo_files():
            if PurePosixPath(rel).suffix not in suffixes:
                continue
            for i, line in enumerate(self.read(rel).splitlines(), 1):
                if pattern.search(line):
                    yield rel, i, line

    def local_top_modules(self) -> set[str]:
        """Top-level importable names the repo itself provides."""
        names: set[str] = set()
        for rel in self.repo_files():
            parts = PurePosixPath(rel).parts
            if rel.endswith(".py"):
                for i, part in enumerate(parts):
                    names.add(part[:-3] if i == len(parts) - 1 else part)
        return names


def _walk(repo: Path) -> Iterator[str]:
    if not repo.is_dir():
        return
    for path in safe_fs.walk_files(repo, skip_dir=lambda d: d in VENDOR_PARTS or d.startswith("."),
                                   max_size=2_000_000):
        rel = path.relative_to(repo)
        if not rel.name.startswith("."):
            yield rel.as_posix()


@functools.lru_cache(maxsize=512)
def _read_cached(repo: str, rel: str, mtime: float, size: int) -> str:
    return safe_fs.read_text_or_empty(Path(repo), rel)


def _read(repo: Path, rel: str) -> str:
    try:
        st = (repo / rel).lstat()  # lstat: a symlink's own times, and it is never read anyway
    except OSError:
        return ""
    return _read_cached(str(repo), rel, st.st_mtime, st.st_size)


def classify_exception(exc_type: str, message: str, ctx: TraceContext, in_test: bool = False) -> str:
    """The finding kind for an exception type and message."""
    short = exc_type.rsplit(".", 1)[-1]
    if short == "ModuleNotFoundError":
        m = _NO_MODULE.search(message)
        if m and m.group("mod").split(".")[0] not in ctx.local_top_modules():
            return Kind.MISSING_DEPENDENCY
        return Kind.IMPORT_ERROR
    if short == "ImportError":
        return Kind.IMPORT_ERROR
    if short in ("SyntaxError", "IndentationError", "TabError"):
        return Kind.SYNTAX_ERROR
    # ``pytest.raises`` that saw nothing raised, or ``pytest.fail``: the test's own verdict.
    if short in ("AssertionError", "Failed") and in_test:
        return Kind.TEST_FAILURE
    return Kind.EXCEPTION


def is_test_file(rel: str | None) -> bool:
    if not rel:
        return False
    name = rel.rsplit("/", 1)[-1]
    return name.startswith("test_") or name.endswith("_test.py") or "/tests/" in f"/{rel}" or name == "conftest.py"
