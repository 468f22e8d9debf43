"""A planned file whose planned components are placeholders blocks "passed" and goes to repair."""

from __future__ import annotations

import pytest

from deepcode_tui.verify.completeness import PLACEHOLDER, check_completeness, check_file, planned_components
from deepcode_tui.verify.static import run_static_checks

REAL = "def ema(prev, x, alpha=0.1):\n    return (1 - alpha) * prev + alpha * x\n"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("    pass\n", "pass"),
        ("    ...\n", "..."),
        ("    raise NotImplementedError\n", "raise NotImplementedError"),
        ('    raise NotImplementedError("later")\n', "raise NotImplementedError"),
        ("    # TODO: implement the z-score\n    pass\n", "a TODO note and pass"),
        ("    # TODO\n    return None\n", "a TODO note and return None"),
        ('    """Compute the z-score."""\n', "only a docstring"),
    ],
)
def test_each_placeholder_form_is_found(body, why):
    [finding] = check_file("emaz/detector.py", f"def zscore(x, mean, var):\n{body}", ["zscore"])
    assert finding.kind == PLACEHOLDER and finding.severity == "error" and finding.line == 1
    assert f"({why})" in finding.message and "zscore" in finding.message


def test_real_bodies_abstract_methods_and_protocols_are_not_placeholders():
    source = (
        "import abc\nfrom typing import Protocol\n\n"
        "class Base(abc.ABC):\n    @abc.abstractmethod\n    def step(self, x):\n        ...\n\n"
        "class Scorer(Protocol):\n    def score(self, x) -> float: ...\n\n"
        f"{REAL}\n"
        "def maybe(x):\n    if x is None:\n        return None\n    return x\n"
    )
    assert check_file("m.py", source, ["Base.step", "Scorer.score", "ema", "maybe"]) == []


def test_a_class_whose_every_method_is_a_placeholder_is_found():
    source = "class Detector:\n    def __init__(self):\n        pass\n\n    def update(self, x):\n        raise NotImplementedError\n"
    [finding] = check_file("d.py", source, ["Detector"])
    assert "Detector in d.py is a placeholder (every method: pass)" in finding.message


def test_without_planned_names_a_file_of_only_placeholders_is_found():
    assert check_file("a.py", "def f():\n    pass\n\ndef g():\n    ...\n", [])
    assert check_file("a.py", f"def f():\n    pass\n\n{REAL}", []) == []  # one real function: not judged


def test_the_static_pass_reports_it_so_the_iteration_cannot_pass(tmp_path):
    (tmp_path / "emaz").mkdir()
    (tmp_path / "emaz" / "detector.py").write_text(
        "class EMAZDetector:\n    def update(self, x):\n        pass\n"
    )
    (tmp_path / "emaz" / "data.py").write_text(REAL)
    findings = run_static_checks(
        tmp_path, expected_files=["emaz/detector.py", "emaz/data.py", "run.py"], declared_packages=[],
        components={"emaz/detector.py": ["EMAZDetector", "EMAZDetector.update"], "emaz/data.py": ["ema"]},
    )  # fmt: skip
    kinds = {(f.kind, f.file) for f in findings if f.severity == "error"}
    assert ("placeholder", "emaz/detector.py") in kinds and ("missing_file", "run.py") in kinds
    assert not any(f.kind == "placeholder" and f.file == "emaz/data.py" for f in findings)


def test_planned_components_come_from_the_blueprint():
    from deepcode_tui.blueprint.models import Blueprint
    from tests.e2e.scripted_run import BLUEPRINT

    bp = Blueprint.model_validate_json(BLUEPRINT.read_text())
    names = planned_components(bp)
    assert "EMAZDetector" in names["emaz/detector.py"] and any("." in n for n in names["emaz/detector.py"])


def test_the_example_s_finished_repository_has_no_placeholders():
    from tests.e2e.scripted_run import EMA

    assert check_completeness(EMA.project, list(EMA.files())) == []
