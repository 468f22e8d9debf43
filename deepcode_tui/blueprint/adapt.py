"""Blueprint -> CodegenPlan: what the code generation loop consumes.

Each planned file gets its component spec rendered as text (signatures,
equations, pseudocode, hyperparameters, the paper sections it implements),
the symbols it may use from its dependencies, and the files that will use
it, plus the open questions settled at the gate that affect it (and, for the
README, every assumption with its basis). Files are listed in
:func:`generation_order`.
"""

from __future__ import annotations

import re

from deepcode_tui.blueprint.checks import generation_order
from deepcode_tui.blueprint.models import Blueprint, ComponentSpec, FileEntry, FunctionSpec
from deepcode_tui.blueprint.questions import affecting, assumptions_markdown, decisions_text
from deepcode_tui.codegen.plan import CodegenPlan, PlannedFile


def _function_line(f: FunctionSpec, indent: str = "") -> list[str]:
    sig = f.signature or f"{f.name}(...)"
    line = f"{indent}- {sig}"
    if f.implements:
        line += f"  [implements: {', '.join(f.implements)}]"
    out = [line]
    if f.description:
        out.append(f"{indent}  {f.description}")
    return out


def render_spec(entry: FileEntry, spec: ComponentSpec | None) -> str:
    """The component spec of one file as the text the coder reads."""
    lines: list[str] = []
    if entry.paper_sections:
        lines.append("Implements paper sections: " + "; ".join(entry.paper_sections))
    if spec is None:
        return "\n".join(lines)
    for c in spec.classes:
        bases = f"({', '.join(c.bases)})" if c.bases else ""
        lines.append(f"class {c.name}{bases}" + (f": {c.description}" if c.description else ""))
        for a in c.attributes:
            lines.append(f"  attribute {a}")
        for m in c.methods:
            lines.extend(_function_line(m, "  "))
    if spec.functions:
        lines.append("Functions:")
        for f in spec.functions:
            lines.extend(_function_line(f))
    if spec.equations:
        lines.append("Equations:")
        lines.extend(f"- {e}" for e in spec.equations)
    if spec.pseudocode:
        lines.append("Pseudocode:")
        lines.append(spec.pseudocode.rstrip())
    if spec.hyperparameters:
        lines.append("Hyperparameters:")
        lines.extend(
            f"- {h.name} = {h.value}" + (f"  ({h.source})" if h.source else "") for h in spec.hyperparameters
        )
    if spec.notes:
        lines.append("Notes: " + spec.notes)
    return "\n".join(lines)


def _mentioned(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text) is not None


def _summary(bp: Blueprint) -> str:
    parts = [bp.title, bp.summary]
    env = bp.environment
    pkgs = ", ".join(p.requirement() for p in env.packages)
    parts.append(f"Python {env.python}" + (f"; packages: {pkgs}" if pkgs else ""))
    if bp.verification.commands:
        parts.append("Verification: " + "; ".join(bp.verification.commands))
    return "\n".join(p for p in parts if p)


def blueprint_to_codegen_plan(bp: Blueprint) -> CodegenPlan:
    """The files of ``bp`` in generation order, with their specs as text."""
    symbols_of = {p: (bp.component(p).symbol_names() if bp.component(p) else []) for p in bp.paths()}
    files: list[PlannedFile] = []
    for path in generation_order(bp):
        entry = bp.file(path)
        assert entry is not None  # generation_order only yields planned paths
        spec_text = render_spec(entry, bp.component(path))
        decided = decisions_text(affecting(bp.open_questions, path, symbols_of.get(path, [])))
        if decided:
            spec_text = f"{spec_text}\n{decided}" if spec_text else decided
        if path.rsplit("/", 1)[-1].lower() == "readme.md" and bp.open_questions:
            spec_text += ("\nAssumptions (the README lists every one with its basis, and the questions left "
                          "open):\n" + assumptions_markdown(bp.open_questions))
        known_deps = [d for d in entry.dependencies if d in symbols_of and d != path]
        symbols: list[str] = []
        for dep in known_deps:
            for name in symbols_of[dep]:
                if name not in symbols and _mentioned(name, spec_text):
                    symbols.append(name)
        consumers = [f.path for f in bp.file_hierarchy if path in f.dependencies and f.path != path]
        files.append(
            PlannedFile(
                path=path,
                purpose=entry.purpose,
                dependencies=known_deps,
                spec=spec_text,
                symbols=symbols,
                consumers=consumers,
                stage=bp.stage_of(path),
            )
        )
    return CodegenPlan(summary=_summary(bp), files=files)
