"""The static pass: what can be found without running anything.

Checks, in order: structure against the blueprint's file list (missing and
empty files), syntax (``compile`` for Python, tree-sitter ERROR/MISSING
nodes for every language with a grammar), lint through ruff (pyflakes rules
and syntax: undefined names, missing and unused imports, redefinitions), the
dependency manifest against the imports actually used (and, when asked,
against the package index), CodeMem's cross-file consistency check run on
the files as they are now (imports resolve, imported symbols exist, calls fit
the callee's signature), then any findings handed in.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath

from deepcode_tui import safe_fs
from deepcode_tui.treesitter import get_parser, language_for_path

from .completeness import check_completeness
from .consistency import CONSISTENCY_KINDS, check_repo_consistency
from .findings import Finding, Kind, dedupe
from .manifest import (
    DIST_ALIASES,
    IMPORT_TO_DIST,
    SKIP_DIRS,
    IndexLookup,
    declared_from_manifests,
    dist_for_import,
    imports_of,
    local_modules,
    normalise,
    pip_index_lookup,
    python_files,
)
from .submission_check import check_submission_files
from .syntax_hints import closer_finding
from .trace_context import TraceContext
from .trace_tools import locate_requirement

ALLOWED_EMPTY = {"__init__.py", "py.typed", ".gitkeep", ".keep", "__main__.py"}
# Conventional aliases of modules: an undefined ``np`` is a missing ``import numpy as np``.
MODULE_ALIASES = {"np", "pd", "plt", "tf", "nn", "sns", "sp", "mpl", "F", "optim", "torch", "jnp", "sk"}
_ERROR_CODES = ("F821", "F822", "F823", "F63", "F7", "F50", "F52", "F60")
_INFO_IN_INIT = ("F401", "F403")
_OPENED_ON = re.compile(r"opening parenthesis '.' on line (\d+)")
# Tools the verification stage installs itself, so they need no declaration.
RUNNER_PACKAGES = {"pytest", "_pytest"}
# Kinds this pass recomputes from the files on disk (with ``consistency`` on): a
# handed-in finding of these kinds is a snapshot of an older state, superseded.
RECHECKED_KINDS = CONSISTENCY_KINDS | {Kind.SYNTAX_ERROR}


def source_files(repo: Path) -> list[Path]:
    """The repo's files with a tree-sitter grammar (Python/JS/TS), vendored and hidden dirs skipped."""
    # Regular files only (safe_fs): a symlink or FIFO left by sandboxed code is never read.
    return [p for p in safe_fs.walk_files(repo, skip_dir=lambda d: d in SKIP_DIRS or d.startswith("."),
                                          max_size=2_000_000) if language_for_path(p)]


def check_structure(repo: Path, expected_files: Iterable[str]) -> list[Finding]:
    """Missing and empty files among those the blueprint lists."""
    out: list[Finding] = []
    for rel in dict.fromkeys(PurePosixPath(f.replace("\\", "/")).as_posix() for f in expected_files):
        path = repo / rel
        if not safe_fs.is_regular_file(path):
            out.append(Finding(file=rel, kind=Kind.MISSING_FILE, stage="static",
                               message=f"{rel} is in the blueprint but was not generated"))
            continue
        if PurePosixPath(rel).name in ALLOWED_EMPTY:
            continue
        try:
            empty = not safe_fs.read_text(repo, rel).strip()
        except OSError:
            empty = False
        if empty:
            out.append(Finding(file=rel, line=1, kind=Kind.EMPTY_FILE, stage="static",
                               message=f"{rel} is empty; the blueprint expects content"))
    return out


def _tree_sitter_errors(rel: str, source: bytes, lang: str, limit: int = 5,
                        known: frozenset[int] = frozenset()) -> list[Finding]:
    """ERROR and MISSING nodes as findings at their first line. An ERROR node
    spanning one of the ``known`` lines (where ``compile`` already located the
    error) is skipped: tree-sitter's recovery often wraps everything from the
    top of the file down to the real error in one node, whose start (``file:1``)
    says nothing."""
    tree = get_parser(lang).parse(source)
    out: list[Finding] = []
    stack = [tree.root_node]
    while stack and len(out) < limit:
        node = stack.pop()
        if node.is_missing:
            out.append(Finding(file=rel, line=node.start_point[0] + 1, kind=Kind.SYNTAX_ERROR, stage="static",
                               message=f"missing {node.type!s} (tree-sitter)"))
            continue
        if node.is_error:
            if any(node.start_point[0] + 1 <= k <= node.end_point[0] + 1 for k in known):
                continue
            snippet = source[node.start_byte : min(node.end_byte, node.start_byte + 40)].decode(errors="replace")
            out.append(Finding(file=rel, line=node.start_point[0] + 1, kind=Kind.SYNTAX_ERROR, stage="static",
                               message=f"cannot parse {snippet.splitlines()[0] if snippet else 'here'!r} (tree-sitter)"))
            continue
        if node.has_error:
            stack.extend(reversed(node.children))
    return out


