"""The submission's files the judge may read, ranked for one requirement and cut to a budget.

Eligibility follows PaperBench: documentation and code (by extension) for Code
Development and Code Execution leaves; documentation plus tables written by the
reproduction for Result Analysis leaves; nothing under virtualenvs, VCS or cache
directories. On top of that, because a submission is hostile: symlinks are
never followed, only regular files are opened, a file with a NUL byte or
invalid UTF-8 is binary and skipped, and no file is read past ``read_bytes``.
Ranking is lexical (BM25 over each file's path and text), so it costs no model
call and gives the same order on every run.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from deepcode_tui.tokens import count_tokens, truncate_to_tokens

DOCS = frozenset({".md", ".txt", ".rst"})
CODE = frozenset(
    {
        ".py", ".R", ".Rmd", ".m", ".jl", ".c", ".h", ".cpp", ".hpp", ".cc", ".cxx", ".hxx",
        ".java", ".js", ".ts", ".scala", ".go", ".rs", ".sh",
        ".config", ".cfg", ".json", ".yaml", ".yml", ".toml", ".ini",
    }
)  # fmt: skip
TABLES = frozenset(
    {".csv", ".tsv", ".psv", ".json", ".jsonl", ".html", ".xml", ".yaml", ".yml", ".toml", ".arff", ".tex", ".svm", ".libsvm"}
)
# A path part containing one of these is skipped (PaperBench matches them as substrings).
SKIPPED_DIRS = ("venv", ".venv", ".env", "wandb", ".egg-info", ".git", ".github", "__pycache__", "node_modules")
READ_BYTES = 256 * 1024
MAX_FILES = 10  # files shown per leaf, best first (PaperBench's default)

_WORD = re.compile(r"[A-Za-z][a-z0-9]*|[A-Z]+(?![a-z])|\d+")
_STOP = frozenset(["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "with"])


def terms(text: str) -> list[str]:
    return [w for w in (m.lower() for m in _WORD.findall(text)) if len(w) > 1 and w not in _STOP]


def extensions_for(category: str) -> frozenset[str]:
    if category == "Result Analysis":
        return DOCS | TABLES
    return DOCS | CODE


@dataclass
class SubmissionFile:
    path: str  # relative, POSIX
    size: int
    mtime: float
    text: str
    truncated: bool  # only the first READ_BYTES were read
    _tokens: int | None = field(default=None, repr=False)
    _terms: Counter[str] | None = field(default=None, repr=False)

    @property
    def suffix(self) -> str:
        return Path(self.path).suffix

    def rendered(self) -> str:
        note = f" (first {len(self.text.encode())} of {self.size} bytes)" if self.truncated else ""
        return f"<file path=\"{self.path}\"{note}>\n{self.text}\n</file>\n\n"

    @property
    def tokens(self) -> int:
        if self._tokens is None:
            self._tokens = count_tokens(self.rendered())
        return self._tokens

    @property
    def term_counts(self) -> Counter[str]:
        if self._terms is None:
            self._terms = Counter(terms(self.path) * 3 + terms(self.text))
        return self._terms


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class FileRead:
    path: str
    tokens: int
    truncated: bool  # cut to fit the budget


@dataclass
class Selection:
    text: str
    files: list[FileRead]
    tokens: int


def _read_text(full: Path, read_bytes: int) -> tuple[str, int, float, bool] | str:
    """(text, size, mtime, truncated), or why the file is skipped."""
    try:
        fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file"
        chunks, got = [], 0
        while got < read_bytes:
            block = os.read(fd, min(65536, read_bytes - got))
            if not block:
                break
            chunks.append(block)
            got += len(block)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if b"\0" in data:
        return "binary"
    truncated = st.st_size > len(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not truncated or exc.start < len(data) - 4:
            return "binary (not UTF-8)"
        text = data[: exc.start].decode("utf-8")  # cut inside a character at the read limit
    return text, st.st_size, st.st_mtime, truncated


class Submission:
    """A submission directory scanned once; eligibility and ranking per leaf."""

    def __init__(self, root: Path, *, read_bytes: int = READ_BYTES) -> None:
        self.root = Path(root)
        self.files: list[SubmissionFile] = []
        self.skipped: list[Skipped] = []
        wanted = DOCS | CODE | TABLES
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            rel_dir = Path(dirpath).relative_to(self.root)
            dirnames.sort()
            if any(s in part for s in SKIPPED_DIRS for part in rel_dir.parts):
                dirnames[:] = []
                continue
            for name in sorted(filenames):
                rel = (rel_dir / name).as_posix()
                full = Path(dirpath) / name
                if full.is_symlink():
                    self.skipped.append(Skipped(rel, "symlink (never followed)"))
                    continue
                if Path(name).suffix not in wanted:
                    self.skipped.append(Skipped(rel, f"not a document or code file ({Path(name).suffix or 'no extension'})"))
                    continue
                got = _read_text(full, read_bytes)
                if isinstance(got, str):
                    self.skipped.append(Skipped(rel, got))
                    continue
                text, size, mtime, truncated = got
                self.files.append(SubmissionFile(rel, size, mtime, text, truncated))
        self._df: dict[frozenset[str], tuple[Counter[str], float]] = {}

    def eligible(self, category: str, *, results_since: float | None = None) -> list[SubmissionFile]:
        """The files a leaf of ``category`` may see. Result Analysis sees documentation and
        the tables written at or after ``results_since`` (when reproduce.log was created)."""
        exts = extensions_for(category)
        out = [f for f in self.files if f.suffix in exts]
        if category == "Result Analysis" and results_since is not None:
            out = [f for f in out if f.suffix in DOCS or f.mtime >= results_since]
        return out

    def rank(self, query: str, files: list[SubmissionFile]) -> list[SubmissionFile]:
        """``files`` by BM25 relevance to ``query``, best first; ties in path order."""
        if not files:
            return []
        key = frozenset(f.path for f in files)
        if key not in self._df:
            df: Counter[str] = Counter()
            for f in files:
                df.update(f.term_counts.keys())
            avg = sum(sum(f.term_counts.values()) for f in files) / len(files) or 1.0
            self._df[key] = (df, avg)
        df, avg = self._df[key]
        n = len(files)
        q = set(terms(query))
        k1, b = 1.5, 0.75

        def score(f: SubmissionFile) -> float:
            tf, length = f.term_counts, sum(f.term_counts.values())
            total = 0.0
            for t in q:
                if t in tf:
                    idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                    total += idf * tf[t] * (k1 + 1) / (tf[t] + k1 * (1 - b + b * length / avg))
            return total

        return sorted(files, key=lambda f: (-round(score(f), 9), f.path))

    @staticmethod
    def select(ranked: list[SubmissionFile], budget_tokens: int, *, max_files: int = MAX_FILES) -> Selection:
        """The best files that fit ``budget_tokens``; the first that does not fit is cut to the
        rest of the budget (as PaperBench does), then reading stops."""
        parts: list[str] = []
        read: list[FileRead] = []
        used = 0
        for f in ranked[:max_files]:
            room = budget_tokens - used
            if room <= 0:
                break
            if f.tokens <= room:
                parts.append(f.rendered())
                read.append(FileRead(f.path, f.tokens, False))
                used += f.tokens
                continue
            cut = truncate_to_tokens(f.rendered(), room)
            cut = cut.rsplit("\n", 1)[0] if "\n" in cut else cut  # end on a whole line
            tokens = count_tokens(cut)
            if tokens:
                parts.append(cut)
                read.append(FileRead(f.path, tokens, True))
                used += tokens
            break
        return Selection("".join(parts), read, used)

    def listing(self, files: list[SubmissionFile]) -> str:
        return "\n".join(f.path for f in files)

    def total_bytes(self) -> int:
        total = 0
        for dirpath, _dirs, names in os.walk(self.root, followlinks=False):
            for name in names:
                try:
                    total += os.lstat(os.path.join(dirpath, name)).st_size
                except OSError:
                    pass
        return total
