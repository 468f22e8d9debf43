"""The one place the panes touch other phases' artifacts and APIs.

Every pane reads run artifacts through these functions, so when a phase
package changes its API only this module changes. Each function prefers the
phase package's own API and falls back to reading the artifact described in
the architecture when that package is not importable (yet). All are
read-only and safe to call while the run is writing: a half-written line or a
missing file is skipped, never repaired from here.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from deepcode_tui.errors import DeepcodeError

# -- paper index -------------------------------------------------------------------


def load_index(run_dir: Path) -> Any | None:
    """The run's DocumentIndex, or None when ingest has not written it yet."""
    from deepcode_tui.ingest.models import DocumentIndex

    path = Path(run_dir) / "document" / "index.json"
    if not path.is_file():
        return None
    return DocumentIndex.load(path)


# -- blueprint ---------------------------------------------------------------------


class YamlProblem(BaseModel):
    line: int  # 1-based
    column: int = 1
    message: str
    severity: str = "error"  # "error" blocks approval, "warning" does not


class BlueprintVersion(BaseModel):
    name: str  # "v1", "v2", "approved"
    path: Path
    label: str = ""  # what a list shows, e.g. "approved (v2)"


def validate_blueprint(text: str) -> list[YamlProblem]:
    """Problems in a blueprint's YAML: syntax, schema and plan checks, each at its line."""
    try:
        from deepcode_tui.blueprint.yaml_io import validate_yaml
    except ImportError:
        return _yaml_syntax_problems(text)
    return [
        YamlProblem(line=max(1, e.line), column=max(1, e.column), message=e.message, severity=e.severity)
        for e in validate_yaml(text)
    ]


def _yaml_syntax_problems(text: str) -> list[YamlProblem]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        data = YAML(typ="safe").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        return [YamlProblem(line=line, column=col, message=str(exc.problem or exc.context or "invalid YAML"))]
    except YAMLError as exc:
        return [YamlProblem(line=1, message=str(exc).splitlines()[0])]
    if not isinstance(data, dict):
        return [YamlProblem(line=1, message="a blueprint must be a mapping (key: value) at the top level")]
    return []


def list_blueprint_versions(run_dir: Path) -> list[BlueprintVersion]:
    """Saved versions, oldest first, then ``approved`` when there is one."""
    from deepcode_tui.blueprint.versions import APPROVED, BlueprintVersions

    versions = BlueprintVersions(run_dir)
    out = [BlueprintVersion(name=name, path=versions.path(name)) for name in versions.list()]
    if versions.path(APPROVED).is_file():
        of = versions.approved_version()
        label = f"{APPROVED} ({of})" if of else APPROVED
        out.append(BlueprintVersion(name=APPROVED, path=versions.path(APPROVED), label=label))
    return out


def read_text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise DeepcodeError(f"cannot read {path}: {exc}", "check the run directory's files") from None


def diff_versions(old: BlueprintVersion, new: BlueprintVersion) -> str:
    """A unified diff from ``old`` to ``new`` ("" when they are the same)."""
    a, b = read_text(old.path).splitlines(keepends=True), read_text(new.path).splitlines(keepends=True)
    return "".join(difflib.unified_diff(a, b, fromfile=f"{old.name}.yaml", tofile=f"{new.name}.yaml"))


def coverage_text(run_dir: Path) -> str:
    """The coverage report of the newest version: what the plan dropped ("" before there is one)."""
    folder = Path(run_dir) / "blueprint"
    path = folder / "coverage.json"
    if path.is_file():
        try:
            from deepcode_tui.blueprint.coverage import CoverageReport

            data = json.loads(path.read_text(encoding="utf-8"))
            report = CoverageReport.model_validate({k: v for k, v in data.items() if k != "version"})
            version = f" (blueprint {data['version']})" if data.get("version") else ""
            from deepcode_tui.blueprint.versions import BlueprintVersions

            saved = BlueprintVersions(run_dir).list()
            if data.get("version") and saved and saved[-1] != data["version"]:
                # Coverage is computed for the planner's versions; a human's edit has none of its own.
                version = f" (of blueprint {data['version']}; {saved[-1]} is newer and was not measured)"
            return report.render(limit=200).replace("Coverage:", f"Coverage{version}:", 1)
        except (OSError, ValueError, ImportError):
            pass
    return read_text(folder / "coverage.txt").strip()


def planned_files(blueprint_text: str) -> list[str]:
    """Repository paths a blueprint plans, in generation order ([] when it cannot be read)."""
    try:
        from deepcode_tui.blueprint.adapt import blueprint_to_codegen_plan
        from deepcode_tui.blueprint.yaml_io import load_blueprint_yaml

        bp = load_blueprint_yaml(blueprint_text, check=False)
    except DeepcodeError:
        return []
    try:
        return [f.path for f in blueprint_to_codegen_plan(bp).order()]
    except (DeepcodeError, ValueError):  # a dependency cycle: the written order is still useful
        return bp.paths()


