"""Amendments mid-run: a blueprint edited and approved while code is being generated.

The amended plan applies to every file not yet written. Written files are
never rewritten silently: those the change affects (their own entry or spec
changed, a dependency's public interface changed, or a dependency was
removed) are listed for regeneration, with the reason, for the human or the
codegen loop to act on.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, Field

from deepcode_tui.blueprint.adapt import blueprint_to_codegen_plan
from deepcode_tui.blueprint.models import Blueprint, ComponentSpec
from deepcode_tui.blueprint.versions import BlueprintVersions
from deepcode_tui.blueprint.yaml_io import load_blueprint_yaml
from deepcode_tui.codegen.plan import CodegenPlan, normalise_plan_path


class Amendment(BaseModel):
    """What an amended blueprint changes, relative to the one approved before it."""

    version: str = ""  # the version the amendment was saved as, when it was saved
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    changed: dict[str, list[str]] = Field(default_factory=dict)  # path -> changed aspects
    apply_to_pending: list[str] = Field(default_factory=list)  # unwritten files that get the new entry/spec
    regenerate: dict[str, str] = Field(default_factory=dict)  # written path -> why it should be regenerated
    removed_written: list[str] = Field(
        default_factory=list
    )  # written files the plan no longer has (kept on disk)
    plan: CodegenPlan = Field(default_factory=CodegenPlan)  # the amended plan, in generation order

    @property
    def is_noop(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def render(self) -> str:
        lines = [f"Amendment{f' {self.version}' if self.version else ''}:"]
        if self.is_noop:
            lines.append("  no file changes")
        for label, paths in (("added", self.added), ("removed", self.removed)):
            if paths:
                lines.append(f"  {label}: {', '.join(paths)}")
        for path, aspects in self.changed.items():
            lines.append(f"  changed {path}: {', '.join(aspects)}")
        if self.apply_to_pending:
            lines.append(f"  applies to not-yet-written: {', '.join(self.apply_to_pending)}")
        for path, why in self.regenerate.items():
            lines.append(f"  regenerate {path}: {why}")
        if self.removed_written:
            lines.append(f"  written but no longer planned: {', '.join(self.removed_written)}")
        return "\n".join(lines)


def _interface(spec: ComponentSpec | None) -> list[tuple[str, ...]]:
    """What other files rely on: class names with bases and method signatures, function signatures."""
    if spec is None:
        return []
    out: list[tuple[str, ...]] = []
    for c in spec.classes:
        out.append(("class", c.name, ",".join(c.bases)))
        out.extend(("method", c.name, m.name, " ".join(m.signature.split())) for m in c.methods)
    out.extend(("function", f.name, " ".join(f.signature.split())) for f in spec.functions)
    return sorted(out)


def _spec_dump(spec: ComponentSpec | None) -> dict:
    return spec.model_dump(exclude={"file"}) if spec is not None else {}


def plan_amendment(approved: Blueprint, amended: Blueprint, written: Iterable[str]) -> Amendment:
    """Compare ``approved`` with ``amended`` given the files already ``written``."""
    written_set = {normalise_plan_path(p) for p in written}
    old_paths, new_paths = approved.paths(), amended.paths()
    added = [p for p in new_paths if p not in old_paths]
    removed = [p for p in old_paths if p not in new_paths]

    changed: dict[str, list[str]] = {}
    interface_changed: set[str] = set(removed)
    for path in new_paths:
        if path in added:
            continue
        old_e, new_e = approved.file(path), amended.file(path)
        assert old_e is not None and new_e is not None
        aspects = [
            field
            for field in ("purpose", "dependencies", "paper_sections", "kind")
            if getattr(old_e, field) != getattr(new_e, field)
        ]
        if approved.stage_of(path) != amended.stage_of(path):
            aspects.append("stage")
        old_spec, new_spec = approved.component(path), amended.component(path)
        if _spec_dump(old_spec) != _spec_dump(new_spec):
            aspects.append("spec")
        if _interface(old_spec) != _interface(new_spec):
            interface_changed.add(path)
            if "spec" in aspects:
                aspects[aspects.index("spec")] = "spec (public interface)"
        if aspects:
            changed[path] = aspects

    regenerate: dict[str, str] = {}
    for path in new_paths:
        if path not in written_set:
            continue
        own = [a for a in changed.get(path, []) if a != "stage"]  # a new stage alone does not change the code
        if own:
            regenerate[path] = "its " + ", ".join(own) + " changed"
            continue
        entry = amended.file(path)
        assert entry is not None
        old_deps = approved.file(path).dependencies if approved.file(path) else []
        hit = [d for d in dict.fromkeys(entry.dependencies + old_deps) if d in interface_changed]
        if hit:
            why = [f"{d} was removed" if d in removed else f"{d}'s public interface changed" for d in hit]
            regenerate[path] = "; ".join(why)

    pending = [p for p in new_paths if p not in written_set and (p in added or p in changed)]
    return Amendment(
        added=added,
        removed=removed,
        changed=changed,
        apply_to_pending=pending,
        regenerate=regenerate,
        removed_written=[p for p in removed if p in written_set],
        plan=blueprint_to_codegen_plan(amended),
    )


def approve_amendment(run_dir: Path | str, edited_text: str, written: Iterable[str]) -> Amendment:
    """Validate a human's amended blueprint, store it as a new approved version, and say what it changes.

    Raises BlueprintValidationError (with line numbers) when ``edited_text``
    is invalid; nothing is saved then. The comparison is against the version
    approved before (approved.yaml).
    """
    versions = BlueprintVersions(run_dir)
    amended = load_blueprint_yaml(edited_text)
    approved = versions.load("approved")
    amendment = plan_amendment(approved, amended, written)
    version = versions.save(edited_text)
    versions.approve(version)
    amendment.version = version
    return amendment
