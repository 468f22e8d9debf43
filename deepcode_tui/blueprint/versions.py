"""Numbered blueprint versions in a run directory, and the approved one.

    <run>/blueprint/v1.yaml, v2.yaml, ...   every version, never overwritten
    <run>/blueprint/approved.yaml           a copy of the approved version's text
    <run>/blueprint/approved.json           which version was approved
    <run>/blueprint/plan.json               the CodegenPlan of the approved version

Every write is atomic. Versions are YAML text, so a human's comments in an
edited version are stored as they were written.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

from deepcode_tui.blueprint.adapt import blueprint_to_codegen_plan
from deepcode_tui.blueprint.models import Blueprint
from deepcode_tui.blueprint.yaml_io import dump_blueprint_yaml, load_blueprint_yaml
from deepcode_tui.errors import RunStoreError
from deepcode_tui.store.atomic import write_json_atomic, write_text_atomic

_VERSION = re.compile(r"^v([1-9][0-9]*)$")
APPROVED = "approved"


class BlueprintVersions:
    """The blueprint versions of one run (``run_dir`` is the run's root directory)."""

    def __init__(self, run_dir: Path | str) -> None:
        self.dir = Path(run_dir) / "blueprint"

    def path(self, version: str) -> Path:
        if version != APPROVED and not _VERSION.match(version):
            raise RunStoreError(
                f"{version!r} is not a blueprint version",
                "use v1, v2, ... or approved (see the version list)",
            )
        return self.dir / f"{version}.yaml"

    def list(self) -> list[str]:
        """Saved versions, oldest first (``approved`` is not included)."""
        if not self.dir.is_dir():
            return []
        found = [
            (int(m.group(1)), m.group(0)) for p in self.dir.glob("v*.yaml") if (m := _VERSION.match(p.stem))
        ]
        return [name for _, name in sorted(found)]

    def latest(self) -> str | None:
        versions = self.list()
        return versions[-1] if versions else None

    def save(self, blueprint: Blueprint | str, *, previous_text: str | None = None) -> str:
        """Store a new version; returns its name ("v1", "v2", ...).

        A :class:`Blueprint` is dumped to YAML (keeping ``previous_text``'s
        comments when given); a string is stored exactly as written.
        """
        text = blueprint if isinstance(blueprint, str) else dump_blueprint_yaml(blueprint, previous_text)
        latest = self.latest()
        n = int(latest[1:]) + 1 if latest else 1
        name = f"v{n}"
        write_text_atomic(self.path(name), text)
        return name

    def text(self, version: str) -> str:
        path = self.path(version)
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            listed = ", ".join(self.list()) or "none"
            raise RunStoreError(
                f"blueprint version {version} does not exist in {self.dir}", f"use one of: {listed}"
            ) from None

    def load(self, version: str) -> Blueprint:
        """Parse a stored version (raises BlueprintValidationError when it is invalid)."""
        return load_blueprint_yaml(self.text(version))

    def approve(self, version: str) -> Path:
        """Mark ``version`` approved: its text becomes approved.yaml and its plan
        plan.json, which the codegen phase reads (every approval, the first or an
        amendment, keeps the two in step). Returns the approved.yaml path.
        Raises BlueprintValidationError, writing nothing, when the version does not parse."""
        text = self.text(version)
        plan = blueprint_to_codegen_plan(load_blueprint_yaml(text, check=False))
        target = self.path(APPROVED)
        write_text_atomic(target, text)
        write_json_atomic(self.dir / "plan.json", plan)
        write_json_atomic(self.dir / "approved.json", {"version": version})
        return target

    def approved_version(self) -> str | None:
        """Which version approved.yaml is a copy of, or None when nothing is approved."""
        try:
            data = json.loads((self.dir / "approved.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        version = data.get("version") if isinstance(data, dict) else None
        return version if isinstance(version, str) and self.path(APPROVED).exists() else None

    def diff(self, a: str, b: str, *, context: int = 3) -> str:
        """Unified diff from version ``a`` to version ``b`` ("" when they are identical)."""
        lines = difflib.unified_diff(
            self.text(a).splitlines(keepends=True),
            self.text(b).splitlines(keepends=True),
            fromfile=f"{a}.yaml",
            tofile=f"{b}.yaml",
            n=context,
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
