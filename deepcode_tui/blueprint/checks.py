"""Plan checks on a Blueprint and the order files are generated in.

Each :class:`Issue` carries ``loc``, the path of the offending value inside
the blueprint (``("file_hierarchy", 2, "dependencies", 0)``), which the
YAML reader turns into a line number. Errors block approval; warnings are
shown but do not.
"""

from __future__ import annotations

import re

import heapq
from typing import Any, Literal

from pydantic import BaseModel

from deepcode_tui.blueprint.models import Blueprint
from deepcode_tui.repo_paths import FIX, path_problem

# Files that carry code and therefore need a component spec to be generated well.
SPEC_KINDS = ("source", "test", "script")


class Issue(BaseModel):
    severity: Literal["error", "warning"]
    code: str  # unknown_dependency, dependency_cycle, missing_spec, ...
    message: str
    loc: tuple[Any, ...] = ()
    files: list[str] = []  # the files involved (for a cycle: the cycle path)


def _cycles(bp: Blueprint) -> list[list[str]]:
    """Every elementary dependency cycle found by DFS, each reported once, as a path a -> b -> a."""
    known = set(bp.paths())
    graph = {f.path: [d for d in f.dependencies if d in known and d != f.path] for f in bp.file_hierarchy}
    color: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    seen_sets: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        color[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if color.get(nxt, 0) == 0:
                visit(nxt)
            elif color.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                key = frozenset(cycle)
                if key not in seen_sets:
                    seen_sets.add(key)
                    found.append(cycle)
        stack.pop()
        color[node] = 2

    for path in graph:
        if color.get(path, 0) == 0:
            visit(path)
    return found


_PATH_PART = re.compile(r"^[A-Za-z0-9_.@+-][A-Za-z0-9_.@+ -]*$")


def _plausible_path(path: str) -> bool:
    """Relative segments of ordinary file-name characters (no '#', '$', '{' ...)."""
    parts = path.split("/")
    return all(_PATH_PART.match(p) for p in parts) and parts[-1] not in ("", ".", "..")


def check_blueprint(bp: Blueprint) -> list[Issue]:
    """All plan problems of ``bp``: errors first-found order, then warnings."""
    issues: list[Issue] = []
    paths = bp.paths()
    known = set(paths)
    position = {p: i for i, p in enumerate(paths)}
    n_stages = len(bp.stages)

    if not bp.file_hierarchy:
        issues.append(
            Issue(
                severity="error",
                code="no_files",
                message="file_hierarchy is empty; plan at least one file",
                loc=("file_hierarchy",),
            )
        )

    for i, f in enumerate(bp.file_hierarchy):
        refused = path_problem(f.path)
        if refused:
            # The same rule the coder's writer applies: a plan path it would refuse
            # (too long, a newline in it, outside the repo) is an error here, at the gate.
            issues.append(
                Issue(
                    severity="error",
                    code="refused_path",
                    loc=("file_hierarchy", i, "path"),
                    message=f"{refused}; {FIX}",
                    files=[f.path],
                )
            )
        elif not _plausible_path(f.path):
            issues.append(
                Issue(
                    severity="warning",
                    code="implausible_path",
                    loc=("file_hierarchy", i, "path"),
                    message=f"{f.path!r} does not look like a file path (a copied schema reference?); rename it",
                    files=[f.path],
                )
            )
        for j, dep in enumerate(f.dependencies):
            if dep == f.path:
                issues.append(
                    Issue(
                        severity="error",
                        code="self_dependency",
                        loc=("file_hierarchy", i, "dependencies", j),
                        message=f"{f.path} lists itself as a dependency; remove it",
                        files=[f.path],
                    )
                )
            elif dep not in known:
                issues.append(
                    Issue(
                        severity="error",
                        code="unknown_dependency",
                        loc=("file_hierarchy", i, "dependencies", j),
                        message=f"{f.path} depends on {dep}, which is not in file_hierarchy; add it or remove the dependency",
                        files=[f.path, dep],
                    )
                )
        if n_stages and f.stage > n_stages:
            issues.append(
                Issue(
                    severity="error",
                    code="unknown_stage",
                    loc=("file_hierarchy", i, "stage"),
                    message=f"{f.path} is in stage {f.stage} but only {n_stages} stages are planned",
                    files=[f.path],
                )
            )

    for cycle in _cycles(bp):
        first = cycle[0]
        i = position[first]
        j = bp.file_hierarchy[i].dependencies.index(cycle[1])
        issues.append(
            Issue(
                severity="error",
                code="dependency_cycle",
                loc=("file_hierarchy", i, "dependencies", j),
                message="dependency cycle: "
                + " -> ".join(cycle)
                + "; break it by removing one of these dependencies",
                files=cycle,
            )
        )

    spec_files: set[str] = set()
    for k, c in enumerate(bp.components):
        if c.file not in known:
            issues.append(
                Issue(
                    severity="error",
                    code="unknown_component_file",
                    loc=("components", k, "file"),
                    message=f"components has a spec for {c.file}, which is not in file_hierarchy",
                    files=[c.file],
                )
            )
        elif not c.is_empty():
            spec_files.add(c.file)

    for s_idx, stage in enumerate(bp.stages):
        for j, p in enumerate(stage.files):
            if p not in known:
                issues.append(
                    Issue(
                        severity="error",
                        code="unknown_stage_file",
                        loc=("stages", s_idx, "files", j),
                        message=f"stage {stage.name!r} lists {p}, which is not in file_hierarchy",
                        files=[p],
                    )
                )

    # Warnings: plans that work but are probably not what the author meant.
    for i, f in enumerate(bp.file_hierarchy):
        if f.kind in SPEC_KINDS and f.path not in spec_files:
            issues.append(
                Issue(
                    severity="warning",
                    code="missing_spec",
                    loc=("file_hierarchy", i, "path"),
                    message=f"{f.path} has no component spec; the coder will only see its purpose",
                    files=[f.path],
                )
            )
        listed = [s for s, stage in enumerate(bp.stages, start=1) if f.path in stage.files]
        if listed and f.stage not in listed:
            issues.append(
                Issue(
                    severity="warning",
                    code="stage_mismatch",
                    loc=("file_hierarchy", i, "stage"),
                    message=f"{f.path} says stage {f.stage} but stage {listed[0]} lists it; "
                    f"stage {listed[0]} is used",
                    files=[f.path],
                )
            )
        for j, dep in enumerate(f.dependencies):
            if dep in known and bp.stage_of(dep) > bp.stage_of(f.path):
                issues.append(
                    Issue(
                        severity="warning",
                        code="dependency_in_later_stage",
                        loc=("file_hierarchy", i, "dependencies", j),
                        message=f"{f.path} (stage {bp.stage_of(f.path)}) depends on {dep} from a later stage "
                        f"({bp.stage_of(dep)}); {dep} will be generated first",
                        files=[f.path, dep],
                    )
                )
    return issues


def errors(bp: Blueprint) -> list[Issue]:
    return [i for i in check_blueprint(bp) if i.severity == "error"]


def generation_order(bp: Blueprint) -> list[str]:
    """Paths in the order to generate them.

    Topological over dependencies (a file comes after every planned file it
    depends on); among files that are ready, the lower stage goes first, then
    the earlier position in ``file_hierarchy``. Unknown dependencies are
    ignored. A cycle (which :func:`check_blueprint` reports as an error) is
    broken deterministically by taking the lowest remaining (stage, position).
    """
    paths = bp.paths()
    position = {p: i for i, p in enumerate(paths)}
    deps = {f.path: {d for d in f.dependencies if d in position and d != f.path} for f in bp.file_hierarchy}
    users: dict[str, list[str]] = {p: [] for p in paths}
    for p, ds in deps.items():
        for d in ds:
            users[d].append(p)
    waiting = {p: len(ds) for p, ds in deps.items()}

    def key(p: str) -> tuple[int, int]:
        return (bp.stage_of(p), position[p])

    ready = [(key(p), p) for p in paths if waiting[p] == 0]
    heapq.heapify(ready)
    done: set[str] = set()
    out: list[str] = []
    while len(out) < len(paths):
        if not ready:
            p = min((p for p in paths if p not in done), key=key)
            heapq.heappush(ready, (key(p), p))
        _, p = heapq.heappop(ready)
        if p in done:
            continue
        done.add(p)
        out.append(p)
        for u in users[p]:
            waiting[u] -= 1
            if waiting[u] == 0 and u not in done:
                heapq.heappush(ready, (key(u), u))
    return out
