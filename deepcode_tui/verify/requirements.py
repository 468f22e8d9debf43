"""The generated repository's dependency lines, checked before the host acts on them.

The host fetches dependencies for the sandbox (the sandbox has no network),
and ``pip`` will build and run code for anything that is not a binary wheel:
a local path or ``file://`` URL (the repo's own ``pyproject.toml`` build
backend), a VCS URL, an sdist from the index. So a line reaches the host's
``pip download`` only when it is a plain ``name[extras] version-spec``
(markers allowed) naming a package on the index; every other line is refused
here with a finding the repairer reads, and :mod:`.sandbox.wheelhouse`
downloads with ``--only-binary :all:`` so even a plain name never builds.

Manifests are read through :mod:`deepcode_tui.safe_fs` (no symlinks, no
special files, bounded), since the sandbox may have rewritten them.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from pydantic import BaseModel, Field

from deepcode_tui import safe_fs

from .findings import Finding, Kind
from .manifest import declared_from_manifests

MANIFEST_MAX_BYTES = 256 * 1024
MAX_REQUIREMENTS = 200
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
FIX = ("use a plain 'name' or 'name==version' line naming a package on the package index "
       "(the sandbox installs binary wheels only; paths, URLs, VCS links and pip options are refused)")


class RequirementSet(BaseModel):
    """What the host may fetch (normalised lines) and the lines it refused (as findings)."""

    lines: list[str] = Field(default_factory=list)
    refused: list[Finding] = Field(default_factory=list)


def check_line(line: str) -> tuple[str | None, str | None]:
    """(normalised requirement, None) for an acceptable line, (None, reason) otherwise."""
    text = line.strip()
    if text.startswith("-"):
        return None, f"pip option {text.split()[0]!r} is not allowed in a requirement line"
    if any(ord(c) < 0x20 for c in text):
        return None, "the line contains control characters"
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        if re.match(r"^(\.{0,2}/|~|[A-Za-z]:\\|file:|[a-z+]+://)", text) or "/" in text.split(";")[0]:
            return None, "a path or URL is not a package name"
        return None, f"not a valid requirement ({str(exc).splitlines()[0]})"
    if req.url:
        kind = "a VCS link" if re.match(r"^(git|hg|svn|bzr)\+", req.url) else (
            "a local path" if req.url.startswith("file:") else "a URL")
        return None, f"{req.name} @ {req.url} is {kind}, not a package on the index"
    if not _NAME.match(req.name):
        return None, f"{req.name!r} is not a package name"
    return str(req), None


def _locate(text: str, needle: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    return None


def read_requirements(repo: Path) -> RequirementSet:
    """The repo's requirement lines: ``requirements*.txt`` (comments and blank lines
    skipped), else ``pyproject.toml``'s ``project.dependencies``, else the names the
    other manifests declare. Every line is checked by :func:`check_line`."""
    out = RequirementSet()
    files = sorted(p.name for p in safe_fs.walk_files(repo, skip_dir=lambda d: True)
                   if re.fullmatch(r"requirements[\w.-]*\.txt", p.name))
    for name in files:
        try:
            text = safe_fs.read_text(repo, name, max_bytes=MANIFEST_MAX_BYTES)
        except OSError as exc:
            out.refused.append(Finding(file=name, kind=Kind.UNSAFE_REQUIREMENT, stage="static",
                                       message=f"{name} cannot be read safely: {exc}; {FIX}"))
            continue
        for i, raw in enumerate(text.splitlines(), 1):
            line = raw.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            req, why = check_line(line)
            if req is None:
                out.refused.append(Finding(file=name, line=i, kind=Kind.UNSAFE_REQUIREMENT, stage="static",
                                           message=f"requirement refused: {line[:120]!r}: {why}; {FIX}"))
            else:
                out.lines.append(req)
    if not out.lines and not files:
        try:
            text = safe_fs.read_text(repo, "pyproject.toml", max_bytes=MANIFEST_MAX_BYTES)
        except OSError:
            text = ""
        deps: list[str] = []
        if text:
            try:
                project = tomllib.loads(text).get("project", {})
                raw_deps = project.get("dependencies", []) if isinstance(project, dict) else []
                deps = [d for d in raw_deps if isinstance(d, str)] if isinstance(raw_deps, list) else []
            except tomllib.TOMLDecodeError:
                deps = []
        for dep in deps:
            req, why = check_line(dep)
            if req is None:
                out.refused.append(Finding(file="pyproject.toml", line=_locate(text, dep[:40]),
                                           kind=Kind.UNSAFE_REQUIREMENT, stage="static",
                                           message=f"dependency refused: {dep[:120]!r}: {why}; {FIX}"))
            else:
                out.lines.append(req)
        if not deps:
            names, _ = declared_from_manifests(repo)
            out.lines += [n for n in names if check_line(n)[0]]
    out.lines = list(dict.fromkeys(out.lines))
    if len(out.lines) > MAX_REQUIREMENTS:
        out.refused.append(Finding(kind=Kind.UNSAFE_REQUIREMENT, stage="static",
                                   message=f"{len(out.lines)} requirements; at most {MAX_REQUIREMENTS} are fetched (declare only what the code imports)"))
        out.lines = out.lines[:MAX_REQUIREMENTS]
    return out