def check_syntax(repo: Path, files: Sequence[Path] | None = None) -> list[Finding]:
    """Python: ``compile`` is authoritative (tree-sitter's grammar can lag the
    interpreter), and tree-sitter adds further error locations when compile
    fails (compile stops at the first). Other languages: tree-sitter only."""
    out: list[Finding] = []
    for path in files if files is not None else source_files(repo):
        rel = path.relative_to(repo).as_posix()
        lang = language_for_path(path)
        try:
            source = safe_fs.read_bytes(repo, rel)
        except OSError as exc:
            out.append(Finding(file=rel, kind=Kind.SYNTAX_ERROR, stage="static", message=f"unreadable: {exc}"))
            continue
        if lang == "python":
            try:
                compile(source, rel, "exec", dont_inherit=True)
                continue
            except SyntaxError as exc:
                found = Finding(file=rel, line=exc.lineno, kind=Kind.SYNTAX_ERROR, stage="static",
                                message=f"{type(exc).__name__}: {exc.msg}")
                out.append(found)
                # A mismatched closer is seen where it stands; the bracket left open is
                # usually the mistake, on the line the message names.
                opener = _OPENED_ON.search(exc.msg or "")
                if opener and int(opener.group(1)) != exc.lineno:
                    out.append(Finding(file=rel, line=int(opener.group(1)), kind=Kind.SYNTAX_ERROR, stage="static",
                                       message=f"{type(exc).__name__}: the bracket opened here is not closed "
                                               f"before line {exc.lineno} ({exc.msg})"))
                # A bracket left open: also where its closer belongs (syntax_hints).
                closer = closer_finding(found, source.decode("utf-8", errors="replace"))
                if closer is not None and closer.line not in {f.line for f in out if f.file == rel}:
                    out.append(closer)
            except ValueError as exc:  # e.g. NUL bytes
                out.append(Finding(file=rel, line=1, kind=Kind.SYNTAX_ERROR, stage="static", message=str(exc)))
                continue
            seen = frozenset(f.line for f in out if f.file == rel and f.line)
            out += [f for f in _tree_sitter_errors(rel, source, lang, known=seen) if f.line not in seen]
        elif lang:
            out += _tree_sitter_errors(rel, source, lang)
    return out


def _is_module_name(name: str, local: set[str]) -> bool:
    return name in sys.stdlib_module_names or name in local or name in MODULE_ALIASES or name in IMPORT_TO_DIST


def check_lint(repo: Path, *, timeout_s: float = 120) -> list[Finding]:
    """ruff's pyflakes rules (config files ignored so results do not depend on the repo's settings)."""
    argv = [sys.executable, "-m", "ruff", "check", "--output-format", "json", "--select", "F,E9",
            "--isolated", "--no-cache", "--exit-zero", "--target-version", "py311",
            "--extend-exclude", ".venv-sandbox", str(repo)]
    try:
        proc = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=timeout_s, cwd=repo)
        items = json.loads(proc.stdout or "[]")
    except subprocess.TimeoutExpired:
        return [Finding(kind=Kind.LINT, stage="static", severity="warning",
                        message=f"ruff did not finish within {timeout_s:g} s; lint skipped")]
    except json.JSONDecodeError:
        return [Finding(kind=Kind.LINT, stage="static", severity="warning",
                        message=f"ruff failed; lint skipped: {proc.stderr.strip()[:200]}")]
    local = local_modules(repo)
    out: list[Finding] = []
    root = repo.resolve()
    for item in items:
        code = item.get("code")
        if not code or code == "E999" or not code[:1].isalpha() or not code[1:].isdigit():
            continue  # syntax errors come from check_syntax, located more precisely
        try:
            rel = Path(item["filename"]).resolve().relative_to(root).as_posix()
        except ValueError:
            continue
        line = item.get("location", {}).get("row")
        msg = item.get("message", "")
        name = msg.split("`")[1] if msg.count("`") >= 2 else ""
        severity = "error" if code.startswith(_ERROR_CODES) else "warning"
        if code == "F821":
            kind = Kind.MISSING_IMPORT if _is_module_name(name, local) else Kind.UNDEFINED_NAME
            if kind == Kind.MISSING_IMPORT:
                msg = f"`{name}` is used but never imported"
        elif code == "F401":
            kind = Kind.UNUSED_IMPORT
        elif code == "F811":
            kind = Kind.REDEFINITION
        else:
            kind = Kind.LINT
        if code.startswith(_INFO_IN_INIT) and rel.endswith("__init__.py"):
            severity = "info"
        out.append(Finding(file=rel, line=line, kind=kind, stage="static", severity=severity,
                           message=f"{msg} ({code})"))
    return out