def approve_amendment(run_dir: Path, text: str, written: list[str]) -> Any:
    """Validate, save (vN) and approve an amended blueprint; the blueprint package's Amendment.

    Raises a DeepcodeError listing the problems (with lines) when the text is invalid.
    """
    from deepcode_tui.blueprint.amend import approve_amendment as approve

    return approve(run_dir, text, written)


# -- code memory -------------------------------------------------------------------


def read_memory_entries(run_dir: Path) -> dict[str, Any]:
    """The current MemoryEntry per path, read without touching the file.

    (MemoryStore's loader trims a torn tail, which is the writer's job; the UI
    reads while the coder appends, so it only skips an incomplete last line.)
    """
    from deepcode_tui.codegen.memory import MemoryEntry

    path = Path(run_dir) / "memory" / "entries.jsonl"
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, OSError):
        return {}
    entries: dict[str, Any] = {}
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            entry = MemoryEntry.model_validate_json(line)
        except ValueError:
            continue
        if entry.deleted:
            entries.pop(entry.path, None)
        else:
            entries[entry.path] = entry
    return entries


def memory_text(run_dir: Path, path: str) -> str | None:
    """The rendered memory entry of ``path`` as the coder sees it, or None."""
    entry = read_memory_entries(run_dir).get(path)
    return entry.render() if entry is not None else None


def read_repo_file(repo_dir: Path, path: str, limit: int = 400_000) -> str | None:
    """A generated file's text (None when absent); refuses paths outside the repo."""
    root = Path(repo_dir).resolve()
    target = (root / path).resolve()
    if root not in target.parents or not target.is_file():
        return None
    try:
        with open(target, encoding="utf-8", errors="replace") as fh:
            return fh.read(limit)
    except OSError:
        return None


# -- verification ------------------------------------------------------------------


class IterationArtifacts(BaseModel):
    number: int
    trace: str = ""
    findings: list[dict[str, Any]] = []
    patch: str = ""
    result: dict[str, Any] = {}


def read_iteration(run_dir: Path, number: int) -> IterationArtifacts:
    """What ``<run>/iterations/NNN/`` holds for ``number`` (empty fields when absent)."""
    folder = Path(run_dir) / "iterations" / f"{number:03d}"
    art = IterationArtifacts(number=number)
    if not folder.is_dir():
        return art
    art.trace = read_text(folder / "trace.txt")
    art.patch = read_text(folder / "patch.diff")
    for name, attr in (("findings.json", "findings"), ("result.json", "result")):
        try:
            data = json.loads(read_text(folder / name) or "null")
        except ValueError:
            continue
        if attr == "findings" and isinstance(data, dict):
            data = data.get("findings")
        if attr == "findings" and isinstance(data, list):
            art.findings = [d for d in data if isinstance(d, dict)]
        elif attr == "result" and isinstance(data, dict):
            art.result = data
    return art


# -- models ------------------------------------------------------------------------


class RoleModel(BaseModel):
    role: str
    model: str
    source: str
    real: bool  # False for the embedded tiny model or when nothing usable is set
    problem: str = ""


def model_check(loaded: Any) -> list[RoleModel]:
    """Each role's model and whether it is a real one (no network, no litellm import)."""
    from deepcode_tui.config.settings import ROLES

    settings = loaded.settings
    try:
        from deepcode_tui.llm.resolve import resolve_role
    except ImportError:
        resolve_role = None
    rows: list[RoleModel] = []
    for role in ROLES:
        if resolve_role is None:
            model = settings.model_for(role)
            rows.append(RoleModel(role=role, model=model or "(none)", source="settings", real=bool(model)))
            continue
        try:
            r = resolve_role(settings, role, provenance=getattr(loaded, "provenance", None))
        except DeepcodeError as exc:
            rows.append(RoleModel(role=role, model="(none)", source="", real=False, problem=exc.one_line()))
            continue
        rows.append(RoleModel(role=role, model=r.model, source=r.source, real=not r.embedded))
    return rows


# -- runs --------------------------------------------------------------------------


def resumable(run_dir: Path, status: str) -> bool:
    """Whether a listed run can be continued from the app.

    Stopped, failed, budget-stopped, interrupted and planned runs can, as long
    as their report phase has not completed; running and damaged ones cannot.
    """
    from deepcode_tui.store.eventlog import read_log

    if status in ("running", "damaged", "passed"):
        return False
    done = {
        ev.phase for ev in read_log(Path(run_dir) / "events.jsonl").events if ev.type == "phase_completed"
    }
    return "report" not in done


def open_questions(text: str) -> list[dict[str, Any]]:
    """The open questions of a blueprint YAML text as plain dicts ([] when it does not load)."""
    from deepcode_tui.blueprint.yaml_io import load_blueprint_yaml

    try:
        bp = load_blueprint_yaml(text, check=False)
    except DeepcodeError:
        return []
    except Exception:  # noqa: BLE001 - a half-typed edit must never break the pane
        return []
    return [q.model_dump(mode="json") for q in bp.open_questions]
