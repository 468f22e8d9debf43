"""Static checks of the submission files a blueprint planned (README.md, reproduce.sh, a manifest).

Only files the blueprint lists are required (a hand-made plan without them is not
a submission and is not held to it). Nothing here runs the script: reproduce.sh
is read as text and parsed with the tree-sitter bash grammar.
  - reproduce.sh is a bash script (a bash shebang or none, and it parses);
  - every repository file it names as an input (scripts it runs, ``-r`` files,
    ``python -m`` modules) exists;
  - README.md names every source and script file of the plan by its path.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from deepcode_tui.verify.findings import Finding

README = "README.md"
REPRODUCE = "reproduce.sh"
MANIFESTS = ("requirements.txt", "pyproject.toml", "environment.yml", "setup.py", "package.json")
KIND = "submission"
_INPUT_SUFFIXES = (".py", ".sh", ".toml", ".cfg", ".ini", ".yaml", ".yml")
_OUTPUT_HINT = re.compile(r"(^|/)(results?|outputs?|logs?|runs?|checkpoints?)/")


def _finding(file: str | None, message: str, line: int | None = None) -> Finding:
    return Finding(file=file, line=line, kind=KIND, message=message, stage="static", severity="error")


def _read(repo: Path, rel: str) -> str | None:
    p = repo / rel
    if p.is_symlink() or not p.is_file():
        return None
    try:
        return p.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _bash_parses(text: str) -> int | None:
    """The 1-based line of the first parse error, or None when it parses (or no grammar)."""
    try:
        import tree_sitter_bash
        from tree_sitter import Language, Parser
    except ImportError:
        return None
    parser = Parser(Language(tree_sitter_bash.language()))
    tree = parser.parse(text.encode())
    if not tree.root_node.has_error:
        return None
    stack = [tree.root_node]
    while stack:
        node = stack.pop(0)
        if node.type == "ERROR" or node.is_missing:
            return node.start_point[0] + 1
        stack.extend(c for c in node.children if c.has_error or c.type == "ERROR" or c.is_missing)
    return 1


def _named_inputs(text: str) -> list[tuple[int, str]]:
    """(line, path) of the repository files the script reads or runs."""
    out: list[tuple[int, str]] = []
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            words = line.split()
        for i, w in enumerate(words):
            prev = words[i - 1] if i else ""
            if "$" in w or "://" in w or w.startswith(("-", "/", "~")) or "*" in w or "=" in w:
                continue
            if prev == "-m" and i >= 2 and words[i - 2].startswith("python"):
                if re.fullmatch(r"[A-Za-z_][\w.]*", w) and w.split(".")[0] not in {"pip", "venv", "pytest", "unittest"}:
                    out.append((no, "module:" + w))
                continue
            if prev == "-r" or (w.endswith(_INPUT_SUFFIXES) and not _OUTPUT_HINT.search(w)):
                out.append((no, w.removeprefix("./")))
    return out


def _module_exists(repo: Path, module: str) -> bool:
    rel = Path(*module.split("."))
    return any((base / rel).with_suffix(".py").is_file() or (base / rel / "__init__.py").is_file()
               or (base / rel / "__main__.py").is_file() for base in (repo, repo / "src"))  # fmt: skip


def check_submission_files(repo: Path, expected_files: list[str]) -> list[Finding]:
    """Findings for the submission files of the plan (none when it planned none)."""
    repo = Path(repo)
    planned = set(expected_files)
    findings: list[Finding] = []
    if REPRODUCE in planned:
        text = _read(repo, REPRODUCE)
        if text is not None:
            first = text.splitlines()[0] if text.strip() else ""
            if first.startswith("#!") and "bash" not in first:
                findings.append(_finding(REPRODUCE, f"reproduce.sh must be a bash script, its shebang is {first!r}", 1))
            bad = _bash_parses(text)
            if bad is not None:
                findings.append(_finding(REPRODUCE, "reproduce.sh does not parse as bash", bad))
            for line, name in _named_inputs(text):
                if name.startswith("module:"):
                    module = name.removeprefix("module:")
                    if not _module_exists(repo, module):
                        findings.append(_finding(REPRODUCE, f"reproduce.sh runs module {module}, which is not in the repository", line))
                elif not (repo / name).exists() and name not in planned:
                    findings.append(_finding(REPRODUCE, f"reproduce.sh names {name}, which does not exist", line))
    if README in planned:
        text = _read(repo, README)
        if text is not None:
            named = [p for p in expected_files if p.endswith((".py", ".sh", ".js", ".ts")) and p != REPRODUCE]
            missing = [p for p in named if p not in text]
            if missing:
                findings.append(_finding(README, "README.md does not name these files of the repository: "
                                         + ", ".join(missing[:12]) + (" ..." if len(missing) > 12 else "")))  # fmt: skip
    return findings
