"""The files that make a generated repository a PaperBench submission.

Every plan ends with three files of its own: the dependency manifest
(``requirements.txt``), ``reproduce.sh`` (sets the environment up from that
manifest, runs what the verification protocol names, writes results where the
README says) and ``README.md`` (what the paper proposes, what was implemented
file by file with its paper sections, how to run, what was left out or
assumed, how it was verified). They are ordinary blueprint files: the human
sees and edits them at the gate, and CodeMem writes them last, each depending
on every other file so its context carries every memory entry.

``REPRODUCE_QUICK=1`` is the quick setting: reproduce.sh runs the smallest
configuration that still exercises the whole path; the verify phase runs the
script that way in the sandbox under its command time cap.
"""

from __future__ import annotations

from deepcode_tui.blueprint.models import Blueprint, ComponentSpec, FileEntry, Stage

README = "README.md"
REPRODUCE = "reproduce.sh"
MANIFEST = "requirements.txt"
SUBMISSION_FILES = (MANIFEST, REPRODUCE, README)
MANIFESTS = ("requirements.txt", "pyproject.toml", "environment.yml", "setup.py", "package.json")
QUICK_ENV = "REPRODUCE_QUICK"
QUICK_COMMAND = f"env {QUICK_ENV}=1 bash {REPRODUCE}"
RESULTS_DIR = "results"
STAGE_NAME = "submission"


def _manifest_notes(bp: Blueprint) -> str:
    pins = [p.requirement() for p in bp.environment.packages]
    listed = ", ".join(pins) if pins else "none (standard library only: the file then holds only a comment)"
    return (
        "The dependency manifest, one requirement a line (pip format), for every third-party package the "
        f"code imports. The blueprint's environment lists: {listed}. Python {bp.environment.python}."
    )


def _reproduce_notes(bp: Blueprint) -> str:
    commands = [c for c in bp.verification.commands if c.strip() and REPRODUCE not in c]
    steps = "\n".join(f"  {c}" for c in commands) or "  python -m pytest -q"
    return (
        "A bash script (first line `#!/usr/bin/env bash`, then `set -euo pipefail`) run from the repository "
        "root as `bash reproduce.sh`. It:\n"
        "1. sets the environment up from requirements.txt: when not already inside a virtualenv it creates "
        "`.venv` and runs `pip install -r requirements.txt`;\n"
        f"2. runs what the verification protocol names:\n{steps}\n"
        f"3. writes its outputs (metrics, tables, logs) under `{RESULTS_DIR}/`, creating it.\n"
        f"When {QUICK_ENV}=1 is set it runs the quick setting: the smallest sizes and fewest steps that still "
        "exercise every stage (pass such options to the scripts it calls). It names only files that exist in "
        "the repository."
    )


def _readme_notes(bp: Blueprint, others: list[FileEntry]) -> str:
    lines = []
    for f in others:
        sections = f"; paper: {', '.join(f.paper_sections)}" if f.paper_sections else ""
        lines.append(f"  - {f.path}: {f.purpose}{sections}")
    files = "\n".join(lines)
    return (
        "The submission's README (Markdown), with these sections:\n"
        "## What the paper proposes (a short summary of the method)\n"
        "## What was implemented: every file below by its path, what it implements and the paper sections:\n"
        f"{files}\n"
        f"## How to run: `bash reproduce.sh`; `{QUICK_ENV}=1 bash reproduce.sh` for the quick setting; "
        f"where the results are written (`{RESULTS_DIR}/`)\n"
        "## Left out or assumed: what the paper leaves open and what this implementation assumed\n"
        "## Verification: the verification protocol's commands, metrics and success criteria, and what "
        "reproduce.sh checks"
    )


def add_submission_files(bp: Blueprint) -> Blueprint:
    """``bp`` with the submission files planned (kept as they are when already present)."""
    have = set(bp.paths())
    others = [f for f in bp.file_hierarchy if f.path not in SUBMISSION_FILES]
    has_manifest = any(p in have for p in MANIFESTS if p != MANIFEST)
    planned = [p for p in SUBMISSION_FILES if p not in have and not (p == MANIFEST and has_manifest)]
    if not planned:
        return bp
    stage_no = len(bp.stages) + 1 if bp.stages else 1
    deps_all = [f.path for f in others]
    manifest = MANIFEST if MANIFEST in have or MANIFEST in planned else next(p for p in MANIFESTS if p in have)
    specs = {
        MANIFEST: (FileEntry(path=MANIFEST, purpose="Dependency manifest of the submission.",
                             dependencies=deps_all, stage=stage_no, kind="config"), _manifest_notes(bp)),
        REPRODUCE: (FileEntry(path=REPRODUCE, purpose="Sets the environment up and runs the reproduction.",
                              dependencies=[*deps_all, manifest], stage=stage_no, kind="script"),
                    _reproduce_notes(bp)),
        README: (FileEntry(path=README, purpose="What was reproduced, how, and how to run it.",
                           dependencies=[*deps_all, manifest, REPRODUCE], stage=stage_no, kind="docs"),
                 _readme_notes(bp, others)),
    }  # fmt: skip
    entries = list(bp.file_hierarchy)
    components = list(bp.components)
    for path in planned:
        entry, notes = specs[path]
        entries.append(entry.model_copy(update={"dependencies": [d for d in entry.dependencies if d != path]}))
        components.append(ComponentSpec(file=path, notes=notes))
    commands = list(bp.verification.commands)
    if REPRODUCE in planned and not any(REPRODUCE in c for c in commands):
        commands.append(QUICK_COMMAND)
    stages = list(bp.stages)
    if stages:
        stages.append(Stage(name=STAGE_NAME, files=planned, checks=[QUICK_COMMAND] if REPRODUCE in planned else []))
    verification = bp.verification.model_copy(update={"commands": commands})
    return bp.model_copy(
        update={"file_hierarchy": entries, "components": components, "stages": stages, "verification": verification}
    )
