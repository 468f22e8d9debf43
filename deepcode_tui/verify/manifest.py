"""Imports a repo uses versus the dependencies its manifest declares.

Import names are mapped to distribution names with a table of the common
mismatches (``sklearn`` -> scikit-learn, ``yaml`` -> PyYAML, ...), then with
the host's installed-package metadata, then by identity. The standard library
(``sys.stdlib_module_names``) and the repo's own modules are never
dependencies.
"""

from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path, PurePosixPath

from packaging.requirements import InvalidRequirement, Requirement

from deepcode_tui import safe_fs

MANIFEST_MAX_BYTES = 256 * 1024

# Import name -> distribution name, where they differ.
IMPORT_TO_DIST: dict[str, str] = {
    "sklearn": "scikit-learn", "skimage": "scikit-image", "yaml": "PyYAML", "cv2": "opencv-python",
    "PIL": "Pillow", "bs4": "beautifulsoup4", "dateutil": "python-dateutil", "dotenv": "python-dotenv",
    "jwt": "PyJWT", "serial": "pyserial", "usb": "pyusb", "Crypto": "pycryptodome", "OpenSSL": "pyOpenSSL",
    "git": "GitPython", "magic": "python-magic", "docx": "python-docx", "pptx": "python-pptx",
    "attr": "attrs", "google.protobuf": "protobuf", "tensorflow_datasets": "tensorflow-datasets",
    "torchvision": "torchvision", "gym": "gym", "sentencepiece": "sentencepiece", "zmq": "pyzmq",
    "MySQLdb": "mysqlclient", "psycopg2": "psycopg2-binary", "pkg_resources": "setuptools",
    "setuptools": "setuptools", "win32api": "pywin32", "mpl_toolkits": "matplotlib", "Levenshtein": "Levenshtein",
    "fitz": "PyMuPDF", "wx": "wxPython", "slugify": "python-slugify", "multipart": "python-multipart",
    "jose": "python-jose", "telegram": "python-telegram-bot", "lxml": "lxml", "tree_sitter": "tree-sitter",
    "faiss": "faiss-cpu", "umap": "umap-learn", "community": "python-louvain", "igraph": "igraph",
    "Bio": "biopython", "pytorch_lightning": "pytorch-lightning", "lightning": "lightning",
    "huggingface_hub": "huggingface-hub", "typing_extensions": "typing-extensions",
}
# Distributions that provide several import names, so either spelling counts as declared.
DIST_ALIASES: dict[str, set[str]] = {
    "opencv-python": {"opencv-python-headless", "opencv-contrib-python", "opencv-contrib-python-headless"},
    "psycopg2-binary": {"psycopg2"},
    "pycryptodome": {"pycryptodomex", "pycrypto"},
    "faiss-cpu": {"faiss-gpu", "faiss"},
    "python-magic": {"python-magic-bin"},
}
SKIP_DIRS = {".git", ".venv", "venv", ".venv-sandbox", "node_modules", "__pycache__", ".tox", "build", "dist",
             ".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages"}


def normalise(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def _installed_map() -> dict[str, list[str]]:
    try:
        return {k: list(v) for k, v in metadata.packages_distributions().items()}
    except Exception:  # broken metadata in the host env must not break the check
        return {}


def dist_for_import(module: str) -> str:
    """The distribution that most likely provides top-level import ``module``."""
    top = module.split(".")[0]
    if module in IMPORT_TO_DIST:
        return IMPORT_TO_DIST[module]
    if top in IMPORT_TO_DIST:
        return IMPORT_TO_DIST[top]
    dists = _installed_map().get(top)
    if dists:
        return dists[0]
    return top.replace("_", "-")


def _skip_dir(name: str) -> bool:
    return name in SKIP_DIRS or name.startswith(".")


def python_files(repo: Path) -> list[Path]:
    """The repo's .py files: regular files only (the sandbox may have left symlinks
    or FIFOs; they are never listed), vendored and hidden directories skipped."""
    return [p for p in safe_fs.walk_files(repo, skip_dir=_skip_dir) if p.suffix == ".py"]


def local_modules(repo: Path) -> set[str]:
    """Top-level names the repo provides itself: every .py stem and every directory holding .py files."""
    names: set[str] = set()
    for p in python_files(repo):
        rel = PurePosixPath(p.relative_to(repo).as_posix())
        names.add(rel.stem)
        names.update(rel.parts[:-1])
    return names


def imports_of(source: str) -> list[tuple[str, int]]:
    """(absolute module name, line) of each import statement; relative imports skipped.
    Imports inside ``try:`` blocks guarded by ``except ImportError`` are optional and skipped."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        # Unparsable file: a line-based scan still finds its top-level imports.
        out = []
        for i, line in enumerate(source.splitlines(), 1):
            m = re.match(r"(?:import|from)\s+([A-Za-z_][\w.]*)", line)
            if m:
                out.append((m.group(1), i))
        return out
    optional: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            h.type is None or any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError", "Exception")
                                  for n in ast.walk(h.type))
            for h in node.handlers
        ):
            for inner in node.body:
                for sub in ast.walk(inner):
                    optional.add(id(sub))
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.module, node.lineno))
    return sorted(out, key=lambda x: x[1])


def _req_name(line: str) -> str | None:
    line = line.split(" #", 1)[0].strip()
    if not line or line.startswith(("#", "-", "git+", "http:", "https:", "file:", ".", "/")):
        return None
    try:
        return Requirement(line).name
    except InvalidRequirement:
        m = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
        return m.group(0) if m else None


def declared_from_manifests(repo: Path) -> tuple[list[str], bool]:
    """Distribution names declared by requirements*.txt and pyproject.toml
    (project, optional and poetry dependencies), and whether any manifest exists."""
    names: list[str] = []
    found = False
    for req in (p for p in safe_fs.walk_files(repo, skip_dir=lambda d: True)
                if re.fullmatch(r"requirements[\w.-]*\.txt", p.name)):
        found = True
        for line in safe_fs.read_text_or_empty(repo, req.name, max_bytes=MANIFEST_MAX_BYTES).splitlines():
            n = _req_name(line)
            if n:
                names.append(n)
    pyproject_text = safe_fs.read_text_or_empty(repo, "pyproject.toml", max_bytes=MANIFEST_MAX_BYTES)
    if pyproject_text:
        try:
            data = tomllib.loads(pyproject_text)
        except tomllib.TOMLDecodeError:
            data = {}
        project = data.get("project", {})
        deps = list(project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            deps += list(extra)
        if deps or "project" in data:
            found = True
        names += [n for n in (_req_name(d) for d in deps) if n]
        poetry = data.get("tool", {}).get("poetry", {})
        for table in (poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})):
            found = found or bool(table)
            names += [k for k in table if k.lower() != "python"]
    return names, found


def pip_index_lookup(names: Iterable[str], *, timeout_s: float = 30) -> dict[str, bool]:
    """Whether each distribution exists on the configured package index
    (``pip index versions``); a name whose lookup fails for another reason counts as present."""
    out: dict[str, bool] = {}
    for name in names:
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "pip", "index", "versions", name, "--disable-pip-version-check"],
                capture_output=True, text=True, timeout=timeout_s,
            )
        except subprocess.TimeoutExpired:
            out[name] = True
            continue
        text = proc.stdout + proc.stderr
        out[name] = not (proc.returncode != 0 and "No matching distribution found" in text)
    return out


IndexLookup = Callable[[list[str]], dict[str, bool]]
