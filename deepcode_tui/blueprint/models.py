"""The Implementation Blueprint and the analyses it is planned from.

`Blueprint` is the contract between planning and code generation: a human
reads, edits and approves it as YAML (see :mod:`.yaml_io`). Its canonical
sections are ``summary``, ``file_hierarchy``, ``components``,
``verification``, ``environment`` and ``stages``.

`ConceptAnalysis` and `AlgorithmSpec` are what the two reading agents
produce from a paper; `IntentAnalysis` is what the intent agent produces
from a software requirement. All three feed the planner.

The blueprint models forbid unknown keys, so a misspelt key in a human's
edit is reported at its YAML line instead of being dropped silently. The
analysis models ignore unknown keys: they only come from a model, and a
stray extra field there is harmless.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from deepcode_tui.blueprint.analyses import (  # noqa: F401  (re-exported: the analyses live beside the plan)
    AlgorithmBlock,
    AlgorithmSpec,
    ArchitectureSpec,
    Claim,
    ConceptAnalysis,
    EquationSpec,
    Feature,
    HyperparameterFinding,
    IntentAnalysis,
    LayerSpec,
    MethodComponent,
    RoadmapStep,
    SectionRole,
    SystemComponent,
    TrainingProcedure,
    Variable,
)
from deepcode_tui.blueprint.fields import NON_EMPTY, PLAN_PATH, generated_needs
from deepcode_tui.blueprint.fields import CompactSchema as _CompactSchema
from deepcode_tui.blueprint.fields import Strict as _Strict
from deepcode_tui.blueprint.fields import as_list as _as_list
from deepcode_tui.blueprint.fields import as_text as _as_text
from deepcode_tui.blueprint.questions import OpenQuestion, number
from deepcode_tui.codegen.plan import normalise_plan_path

# --- blueprint ----------------------------------------------------------------

FileKind = Literal["source", "test", "config", "script", "docs", "data"]
_KIND_SYNONYMS = {
    "code": "source",
    "module": "source",
    "library": "source",
    "src": "source",
    "backend": "source",
    "frontend": "source",
    "tests": "test",
    "configuration": "config",
    "settings": "config",
    "documentation": "docs",
    "doc": "docs",
    "readme": "docs",
    "scripts": "script",
    "dataset": "data",
}


PlanPath = Annotated[str, Field(json_schema_extra=PLAN_PATH)]


class FileEntry(_Strict):
    """One file of the project, in generation-friendly order."""

    model_config = ConfigDict(json_schema_extra=generated_needs("purpose"))

    path: str = Field(json_schema_extra=PLAN_PATH)
    purpose: str = ""
    dependencies: list[PlanPath] = Field(default_factory=list)  # other planned files this one imports/reads
    paper_sections: list[str] = Field(default_factory=list)  # e.g. ["3.2 Attention", "Eq. (1)"]
    stage: int = Field(1, ge=1)  # 1-based index into Blueprint.stages
    kind: FileKind = "source"

    _paths = field_validator("dependencies", "paper_sections", mode="before")(_as_list)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind_synonyms(cls, v: Any) -> Any:
        if isinstance(v, str):
            key = v.strip().lower()
            return _KIND_SYNONYMS.get(key, key)
        return v

    @field_validator("path")
    @classmethod
    def _norm_path(cls, v: str) -> str:
        v = normalise_plan_path(v)
        if not v:
            raise ValueError("a file path must not be empty")
        return v

    @field_validator("dependencies")
    @classmethod
    def _norm_deps(cls, v: list[str]) -> list[str]:
        out: list[str] = []
        for p in v:
            n = normalise_plan_path(p)
            if n and n not in out:
                out.append(n)
        return out


class FunctionSpec(_Strict):
    """A function or method: its signature as it should appear in code."""

    name: str
    signature: str = ""  # e.g. "def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor"
    description: str = ""
    implements: list[str] = Field(default_factory=list)  # equation labels / algorithm names

    _lists = field_validator("implements", mode="before")(_as_list)
    _text = field_validator("description", "signature", mode="before")(_as_text)


class ClassSpec(_Strict):
    name: str
    bases: list[str] = Field(default_factory=list)
    description: str = ""
    attributes: list[str] = Field(default_factory=list)  # "d_model: int  model width"
    methods: list[FunctionSpec] = Field(default_factory=list)

    _lists = field_validator("bases", "attributes", mode="before")(_as_list)
    _text = field_validator("description", mode="before")(_as_text)


class HyperparameterSpec(_Strict):
    """A value the code must use, with where the paper states it."""

    name: str
    value: str
    source: str = ""  # section, table or equation where it appears

    _text = field_validator("value", "source", mode="before")(_as_text)


class ComponentSpec(_Strict):
    """What one file must contain."""

    file: str = Field(json_schema_extra=PLAN_PATH)
    classes: list[ClassSpec] = Field(default_factory=list)
    functions: list[FunctionSpec] = Field(default_factory=list)
    equations: list[str] = Field(
        default_factory=list
    )  # "Eq. (1): Attention(Q,K,V) = softmax(QK^T/sqrt(d_k))V"
    pseudocode: str = ""  # algorithm boxes or step lists this file implements
    hyperparameters: list[HyperparameterSpec] = Field(default_factory=list)
    notes: str = ""

    _lists = field_validator("equations", mode="before")(_as_list)
    _text = field_validator("pseudocode", "notes", mode="before")(_as_text)

    @field_validator("file")
    @classmethod
    def _norm_file(cls, v: str) -> str:
        return normalise_plan_path(v)

    def symbol_names(self) -> list[str]:
        """Public class and function names this file defines."""
        return [c.name for c in self.classes] + [f.name for f in self.functions]

    def is_empty(self) -> bool:
        return not (
            self.classes
            or self.functions
            or self.equations
            or self.pseudocode.strip()
            or self.hyperparameters
            or self.notes.strip()
        )


class MetricTarget(_Strict):
    name: str
    target: str = ""  # "28.4 BLEU" as the paper reports it
    source: str = ""  # "Table 2"
    tolerance: str = ""  # "within 1 BLEU" / "same order of magnitude"

    _text = field_validator("target", "source", "tolerance", mode="before")(_as_text)


class TestSpec(_Strict):
    __test__ = False  # not a pytest class

    path: str = ""  # the test file, when it is part of file_hierarchy
    name: str
    checks: str = ""  # what the test asserts

    _text = field_validator("checks", mode="before")(_as_text)


class VerificationProtocol(_Strict):
    model_config = ConfigDict(json_schema_extra=generated_needs("commands"))

    # "python -m pytest -q", "python train.py --smoke"
    commands: list[str] = Field(default_factory=list, json_schema_extra=NON_EMPTY)
    metrics: list[MetricTarget] = Field(default_factory=list)
    success_criteria: list[str] = Field(default_factory=list)
    tests: list[TestSpec] = Field(default_factory=list)

    _lists = field_validator("commands", "success_criteria", mode="before")(_as_list)


class PackageSpec(_Strict):
    name: str
    version: str = ""  # a PEP 440 specifier or pin, e.g. ">=2.1" or "==2.1.0"

    _text = field_validator("version", mode="before")(_as_text)

    def requirement(self) -> str:
        v = self.version.strip()
        if not v:
            return self.name
        return f"{self.name}{v}" if v[0] in "<>=!~" else f"{self.name}=={v}"


class Environment(_Strict):
    python: str = "3.11"
    packages: list[PackageSpec] = Field(default_factory=list)
    hardware: str = ""  # "CPU is enough for the smoke test; paper used 8 P100 GPUs"
    notes: str = ""

    _text = field_validator("python", "hardware", "notes", mode="before")(_as_text)

    @field_validator("packages", mode="before")
    @classmethod
    def _pkg_strings(cls, v: Any) -> Any:
        # "torch>=2.1" is a common shorthand: split it into name and version.
        if not isinstance(v, list):
            return v
        out = []
        for item in v:
            if isinstance(item, str):
                name = item.strip()
                for i, ch in enumerate(name):
                    if ch in "<>=!~ ":
                        out.append({"name": name[:i].strip(), "version": name[i:].strip()})
                        break
                else:
                    out.append({"name": name})
            else:
                out.append(item)
        return out


class Stage(_Strict):
    name: str
    files: list[PlanPath] = Field(default_factory=list)
    checks: list[str] = Field(default_factory=list)  # commands or conditions that close the stage

    _lists = field_validator("files", "checks", mode="before")(_as_list)

    @field_validator("files")
    @classmethod
    def _norm_files(cls, v: list[str]) -> list[str]:
        return [n for n in (normalise_plan_path(p) for p in v) if n]


SourceKind = Literal["paper", "requirement"]


class Blueprint(_CompactSchema, _Strict):
    """The Implementation Blueprint: what to build, in what order, and how to check it."""

    # A planner must write these (the schema says so; validation of a human's YAML does not).
    model_config = ConfigDict(
        json_schema_extra=generated_needs("summary", "file_hierarchy", "components", "verification")
    )

    title: str = ""
    source_kind: SourceKind = "paper"
    summary: str = ""
    file_hierarchy: list[FileEntry] = Field(default_factory=list, json_schema_extra=NON_EMPTY)
    components: list[ComponentSpec] = Field(default_factory=list, json_schema_extra=NON_EMPTY)
    verification: VerificationProtocol = Field(default_factory=VerificationProtocol)
    environment: Environment = Field(default_factory=Environment)
    stages: list[Stage] = Field(default_factory=list)
    # Details the document leaves open, with proposals the human settles at the gate.
    open_questions: list[OpenQuestion] = Field(default_factory=list)

    @field_validator("open_questions")
    @classmethod
    def _number_questions(cls, v: list[OpenQuestion]) -> list[OpenQuestion]:
        return number(v)

    _text = field_validator("summary", mode="before")(_as_text)

    @field_validator("file_hierarchy")
    @classmethod
    def _unique(cls, v: list[FileEntry]) -> list[FileEntry]:
        seen: set[str] = set()
        for i, f in enumerate(v):
            if f.path in seen:
                # A custom type carrying the index lets the YAML reader point at the second entry.
                raise PydanticCustomError(
                    "duplicate_file",
                    "file_hierarchy lists {path} twice; merge the two entries into one",
                    {"path": f.path, "index": i},
                )
            seen.add(f.path)
        return v

    # -- lookups callers may rely on ------------------------------------------

    def paths(self) -> list[str]:
        return [f.path for f in self.file_hierarchy]

    def file(self, path: str) -> FileEntry | None:
        path = normalise_plan_path(path)
        return next((f for f in self.file_hierarchy if f.path == path), None)

    def component(self, path: str) -> ComponentSpec | None:
        """The component spec of ``path`` (several entries for one file are merged)."""
        path = normalise_plan_path(path)
        found = [c for c in self.components if c.file == path]
        if not found:
            return None
        if len(found) == 1:
            return found[0]
        merged = found[0].model_copy(deep=True)
        for c in found[1:]:
            merged.classes += c.classes
            merged.functions += c.functions
            merged.equations += c.equations
            merged.hyperparameters += c.hyperparameters
            merged.pseudocode = "\n\n".join(x for x in (merged.pseudocode, c.pseudocode) if x)
            merged.notes = "\n\n".join(x for x in (merged.notes, c.notes) if x)
        return merged

    def stage_of(self, path: str) -> int:
        """The 1-based stage of ``path``: its stage list membership wins over the entry's field."""
        path = normalise_plan_path(path)
        for i, s in enumerate(self.stages, start=1):
            if path in s.files:
                return i
        entry = self.file(path)
        return entry.stage if entry else 1


class BlueprintDraft(Blueprint):
    """A grammar-constrained planner's reply before :func:`~deepcode_tui.blueprint.reconcile.reconcile`
    settles its references: a Blueprint in every way except that a file listed twice is
    merged there rather than rejected here."""

    @field_validator("file_hierarchy")
    @classmethod
    def _unique(cls, v: list[FileEntry]) -> list[FileEntry]:
        return v
