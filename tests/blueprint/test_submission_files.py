"""Every plan ends with the PaperBench submission files, and the static pass checks them."""

from __future__ import annotations

import json

from deepcode_tui.blueprint.checks import check_blueprint, generation_order
from deepcode_tui.blueprint.models import Blueprint
from deepcode_tui.blueprint.submission import QUICK_COMMAND, add_submission_files
from deepcode_tui.verify.submission_check import check_submission_files
from tests.conftest import REPO_ROOT


def _ema() -> Blueprint:
    return Blueprint.model_validate(json.loads((REPO_ROOT / "tests" / "e2e" / "ema_blueprint.json").read_text()))


def test_the_submission_files_are_planned_last_with_every_memory_entry() -> None:
    bp = add_submission_files(_ema())
    assert bp.paths()[-3:] == ["requirements.txt", "reproduce.sh", "README.md"]
    order = generation_order(bp)
    assert order[-3:] == ["requirements.txt", "reproduce.sh", "README.md"]
    readme = bp.file("README.md")
    assert set(readme.dependencies) == set(bp.paths()) - {"README.md"}
    assert not [i for i in check_blueprint(bp) if i.severity == "error"]
    notes = bp.component("README.md").notes
    for path in _ema().paths():
        assert path in notes  # the README's spec lists every file with its paper sections
    assert "REPRODUCE_QUICK" in bp.component("reproduce.sh").notes
    assert bp.verification.commands[-1] == QUICK_COMMAND and bp.stages[-1].name == "submission"
    assert add_submission_files(bp) == bp  # idempotent


def test_a_plan_with_its_own_manifest_keeps_it() -> None:
    bp = _ema()
    bp = bp.model_copy(update={"file_hierarchy": [*bp.file_hierarchy, bp.file_hierarchy[0].model_copy(
        update={"path": "pyproject.toml", "kind": "config", "dependencies": []})]})  # fmt: skip
    planned = add_submission_files(bp)
    assert "requirements.txt" not in planned.paths()
    assert "pyproject.toml" in planned.file("reproduce.sh").dependencies


def test_static_check_of_reproduce_sh_and_readme(tmp_path) -> None:
    expected = ["pkg/model.py", "train.py", "reproduce.sh", "README.md", "requirements.txt"]
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "model.py").write_text("x = 1\n")
    (tmp_path / "requirements.txt").write_text("# none\n")
    (tmp_path / "reproduce.sh").write_text(
        "#!/usr/bin/env bash\nset -e\npip install -r requirements.txt\npython train.py --out results/m.json\n"
        "python -m pkg.missing\nmkdir -p results\n"
    )
    (tmp_path / "README.md").write_text("Implements `pkg/model.py`.\n")
    found = check_submission_files(tmp_path, expected)
    messages = [f.message for f in found]
    assert "reproduce.sh names train.py, which does not exist" not in messages  # planned, not yet written
    assert any("module pkg.missing" in m for m in messages)
    assert any("README.md does not name" in m and "train.py" in m and "pkg/model.py" not in m for m in messages)
    (tmp_path / "reproduce.sh").write_text("#!/usr/bin/env python\nprint('hi')\n")
    assert any("must be a bash script" in f.message for f in check_submission_files(tmp_path, expected))
    (tmp_path / "reproduce.sh").write_text("#!/usr/bin/env bash\nif [ -f x ]; then\n  echo\n")
    assert any("does not parse as bash" in f.message for f in check_submission_files(tmp_path, expected))
    (tmp_path / "reproduce.sh").write_text("#!/usr/bin/env bash\nbash scripts/gone.sh\n")
    assert any("names scripts/gone.sh" in f.message for f in check_submission_files(tmp_path, expected))
    # A plan without submission files is not held to them.
    assert check_submission_files(tmp_path, ["pkg/model.py"]) == []
