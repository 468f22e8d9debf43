"""PaperBench's format rules for a submission, as one-line findings.

A submission is a directory with ``README.md`` at its root (what was done, how
to run it) and, for full PaperBench, ``reproduce.sh`` at its root (the
reproduction step runs ``bash reproduce.sh`` in a fresh container and keeps
``reproduce.log``). PaperBench's agents are told the submission must not
exceed 1 GB; the repository's own files count, ``.git`` does not.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

SIZE_LIMIT_BYTES = 1024**3


class Finding(BaseModel):
    level: str  # "error" | "warning" | "ok"
    rule: str
    message: str

    def line(self) -> str:
        return f"{self.level}: {self.rule}: {self.message}"


def _size(root: Path) -> int:
    total = 0
    for dirpath, dirnames, names in os.walk(root, followlinks=False):
        if Path(dirpath) == root and ".git" in dirnames:
            dirnames.remove(".git")
        for name in names:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue
    return total


def _limit(n: int) -> str:
    return f"{n / 2**30:g} GiB" if n >= 2**30 else f"{n / 2**20:g} MiB"


def check_submission(root: Path, *, code_only: bool, size_limit: int = SIZE_LIMIT_BYTES) -> list[Finding]:
    root = Path(root)
    out: list[Finding] = []
    readme = root / "README.md"
    if readme.is_file() and not readme.is_symlink():
        out.append(Finding(level="ok", rule="readme", message="README.md is present"))
    else:
        out.append(Finding(level="error", rule="readme", message="README.md is missing at the submission's root"))
    script = root / "reproduce.sh"
    if script.is_file() and not script.is_symlink():
        out.append(Finding(level="ok", rule="reproduce.sh", message="reproduce.sh is present"))
    elif code_only:
        out.append(Finding(level="warning", rule="reproduce.sh",
                           message="reproduce.sh is missing (not graded in Code-Dev, required for full PaperBench)"))
    else:
        out.append(Finding(level="error", rule="reproduce.sh",
                           message="reproduce.sh is missing at the submission's root (execution and results leaves score 0)"))
    size = _size(root)
    if size > size_limit:
        out.append(Finding(level="error", rule="size",
                           message=f"the submission holds {size / 2**20:.1f} MiB, over the {_limit(size_limit)} limit"))
    else:
        out.append(Finding(level="ok", rule="size", message=f"{size / 2**20:.2f} MiB (limit {_limit(size_limit)})"))
    return out
