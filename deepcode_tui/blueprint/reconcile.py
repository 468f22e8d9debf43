"""Make a grammar-constrained planner's plan self-consistent.

Constrained decoding (the embedded model, see :mod:`deepcode_tui.llm.grammar`)
enforces a plan's shape: files, components and commands are there, paths are
paths. What a context-free grammar cannot enforce is that one part of the
reply names what another part defines: a dependency on a file the plan does
not list, a component for a file it forgot, a stage that does not exist, the
same file twice. A model that needed its shape enforced does not repair those
when asked (each round costs a whole plan), so :func:`reconcile` settles them
deterministically and says what it changed:

- a file listed twice is merged into its first entry;
- a component for an unlisted file adds that file to the plan;
- dependencies on unlisted files or on the file itself are dropped, and each
  dependency cycle loses the edge that closes it;
- stage lists lose unlisted files; a stage number past the last stage becomes
  the last stage.

Plans from other models never come here: their errors go back to the planner
and then to the human at the gate.
"""

from __future__ import annotations

from deepcode_tui.blueprint.checks import _cycles, _plausible_path
from deepcode_tui.blueprint.models import Blueprint, BlueprintDraft, FileEntry


def _merge_duplicates(draft: BlueprintDraft, notes: list[str]) -> list[FileEntry]:
    merged: dict[str, FileEntry] = {}
    for entry in draft.file_hierarchy:
        first = merged.get(entry.path)
        if first is None:
            merged[entry.path] = entry.model_copy(deep=True)
            continue
        notes.append(f"{entry.path} was listed twice; merged into its first entry")
        first.dependencies += [d for d in entry.dependencies if d not in first.dependencies]
        first.paper_sections += [s for s in entry.paper_sections if s not in first.paper_sections]
        first.purpose = first.purpose or entry.purpose
    return list(merged.values())


def reconcile(draft: BlueprintDraft) -> tuple[Blueprint, list[str]]:
    """``draft`` as a Blueprint whose references all resolve, and one note per change."""
    notes: list[str] = []
    files = _merge_duplicates(draft, notes)
    known = {f.path for f in files}
    components = []
    for c in draft.components:
        if c.file in known:
            components.append(c)
        elif c.file and _plausible_path(c.file):
            files.append(FileEntry(path=c.file, purpose=f"implements the component spec for {c.file}"))
            known.add(c.file)
            components.append(c)
            notes.append(f"components has a spec for {c.file}, which the plan did not list; added it")
        else:
            notes.append(f"dropped a component for {c.file!r}, which is not a file path")
    for f in files:
        kept = [d for d in f.dependencies if d in known and d != f.path]
        for d in f.dependencies:
            if d not in kept:
                notes.append(f"dropped {f.path}'s dependency on {d}, which the plan does not list")
        f.dependencies = kept
    stages = [s.model_copy(deep=True) for s in draft.stages]
    for s in stages:
        for p in s.files:
            if p not in known:
                notes.append(f"dropped {p} from stage {s.name!r}: the plan does not list it")
        s.files = [p for p in s.files if p in known]
    for f in files:
        if stages and f.stage > len(stages):
            notes.append(f"{f.path} named stage {f.stage} of {len(stages)}; moved to the last stage")
            f.stage = len(stages)
    bp = Blueprint.model_validate(
        {**draft.model_dump(), "file_hierarchy": [f.model_dump() for f in files],
         "components": [c.model_dump() for c in components], "stages": [s.model_dump() for s in stages]}
    )  # fmt: skip
    for _ in range(len(files)):  # each round removes one edge, so this ends
        cycles = _cycles(bp)
        if not cycles:
            break
        cycle = cycles[0]
        last, first = cycle[-2], cycle[-1]
        entry = bp.file(last)
        assert entry is not None
        entry.dependencies = [d for d in entry.dependencies if d != first]
        notes.append(f"broke the dependency cycle {' -> '.join(cycle)} by dropping {last} -> {first}")
    return bp, notes