def check_manifest(
    repo: Path,
    declared_packages: Sequence[str] | None,
    *,
    check_index: bool = False,
    index_lookup: IndexLookup | None = None,
) -> list[Finding]:
    """Third-party imports not declared (located at the first import in each
    file), and, with ``check_index``, declared distributions the index lacks
    (located at the manifest line)."""
    if declared_packages is None:
        declared, has_manifest = declared_from_manifests(repo)
    else:
        declared, has_manifest = list(declared_packages), True
    declared_norm = {normalise(d) for d in declared}
    for canonical, aliases in DIST_ALIASES.items():
        if declared_norm & {normalise(a) for a in aliases}:
            declared_norm.add(normalise(canonical))
    local = local_modules(repo)
    out: list[Finding] = []
    for path in python_files(repo):
        rel = path.relative_to(repo).as_posix()
        try:
            source = safe_fs.read_text(repo, rel)
        except OSError:
            continue
        reported: set[str] = set()
        for module, line in imports_of(source):
            top = module.split(".")[0]
            if top in reported or top in sys.stdlib_module_names or top in local or top == "__future__":
                continue
            if top in RUNNER_PACKAGES:
                continue
            dist = dist_for_import(module)
            if normalise(dist) in declared_norm or normalise(top) in declared_norm:
                continue
            reported.add(top)
            where = "the manifest does not declare it" if has_manifest else "no requirements.txt or pyproject.toml exists"
            out.append(Finding(file=rel, line=line, kind=Kind.UNDECLARED_DEPENDENCY, stage="static",
                               message=f"imports {top} (distribution {dist}) but {where}"))
    if check_index and declared:
        lookup = index_lookup or pip_index_lookup
        names = sorted({d for d in declared if normalise(d) not in {"python"}}, key=normalise)
        present = lookup(names)
        ctx = TraceContext(repo=repo)
        for name in names:
            if present.get(name, True):
                continue
            file, line = locate_requirement(ctx, name)
            out.append(Finding(file=file, line=line, kind=Kind.UNKNOWN_DEPENDENCY, stage="static",
                               message=f"{name} is declared but does not exist on the package index"))
    return out


def run_static_checks(
    repo: Path,
    *,
    expected_files: list[str],
    declared_packages: list[str] | None,
    extra_findings: Iterable[Finding] = (),
    check_index: bool = False,
    index_lookup: IndexLookup | None = None,
    consistency: bool = True,
    components: Mapping[str, Sequence[str]] | None = None,
) -> list[Finding]:
    """All static findings for ``repo``. ``declared_packages`` None means: read
    requirements*.txt / pyproject.toml. ``consistency`` runs CodeMem's
    consistency check on the current files (kinds in ``CONSISTENCY_KINDS``).
    ``extra_findings`` are appended, except, with ``consistency`` on, those of a
    ``RECHECKED_KINDS`` kind (stale snapshots of what this pass just recomputed).
    ``components`` (planned names per file) sharpens the placeholder check.
    Runs in seconds; never raises for repo content."""
    repo = Path(repo)
    files = source_files(repo)
    findings = check_structure(repo, expected_files)
    findings += check_submission_files(repo, expected_files)  # README.md, reproduce.sh (issue 16)
    findings += check_completeness(repo, expected_files, components)  # planned but placeholder
    findings += check_syntax(repo, files)
    findings += check_lint(repo)
    findings += check_manifest(repo, declared_packages, check_index=check_index, index_lookup=index_lookup)
    extra = list(extra_findings)
    if consistency:
        findings += check_repo_consistency(repo, files, expected_files=expected_files)
        extra = [f for f in extra if f.kind not in RECHECKED_KINDS]
    findings += extra
    return dedupe(findings)
