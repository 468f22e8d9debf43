"""What the reading agents produce: ConceptAnalysis, AlgorithmSpec (papers) and IntentAnalysis
(requirements). Unknown keys are ignored: these only come from a model, and a stray extra field
there is harmless."""

from __future__ import annotations

from pydantic import Field, field_validator

from deepcode_tui.blueprint.questions import QuestionDraft
from deepcode_tui.blueprint.fields import CompactSchema as _CompactSchema
from deepcode_tui.blueprint.fields import Loose as _Loose
from deepcode_tui.blueprint.fields import as_list as _as_list
from deepcode_tui.blueprint.fields import as_text as _as_text


class SectionRole(_Loose):
    section: str
    role: str = ""  # "method", "experiments", "background" ...
    summary: str = ""

    _text = field_validator("summary", "role", mode="before")(_as_text)


class MethodComponent(_Loose):
    name: str
    description: str = ""
    paper_sections: list[str] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)

    _lists = field_validator("paper_sections", "depends_on", mode="before")(_as_list)
    _text = field_validator("description", mode="before")(_as_text)


class Claim(_Loose):
    claim: str
    section: str = ""
    code_requirement: str = ""  # what the code must do to test the claim

    _text = field_validator("code_requirement", "section", mode="before")(_as_text)


class RoadmapStep(_Loose):
    step: str
    description: str = ""
    success_criteria: list[str] = Field(default_factory=list)

    _lists = field_validator("success_criteria", mode="before")(_as_list)
    _text = field_validator("description", mode="before")(_as_text)


class ConceptAnalysis(_CompactSchema, _Loose):
    """The concept agent's reading: structure, components, claims, roadmap."""

    structure_map: list[SectionRole] = Field(default_factory=list)
    components: list[MethodComponent] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    roadmap: list[RoadmapStep] = Field(default_factory=list)
    # What the paper leaves unspecified that the code needs (see blueprint/questions.py).
    open_questions: list[QuestionDraft] = Field(default_factory=list)


class AlgorithmBlock(_Loose):
    name: str
    section: str = ""
    verbatim: str = ""  # the algorithm box as printed

    _text = field_validator("verbatim", "section", mode="before")(_as_text)


class Variable(_Loose):
    symbol: str
    meaning: str = ""
    shape: str = ""

    _text = field_validator("meaning", "shape", mode="before")(_as_text)


class EquationSpec(_Loose):
    label: str = ""  # "(1)"
    text: str
    section: str = ""
    variables: list[Variable] = Field(default_factory=list)

    _text = field_validator("text", "label", "section", mode="before")(_as_text)


class LayerSpec(_Loose):
    name: str
    details: str = ""  # sizes, activation, normalisation, dropout

    _text = field_validator("details", mode="before")(_as_text)


class ArchitectureSpec(_Loose):
    name: str
    section: str = ""
    layers: list[LayerSpec] = Field(default_factory=list)


class TrainingProcedure(_Loose):
    name: str
    section: str = ""
    steps: list[str] = Field(default_factory=list)

    _lists = field_validator("steps", mode="before")(_as_list)


class HyperparameterFinding(_Loose):
    name: str
    value: str
    section: str = ""  # where it appears (section, table)

    _text = field_validator("value", "section", mode="before")(_as_text)


class AlgorithmSpec(_CompactSchema, _Loose):
    """The algorithm agent's extraction: boxes, equations, architectures, training, hyperparameters."""

    algorithms: list[AlgorithmBlock] = Field(default_factory=list)
    equations: list[EquationSpec] = Field(default_factory=list)
    architectures: list[ArchitectureSpec] = Field(default_factory=list)
    training: list[TrainingProcedure] = Field(default_factory=list)
    hyperparameters: list[HyperparameterFinding] = Field(default_factory=list)
    open_questions: list[QuestionDraft] = Field(default_factory=list)


class Feature(_Loose):
    name: str
    description: str = ""
    acceptance: list[str] = Field(default_factory=list)

    _lists = field_validator("acceptance", mode="before")(_as_list)
    _text = field_validator("description", mode="before")(_as_text)


class SystemComponent(_Loose):
    name: str
    layer: str = "backend"  # backend, frontend, config, data, infra, tests
    responsibilities: list[str] = Field(default_factory=list)
    interfaces: list[str] = Field(default_factory=list)  # endpoints, CLI commands, public functions

    _lists = field_validator("responsibilities", "interfaces", mode="before")(_as_list)


class IntentAnalysis(_CompactSchema, _Loose):
    """The intent agent's reading of a software requirement."""

    goal: str = ""
    features: list[Feature] = Field(default_factory=list)
    components: list[SystemComponent] = Field(default_factory=list)
    data_models: list[str] = Field(default_factory=list)
    constraints: list[str] = Field(default_factory=list)  # platforms, languages, performance, security
    tech_stack: list[str] = Field(default_factory=list)
    acceptance_criteria: list[str] = Field(default_factory=list)
    open_questions: list[QuestionDraft] = Field(default_factory=list)

    _lists = field_validator(
        "data_models", "constraints", "tech_stack", "acceptance_criteria", mode="before"
    )(_as_list)
    _text = field_validator("goal", mode="before")(_as_text)
