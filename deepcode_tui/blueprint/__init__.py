"""Blueprint generation: from the paper index to an approved, editable Implementation Blueprint.

models     Blueprint (the plan) and the analyses it is planned from
yaml_io    YAML round trip with comments and line-numbered validation errors
checks     plan checks (unknown dependencies, cycles, missing specs) and generation order
versions   v1.yaml, v2.yaml, ... approved.yaml, with diffs
coverage   what the index holds that the blueprint does not mention
reading    segmented reading tools over the index
agents     concept / algorithm / intent agents and the planner
phase      the ``blueprint`` and ``approval`` pipeline phases
adapt      Blueprint -> CodegenPlan
amend      amendments approved while code generation runs
"""

from deepcode_tui.blueprint.checks import Issue, check_blueprint, generation_order
from deepcode_tui.blueprint.models import AlgorithmSpec, Blueprint, ConceptAnalysis, IntentAnalysis
from deepcode_tui.blueprint.versions import BlueprintVersions
from deepcode_tui.blueprint.yaml_io import (
    BlueprintValidationError,
    YamlError,
    dump_blueprint_yaml,
    load_blueprint_yaml,
    validate_yaml,
)

__all__ = [
    "AlgorithmSpec",
    "Blueprint",
    "BlueprintValidationError",
    "BlueprintVersions",
    "ConceptAnalysis",
    "IntentAnalysis",
    "Issue",
    "YamlError",
    "check_blueprint",
    "dump_blueprint_yaml",
    "generation_order",
    "load_blueprint_yaml",
    "validate_yaml",
]
