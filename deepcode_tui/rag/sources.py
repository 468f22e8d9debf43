"""Reference sources for CodeRAG: local directories, git URLs and installed packages.

A source spec is one string, as a user writes it in config or on the command line:

* ``pkg:NAME``: the installed source of a Python package (distribution or import name);
* a git URL (``https://…``, ``ssh://…``, ``git@host:owner/repo``, ``github.com/owner/repo``,
  or anything prefixed ``git+``): shallow-cloned into the user cache dir when reachable;
* anything else: a local directory (or a single source file).

:func:`resolve_sources` never raises for a source that cannot be used: it returns it
as a :class:`SkippedSource` with a reason and a fix, so the run continues without it.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel

from deepcode_tui.errors import ConfigError, DeepcodeError, InputError
from deepcode_tui.rag.events import Emit, SourceSkipped, emit_safely

SourceKind = Literal["local", "git", "package"]

_GIT_HOST_RE = re.compile(r"^(?:www\.)?(github\.com|gitlab\.com|bitbucket\.org|codeberg\.org)/[\w.-]+/[\w.-]+")
_SCP_RE = re.compile(r"^[\w.-]+@[\w.-]+:[\w./~-]+$")
_PKG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
DEFAULT_CLONE_TIMEOUT = 60.0


class ReferenceSource(BaseModel):
    """A parsed source spec; ``location`` is a path, URL or package name by ``kind``."""

    spec: str
    kind: SourceKind
    location: str
    name: str


class ResolvedSource(BaseModel):
    """A source ready to index: ``root`` is a readable directory or source file."""

    source: ReferenceSource
    root: Path
    revision: str | None = None

    @property
    def name(self) -> str:
        return self.source.name


class SkippedSource(BaseModel):
    """A source that could not be used, with what went wrong and how to fix it."""

    spec: str
    reason: str
    fix: str = ""


def default_cache_dir() -> Path:
    """Where CodeRAG keeps clones and indexes: ``<user cache>/deepcode-tui/rag``."""
    return Path(platformdirs.user_cache_dir("deepcode-tui")) / "rag"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "source"


def _git_name(url: str) -> str:
    tail = re.split(r"[/:]", url.rstrip("/"))
    parts = [p for p in tail if p][-2:]
    name = "-".join(parts) if parts else url
    return _slug(name.removesuffix(".git"))


def parse_source(spec: str) -> ReferenceSource:
    """Parse one source spec; raises :class:`ConfigError` when it is empty or malformed."""
    raw = (spec or "").strip()
    if not raw:
        raise ConfigError("empty reference source", "give a directory, a git URL or pkg:NAME")
    if raw.startswith("pkg:"):
        name = raw[4:].strip()
        if not _PKG_RE.match(name):
            raise ConfigError(
                f"reference source {raw!r} does not name a package",
                "write pkg: followed by an installed package name, e.g. pkg:numpy",
            )
        return ReferenceSource(spec=raw, kind="package", location=name, name=_slug(name))
    url = raw.removeprefix("git+")
    is_git = raw.startswith("git+") or bool(
        re.match(r"^(https?|ssh|git)://", raw) or _SCP_RE.match(raw) or _GIT_HOST_RE.match(raw)
    )
    if is_git:
        if _GIT_HOST_RE.match(url):
            url = "https://" + url.removeprefix("www.")
        return ReferenceSource(spec=raw, kind="git", location=url, name=_git_name(url))
    path = raw.removeprefix("file://")
    p = Path(path).expanduser()
    return ReferenceSource(spec=raw, kind="local", location=str(p), name=_slug(p.name or str(p)))


def _resolve_local(src: ReferenceSource) -> ResolvedSource:
    p = Path(src.location).expanduser().resolve()
    if not p.exists():
        raise InputError(
            f"reference source {src.spec} does not exist",
            "check the path, or remove it from the reference sources",
        )
    if not os.access(p, os.R_OK | (os.X_OK if p.is_dir() else 0)):
        raise InputError(f"reference source {src.spec} is not readable", "fix its permissions or remove it")
    if not (p.is_dir() or p.is_file()):
        raise InputError(f"reference source {src.spec} is not a directory or file", "point it at a directory")
    return ResolvedSource(source=src, root=p)


def _package_root(name: str) -> tuple[Path, str | None]:
    """Source root and version of an installed package, found without importing it."""
    candidates = [name, name.replace("-", "_"), name.replace("-", "_").lower()]
    version = None
    try:
        dist = importlib.metadata.distribution(name)
        version = dist.version
        top = [m for m, dists in importlib.metadata.packages_distributions().items() if name in dists
               or dist.metadata["Name"] in dists]
        candidates += sorted(top, key=lambda m: (m.startswith("_"), m))
    except importlib.metadata.PackageNotFoundError:
        pass
    for mod in dict.fromkeys(c for c in candidates if c.isidentifier()):
        try:
            spec = importlib.util.find_spec(mod)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        if spec.submodule_search_locations:
            return Path(next(iter(spec.submodule_search_locations))), version
        if spec.origin and spec.origin.endswith(".py"):
            return Path(spec.origin), version
        raise InputError(
            f"package {name} has no Python source to index ({spec.origin or 'built-in'})",
            "use a package installed from source, or a local checkout of its repository",
        )
    raise InputError(
        f"package {name} is not installed in this environment",
        f"install it (pip install {name}) or remove pkg:{name} from the reference sources",
    )


def _resolve_package(src: ReferenceSource) -> ResolvedSource:
    root, version = _package_root(src.location)
    if version is None:
        try:
            version = importlib.metadata.version(root.stem if root.is_file() else root.name)
        except importlib.metadata.PackageNotFoundError:
            version = None
    return ResolvedSource(source=src, root=root.resolve(), revision=version)


def _run_git(args: list[str], timeout: float, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="/bin/true", SSH_ASKPASS="/bin/true")
    env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes -o ConnectTimeout=10"
    # A new session lets a timeout kill git's helper processes (remote-https, ssh) too.
    proc = subprocess.Popen(
        ["git", *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, text=True, start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _git_failure_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    fatal = [ln for ln in lines if ln.lower().startswith(("fatal:", "error:"))]
    return (fatal or lines or ["git gave no reason"])[-1]


def _resolve_git(src: ReferenceSource, cache_dir: Path, timeout: float) -> ResolvedSource:
    if shutil.which("git") is None:
        raise InputError(f"cannot clone {src.location}: git is not installed",
                         "install git, or clone it yourself and add the directory as a source")
    digest = hashlib.sha256(src.location.encode()).hexdigest()[:10]
    dest = cache_dir / "repos" / f"{src.name}-{digest}"
    if not (dest / ".git").is_dir():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".clone-", dir=dest.parent))
        try:
            res = _run_git(["clone", "--depth", "1", "--quiet", "--", src.location, str(tmp / "repo")], timeout)
            if res.returncode != 0:
                raise InputError(
                    f"cannot clone {src.location}: {_git_failure_line(res.stderr)}",
                    "check the URL and the network, or clone it yourself and add the directory as a source",
                )
            os.replace(tmp / "repo", dest)  # the cache only ever holds complete clones
        except subprocess.TimeoutExpired:
            raise InputError(
                f"cannot clone {src.location}: no answer within {timeout:g} s",
                "check the network, or clone it yourself and add the directory as a source",
            ) from None
        except OSError as exc:
            raise InputError(f"cannot clone {src.location}: {exc}", "check the cache directory") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    revision = None
    try:
        res = _run_git(["rev-parse", "HEAD"], 10.0, cwd=dest)
        if res.returncode == 0 and res.stdout.strip():
            revision = res.stdout.strip()
    except (subprocess.TimeoutExpired, OSError):
        pass
    return ResolvedSource(source=src, root=dest, revision=revision)


def resolve_source(
    source: str | ReferenceSource, *, cache_dir: Path | None = None, clone_timeout: float = DEFAULT_CLONE_TIMEOUT
) -> ResolvedSource:
    """Resolve one source; raises a :class:`DeepcodeError` naming cause and fix when it is unusable."""
    src = parse_source(source) if isinstance(source, str) else source
    if src.kind == "package":
        return _resolve_package(src)
    if src.kind == "git":
        return _resolve_git(src, cache_dir or default_cache_dir(), clone_timeout)
    return _resolve_local(src)


def resolve_sources(
    specs: Iterable[str | ReferenceSource],
    *,
    cache_dir: Path | None = None,
    clone_timeout: float = DEFAULT_CLONE_TIMEOUT,
) -> tuple[list[ResolvedSource], list[SkippedSource]]:
    """Resolve every spec; unusable ones come back skipped (with reason and fix), never raised.

    Duplicates (same kind and location) are resolved once. Order is preserved.
    """
    resolved: list[ResolvedSource] = []
    skipped: list[SkippedSource] = []
    seen: set[tuple[str, str]] = set()
    for spec in specs:
        raw = spec if isinstance(spec, str) else spec.spec
        try:
            src = parse_source(spec) if isinstance(spec, str) else spec
            if (src.kind, src.location) in seen:
                continue
            seen.add((src.kind, src.location))
            resolved.append(resolve_source(src, cache_dir=cache_dir, clone_timeout=clone_timeout))
        except DeepcodeError as exc:
            skipped.append(SkippedSource(spec=raw, reason=exc.message, fix=exc.fix))
    _dedupe_names(resolved)
    return resolved, skipped


def _dedupe_names(resolved: list[ResolvedSource]) -> None:
    """Give each source a distinct name: chunks are keyed ``name:relpath``."""
    used: dict[str, int] = {}
    for r in resolved:
        n = used.get(r.source.name, 0)
        used[r.source.name] = n + 1
        if n:
            r.source = r.source.model_copy(update={"name": f"{r.source.name}-{n + 1}"})


async def resolve_sources_async(
    specs: Iterable[str | ReferenceSource],
    *,
    emit: Emit | None = None,
    cache_dir: Path | None = None,
    clone_timeout: float = DEFAULT_CLONE_TIMEOUT,
) -> tuple[list[ResolvedSource], list[SkippedSource]]:
    """:func:`resolve_sources` off the event loop, emitting a ``SourceSkipped`` event per skip."""
    specs = list(specs)
    resolved, skipped = await asyncio.to_thread(
        resolve_sources, specs, cache_dir=cache_dir, clone_timeout=clone_timeout
    )
    for s in skipped:
        await emit_safely(emit, SourceSkipped(spec=s.spec, reason=s.reason, fix=s.fix))
    return resolved, skipped


def select_sources(
    candidates: Iterable[str], add: Iterable[str] = (), remove: Iterable[str] = ()
) -> list[str]:
    """Combine mined candidates with the user's additions and removals (config, CLI, app).

    A removal matches a spec exactly or by its parsed location, so ``github.com/a/b``
    removes ``https://github.com/a/b``. Order: candidates first, then additions.
    """

    def key(spec: str) -> tuple[str, str]:
        try:
            s = parse_source(spec)
            return (s.kind, s.location.removesuffix(".git").rstrip("/").lower())
        except ConfigError:
            return ("?", spec.strip())

    removed = {key(r) for r in remove if r.strip()}
    out: dict[tuple[str, str], str] = {}
    for spec in [*candidates, *add]:
        if spec.strip() and key(spec) not in removed:
            out.setdefault(key(spec), spec.strip())
    return list(out.values())
